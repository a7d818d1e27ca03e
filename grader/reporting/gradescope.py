"""One student's result in Gradescope's autograder format (`results.json` of a Gradescope autograder).

Keys: "score" (the total Gradescope records), "output" (shown above the tests), "tests"
(one per check: name, score, max_score, status, output) and "stdout_visibility". The
scores are the result's own; nothing is recomputed here.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from grader.reporting import _view
from grader.results import CheckResult, GradeResult, Status

if TYPE_CHECKING:  # grader.batch imports the reporters: a run-time import would be circular
    from grader.batch.records import StudentRecord

__all__ = ["render_gradescope"]


def render_gradescope(record: StudentRecord) -> str:
    """The JSON text, indented, keys in a fixed order, ending with a newline."""
    tests = [_test(check) for check in record.result.checks] if record.result else [_problem(record)]
    data: dict[str, Any] = {
        "score": float(record.score),
        "output": _summary(record, record.result),
        "tests": tests,
        "stdout_visibility": "visible",
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _summary(record: StudentRecord, result: GradeResult | None) -> str:
    total = _view.points(record.score, record.max_score)
    if result is None:
        lines = [f"Not graded: {record.verdict}.", *([record.message] if record.message else [])]
        return "\n".join(lines)
    passed = sum(1 for check in result.checks if check.status is Status.PASSED)
    lines = [f"Graded {result.graded_file}: {total} points, {passed} of {len(result.checks)} checks passed."]
    if record.verdict != "ok":
        lines.append(f"While your code ran: {record.verdict}" + (f": {record.message}" if record.message else "."))
    return "\n".join(_view.plain(line) for line in lines)


def _test(check: CheckResult) -> dict[str, Any]:
    return {
        "name": check.title or check.name,
        "score": float(check.score),
        "max_score": float(check.max_score),
        "status": "passed" if check.status is Status.PASSED else "failed",
        "output": _check_output(check),
    }


def _check_output(check: CheckResult) -> str:
    parts = [check.message]
    if check.expected:
        parts.append(f"Expected:\n{check.expected}")
    if check.obtained:
        parts.append(f"Your result:\n{check.obtained}")
    if check.hint:
        parts.append(_view.labelled_hint(check.hint))
    if check.traceback:
        parts.append(f"Traceback:\n{check.traceback}")
    return "\n\n".join(_view.plain(part) for part in parts if part)


def _problem(record: StudentRecord) -> dict[str, Any]:
    """No checks ran: one failed test that says why, worth the whole lab."""
    return {
        "name": "Submission",
        "score": 0.0,
        "max_score": float(record.max_score),
        "status": "failed",
        "output": f"{record.verdict}: {record.message}" if record.message else record.verdict,
    }
