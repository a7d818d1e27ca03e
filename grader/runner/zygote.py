"""The warm worker, inside the sandbox: torch (and, once a notebook came, ipykernel) imported, one fresh process per run.

This file runs INSIDE a bubblewrap sandbox (grader/runner/warm.py starts it) and imports
nothing from the grader. It never runs student code itself. For each run it forks a
child that first walls itself off from this process and from every other run:

- new user, mount, PID, IPC, network and UTS namespaces;
- a fresh tmpfs on /tmp, /home/student and /dev/shm, so nothing an earlier run wrote is
  there; the exchange folder is covered so only this run's own folder shows;
- a new PID namespace whose init (PID 1, as bubblewrap's) runs the harness or the kernel as
  PID 2: when the run ends, everything it started ends; it cannot name (signal) this process;
- this process is not dumpable, so a run cannot read or trace its memory.

The grader puts each run into the submission's cgroup, keeps the clocks and kills what is
left, exactly as for a cold start. Control is a SOCK_SEQPACKET socket (its fd number is the one argument): one JSON
object per message, with at most one file descriptor (stderr) alongside.

A batch's workers share one zygote (`--listen PATH`): it also accepts SOCK_SEQPACKET connections
on PATH, a socket in the grader's own exchange folder, which no run sees (every run's view of that
folder is a fresh tmpfs holding only its own run folder, and a run keeps no descriptor of this
process's). Each connection asks for runs and hears of their ends, as the control socket does;
when a connection closes, its runs still going are killed. Only the control socket's owner can
make the zygote quit, and the zygote quits when that socket closes.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import importlib
import importlib.util
import json
import os
import resource
import runpy
import selectors
import signal
import socket
import sys
from typing import Any, cast

KEEP_FD = 1000  # where the run's stderr waits while every other descriptor is closed
HOME = "/home/student"
STAGE = "/grader/stage"
HARNESS = "/grader/harness.py"

_NEWNS, _NEWUTS, _NEWIPC, _NEWUSER, _NEWPID, _NEWNET = 0x20000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS = 1, 4, 38

_libc = ctypes.CDLL(None, use_errno=True)
_torch_rng: Any = None


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def _warm_up() -> None:
    """Import what every run needs and pay torch's lazy first-use costs, once: the harness's own
    warm-up, which also leaves torch._dynamo until a run compiles (lazy_dynamo.py)."""
    global _torch_rng
    import torch

    _torch_rng = torch.get_rng_state()  # a cold process starts from this state
    spec = importlib.util.spec_from_file_location("grader_harness", HARNESS)
    assert spec is not None and spec.loader is not None
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    harness.warm_up()
    torch.set_rng_state(_torch_rng)


# What an ipykernel imports while it starts (measured: 0.49 s of a forked kernel's start, 0.16 s with these
# imported once here). The debugger's import of debugpy is most of it; it starts no thread.
_KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
                   "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.oinspect",
                   "IPython.extensions.storemagic", "sqlite3", "pdb", "tornado.platform.asyncio")


def _kernel_imports() -> None:
    if "ipykernel.kernelapp" in sys.modules:
        return
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # else debugpy warns about frozen modules on import
    try:
        for name in _KERNEL_MODULES:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
    finally:
        os.environ.pop("PYDEVD_DISABLE_FILE_VALIDATION", None)
    if len(os.listdir("/proc/self/task")) > 1:  # forking a process with threads is unsafe: give up, start cold
        os._exit(3)


def _wall_off(run: dict[str, Any]) -> None:
    """In the forked child: namespaces, fresh folders, only this run's folder visible."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(_NEWUSER | _NEWNS | _NEWPID | _NEWIPC | _NEWNET | _NEWUTS), "unshare")
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")
    _mount("none", "/", None, _MS_REC | _MS_PRIVATE)
    folder, exchange = run["folder"], os.path.dirname(run["folder"])
    _mount(folder, STAGE, None, _MS_BIND)
    # A Python environment under /tmp (a clone in /tmp, as CI makes) must stay visible under the
    # fresh /tmp: hold it by a descriptor, then bind it back (recursively: covers inside it stay).
    kept = [(os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC), path) for path in run.get("keep", [])]
    size = f"size={int(run['disk'])}"
    fresh = ("/tmp", HOME, "/dev/shm")
    for target in fresh:
        _mount("tmpfs", target, "tmpfs", _MS_NOSUID | _MS_NODEV, size + ",mode=0755")
    for fd, path in kept:
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
        os.close(fd)
    # The run's folder, alone, at the same path as on the grader's side (a kernel's sockets are named by it).
    if any(exchange == f or exchange.startswith(f + "/") for f in fresh):
        os.makedirs(exchange, mode=0o755, exist_ok=True)
    else:
        _mount("tmpfs", exchange, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=65536,mode=0755")
    os.mkdir(folder)
    _mount(STAGE, folder, None, _MS_BIND)
    _mount("none", folder, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    for name in run.get("writable", []):  # a kernel's socket folder: the only place it may write
        _mount(os.path.join(STAGE, name), os.path.join(folder, name), None, _MS_BIND)
    _check(_libc.umount2(STAGE.encode(), 2), "umount stage")
    if run.get("submission"):
        name = os.path.basename(run["submission"])
        target = os.path.join(HOME, name)
        open(target, "w").close()
        _mount(run["submission"], target, None, _MS_BIND)
        _mount("none", target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    _check(_libc.sethostname(b"sandbox", 7), "hostname")


def _drop_capabilities() -> None:
    """Give up the capabilities the new user namespace granted (a run must not undo the mounts above:
    unmount its fresh /tmp, or remount its run folder writable). As for a process that runs no
    setuid program, nothing brings them back."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty (two 32-bit words)
    _check(_libc.capset(header, data), "capset")
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")


def _limits(run: dict[str, Any]) -> None:
    for name, value in run.get("rlimits", {}).items():
        which = {"as": resource.RLIMIT_AS, "nofile": resource.RLIMIT_NOFILE, "fsize": resource.RLIMIT_FSIZE}[name]
        resource.setrlimit(which, (int(value), int(value)))


def _become_run(run: dict[str, Any], stderr_fd: int) -> None:
    """The run (PID 2 of its namespace): its own session, the run's environment, then the command."""
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    _check(_libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl")  # its own /proc files are its own again
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(stderr_fd if stderr_fd >= 0 else null, 2)
    os.closerange(3, 1 << 16)
    for number in range(1, signal.NSIG):
        if number not in (signal.SIGKILL, signal.SIGSTOP):
            try:
                signal.signal(number, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python sets them at start-up
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(run["env"])
    os.chdir(HOME)
    import torch

    torch.set_rng_state(_torch_rng)
    argv = list(run["argv"])
    code = 0
    try:
        if run["kind"] == "kernel":
            sys.argv = ["ipykernel_launcher", *argv]
            sys.path.insert(0, HOME)  # as `python -m` puts the working folder first
            runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
        else:
            sys.argv = [HARNESS, *argv]
            runpy.run_path(HARNESS, run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # as the interpreter does with an uncaught exception
        code = 1
        with contextlib.suppress(BaseException):
            sys.excepthook(*sys.exc_info())
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _mirror(status: int) -> None:
    """End this process as bubblewrap ends when its child ends: the same exit code, 128 + the signal if killed."""
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _init(run: dict[str, Any], stderr_fd: int, report_fd: int) -> None:
    """PID 1 of the run's namespace, as bubblewrap's own init: start the run, reap, end with it.

    When it ends, the kernel kills everything left in the namespace. Signals sent from inside
    the namespace do not reach it; the run itself is PID 2, which its own children can kill.
    """
    try:
        _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_IGN)
        pid = os.fork()
    except BaseException as exc:
        with contextlib.suppress(BaseException):
            os.write(stderr_fd, f"sandbox: the run's init could not start it: {exc}\n".encode())
        os._exit(125)
    if pid == 0:
        os.close(report_fd)
        _become_run(run, stderr_fd)
    if stderr_fd >= 0:
        os.close(stderr_fd)
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        except BaseException:
            continue
        if done == pid:  # an init cannot signal itself: its parent mirrors how the run ended
            with contextlib.suppress(OSError):
                os.write(report_fd, status.to_bytes(4, "little"))
            os._exit(0)


def _child(run: dict[str, Any], stderr_fd: int) -> None:
    """The forked child: wall off, start the namespace's init (which starts the run), end as it ends."""
    try:
        _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        if stderr_fd >= 0:
            os.dup2(stderr_fd, KEEP_FD)
            stderr_fd = KEEP_FD
        os.closerange(3, KEEP_FD)
        os.closerange(KEEP_FD + 1, 1 << 16)
        _wall_off(run)
        _limits(run)
        _drop_capabilities()
        report_read, report_write = os.pipe()
        pid = os.fork()
    except BaseException as exc:
        with contextlib.suppress(BaseException):
            os.write(stderr_fd, f"sandbox: {exc}\n".encode())
        os._exit(125)  # as bubblewrap does when it cannot set up the sandbox
    if pid == 0:
        os.close(report_read)
        _init(run, stderr_fd, report_write)
    try:
        os.close(report_write)
        if stderr_fd >= 0:
            os.close(stderr_fd)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_IGN)
        _, status = os.waitpid(pid, 0)
        reported = os.read(report_read, 4)
    except BaseException:
        os._exit(125)
    _mirror(int.from_bytes(reported, "little") if len(reported) == 4 else status)


def _send(control: socket.socket, message: dict[str, Any]) -> None:
    control.send(json.dumps(message).encode("utf-8"))


def _receive(control: socket.socket) -> tuple[dict[str, Any] | None, int]:
    fds = array.array("i")
    data, ancdata, _, _ = control.recvmsg(1 << 20, socket.CMSG_LEN(fds.itemsize))
    if not data:
        return None, -1
    fd = -1
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            fd = fds[0] if fds else -1
    try:
        message = json.loads(data.decode("utf-8"))
    except ValueError:
        message = None
    if not isinstance(message, dict):  # not one of ours: ignored like an unknown op, its descriptor closed
        message = {}
    return message, fd


def _reap(runs: dict[int, tuple[socket.socket, int]]) -> None:
    while runs:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in runs:
            asker, run_id = runs.pop(pid)
            with contextlib.suppress(OSError):  # (a connection that has gone: nobody to tell)
                _send(asker, {"exited": run_id, "status": os.waitstatus_to_exitcode(status)})


def _hang_up(connection: socket.socket, runs: dict[int, tuple[socket.socket, int]]) -> None:
    """A connection closed: kill its runs still going (their namespaces end with them)."""
    for pid, (asker, _) in list(runs.items()):
        if asker is connection:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    connection.close()


def main(control_fd: int, kernels: bool = False, listen: str | None = None) -> None:
    _check(_libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl")
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    control = socket.socket(fileno=control_fd)
    _warm_up()
    if kernels:  # a notebook is coming: its kernel's imports now, before anyone waits for them
        _kernel_imports()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    listener = None
    if listen is not None:  # created once warm: a worker that can connect is served at once
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(listen + ".new")
        os.chmod(listen + ".new", 0o600)
        listener.listen(16)
        os.rename(listen + ".new", listen)
        selector.register(listener, selectors.EVENT_READ)
    runs: dict[int, tuple[socket.socket, int]] = {}  # child pid -> (the connection that asked, its run id)
    _send(control, {"ready": os.getpid()})
    while True:
        for key, _ in selector.select():
            if key.fileobj is wake_read:
                os.read(wake_read, 4096)
                _reap(runs)
                continue
            if key.fileobj is listener:
                with contextlib.suppress(OSError):
                    connection, _ = listener.accept()
                    selector.register(connection, selectors.EVENT_READ)
                continue
            asker = cast(socket.socket, key.fileobj)
            try:
                run, fd = _receive(asker)
            except OSError:
                run, fd = None, -1
            if asker is control and (run is None or run.get("op") == "quit"):
                os._exit(0)
            if run is None:
                selector.unregister(asker)
                _hang_up(asker, runs)
                continue
            if run.get("op") != "run":
                if fd >= 0:
                    os.close(fd)
                continue
            if run.get("kind") == "kernel":  # a kernel's own imports, once, before the first notebook's fork
                _kernel_imports()
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(run, fd)
            if fd >= 0:
                os.close(fd)
            runs[pid] = (asker, int(run["id"]))
            with contextlib.suppress(OSError):
                _send(asker, {"started": int(run["id"]), "pid": pid})
            _reap(runs)


if __name__ == "__main__":
    _arguments = sys.argv[2:]
    main(int(sys.argv[1]), kernels="kernels" in _arguments,
         listen=_arguments[_arguments.index("--listen") + 1] if "--listen" in _arguments else None)
