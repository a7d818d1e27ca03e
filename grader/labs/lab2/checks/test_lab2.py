"""Lab 2's checks. Each one holds the student to a lesson's numbers AND to the reference
solution on hidden inputs, so hard-coding the lesson's numbers earns nothing. A check marked
`public=True` compares with the lessons' printed numbers and goes into the student kit without its
`with hidden():` blocks (grader.release); the other checks are hidden and stay here.

Fixtures: `observed` (what the student's functions returned, see grader.checks) and
`reference` (the reference solution, run here on the grader's side).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch
import torch.nn.functional as F

from grader.compare import CheckFailed, as_number, as_tensor, derived, expect_close, fmt, printed_tolerance
from grader.labs.lab2 import data as d
from grader.labs.lab2 import mistakes as M
from grader.labs.checking import T, Runs, check, goes_with, hidden, memo, expect_by_hand, expect_linear_model, first_step_lr, gradient_from_autograd, same_start, printed, reference_model_run, training_result
from grader.values import decode, tensor_info

HIDDEN = {"atol": 1e-4, "rtol": 1e-4}  # float32 work done in another order may differ this much


def pred_shape_hints(m: int) -> dict[tuple[int, ...], str]:
    return {(m,): M.SHAPE_M, (m, m): M.BROADCAST}


# --- hypothesis ------------------------------------------------------------------------


@check("hypothesis", 2, "H(x) = xW + b gives lesson 003's predictions 1.2645, 1.7607, 2.2570", public=True)
def test_hypothesis_lesson_values(observed: Any, reference: Any) -> None:
    expected, tol = printed(["1.2645", "1.7607", "2.2570"])
    x = T(d.LESSON_X)
    mistakes = {M.NO_BIAS: x * T(d.W_003)}
    expect_close(observed.get("hypothesis.lesson003"), expected.reshape(3, 1), what="hypothesis(x, W, b) at W 0.4963, b 0.7682",
                 atol=tol, mistakes=mistakes, shape_hints=pred_shape_hints(3))
    expected, tol = printed(["0.1333", "0.2267", "0.3200"])
    expect_close(observed.get("hypothesis.lesson002"), expected.reshape(3, 1), what="hypothesis(x, W, b) after lesson 002's first step",
                 atol=tol, mistakes={M.NO_BIAS: x * T(d.W_002_STEP)}, shape_hints=pred_shape_hints(3))
    with hidden():
        xa = T(d.A_X)
        expect_close(observed.get("hypothesis.hidden_a"), reference.hypothesis(xa, T(d.A_W), T(d.A_B)),
                     what="hypothesis on other data", mistakes={M.NO_BIAS: xa * T(d.A_W)},
                     shape_hints=pred_shape_hints(5), **HIDDEN)


@check("hypothesis", 1, "hypothesis keeps the (m, 1) shape and works for any m, negative W included, staying "
                         "connected to W and b when they require grad")
def test_hypothesis_other_shapes(observed: Any, reference: Any) -> None:
    x = T(d.B_X)
    expect_close(observed.get("hypothesis.hidden_b"), reference.hypothesis(x, T(d.B_W), T(d.B_B)),
                 what="hypothesis on 7 points with W -0.8, b 2.5", mistakes={M.NO_BIAS: x * T(d.B_W)},
                 shape_hints=pred_shape_hints(7), **HIDDEN)
    # The point rests on the gradients autograd gave W and b through the prediction's sum: sum(x) and m.
    raw = observed.raw("hypothesis.hidden_b")
    for index, name, expected in ((1, "W", x.sum().reshape(1)), (2, "b", torch.tensor([float(x.shape[0])]))):
        grad = gradient_from_autograd(raw, index, what=f"d sum(H) / d{name}", shape=(1,),
                                      cut_off="hypothesis on W and b that require grad returned a tensor cut off from autograd",
                                      expected="a prediction with a grad_fn, connected to W and b", hint=M.CUT_OFF)
        expect_close(grad, expected, what=f"d sum(H) / d{name}", atol=1e-4, rtol=1e-4)


# --- mse_cost --------------------------------------------------------------------------


def cost_mistakes(pred: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    return {hint: M.cost_of(pred, y, kind) for hint, kind in
            ((M.SUM, "sum"), (M.NO_SQUARE, "nosquare"), (M.ABSOLUTE, "abs"), (M.HALVED, "half"),
             (M.MEAN_SQUARED, "meansquared"), (M.BROADCAST, "broadcast"))}


def cost_value(observed: Any, probe: str, what: str, expected: torch.Tensor, atol: float, rtol: float,
               pred: torch.Tensor, y: torch.Tensor) -> None:
    value = observed.get(probe)
    if isinstance(value, torch.Tensor) and value.dim() != 0:
        raise CheckFailed(f"{what} has shape {tuple(value.shape)}; the cost must be a 0-dim tensor (a single number)",
                          expected="a 0-dim tensor", obtained=fmt(value),
                          hint="reduce with torch.mean over all elements, e.g. torch.mean((prediction - y) ** 2)")
    expect_close(value, expected, what=what, atol=atol, rtol=rtol, mistakes=cost_mistakes(pred, y))


@check("mse_cost", 2, "mse_cost gives lesson 002's 4.6667 and 3.6927, and lesson 003's 1715.8387", public=True)
def test_mse_cost_lesson_values(observed: Any, reference: Any) -> None:
    y = T(d.LESSON_Y)
    cost_value(observed, "mse_cost.lesson002", "mse_cost(0, y) on lesson 002's data", torch.tensor(4.6667, dtype=torch.float64),
               printed_tolerance("4.6667"), 0.0, torch.zeros(3, 1), y)
    step_pred = T(d.line(d.LESSON_X, d.W_002_STEP, d.B_002_STEP))
    cost_value(observed, "mse_cost.lesson002_step", "mse_cost after lesson 002's first step",
               torch.tensor(3.6927, dtype=torch.float64), printed_tolerance("3.6927"), 0.0, step_pred, y)
    pred, sy = T(d.line(d.LESSON_X, d.W_003, d.B_003)), T(d.STUDY_Y)
    cost_value(observed, "mse_cost.lesson003", "mse_cost on lesson 003's study-hours data",
               torch.tensor(1715.8387, dtype=torch.float64), printed_tolerance("1715.8387"), 1e-6, pred, sy)
    with hidden():
        pa, ya = T(d.line(d.A_X, d.A_W, d.A_B)), T(d.A_Y)
        cost_value(observed, "mse_cost.hidden_a", "mse_cost on other data", reference.mse_cost(pa, ya), 1e-4, 1e-4, pa, ya)


@check("mse_cost", 1, "mse_cost is a 0-dim tensor that autograd can differentiate, with the right gradient")
def test_mse_cost_autograd(observed: Any, reference: Any) -> None:
    pred, y = T(d.line(d.B_X, d.B_W, d.B_B)), T(d.B_Y)
    cost_value(observed, "mse_cost.autograd", "mse_cost on 7 points", reference.mse_cost(pred, y), 1e-4, 1e-4, pred, y)
    # The point rests on the gradient autograd gave the prediction, compared with the reference's.
    grad = gradient_from_autograd(observed.raw("mse_cost.autograd"), 0, what="d cost / d prediction", shape=tuple(pred.shape),
                                  cut_off="the cost is cut off from autograd: backward() cannot reach the prediction",
                                  expected="a tensor with a grad_fn, whose backward() reaches the prediction",
                                  hint="compute the cost with torch operations on the prediction; avoid .item(), "
                                       ".detach(), torch.tensor(...) or numpy on the way")
    p = pred.clone().requires_grad_(True)
    reference.mse_cost(p, y).backward()
    assert p.grad is not None
    expect_close(grad, p.grad, what="d cost / d prediction", atol=1e-5, rtol=1e-4,
                 mistakes={M.SUM: p.grad * pred.shape[0]})


# --- gradient --------------------------------------------------------------------------


def expect_gradient(observed: Any, probe: str, where: str, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor,
                    b: torch.Tensor, expected: tuple[torch.Tensor, torch.Tensor], atol: float, rtol: float) -> None:
    value = observed.get(probe)
    if not isinstance(value, list) or len(value) != 2:
        raise CheckFailed(f"gradient {where} returned {fmt(value)}; expected a pair (dW, db)",
                          expected="a tuple (dW, db)", obtained=fmt(value))
    variants = M.gradient_variants(x, y, w, b)
    for i, name in enumerate(("dW", "db")):
        expect_close(value[i], expected[i], what=f"{name} {where}", atol=atol, rtol=rtol,
                     mistakes={hint: pair[i] for hint, pair in variants.items()},
                     shape_hints={(): f"{name} must have the shape of {'W' if i == 0 else 'b'}, (1,): reshape it, e.g. .reshape(1)"})


@check("gradient", 2, "gradient gives lesson 003's -178.9621 and -76.4785 (and W 0.0933 after lesson 002's step)", public=True)
def test_gradient_lesson_values(observed: Any, reference: Any) -> None:
    x, sy, w, b = T(d.LESSON_X), T(d.STUDY_Y), T(d.W_003), T(d.B_003)
    (dw, tw), (db, tb) = printed(["-178.9621"]), printed(["-76.4785"])
    expect_gradient(observed, "gradient.lesson003", "on lesson 003's data", x, sy, w, b,
                    (dw, db), max(tw, tb), 1e-6)
    # Lesson 002: one SGD step of lr 0.01 from W = b = 0 lands at W 0.0933, b 0.0400.
    y = T(d.LESSON_Y)
    zero = torch.zeros(1)
    value = observed.get("gradient.lesson002")
    if isinstance(value, list) and len(value) == 2:
        stepped = [0.0 - 0.01 * as_number(g, what="the gradient") if isinstance(g, (int, float)) or
                   (isinstance(g, torch.Tensor) and g.numel() == 1) else None for g in value]
        if None not in stepped:
            expect_close(torch.tensor(stepped), printed(["0.0933", "0.0400"])[0],
                         what="(W, b) after a step of lr 0.01 with your gradient at W = b = 0", atol=printed_tolerance("0.0933"),
                         mistakes={h: torch.cat([-0.01 * p[0], -0.01 * p[1]]) for h, p in M.gradient_variants(x, y, zero, zero).items()})
    with hidden():
        expect_gradient(observed, "gradient.lesson002", "at W = b = 0 on lesson 002's data", x, y, zero, zero,
                        reference.gradient(x, y, zero, zero), **HIDDEN)
        xa, ya, wa, ba = T(d.A_X), T(d.A_Y), T(d.A_W), T(d.A_B)
        expect_gradient(observed, "gradient.hidden_a", "on other data", xa, ya, wa, ba, reference.gradient(xa, ya, wa, ba), **HIDDEN)


@check("gradient", 1, "gradient matches the MSE derivative on other data, shaped like W and b, and returns no "
                      "autograd history when W and b require grad")
def test_gradient_other_data(observed: Any, reference: Any) -> None:
    x, y, w, b = T(d.B_X), T(d.B_Y), T(d.B_W), T(d.B_B)
    where = "on 7 points with W -0.8, b 2.5 requiring grad"
    expect_gradient(observed, "gradient.hidden_b", where, x, y, w, b, reference.gradient(x, y, w, b), **HIDDEN)
    # The docstring: W and b may require grad (they do in train_step), and the result has no autograd history.
    raw = observed.raw("gradient.hidden_b")
    value = raw.get("value") if isinstance(raw, dict) else None
    parts = value.get("list") if isinstance(value, dict) else None
    for name, part in zip(("dW", "db"), parts if isinstance(parts, list) else []):
        info = tensor_info(part)
        if info is not None and (info.has_grad_fn or info.requires_grad):
            has = "it has a grad_fn" if info.has_grad_fn else "it requires grad"
            raise CheckFailed(f"{name} {where} carries autograd history ({has})",
                              expected=f"{name} without autograd history",
                              obtained=f"{name} with a grad_fn" if info.has_grad_fn else f"{name} requiring grad",
                              hint="compute dW and db inside torch.no_grad(), or from W.detach() and b.detach(): the "
                                   "gradient is worked out by hand, and the W and b it is given may require grad, as "
                                   "they do in train_step")


@check("gradient", 1, "gradient derives dW and db by hand, without backward(), torch.autograd or torch.optim", public=True)
def test_gradient_by_hand(observed: Any, reference: Any) -> None:
    with goes_with("gradient.lesson_values"):  # the rule's point goes with values that work
        test_gradient_lesson_values(observed, reference)
    expect_by_hand(observed, "gradient", hint=M.AUTOGRAD)


# --- train_step ------------------------------------------------------------------------


@memo
def reference_steps(reference: Any, x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor,
                    lr: float, steps: int) -> tuple[list[float], torch.Tensor]:
    """The reference train_step, called like the probe calls the student's: (costs, params after each, as
    one tensor, as the classic mistakes' runs give them)."""
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([w, b], lr=lr)
    costs, params = [], []
    for _ in range(steps):
        costs.append(float(reference.train_step(x, y, w, b, optimizer)))
        params.append(torch.stack((w.detach(), b.detach())))
    return costs, torch.stack(params)


