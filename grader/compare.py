"""Tolerant comparison and mismatch messages a student can act on.

A failed comparison raises `CheckFailed` with structured fields: what was expected,
what came out, and, when the obtained value matches a known wrong variant computed
from the same inputs, the classic mistake it looks like. Shape and type come first,
then which elements differ and by how much.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Union

import torch

from .errors import MistakeTableFailed
from .values import Unsupported

FLOAT32_SLOP = 8 * torch.finfo(torch.float32).eps

#: Known wrong outputs by hint, or a function computing them only when a value is wrong.
Mistakes = Union[Mapping[str, Any], Callable[[], Mapping[str, Any]]]


@dataclass(frozen=True)
class _Following:
    hints: tuple[str, ...] = ()
    diagnose: bool = False
    named: list[str] = field(default_factory=list)  # what `named` was told, inside


_FOLLOWING: ContextVar[_Following] = ContextVar("following", default=_Following())


@contextlib.contextmanager
def following(*hints: str, diagnose: bool = False) -> Iterator[list[str]]:
    """Follow-through marking (grader.checks): inside, every comparison that names its known mistakes
    compares with what the mistakes `hints` give together instead of the right value, and one that cannot
    (it names other mistakes only, or its table cannot combine these) fails; comparisons that name none
    compare as usual. A failure says which further mistake of the table it looks like only with `diagnose`
    (the mistake on top of those carried forward), and names none otherwise. Yields the mistakes named
    from the tables inside (`named`): a check's other hints are not found on top of those carried."""
    state = _Following(tuple(hints), diagnose)
    token = _FOLLOWING.set(state)
    try:
        yield state.named
    finally:
        _FOLLOWING.reset(token)


def carrying() -> tuple[str, ...]:
    """The known mistakes being carried forward (inside `following`), else ()."""
    return _FOLLOWING.get().hints


def carried_output(mistakes: Mistakes) -> Any:
    """What the mistakes carried forward (inside `following`) give in `mistakes`, computed only then;
    None outside, or where the table does not know them together."""
    hints = carrying()
    if not hints:
        return None
    value = _carried_value(mistakes() if callable(mistakes) else mistakes, hints)
    return None if value is _NOT_KNOWN else value


class Combining(Mapping[str, Any]):
    """A mistake table that also knows what several of its mistakes give together: `combined(hints)`,
    KeyError where they do not combine (two ways of computing the same cost). Follow-through marking
    carries two mistakes forward at once through such tables (grader.checks)."""

    def combined(self, hints: tuple[str, ...]) -> Any:
        raise KeyError(hints)


class Derived(Combining):
    """`f` of each of a table's known wrong outputs, computed when asked for; combined where the table
    combines (the step-3 cost of each mistake's training run, of two mistakes' run too)."""

    def __init__(self, table: Mapping[str, Any], f: Callable[[Any], Any]) -> None:
        self._table, self._f = table, f

    def __getitem__(self, hint: str) -> Any:
        return self._f(self._table[hint])

    def __contains__(self, hint: object) -> bool:  # (without computing the output, as Mapping's own would)
        return hint in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def combined(self, hints: tuple[str, ...]) -> Any:
        if not isinstance(self._table, Combining):
            raise KeyError(hints)
        return self._f(self._table.combined(hints))


def derived(table: Callable[[], Mapping[str, Any]], f: Callable[[Any], Any]) -> Callable[[], Mapping[str, Any]]:
    """A lazy table (`Mistakes`) of `f` of each of `table()`'s outputs: see Derived."""
    return lambda: Derived(table(), f)


_NOT_KNOWN = object()


def _carried_value(table: Mapping[str, Any], hints: tuple[str, ...]) -> Any:
    """What the mistakes `hints` give together in `table`, else _NOT_KNOWN."""
    if len(hints) == 1:
        return table[hints[0]] if hints[0] in table else _NOT_KNOWN
    if not isinstance(table, Combining) or any(hint not in table for hint in hints):
        return _NOT_KNOWN
    try:
        return table.combined(hints)
    except KeyError:
        return _NOT_KNOWN


#: What a rule check whose point waits on a failing value check says (`grader.labs.checking.goes_with`);
#: the grader fills in that check's title, as the report shows it.
GOES_WITH = 'withheld: this point goes with "{title}" above, which fails; the rule is judged once it passes'


