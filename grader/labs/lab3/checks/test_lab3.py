"""Lab 3's checks. Each one holds the student to a lesson's numbers AND to the reference
solution on hidden inputs, so hard-coding the lesson's numbers earns nothing. A check marked
`public=True` compares with the lessons' printed numbers and goes into the student kit without its
`with hidden():` blocks (grader.release); the other checks are hidden and stay here.

Fixtures: `observed` (what the student's functions returned, see grader.checks) and
`reference` (the reference solution, run here on the grader's side).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import torch

from grader.checks import StudentError
from grader.compare import CheckFailed, as_number, candidates, carried_output, as_tensor, close, derived, diagnose, expect_close, fmt, named, printed_tolerance
from grader.labs.lab3 import data as d
from grader.labs.lab3 import mistakes as M
from grader.labs.checking import T, check, goes_with, expect_by_hand, hidden, expect_left_alone, gradient_from_autograd, memo, printed, variant_runs
from grader.values import decode, tensor_info

HIDDEN = {"atol": 1e-4, "rtol": 1e-4}  # float32 work done in another order may differ this much
SGD_LR = 0.15  # the lesson's torch.optim.SGD learning rate on the mean cost: 0.15 * 2/3 = 0.1 for m = 3


def lesson_data() -> tuple[torch.Tensor, torch.Tensor]:
    return T(d.LESSON_X), T(d.LESSON_Y)


# --- hypothesis ------------------------------------------------------------------------


def pred_shape_hints(m: int) -> dict[tuple[int, ...], str]:
    return {(m,): M.PRED_FLAT, (1, m): M.PRED_TRANSPOSED, (m, m): M.PRED_SQUARE}


@check("hypothesis", 1, "H(x) = xW at W = 1 predicts the lesson's y exactly (x = y = [[1], [2], [3]])", public=True)
def test_hypothesis_lesson(observed: Any, reference: Any) -> None:
    expect_close(observed.get("hypothesis.lesson"), T(d.LESSON_Y), what="hypothesis(x, W) at W = 1 on the lesson's data",
                 atol=1e-6, shape_hints=pred_shape_hints(3))
    with hidden():
        xa, wa = T(d.A_X), T(d.A_W)
        expect_close(observed.get("hypothesis.hidden_a"), reference.hypothesis(xa, wa), what="hypothesis on other data",
                     shape_hints=pred_shape_hints(5), **HIDDEN)


@check("hypothesis", 1, "hypothesis keeps the (m, 1) shape for any m, negative W included")
def test_hypothesis_other_shapes(observed: Any, reference: Any) -> None:
    xb, wb = T(d.B_X), T(d.B_W)
    expect_close(observed.get("hypothesis.hidden_b"), reference.hypothesis(xb, wb), what="hypothesis on 7 points with W -1.3",
                 shape_hints=pred_shape_hints(7), **HIDDEN)


# --- cost ------------------------------------------------------------------------------


def expect_cost(value: Any, what: str, expected: torch.Tensor, atol: float, rtol: float,
                x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> None:
    if isinstance(value, torch.Tensor) and value.dim() != 0:
        raise CheckFailed(f"{what} has shape {tuple(value.shape)}; the cost must be a 0-dim tensor (a single number)",
                          expected="a 0-dim tensor", obtained=fmt(value),
                          hint="reduce with torch.mean over all elements: torch.mean((x * W - y) ** 2)")
    expect_close(value, expected, what=what, atol=atol, rtol=rtol, decimals=6,
                 mistakes=lambda: M.cost_variants(x, y, w))


def lesson_cost(value: str) -> tuple[torch.Tensor, float]:
    return torch.tensor(float(value), dtype=torch.float64), printed_tolerance(value)


@check("cost", 2, "cost gives the course notebook's 4.666667 at W = 0 and 0.746666 at W = 1.4, and 0 at W = 1", public=True)
def test_cost_lesson_values(observed: Any, reference: Any) -> None:
    x, y = lesson_data()
    for probe, w, shown in (("cost.lesson_w0", [0.0], "4.666667"), ("cost.lesson_step", d.W_AFTER_ONE_STEP, "0.746666")):
        expected, tol = lesson_cost(shown)
        expect_cost(observed.get(probe), f"cost(x, y, W) at W = {w[0]:.1f} on the lesson's data", expected, tol, 1e-6, x, y, T(w))
    expect_cost(observed.get("cost.lesson_w1"), "cost(x, y, W) at W = 1 on the lesson's data",
                torch.tensor(0.0, dtype=torch.float64), 1e-6, 0.0, x, y, T([1.0]))
    with hidden():
        xa, ya, wa = T(d.A_X), T(d.A_Y), T(d.A_W)
        expect_cost(observed.get("cost.hidden_a"), "cost on other data", reference.cost(xa, ya, wa), 1e-4, 1e-4, xa, ya, wa)


def autograd_gradient(observed: Any, probe: str, what: str) -> torch.Tensor:
    """d cost / dW as autograd computed it through the student's cost, for the check to compare with the reference's."""
    return gradient_from_autograd(observed.raw(probe), 2, what=f"W.grad after cost.backward() {what}", shape=(1,),
                                  cut_off=f"{what}: the cost is cut off from autograd, so backward() cannot reach W",
                                  expected="a 0-dim tensor with a grad_fn, whose backward() reaches W",
                                  hint="compute the cost with torch operations on W; avoid .item(), .detach(), "
                                       "torch.tensor(...) or numpy on the way")


@check("cost", 1, "torch.optim.SGD(lr=0.15) on cost takes the course notebook's steps, W 0 -> 1.400 -> 0.840 (lr 0.1 on the sum gradient)", public=True)
def test_cost_autograd_sgd(observed: Any, reference: Any) -> None:
    x, y = lesson_data()
    for probe, w, shown in (("cost.autograd_w0", [0.0], "1.400"), ("cost.autograd_step", d.W_AFTER_ONE_STEP, "0.840")):
        where = f"at W = {w[0]:.1f} on the lesson's data"
        grad = autograd_gradient(observed, probe, where)
        start = T(w).double()
        expected, tol = printed([shown])
        # SGD's step on the mean cost, 0.15 * (2/m) * sum, is the lesson's step 0.1 * sum for m = 3.
        expect_close(start - SGD_LR * grad, expected, what=f"W after one SGD(lr=0.15) step on your cost {where}", atol=tol,
                     decimals=3, mistakes=lambda start=start, w=w: {
                         h: start - SGD_LR * g.double() for h, g in M.cost_gradients(x, y, T(w)).items()})
    with hidden():
        xb, yb, wb = T(d.B_X), T(d.B_Y), T(d.B_W)
        grad = autograd_gradient(observed, "cost.autograd_b", "on other data")
        p = wb.clone().requires_grad_(True)
        reference.cost(xb, yb, p).backward()
        assert p.grad is not None
        expect_close(grad, p.grad, what="d cost / dW on other data, from autograd", atol=1e-4, rtol=1e-4,
                     mistakes=lambda: M.cost_gradients(xb, yb, wb))


# --- gradient --------------------------------------------------------------------------

GRADIENT_SHAPES = {(): "the gradient must have W's shape (1,): reshape it, e.g. .reshape(W.shape)",
                   (1, 1): "the gradient must have W's shape (1,): reshape it, e.g. .reshape(W.shape)"}


def expect_gradient(observed: Any, probe: str, where: str, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor,
                    expected: torch.Tensor, atol: float, rtol: float) -> None:
    expect_close(observed.get(probe), expected, what=f"gradient(x, y, W) {where}", atol=atol, rtol=rtol,
                 mistakes=lambda: M.gradient_variants(x, y, w), shape_hints=GRADIENT_SHAPES)


@check("gradient", 1, "gradient is the lesson's sum((W * x - y) * x): -14 at W = 0, and 0 at the best W = 1", public=True)
def test_gradient_lesson_values(observed: Any, reference: Any) -> None:
    x, y = lesson_data()
    expect_gradient(observed, "gradient.lesson_w0", "at W = 0 on the lesson's data", x, y, T([0.0]), T([-14.0]), 1e-5, 0.0)
    expect_gradient(observed, "gradient.lesson_w1", "at W = 1 on the lesson's data", x, y, T([1.0]), T([0.0]), 1e-5, 0.0)
    with hidden():
        xa, ya, wa = T(d.A_X), T(d.A_Y), T(d.A_W)
        expect_gradient(observed, "gradient.hidden_a", "on other data", xa, ya, wa, reference.gradient(xa, ya, wa), **HIDDEN)


@check("gradient", 1, "gradient follows the same formula on other data, shaped like W")
def test_gradient_other_data(observed: Any, reference: Any) -> None:
    xb, yb, wb = T(d.B_X), T(d.B_Y), T(d.B_W)
    expect_gradient(observed, "gradient.hidden_b", "on 7 points with W -1.3", xb, yb, wb, reference.gradient(xb, yb, wb), **HIDDEN)


@check("gradient", 1, "gradient computes the lesson's formula by hand, without backward(), torch.autograd or torch.optim", public=True)
def test_gradient_by_hand(observed: Any, reference: Any) -> None:
    with goes_with("gradient.lesson_values"):  # the rule's point goes with values that work
        test_gradient_lesson_values(observed, reference)
    expect_by_hand(observed, "gradient", hint=M.AUTOGRAD_GRADIENT)


# --- descent_step ----------------------------------------------------------------------


def expect_step(value: Any, what: str, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, lr: float,
                expected: torch.Tensor, atol: float, rtol: float, decimals: int = 4) -> None:
    expect_close(value, expected, what=what, atol=atol, rtol=rtol, decimals=decimals,
                 mistakes=lambda: M.step_variants(x, y, w, lr), shape_hints={(): "return W's new value with W's shape (1,)"})


@check("descent_step", 1, "descent_step with lr 0.1 takes the course notebook's steps: W 0 -> 1.4 -> 0.840", public=True)
def test_descent_step_lesson_values(observed: Any, reference: Any) -> None:
    x, y = lesson_data()
    first, tol = printed(["1.4000"])  # the lesson prints tensor(1.4000)
    expect_step(observed.get("descent_step.lesson_first"), "descent_step from W = 0 with lr 0.1", x, y, T([0.0]),
                d.LESSON_LR, first, tol, 0.0)
    second, tol = printed(["0.840"])  # the training table's epoch 2
    expect_step(observed.get("descent_step.lesson_second"), "descent_step from W = 1.4 with lr 0.1", x, y,
                T(d.W_AFTER_ONE_STEP), d.LESSON_LR, second, tol, 0.0, decimals=3)
    with hidden():
        xa, ya, wa = T(d.A_X), T(d.A_Y), T(d.A_W)
        expect_step(observed.get("descent_step.hidden_a"), f"descent_step on other data with lr {d.A_LR}", xa, ya, wa, d.A_LR,
                    reference.descent_step(xa, ya, wa, d.A_LR), **HIDDEN)


@check("descent_step", 1, "descent_step updates W by hand, W - lr * gradient(x, y, W), without autograd or torch.optim", public=True)
def test_descent_step_by_hand(observed: Any, reference: Any) -> None:
    with goes_with("descent_step.lesson_values"):  # the rule's point goes with values that work
        test_descent_step_lesson_values(observed, reference)
    expect_by_hand(observed, "descent_step", hint=M.AUTOGRAD_STEP)


@check("descent_step", 2, "descent_step returns a new W and leaves the one it was given alone, even when W requires grad")
def test_descent_step_not_in_place(observed: Any, reference: Any) -> None:
    xb, yb, wb = T(d.B_X), T(d.B_Y), T(d.B_W)
    try:
        raw = observed.raw("descent_step.requires_grad")
    except StudentError as error:
        if "in-place" in error.message or "leaf Variable" in error.message:
            raise CheckFailed(f"descent_step failed on a W with requires_grad=True: {error.message}",
                              expected="a new tensor, W - lr * gradient(x, y, W)", obtained="RuntimeError",
                              hint=M.IN_PLACE) from None
        raise
    # The point rests on W's values after each call, compared with the W the grader sent. Whether
    # what came back is a leaf that requires grad (the harness's word) only words the failure.
    info = tensor_info(raw.get("value") if isinstance(raw, dict) else None)
    if info is not None and info.requires_grad and not info.has_grad_fn:
        expect_left_alone(raw, 2, wb, function="descent_step", name="W", hint=M.IN_PLACE_HIDDEN,
                          message="descent_step returned a tensor that requires grad but has no history: the W it was "
                                  "given, changed in place")
    expect_left_alone(raw, 2, wb, function="descent_step", name="W", hint=M.IN_PLACE)
    for probe, w in (("descent_step.lesson_first", [0.0]), ("descent_step.lesson_second", d.W_AFTER_ONE_STEP),
                     ("descent_step.hidden_a", d.A_W)):
        expect_left_alone(observed.raw(probe), 2, T(w), function="descent_step", name="W", hint=M.IN_PLACE)
    expected = reference.descent_step(xb, yb, wb.clone().requires_grad_(True), d.B_LR).detach()
    expect_step(decode(raw.get("value")), f"descent_step with lr {d.B_LR} on a W that requires grad", xb, yb, wb, d.B_LR,
                expected, **HIDDEN)


# --- cost_curve ------------------------------------------------------------------------


def curve_hints(m: int, n: int) -> dict[tuple[int, ...], str]:
    return {(): M.CURVE_ALL, (n, 1): M.CURVE_COLUMN, (m, n): M.CURVE_MATRIX}


def curve_variants(x: torch.Tensor, y: torch.Tensor, ws: torch.Tensor) -> Any:
    return lambda: memo(variant_curves)(x, y, ws)


def variant_curves(x: torch.Tensor, y: torch.Tensor, ws: torch.Tensor) -> dict[str, torch.Tensor]:
    """The cost curve over `ws` as each classic cost mistake computes it (a thousand costs each: remembered)."""
    return {hint: torch.stack([M.cost_of(x, y, w.reshape(1), kind) for w in ws]) for hint, kind in M.COST_KINDS}


def expect_curve(value: Any, what: str, x: torch.Tensor, y: torch.Tensor, ws: torch.Tensor, reference: Any) -> torch.Tensor:
    curve = as_tensor(value, what=what, shape=tuple(ws.shape), shape_hints=curve_hints(x.shape[0], ws.shape[0]))
    expect_close(curve, reference.cost_curve(x, y, ws), what=what, mistakes=curve_variants(x, y, ws), **HIDDEN)
    return curve


@check("cost_curve", 2, "over torch.linspace(-5, 7, 1000) the course notebook's cost curve is lowest at the grid point nearest W = 1", public=True)
def test_cost_curve_lesson(observed: Any, reference: Any) -> None:
    x, y = lesson_data()
    ws = T(d.linspace(d.CURVE_START, d.CURVE_END, d.CURVE_POINTS))
    what = "cost_curve over linspace(-5, 7, 1000) on the lesson's data"
    curve = as_tensor(observed.get("cost_curve.lesson"), what=what, shape=(d.CURVE_POINTS,), shape_hints=curve_hints(3, d.CURVE_POINTS))
    distance = (ws - 1).abs()
    nearest = [int(i) for i in torch.nonzero(distance <= distance.min() + 1e-6).reshape(-1)]  # 499 and 500: a tie
    lowest = int(torch.argmin(curve)) if not torch.isnan(curve).any() else -1
    variants = curve_variants(x, y, ws)
    carried = carried_output(variants)
    if lowest not in nearest and not (carried is not None and int(torch.argmin(carried)) == lowest):
        # (lowest where the student's own cost's mistake puts it: carried forward, grader.checks)
        grid = " or ".join(f"{float(ws[i]):.4f}" for i in nearest)
        raise CheckFailed(f"the curve is lowest at W = {float(ws[lowest]):.4f} (index {lowest}), not next to W = 1",
                          expected=f"the minimum at W = {grid} (index {' or '.join(map(str, nearest))})",
                          obtained=f"the minimum at W = {float(ws[lowest]):.4f}",
                          hint=diagnose(curve, variants(), **HIDDEN))
    with hidden():
        expect_curve(curve, what, x, y, ws, reference)
        expect_curve(observed.get("cost_curve.hidden_a"), "cost_curve on other data over 41 values of W", T(d.A_X), T(d.A_Y),
                     T(d.CURVE_A), reference)


@check("cost_curve", 1, "cost_curve works for any list of W values, unsorted and unevenly spaced")
def test_cost_curve_any_ws(observed: Any, reference: Any) -> None:
    expect_curve(observed.get("cost_curve.hidden_b"), "cost_curve on other data over 7 unsorted values of W", T(d.B_X),
                 T(d.B_Y), T(d.CURVE_B), reference)


# --- train -----------------------------------------------------------------------------

LESSON_TABLE = (  # the lesson's loop prints `W: {:.3f}, Cost: {:.6f}` at each epoch 0..10, before the update
    ("0.000", "4.666667"), ("1.400", "0.746666"), ("0.840", "0.119467"), ("1.064", "0.019115"), ("0.974", "0.003058"),
    ("1.010", "0.000489"), ("0.996", "0.000078"), ("1.002", "0.000013"), ("0.999", "0.000002"), ("1.000", "0.000000"),
    ("1.000", "0.000000"),
)


def history_parts(value: Any, epochs: int) -> tuple[Any, torch.Tensor, torch.Tensor]:
    """(W, the history's W column, its cost column), or a CheckFailed saying what is off."""
    if not isinstance(value, list) or len(value) != 2:
        raise CheckFailed(f"train returned {fmt(value)}; expected a pair (W, history)", expected="(W, history)", obtained=fmt(value))
    w, history = value
    if not isinstance(history, list):
        raise CheckFailed(f"history is {fmt(history)}; expected a list of {epochs + 1} (W, cost) pairs",
                          expected=f"a list of {epochs + 1} pairs", obtained=fmt(history))
    if len(history) != epochs + 1:
        raise CheckFailed(f"history has {len(history)} entries; expected {epochs + 1} (epochs + 1, one per epoch 0..{epochs})",
                          expected=f"{epochs + 1} entries", obtained=f"{len(history)} entries",
                          hint=M.ONE_EPOCH_SHORT if len(history) == epochs else "")
    columns: list[list[float]] = [[], []]
    for i, entry in enumerate(history):
        if not isinstance(entry, list) or len(entry) != 2:
            raise CheckFailed(f"history[{i}] is {fmt(entry)}; expected a pair (W, cost) of floats",
                              expected="(W, cost)", obtained=fmt(entry), hint="append (W.item(), cost(x, y, W).item())")
        for j, name in enumerate(("W", "cost")):
            columns[j].append(as_number(entry[j], what=f"history[{i}]'s {name}"))
    return w, torch.tensor(columns[0], dtype=torch.float64), torch.tensor(columns[1], dtype=torch.float64)


def whole_history_mistake(ws: torch.Tensor, costs: torch.Tensor, wrong: Mapping[str, Any], w_tol: float, c_tol: float) -> str:
    """The mistake whose whole history (both columns) matches the student's, else '' (with one carried
    forward: the mistake made on top of it, compare.candidates)."""
    for hint, (_, history) in candidates(wrong).items():
        if close(ws, torch.tensor([h[0] for h in history], dtype=torch.float64), w_tol, 1e-4) and \
                close(costs, torch.tensor([h[1] for h in history], dtype=torch.float64), c_tol, 1e-4):
            return named(hint)
    return ""


def expect_training(value: Any, reference: Any, x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, what: str,
                    table: tuple[tuple[str, str], ...] | None = None) -> None:
    w, ws, costs = history_parts(value, epochs)
    # A student kit has no reference solution: there only the lesson's printed table is compared.
    ref_w, ref_history = reference.train(x, y, lr=lr, epochs=epochs) if reference is not None else (None, None)
    wrong = functools.cache(lambda: variant_runs(lambda v: memo(M.simulate)(x, y, lr, epochs, v), M.VARIANTS))
    if table:
        (exp_ws, w_tol), (exp_costs, c_tol), rtol = printed([r[0] for r in table]), printed([r[1] for r in table]), 1e-6
    else:
        exp_ws = torch.tensor([h[0] for h in ref_history], dtype=torch.float64)
        exp_costs = torch.tensor([h[1] for h in ref_history], dtype=torch.float64)
        w_tol, c_tol, rtol = 1e-4, 1e-4, 1e-4
    try:
        if abs(float(ws[0])) > 1e-6:
            raise CheckFailed(f"history[0] has W = {float(ws[0]):.4f} {what}; training starts from W = 0",
                              expected="history[0][0] == 0.0", obtained=fmt(float(ws[0])), hint=M.NOT_FROM_ZERO)
        expect_close(ws, exp_ws, what=f"W in history, epochs 0..{epochs} {what}", atol=w_tol, rtol=rtol, decimals=3 if table else 4,
                     mistakes=derived(wrong, lambda run: torch.tensor([e[0] for e in run[1]])))
        expect_close(costs, exp_costs, what=f"cost in history, epochs 0..{epochs} {what}", atol=c_tol, rtol=rtol, decimals=6,
                     mistakes=derived(wrong, lambda run: torch.tensor([e[1] for e in run[1]])))
        if ref_w is not None:
            expect_close(w, ref_w.detach(), what=f"W returned after training {what}", atol=1e-4, rtol=1e-4,
                         mistakes=derived(wrong, lambda run: run[0]),
                         shape_hints={(): "return W with shape (1,), as created by torch.zeros(1)"})
    except CheckFailed as failure:
        failure.hint = whole_history_mistake(ws, costs, wrong(), w_tol, c_tol) or failure.hint
        raise


@check("train", 3, "train with lr 0.1 and 10 epochs prints the course notebook's table: W 0.000 -> 1.400 -> 0.840 ... 1.000, cost 4.666667 -> 0.000000", public=True)
def test_train_lesson_table(observed: Any, reference: Any) -> None:
    x, y = lesson_data()
    expect_training(observed.get("train.lesson"), reference, x, y, d.LESSON_LR, d.LESSON_EPOCHS,
                    "on the lesson's data with the default lr and epochs", LESSON_TABLE)
    with hidden():
        expect_training(observed.get("train.hidden_defaults"), reference, T(d.T_X), T(d.T_Y), d.LESSON_LR, d.LESSON_EPOCHS,
                        "on other data with the default lr and epochs")


@check("train", 2, "train follows the reference on other data, learning rate and epoch count")
def test_train_other_data(observed: Any, reference: Any) -> None:
    expect_training(observed.get("train.hidden"), reference, T(d.U_X), T(d.U_Y), d.U_LR, d.U_EPOCHS,
                    f"with lr {d.U_LR}, {d.U_EPOCHS} epochs on other data")
