"""Memory and process limits for one submission's whole process tree.

Bubblewrap sets no resource limits, so the kernel's own mechanisms do, in order of
preference:

1. cgroup v1 (`memory` and `pids` hierarchies writable, e.g. a root grader in CI):
   a child of the grader's own cgroup in each hierarchy, and in `cpu` where it is writable too.
2. cgroup v2 where the grader may create cgroups (root, or a delegated subtree).
3. `systemd-run --user --scope` (cgroup v2 and an unprivileged user with a systemd
   session, a student's laptop): MemoryMax, MemorySwapMax, TasksMax and CPUQuota on a scope.
4. rlimits only (no cgroups at all): RLIMIT_AS at the memory limit plus 1 GiB (torch
   reserves address space it never touches), no process limit and no CPU limit; documented as weaker.

Each holds the run to one CPU where it can (CPU_QUOTA_US).

The launcher writes its own pid into `procs_files` before it execs bubblewrap, so
everything the submission starts is inside from its first instruction.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..config import MIB, Limits

_V1 = Path("/sys/fs/cgroup")
# A run's whole process tree gets one CPU's time, however many processes (or sessions, which the
# scheduler otherwise shares among) it makes: a submission cannot slow the student graded beside it
# past their time limits. The sandbox runs student code with one thread (OMP_NUM_THREADS=1).
CPU_PERIOD_US = 100_000
CPU_QUOTA_US = 100_000


def _own_path(controller: str) -> str | None:
    """This process's cgroup path in a v1 hierarchy (controller) or in v2 (controller "")."""
    try:
        lines = Path("/proc/self/cgroup").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if (controller and controller in names.split(",")) or (not controller and names == ""):
            return path
    return None


def _cgroup_of(pid: int) -> str | None:
    """A process's cgroup v2 path."""
    try:
        for line in Path(f"/proc/{pid}/cgroup").read_text(encoding="utf-8").splitlines():
            if line.startswith("0::"):
                return line[3:]
    except OSError:
        return None
    return None


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