def lazy_variants(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float, steps: int,
                  observed: Any = None) -> Any:
    """The classic mistakes' training runs, computed once and only if a value is wrong. Given the submission's
    answers (train_step's own checks), first the run at train_step's own lr whatever the optimizer's (step_lr):
    its costs are right where the lr is, and at lr 0.01 for 0.02 its W and b are a halved cost's. Last,
    training on lesson 002's data whatever the data given (x_train, y_train in the function), kept where it is
    the right run (on lesson 002's data): a mistake carried forward is compared with what it gives in every
    comparison (grader.checks)."""
    def runs() -> Runs:
        fixed = step_lr(observed) if observed is not None else None
        changes: dict[str, dict[str, Any]] = {M.FIXED_LR: {"lr": fixed}} if fixed is not None else {}
        changes.update({h: {"variant": v} for h, v in M.VARIANTS.items()})
        changes[M.LESSON_DATA] = {"data": (T(d.LESSON_X), T(d.LESSON_Y))}
        return M.training_runs(x, y, w0, b0, lr, steps, changes)
    return functools.cache(runs)


def step_lr(observed: Any) -> float | None:
    """The lr the student's train_step steps with whatever its optimizer's (an update by hand, an lr written in,
    an optimizer of its own), read from its first step on lesson 002's data (optimizer at lr 0.01) and on other
    data (at 0.02): the same lr on both, with the right cost. None when it follows its optimizer."""
    rates = []
    for probe, x, y, w, b in (("train_step.lesson002", d.LESSON_X, d.LESSON_Y, [0.0], [0.0]),
                              ("train_step.hidden_b", d.B_X, d.B_Y, d.STEP_START_W, d.STEP_START_B)):
        try:
            raw = observed.raw(probe)
            cost, w1 = float(decode(raw["returns"][0])), float(decode(raw["params"][0][0]))
        except Exception:  # no answer, or not numbers
            return None
        error = T(x).double() * w[0] + b[0] - T(y).double()
        slope = float(2 * (error * T(x).double()).mean())
        if not math.isclose(cost, float((error ** 2).mean()), rel_tol=1e-4, abs_tol=1e-6) or abs(slope) < 1e-6:
            return None  # the cost itself is wrong: another mistake
        rates.append((w[0] - w1) / slope)
    first, other = rates
    if first <= 0 or not math.isclose(first, other, rel_tol=1e-3):  # (the two optimizers' lrs differ: 0.01, 0.02)
        return None
    return float(f"{first:.3g}")


