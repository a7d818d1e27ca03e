"""`grade`'s side of the warm grader: find or start the service, send it the submission, read the result."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..config import Limits, Sandboxing
from ..errors import GraderError
from ..results import GradeResult
from ..runner.watch import below, proc, running
from ..submission import Submission
from . import address, fingerprint, folder, idle_seconds, peer, receive, send, wanted

START_TIMEOUT = 30.0  # seconds a new service gets to listen (it listens before it imports torch)


@dataclass(frozen=True)
class Served:
    result: GradeResult
    warnings: tuple[str, ...]  # the grader's own warnings during the grade, for `grade` to print
    started: bool  # this `grade` started the service

    @property
    def idle_minutes(self) -> float:
        return round(idle_seconds() / 60, 1)


def usable(limits: Limits) -> bool:
    """Only where runs are warm and sandboxed (elsewhere a service would save little and own a lot), and
    not with GRADER_DEBUG, whose tracebacks must come from this process."""
    if not wanted() or limits.sandboxing == Sandboxing.OFF or os.environ.get("GRADER_DEBUG"):
        return False
    from ..runner.warm import enabled

    return enabled()


def grade(submission: Submission, limits: Limits, meanwhile: Callable[[], object] | None = None) -> Served | None:
    """The submission graded by the user's warm service (started if none runs), or None: grade here.
    `meanwhile` runs once while the service grades (this process would only wait)."""
    try:
        return _grade(submission, limits, meanwhile)
    except OSError:  # the socket folder, the lock, the log or the start failed: grade here
        return None


def _grade(submission: Submission, limits: Limits, meanwhile: Callable[[], object] | None) -> Served | None:
    if not usable(limits):
        return None
    where = folder()
    if where is None:
        return None
    name = address(_service_env())
    path = where / f"{name}.sock"
    request = {
        "fingerprint": fingerprint(), "path": str(submission.path), "kind": submission.kind,
        "lab": submission.lab.name, "selection": submission.selection, "sha256": submission.sha256,
        "limits": {**dataclasses.asdict(limits), "sandboxing": str(limits.sandboxing)},
    }
    for _ in range(2):  # a second time after a stale service left
        service: subprocess.Popen[bytes] | None = None  # the one this grade started, if it did
        conn = _connect(path)
        if conn is None:
            conn, service = _start(where, name, path, submission.kind)
        if conn is None:
            return None
        with conn:
            try:
                send(conn, request)
                if meanwhile is not None:
                    meanwhile()
                    meanwhile = None
                reply = receive(conn)
            except (OSError, ValueError):  # it died or was stopped: grade here instead
                return None
            except BaseException:  # Ctrl-C before the reply: what this grade started goes with it
                if service is not None:  # (one that has the request stops anyway: server._watch)
                    _end(service)
                raise
        if reply.get("stale"):
            continue
        shown = tuple(str(w) for w in reply.get("warnings", ()))
        if "error" in reply:
            raise ServiceFailed(str(reply["error"]), shown)
        if "internal" in reply:
            raise ServiceFailed(str(reply["internal"]), shown, internal=True)
        return Served(GradeResult.from_dict(reply["result"]), shown, service is not None)
    return None


class ServiceFailed(GraderError):
    """The service's GraderError (or a grader bug), with the warnings printed before it."""

    def __init__(self, message: str, warnings: tuple[str, ...], internal: bool = False) -> None:
        super().__init__(message)
        self.warnings = warnings
        self.internal = internal


def _connect(path: Path) -> socket.socket | None:
    """A connection to the service at `path`, if one listens there and runs as this user."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
        _, uid = peer(conn)
    except OSError:
        conn.close()
        return None
    if uid != os.getuid():
        conn.close()
        return None
    return conn


def _start(where: Path, name: str, path: Path, kind: str) -> tuple[socket.socket | None, subprocess.Popen[bytes] | None]:
    """Start the service (one `grade` at a time does it) and connect to it: the connection (None if it
    does not come up) and the service's process if this call started it. It starts its warm sandbox for
    a submission of this `kind` at once, before it reads the request."""
    with open(where / f"{name}.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        conn = _connect(path)  # another `grade` may have started it meanwhile
        if conn is not None:
            return conn, None
        # -P: no folder of the command line on sys.path (the sandbox shows the student every folder there).
        with open(where / f"{name}.log", "wb") as log:
            process = subprocess.Popen([sys.executable, "-P", "-m", "grader.service.server", str(path),
                                        "--prestart", kind], cwd="/",
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                       env=_service_env())
        try:
            limit = time.monotonic() + START_TIMEOUT
            while time.monotonic() < limit:
                conn = _connect(path)
                if conn is not None:
                    return conn, process
                if process.poll() is not None:
                    return None, None
                time.sleep(0.02)
        except BaseException:  # Ctrl-C while it starts: it must not stay warm unannounced
            _end(process)
            raise
        with contextlib.suppress(OSError):
            process.kill()
        return None, None


def _end(service: subprocess.Popen[bytes]) -> None:
    """Ask a service this `grade` started to leave (SIGTERM: it stops its sandbox and removes its socket)."""
    with contextlib.suppress(OSError):
        service.terminate()


def _service_env() -> dict[str, str]:
    """This `grade`'s environment, with the lab folders made absolute (the service runs from /)."""
    env = dict(os.environ)
    labs = env.get("GRADER_LABS")
    if labs:
        env["GRADER_LABS"] = os.pathsep.join(str(Path(p).expanduser().resolve()) for p in labs.split(os.pathsep) if p)
    return env


STOP_WAIT = 10.0  # seconds `grade stop` waits for a service that said yes to be gone


def stop_all() -> int:
    """Ask every warm grader of this user (in this socket folder) to leave; how many did. Each has left
    when this returns, with its warm sandbox, or had STOP_WAIT seconds to."""
    where = folder()
    leaving: set[tuple[int, int]] = set()  # (pid, start time): a pid reused meanwhile is not waited for
    stopped = 0
    for path in sorted(where.glob("*.sock")) if where else []:
        conn = _connect(path)
        if conn is None:
            continue
        with conn:
            conn.settimeout(10)  # a service busy grading answers after that grade: do not wait for it
            with contextlib.suppress(OSError, ValueError):
                pid, _ = peer(conn)  # (0 from another pid namespace: nothing of it to watch from here)
                me = proc(pid) if pid > 0 else None
                processes = {(pid, me.started), *below(pid)} if me else set()  # its sandbox ends a moment after it
                send(conn, {"stop": True})
                if receive(conn).get("stopped"):
                    stopped += 1
                    leaving |= processes
    limit = time.monotonic() + STOP_WAIT
    while any(running(pid, started) for pid, started in leaving) and time.monotonic() < limit:
        time.sleep(0.01)
    return stopped