class CheckFailed(AssertionError):
    """A check's verdict: the student's value is wrong."""

    def __init__(self, message: str, *, expected: str = "", obtained: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.obtained = obtained
        self.hint = hint
        self.on_hidden_inputs = False  # raised inside a public check's `with hidden():` block
        self.goes_with = ""  # the check whose failure this one's point waits on (`goes_with`)


def printed_tolerance(printed: str) -> float:
    """Half a unit of the last printed digit: '0.0933' -> 0.00005."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return 0.5 * 10.0 ** (-decimals)


def fmt(value: Any, decimals: int = 4) -> str:
    if isinstance(value, torch.Tensor):
        v = value.detach().to(torch.float64) if value.is_floating_point() else value
        body = _fmt_nested(v.tolist(), decimals) if v.numel() <= 24 else _fmt_long(v, decimals)
        if value.dim() == 0:
            return f"{body} (0-dim tensor)"
        return f"{body}  shape {tuple(value.shape)}"
    if isinstance(value, float):
        return f"{value:.{decimals}f}" if math.isfinite(value) and abs(value) < 1e6 else repr(value)
    if isinstance(value, (list, tuple)):
        if len(value) > 12:
            head = ", ".join(fmt(v, decimals) for v in value[:5])
            return f"[{head}, ... {len(value)} items]"
        return "[" + ", ".join(fmt(v, decimals) for v in value) + "]"
    if isinstance(value, Unsupported):
        return f"<{value}>"
    return repr(value)


def _fmt_nested(v: Any, decimals: int) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_fmt_nested(x, decimals) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:.{decimals}f}"
    return repr(v)


def _fmt_long(v: torch.Tensor, decimals: int) -> str:
    flat = v.reshape(-1).tolist()
    head = ", ".join(_fmt_nested(x, decimals) for x in flat[:6])
    return f"[{head}, ... {len(flat)} values]"


def type_description(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, Unsupported):
        return str(value)
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def as_tensor(value: Any, *, what: str, shape: Sequence[int] | None = None,
              shape_hints: Mapping[tuple[int, ...], str] | None = None) -> torch.Tensor:
    """`value` as a float tensor of the given shape, or a CheckFailed saying why not."""
    if isinstance(value, Unsupported):
        raise CheckFailed(f"{what} is {value}, not a plain torch.Tensor", obtained=str(value),
                          hint=_numpy_hint(value) or ORDINARY)
    if not isinstance(value, torch.Tensor):
        expected = f"a tensor of shape {tuple(shape)}" if shape is not None else "a tensor"
        raise CheckFailed(f"{what} is {type_description(value)}, expected {expected}",
                          expected=expected, obtained=fmt(value), hint=_numpy_hint(value) or _container_hint(value))
    if shape is not None and tuple(value.shape) != tuple(shape):
        hint = (shape_hints or {}).get(tuple(value.shape), "")
        raise CheckFailed(f"{what} has shape {tuple(value.shape)}, expected {tuple(shape)}",
                          expected=f"shape {tuple(shape)}", obtained=fmt(value), hint=hint)
    return value.to(torch.float64)


NUMPY = ("a numpy value is neither a torch tensor nor a Python number: compute it with torch operations "
         "(numpy also cuts it off from autograd)")


ORDINARY = "return an ordinary torch.Tensor (not a subclass or another type)"


WRAPPED = "the value is wrapped in a list or tuple: return it alone (no [...] or (...,) around it)"


A_NUMBER = ("a Python number where a tensor is asked: .item() and float(...) turn a tensor into a number; return "
            "the tensor itself, and take .item() only where the exercise asks for a number")
A_LIST = ("a list or tuple of numbers where a tensor is asked: return a tensor, torch.tensor(values) from numbers "
          "(torch.stack(values) from one-element tensors)")


def _container_hint(value: Any) -> str:
    """The hint for right-looking numbers in the wrong container: a float for a tensor, a list for a tensor."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return A_NUMBER
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return A_LIST
    return ""


def _numpy_hint(value: Any, wanted: tuple[type, ...] = (torch.Tensor,)) -> str:
    """The hint for a value of the wrong type that is a classic slip: a numpy value, or the `wanted`
    kind of value wrapped in a list or tuple of one."""
    if isinstance(value, Unsupported) and str(value).startswith("numpy"):
        return NUMPY
    if isinstance(value, (list, tuple)) and len(value) == 1 and isinstance(value[0], wanted):
        return WRAPPED
    return ""


def as_number(value: Any, *, what: str) -> float:
    """A Python number or a one-element tensor, as float."""
    if isinstance(value, bool) or value is None:
        raise CheckFailed(f"{what} is {type_description(value)}, expected a number",
                          expected="a number (a float or a one-element tensor)", obtained=fmt(value))
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.reshape(-1)[0].item())
    raise CheckFailed(f"{what} is {type_description(value)}, expected a number",
                      expected="a number (a float or a one-element tensor)", obtained=fmt(value),
                      hint=_numpy_hint(value, (int, float, torch.Tensor)))


def close(obtained: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float = 0.0) -> bool:
    if obtained.shape != expected.shape:
        return False
    o, e = obtained.to(torch.float64), expected.to(torch.float64)
    if torch.isnan(o).any():
        return False
    # An infinite expected value (a mistake's run that diverged) is matched only by itself: its room,
    # atol + rtol * inf, held every number.
    near = (o - e).abs() <= atol + (rtol + FLOAT32_SLOP) * e.abs()
    return bool(torch.all(torch.where(torch.isfinite(e), near, o == e)))


def diagnose(obtained: torch.Tensor, variants: Mapping[str, Any], atol: float, rtol: float = 0.0) -> str:
    """The name of the first known mistake whose output matches `obtained`, else '': among the table's
    `candidates` (inside `following`, only a mistake on top of those carried, and only when asked)."""
    for hint, variant in candidates(variants).items():
        v = variant if isinstance(variant, torch.Tensor) else torch.tensor(variant, dtype=torch.float64)
        if v.shape == obtained.shape and close(obtained, v, atol, rtol):
            return named(hint)
    return ""


