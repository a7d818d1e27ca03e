"""The grader's clock and eyes on the student's process, from outside it.

A thread reads the result channel and keeps every limit on the grader's side: when a
function's call sends nothing for longer than the call limit (plus a grace the honest
harness never needs), the grader kills that call's processes itself; when the kernel
counts an out-of-memory kill in the submission's cgroup (or a call runs out of time
while its memory sits at the limit), or a folder shared with the sandbox grows, the
whole run ends. A patched harness can stop answering, never stop
the clock.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .channel import Channel

GRACE = 2.0  # seconds past the call limit before the grader steps in
AT_LIMIT_SHARE = 0.9  # a call that times out using this share of its memory limit ran out of memory
SHARED_QUOTA_BYTES = 1024 * 1024  # what may pile up in a folder shared with the sandbox (sockets only)


@dataclass
class Transcript:
    """Everything the student's process said, as plain data, and what the grader did about it."""

    begun: bool = False  # the harness reached the student's code (a .py file's top level)
    loaded: dict[str, Any] | None = None
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # probe id -> answer
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)  # function -> how its process ended
    started: list[str] = field(default_factory=list)
    done: bool = False
    killed: dict[str, float] = field(default_factory=dict)  # function -> the limit the grader enforced
    memory_exceeded: str = ""  # the function or stage running when memory ran out
    overflow: bool = False  # a shared folder grew: the run was ended
    stalled: bool = False  # the harness stopped answering between calls: the run was ended
    # The process calling the functions (a notebook's kernel) died in a call: that function's answers, as
    # many as came before the grader ended the run, are a matter of timing and are not kept.
    died_in_call: bool = False

    def add(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "begin":
            self.begun = True
        elif kind == "loaded" and self.loaded is None:
            self.loaded = message
        elif kind == "start" and isinstance(message.get("function"), str):
            self.started.append(message["function"])
        elif kind == "answer" and isinstance(message.get("id"), str):
            self.answers.setdefault(message["id"], message)
        elif kind == "status" and isinstance(message.get("function"), str):
            self.statuses.setdefault(message["function"], message)
        elif kind == "done":
            self.done = True

    @property
    def current(self) -> str | None:
        """The function whose call is running, if any."""
        if self.started and self.started[-1] not in self.statuses:
            return self.started[-1]
        return None


@dataclass(frozen=True)
class Proc:
    """One process, as /proc/<pid>/stat shows it."""

    pid: int
    name: str  # the command name (15 characters at most, and the student's to choose)
    state: str  # R, S, D, Z (zombie)...
    parent: int
    started: int  # clock ticks after boot: with the pid, names this process and no later one


def proc(pid: int) -> Proc | None:
    """The process `pid` now, or None where there is none (or no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    head, _, rest = text.rpartition(")")  # the command name may hold spaces and parentheses
    fields = rest.split()
    try:
        return Proc(pid, head.partition("(")[2], fields[0], int(fields[1]), int(fields[19]))
    except (IndexError, ValueError):
        return None


def _processes() -> list[Proc]:
    if not os.path.isdir("/proc"):  # macOS: no process table to read; callers fall back
        return []
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (p := proc(int(entry.name))) is not None:
            found.append(p)
    return found


def _children() -> dict[int, list[tuple[int, str]]]:
    """ppid -> [(pid, command name)], from /proc."""
    table: dict[int, list[tuple[int, str]]] = {}
    for p in _processes():
        table.setdefault(p.parent, []).append((p.pid, p.name))
    for kids in table.values():
        kids.sort()
    return table


def running(pid: int, started: int | None = None) -> bool:
    """The process exists and is not a zombie (one whose parent has not reaped it yet, or never will:
    an orphan in a container whose first process reaps nothing); with `started`, it is also the
    process that had this pid then, not a later one given the same pid."""
    p = proc(pid)
    return p is not None and p.state != "Z" and (started is None or p.started == started)


def below(pid: int) -> set[tuple[int, int]]:
    """Every process below `pid`, each with its start time (so that a pid reused later is never taken
    for one of them)."""
    by_pid = {p.pid: p for p in _processes()}
    table: dict[int, list[int]] = {}
    for p in by_pid.values():
        table.setdefault(p.parent, []).append(p.pid)
    found: set[tuple[int, int]] = set()
    stack = [pid]
    while stack:
        for child in table.get(stack.pop(), []):
            if (child, by_pid[child].started) not in found:
                found.add((child, by_pid[child].started))
                stack.append(child)
    return found


def runner_pid(top: int, sandboxed: bool) -> int | None:
    """The student's first process (harness or kernel): below bubblewrap's two processes."""
    if not sandboxed:
        return top
    table = _children()
    pid = top
    for _ in range(2):
        kids = [k for k in table.get(pid, []) if k[1] == "bwrap"] if pid == top else table.get(pid, [])
        if not kids:
            return None
        pid = kids[0][0]
    return pid


def _folder_size(folder: Path) -> int:
    total = 0
    with contextlib.suppress(OSError):
        for i, entry in enumerate(os.scandir(folder)):
            if i > 200:
                return SHARED_QUOTA_BYTES + 1
            with contextlib.suppress(OSError):
                total += entry.stat(follow_symlinks=False).st_size
    return total


class Watcher(threading.Thread):
    """Reads the channel into a Transcript and enforces the per-call limit, memory and shared folders."""

    def __init__(self, channel: Channel, call_limit: float, oom_kills: Callable[[], int],
                 kill_all: Callable[[], None], shared: list[Path],
                 memory_share: Callable[[], float] = lambda: 0.0, on_begin: Callable[[], None] = lambda: None) -> None:
        super().__init__(daemon=True, name="grader-watcher")
        self.channel = channel
        self.call_limit = call_limit
        self.oom_kills = oom_kills
        self.memory_share = memory_share
        self.on_begin = on_begin  # called once the harness's `begin` is read, before the student's code runs
        self.kill_all = kill_all
        self.shared = shared
        self.transcript = Transcript()
        self.runner: int | None = None  # host pid of the harness's process, set by the runner
        self.stage = "loading"  # what runs, for messages: "loading", "cell 3", ...
        self.changed = threading.Event()
        self._stop_event = threading.Event()
        # Written to by `stop`, so that the thread's wait on the channel ends at once, not up to 50 ms later.
        self._wake_read = self._wake_write = -1
        self._lock = threading.Lock()

    def start(self) -> None:
        self._wake_read, self._wake_write = os.pipe()
        super().start()

    def run(self) -> None:
        last_progress = time.monotonic()
        last_check = 0.0
        oom_seen = self.oom_kills()
        while not self._stop_event.is_set():
            messages = self.channel.read(0.05, wake=self._wake_read)
            now = time.monotonic()
            if messages:
                for message in messages:
                    first = message.get("type") == "begin" and not self.transcript.begun
                    with self._lock:
                        self.transcript.add(message)
                    if first:
                        self.on_begin()
                    if message.get("type") == "status" and message.get("signal") == signal.SIGKILL:
                        # The kernel's OOM killer sends SIGKILL: blame the call that just ended.
                        oom = self.oom_kills()
                        if oom > oom_seen:
                            oom_seen = oom
                            self._end("memory", str(message.get("function")))
                            break
                last_progress = now
                self.changed.set()
            if self.transcript.started and not self.transcript.done and now - last_progress > self.call_limit + GRACE:
                if self.memory_share() >= AT_LIMIT_SHARE:
                    # Out of time while pinned at the memory limit (reclaiming, not computing):
                    # that is running out of memory, whatever the kernel's OOM killer has yet to do.
                    self._end("memory", self.transcript.current or self.stage)
                else:
                    self._enforce_call_limit()
                last_progress = now
            if now - last_check > 0.2:
                last_check = now
                oom = self.oom_kills()
                if oom > oom_seen:
                    oom_seen = oom
                    self._end("memory", self.transcript.current or self.stage)
                if any(_folder_size(f) > SHARED_QUOTA_BYTES for f in self.shared):
                    self._end("overflow", "")

    def _enforce_call_limit(self) -> None:
        current = self.transcript.current
        if current is None or current in self.transcript.killed or self.runner is None:
            # The harness itself stopped answering (or ignored the last kill): the run is over.
            self._end("stalled", "")
            return
        self.transcript.killed[current] = self.call_limit
        calls = below(self.runner)
        if not calls:  # nothing to single out (no /proc here): end the run instead
            self._end("stalled", "")
        for pid, started in calls:
            if running(pid, started):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def _end(self, why: str, where: str) -> None:
        with self._lock:
            if why == "memory":
                self.transcript.memory_exceeded = where or "the submission"
            elif why == "overflow":
                self.transcript.overflow = True
            else:
                self.transcript.stalled = True
        self.kill_all()
        self.changed.set()

    def stop(self) -> Transcript:
        self._stop_event.set()
        if self._wake_write >= 0:
            os.write(self._wake_write, b"x")
        if self.is_alive():
            self.join(timeout=5)
        if not self.is_alive() and self._wake_read >= 0:
            for fd in (self._wake_read, self._wake_write):
                os.close(fd)
            self._wake_read = self._wake_write = -1
        # Whatever was still in the pipe when the process ended.
        for message in self.channel.read(0):
            self.transcript.add(message)
        return self.transcript
