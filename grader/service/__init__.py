"""The warm grader: one `grade` after another without paying Python's and torch's start-up each time.

A student runs `grade` again after every edit. Without help each run starts Python, imports
torch on the grader's side, starts a sandboxed Python that imports torch again, and primes the
reference; the student's own code is a small part of it. The first `grade` therefore starts a
*service* in the background (`python -m grader.service.server`): a grader process like a batch
worker, which keeps torch, the labs' references and a warm sandboxed zygote between grades, and
leaves after `IDLE` seconds without a request. Later `grade` commands are thin clients: they
resolve the submission and parse the options as before, send the service the file to grade and
the limits, get the `GradeResult` back as JSON, and render the reports themselves, in their own
terminal. The reports are the same bytes as a grade in one process.

The trust boundary does not move. The service is the grader's side: it runs as the user who ran
`grade`, and every submission still runs in a fresh forked process inside the sandbox, where
neither the service's socket folder (`/tmp` and `$XDG_RUNTIME_DIR` are not seen there) nor its
network namespace can be reached. Its socket lives in a folder only that user can open; a
folder that is not theirs, or open to others, disables the service.

A service serves one environment: the socket's name hashes the Python, the user and the
environment variables (`GRADER_LABS`, `TMPDIR` and the rest), and every request carries a
fingerprint of the grader's and the labs' files and the installed packages; a service that sees
another fingerprint leaves and a fresh one starts. Where a service cannot be used (no warm
runs, `GRADER_SERVICE=0`, an unsafe folder, a service that does not answer) `grade` grades in
its own process, as it always did.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

IDLE = 600.0  # seconds a service waits for the next request before it leaves (GRADER_SERVICE_IDLE)
_SOCKET_NAME, _SOCKET_PATH_MAX = 40, 107  # "/<20 hex>.sock.<pid>"; what a socket's path holds
_MAX_MESSAGE = 256 * 1024 * 1024  # a reply carries a whole report: figures, sources, outputs

# Variables that differ between two terminals of one user but cannot change a grade.
_VOLATILE = frozenset({"_", "PWD", "OLDPWD", "SHLVL", "COLUMNS", "LINES", "TERM", "COLORTERM", "TERM_PROGRAM",
                       "TERM_PROGRAM_VERSION", "TERM_SESSION_ID", "WINDOWID", "TMUX_PANE", "SSH_TTY", "GPG_TTY",
                       "PS1", "PROMPT_COMMAND", "HISTFILE", "NO_COLOR", "FORCE_COLOR", "PYTEST_CURRENT_TEST"})


def wanted() -> bool:
    """Whether `grade` should use a service at all (GRADER_SERVICE=0 says no)."""
    return os.environ.get("GRADER_SERVICE", "1") != "0" and sys.platform == "linux"


def idle_seconds() -> float:
    try:
        return max(1.0, float(os.environ.get("GRADER_SERVICE_IDLE", "")))
    except ValueError:
        return IDLE


def folder() -> Path | None:
    """The user's own socket folder, made if missing; None if it is not safely theirs."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    base = Path(runtime) / "grader" if runtime.startswith("/") else Path(tempfile.gettempdir()) / f"grader-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(base)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None  # another user's, or open to others: a socket there could be anyone's
    if len(os.fsencode(base)) + _SOCKET_NAME > _SOCKET_PATH_MAX:
        return None  # a deep TMPDIR: no socket path fits
    return base


def address(environ: dict[str, str]) -> str:
    """The service's name for this Python, this user and this environment."""
    env = sorted((k, v) for k, v in environ.items() if k not in _VOLATILE)
    text = json.dumps([os.getuid(), sys.executable, sys.prefix, env])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def fingerprint() -> str:
    """Changes when the grader's files, the labs' files or the installed packages change.

    File names, sizes and modification times only (a few milliseconds): an edit, a checkout or a
    `pip install` changes them. The site-packages folders' own times change with every install.
    """
    from ..labs import course_root, lab_roots

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    # The built-in labs' references live in the course's solutions/ (outside the package in a checkout).
    roots = [package, course_root() / "solutions", course_root() / "exercises", *lab_roots()]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if "__pycache__" in path.parts:
                continue
            try:
                info = path.stat()
            except OSError:  # an editor's temporary file, gone meanwhile
                continue
            if stat.S_ISREG(info.st_mode):
                digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    for entry in sorted(set(sys.path)):  # the same in `grade` and in the service (not the script's own folder)
        packages = Path(entry)
        if packages.name in ("site-packages", "dist-packages") and packages.is_dir():
            digest.update(f"{packages}\0{packages.stat().st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def peer(conn: socket.socket) -> tuple[int, int]:
    """The pid and uid of the process at the other end of a unix socket (SO_PEERCRED)."""
    pid, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return pid, uid


def send(conn: socket.socket, message: dict[str, Any]) -> None:
    """One message: a line of JSON."""
    conn.sendall(json.dumps(message, separators=(",", ":")).encode() + b"\n")


def receive(conn: socket.socket) -> dict[str, Any]:
    """One message (raises ConnectionError if the other side went away first, ValueError if it is not one)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = conn.recv(1 << 20)
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        end = chunk.find(b"\n")
        if end >= 0:
            chunks.append(chunk[:end])
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_MESSAGE:
            raise ValueError("message too long")
    message = json.loads(b"".join(chunks))
    if not isinstance(message, dict):
        raise ValueError("not a message")
    return message
