"""Result records: what grading a submission produced, and their versioned JSON form.

Records are immutable and hold plain data only. Reporters read them; they never
compute scores. `GradeResult.to_dict()` is the documented JSON form
(docs/report-json.md), deterministic for a given submission and grader version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .edition import Hidden
from .figures import Figure
from .sources import FunctionSource

SCHEMA_VERSION = 1


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the function ran and returned something wrong
    ERROR = "error"  # the function is missing, raised, timed out or crashed
    GRADER_ERROR = "grader_error"  # the grader's own code failed (suite, reference, mistake tables): not graded


class IssueKind(StrEnum):
    CELL_ERROR = "cell_error"  # a notebook cell raised; later cells still ran
    CELL_TIMEOUT = "cell_timeout"  # a notebook cell ran too long and was skipped
    LOAD_ERROR = "load_error"  # a .py file raised while its top level ran
    LOAD_TIMEOUT = "load_timeout"  # a .py file's top level ran too long
    DIED = "died"  # the student's process or kernel ended unexpectedly
    MEMORY_LIMIT = "memory_limit"  # the submission used more memory than allowed; the run was stopped
    STOPPED = "stopped"  # the grader ended the run (a silent harness, files where they must not be)


@dataclass(frozen=True)
class RunIssue:
    """Something that went wrong while the student's code ran, outside any check."""

    kind: IssueKind
    where: str  # "cell 3", "lab2.py"
    message: str
    traceback: str = ""
    source: str = ""  # the failing cell's source, for notebooks

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "where": self.where,
            "message": self.message,
            "traceback": self.traceback,
            "source": self.source,
        }


@dataclass(frozen=True)
class CheckResult:
    """One hidden check: what it grades, how it went, and what the student can learn."""

    name: str  # stable id, e.g. "mse_cost.lesson_values"
    function: str  # the stub it grades
    title: str  # one line a student understands
    status: Status
    score: float
    max_score: float
    message: str  # one line: why it passed or failed
    expected: str = ""
    obtained: str = ""
    hint: str = ""  # the classic mistake it looks like, with the fix
    traceback: str = ""  # for errors raised inside the student's function
    output: str = ""  # what the student's function printed during the check

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "function": self.function,
            "title": self.title,
            "status": str(self.status),
            "score": self.score,
            "max_score": self.max_score,
            "message": self.message,
            "expected": self.expected,
            "obtained": self.obtained,
            "hint": self.hint,
            "traceback": self.traceback,
            "output": self.output,
        }


@dataclass(frozen=True)
class GradeResult:
    lab: str
    graded_file: str  # file name of the graded submission
    submission_format: str  # "py" or "ipynb"
    sha256: str  # of the graded file's bytes
    selection: str  # why this file was graded
    checks: tuple[CheckResult, ...]
    issues: tuple[RunIssue, ...] = ()
    stderr: str = ""  # warnings and stderr of the student's code: shown, never scored
    grader_version: str = ""
    functions: tuple[str, ...] = field(default=())
    isolation: str = ""  # how the student's process was walled off (see docs/design.md)
    figures: tuple[Figure, ...] = ()  # pictures of the student's training, drawn on the grader's side
    sources: tuple[FunctionSource, ...] = ()  # the student's source of each function that lost points
    hidden: Hidden = Hidden()  # checks a student kit left out (none in the instructor's grader)

    @property
    def score(self) -> float:
        return float(round(sum(c.score for c in self.checks), 6))

    @property
    def max_score(self) -> float:
        return float(round(sum(c.max_score for c in self.checks), 6))

    @property
    def full_marks(self) -> bool:
        return self.score == self.max_score

    @property
    def grader_errors(self) -> tuple[CheckResult, ...]:
        """Checks the grader itself failed to grade: a bug to fix, not the student's doing."""
        return tuple(c for c in self.checks if c.status is Status.GRADER_ERROR)

    def checks_for(self, function: str) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.function == function)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeResult:
        """The inverse of `to_dict`, for results read back from disk (batches resume and merge)."""
        sub = data["submission"]
        return cls(
            lab=data["lab"],
            graded_file=sub["file"],
            submission_format=sub["format"],
            sha256=sub["sha256"],
            selection=sub["selection"],
            checks=tuple(CheckResult(**{**c, "status": Status(c["status"])}) for c in data["checks"]),
            issues=tuple(RunIssue(**{**i, "kind": IssueKind(i["kind"])}) for i in data["issues"]),
            stderr=data.get("stderr", ""),
            grader_version=data.get("grader_version", ""),
            functions=tuple(f["name"] for f in data.get("functions", [])),
            isolation=data.get("isolation", ""),
            figures=tuple(Figure.from_dict(f) for f in data.get("figures", [])),
            sources=tuple(FunctionSource.from_dict(f) for f in data.get("sources", [])),
            hidden=Hidden(**data["hidden"]) if "hidden" in data else Hidden(),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "grader_version": self.grader_version,
            "lab": self.lab,
            "score": self.score,
            "max_score": self.max_score,
            "submission": {
                "file": self.graded_file,
                "format": self.submission_format,
                "sha256": self.sha256,
                "selection": self.selection,
            },
            "functions": [
                {
                    "name": name,
                    "score": float(round(sum(c.score for c in self.checks_for(name)), 6)),
                    "max_score": float(round(sum(c.max_score for c in self.checks_for(name)), 6)),
                }
                for name in self.functions
            ],
            "checks": [c.to_dict() for c in self.checks],
            "issues": [i.to_dict() for i in self.issues],
            "stderr": self.stderr,
            "isolation": self.isolation,
            "figures": [f.to_dict() for f in self.figures],
            "sources": [f.to_dict() for f in self.sources],
            # Only a student kit's reports have it: the instructor's stay as they were.
            **({"hidden": {"checks": self.hidden.checks, "points": self.hidden.points}} if self.hidden.checks else {}),
        }
