"""The HTML report: one self-contained page a student can open, keep and read.

Rendered by jinja2 with autoescaping from `grader/templates/report.html.j2`: inline
CSS, no scripts, no external assets, no timestamps, so reruns give identical bytes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from grader.reporting import _view
from grader.reporting.files import write_atomic
from grader.results import SCHEMA_VERSION, GradeResult, Status

__all__ = ["render_html", "write_html"]

_TEMPLATE = "report.html.j2"


def render_html(result: GradeResult) -> str:
    """The report page for `result`, as text."""
    sections = _view.sections(result)
    in_order = [check for section in sections for check in section.checks]
    failing = [check for check in in_order if check.status is not Status.PASSED]
    return _environment().get_template(_TEMPLATE).render(
        result=result,
        sections=sections,
        percent=_view.percent(result.score, result.max_score),
        passed=len(in_order) - len(failing),
        first_failing=failing[0] if failing else None,
        schema_version=SCHEMA_VERSION,
        issue_labels=_view.ISSUE_LABELS,
    )


def write_html(result: GradeResult, path: Path) -> None:
    """Write the HTML report to `path` atomically; raises `ReportWriteError` on failure."""
    write_atomic(path, render_html(result))


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("grader", "templates"),
        autoescape=True,  # everything in the page may come from a student
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        plain=_view.plain,
        hint=_view.hint,
        last_line=_view.last_line,
        points=_view.points,
        percent=_view.percent,
    )
    return environment
