"""Lab 2's pictures: train's cost over the epochs and its line through lesson 000's data."""

from __future__ import annotations

from typing import Any, Callable

from ...figures import Figure, cost_over_epochs, draw, fitted_line, number, numbers
from . import data as d


def figures(yours: Callable[[str], Any], reference: Callable[[str], Any]) -> list[Figure]:
    probe = "train.lesson000"

    def costs() -> Figure:
        return cost_over_epochs("train", numbers(yours(probe)[2]), numbers(reference(probe)[2]))

    def line() -> Figure:
        mine, ref = yours(probe), reference(probe)
        return fitted_line("train", numbers(d.L000_X), numbers(d.L000_Y), (number(mine[0]), number(mine[1])),
                           (number(ref[0]), number(ref[1])))

    return draw([costs, line])
