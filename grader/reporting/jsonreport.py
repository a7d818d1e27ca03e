"""The JSON report: `GradeResult.to_dict()` as a file (format: docs/report-json.md)."""

from __future__ import annotations

import json
from pathlib import Path

from grader.reporting.files import write_atomic
from grader.results import GradeResult

__all__ = ["render_json", "write_json"]


def render_json(result: GradeResult) -> str:
    """The report's text. Keys keep the documented order, so reruns give identical bytes."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_json(result: GradeResult, path: Path) -> None:
    """Write the JSON report to `path` atomically; raises `ReportWriteError` on failure."""
    write_atomic(path, render_json(result))
