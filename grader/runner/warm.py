"""The warm worker, grader side: a sandboxed Python with torch imported, forked once per run.

Starting Python, importing torch and warming up its optimizers costs seconds; a lab 2 run
of the student's own code costs a fraction of one. A `Zygote` pays the start-up once: a
bubblewrap sandbox (the same wall as a cold start, with `/` and `/dev` read-only) runs
grader/runner/zygote.py, which imports torch and ipykernel and then waits. Each run is a
fork of it that walls itself off in namespaces of its own before any student code runs
(see zygote.py), inside the submission's cgroup: the grader moves the zygote into that
cgroup for the instant of the fork, so the run starts inside its limits.

What a run cannot do to the next one or to the zygote: every writable folder it sees is a
fresh tmpfs or its own run folder (deleted afterwards); it is PID 1 of its own PID
namespace (everything it started dies with it, and it cannot name the zygote to signal
it); the zygote is not dumpable (no ptrace, no /proc/<pid>/mem); the grader kills the
run's cgroup before the zygote serves anyone else. A zygote that misbehaves (it stops
answering, or dies) is thrown away and the run is started cold.

A batch's workers share one zygote (`start_shared` in the main process, `share` in each worker):
each worker attaches over a socket in the zygote's exchange folder, and forks are taken one at
a time across them (`_forking`).
"""

from __future__ import annotations

import array
import atexit
import concurrent.futures
import contextlib
import fcntl
import json
import os
import queue
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .cgroups import Box, limits_method
from .protocol import HARNESS, LAZY_DYNAMO, PYTHON_FLAGS
from .sandbox import GRADER_DIR, Mounts, bubblewrap_problem, bwrap_argv, python_roots, secrets, write_identity
from .watch import _children

ZYGOTE = Path(__file__).with_name("zygote.py")
READY_TIMEOUT = 120.0
REPLY_TIMEOUT = 20.0
_LAUNCH_WAIT = 1.0  # seconds `prestart` waits for bubblewrap to start (about 10 ms; longer only when queued)
MAX_IDLE = 2
SOCKET, LOCK = "zygote.sock", ".forks"  # in a zygote's exchange folder
_ZYGOTE_DISK = 16 * 1024 * 1024  # the zygote's own /tmp and home: it writes nothing


def enabled() -> bool:
    """Warm runs are the default where the sandbox works; GRADER_WARM=0 turns them off. Not where the
    limits come from a systemd scope: it can only hold a process systemd starts, so runs start cold."""
    return (os.environ.get("GRADER_WARM", "1") != "0" and sys.platform == "linux" and bubblewrap_problem() is None
            and limits_method() != "systemd scope")


class ZygoteError(Exception):
    """The zygote did not do what was asked (died, stalled, refused)."""


class WarmProcess:
    """One run forked from a zygote, seen like a subprocess.Popen: pid, poll, wait, kill, returncode."""

    def __init__(self, zygote: Zygote, run_id: int, pid: int) -> None:
        self.zygote, self.run_id, self.pid = zygote, run_id, pid  # pid: the host pid of the forked child
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None
        self._runner: int | None = None

    def runner(self) -> int | None:
        """Host pid of the run's first process (the harness or the kernel), below the forked child and
        its namespace's init."""
        if self._runner is None:
            for _ in range(200):
                table = _children()
                init = table.get(self.pid, [])
                kids = table.get(init[0][0], []) if init else []
                if kids:
                    self._runner = kids[0][0]
                    break
                if self.poll() is not None:
                    break
                time.sleep(0.005)
        return self._runner

    def poll(self) -> int | None:
        if self.returncode is None:
            self.zygote.pump(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("warm run", timeout or 0)
            if not self.zygote.alive():
                self.returncode = -signal.SIGKILL
                break
            self.zygote.pump(0.05)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, number: int) -> None:
        if number == signal.SIGKILL:
            self.kill()
            return
        runner = self.runner()
        if runner is not None and self.returncode is None:
            os.kill(runner, number)

    def kill(self) -> None:
        if self.returncode is not None:
            return
        for pid in (self._runner, self.pid):
            if pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def terminate(self) -> None:
        self.kill()


