"""The HTML report: one self-contained page a student can open, keep and read.

Rendered by jinja2 with autoescaping from `grader/templates/report.html.j2`: inline
CSS, no scripts, no external assets, no timestamps, so reruns give identical bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from grader.i18n import Messages

from grader.reporting import _view, charts
from grader.reporting.files import write_atomic
from grader.results import SCHEMA_VERSION, GradeResult, Status
from grader.sources import failing_line

__all__ = ["render_html", "write_html"]

_TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class Picture:
    svg: Markup
    title: str
    alt: str


def pictures(result: GradeResult, t: Messages) -> dict[str, list[Picture]]:
    """The result's figures as SVG with their words, by the function they illustrate."""
    legend = {role: t(f"figure.legend.{role}") for role in ("yours", "reference", "data", "diagonal")}
    drawn: dict[str, list[Picture]] = {}
    for i, figure in enumerate(result.figures):
        words = f"figure.{figure.kind}"
        if not t.has(f"{words}.title"):
            continue  # a kind this grader has no words for (a newer record): left out
        facts = {k: charts.quantity(v) for k, v in figure.facts.items()}
        title, alt = t(f"{words}.title"), t(f"{words}.alt", **facts).replace("+ \N{MINUS SIGN}", "\N{MINUS SIGN} ")  # y = 2·x − 0.2
        svg = charts.chart(figure, title, alt, t(f"{words}.x"), t(f"{words}.y"), legend, f"figure-{i + 1}")
        drawn.setdefault(figure.function, []).append(Picture(svg, title, alt))
    return drawn


def render_html(result: GradeResult, lang: str = "en") -> str:
    """The report page for `result`, as text, in `lang`."""
    t = Messages(lang)
    sections = _view.sections(result)
    in_order = [check for section in sections for check in section.checks]
    failing = [check for check in in_order if check.status is not Status.PASSED]
    shared, shared_count = _view.shared_grader_error(result.checks)
    return _environment().get_template(_TEMPLATE).render(
        result=result,
        sections=sections,
        percent=_view.percent(result.score, result.max_score),
        passed=len(in_order) - len(failing),
        # Where to start: the first check lost through the student's code (a grader error is not theirs).
        first_failing=next((c for c in failing if c.status is not Status.GRADER_ERROR), None),
        schema_version=SCHEMA_VERSION,
        t=t,
        lang=lang,
        pictures=pictures(result, t),
        sources=source_views(result, t),
        shared_failure=shared,
        shared_count=shared_count,
        again={name: kind for section in sections for name, kind in _view.repeated(section.checks).items()},
        same_hint_key=_view.same_hint_key,
        nothing_loaded=_view.nothing_loaded(result),
    )


@dataclass(frozen=True)
class SourceView:
    lines: list[tuple[int, str, bool]]  # (line number, text, whether a traceback failed there)
    failing: bool
    where: str  # the cell it is in ("" in a .py file)
    replaced: str  # what the report says of the other definitions it replaced ("" if none)


def source_views(result: GradeResult, t: Messages) -> dict[str, SourceView]:
    """Each failing function's source as the student wrote it, the line that raised marked."""
    views = {}
    for source in result.sources:
        marked = {line for check in result.checks_for(source.name) if check.traceback
                  for line in [failing_line(check.traceback, source)] if line is not None}
        views[source.name] = SourceView([(n, text, n in marked) for n, text in source.lines()], bool(marked),
                                        t.detail(source.where), _view.replaced_note(source, t))
    return views


def write_html(result: GradeResult, path: Path, lang: str = "en") -> None:
    """Write the HTML report to `path` atomically; raises `ReportWriteError` on failure."""
    write_atomic(path, render_html(result, lang))


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
        last_line=_view.last_line,
        points=_view.points,
        percent=_view.percent,
    )
    return environment
