"""The grader's exceptions: one hierarchy, one module.

A `GraderError` means the grader itself could not do its job (bad arguments, a
missing path, an unknown lab). The CLI turns it into one line on stderr and exit
status 2. Everything a submission does wrong is a result, never an exception.
Raised inside a hidden check (`UnknownProbe`, `MistakeTableFailed`), it fails only
that check, as a `grader_error` result; `grade` still exits 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "GraderError",
    "MistakeTableFailed",
    "SubmissionNotFound",
    "UnknownLab",
    "UnreadableSubmission",
    "AmbiguousSubmission",
    "ReportWriteError",
    "SandboxUnavailable",
    "UnknownProbe",
]


class GraderError(Exception):
    """Base class: the grader could not run. `str(error)` is the one-line message."""


@dataclass
class SubmissionNotFound(GraderError):
    path: Path

    def __str__(self) -> str:
        return f"no such file or folder: {self.path}"


@dataclass
class UnknownLab(GraderError):
    name: str
    known: tuple[str, ...]

    def __str__(self) -> str:
        known = ", ".join(self.known) or "none"
        return f"unknown lab {self.name!r} (known labs: {known})"


@dataclass
class UnreadableSubmission(GraderError):
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"cannot read {self.path}: {self.reason}"


@dataclass
class AmbiguousSubmission(GraderError):
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"cannot tell what to grade in {self.path}: {self.reason}"


@dataclass
class ReportWriteError(GraderError):
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"


@dataclass
class SandboxUnavailable(GraderError):
    reason: str

    def __str__(self) -> str:
        return (f"the sandbox cannot start here ({self.reason}); install bubblewrap "
                "(see `grade doctor`) or pass --unsandboxed to grade without it")


@dataclass
class UnknownProbe(GraderError):
    """A hidden check asked for an answer the lab never requested: a bug in the suite."""

    probe_id: str

    def __str__(self) -> str:
        return f"the check asks for probe {self.probe_id!r}, which the lab does not define"


@dataclass
class MistakeTableFailed(GraderError):
    """Computing the classic mistakes a wrong value might match raised: a bug in the lab's tables."""

    error: str

    def __str__(self) -> str:
        return f"the table of classic mistakes raised {self.error}"