def expect_steps(observed: Any, reference: Any, probe: str, x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor,
                 b0: torch.Tensor, lr: float, steps: int, what: str,
                 printed_steps: dict[int, tuple[str, str | None, str | None]] | None = None) -> None:
    raw = observed.raw(probe)
    returns = [decode(r) for r in raw.get("returns", [])]
    params = [[decode(p) for p in pair] for pair in raw.get("params", [])]
    # A student kit has no reference solution: there only the lesson's printed steps are compared.
    costs, after = reference_steps(reference, x, y, w0, b0, lr, steps) if reference is not None else (None, None)
    wrong = lazy_variants(x, y, w0, b0, lr, steps, observed)
    for i in range(steps):
        label = f"step {i + 1} {what}"
        lesson = (printed_steps or {}).get(i)
        if lesson or costs is not None:
            exp_cost = torch.tensor(float(lesson[0]) if lesson else costs[i], dtype=torch.float64)
            atol = printed_tolerance(lesson[0]) if lesson else 1e-4
            expect_close(returns[i], exp_cost, what=f"the cost train_step returned at {label}", atol=atol, rtol=1e-4,
                         mistakes=derived(wrong, lambda run, i=i: torch.tensor(run[0][i], dtype=torch.float64)))
        for j, name in enumerate(("W", "b")):
            if lesson and lesson[j + 1] is not None:
                exp, tol = printed([str(lesson[j + 1])])
            elif after is not None:
                exp, tol = after[i][j], 1e-4
            else:
                continue
            expect_close(params[i][j], exp, what=f"{name} after {label}", atol=tol, rtol=1e-4,
                         mistakes=derived(wrong, lambda run, i=i, j=j: run[1][i][j]))


