"""The one way answers leave the student's process: a FIFO of JSON lines, read with caps.

The student's side can only write bytes into a pipe: there is no file of its making
that the grader opens (so no FIFO, device or symlink posing as a result), nothing it
writes can fill the grader's disk, and every line is read with a size cap, parsed
with `json.loads` (no hooks, no pickle, no NaN constants) and rejected when it nests
deeper than any honest answer does. A line that breaks these rules is dropped and
counted, never trusted.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_LINE_BYTES = 8 * 1024 * 1024
MAX_TOTAL_BYTES = 96 * 1024 * 1024
MAX_DEPTH = 64


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _depth(value: Any) -> int:
    """Nesting depth, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def parse_line(line: bytes) -> dict[str, Any] | None:
    """One message, or None for anything that is not a small, shallow JSON object."""
    if len(line) > MAX_LINE_BYTES or line.count(b"[") + line.count(b"{") > 4_000_000:
        return None
    try:
        value = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(value, dict) or _depth(value) > MAX_DEPTH:
        return None
    return value


@dataclass
class Channel:
    """The grader's end of the FIFO. The grader also holds a write end, so reads never see EOF early."""

    path: Path
    _read_fd: int = -1
    _hold_fd: int = -1
    _partial: bytearray = field(default_factory=bytearray)
    _skipping: bool = False
    total: int = 0
    dropped: int = 0
    flooded: bool = False

    @classmethod
    def create(cls, path: Path) -> Channel:
        os.mkfifo(path, 0o600)
        channel = cls(path)
        channel._read_fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        channel._hold_fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        return channel

    def read(self, timeout: float, wake: int = -1) -> list[dict[str, Any]]:
        """Messages that arrived within `timeout` seconds (possibly none); sooner if `wake` (a
        descriptor) becomes readable."""
        watched = [wake] if wake >= 0 else []
        if self._read_fd < 0 or self.flooded:
            if watched:
                select.select(watched, [], [], timeout)
            else:
                time.sleep(timeout)
            return []
        ready, _, _ = select.select([self._read_fd, *watched], [], [], timeout)
        if self._read_fd not in ready:
            return []
        messages: list[dict[str, Any]] = []
        for _ in range(64):  # at most 4 MiB per call, then let the caller check its clocks
            try:
                chunk = os.read(self._read_fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            if self.total > MAX_TOTAL_BYTES:
                self.flooded = True
                break
            messages += self._feed(chunk)
        return messages

    def _feed(self, chunk: bytes) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        lines = chunk.split(b"\n")
        for i, piece in enumerate(lines):
            last = i == len(lines) - 1
            if self._skipping:
                if not last:
                    self._skipping = False
                continue
            self._partial += piece
            if len(self._partial) > MAX_LINE_BYTES:
                self._partial.clear()
                self._skipping = last
                self.dropped += 1
                continue
            if last:
                break
            line = bytes(self._partial)
            self._partial.clear()
            if line.strip():
                message = parse_line(line)
                if message is None:
                    self.dropped += 1
                else:
                    out.append(message)
        return out

    def close(self) -> None:
        for fd in (self._read_fd, self._hold_fd):
            if fd >= 0:
                os.close(fd)
        self._read_fd = self._hold_fd = -1


@dataclass
class Go:
    """The grader's word that a `.py` file's top level may start: a FIFO the harness reads after its `begin`.
    The grader gives it once it has read `begin` and counted the memory from there (cgroups.Box.count_from_here),
    so the student's code never starts before its limits are the ones it is graded under. The grader holds
    the FIFO open for reading and writing, so the harness's open returns at once and its read waits."""

    path: Path
    _fd: int = -1

    @classmethod
    def create(cls, path: Path) -> Go:
        os.mkfifo(path, 0o600)
        return cls(path, os.open(path, os.O_RDWR | os.O_NONBLOCK))

    def give(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.write(self._fd, b"go\n")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class CappedPipe:
    """A pipe for a student process's stderr: the first `limit` bytes are kept, the rest drained and dropped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._read, self.write_fd = os.pipe()
        self._kept = bytearray()
        self.truncated = False
        self._thread = threading.Thread(target=self._drain, daemon=True, name="grader-stderr")
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self._read, 65536)
            except OSError:
                break
            if not chunk:
                break
            room = self.limit - len(self._kept)
            if room > 0:
                self._kept += chunk[:room]
            if len(chunk) > room:
                self.truncated = True

    def close_writer(self) -> None:
        """After the process started: the grader's copy of the write end would keep EOF away."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def text(self) -> str:
        """What was kept, once every writer is gone (or after a short wait if one lingers)."""
        self.close_writer()
        self._thread.join(timeout=2)
        text = self._kept.decode("utf-8", errors="replace")
        return text + ("\n[... output truncated ...]" if self.truncated else "")

    def close(self) -> None:
        self.close_writer()
        self._thread.join(timeout=2)
        if not self._thread.is_alive():
            os.close(self._read)
