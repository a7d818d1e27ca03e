"""Configuration as frozen dataclasses, built once by the CLI and passed explicitly."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

MIB = 1024 * 1024


class Sandboxing(StrEnum):
    """How the student's process is walled off (docs/design.md, "The sandbox")."""

    REQUIRE = "require"  # bubblewrap or refuse to run (grade batch)
    PREFER = "prefer"  # bubblewrap where it works, else plain processes with a warning (grade)
    OFF = "off"  # plain processes (grade batch --unsandboxed)


@dataclass(frozen=True)
class Limits:
    """What one submission may use.

    `call` bounds one call of one student function (a probe); `cell` bounds one
    notebook cell; `load` bounds running a .py submission's top level. Memory,
    processes (threads count too), disk and open files hold for the submission's
    whole process tree.
    """

    call: float = 20.0
    cell: float = 60.0
    load: float = 60.0
    startup: float = 60.0
    #: Characters of stdout/stderr kept per cell, per call and per run.
    output_chars: int = 20_000
    memory_mib: int = 2048
    processes: int = 64
    disk_mib: int = 256
    open_files: int = 256
    sandboxing: Sandboxing = Sandboxing.PREFER

    def key(self) -> str:
        """What changes grading, in one stable string (for caches and shard checks)."""
        return (f"call={self.call:g},cell={self.cell:g},load={self.load:g},memory={self.memory_mib},"
                f"processes={self.processes},disk={self.disk_mib},files={self.open_files},"
                f"startup={self.startup:g},output={self.output_chars},sandboxing={self.sandboxing}")


def cache_folder() -> Path | None:
    """The grader's folder in the user's cache (XDG), or None where there is no absolute one to use."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, or relative (which the XDG spec says to ignore)
        base = os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):  # no home folder to be found
        return None
    return Path(base) / "grader"


def grader_version() -> str:
    """The installed grader's version, as reports and results.json record it."""
    from importlib import metadata

    try:
        return metadata.version("grader")
    except metadata.PackageNotFoundError:
        return "0+unknown"
