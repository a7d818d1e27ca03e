"""Run a .py submission: the harness runs the file's top level, then calls its functions.

The grader keeps every clock: the top level gets `limits.load`, each call `limits.call`
(grader/runner/watch.py), the whole run a budget from the number of probes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from .. import stopping
from ..config import MIB
from ..results import IssueKind, RunIssue
from .channel import CappedPipe, Channel, Go
from .jail import Jail
from .protocol import HARNESS, PYTHON_FLAGS, REST_TIMEOUT, Probe, read_outcomes
from .session import TOO_TIGHT, RunOutcome, grader_stops
from .warm import WarmProcess
from .watch import GRACE, Transcript, Watcher, runner_pid


def run_script(path: Path, probes: list[Probe], jail: Jail, channel: Channel) -> RunOutcome:
    submission = jail.inside(path) if not jail.sandboxed else _hand_in_submission(jail, path)
    go = Go.create(jail.io / "go")
    jail.hand_in(go.path, "go")
    arguments = [str(submission), str(jail.inside(jail.io / "probes.json")), str(jail.inside(channel.path)),
                 str(jail.inside(go.path))]
    try:
        return _run(path, probes, jail, channel, go, submission, arguments)
    finally:
        go.close()


def _run(path: Path, probes: list[Probe], jail: Jail, channel: Channel, go: Go, submission: Path,
         arguments: list[str]) -> RunOutcome:
    limits = jail.limits
    stderr = CappedPipe(limits.output_chars)
    proc: subprocess.Popen[bytes] | WarmProcess
    try:
        if jail.warm is not None:
            copy = jail.io / "submission" / path.name
            copy.parent.mkdir()
            shutil.copyfile(path, copy)
            proc = jail.warm.start("py", arguments, jail.env(), jail.root, jail.box, jail.limits.disk_mib * MIB,
                                   submission=copy, stderr_fd=stderr.write_fd)
        else:
            command = [sys.executable, *PYTHON_FLAGS, str(jail.inside(HARNESS)), *arguments]
            proc = subprocess.Popen(jail.argv(command), cwd=jail.root / "work", stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=stderr.write_fd, env=jail.env(),
                                    start_new_session=True)
            jail.box.adopt(proc.pid)
    except BaseException:
        stderr.close()
        raise
    stderr.close_writer()

    def kill_all() -> None:
        _kill(proc)
        jail.kill_all()

    def begin() -> None:  # the harness is about to read the student's file
        try:
            jail.box.count_from_here()
        finally:
            go.give()

    watcher = Watcher(channel, limits.call, jail.box.oom_kills, kill_all, shared=[],
                      memory_share=jail.box.memory_share, on_begin=begin)
    watcher.start()
    issues: list[RunIssue] = []
    ended = ""  # how the process ended while the top level ran
    stuck = False  # the sandboxed Python was still short of the student's code at limits.startup
    try:
        # The student's clock starts at the harness's `begin`, just before their file is read. A Python
        # that never gets there (a machine too busy for a cold start, a grader bug) is the grader's failure.
        if not _wait(proc, watcher, lambda t: t.begun, limits.startup):
            stuck = proc.poll() is None and not _ended_by_grader(watcher.transcript)
            if not stuck and not _ended_by_grader(watcher.transcript):
                ended = _status(proc)
        # The harness stops a top level that runs past `limits.load` itself, then runs the definitions
        # below where it stopped; the grader's own clock allows for that, and stops what ignores it.
        elif not _wait(proc, watcher, lambda t: t.loaded is not None, limits.load + REST_TIMEOUT + GRACE):
            if proc.poll() is None and not _ended_by_grader(watcher.transcript):
                issues.append(RunIssue(IssueKind.LOAD_TIMEOUT, path.name,
                                       f"running the file's top level took longer than {limits.load:g} s; it was stopped"))
            elif not _ended_by_grader(watcher.transcript):
                ended = _status(proc)  # the student's, or the grader's if the harness never reached their code
        else:
            watcher.stage = "probing"
            watcher.runner = proc.runner() if isinstance(proc, WarmProcess) else runner_pid(proc.pid, jail.sandboxed)
            issues.extend(_load_issue(watcher.transcript.loaded, path, limits.load))
            budget = len(probes) * (limits.call + GRACE + 1.0) + 10.0
            if not _wait(proc, watcher, lambda t: t.done, budget) and not _ended_by_grader(watcher.transcript):
                watcher.transcript.died_in_call = proc.poll() is not None  # (else the budget ran out)
                issues.append(RunIssue(IssueKind.DIED, path.name,
                                       f"the process ended while the grader called its functions ({_status(proc)})"))
    finally:
        kill_all()
        transcript = watcher.stop()
    text = stderr.text()
    stderr.close()
    probed = read_outcomes(transcript, probes, limits.output_chars)
    if stuck:  # (whether or not a `begin` came at the last moment: the student's code had no time to run)
        return RunOutcome(probes=probed, issues=(), stderr=text,
                          not_run=f"the sandboxed Python did not reach the submission's code within {limits.startup:g} s "
                                  "(a machine too busy to start it, or the grader's own failure)")
    if ended and not transcript.begun and not _ended_by_grader(transcript):  # (read to its end: a "begin" in the pipe counts)
        if said := _sandbox_said(text):
            ended += f": {said}"
        return RunOutcome(probes=probed, issues=(), stderr=text,
                          not_run=f"the sandboxed Python ended before the submission's code started ({ended}); {TOO_TIGHT}")
    if ended:
        issues.append(RunIssue(IssueKind.DIED, path.name, f"the process ended while running the file's top level ({ended})"))
    issues.extend(grader_stops(transcript, path.name))
    return RunOutcome(probes=probed, issues=tuple(issues), stderr=text)


def _hand_in_submission(jail: Jail, path: Path) -> Path:
    inside = jail.workdir / path.name
    if jail.warm is None:
        jail.mounts.read_only.append((path.resolve(), inside))
    return inside


def _ended_by_grader(t: Transcript) -> bool:
    return bool(t.memory_exceeded or t.overflow or t.stalled)


def _wait(proc: subprocess.Popen[bytes] | WarmProcess, watcher: Watcher, check: Callable[[Transcript], bool], timeout: float) -> bool:
    """Wait until the transcript reaches a point; False if the process ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stopping.raise_if_requested()  # a stop whose exception some library swallowed (a bare `except:`)
        watcher.changed.clear()  # (before the check: news from now on ends the wait below)
        if check(watcher.transcript):
            return True
        if proc.poll() is not None or _ended_by_grader(watcher.transcript):
            # The process is gone: give the watcher a moment to read what is still in the pipe.
            watcher.changed.wait(0.2)
            return check(watcher.transcript)
        watcher.changed.wait(0.05)
    return check(watcher.transcript)


