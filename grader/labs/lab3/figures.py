"""Lab 3's picture: the cost over W (lesson 003's curve) with the student's descent steps on it."""

from __future__ import annotations

from typing import Any, Callable

from ...figures import Figure, NotDrawable, draw, numbers, series
from . import data as d


def figures(yours: Callable[[str], Any], reference: Callable[[str], Any]) -> list[Figure]:
    def curve() -> Figure:
        ws = d.linspace(d.CURVE_START, d.CURVE_END, d.CURVE_POINTS)
        ref_costs = numbers(reference("cost_curve.lesson"))
        history = yours("train.lesson")[1]
        steps = [numbers(pair) for pair in history]
        if not steps or any(len(step) != 2 for step in steps):
            raise NotDrawable("train's history is not a list of (W, cost) pairs")
        step_w, step_cost = [s[0] for s in steps], [s[1] for s in steps]
        ref_steps = [numbers(pair) for pair in reference("train.lesson")[1]]
        # Only the part of the curve the steps visit (with a margin), so the steps stay readable.
        low, high = min(step_w + [r[0] for r in ref_steps]), max(step_w + [r[0] for r in ref_steps])
        margin = max(0.5, (high - low) * 0.25)
        keep = [i for i, w in enumerate(ws) if low - margin <= w <= high + margin]
        if len(keep) < 2:
            raise NotDrawable("the steps leave the lesson's curve")
        return Figure("cost_over_w", "train", (
            series("reference", "line", [ws[i] for i in keep], [ref_costs[i] for i in keep]),
            series("yours", "steps", step_w, step_cost),
        ), facts={"steps": len(steps), "first_w": round(step_w[0], 4), "last_w": round(step_w[-1], 4),
                  "ref_last_w": round(ref_steps[-1][0], 4)})

    return draw([curve])
