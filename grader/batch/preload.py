"""Imported once by the batch's fork server: what every worker needs, before the workers are forked.

Each worker then starts with torch, pytest and the runner already in memory (and torch._dynamo's
stand-in: grader.runner.lazy_dynamo), shared with the other workers page by page until one
writes to a page. Nothing here reads the environment or a lab: a worker takes the
batch's environment when it starts (workers._serve) and loads its lab itself.
"""

from __future__ import annotations

import contextlib
import gc
import signal


def _warm() -> None:
    from .. import checks, pipeline  # noqa: F401  (torch, pytest, nbclient and the runner)
    from . import execute  # noqa: F401  (the batch's own modules and the reporters: grader.batch imports none)

    pipeline.first_torch_use()  # one thread: a forked worker must not inherit a thread pool
    gc.collect()
    gc.freeze()  # the workers' collections then leave these objects' (shared) pages alone


# Ctrl-C reaches the whole terminal group, this server too: it must not print a traceback from the
# middle of an import. multiprocessing ignores SIGINT here from the end of the preload anyway, and a
# worker sets its own handlers as it starts.
signal.signal(signal.SIGINT, signal.SIG_IGN)
with contextlib.suppress(Exception):  # only a head start: a worker imports whatever is missing itself
    _warm()