class Zygote:
    """One warm, sandboxed Python serving runs one at a time (for this process).

    `listen`: other processes of this user may `attach` to it (a batch's workers share one, started
    by the batch's main process); each attached process gets a connection of its own.
    """

    def __init__(self, kernels: bool = False, listen: bool = False) -> None:
        self.kernels = kernels
        from .session import run_folders

        self.exchange = Path(tempfile.mkdtemp(prefix="grader-warm-", dir=run_folders()))
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._setup()
        try:
            self._proc: subprocess.Popen[bytes] | None = self._start(theirs, listen)
        finally:
            theirs.close()

    def _setup(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[int, WarmProcess] = {}
        self._next_id = 0
        self._broken = False
        self.host_pid: int | None = None
        # Python folders the run's fresh /tmp, home or /dev/shm would cover: bound back inside it.
        fresh = [Path("/tmp"), Path("/home/student"), Path("/dev/shm")]
        self.hidden = tuple(secrets())  # what its sandbox covers: the grader and the labs known now
        self.keep = [str(root) for root in python_roots(list(self.hidden)) if any(f in root.parents for f in fresh)]

    @classmethod
    def attach(cls, exchange: Path, timeout: float = READY_TIMEOUT) -> Zygote:
        """A connection to the zygote another process started with `listen` in `exchange`, once it is
        ready (raises ZygoteError if it does not come, or failed: its owner then removes the folder)."""
        zygote = cls.__new__(cls)
        zygote.kernels, zygote.exchange, zygote._proc = True, exchange, None
        zygote._setup()
        deadline = time.monotonic() + timeout
        while not (exchange / SOCKET).exists():
            if not exchange.is_dir() or time.monotonic() > deadline:
                raise ZygoteError("the batch's warm worker did not start")
            time.sleep(0.05)
        zygote._control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            zygote._control.connect(str(exchange / SOCKET))
            # Its host pid, as the kernel gives it to this side: the cgroup moves and /proc need it.
            credentials = zygote._control.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        except OSError as exc:
            zygote._control.close()
            raise ZygoteError(f"the batch's warm worker did not answer ({exc})") from exc
        zygote.host_pid = struct.unpack("3i", credentials)[0]
        return zygote

    def _start(self, theirs: socket.socket, listen: bool) -> subprocess.Popen[bytes]:
        mounts = write_identity(self.exchange)
        (self.exchange / "passwd").rename(self.exchange / ".passwd")
        (self.exchange / "group").rename(self.exchange / ".group")
        mounts = Mounts(read_only=[(self.exchange / ".passwd", Path("/etc/passwd")),
                                   (self.exchange / ".group", Path("/etc/group")),
                                   (HARNESS, GRADER_DIR / "harness.py"), (ZYGOTE, GRADER_DIR / "zygote.py"),
                                   (LAZY_DYNAMO, GRADER_DIR / "lazy_dynamo.py")],
                        writable=[(self.exchange, self.exchange)])
        bwrap, *options = bwrap_argv(mounts, _ZYGOTE_DISK)
        options += ["--dir", str(GRADER_DIR / "stage"), "--remount-ro", "/", "--remount-ro", "/dev"]
        args = tempfile.TemporaryFile()
        args.write(b"".join(o.encode() + b"\0" for o in options))
        args.seek(0)
        env = {key: value for key, value in _zygote_env().items()}
        command = [bwrap, "--args", str(args.fileno()), "--", sys.executable, *PYTHON_FLAGS, str(GRADER_DIR / "zygote.py"),
                   str(theirs.fileno()), *(["kernels"] if self.kernels else []),
                   *(["--listen", str(self.exchange / SOCKET)] if listen else [])]
        with args:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env=env, start_new_session=True,
                                    pass_fds=(args.fileno(), theirs.fileno()))
        return proc

    def wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while self.host_pid is None:
            if time.monotonic() > deadline or self._proc.poll() is not None:
                raise ZygoteError("the warm worker did not start")
            message = self._receive(0.2)
            if message and "ready" in message:
                self.host_pid = _zygote_host_pid(self._proc.pid)
                if self.host_pid is None:
                    raise ZygoteError("the warm worker's process was not found")

    def alive(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        if self._broken or self.host_pid is None:
            return False
        try:
            os.kill(self.host_pid, 0)
        except OSError:
            return False
        return True

    def kill(self) -> None:
        """End the sandbox at once (its folder goes with `close`); an attached one: end this connection,
        and with it this process's runs."""
        if self._proc is None:
            with contextlib.suppress(OSError):
                self._control.shutdown(socket.SHUT_RDWR)
            return
        with contextlib.suppress(OSError):
            os.killpg(self._proc.pid, signal.SIGKILL)

    def _receive(self, timeout: float) -> dict[str, Any] | None:
        self._control.settimeout(timeout)
        try:
            data = self._control.recv(65536)
        except (socket.timeout, BlockingIOError):
            return None
        except OSError as exc:
            raise ZygoteError(f"the warm worker's channel broke ({exc})") from exc
        if not data:
            self._broken = True
            raise ZygoteError("the warm worker ended")
        message = json.loads(data.decode("utf-8"))
        return message if isinstance(message, dict) else None

    def pump(self, timeout: float) -> None:
        """Read what the zygote reported (runs that ended) for up to `timeout` seconds."""
        with self._lock:
            try:
                message = self._receive(timeout)
                while message is not None:
                    self._dispatch(message)
                    message = self._receive(0)
            except ZygoteError:
                for run in self._runs.values():
                    if run.returncode is None:
                        run.returncode = -signal.SIGKILL

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "exited" in message:
            run = self._runs.pop(int(message["exited"]), None)
            if run is not None:
                run.returncode = int(message["status"])

    def start(self, kind: str, argv: list[str], env: dict[str, str], folder: Path, box: Box, disk: int,
              submission: Path | None = None, stderr_fd: int = -1, writable: list[str] | None = None) -> WarmProcess:
        """Fork a run: `kind` "py" (the harness, argv its arguments) or "kernel" (ipykernel_launcher's)."""
        assert self.host_pid is not None
        run_id = self._next_id = self._next_id + 1
        run = {"op": "run", "id": run_id, "kind": kind, "argv": argv, "env": env, "folder": str(folder),
               "disk": disk, "submission": str(submission) if submission else None, "writable": writable or [],
               "rlimits": {k: v for k, v in box.rlimits.items()}, "keep": self.keep}
        with self._lock, _forking(self.exchange):
            _move(self.host_pid, box.procs_files)
            try:
                fds = [stderr_fd] if stderr_fd >= 0 else []
                self._control.sendmsg([json.dumps(run).encode("utf-8")],
                                      [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else [])
                deadline = time.monotonic() + REPLY_TIMEOUT
                while True:
                    if time.monotonic() > deadline:
                        raise ZygoteError("the warm worker did not fork")
                    message = self._receive(0.5)
                    if message is None:
                        continue
                    if message.get("started") == run_id:
                        break
                    self._dispatch(message)
            finally:
                _move(self.host_pid, [f.parent.parent / "cgroup.procs" for f in box.procs_files])
        host = _host_child(self.host_pid, int(message["pid"]))
        if host is None:
            raise ZygoteError("the forked run was not found")
        process = WarmProcess(self, run_id, host)
        self._runs[run_id] = process
        return process

    def close(self) -> None:
        if self._proc is None:  # attached: the zygote kills this connection's runs still going
            self._control.close()
            return
        with contextlib.suppress(OSError):
            self._control.send(json.dumps({"op": "quit"}).encode("utf-8"))
        with contextlib.suppress(OSError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self._proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)
        self._control.close()
        shutil.rmtree(self.exchange, ignore_errors=True)


@contextlib.contextmanager
def _forking(exchange: Path) -> Iterator[None]:
    """One fork at a time per zygote, across the processes sharing it: the zygote sits in the run's
    cgroup for the instant of the fork, and another process's run must not start in that cgroup."""
    try:
        lock = open(exchange / LOCK, "a")
    except OSError as exc:  # its folder went: the zygote was closed
        raise ZygoteError(f"the warm worker's folder is gone ({exc})") from exc
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _zygote_env() -> dict[str, str]:
    from .jail import student_env

    return student_env(home="/home/student", tmpdir="/tmp")


def _move(pid: int, procs_files: list[Path]) -> None:
    for procs in procs_files:
        procs.write_text(str(pid))


def _zygote_host_pid(bwrap_pid: int) -> int | None:
    """The zygote: the process below bubblewrap's two (the launcher and the sandbox's init)."""
    for _ in range(200):
        table = _children()
        pid: int | None = bwrap_pid
        for _depth in range(2):
            kids = table.get(pid, []) if pid is not None else []
            pid = kids[0][0] if kids else None
        if pid is not None:
            return pid
        time.sleep(0.01)
    return None


def _host_child(parent: int, inner: int) -> int | None:
    """The host pid of `parent`'s child whose pid in the zygote's namespace is `inner`."""
    for _ in range(200):
        for pid, _name in _children().get(parent, []):
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
                    if line.startswith("NSpid:") and line.split()[-1] == str(inner):
                        return pid
        time.sleep(0.005)
    return None


# --- the pool: idle zygotes of this process ---------------------------------------------

_idle: list[Zygote] = []
_pool_lock = threading.Lock()


class _Starter:
    """Starts zygotes from one long-lived thread: bubblewrap's --die-with-parent follows the thread
    that started it, and grading may run in short-lived threads. A daemon thread, not a
    ThreadPoolExecutor's: at exit Python joins those before atexit handlers run, so it would wait
    for a zygote still importing torch (over 30 s under load) before `shutdown` could kill it."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[concurrent.futures.Future[Zygote], bool, threading.Event]]
        self._jobs = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, kernels: bool = False,
               launched: threading.Event | None = None) -> concurrent.futures.Future[Zygote]:
        """A zygote, when it is ready; `launched` is set once its bubblewrap has started (or failed to)."""
        started: concurrent.futures.Future[Zygote] = concurrent.futures.Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():  # (none after a fork)
                self._thread = threading.Thread(target=self._serve, name="grader-zygotes", daemon=True)
                self._thread.start()
        self._jobs.put((started, kernels, launched or threading.Event()))
        return started

    def _serve(self) -> None:
        while True:
            started, kernels, launched = self._jobs.get()
            try:
                if not started.set_running_or_notify_cancel():
                    continue
                try:
                    started.set_result(_new_zygote(kernels, launched))
                except BaseException as exc:
                    started.set_exception(exc)
            finally:
                launched.set()


_starter = _Starter()
# A forked child has no starter thread; its queue and lock start afresh.
os.register_at_fork(after_in_child=_starter.reset)


_pending: list[concurrent.futures.Future[Zygote]] = []  # zygotes started ahead of need
_starting: set[Zygote] = set()  # zygotes not yet ready, which `shutdown` kills rather than waits for
_starting_lock = threading.Lock()


def _new_zygote(kernels: bool = False, launched: threading.Event | None = None) -> Zygote:
    try:
        zygote = Zygote(kernels)
    except OSError as exc:  # no folder, no socket, no process (EAGAIN): a failed start like any other
        raise ZygoteError(f"the warm worker could not start ({exc})") from exc
    finally:
        if launched is not None:
            launched.set()
    with _starting_lock:
        _starting.add(zygote)
    try:
        zygote.wait_ready()
    except BaseException:
        zygote.close()
        raise
    finally:
        with _starting_lock:
            _starting.discard(zygote)
    return zygote


_shared: Path | None = None  # the exchange folder of a zygote another process started for this one


def start_shared() -> Zygote | None:
    """A zygote that several processes (a batch's workers) `share`, started now; None where warm runs
    are off. It becomes ready in the background; if it cannot, its folder goes and the processes
    sharing it start zygotes of their own. Its owner closes it when they are done."""
    if not enabled():
        return None
    try:
        zygote = Zygote(kernels=True, listen=True)
    except OSError:
        return None

    def watch() -> None:
        try:
            zygote.wait_ready()
        except ZygoteError:
            zygote.close()

    threading.Thread(target=watch, name="grader-shared-zygote", daemon=True).start()
    return zygote


def share(exchange: Path | None) -> None:
    """Take runs from the zygote another process started (`start_shared`; its exchange folder) instead
    of starting one here."""
    global _shared
    _shared = exchange


def prestart(kernels: bool = False) -> None:
    """Start a zygote now, in the background, for a run that will come (`kernels`: a notebook's).

    The grader's own start-up work then overlaps the zygote's; `acquire` takes it when it comes.
    This returns once bubblewrap has started (a few milliseconds): the caller's next step is
    usually `import torch`, whose loading of libtorch holds Python's GIL for 0.1-0.2 s at a time,
    and the starting thread, which needs the GIL to reach its `Popen`, would wait that long.
    """
    if not enabled() or _shared is not None:
        return
    launched = threading.Event()
    with _pool_lock:
        if _idle or _pending:
            return
        _pending.append(_starter.submit(kernels, launched))
    launched.wait(_LAUNCH_WAIT)


def acquire() -> Zygote:
    """An idle warm zygote, or a new one (raises ZygoteError if it cannot start)."""
    hidden = tuple(secrets())  # (a few stat calls: outside the lock)
    with _pool_lock:
        while _idle:
            zygote = _idle.pop()
            if zygote.alive() and zygote.hidden == hidden:  # (not one started before more labs were named)
                return zygote
            zygote.close()
        started = _pending.pop() if _pending else None
    if _shared is not None and started is None:
        try:
            return Zygote.attach(_shared)
        except ZygoteError:
            share(None)  # it failed: this process starts its own from now on
    if started is not None:
        try:
            return _take(started)
        except ZygoteError:
            pass  # try once more from scratch
    return _take(_starter.submit())


def _take(started: concurrent.futures.Future[Zygote]) -> Zygote:
    """Wait for a zygote being started. If the wait is cut short (the grading is stopped), the
    zygote goes back among the pending ones, where `shutdown` closes it and removes its folder.
    A start that failed is not put back: every later `acquire` would take the same failure."""
    try:
        return started.result()
    except BaseException:
        if not started.done():
            with _pool_lock:
                _pending.append(started)
        raise


def release(zygote: Zygote, healthy: bool) -> None:
    with _pool_lock:
        if healthy and zygote.alive() and len(_idle) < MAX_IDLE:
            _idle.append(zygote)
            return
    zygote.close()


@atexit.register
def shutdown() -> None:
    """Close every zygote of this process. One still starting is killed, not waited for: a stop must
    not wait for a torch import (it took over 30 s under load)."""
    with _pool_lock:
        while _pending:
            started = _pending.pop()
            if started.cancel():
                continue
            deadline = time.monotonic() + READY_TIMEOUT
            while not started.done() and time.monotonic() < deadline:
                with _starting_lock:
                    for zygote in _starting:
                        zygote.kill()  # its wait_ready then fails, and _new_zygote closes it
                with contextlib.suppress(concurrent.futures.TimeoutError):
                    started.exception(timeout=0.1)
            if started.done() and started.exception() is None:
                _idle.append(started.result())  # it was ready before the kill
        while _idle:
            _idle.pop().close()