def _status(proc: subprocess.Popen[bytes] | WarmProcess) -> str:
    code = proc.returncode
    if code is None:
        return "still running"
    if code == 125:
        return "the sandbox could not start it"
    return f"exit status {code}" if code >= 0 else f"killed by signal {-code}"


def _sandbox_said(stderr: str) -> str:
    """The sandbox's own last word on why it could not start the run ("sandbox: [Errno 11] Resource
    temporarily unavailable", or bubblewrap's "bwrap: ..."), made printable and short; else ''. Only read
    where the student's code never started, so no line of theirs can be taken for it."""
    for line in reversed(stderr.splitlines()):
        if line.startswith(("sandbox: ", "bwrap: ")):
            return "".join(c if c.isprintable() else "?" for c in line)[:200]
    return ""


def _load_issue(loaded: dict[str, object] | None, path: Path, seconds: float) -> list[RunIssue]:
    if not isinstance(loaded, dict) or loaded.get("outcome") == "ok":
        return []
    if loaded.get("outcome") == "timeout":
        line = loaded.get("line")
        return [RunIssue(IssueKind.LOAD_TIMEOUT, path.name,
                         f"running the file's top level took longer than {seconds:g} s; it was stopped at line "
                         f"{line if type(line) is int else '?'}, and only the definitions below it (def, class, "
                         "import, constants) ran after that")]
    message = f"{loaded.get('exception', 'error')}: {loaded.get('message', '')}".strip()
    return [RunIssue(IssueKind.LOAD_ERROR, path.name, message[:2000],
                     traceback=str(loaded.get("traceback", ""))[:20000])]


def _kill(proc: subprocess.Popen[bytes] | WarmProcess) -> None:
    if isinstance(proc, subprocess.Popen):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()
