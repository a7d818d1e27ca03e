"""How the grader reads processes from /proc (grader/runner/watch.py): what `grade stop`, a batch's
clean-up and the runner go by when they wait for or kill what a run left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.runner.watch import below, proc, running

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_a_process_named_with_spaces_and_parentheses_reads_whole(tmp_path: Path) -> None:
    """The command name is the student's to choose; the fields after it must not shift."""
    odd = tmp_path / "a) (b c"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", odd)
    child = subprocess.Popen([str(odd), "30"])
    try:
        seen = proc(child.pid)
        assert seen is not None
        assert (seen.name, seen.parent) == ("a) (b c", os.getpid())
        assert seen.state in ("R", "S", "D") and seen.started > 0
    finally:
        child.kill()
        child.wait()


def test_running_knows_a_process_by_its_start_time_and_not_a_zombie() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        seen = proc(child.pid)
        assert seen is not None
        assert running(child.pid) and running(child.pid, seen.started)
        assert not running(child.pid, seen.started + 1)  # another process given the same pid later
        child.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while (p := proc(child.pid)) is not None and p.state != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc(child.pid) is not None, "not reaped yet: a zombie"
        assert not running(child.pid) and not running(child.pid, seen.started)
    finally:
        child.kill()
        child.wait()


def test_below_finds_grandchildren_with_their_start_times() -> None:
    """A shell that started a sleep: both are below this process, each named with its start time."""
    shell = subprocess.Popen(["sh", "-c", "sleep 30 & wait"])
    try:
        deadline = time.monotonic() + 10
        found: set[tuple[int, int]] = set()
        while len(found) < 2 and time.monotonic() < deadline:
            found = {(pid, start) for pid, start in below(os.getpid())
                     if pid == shell.pid or (p := proc(pid)) is not None and p.parent == shell.pid}
            time.sleep(0.01)
        assert len(found) == 2, found
        for pid, start in found:
            seen = proc(pid)
            assert seen is not None and seen.started == start
        assert all(pid != shell.pid for pid, _ in below(shell.pid))  # below, not the process itself
    finally:
        for pid, start in below(shell.pid):
            if running(pid, start):
                os.kill(pid, signal.SIGKILL)
        shell.kill()
        shell.wait()
