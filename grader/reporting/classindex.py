"""The class index: one self-contained page with the whole class at a glance.

Counts, mean and median, the score distribution (inline SVG), the pass rate of each check,
the mistakes diagnosed most often, the submissions that did not run cleanly, the slowest
ones, and a table linking to every student's own report. Rendered by jinja2 with
autoescaping from `grader/templates/class_index.html.j2`; no scripts, no external assets.

Nothing here grades: it only counts and averages what the records say. The slowest
submissions are listed with their durations, so unlike the other class files this page
changes when a batch is rerun without its cached records.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from grader.i18n import Messages
from grader.reporting import _view, charts
from grader.results import CheckResult, Status

if TYPE_CHECKING:  # grader.batch imports the reporters: a run-time import would be circular
    from grader.batch.records import StudentRecord

__all__ = ["render_class_index"]

_TEMPLATE = "class_index.html.j2"
_TOP_MISTAKES = 10
_SLOWEST = 5
# How a verdict is coloured: the student's code misbehaved ("error") or nothing could be graded ("failed").
_VERDICT_TONE = {"ok": "passed", "no gradable file": "failed", "no code": "failed", "unreadable": "failed",
                 "grader error": "failed"}


@dataclass(frozen=True)
class Chart:
    width: int = 640
    height: int = 240
    top: int = 22  # room for the counts above the bars
    bottom: int = 44  # room for the labels under the bars
    side: int = 8

    @property
    def baseline(self) -> int:
        return self.height - self.bottom


_CHART = Chart()


@dataclass(frozen=True)
class Bar:
    """One bar of the score distribution, in SVG user units."""

    label: str
    count: int
    x: float
    y: float
    width: float
    height: float
    full: bool


@dataclass(frozen=True)
class CheckRate:
    check: CheckResult
    passed: int
    failed: int
    errors: int
    graded: int

    def share(self, count: int) -> float:
        """Percentage of graded students, for a bar's width."""
        return round(100 * count / self.graded, 2) if self.graded else 0.0


@dataclass(frozen=True)
class Mistake:
    hint: str
    count: int
    checks: tuple[str, ...]  # titles of the checks that diagnosed it


@dataclass(frozen=True)
class Row:
    record: StudentRecord
    href: str | None  # the student's report (in its safe folder), relative to the index; None without a result
    passed: int
    percent: int  # of the lab's points, for the bar's width
    full: bool
    tone: str


def render_class_index(lab: str, checks: Sequence[CheckResult], records: Sequence[StudentRecord],
                       lang: str = "en") -> str:
    """The class index page for a batch of `lab`, as text, in `lang`."""
    t = Messages(lang)
    scores = [record.score for record in records]
    rows = [_row(record) for record in records]
    return _environment().get_template(_TEMPLATE).render(
        lab=lab,
        rows=rows,
        max_score=_lab_max(checks, records),
        ok=sum(1 for record in records if record.verdict == "ok"),
        not_ok=sum(1 for record in records if record.verdict != "ok"),
        graded=sum(1 for record in records if record.result is not None),
        mean=statistics.fmean(scores) if scores else None,
        median=statistics.median(scores) if scores else None,
        chart=_CHART,
        bars=_distribution(records),
        rates=[_rate(check, records) for check in checks],
        mistakes=_mistakes(records),
        problems=[row for row in rows if row.record.verdict != "ok"],
        slowest=sorted(rows, key=lambda row: (-row.record.seconds, row.record.student))[:_SLOWEST],
        times=_times(records, t),
        t=t,
        lang=lang,
        verdict=t.verdict,
    )


def _times(records: Sequence[StudentRecord], t: Messages) -> Markup:
    """How long grading took per submission: students per band of seconds."""
    seconds = [record.seconds for record in records]
    if not seconds:
        return Markup("")
    step = max(1, math.ceil(max(seconds) / 8))
    step = next((s for s in (1, 2, 5, 10, 15, 20, 30, 60, 120, 300) if s >= step), step)
    bands = [0] * (int(max(seconds) // step) + 1)
    for value in seconds:
        bands[int(value // step)] += 1
    values = [(t("class.time_band", low=i * step, high=(i + 1) * step), float(count)) for i, count in enumerate(bands)]
    description = t("class.time_alt", count=len(seconds), median=f"{statistics.median(seconds):.1f}",
                    longest=f"{max(seconds):.1f}")
    return charts.bars(values, t("class.time_title"), description, t("class.students"), "times")


def _distribution(records: Sequence[StudentRecord]) -> list[Bar]:
    """Eleven bars: 0-9 % of the lab's points, 10-19 %, ..., 90-99 %, and full marks on its own."""
    counts = [0] * 11
    for record in records:
        share = 100 * record.score / record.max_score if record.max_score > 0 else 0.0
        counts[10 if share >= 100 else min(9, max(0, math.floor(share / 10)))] += 1
    labels = [f"{10 * i}–{10 * i + 9}%" for i in range(10)] + ["100%"]
    slot = (_CHART.width - 2 * _CHART.side) / len(counts)
    tallest = max(counts) or 1
    bars = []
    for i, (label, count) in enumerate(zip(labels, counts)):
        height = round((_CHART.baseline - _CHART.top) * count / tallest, 2)
        bars.append(Bar(label, count, round(_CHART.side + i * slot + slot * 0.14, 2), round(_CHART.baseline - height, 2),
                        round(slot * 0.72, 2), height, full=i == 10))
    return bars


def _rate(check: CheckResult, records: Sequence[StudentRecord]) -> CheckRate:
    statuses = Counter(
        found.status
        for record in records if record.result is not None
        for found in record.result.checks if found.name == check.name
    )
    graded = sum(1 for record in records if record.result is not None)
    return CheckRate(check, statuses[Status.PASSED], statuses[Status.FAILED], statuses[Status.ERROR], graded)


def _mistakes(records: Sequence[StudentRecord]) -> list[Mistake]:
    """The hints of failed checks with how many students got each (several checks of one student
    naming the same mistake count once), most frequent first (ties alphabetically, for stable output)."""
    counts: Counter[str] = Counter()
    where: dict[str, dict[str, None]] = {}
    for record in records:
        named: set[str] = set()
        for check in record.result.checks if record.result else ():
            if check.status is Status.FAILED and check.hint.strip():
                text = _view.hint(check.hint).strip()
                named.add(text)
                where.setdefault(text, {})[check.title or check.name] = None
        counts.update(named)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:_TOP_MISTAKES]
    return [Mistake(text, count, tuple(where[text])) for text, count in ranked]


def _row(record: StudentRecord) -> Row:
    result = record.result
    return Row(
        record=record,
        href=f"students/{quote(record.folder, safe='')}/report.html" if result is not None and record.folder else None,
        passed=sum(1 for check in result.checks if check.status is Status.PASSED) if result else 0,
        percent=_view.percent(record.score, record.max_score),
        full=record.max_score > 0 and record.score >= record.max_score,
        tone=_VERDICT_TONE.get(record.verdict, "error"),
    )


def _lab_max(checks: Sequence[CheckResult], records: Sequence[StudentRecord]) -> float:
    if checks:
        return float(round(sum(check.max_score for check in checks), 6))
    return max((record.max_score for record in records), default=0.0)


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("grader", "templates"),
        autoescape=True,  # student ids, messages and hints all come from students' submissions
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(number=_view.number, points=_view.points, plain=_view.plain)
    return environment
