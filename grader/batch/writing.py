"""Every file a batch writes, each atomically: per student as results arrive, per class at the end."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..reporting.classindex import render_class_index
from ..reporting.files import write_atomic
from ..reporting.gradebook import render_gradebook
from ..reporting.gradescope import render_gradescope
from ..reporting.htmlreport import render_html
from ..reporting.junit import render_junit
from ..results import CheckResult
from .records import StudentRecord


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def student_dir(out: Path, student: str) -> Path:
    folder = out / "students" / student
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_student_outputs(out: Path, record: StudentRecord) -> None:
    """The student's report, JSON result and Gradescope file; record.json last, as the resume marker."""
    folder = student_dir(out, record.student)
    if record.result is not None:
        write_atomic(folder / "report.html", render_html(record.result))
        write_atomic(folder / "result.json", _json(record.result.to_dict()))
    write_atomic(folder / "gradescope_results.json", render_gradescope(record))
    write_atomic(folder / "record.json", _json(record.to_dict()))


def write_class_outputs(out: Path, lab: str, checks: Sequence[CheckResult], records: Sequence[StudentRecord]) -> None:
    from ..pipeline import grader_version

    write_atomic(out / "gradebook.csv", render_gradebook(checks, records))
    summary = {
        "lab": lab,
        "grader_version": grader_version(),
        "students": [r.to_dict(timing=False) for r in records],
    }
    write_atomic(out / "results.json", _json(summary))
    write_atomic(out / "junit.xml", render_junit(lab, records))
    write_atomic(out / "timings.json", _json({r.student: round(r.seconds, 3) for r in records}))
    write_atomic(out / "index.html", render_class_index(lab, checks, records))
