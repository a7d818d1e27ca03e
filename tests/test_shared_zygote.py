"""One warm sandbox for all of a batch's workers (grader/runner/warm.py `start_shared`, zygote.py --listen).

Two students graded at the same moment are then forks of the same zygote: each must still be
walled off from the other (and from the socket the workers ask for runs on), and a worker that
dies must take its runs with it without taking the sandbox from the other workers.
"""

from __future__ import annotations

import array
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import termios
import time
import uuid
from pathlib import Path

import pytest

from conftest import GRADE, ROOT, run_grade
from test_sandbox import FAST, needs_bubblewrap, processes_with, with_attack  # noqa: F401  (the fixture applies here too)


def test_two_students_graded_at_once_from_one_warm_sandbox_cannot_reach_each_other(tmp_path: Path) -> None:
    victim = f"v{uuid.uuid4().hex[:12]}"
    klass, out = tmp_path / "class", tmp_path / "out"
    for student, attack in (("amy", "reaches_the_other_student.py"), ("bob", "waits_to_be_attacked.py")):
        (tmp_path / student).mkdir()
        with_attack(attack, "py", tmp_path / student, VICTIM=victim).rename(tmp_path / f"{student}_lab2.py")
    klass.mkdir()
    for student in ("amy", "bob"):
        (tmp_path / f"{student}_lab2.py").rename(klass / f"{student}_lab2.py")
    try:
        proc = subprocess.run([str(GRADE), "batch", str(klass), "--lab", "lab2", "--out", str(out), "--jobs", "2",
                               "--call-timeout", "10", "--cell-timeout", "60"],
                              capture_output=True, text=True, timeout=300)
    finally:
        for pid in processes_with(victim, "comm"):
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 0, proc.stderr
    records = {s: json.loads((out / "students" / f"{s}_lab2" / "record.json").read_text(encoding="utf-8"))
               for s in ("amy", "bob")}
    amy, bob = records["amy"]["result"], records["bob"]["result"]
    # It saw the other run (the two were forks of one zygote, side by side in its /proc) and got
    # nothing else: no read, no signal, no connection to the workers' socket.
    assert "SHARED found: ['saw the victim']" in amy["stderr"], amy["stderr"]
    assert "VICTIM still here (saw the attack: True)" in bob["stderr"], bob["stderr"]
    for result in (amy, bob):
        assert all(c["status"] == "passed" for c in result["checks"]), [c for c in result["checks"]
                                                                        if c["status"] != "passed"]


HANGS = """
import ctypes, time
ctypes.CDLL(None).prctl(15, b"{TOKEN}", 0, 0, 0)
time.sleep(300)
"""

WORKER = """
import sys
from pathlib import Path
from grader.runner import warm
from grader.pipeline import grade
warm.share(Path(sys.argv[1]))
grade(Path(sys.argv[2]), "lab2")
"""


def _send_odd_messages(exchange: Path, passed: Path) -> socket.socket:
    """Messages the zygote cannot use (not JSON, not UTF-8, JSON that is not an object, an unknown
    op), each with a descriptor of `passed`, on a connection of their own; returns once the zygote
    has taken them all off the socket (nothing left unread on it)."""
    from grader.runner.warm import SOCKET

    connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    connection.connect(str(exchange / SOCKET))
    with passed.open("w") as handle:
        for odd in (b"not json", b"\xff\xfe", b"[1, 2]", b'"run"', b"null", b'{"op": "nothing"}'):
            connection.sendmsg([odd], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [handle.fileno()]))])
    unread = array.array("i", [1])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        fcntl.ioctl(connection.fileno(), termios.TIOCOUTQ, unread)  # bytes the zygote has not taken yet
        if unread[0] == 0:
            return connection
        time.sleep(0.05)
    raise AssertionError("the zygote stopped reading its connections")


def _link(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def test_a_worker_that_dies_mid_run_takes_its_runs_with_it_and_the_shared_sandbox_serves_on(tmp_path: Path) -> None:
    """...and serves on through messages it cannot use, without keeping the descriptors they carried."""
    from grader.runner import warm

    token = f"h{uuid.uuid4().hex[:12]}"
    hanging = tmp_path / "hangs" / "lab2.py"
    hanging.parent.mkdir()
    hanging.write_text((ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8") + HANGS.replace("{TOKEN}", token),
                       encoding="utf-8")
    warm.shutdown()  # this test process's own idle zygotes: the grade below must take the shared one
    shared = warm.start_shared()
    assert shared is not None
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(shared.exchange), str(hanging)],
                              env={**os.environ, "GRADER_SERVICE": "0"}, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not processes_with(token, "comm") and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        assert processes_with(token, "comm"), "the worker's run never started"
        os.killpg(worker.pid, signal.SIGKILL)  # no clean-up of its own: the zygote must end its runs
        worker.wait(10)
        deadline = time.monotonic() + 15
        while processes_with(token, "comm") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_with(token, "comm") == [], "the dead worker's run outlived it"
        assert shared.alive()
        odd = _send_odd_messages(shared.exchange, tmp_path / "passed")
        warm.share(shared.exchange)
        (tmp_path / "next").mkdir()
        graded = run_grade(ROOT / "solutions/lab2/lab2.py", *FAST, cwd=tmp_path / "next", timeout=120)
        assert graded.report["score"] == 25, graded.stderr
        zygote = warm.acquire()  # the grade was served by the shared sandbox, not by one of its own
        warm.release(zygote, healthy=True)
        assert zygote.host_pid == shared.host_pid
        held = [fd for fd in os.listdir(f"/proc/{shared.host_pid}/fd")
                if _link(f"/proc/{shared.host_pid}/fd/{fd}") == str(tmp_path / "passed")]
        assert held == [], "the zygote kept descriptors that came with messages it could not use"
        odd.close()
    finally:
        warm.share(None)
        warm.shutdown()
        with_pid = processes_with(token, "comm")
        for pid in with_pid:
            os.kill(pid, signal.SIGKILL)
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        shared.close()
    assert not shared.exchange.exists()
