"""Lab 4's pictures: train's cost over the epochs, and its predictions against the lesson's targets."""

from __future__ import annotations

from typing import Any, Callable

from ...figures import Figure, NotDrawable, cost_over_epochs, draw, numbers, series
from . import data as d


def _predictions(answer: Any) -> list[float]:
    weights, bias = numbers(answer[0]), numbers(answer[1])
    if len(weights) != 3 or len(bias) != 1:
        raise NotDrawable("W is not (3, 1) or b is not (1,)")
    return [sum(w * v for w, v in zip(weights, row)) + bias[0] for row in d.LESSON_X]


def figures(yours: Callable[[str], Any], reference: Callable[[str], Any]) -> list[Figure]:
    probe = "train.lesson"

    def costs() -> Figure:
        return cost_over_epochs("train", numbers(yours(probe)[2]), numbers(reference(probe)[2]))

    def predictions() -> Figure:
        targets = numbers(d.LESSON_Y)
        mine, ref = _predictions(yours(probe)), _predictions(reference(probe))
        low, high = min(targets + mine + ref), max(targets + mine + ref)
        return Figure("predictions", "train", (
            series("diagonal", "line", [low, high], [low, high]),
            series("reference", "points", targets, ref),
            series("yours", "points", targets, mine),
        ), facts={"points": len(targets), "gap": round(max(abs(p - t) for p, t in zip(mine, targets)), 4),
                  "ref_gap": round(max(abs(p - t) for p, t in zip(ref, targets)), 4)})

    return draw([costs, predictions])
