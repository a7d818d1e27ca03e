"""The wall: bubblewrap around every student process.

The sandbox has its own user, PID, IPC, UTS, cgroup and network namespaces (no
network at all, not even loopback to the host), a read-only view of the system and
of the Python environment, and nothing else of the machine. Hidden from it: the
grader package (the harness alone is handed in, as one file), `solutions/`, the
hidden suites, the repository, other submissions, the batch's output folder and the
grader's processes. Writable: a working folder and `/tmp`, both tmpfs of a fixed size,
and whatever the runner binds in explicitly (the result channel, a kernel's socket
folder). `--die-with-parent` and the PID namespace end everything inside when the
sandbox's first process is killed.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

WORKDIR = Path("/home/student")
GRADER_DIR = Path("/grader")  # inside: the harness, the probes and the result channel

# The system, read-only. Merged-/usr systems have symlinks for /bin, /lib...: they are recreated.
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What programs need from /etc; not /etc itself (it may hold secrets a root grader can read).
_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime",
        "/etc/nsswitch.conf", "/etc/mime.types", "/etc/fonts", "/etc/ssl/certs")
_PASSWD = "root:x:0:0:root:/root:/bin/false\nstudent:x:1000:1000:student:/home/student:/bin/false\n"
_GROUP = "root:x:0:\nstudent:x:1000:\n"


@dataclass
class Mounts:
    """What one sandbox sees besides the system: (host path, path inside) pairs."""

    read_only: list[tuple[Path, Path]] = field(default_factory=list)
    writable: list[tuple[Path, Path]] = field(default_factory=list)


def bubblewrap() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def bubblewrap_problem() -> str | None:
    """None when bubblewrap can start a sandbox on this machine, else why not, in one line."""
    bwrap = bubblewrap()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        proc = subprocess.run([bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
                              capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start ({exc})"
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[0]
        return f"bubblewrap could not start a sandbox: {first}"
    return None


def python_roots(hidden: list[Path]) -> list[Path]:
    """Folders the student's Python needs: its installation and its environment's packages.

    A folder that is itself hidden (a source checkout on sys.path) or inside the grader
    package is left out; a folder that merely holds a hidden one is covered by the caller. So is
    the working folder, or a folder holding it, unless Python is installed there.
    """
    roots: list[Path] = []
    try:
        here = Path.cwd().resolve()
        around = {here, *here.parents}  # the working folder and the folders holding it
    except OSError:  # the working folder was deleted: nothing of it to leave out
        around = set()
    prefixes = {sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix}
    for text in (*sorted(prefixes), *sys.path):
        if not text:
            continue
        path = Path(text).resolve()
        if not path.is_dir() or path in hidden or any(s in path.parents for s in hidden if s.name == "grader"):
            continue
        if text not in prefixes and path in around:
            continue  # `python -m grader` puts its working folder on sys.path: a class folder, say
        if not any(path == r or r in path.parents for r in roots):
            roots = [r for r in roots if path not in r.parents] + [path]
    return sorted(roots)


def secrets() -> list[Path]:
    """What the student must never see, wherever it is installed."""
    import grader

    package = Path(grader.__file__).resolve().parent
    found = {package}
    for text in sys.path:  # a wheel's or an editable install's copy next to the other packages
        candidate = Path(text or ".").resolve() / "grader"
        if candidate.is_dir():
            found.add(candidate)
    for copy in list(found):  # a source checkout (this one, or another on the path): all of it
        if (copy.parent / "pyproject.toml").is_file():
            found.add(copy.parent)
    from ..labs import lab_roots

    found.update(lab_roots())  # the instructor's labs: their solutions and hidden suites
    return sorted(found)


def bwrap_argv(mounts: Mounts, disk_bytes: int, home: Path = WORKDIR) -> list[str]:
    """The bubblewrap command line (up to the command) for one student process."""
    bwrap = bubblewrap()
    assert bwrap is not None, "bwrap_argv needs bubblewrap"
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--new-session",
            "--uid", "1000", "--gid", "1000", "--hostname", "sandbox"]
    for name in _SYSTEM:
        path = Path(name)
        if path.is_symlink():
            argv += ["--symlink", str(path.readlink()), name]
        elif path.is_dir():
            argv += ["--ro-bind", name, name]
    for name in _ETC:
        if Path(name).exists():
            argv += ["--ro-bind", name, name]
    # The private folders first: a Python environment that lives under /tmp (a clone in /tmp, as
    # CI may make) is bound over them afterwards, not hidden by them.
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(disk_bytes), "--tmpfs", "/tmp",
             "--size", str(disk_bytes), "--tmpfs", str(home),
             "--dir", str(GRADER_DIR)]
    hidden = secrets()
    roots = python_roots(hidden)
    for root in roots:
        argv += ["--ro-bind", str(root), str(root)]
    for secret in hidden:  # a copy of the grader inside a bound folder: cover it with an empty one
        if any(r in secret.parents for r in roots):
            argv += ["--tmpfs", str(secret), "--remount-ro", str(secret)]
    for host, inside in mounts.read_only:
        argv += ["--ro-bind", str(host), str(inside)]
    for host, inside in mounts.writable:
        argv += ["--bind", str(host), str(inside)]
    argv += ["--chdir", str(home)]
    return argv


def write_identity(folder: Path) -> Mounts:
    """A passwd and group file naming the sandbox's user, so getpass and friends work."""
    passwd, group = folder / "passwd", folder / "group"
    passwd.write_text(_PASSWD, encoding="utf-8")
    group.write_text(_GROUP, encoding="utf-8")
    return Mounts(read_only=[(passwd, Path("/etc/passwd")), (group, Path("/etc/group"))])
