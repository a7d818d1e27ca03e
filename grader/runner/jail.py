"""One launcher for every student process: sandbox, limits, environment, and a handle to end it.

Both runners (the `.py` harness and the notebook kernel) start the student's process
through `Jail.argv`, so the wall and the limits are written once. The command line is

    [systemd-run ... --] sh -c ENTER sh CGROUP_PROCS... -- [bwrap ... --] COMMAND

where the small shell script puts itself into the submission's cgroups and sets the
rlimits before it execs the sandbox, so nothing the student runs starts outside them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import MIB, Limits, Sandboxing
from ..errors import SandboxUnavailable
from .cgroups import Box, make_box
from .protocol import HARNESS, KERNEL, LAZY_DYNAMO
from .sandbox import GRADER_DIR, WORKDIR, Mounts, bubblewrap_problem, bwrap_argv, write_identity

if TYPE_CHECKING:
    from .warm import Zygote

# $1: a file of NUL-separated bubblewrap options, handed over as fd 3 (`bwrap --args 3`) so that
# the sandbox's first process does not show the grader's host paths on its command line; then
# the cgroup.procs files to join, "--" and the command.
_ENTER = (
    'a=$1; shift; for f do shift; [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; done; '
    'ulimit -n "$GRADER_NOFILE" && ulimit -f "$GRADER_FSIZE" || exit 125; '
    '[ -z "$GRADER_AS" ] || ulimit -v "$GRADER_AS" || exit 125; '
    'unset GRADER_NOFILE GRADER_FSIZE GRADER_AS; '
    'if [ -n "$a" ]; then exec "$@" 3< "$a"; else exec "$@"; fi'
)


class SandboxWarning(UserWarning):
    """Bubblewrap is not available here: student code runs as a plain process."""


@dataclass
class Jail:
    """The folders, limits and processes of one submission's run."""

    root: Path  # host folder of this run (removed by the caller)
    limits: Limits
    sandboxed: bool
    box: Box
    mounts: Mounts
    warm: Zygote | None = None  # runs are forked from this warm zygote (grader/runner/warm.py)
    _launches: int = 0

    @property
    def isolation(self) -> str:
        """How the submission was isolated, for reports and gradebooks."""
        wall = "bubblewrap" if self.sandboxed else "process"
        return f"{wall}; limits: {self.box.method}"

    @property
    def io(self) -> Path:
        return self.root / "io"

    @property
    def workdir(self) -> Path:
        return WORKDIR if self.sandboxed else self.root / "work"

    def inside(self, host: Path) -> Path:
        """Where the student's process sees a host path handed to it."""
        if not self.sandboxed:
            return host
        if self.warm is not None and host != HARNESS and self.root in host.parents:
            return host  # the run's folder is seen at the same path
        for source, target in self.mounts.read_only + self.mounts.writable:
            if host == source:
                return target
            if source in host.parents:
                return target / host.relative_to(source)
        raise ValueError(f"{host} is not visible inside the sandbox")

    def hand_in(self, host: Path, name: str, writable: bool = False) -> Path:
        """Make a host file visible to the student's process under the grader folder."""
        pairs = self.mounts.writable if writable else self.mounts.read_only
        inside = GRADER_DIR / name if self.sandboxed and (self.warm is None or host == HARNESS) else host
        pairs.append((host, inside))
        return self.inside(host)

    def share(self, host: Path) -> Path:
        """A host folder the student's process sees at the same path (a kernel's sockets)."""
        self.mounts.writable.append((host, host))
        return host

    def env(self) -> dict[str, str]:
        """A small, explicit environment: nothing of the grader's leaks in by accident."""
        env = student_env(str(self.workdir), "/tmp" if self.sandboxed else str(self.root / "tmp"))
        if self.warm is not None:  # the forked run sets its own rlimits
            return env
        return {
            **env,
            "GRADER_NOFILE": str(self.limits.open_files),
            "GRADER_FSIZE": str(self.limits.disk_mib * MIB // 512),
            "GRADER_AS": str(self.box.rlimits["as"] // 1024) if "as" in self.box.rlimits else "",
        }

    def argv(self, command: list[str]) -> list[str]:
        procs = [*map(str, self.box.procs_files), "--"]
        if not self.sandboxed:
            return [*self.box.argv_prefix, "/bin/sh", "-c", _ENTER, "sh", "", *procs, *command]
        mounts = write_identity(self.root)
        mounts.read_only += self.mounts.read_only
        mounts.writable += self.mounts.writable
        bwrap, *options = bwrap_argv(mounts, self.limits.disk_mib * MIB)
        self._launches += 1
        args = self.root / f"bwrap-args-{self._launches}"
        args.write_bytes(b"".join(o.encode() + b"\0" for o in options))
        return [*self.box.argv_prefix, "/bin/sh", "-c", _ENTER, "sh", str(args), *procs, bwrap, "--args", "3", "--", *command]

    def kill_all(self) -> None:
        self.box.kill_all()

    def close(self) -> None:
        self.box.close()


def student_env(home: str, tmpdir: str) -> dict[str, str]:
    """A small, explicit environment for student processes: nothing of the grader's leaks in by accident."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "USER": "student",
        "LOGNAME": "student",
        "TMPDIR": tmpdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        # One thread each: batches run several submissions side by side, and
        # forked probes must not inherit a busy OpenMP pool.
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    if "VIRTUAL_ENV" in os.environ:
        env["VIRTUAL_ENV"] = os.environ["VIRTUAL_ENV"]
    return env


def open_jail(root: Path, limits: Limits, warm: Zygote | None = None) -> Jail:
    """Set up a run's folders and limits; the sandbox if it works here (or refuse, if required)."""
    sandboxed = False
    if limits.sandboxing != Sandboxing.OFF:
        problem = bubblewrap_problem()
        if problem is None:
            sandboxed = True
        elif limits.sandboxing == Sandboxing.REQUIRE:
            raise SandboxUnavailable(problem)
        else:
            warnings.warn(f"{problem}; student code runs unsandboxed (only a plain process of its own)",
                          SandboxWarning, stacklevel=2)
    for name in ("io", "work", "tmp"):
        (root / name).mkdir()
    jail = Jail(root=root, limits=limits, sandboxed=sandboxed, box=make_box(limits), mounts=Mounts())
    if warm is not None and sandboxed and jail.box.method != "systemd scope":
        jail.warm = warm  # a systemd scope can only hold a process systemd starts: those runs start cold
    jail.hand_in(HARNESS, "harness.py")
    if jail.warm is None:  # (a warm run's zygote has its own, already loaded)
        jail.hand_in(LAZY_DYNAMO, "lazy_dynamo.py")
        jail.hand_in(KERNEL, "kernel.py")
    return jail


def end_jail(jail: Jail) -> None:
    with contextlib.suppress(OSError):
        jail.close()
