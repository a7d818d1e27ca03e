"""Run a .py submission: `python -I harness.py FILE PROBES OUT` in a session of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..config import Limits
from ..results import IssueKind, RunIssue
from .protocol import HARNESS, Probe, _read_json, _read_text, read_outcomes
from .session import RunOutcome, student_env


def run_script(path: Path, probes: list[Probe], probes_file: Path, out_dir: Path, workdir: Path, limits: Limits) -> RunOutcome:
    stdout_path, stderr_path = out_dir / "stdout.txt", out_dir / "stderr.txt"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-I", str(HARNESS), str(path), str(probes_file), str(out_dir)],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=student_env(workdir),
            start_new_session=True,
        )
    issues: list[RunIssue] = []
    try:
        loaded = _wait_for(proc, out_dir / "loaded.json", limits.load)
        if not loaded:
            if proc.poll() is None:
                issues.append(RunIssue(IssueKind.LOAD_TIMEOUT, path.name,
                                       f"running the file's top level took longer than {limits.load:g} s; it was stopped"))
            else:
                issues.append(RunIssue(IssueKind.DIED, path.name,
                                       f"the process ended while running the file's top level (exit status {proc.returncode})"))
        else:
            issues.extend(_load_issue(out_dir, path))
            budget = len(probes) * (limits.call + 1.0) + 10.0
            if not _wait_for(proc, out_dir / "done.json", budget) and proc.poll() not in (None, 0):
                issues.append(RunIssue(IssueKind.DIED, path.name,
                                       f"the process ended while the grader called its functions (exit status {proc.returncode})"))
    finally:
        _kill_group(proc)
    return RunOutcome(
        probes=read_outcomes(out_dir, probes, limits.output_chars),
        issues=tuple(issues),
        stderr=_read_text(stderr_path, limits.output_chars),
    )


def _wait_for(proc: subprocess.Popen[bytes], marker: Path, timeout: float) -> bool:
    """Wait until `marker` exists; False if the process ends first or time runs out."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while time.monotonic() < deadline:
        if marker.exists():
            return True
        if proc.poll() is not None:
            return marker.exists()
        time.sleep(delay)
        delay = min(delay * 1.5, 0.05)
    return marker.exists()


def _load_issue(out_dir: Path, path: Path) -> list[RunIssue]:
    try:
        loaded = _read_json(out_dir / "loaded.json")
    except (OSError, ValueError):
        return [RunIssue(IssueKind.LOAD_ERROR, path.name, "the file's top level ended abnormally")]
    if not isinstance(loaded, dict) or loaded.get("outcome") == "ok":
        return []
    message = f"{loaded.get('exception', 'error')}: {loaded.get('message', '')}".strip()
    return [RunIssue(IssueKind.LOAD_ERROR, path.name, message[:2000],
                     traceback=str(loaded.get("traceback", ""))[:20000])]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
