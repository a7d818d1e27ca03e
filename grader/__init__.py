"""grader: grades PyTorch exercises against hidden checks, with reports that teach.

    from grader import grade
    result = grade(Path("exercises/lab2"))
    print(result.score, "/", result.max_score)
"""

from .config import Limits
from .errors import GraderError
from .pipeline import grade
from .results import CheckResult, GradeResult, RunIssue, Status

__all__ = ["CheckResult", "GradeResult", "GraderError", "Limits", "RunIssue", "Status", "grade"]
