"""One student's result in Gradescope's autograder format (`results.json` of a Gradescope autograder).

Keys: "score" (the total Gradescope records), "output" (shown above the tests), "tests"
(one per check: name, score, max_score, status, output) and "stdout_visibility". The
scores are the result's own; nothing is recomputed here.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from grader.i18n import Messages
from grader.reporting import _view
from grader.results import CheckResult, GradeResult, Status

if TYPE_CHECKING:  # grader.batch imports the reporters: a run-time import would be circular
    from grader.batch.records import StudentRecord

__all__ = ["render_gradescope"]


def render_gradescope(record: StudentRecord, lang: str = "en") -> str:
    """The JSON text, indented, keys in a fixed order, ending with a newline; its words in `lang`."""
    t = Messages(lang)
    tests = [_test(check, t) for check in record.result.checks] if record.result else [_problem(record, t)]
    data: dict[str, Any] = {
        "score": float(record.score),
        "output": _summary(record, record.result, t),
        "tests": tests,
        "stdout_visibility": "visible",
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _summary(record: StudentRecord, result: GradeResult | None, t: Messages) -> str:
    total = _view.points(record.score, record.max_score)
    verdict = t.verdict(record.verdict)
    if result is None:
        lines = [t("gradescope.not_graded", verdict=verdict), *([t.detail(record.message)] if record.message else [])]
        return "\n".join(lines)
    passed = sum(1 for check in result.checks if check.status is Status.PASSED)
    lines = [t("gradescope.graded", file=result.graded_file, total=total, passed=passed, count=len(result.checks))]
    if record.verdict != "ok":
        lines.append(t("gradescope.while_ran", verdict=verdict)
                     + (f": {t.detail(record.message)}" if record.message else "."))
    return "\n".join(_view.plain(line) for line in lines)


def _test(check: CheckResult, t: Messages) -> dict[str, Any]:
    return {
        "name": t.title(check.title) if check.title else check.name,
        "score": float(check.score),
        "max_score": float(check.max_score),
        "status": "passed" if check.status is Status.PASSED else "failed",
        "output": _check_output(check, t),
    }


def _check_output(check: CheckResult, t: Messages) -> str:
    parts = [t.detail(check.message)]
    if check.expected:
        parts.append(f"{t('gradescope.expected')}\n{t.detail(check.expected)}")
    if check.obtained:
        parts.append(f"{t('gradescope.obtained')}\n{t.detail(check.obtained)}")
    if check.hint:
        parts.append(_view.labelled_hint(check.hint, t))
    if check.traceback:
        parts.append(f"{t('gradescope.traceback')}\n{check.traceback}")
    return "\n\n".join(_view.plain(part) for part in parts if part)


def _problem(record: StudentRecord, t: Messages) -> dict[str, Any]:
    """No checks ran: one failed test that says why, worth the whole lab."""
    verdict = t.verdict(record.verdict)
    return {
        "name": t("gradescope.submission"),
        "score": 0.0,
        "max_score": float(record.max_score),
        "status": "failed",
        "output": f"{verdict}: {t.detail(record.message)}" if record.message else verdict,
    }
