"""grader: grades PyTorch exercises against hidden checks, with reports that teach.

    from grader import grade
    result = grade(Path("exercises/lab2"))
    print(result.score, "/", result.max_score)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Limits
from .errors import GraderError
from .results import CheckResult, GradeResult, RunIssue, Status

if TYPE_CHECKING:
    from .pipeline import grade

__all__ = ["CheckResult", "GradeResult", "GraderError", "Limits", "RunIssue", "Status", "grade"]


def __getattr__(name: str) -> Any:
    """`grade` is imported on first use: the pipeline (nbformat, the runner) costs a `grade batch`
    that only re-reads its records about a third of its time."""
    if name == "grade":
        from .pipeline import grade

        return grade
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
