"""The warm grader's process: grade requests one at a time until idle (see grader/service/__init__.py).

Started by `grade` as `python -m grader.service.server SOCKET`, in a session of its own, with
the environment of the `grade` that started it. It is the grader's side, like a batch worker:
the submission runs in the sandbox through `pipeline.grade_submission`, exactly as in a
single `grade`. A request whose `grade` went away (Ctrl-C) stops its grading and the service
with it, the way a stopped batch worker unwinds: the runner's own clean-up kills the sandbox.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

from . import fingerprint, idle_seconds, peer, receive, send
from .. import stopping


_TALK = 30.0  # seconds to read a request or hand over a reply


def _same_user(conn: socket.socket) -> bool:
    """The peer is this user, in this user namespace: not a sandboxed process (its uid 1000 maps back
    to the user outside, but its namespace is its own)."""
    pid, uid = peer(conn)
    try:
        return uid == os.getuid() and os.readlink(f"/proc/{pid}/ns/user") == os.readlink("/proc/self/ns/user")
    except OSError:
        return False


def _gone(conn: socket.socket, wait_ms: int = 0) -> bool:
    """The `grade` on the other end has gone away (Ctrl-C), or goes within `wait_ms`."""
    poller = select.poll()
    poller.register(conn, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(wait_ms))


def _grade(request: dict[str, Any]) -> dict[str, Any]:
    """One request: the submission `grade` resolved, graded here; the reply."""
    from ..config import Limits, Sandboxing
    from ..errors import GraderError
    from ..labs import load_lab
    from ..pipeline import grade_submission
    from ..submission import Submission

    caught: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("default")
            limits = Limits(**{**request["limits"], "sandboxing": Sandboxing(request["limits"]["sandboxing"])})
            if limits.sandboxing == Sandboxing.OFF:  # `grade` never asks: only sandboxed grades are served
                raise ValueError("the service grades sandboxed submissions only")
            submission = Submission(Path(request["path"]), request["kind"], load_lab(request["lab"]),
                                    request["selection"], request["sha256"])
            result = grade_submission(submission, limits)
        for warning in seen:  # the grader's own, once each, in order: `grade` prints them
            if warning.category.__module__.split(".")[0] == "grader" and str(warning.message) not in caught:
                caught.append(str(warning.message))
    except GraderError as exc:
        return {"error": str(exc), "warnings": caught}
    except Exception as exc:  # a bug in the grader: `grade` says so in one line, as it would itself
        return {"internal": f"{type(exc).__name__}: {exc}", "warnings": caught}
    return {"result": result.to_dict(), "warnings": caught}


def _watch(conn: socket.socket, done: threading.Event) -> None:
    """While a request is graded: if its `grade` goes away, stop the grading (SIGTERM to this process)."""
    while not done.is_set():
        if _gone(conn, 200):
            if not done.is_set():
                os.kill(os.getpid(), signal.SIGTERM)
            return


def serve(path: Path, idle: float) -> None:
    mine = fingerprint()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    temporary = path.with_name(f"{path.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    listener.bind(str(temporary))
    os.chmod(temporary, 0o600)
    listener.listen(16)
    os.replace(temporary, path)  # in place at once: a `grade` waiting for it connects from now on
    inode = os.stat(path).st_ino
    try:
        while True:
            listener.settimeout(idle)
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                return
            with conn:
                conn.settimeout(_TALK)  # a peer that sends nothing, or reads nothing, cannot hold the service
                if not _same_user(conn):
                    continue
                try:
                    request = receive(conn)
                except (OSError, ValueError):
                    continue
                # `grade stop`, or the grader, a lab or the packages changed (a fresh service will grade):
                # the socket goes first, so the `grade` that asked cannot reach this one again.
                if request.get("stop") or request.get("fingerprint") != mine:
                    _leave(path, inode)
                    with contextlib.suppress(OSError):
                        send(conn, {"stopped": True} if request.get("stop") else {"stale": True})
                    return
                if _gone(conn):
                    continue
                done = threading.Event()
                watcher = threading.Thread(target=_watch, args=(conn, done), daemon=True)
                watcher.start()
                try:
                    reply = _grade(request)
                finally:
                    done.set()
                with contextlib.suppress(OSError):
                    send(conn, reply)
                if "internal" in reply:  # a grader bug may have left this process broken: the next grade starts afresh
                    return
    finally:
        _leave(path, inode)
        listener.close()


def _leave(path: Path, inode: int) -> None:
    """Take the socket's name away (if it is still this service's), so no `grade` waits for a leaving service."""
    with contextlib.suppress(OSError):
        if os.stat(path).st_ino == inode:
            path.unlink()


def main(argv: list[str]) -> int:
    """`SOCKET [--prestart KIND]`: KIND (py or ipynb) is the submission the `grade` starting this service
    will send. Its warm sandbox starts first, so its start-up (most of a first grade) overlaps this
    process's own and the request's."""
    signal.signal(signal.SIGTERM, stopping.request)
    signal.signal(signal.SIGINT, stopping.request)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    with contextlib.suppress(stopping.Stopped):
        if argv[1:2] == ["--prestart"] and argv[2:3] in (["py"], ["ipynb"]):
            from ..runner.warm import prestart

            prestart(kernels=argv[2] == "ipynb")
        serve(Path(argv[0]), idle_seconds())
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    from ..cli import end  # (here: nothing before `main` delays the warm sandbox's start)

    end(status)  # the exit handlers close the warm sandbox; Python's teardown (0.3 s) is skipped
