"""Small helpers every lab's hidden suite uses: markers, lesson numbers, a training run's parts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import torch

from ..compare import CheckFailed, as_number, fmt, printed_tolerance

__all__ = ["T", "check", "printed", "training_result"]


def T(nested: Any) -> torch.Tensor:
    """A float32 tensor, like the ones the probes send."""
    return torch.tensor(nested, dtype=torch.float32)


def check(function: str, points: int, title: str) -> pytest.MarkDecorator:
    """Mark a test as a graded check of `function`, worth `points`."""
    return pytest.mark.check(function=function, points=points, title=title)


def printed(values: list[str]) -> tuple[torch.Tensor, float]:
    """Lesson numbers as printed, and the tolerance their precision implies."""
    return torch.tensor([float(v) for v in values], dtype=torch.float64), max(map(printed_tolerance, values))


def training_result(value: Any, n_costs: int, *, function: str = "train", what: str = "",
                    length_hints: Mapping[int, str] | None = None) -> tuple[Any, Any, list[float]]:
    """(W, b, costs) from what a training function returned; costs as floats, exactly `n_costs` of them.

    `length_hints` names the classic mistake behind a wrong number of costs (one epoch too few...).
    """
    where = f" {what}" if what else ""
    if not isinstance(value, list) or len(value) != 3:
        raise CheckFailed(f"{function}{where} returned {fmt(value)}; expected a tuple (W, b, costs)",
                          expected="(W, b, costs)", obtained=fmt(value))
    w, b, costs = value
    if isinstance(costs, torch.Tensor):
        costs = costs.reshape(-1).tolist()
    if not isinstance(costs, list):
        raise CheckFailed(f"costs is {fmt(costs)}; expected a list of {n_costs} numbers",
                          expected=f"a list of {n_costs} numbers", obtained=fmt(costs))
    if len(costs) != n_costs:
        raise CheckFailed(f"costs has {len(costs)} entries{where}; expected {n_costs}, one per step",
                          expected=f"{n_costs} costs", obtained=f"{len(costs)} costs",
                          hint=(length_hints or {}).get(len(costs), ""))
    return w, b, [as_number(c, what=f"costs[{i}]") for i, c in enumerate(costs)]
