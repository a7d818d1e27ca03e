"""The class gradebook: one CSV row per student, one column per check, for spreadsheets and LMS imports.

Plain on purpose: a header row, then one row per student, nothing else (no verdicts, no
totals row, no comments), so an LMS import maps columns without help. Verdicts live in
results.json, junit.xml and index.html. The last column says how the submission was
isolated (empty when nothing of it ran).

Text cells come from file names, i.e. from students: one a spreadsheet would read as a
formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`,
OWASP's rule against CSV injection, and line breaks in them become spaces. Number cells are
written by the grader and left alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from grader.results import CheckResult

if TYPE_CHECKING:  # grader.batch imports the reporters: a run-time import would be circular
    from grader.batch.records import StudentRecord

__all__ = ["render_gradebook"]


def render_gradebook(checks: Sequence[CheckResult], records: Sequence[StudentRecord]) -> str:
    """The CSV text: `student,score,max_score,<check names in `checks` order>,isolation`, rows in `records` order.

    A check's cell is the points the student earned on it: 0 when the student has no
    result or their result lacks the check.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ("student", "score", "max_score", *(check.name for check in checks), "isolation")
    writer.writerow([_text(name) for name in header])
    for record in records:
        earned = {check.name: check.score for check in record.result.checks} if record.result else {}
        writer.writerow([
            _text(record.student),
            _number(record.score),
            _number(record.max_score),
            *(_number(earned.get(check.name, 0.0)) for check in checks),
            _text(record.isolation),
        ])
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """A text cell no spreadsheet runs as a formula (OWASP, "CSV Injection"), on one line.

    Line breaks become spaces after the quote is added: the csv module leaves a field with a
    lone carriage return unquoted, and a reader would start a new row there.
    """
    escaped = "'" + value if value.startswith(_FORMULA_START) else value
    return escaped.replace("\r", " ").replace("\n", " ")


def _number(value: float) -> str:
    """2, 1.5, 0.333333: no trailing ".0", and the precision results are kept at (6 places).

    Not `_view.number`, which rounds to 2 places for reading: a gradebook's cells must add
    up to its total.
    """
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