@dataclass
class Box:
    """One submission's limits: how they are kept, and a handle to what is inside."""

    method: str  # "cgroup v1", "cgroup v2", "systemd scope", "rlimits"
    folders: list[Path] = field(default_factory=list)  # cgroups created for this submission
    procs_files: list[Path] = field(default_factory=list)
    argv_prefix: list[str] = field(default_factory=list)
    rlimits: dict[str, int] = field(default_factory=dict)
    events: Path | None = None  # where the kernel counts OOM kills
    memory: int = 0  # the submission's own memory limit in bytes (kept by a cgroup's memory controller)

    def adopt(self, pid: int) -> None:
        """For a systemd scope: find the cgroup systemd made, once the launched process is in it."""
        if self.method != "systemd scope" or self.folders:
            return
        for _ in range(100):
            path = _cgroup_of(pid)
            if path and path.endswith(".scope"):
                folder = _V1 / path.lstrip("/")
                self.folders, self.events = [folder], folder / "memory.events"
                return
            time.sleep(0.01)

    def oom_kills(self) -> int:
        """How many processes of this submission the kernel killed for memory so far."""
        if self.events is None:
            return 0
        try:
            text = self.events.read_text(encoding="utf-8")
        except OSError:
            return 0
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                return int(value)
        return 0

    def memory_share(self) -> float:
        """The submission's memory use as a share of its limit (0.0 where unknown). Near 1.0
        the kernel is reclaiming, and a run can crawl there for seconds before an OOM kill."""
        if self.events is None:
            return 0.0
        folder = self.events.parent
        v1 = self.events.name == "memory.oom_control"
        try:
            used = int((folder / ("memory.usage_in_bytes" if v1 else "memory.current")).read_text())
            limit = int((folder / ("memory.limit_in_bytes" if v1 else "memory.max")).read_text())
        except (OSError, ValueError):  # also "max": no limit
            return 0.0
        return used / limit if limit > 0 else 0.0

    def count_from_here(self) -> None:
        """Let the submission's own code have `memory` on top of what its process holds now, just before
        that code starts. A cold start has been charged Python and torch (about 190 MiB) by then; a run
        forked from the warm zygote shares the zygote's pages and has been charged almost nothing. Without
        this, the same submission could pass warm and run out of memory cold. Where the limit cannot be
        raised (a systemd scope whose files are not ours), it stays where it started, the stricter one."""
        if self.events is None or not self.memory:
            return
        folder = self.events.parent
        v1 = self.events.name == "memory.oom_control"
        try:
            used = int((folder / ("memory.usage_in_bytes" if v1 else "memory.current")).read_text())
        except (OSError, ValueError):
            return
        limit = str(self.memory + used)
        with contextlib.suppress(OSError):
            if v1:  # raised: the memory+swap limit first, as it may never be below the memory limit
                with contextlib.suppress(OSError):  # (only where swap accounting is on)
                    (folder / "memory.memsw.limit_in_bytes").write_text(limit)
                (folder / "memory.limit_in_bytes").write_text(limit)
            else:
                (folder / "memory.max").write_text(limit)

    def pids(self) -> list[int]:
        found: list[int] = []
        for folder in self.folders:
            with contextlib.suppress(OSError, ValueError):
                found += [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        return sorted(set(found))

    def kill_all(self) -> None:
        """SIGKILL everything in the box, until it stays empty (forks race the kill)."""
        for _ in range(100):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    def close(self) -> None:
        self.kill_all()
        if self.method == "systemd scope":
            return  # systemd removes the scope (--collect) once it is empty
        for folder in self.folders:
            for _ in range(200):  # a killed process leaves its cgroup when it is reaped
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


def _v1_box(limits: Limits, name: str) -> Box | None:
    memory_own, pids_own = _own_path("memory"), _own_path("pids")
    if memory_own is None or pids_own is None:
        return None
    memory_parent, pids_parent = _V1 / "memory" / memory_own.lstrip("/"), _V1 / "pids" / pids_own.lstrip("/")
    if not (_writable_dir(memory_parent) and _writable_dir(pids_parent)):
        return None
    memory, pids = memory_parent / name, pids_parent / name
    box = Box("cgroup v1", folders=[memory, pids], procs_files=[memory / "cgroup.procs", pids / "cgroup.procs"],
              events=memory / "memory.oom_control", memory=limits.memory_mib * MIB)
    try:
        memory.mkdir()
        pids.mkdir()
        limit = str(limits.memory_mib * MIB)
        (memory / "memory.limit_in_bytes").write_text(limit)
        with contextlib.suppress(OSError):  # only where swap accounting is on
            (memory / "memory.memsw.limit_in_bytes").write_text(limit)
        (pids / "pids.max").write_text(str(limits.processes))
    except OSError:
        box.close()
        return None
    _v1_cpu(box, name)
    return box


def _v1_cpu(box: Box, name: str) -> None:
    """The CPU limit, where the `cpu` hierarchy is there and writable (without it, the run goes on without)."""
    own = _own_path("cpu")
    parent = _V1 / "cpu" / own.lstrip("/") if own is not None else None
    if parent is None or not _writable_dir(parent):
        return
    folder = parent / name
    try:
        folder.mkdir()
    except OSError:
        return
    box.folders.append(folder)
    try:
        (folder / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
        (folder / "cpu.cfs_quota_us").write_text(str(CPU_QUOTA_US))
    except OSError:
        return  # (an empty cgroup with no limit: removed with the others)
    box.procs_files.append(folder / "cgroup.procs")


def _v2_box(limits: Limits, name: str) -> Box | None:
    root = _V1
    if not (root / "cgroup.controllers").is_file() or not _writable_dir(root):
        return None
    try:
        enabled = (root / "cgroup.subtree_control").read_text().split()
    except OSError:
        return None
    if "memory" not in enabled or "pids" not in enabled:
        return None
    folder = root / name
    box = Box("cgroup v2", folders=[folder], procs_files=[folder / "cgroup.procs"], events=folder / "memory.events",
              memory=limits.memory_mib * MIB)
    try:
        folder.mkdir()
        (folder / "memory.max").write_text(str(limits.memory_mib * MIB))
        with contextlib.suppress(OSError):
            (folder / "memory.swap.max").write_text("0")
        (folder / "pids.max").write_text(str(limits.processes))
    except OSError:
        box.close()
        return None
    if "cpu" in enabled:
        with contextlib.suppress(OSError):
            (folder / "cpu.max").write_text(f"{CPU_QUOTA_US} {CPU_PERIOD_US}")
    return box


@functools.cache
def _systemd_scope_works(*properties: str) -> bool:
    exe = shutil.which("systemd-run")
    if exe is None:
        return False
    try:
        return subprocess.run([exe, "--user", "--scope", "--quiet", *properties, "true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _systemd_box(limits: Limits, name: str) -> Box | None:
    if not _systemd_scope_works():
        return None
    cpu = ("-p", f"CPUQuota={100 * CPU_QUOTA_US // CPU_PERIOD_US}%")
    prefix = ["systemd-run", "--user", "--scope", "--quiet", "--collect", f"--unit={name}",
              "-p", f"MemoryMax={limits.memory_mib * MIB}", "-p", "MemorySwapMax=0",
              "-p", f"TasksMax={limits.processes}", *(cpu if _systemd_scope_works(*cpu) else ()), "--"]
    return Box("systemd scope", argv_prefix=prefix, memory=limits.memory_mib * MIB)


def make_box(limits: Limits) -> Box:
    """The strongest limits this machine lets the grader set."""
    name = f"grader-{uuid.uuid4().hex[:12]}"
    box = _v1_box(limits, name) if (_V1 / "memory").is_dir() else _v2_box(limits, name)
    box = box or _systemd_box(limits, name)
    if box is None:
        box = Box("rlimits")
        box.rlimits["as"] = (limits.memory_mib + 1024) * MIB
    box.rlimits["nofile"] = limits.open_files
    box.rlimits["fsize"] = limits.disk_mib * MIB
    return box


@functools.cache
def limits_method() -> str:
    """How this machine's grades are limited ("cgroup v1", "cgroup v2", "systemd scope", "rlimits")."""
    from ..config import Limits

    box = make_box(Limits())
    try:
        return box.method
    finally:
        box.close()
