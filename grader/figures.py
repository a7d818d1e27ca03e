"""Pictures of the student's own training, as plain data drawn on the grader's side.

A lab's `figures` module turns what came back from the student's functions (and what the
reference solution gives on the same inputs, computed here) into `Figure`s: a kind, the
function it illustrates, and a few series of numbers. Nothing is drawn from the student's
process; the reports render the SVG (grader.reporting.charts) and the words (grader.i18n).
A figure whose numbers did not come back (the function raised, returned the wrong shape,
NaN, values too large to plot) is simply left out: the checks already say what went wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

MAX_POINTS = 300  # per series: enough for a smooth curve, small enough for a light page
# The largest value a picture shows: past it, the axes' arithmetic (a range, a power of ten for
# the ticks) leaves the floats. The checks already say such a value is wrong.
MAX_VALUE = 1e100


@dataclass(frozen=True)
class Series:
    role: str  # "yours", "reference", "data", "diagonal": decides colour, marker and legend
    style: str  # "line" or "points"
    x: tuple[float, ...]
    y: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "style": self.style, "x": [float(v) for v in self.x], "y": [float(v) for v in self.y]}


@dataclass(frozen=True)
class Figure:
    kind: str  # "cost_over_epochs", "fitted_line", "cost_over_w", "predictions": names its words
    function: str  # the graded function it illustrates
    series: tuple[Series, ...]
    log_y: bool = False
    facts: dict[str, float] = field(default_factory=dict)  # numbers its text alternative quotes

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "function": self.function, "log_y": self.log_y,
                "facts": {k: float(v) for k, v in self.facts.items()},  # 200 and 200.0 alike: reruns match
                "series": [s.to_dict() for s in self.series]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Figure:
        return cls(kind=data["kind"], function=data["function"], log_y=bool(data["log_y"]),
                   facts={k: float(v) for k, v in data["facts"].items()},
                   series=tuple(Series(s["role"], s["style"], tuple(map(float, s["x"])), tuple(map(float, s["y"])))
                                for s in data["series"]))


class NotDrawable(Exception):
    """The numbers for a figure did not come back in a usable form."""


def numbers(value: Any) -> list[float]:
    """A flat list of finite floats from a tensor, a number or a (nested) list of them."""
    if hasattr(value, "detach"):
        value = value.detach().reshape(-1).tolist()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise NotDrawable(type(value).__name__)
    flat: list[float] = []
    for item in value:
        flat += numbers(item) if isinstance(item, (list, tuple)) or hasattr(item, "detach") else [_finite(item)]
    return flat


def number(value: Any) -> float:
    found = numbers(value)
    if len(found) != 1:
        raise NotDrawable(f"{len(found)} numbers where one was expected")
    return found[0]


def _finite(item: Any) -> float:
    if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
        raise NotDrawable(repr(item)[:40])
    return float(item)


def thin(xs: Sequence[float], ys: Sequence[float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """At most MAX_POINTS evenly spread points, first and last kept; values rounded for the page."""
    if len(xs) != len(ys) or not xs:
        raise NotDrawable("no points")
    for value in (*xs, *ys):
        if not _plottable(value):
            raise NotDrawable(f"{value!r} is past what a picture shows")
    if len(xs) > MAX_POINTS:
        step = (len(xs) - 1) / (MAX_POINTS - 1)
        keep = sorted({round(i * step) for i in range(MAX_POINTS)})
        xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
    return tuple(_round(v) for v in xs), tuple(_round(v) for v in ys)


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def series(role: str, style: str, xs: Sequence[float], ys: Sequence[float]) -> Series:
    x, y = thin(xs, ys)
    return Series(role, style, x, y)


def cost_over_epochs(function: str, yours: Sequence[float], reference: Sequence[float]) -> Figure:
    """The cost at every epoch, the student's against the reference's, on a log scale."""
    if not yours or min(yours) <= 0 or min(reference) <= 0:
        raise NotDrawable("a cost of zero or below has no place on a log scale")
    return Figure("cost_over_epochs", function, (
        series("reference", "line", range(len(reference)), reference),
        series("yours", "line", range(len(yours)), yours),
    ), log_y=True, facts={"epochs": len(yours) - 1, "first": _round(yours[0]), "last": _round(yours[-1]),
                          "ref_first": _round(reference[0]), "ref_last": _round(reference[-1])})


def fitted_line(function: str, x: Sequence[float], y: Sequence[float], yours: tuple[float, float],
                reference: tuple[float, float]) -> Figure:
    """The data with the student's fitted line y = Wx + b and the reference's."""
    ends = [min(x), max(x)]
    return Figure("fitted_line", function, (
        series("data", "points", x, y),
        series("reference", "line", ends, [reference[0] * e + reference[1] for e in ends]),
        series("yours", "line", ends, [yours[0] * e + yours[1] for e in ends]),
    ), facts={"points": len(x), "w": _round(yours[0]), "b": _round(yours[1]),
              "ref_w": _round(reference[0]), "ref_b": _round(reference[1])})


def draw(builders: Iterable[Callable[[], Figure]]) -> list[Figure]:
    """Every figure whose numbers came back; the others are left out."""
    drawn = []
    for build in builders:
        try:
            figure = build()
        except Exception:  # whatever the student's answers were, a missing picture is the only cost
            continue
        if all(_plottable(v) for v in figure.facts.values()):
            drawn.append(figure)
    return drawn


def _plottable(value: float) -> bool:
    return math.isfinite(value) and abs(value) <= MAX_VALUE