def expect_run(observed: Any, reference: Any, probe: str, x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor,
               b0: torch.Tensor, lr: float, steps: int, what: str) -> None:
    """Like expect_steps for a long run: all returned costs, then all W and all b, each compared at once."""
    raw = observed.raw(probe)
    returns = [decode(r) for r in raw.get("returns", [])]
    got_costs = torch.tensor([as_number(r, what=f"the cost train_step returned at call {i + 1}") for i, r in enumerate(returns)],
                             dtype=torch.float64)
    params = [[decode(p) for p in pair] for pair in raw.get("params", [])]
    costs, after = reference_steps(reference, x, y, w0, b0, lr, steps)
    wrong = lazy_variants(x, y, w0, b0, lr, steps, observed)
    expect_close(got_costs, torch.tensor(costs, dtype=torch.float64), what=f"the costs of {steps} train_step calls {what}",
                 atol=1e-4, rtol=1e-4, mistakes=derived(wrong, lambda run: torch.tensor(run[0], dtype=torch.float64)))
    for j, name in enumerate(("W", "b")):
        got = torch.cat([as_tensor(p[j], what=f"{name} after step {i + 1}", shape=(1,)) for i, p in enumerate(params)])
        expect_close(got, torch.cat([p[j] for p in after]), what=f"{name} after each of {steps} steps {what}", atol=1e-4,
                     rtol=1e-4, mistakes=derived(wrong, lambda run, j=j: torch.cat([q[j] for q in run[1]])))


