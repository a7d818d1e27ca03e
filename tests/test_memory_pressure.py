"""A call that runs out of time while its memory sits at the limit ran out of memory.

Under a cgroup memory limit the kernel reclaims before it OOM-kills, and on a loaded
machine a submission can crawl at its limit past the call's time limit. The grader
must then say "memory limit exceeded", not "timed out". These tests use a real cgroup
(the machine's strongest limits), a real process and a real result FIFO; the process
inside is bounded by its own deadline besides the limits under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.config import Limits
from grader.runner.cgroups import limits_method, make_box
from grader.runner.channel import Channel
from grader.runner.watch import Watcher

pytestmark = pytest.mark.skipif(limits_method() not in ("cgroup v1", "cgroup v2"),
                                reason="needs cgroups the grader may create")

# Reads a file larger than the limit over and over: its page cache keeps the cgroup at its
# limit (the kernel reclaims clean pages, so no OOM kill) until its own deadline.
READER = """
import os, sys, time
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    with open(sys.argv[1], "rb", buffering=0) as f:
        while f.read(1 << 20):
            pass
"""
SLEEPER = "import time; time.sleep(30)"


def _evicted_file(path: Path, mib: int) -> Path:
    block = os.urandom(1 << 20)
    with path.open("wb") as f:
        for _ in range(mib):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)  # its pages get charged to the reader
    return path


def _watch_a_stuck_call(tmp_path: Path, code: str) -> tuple[Watcher, int | None, float]:
    box = make_box(Limits(memory_mib=48))
    channel = Channel.create(tmp_path / "results")
    procs = box.procs_files

    def enter_box() -> None:
        for file in procs:
            file.write_text(str(os.getpid()))

    process = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "big")], preexec_fn=enter_box)
    watcher = Watcher(channel, 1.0, box.oom_kills, box.kill_all, shared=[], memory_share=box.memory_share)
    started = time.monotonic()
    try:
        watcher.start()
        with open(channel.path, "w", encoding="utf-8") as writer:  # what a harness says as a call starts
            writer.write(json.dumps({"type": "start", "function": "train"}) + "\n")
        process.wait(timeout=20)  # the watcher ends it after the call limit and its grace
    finally:
        process.kill()
        process.wait()
        watcher.stop()
        channel.close()
        box.close()
    return watcher, process.returncode, time.monotonic() - started


def test_a_call_stuck_at_its_memory_limit_ran_out_of_memory(tmp_path: Path) -> None:
    _evicted_file(tmp_path / "big", 160)
    watcher, code, took = _watch_a_stuck_call(tmp_path, READER)
    assert watcher.transcript.memory_exceeded == "train", (watcher.transcript, code)
    assert code == -9 and took < 15


def test_a_call_stuck_below_its_memory_limit_ran_out_of_time(tmp_path: Path) -> None:
    _evicted_file(tmp_path / "big", 1)
    watcher, code, took = _watch_a_stuck_call(tmp_path, SLEEPER)
    assert watcher.transcript.memory_exceeded == "" and watcher.transcript.stalled, watcher.transcript
    assert code == -9 and took < 15
