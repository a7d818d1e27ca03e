"""Small helpers every lab's hidden suite uses: markers, lesson numbers, a training run's parts,
and the checks that stand in for facts the student's process could only report about itself.

Only values the grader compares earn points. The harness also says things about what it saw
(a returned tensor's `requires_grad` and `grad_fn`, the module's type and parameter names),
but it runs in the student's process, where a submission can make it say anything: those
facts only word a failure (its message or hint), never pass a check. Instead:

- differentiability: the gradient autograd gave for an input (`gradient_from_autograd`),
  which the check compares with the reference's gradient computed here;
- in-place changes: the argument's values after the call (`expect_left_alone`), compared
  with the values the grader sent;
- a module built on nn.Linear: `self.linear(x)`, `forward(x)` and the outputs after seeded
  training (`expect_linear_model`), compared with the reference module run the same way here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import pytest
import torch
import torch.nn.functional as F

from ..compare import GOES_WITH, CheckFailed, Combining, as_number, as_tensor, close, expect_close, fmt, printed_tolerance
from ..rules import computed_names, forbidden_calls, missing_calls, unreadable_units
from .manifest import Rule
from .remembering import memo
from ..values import decode, tensor_info

__all__ = ["T", "check", "hidden", "memo", "expect_left_alone", "expect_linear_model", "gradient_from_autograd", "printed",
           "reference_model_run", "seeded_model_run", "training_result"]


def T(nested: Any) -> torch.Tensor:
    """A float32 tensor, like the ones the probes send."""
    return torch.tensor(nested, dtype=torch.float32)


def check(function: str, points: int, title: str, *, public: bool = False) -> pytest.MarkDecorator:
    """Mark a test as a graded check of `function`, worth `points`.

    A `public` check compares with the lessons' printed numbers and travels in the student kit
    (`grade release`); the parts of it that use hidden inputs or the reference solution sit in
    `with hidden():` blocks, which the kit leaves out. Every other check is hidden: the kit has
    none of its code, data or expected values.
    """
    return pytest.mark.check(function=function, points=points, title=title, public=public)


@contextlib.contextmanager
def hidden() -> Iterator[None]:
    """Marks the part of a public check that uses hidden inputs or the reference solution.

    In the instructor's grader the block runs like any other code, in order, so a public check
    still holds the student to the hidden inputs (hard-coding the lessons' numbers earns
    nothing); `grade release` removes the block from the student kit. A failure inside it is a
    failure on hidden inputs: its expected values are withheld unless the lab's manifest shows them.
    """
    try:
        yield
    except CheckFailed as failed:
        failed.on_hidden_inputs = True
        raise


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
                          expected=f"{n_costs} cost{'s' * (n_costs != 1)}", obtained=f"{len(costs)} cost{'s' * (len(costs) != 1)}",
                          hint=(length_hints or {}).get(len(costs), ""))
    return w, b, [as_number(c, what=f"costs[{i}]") for i, c in enumerate(costs)]


# --- facts the student's process reports, replaced by values the grader compares -----------


def _part(raw: Any, key: str) -> Any:
    """One part of a probe's raw result; whatever the student's side sent, never a KeyError here."""
    return raw.get(key) if isinstance(raw, dict) else None


def gradient_from_autograd(raw: Any, index: int, *, what: str, shape: tuple[int, ...], cut_off: str,
                           expected: str, hint: str) -> torch.Tensor:
    """The gradient autograd gave argument `index` of a `call_backward` probe, for the check to compare.

    No gradient at all fails with `cut_off` (the lab's wording); whether the returned tensor had a
    grad_fn, as the student's process reports it, only says what came back instead.
    """
    grads = _part(raw, "grads")
    grad = decode(grads[index]) if isinstance(grads, list) and len(grads) > index else None
    if grad is None:
        info = tensor_info(_part(raw, "value"))
        obtained = ("a tensor without grad_fn" if info is not None and not info.has_grad_fn
                    else f"no gradient for it after backward() (the cost came back as {fmt(decode(_part(raw, 'value')))})")
        raise CheckFailed(cut_off, expected=expected, obtained=obtained, hint=hint)
    return as_tensor(grad, what=what, shape=shape)


def expect_left_alone(raw: Any, index: int, given: torch.Tensor, *, function: str, name: str, hint: str,
                      message: str = "") -> None:
    """The call left argument `index` as the grader sent it: its values after the call are the values that went in."""
    after = _part(raw, "args_after")
    value = decode(after[index]) if isinstance(after, list) and len(after) > index else None
    if value is None:
        raise CheckFailed(f"the grader got no values of {name} after the call to {function}, so it cannot tell "
                          f"whether {function} left {name} alone", expected=f"{name} after the call", obtained="nothing")
    unchanged = (isinstance(value, torch.Tensor) and value.shape == given.shape
                 and bool(torch.equal(value.to(torch.float64), given.to(torch.float64))))
    if not unchanged:
        raise CheckFailed(message or f"{function} changed the {name} it was given: the caller's {name} is different "
                                     f"after the call", expected=f"{name} as it was given: {fmt(given)}",
                          obtained=f"{name} after the call: {fmt(value)}", hint=hint)


def seeded_model_run(make: Callable[[], torch.nn.Module], seed: int, x: torch.Tensor, y: torch.Tensor | None = None,
                     lr: float = 0.0, steps: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """A module run here the way the harness's `module` recipe runs the student's:
    (self.linear(x), model(x), model(x) after `steps` SGD steps on F.mse_loss, or None without steps).
    The grader's random generator is left as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = make()
        with torch.no_grad():
            linear, before = model.linear(x), model(x)  # type: ignore[operator]
        if not steps or y is None:
            return linear, before, None
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        for _ in range(steps):
            optimizer.zero_grad()
            F.mse_loss(model(x), y).backward()
            optimizer.step()
        with torch.no_grad():
            return linear, before, model(x)


@memo
def reference_model_run(reference: Any, name: str, seed: int, x: torch.Tensor, y: torch.Tensor | None = None,
                        lr: float = 0.0, steps: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """`seeded_model_run` of the reference's module class `name`, remembered like the reference's
    other runs (grader.labs.remembering)."""
    return seeded_model_run(getattr(reference, name), seed, x, y, lr, steps)


def expect_linear_model(raw: Any, run: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None], *, linear: str,
                        seed: int, data: str, by_hand: str, shape_hints: Mapping[tuple[int, ...], str],
                        seeds_itself: bool = False) -> None:
    """A model built on `self.linear = <linear>` whose forward returns self.linear(x), judged by values only.

    `run` is the reference module's `seeded_model_run` on the probe's inputs. self.linear(x) must be
    what `linear` created first after torch.manual_seed(`seed`) gives, forward(x) must equal it, and
    after seeded training the outputs must follow the reference's (the parameters the optimizer
    moves are self.linear's). What the harness says about the module (its type, its parameter
    names) is what the student's process says about itself: it only words the failure.
    `seeds_itself` (from same_start) says that it starts from the same weights whatever the caller's
    seed: it seeds torch itself.
    """
    structure = _part(raw, "structure")
    s = structure if isinstance(structure, dict) else {}
    params = s.get("parameters")
    described = (f"self.linear is {s.get('linear_type')}; parameters "
                 f"{[tuple(p) if isinstance(p, list) else p for p in params] if isinstance(params, list) else params}")
    says_nn_linear = s.get("linear_is_nn_linear") is True
    ref_linear, ref_output, ref_trained = run
    got = decode(_part(raw, "linear_output"))
    if not isinstance(got, torch.Tensor) or not close(got, ref_linear, 1e-4, 1e-4):
        if seeds_itself and says_nn_linear:
            raise CheckFailed(f"the model's weights do not come from the caller's torch.manual_seed({seed}): it starts "
                              f"from the same weights whatever seed the caller sets, so it seems to seed torch itself "
                              f"(or to set its weights by hand)",
                              expected=f"self.linear(x) = {fmt(ref_linear)}, from {linear}", obtained=f"{fmt(got)}; {described}",
                              hint=f"do not call torch.manual_seed in the model: the caller seeds torch before making "
                                   f"it, and {linear} takes its first weights from that seed")
        problem = ("it has no self.linear module" if got is None else
                   f"self.linear(x) on {data} is not what {linear} gives after torch.manual_seed({seed})")
        raise CheckFailed(f"the model is not built on self.linear = {linear}: {problem}",
                          expected=f"self.linear(x) = {fmt(ref_linear)}, from {linear}",
                          obtained=f"{fmt(got)}; {described}",
                          hint=by_hand if got is None or not says_nn_linear else
                          f"create {linear} first in __init__, before anything else that draws random numbers, "
                          f"so that torch.manual_seed gives it the same weights as the lesson")
    expect_close(decode(_part(raw, "output")), got, what=f"forward(x) compared with self.linear(x) on {data}", atol=1e-6,
                 shape_hints=shape_hints)
    if ref_trained is not None:
        expect_close(decode(_part(raw, "trained")), ref_trained, atol=1e-4, rtol=1e-4,
                     what=f"model(x) on {data} after SGD steps on model.parameters(), compared with {linear} trained "
                          f"the same way", shape_hints=shape_hints)


def same_start(observed: Any, probes: Sequence[tuple[str, torch.Tensor]]) -> bool:
    """Whether the models two `module` probes made after different seeds start from one and the same linear
    map: self.linear(x) = [x, 1] @ theta, solved on each probe's inputs (enough rows for its features).
    A probe without an answer says no (the check's own comparisons then say what went wrong, in order)."""
    thetas = []
    for probe, x in probes:
        try:
            raw = observed.raw(probe)
        except Exception:
            return False
        got = decode(_part(raw, "linear_output"))
        rows = x.reshape(x.shape[0], -1).to(torch.float64)
        if not isinstance(got, torch.Tensor) or got.shape[0] != rows.shape[0] or rows.shape[0] <= rows.shape[1]:
            return False
        design = torch.cat([rows, torch.ones(rows.shape[0], 1, dtype=torch.float64)], dim=1)
        thetas.append(torch.linalg.lstsq(design, got.reshape(rows.shape[0], -1).to(torch.float64)).solution)
    return len(thetas) == 2 and thetas[0].shape == thetas[1].shape and bool(torch.allclose(thetas[0], thetas[1], atol=1e-4))


@contextlib.contextmanager
def goes_with(check: str) -> Iterator[None]:
    """Around a value check a rule's point goes with (`with goes_with("gradient.lesson_values"):`): its
    failure is said as what it is, the reason this point is not given, not as a breach of the rule
    ("it calls backward()" failed with a wrong number by a student who calls backward())."""
    try:
        yield
    except CheckFailed as exc:
        # (its values, failure and hint are said there; the grader names it by its title)
        again = CheckFailed(GOES_WITH.format(title=check))
        again.on_hidden_inputs, again.goes_with = exc.on_hidden_inputs, check
        raise again from None


AUTOGRAD_GRAD = ("looks like torch.autograd.grad in place of backward(): the numbers are autograd's, but the "
                 "exercise is about backward(), which fills the tensor's .grad: call backward() on the result and "
                 "read .grad")

#: The rule of the by-hand exercises, and of any `expect_by_hand` whose function has no [rules] in the manifest.
BY_HAND = ("backward", "torch.autograd", "torch.func", "functorch", "torch.optim")


def expect_by_hand(observed: Any, function: str, *, hint: str) -> None:
    """`function`, and every function of the submission it calls, keeps the lab manifest's
    `[rules.<function>]` (default: no `.backward()`, torch.autograd or torch.optim): read from the
    submission's source."""
    rule = observed.rules.get(function) or Rule(forbid=BY_HAND)
    unreadable = unreadable_units(observed.code)
    if unreadable:  # it may hold the function, or what it calls: the rule cannot be checked
        where = unreadable[0] or "the file"
        raise CheckFailed(f"the grader could not read {where} (nested too deeply for Python's parser), so it cannot "
                          f"check how {function} computes; split the long expression",
                          expected=f"{where} in a form the grader can read", obtained="nested too deeply to read",
                          hint=hint)
    # A function it calls under a rule forbidding as much is judged by its own check: a mistake there
    # costs points once (lab 3's descent_step calling an autograd gradient loses gradient.by_hand only).
    judged = frozenset(g for g, r in observed.rules.items() if g != function and set(rule.forbid) <= set(r.forbid))
    found = forbidden_calls(observed.code, function, rule.forbid, judged)
    if found:
        first = found[0]
        through = f" through {first.function}" if first.function != function else ""
        by_hand = set(rule.forbid) == set(BY_HAND)
        named = "backward(), torch.autograd or torch.optim" if by_hand else " or ".join(
            "backward()" if c == "backward" else c for c in rule.forbid)
        raise CheckFailed(f"{function} calls {first.call}(){through} at {first.where}; "
                          + ("the exercise asks for it by hand" if by_hand else "the exercise does not allow it"),
                          expected=f"no {named} in {function} or the functions it calls",
                          obtained=f"{first.call}() in {first.function}, {first.where}", hint=hint)
    computed = computed_names(observed.code, function, judged) if rule.forbid else []
    if computed:  # a name built at run time, or code run from text: what it calls cannot be read
        first = computed[0]
        raise CheckFailed(f"{first.function} looks a name up at run time (from text, or in a table of names such as "
                          f"globals() or sys.modules), or runs code from text, at {first.where}, so the grader cannot "
                          f"check how {function} computes; write the call out",
                          expected=f"calls written out in {function} and the functions it calls",
                          obtained=f"a name looked up at run time, or code run from text: {first.call}, in {first.function}, "
                                   f"{first.where}",
                          hint=hint)
    missing = missing_calls(observed.code, function, rule.require)
    if missing:
        if missing[0] == "backward" and not missing_calls(observed.code, function, ("torch.autograd.grad",)):
            hint = AUTOGRAD_GRAD  # autograd all the same: not the by-hand work the lab's hint supposes
        call = f"{missing[0]}()" if missing[0].startswith(".") else missing[0]  # (".step": a method of any object)
        raise CheckFailed(f"{function} never calls {call}, itself or through the functions it calls; the exercise asks for it",
                          expected=f"a call to {call} in {function} or the functions it calls",
                          obtained=f"no call to {call}", hint=hint)


def first_step_lr(x: torch.Tensor, y: torch.Tensor, w: Any, costs: list[float]) -> float | None:
    """The lr a student's linear regression trained with (MSE, SGD from W = b = 0, its first cost the cost
    there; x (m, k) or (m,)), read from its first step: W after it where that step is the only one (a
    single cost), else the cost after it, a quadratic in the lr (of two roots, the one whose second step
    gives the third cost). To 3 digits; None where that cannot be read. (An lr written into optim.SGD.)"""
    x, y = x.to(torch.float64), y.to(torch.float64).reshape(-1, 1)
    x = x.reshape(-1, 1) if x.dim() < 2 else x
    if not costs or not math.isclose(costs[0], float((y ** 2).mean()), rel_tol=1e-4, abs_tol=1e-6):
        return None
    m = x.shape[0]
    slope_w, slope_b = 2 * x.T.matmul(y) / m, 2 * float(y.mean())  # minus d cost/dW and d cost/db at W = b = 0
    try:
        if len(costs) == 1:
            i = int(slope_w.abs().argmax())
            rates = [float(torch.as_tensor(w, dtype=torch.float64).reshape(-1)[i]) / float(slope_w[i])]
        else:
            u = x.matmul(slope_w) + slope_b  # after one step at lr: H(x) = lr * u
            a, b, c = float((u * u).mean()), -2 * float((u * y).mean()), float((y * y).mean()) - costs[1]
            root = math.sqrt(max(b * b - 4 * a * c, 0.0))
            rates = [(-b - root) / (2 * a), (-b + root) / (2 * a)]
    except (ZeroDivisionError, TypeError, ValueError, AttributeError, IndexError, RuntimeError):
        return None
    rates = [float(f"{r:.3g}") for r in rates if math.isfinite(r) and r > 0]
    if len(rates) > 1 and len(costs) > 2:
        rates.sort(key=lambda r: abs(_cost_after_two_steps(x, y, r) - costs[2]))
    return rates[0] if rates else None


def _cost_after_two_steps(x: torch.Tensor, y: torch.Tensor, lr: float) -> float:
    """The MSE cost after two gradient steps at `lr` from W = b = 0, worked out here (no optimizer: a grade
    whose runs are remembered trains nothing on the grader's side)."""
    w, b = torch.zeros(x.shape[1], 1, dtype=torch.float64), 0.0
    for _ in range(2):
        error = x.matmul(w) + b - y
        w, b = w - lr * 2 * x.T.matmul(error) / x.shape[0], b - lr * 2 * float(error.mean())
    return float(((x.matmul(w) + b - y) ** 2).mean())


_V = TypeVar("_V")


def combine_variants(variants: Sequence[_V]) -> _V:
    """One Variant (a lab's frozen dataclass of a run's settings, defaults right) with the mistakes of all
    `variants` switched on; KeyError where two set the same setting differently (two ways of computing
    the cost)."""
    kind = type(variants[0])
    default, fields = kind(), dict[str, Any]()
    for variant in variants:
        for field in dataclasses.fields(variant):  # type: ignore[arg-type]
            value = getattr(variant, field.name)
            if value != getattr(default, field.name) and fields.setdefault(field.name, value) != value:
                raise KeyError(field.name)
    return kind(**fields)


class Runs(Combining):
    """The classic mistakes' runs by hint, each made (`run(change)`) when first asked for. A mistake is a
    change to the right run: its Variant (`{"variant": Variant(...)}`, the lab's frozen dataclass of a run's
    settings) and, where a lab replays them, the lr or the data (`{"lr": 0.01}`, `{"data": (x, y)}`).
    `combined` makes the run with several mistakes at once (compare.following carries two forward
    together): their Variants combine field by field; two that change another setting both do not
    combine (KeyError)."""

    def __init__(self, run: Callable[[Mapping[str, Any]], Any], changes: Mapping[str, Mapping[str, Any]]) -> None:
        self._run, self._changes = run, dict(changes)
        self._runs: dict[str, Any] = {}

    def __getitem__(self, hint: str) -> Any:
        if hint not in self._runs:
            self._runs[hint] = self._run(self._changes[hint])
        return self._runs[hint]

    def __contains__(self, hint: object) -> bool:  # (without making the run, as Mapping's own would)
        return hint in self._changes

    def __iter__(self) -> Iterator[str]:
        return iter(self._changes)

    def __len__(self) -> int:
        return len(self._changes)

    def combined(self, hints: tuple[str, ...]) -> Any:
        merged: dict[str, Any] = {}
        variants = []
        for hint in sorted(set(hints)):
            for what, value in self._changes[hint].items():
                if what == "variant":
                    variants.append(value)
                elif what in merged:  # (two lrs, two data sets)
                    raise KeyError(what)
                else:
                    merged[what] = value
        if variants:
            merged["variant"] = combine_variants(variants)
        return self._run(merged)


def variant_runs(run: Callable[[Any], Any], variants: Mapping[str, Any]) -> Runs:
    """Runs whose mistakes each change the Variant only, made by `run(variant)`."""
    return Runs(lambda change: run(change["variant"]), {hint: {"variant": v} for hint, v in variants.items()})
