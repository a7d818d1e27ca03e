"""Helpers for writing a lab's probes: inputs in the harness's plain-JSON form, without torch."""

from __future__ import annotations

from typing import Any

__all__ = ["tensor"]


def tensor(nested: Any, requires_grad: bool = False) -> dict[str, Any]:
    """A float32 tensor in the harness's plain-JSON form."""
    shape: list[int] = []
    level = nested
    while isinstance(level, list):
        shape.append(len(level))
        level = level[0] if level else None
    flat: list[float] = []

    def walk(v: Any) -> None:
        if isinstance(v, list):
            for item in v:
                walk(item)
        else:
            flat.append(float(v))

    walk(nested)
    return {"tensor": {"dtype": "float32", "shape": shape, "data": flat, "requires_grad": requires_grad}}