@check("train_step", 2, "train_step reproduces lesson 002's first steps: cost 4.6667, then W 0.0933, b 0.0400, then cost 3.6927",
       public=True)
def test_train_step_lesson_values(observed: Any, reference: Any) -> None:
    expect_steps(observed, reference, "train_step.lesson002", T(d.LESSON_X), T(d.LESSON_Y), torch.zeros(1), torch.zeros(1), 0.01, 2,
                 "from W = b = 0 (lesson 002)", {0: ("4.6667", "0.0933", "0.0400"), 1: ("3.6927", None, None)})
    # The docstring asks for the cost as a Python float: a tensor keeps its autograd graph alive in train's list.
    returns = observed.raw("train_step.lesson002").get("returns", [])
    if returns and tensor_info(returns[0]) is not None:
        raise CheckFailed("train_step returned its cost as a tensor; its docstring asks for a Python float",
                          expected="a Python float, e.g. 4.6667", obtained=f"a tensor, {fmt(decode(returns[0]))}",
                          hint="take .item() of the cost you return, as the docstring asks: train keeps one cost per epoch, "
                               "and a cost kept as a tensor keeps its autograd graph alive there (unless detached)")
    with hidden():
        expect_steps(observed, reference, "train_step.hidden_a", T(d.A_X), T(d.A_Y), torch.zeros(1), torch.zeros(1), 0.01, 2,
                     "from W = b = 0 on other data")


def ignores_data(observed: Any) -> bool:
    """Whether train_step returned the same costs from W = b = 0 at lr 0.01 on lesson 002's data and on other
    data: it computes them from data of its own, whatever x and y it is given."""
    try:
        ours, theirs = ([float(decode(r)) for r in observed.raw(probe)["returns"]]
                        for probe in ("train_step.lesson002", "train_step.hidden_a"))
    except Exception:
        return False
    return len(ours) == len(theirs) > 0 and all(math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) for a, b in zip(ours, theirs))


@check("train_step", 2, "train_step takes several consecutive steps right from a non-zero start")
def test_train_step_consecutive(observed: Any, reference: Any) -> None:
    # (A hidden check: what it reads of other probes to word a failure stays out of the student kit.)
    try:
        consecutive_steps(observed, reference)
    except CheckFailed as failure:
        if not failure.hint and ignores_data(observed):
            failure.hint = M.DATA_IGNORED
        raise


def consecutive_steps(observed: Any, reference: Any) -> None:
    expect_steps(observed, reference, "train_step.hidden_b", T(d.B_X), T(d.B_Y), T(d.STEP_START_W), T(d.STEP_START_B),
                 d.STEP_LR, d.STEP_COUNT, "from W 0.3, b -0.2 on other data")


@check("train_step", 2, "301 train_step calls from lesson 003's start (lr 0.001) reach its W 16.2360, b 7.0396, "
                        "cost 9.6839 and RMSE 3.1119", public=True)
def test_train_step_lesson003_long_run(observed: Any, reference: Any) -> None:
    x, y, w0, b0 = T(d.LESSON_X), T(d.STUDY_Y), T(d.W_003), T(d.B_003)
    raw = observed.raw("train_step.lesson003")
    returns = [decode(r) for r in raw.get("returns", [])]
    params = [[decode(p) for p in pair] for pair in raw.get("params", [])]
    wrong = lazy_variants(x, y, w0, b0, d.STUDY_LR, d.STUDY_STEPS, observed)
    # Lesson 003 printed these after 301 steps (docs/values.md, "Lesson 003: the later numbers").
    for j, (name, text) in enumerate((("W", "16.2360"), ("b", "7.0396"))):
        expect_close(params[300][j], printed([text])[0], what=f"{name} after 301 steps from W 0.4963, b 0.7682",
                     atol=printed_tolerance(text), mistakes=derived(wrong, lambda run, j=j: run[1][300][j]))
    # Call 302 returns the cost at the parameters after 301 steps (the lesson's loss3), call 301 the
    # cost after 300 steps (the lesson's `loss`, left over from its last loop step).
    for index, text, root in ((301, "9.6839", "3.1119"), (300, None, "3.1200")):
        cost = as_number(returns[index], what=f"the cost train_step returned at call {index + 1}")
        mistakes = derived(wrong, lambda run, i=index: torch.tensor(run[0][i], dtype=torch.float64))
        if text:
            expect_close(cost, torch.tensor(float(text), dtype=torch.float64), atol=printed_tolerance(text), mistakes=mistakes,
                         what=f"the cost train_step returned at call {index + 1} (the cost after {index} steps)")
        expect_close(max(cost, 0.0) ** 0.5, torch.tensor(float(root), dtype=torch.float64), atol=printed_tolerance(root),
                     what=f"the square root of the cost after {index} steps",
                     mistakes=derived(mistakes, lambda v: v.clamp_min(0).sqrt()))
    with hidden():
        expect_run(observed, reference, "train_step.lesson003", x, y, w0, b0, d.STUDY_LR, d.STUDY_STEPS,
                   "from lesson 003's start")
        expect_run(observed, reference, "train_step.hidden_long", T(d.A_X), T(d.A_Y), T(d.LONG_START_W),
                   T(d.LONG_START_B), d.LONG_LR, d.LONG_STEPS, "from W 1.5, b -0.5 on other data")