def named(hint: str) -> str:
    """`hint`, a mistake a table's output matched: inside `following`, noted as named from a table."""
    state = _FOLLOWING.get()
    if hint and state.hints:  # (outside `following` no one asks: the default's list would only grow)
        state.named.append(hint)
    return hint


def candidates(table: Mapping[str, Any]) -> Mapping[str, Any]:
    """The outputs a failure names its mistake from, by hint: outside `following`, the table's own; inside,
    with `diagnose`, each further mistake's made together with those carried forward (where the table
    combines them); else none."""
    carried = _FOLLOWING.get()
    if not carried.hints:
        return table
    on_top = {}
    if carried.diagnose:
        for hint in table:
            if hint not in carried.hints and (value := _carried_value(table, (*carried.hints, hint))) is not _NOT_KNOWN:
                on_top[hint] = value
    return on_top


def _diagnosis(obtained: torch.Tensor, mistakes: Mistakes | None, atol: float, rtol: float) -> str:
    """`diagnose` on the mistake table, computed now if it is lazy. The table is the grader's own work on
    its own inputs (`obtained` is already a valid tensor): if it fails, that is a grader error."""
    try:
        return diagnose(obtained, mistakes() if callable(mistakes) else (mistakes or {}), atol, rtol)
    except Exception as exc:
        raise MistakeTableFailed(f"{type(exc).__name__}: {exc}"[:300]) from exc


def mismatch_summary(obtained: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float) -> str:
    o, e = obtained.to(torch.float64).reshape(-1), expected.to(torch.float64).reshape(-1)
    diff = (o - e).abs()
    bad = ~(diff <= atol + (rtol + FLOAT32_SLOP) * e.abs())
    rel = diff / e.abs().clamp_min(1e-12)
    return (f"mismatched elements {int(bad.sum())} / {o.numel()}, "
            f"max absolute difference {float(diff.max()):.6g}, max relative difference {float(rel.max()):.3g}")


def expect_close(obtained: Any, expected: Any, *, what: str, atol: float, rtol: float = 0.0,
                 mistakes: Mistakes | None = None,
                 shape_hints: Mapping[tuple[int, ...], str] | None = None,
                 decimals: int = 4) -> None:
    """Compare a returned value with the expected one; raise CheckFailed with a diagnosis."""
    if carrying() and mistakes is not None:
        expected = carried_output(mistakes)
        if expected is None:
            raise CheckFailed(f"{what} does not follow from the mistake carried forward")
    exp = expected if isinstance(expected, torch.Tensor) else torch.tensor(expected, dtype=torch.float64)
    if exp.dim() == 0 and not isinstance(obtained, torch.Tensor):
        number = as_number(obtained, what=what)
        if not close(torch.tensor(number, dtype=torch.float64), exp, atol, rtol):
            hint = _diagnosis(torch.tensor(number, dtype=torch.float64), mistakes, atol, rtol)
            raise CheckFailed(f"{what} is wrong (off by {abs(number - float(exp)):.6g})",
                              expected=fmt(float(exp), decimals), obtained=fmt(number, decimals), hint=hint)
        return
    else:
        try:
            obt = as_tensor(obtained, what=what, shape=tuple(exp.shape), shape_hints=shape_hints)
        except CheckFailed as failure:
            _values_too(failure, obtained, exp, mistakes, atol, rtol, decimals)
            raise
    if close(obt, exp, atol, rtol):
        return
    hint = _diagnosis(obt, mistakes, atol, rtol)
    detail = mismatch_summary(obt, exp, atol, rtol) if exp.numel() > 1 else f"off by {float((obt - exp).abs()):.6g}"
    raise CheckFailed(f"{what} is wrong ({detail})", expected=fmt(exp, decimals), obtained=fmt(obt, decimals), hint=hint)


def _values_too(failure: CheckFailed, obtained: Any, expected: torch.Tensor, mistakes: Mistakes | None, atol: float,
                rtol: float, decimals: int) -> None:
    """A tensor of the wrong shape whose values, read in the expected shape, are wrong too: the failure says
    both, so that fixing the shape is not followed by another failure on the same line (and names the
    values' mistake where the shape has no hint of its own)."""
    if not isinstance(obtained, torch.Tensor) or obtained.numel() != expected.numel() or obtained.is_complex():
        return
    values = obtained.detach().to(torch.float64).reshape(expected.shape)
    if close(values, expected, atol, rtol):
        return
    detail = mismatch_summary(values, expected, atol, rtol) if expected.numel() > 1 else \
        f"off by {float((values - expected).abs()):.6g}"
    failure.message = f"{failure.message}; its values are wrong too ({detail})"
    failure.args = (failure.message,)
    failure.expected = fmt(expected, decimals)
    failure.hint = failure.hint or _diagnosis(values, mistakes, atol, rtol)
