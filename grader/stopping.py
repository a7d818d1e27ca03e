"""Stopping a grading process (a batch worker, the warm service) with SIGTERM or SIGINT.

The handler raises `Stopped`, which unwinds the grading so that the runner's own clean-up
kills the sandbox and removes its folders. A stop that lands inside a check is caught by
pytest, which takes whatever a check raises for that check's failure: `run_checks` raises it
again once pytest is done (`raise_if_requested`). One that lands in a library's bare `except:`
is lost the same way: the runner's waits look at the flag, so the stop still ends the run.
"""

from __future__ import annotations

from types import FrameType


class Stopped(BaseException):
    """SIGTERM or SIGINT (or the `grade` being served went away): unwind, then leave."""


_requested = False


def request(signum: int, frame: FrameType | None) -> None:
    """The signal handler."""
    global _requested
    _requested = True
    raise Stopped


def requested() -> bool:
    return _requested


def raise_if_requested() -> None:
    """Raise `Stopped` again if a stop was asked for: the handler's own exception may have been
    swallowed where it landed (pytest takes it for a check's failure; a library's bare `except:`),
    so the grading's waits look at the flag too (grader/runner/script.py and notebook.py)."""
    if _requested:
        raise Stopped