# --- train -----------------------------------------------------------------------------

LESSON_TABLE = {  # lesson 002, "Training with Full Code": epoch -> (W, b after its step, cost before it)
    0: ("0.093", "0.040", "4.666667"), 100: ("0.873", "0.289", "0.012043"), 200: ("0.900", "0.227", "0.007442"),
    300: ("0.921", "0.179", "0.004598"), 400: ("0.938", "0.140", "0.002842"), 500: ("0.951", "0.110", "0.001756"),
    600: ("0.962", "0.087", "0.001085"), 700: ("0.970", "0.068", "0.000670"), 800: ("0.976", "0.054", "0.000414"),
    900: ("0.981", "0.042", "0.000256"), 1000: ("0.985", "0.033", "0.000158"),
}


DEFAULT_LR, DEFAULT_EPOCHS = 0.01, 1000  # train's defaults: what a train that ignores its arguments uses


def train_parts(value: Any, epochs: int) -> tuple[Any, Any, list[float]]:
    hints = {epochs: M.ONE_EPOCH_SHORT}
    if epochs != DEFAULT_EPOCHS:
        hints[DEFAULT_EPOCHS + 1] = M.EPOCHS_IGNORED
    return training_result(value, epochs + 1, length_hints=hints)


def training_variants(x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, observed: Any = None,
                      given: tuple[Any, list[float]] | None = None) -> Any:
    """The classic mistakes' training runs from W = b = 0, and a run at another lr than train was given: at
    train_step's own lr (step_lr: its mistake, carried forward), else at the default lr (train's own mistake,
    an lr it ignores), else at the lr train's first step shows (`given`: its W and costs; first_step_lr). Training
    on lesson 002's data whatever the data is train's own mistake when its train_step is right on other data
    (train passes x_train, y_train to it)."""
    zero = torch.zeros(1)

    def runs() -> Runs:
        fixed = step_lr(observed) if observed is not None else None
        changes: dict[str, dict[str, Any]] = {M.FIXED_LR: {"lr": fixed}} if fixed is not None else {}
        changes.update({h: {"variant": v} for h, v in M.VARIANTS.items()})
        lesson_data = M.TRAIN_LESSON_DATA if observed is not None and train_step_right_on_other_data(observed) \
            else M.LESSON_DATA
        changes[lesson_data] = {"data": (T(d.LESSON_X), T(d.LESSON_Y))}
        changes[M.LR_IGNORED] = {"lr": DEFAULT_LR}  # (the right run at lr 0.01)
        own = first_step_lr(x, y, *given) if given is not None and fixed is None else None
        if own is not None and not any(math.isclose(own, rate, rel_tol=1e-3) for rate in (lr, DEFAULT_LR)):
            changes[M.OWN_LR] = {"lr": own}
        return M.training_runs(x, y, zero, zero, lr, epochs + 1, changes)
    return functools.cache(runs)


def train_step_right_on_other_data(observed: Any) -> bool:
    """Whether the student's train_step returned the right first cost from W = b = 0 on other data."""
    try:
        first = float(decode(observed.raw("train_step.hidden_a")["returns"][0]))
    except Exception:
        return False
    return math.isclose(first, cost_at_zero(T(d.A_Y)), rel_tol=1e-4, abs_tol=1e-6)


def cost_at_zero(y: torch.Tensor) -> float:
    """The MSE cost at W = b = 0: the first cost of a train that starts where the lesson does."""
    return float((y.to(torch.float64) ** 2).mean())


def start_hint(observed: Any) -> str:
    """M.START where a first cost off the cost at W = b = 0 can only be a start elsewhere: the student's
    train_step returned the right cost from W = b = 0 (lesson 002's first step), so their cost is right there."""
    try:
        first = float(decode(observed.raw("train_step.lesson002")["returns"][0]))
    except Exception:  # no answer, or not one number: the cost itself may be what is wrong
        return ""
    return M.START if math.isclose(first, cost_at_zero(T(d.LESSON_Y)), rel_tol=1e-4, abs_tol=1e-6) else ""


