"""The one interface to the student's process: `run_submission`.

Whatever starts the student's code (a sandboxed subprocess for .py, a sandboxed
ipykernel through nbclient for .ipynb, later a warm forking server) lives behind this
function. It returns plain data only: what each probe gave back, what went wrong
while the code ran, the stderr text to show, and how the run was isolated.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from typing import TYPE_CHECKING

from ..config import Limits, Sandboxing
from ..results import IssueKind, RunIssue
from .channel import Channel
from .jail import end_jail, open_jail
from .protocol import REST_TIMEOUT, Probe, ProbeOutcome, write_probes
from .watch import Transcript

if TYPE_CHECKING:
    from .warm import Zygote


@dataclass(frozen=True)
class RunOutcome:
    probes: dict[str, ProbeOutcome]
    issues: tuple[RunIssue, ...]
    stderr: str
    isolation: str = ""
    # Why none of the student's code could be run, when that was no doing of theirs (a kernel that
    # never started, a Python that ended before the harness reached their first line): "" otherwise.
    not_run: str = ""


def run_submission(path: Path, kind: str, probes: list[Probe], limits: Limits) -> RunOutcome:
    """Run the submission at `path` ("py" or "ipynb") and call every probe on it.

    Where the sandbox works, the student's process is forked from a warm zygote
    (grader/runner/warm.py); otherwise, or if the zygote cannot start, it starts cold.
    """
    from . import warm

    zygote = None
    if limits.sandboxing != Sandboxing.OFF and warm.enabled():
        try:
            zygote = warm.acquire()
        except warm.ZygoteError:
            zygote = None
    healthy = True
    try:
        return _run(path, kind, probes, limits, zygote)
    except warm.ZygoteError:
        healthy = False
        return _run(path, kind, probes, limits, None)
    finally:
        if zygote is not None:
            warm.release(zygote, healthy)


# A kernel's sockets are files below a run's folder ([grader-warm-*/]grader-*/ipcN/k-N: up to 56 bytes);
# a socket's path holds at most 107.
_BELOW_RUN_FOLDERS, _SOCKET_PATH_MAX = 56, 107


def run_folders() -> str | None:
    """Where runs' folders go: the temporary folder, unless it is too long for the sockets below it
    (a deep TMPDIR); then /tmp."""
    if len(os.fsencode(tempfile.gettempdir())) + _BELOW_RUN_FOLDERS <= _SOCKET_PATH_MAX:
        return None
    return "/tmp" if os.access("/tmp", os.W_OK | os.X_OK) else None


def _run(path: Path, kind: str, probes: list[Probe], limits: Limits, zygote: Zygote | None) -> RunOutcome:
    with tempfile.TemporaryDirectory(prefix="grader-", dir=zygote.exchange if zygote else run_folders()) as tmp:
        jail = open_jail(Path(tmp), limits, zygote)
        channel = Channel.create(jail.io / "channel")
        try:
            probes_file = jail.io / "probes.json"
            write_probes(probes_file, probes, limits.call, limits.output_chars,
                         load_timeout=limits.load if kind == "py" else None, rest_timeout=REST_TIMEOUT)
            jail.hand_in(probes_file, "probes.json")
            jail.hand_in(channel.path, "channel", writable=True)
            if kind == "ipynb":
                from .notebook import run_notebook

                outcome = run_notebook(path, probes, jail, channel)
            else:
                from .script import run_script

                outcome = run_script(path, probes, jail, channel)
        finally:
            channel.close()
            end_jail(jail)
    return replace(outcome, isolation=jail.isolation)


# Said after why a run never reached the student's code: what an instructor can change about it.
TOO_TIGHT = "limits set too low (--processes, --open-files, --memory) can cause this"


def grader_stops(transcript: Transcript, where: str) -> list[RunIssue]:
    """The issues for runs the grader itself ended (memory, a shared folder, a silent harness)."""
    issues = []
    if transcript.memory_exceeded:
        running = transcript.memory_exceeded
        issues.append(RunIssue(IssueKind.MEMORY_LIMIT, running if running != "loading" else where,
                               f"the code used more memory than the limit allows while {_what(running, where)} "
                               "ran; the run was stopped there (memory limit exceeded)"))
    if transcript.overflow:
        issues.append(RunIssue(IssueKind.STOPPED, where, "the code wrote files where it must not (the grader's "
                               "socket folder); the run was stopped"))
    if transcript.stalled:
        issues.append(RunIssue(IssueKind.STOPPED, where, "the grading harness stopped answering (was it patched?); "
                               "the run was stopped and the calls still pending were not graded"))
    return issues


def _what(running: str, where: str) -> str:
    if running == "loading":
        return f"the top level of {where}"
    if running.startswith("cell "):
        return running
    return f"the grader called {running}"
