"""Turn the harness's plain JSON into values the checks can compare, validating as we go.

This runs on the trusted side. Nothing here trusts the shape of the data: a tensor
record must have a known dtype, a shape of small non-negative ints and exactly as
many numbers as the shape says; anything else becomes `Unsupported`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

_DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
_SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
# The most elements a tensor may have, and the most rows: a tensor with no elements but millions
# of rows passes any cap on elements, and is millions of nested lists when shown (as the harness's
# MAX_ITEMS).
MAX_CELLS = 100_000


@dataclass(frozen=True)
class Unsupported:
    """Something the student's code returned that is not a plain value (e.g. a Tensor subclass)."""

    what: str

    def __str__(self) -> str:
        return self.what


@dataclass(frozen=True)
class TensorInfo:
    """Facts about a returned tensor that its values alone do not carry."""

    requires_grad: bool
    has_grad_fn: bool


def _number(v: Any) -> float | int | bool:
    if type(v) in (int, float, bool):
        return v  # type: ignore[no-any-return]
    if isinstance(v, str) and v in _SPECIAL:
        return _SPECIAL[v]
    raise ValueError("not a number")


def decode(data: Any) -> Any:
    """Plain JSON from the harness -> torch.Tensor / float / int / bool / None / list / Unsupported."""
    if data is None or type(data) in (int, float, bool):
        return data
    if isinstance(data, str):
        try:
            return _number(data)
        except ValueError:
            return Unsupported("a string")
    if not isinstance(data, dict):
        return Unsupported("malformed value")
    if "tensor" in data:
        return _tensor(data["tensor"])
    if "list" in data and isinstance(data["list"], list):
        return [decode(v) for v in data["list"]]
    if "unsupported" in data:
        return Unsupported(str(data["unsupported"])[:200])
    return Unsupported("malformed value")


def _tensor(t: Any) -> torch.Tensor | Unsupported:
    try:
        dtype = _DTYPES[t["dtype"]]
        shape = [int(s) for s in t["shape"]]
        if len(shape) > 8 or any(s < 0 for s in shape):
            raise ValueError("bad shape")
        if math.prod(max(s, 1) for s in shape) > MAX_CELLS:  # counted as if empty dimensions held one
            return Unsupported(f"a tensor of shape {tuple(shape)}, too large to compare")
        values = [_number(v) for v in t["data"]]
        if len(values) != math.prod(shape):
            raise ValueError("size does not match shape")
        tensor = torch.tensor(values, dtype=dtype).reshape(shape)
    except (KeyError, TypeError, ValueError, RuntimeError):
        return Unsupported("a malformed tensor record")
    return tensor


def tensor_info(data: Any) -> TensorInfo | None:
    if isinstance(data, dict) and isinstance(data.get("tensor"), dict):
        t = data["tensor"]
        return TensorInfo(bool(t.get("requires_grad")), bool(t.get("has_grad_fn")))
    return None