def start_hint_on_other_data(observed: Any, start: str) -> str:
    """`start` (from start_hint) where train_step's first cost from W = b = 0 is right on other data too: one
    that reads the lesson's x_train, y_train instead of its x, y is right on lesson 002's data only."""
    return start if train_step_right_on_other_data(observed) else ""


def expect_training(value: Any, reference: Any, x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, what: str,
                    table: dict[int, tuple[str, str, str]] | None = None, start: str = "",
                    observed: Any = None) -> None:
    """train's costs, W and b against the lesson's table or the reference; `start` (from start_hint) is the
    hint for a first cost other than the cost at W = b = 0 that no classic mistake explains; `observed`, the
    submission's answers, tell which mistakes train_step made."""
    w, b, costs = train_parts(value, epochs)
    # With a table the lesson's numbers are the expected values; the reference run is not needed.
    ref_w, ref_b, ref_costs = (None, None, []) if table else memo(reference.train)(x, y, lr=lr, epochs=epochs)
    wrong = training_variants(x, y, lr, epochs, observed, (w, costs))
    epochs_to_check = sorted(table) if table else sorted({0, 1, epochs // 2, epochs})
    obtained = torch.tensor([costs[e] for e in epochs_to_check], dtype=torch.float64)
    if table:
        expected, atol = printed([table[e][2] for e in epochs_to_check])
        rtol = 1e-6
    else:
        expected, atol, rtol = torch.tensor([ref_costs[e] for e in epochs_to_check], dtype=torch.float64), 1e-4, 1e-3
    try:
        expect_close(obtained, expected, what=f"costs at epochs {epochs_to_check} {what}", atol=atol, rtol=rtol,
                     decimals=6, mistakes=derived(wrong, lambda run: torch.tensor([run[0][e] for e in epochs_to_check],
                                                                        dtype=torch.float64)))
    except CheckFailed as failure:
        # No classic mistake matched, the cost is right at W = b = 0 (`start`) and training went down from a
        # first cost other than that: a start elsewhere (a random one cannot be replayed without the
        # student's random numbers).
        first, last = float(costs[0]), float(costs[-1])
        if (start and not failure.hint and math.isfinite(first) and last < first
                and not math.isclose(first, cost_at_zero(y), rel_tol=1e-4, abs_tol=1e-6)):
            failure.hint = start
        raise
    for j, (name, got) in enumerate((("W", w), ("b", b))):
        if table:
            exp, tol = printed([table[epochs][j]])
        else:
            ref = ref_w if j == 0 else ref_b
            assert ref is not None
            exp, tol = ref.detach(), 1e-3
        expect_close(got, exp, what=f"{name} after training {what}", atol=tol, rtol=1e-3, decimals=3 if table else 4,
                     mistakes=derived(wrong, lambda run, j=j: run[1][-1][j]),
                     shape_hints={(): f"return {name} with shape (1,) as created by torch.zeros(1)"})


@check("train", 2, "train with lr 0.01 and 1000 epochs reproduces lesson 002's table, ending at W 0.985, b 0.033, cost 0.000158",
       public=True)
def test_train_lesson_table(observed: Any, reference: Any) -> None:
    start = start_hint(observed)
    expect_training(observed.get("train.lesson002"), reference, T(d.LESSON_X), T(d.LESSON_Y), 0.01, 1000,
                    "on lesson 002's data with the default lr and epochs", LESSON_TABLE, start, observed)
    with hidden():
        start = start_hint_on_other_data(observed, start)
        expect_training(observed.get("train.hidden_defaults"), reference, T(d.T_X), T(d.T_Y), 0.01, 1000,
                        "on other data with the default lr and epochs", start=start, observed=observed)


@check("train", 1, "train trains with optim.SGD, as its docstring asks: it calls torch.optim.SGD", public=True)
def test_train_sgd(observed: Any, reference: Any) -> None:
    with goes_with("train.lesson_table"):  # the rule's point goes with values that work
        test_train_lesson_table(observed, reference)
    expect_by_hand(observed, "train", hint=M.NO_SGD)


LESSON000_TABLE = {  # lesson 000's six points: the log lines its code prints (recomputed; the lesson shows no output)
    0: ("0.650", "0.147", "70.333336"), 100: ("2.126", "0.060", "0.712527"), 200: ("2.193", "-0.224", "0.626169"),
}


@check("train", 1, "train on lesson 000's six points gives its log lines: epoch 0 W 0.650, b 0.147, cost 70.333336; "
                   "and trains six other points the same way", public=True)
def test_train_lesson000(observed: Any, reference: Any) -> None:
    x, y, what = T(d.L000_X), T(d.L000_Y), "on lesson 000's six points"
    start = start_hint(observed)
    expect_training(observed.get("train.lesson000_epoch0"), reference, x, y, d.L000_LR, 0, f"{what}, epochs=0",
                    {0: LESSON000_TABLE[0]}, start, observed)
    lesson = observed.get("train.lesson000")
    expect_training(lesson, reference, x, y, d.L000_LR, d.L000_EPOCHS, f"{what}, epochs={d.L000_EPOCHS}", LESSON000_TABLE,
                    start, observed)
    with hidden():
        start = start_hint_on_other_data(observed, start)
        expect_training(lesson, reference, x, y, d.L000_LR, d.L000_EPOCHS, f"{what}, against the reference", start=start,
                        observed=observed)
        expect_training(observed.get("train.hidden_six"), reference, T(d.S_X), T(d.S_Y), d.S_LR, d.S_EPOCHS,
                        f"with lr {d.S_LR}, {d.S_EPOCHS} epochs on six other points", start=start,
                        observed=observed)


@check("train", 2, "train follows the reference on other data, learning rate and epoch count")
def test_train_other_data(observed: Any, reference: Any) -> None:
    x, y = T(d.T_X), T(d.T_Y)
    expect_training(observed.get("train.hidden"), reference, x, y, d.T_LR, d.T_EPOCHS, f"with lr {d.T_LR}, {d.T_EPOCHS} epochs on other data",
                    start=start_hint_on_other_data(observed, start_hint(observed)), observed=observed)


# --- LinearRegressionModel -------------------------------------------------------------


def model_run(reference: Any, seed: int, x: torch.Tensor, y: torch.Tensor | None = None,
              lr: float = 0.0, steps: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    return reference_model_run(reference, "LinearRegressionModel", seed, x, y, lr, steps)


def by_hand_hint(raw: Any) -> str:
    """The harness's word on the module (the student's process describing itself) only picks the hint."""
    structure = raw.get("structure") if isinstance(raw, dict) else None
    return "" if isinstance(structure, dict) and structure.get("linear_is_nn_linear") is True else M.BY_HAND


@check("LinearRegressionModel", 1, "LinearRegressionModel holds one nn.Linear(1, 1) named linear and forward returns self.linear(x)")
def test_LinearRegressionModel_structure(observed: Any, reference: Any) -> None:
    # Judged by values: self.linear(x) and forward(x) after the seed, and the outputs after seeded training.
    probes = (("LinearRegressionModel.lesson002", 1, T(d.LESSON_X), None, "the lesson's data"),
              ("LinearRegressionModel.hidden", d.MODEL_SEED, T(d.A_X), T(d.A_Y), "other data"))
    itself = same_start(observed, [(probe, x) for probe, _, x, _, _ in probes])  # (whatever the caller's seed)
    for probe, seed, x, y, data in probes:
        run = model_run(reference, seed, x, y, d.MODEL_LR, d.MODEL_STEPS)
        expect_linear_model(observed.raw(probe), run, linear="nn.Linear(1, 1)", seed=seed, data=data, by_hand=M.BY_HAND,
                            shape_hints=pred_shape_hints(x.shape[0]), seeds_itself=itself)


@check("LinearRegressionModel", 2, "after torch.manual_seed(1) the model predicts lesson 002's 0.0739, 0.5891, 1.1044 (cost 2.1471)",
       public=True)
def test_LinearRegressionModel_lesson_values(observed: Any, reference: Any) -> None:
    hint = by_hand_hint(observed.raw("LinearRegressionModel.lesson002"))
    out = observed.get("LinearRegressionModel.lesson002", "output")
    expected, tol = printed(["0.0739", "0.5891", "1.1044"])
    try:
        expect_close(out, expected.reshape(3, 1), what="model(x) after torch.manual_seed(1)", atol=tol,
                     shape_hints=pred_shape_hints(3))
        cost = F.mse_loss(as_tensor(out, what="model(x)"), T(d.LESSON_Y).double())
        expect_close(cost, printed(["2.1471"])[0][0], what="F.mse_loss(model(x), y)", atol=printed_tolerance("2.1471"))
        with hidden():
            _, before, trained = model_run(reference, d.MODEL_SEED, T(d.A_X), T(d.A_Y), d.MODEL_LR, d.MODEL_STEPS)
            expect_close(observed.get("LinearRegressionModel.hidden", "output"), before,
                         what=f"model(x) on other data after torch.manual_seed({d.MODEL_SEED})", **HIDDEN)
            assert trained is not None
            expect_close(observed.get("LinearRegressionModel.hidden", "trained"), trained,
                         what=f"model(x) after {d.MODEL_STEPS} SGD steps on its parameters", **HIDDEN)
    except CheckFailed as failure:
        failure.hint = failure.hint or hint
        raise
