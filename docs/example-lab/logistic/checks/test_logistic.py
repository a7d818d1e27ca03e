"""The logistic lab's checks. Each public check (`public=True`) compares with the numbers the
solution notebook prints on the lesson's data and, in its `with hidden():` blocks, with the
reference solution on hidden inputs, so hard-coding the lesson's numbers earns nothing. The
student kit (`grade release`) keeps the public checks without their hidden blocks; the other
checks are hidden and stay here.

Fixtures: `observed` (what the student's functions returned, see grader.checks) and
`reference` (the reference solution, solution/logistic.py, run here on the grader's side).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import torch

from grader.compare import CheckFailed, as_number, expect_close, fmt
from grader.labs.checking import T, check, gradient_from_autograd, hidden, printed
from grader.labs.logistic import data as d
from grader.labs.logistic import mistakes as M
from grader.values import decode

HIDDEN: dict[str, Any] = {"atol": 1e-4, "rtol": 1e-4}  # float32 work done in another order may differ this much

Run = list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # per step: (cost returned, W after, b after)


def shape_hints(m: int) -> dict[tuple[int, ...], str]:
    return {(m,): M.SHAPE_M}


# --- hypothesis ------------------------------------------------------------------------


@check("hypothesis", 2, "hypothesis gives the lesson's 0.5000 at W = b = 0, and 0.3775 to 0.8808 at another W and b",
       public=True)
def test_hypothesis_lesson_values(observed: Any, reference: Any) -> None:
    x = T(d.LESSON_X)
    expected, tol = printed(["0.5000"] * 6)
    expect_close(observed.get("hypothesis.zeros"), expected.reshape(6, 1), what="hypothesis(x, W, b) at W = b = 0",
                 atol=tol, mistakes=M.hypothesis_mistakes(x, T(d.ZERO_W), T(d.ZERO_B)), shape_hints=shape_hints(6))
    expected, tol = printed(["0.3775", "0.4378", "0.6792", "0.6792", "0.7773", "0.8808"])
    expect_close(observed.get("hypothesis.lesson"), expected.reshape(6, 1),
                 what="hypothesis(x, W, b) at W = [[0.5], [-0.25]], b = [-0.5]", atol=tol,
                 mistakes=M.hypothesis_mistakes(x, T(d.SOME_W), T(d.SOME_B)), shape_hints=shape_hints(6))
    with hidden():
        xa, wa, ba = T(d.A_X), T(d.A_W), T(d.A_B)
        expect_close(observed.get("hypothesis.hidden_a"), reference.hypothesis(xa, wa, ba), what="hypothesis on other data",
                     mistakes=M.hypothesis_mistakes(xa, wa, ba), shape_hints=shape_hints(5), **HIDDEN)


@check("hypothesis", 1, "hypothesis keeps the (m, 1) shape and follows the sigmoid on other data, negative weights included")
def test_hypothesis_other_data(observed: Any, reference: Any) -> None:
    x, w, b = T(d.B_X), T(d.B_W), T(d.B_B)
    expect_close(observed.get("hypothesis.hidden_b"), reference.hypothesis(x, w, b), what="hypothesis on 7 other points",
                 mistakes=M.hypothesis_mistakes(x, w, b), shape_hints=shape_hints(7), **HIDDEN)


# --- bce_cost --------------------------------------------------------------------------


def cost_value(observed: Any, probe: str, what: str, expected: torch.Tensor, atol: float, rtol: float,
               pred: torch.Tensor, y: torch.Tensor) -> None:
    value = observed.get(probe)
    if isinstance(value, torch.Tensor) and value.dim() != 0:
        raise CheckFailed(f"{what} has shape {tuple(value.shape)}; the cost must be a 0-dim tensor (a single number)",
                          expected="a 0-dim tensor", obtained=fmt(value), hint=M.NOT_REDUCED)
    expect_close(value, expected, what=what, atol=atol, rtol=rtol, mistakes=M.cost_mistakes(pred, y))


@check("bce_cost", 2, "bce_cost gives the lesson's 0.6931 when every prediction is 0.5, and 0.4921 at another W and b",
       public=True)
def test_bce_cost_lesson_values(observed: Any, reference: Any) -> None:
    y = T(d.LESSON_Y)
    expected, tol = printed(["0.6931"])
    cost_value(observed, "bce_cost.halves", "bce_cost on the lesson's data with every prediction 0.5", expected[0], tol, 0.0,
               T(d.HALVES), y)
    expected, tol = printed(["0.4921"])
    cost_value(observed, "bce_cost.lesson", "bce_cost on the lesson's data at W = [[0.5], [-0.25]], b = [-0.5]",
               expected[0], tol, 0.0, T(d.sigmoid_line(d.LESSON_X, d.SOME_W, d.SOME_B)), y)
    with hidden():
        pa, ya = T(d.sigmoid_line(d.A_X, d.A_W, d.A_B)), T(d.A_Y)
        cost_value(observed, "bce_cost.hidden_a", "bce_cost on other data", reference.bce_cost(pa, ya), 1e-4, 1e-4, pa, ya)


@check("bce_cost", 1, "bce_cost is a 0-dim tensor that autograd can differentiate, with the right gradient")
def test_bce_cost_autograd(observed: Any, reference: Any) -> None:
    pred, y = T(d.sigmoid_line(d.B_X, d.B_W, d.B_B)), T(d.B_Y)
    cost_value(observed, "bce_cost.autograd", "bce_cost on 7 other points", reference.bce_cost(pred, y), 1e-4, 1e-4, pred, y)
    # The point rests on the gradient autograd gave the prediction, compared with the reference's.
    grad = gradient_from_autograd(observed.raw("bce_cost.autograd"), 0, what="d cost / d prediction", shape=tuple(pred.shape),
                                  cut_off="the cost is cut off from autograd: backward() cannot reach the prediction",
                                  expected="a tensor with a grad_fn, whose backward() reaches the prediction",
                                  hint="compute the cost with torch operations on the prediction; avoid .item(), "
                                       ".detach(), torch.tensor(...) or numpy on the way")
    p = pred.clone().requires_grad_(True)
    reference.bce_cost(p, y).backward()
    assert p.grad is not None
    expect_close(grad, p.grad, what="d cost / d prediction", atol=1e-5, rtol=1e-4, mistakes=M.cost_gradients(pred, y))


# --- train_step ------------------------------------------------------------------------

LESSON_STEPS = (  # SGD with lr 1 from W = b = 0: (cost returned, W after the step, b after the step)
    ("0.6931", ("0.7500", "0.1667"), "0.0000"),
    ("1.0093", ("-0.0880", "-0.6515"), "-0.4158"),
)


def printed_run(table: tuple[tuple[str, tuple[str, str], str], ...]) -> tuple[Run, float]:
    """The printed steps as a Run, and the tolerance their precision implies."""
    run, tol = [], 0.0
    for cost, w, b in table:
        (c, tc), (wt, tw), (bt, tb) = printed([cost]), printed(list(w)), printed([b])
        run.append((c[0], wt.reshape(2, 1), bt))
        tol = max(tol, tc, tw, tb)
    return run, tol


def reference_run(reference: Any, x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float,
                  steps: int) -> Run:
    """The reference train_step, called the way the probe calls the student's."""
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([w, b], lr=lr)
    run = []
    for _ in range(steps):
        cost = reference.train_step(x, y, w, b, optimizer)
        run.append((torch.tensor(float(cost), dtype=torch.float64), w.detach().clone(), b.detach().clone()))
    return run


def expect_steps(observed: Any, probe: str, expected: Run, *, what: str, atol: float, rtol: float,
                 mistakes: Callable[[], dict[str, Run]] | None = None) -> None:
    """Each step's returned cost, then W and b after it, against `expected`; `mistakes` names a wrong run."""
    raw = observed.raw(probe)
    returns = [decode(r) for r in raw.get("returns", [])] if isinstance(raw, dict) else []
    params = [[decode(p) for p in pair] for pair in raw.get("params", [])] if isinstance(raw, dict) else []
    if len(returns) != len(expected) or len(params) != len(expected) or any(len(p) != 2 for p in params):
        raise CheckFailed("the submission's answer was malformed")
    wrong = functools.cache(mistakes or dict)
    for i, (cost, w, b) in enumerate(expected):
        label = f"step {i + 1} {what}"
        got = as_number(returns[i], what=f"the cost train_step returned at {label}")
        if math.isnan(got):
            raise CheckFailed(f"the cost train_step returned at {label} is nan", expected=fmt(float(cost)), obtained="nan",
                              hint=M.NAN_COST)
        expect_close(got, cost, what=f"the cost train_step returned at {label}", atol=atol, rtol=rtol,
                     mistakes=lambda i=i: {h: run[i][0] for h, run in wrong().items()})
        for j, (name, want) in enumerate((("W", w), ("b", b))):
            expect_close(params[i][j], want, what=f"{name} after {label}", atol=atol, rtol=rtol,
                         mistakes=lambda i=i, j=j: {h: run[i][j + 1] for h, run in wrong().items()})


@check("train_step", 2, "train_step takes the lesson's first two steps (lr 1, from W = b = 0): cost 0.6931, then 1.0093",
       public=True)
def test_train_step_lesson_values(observed: Any, reference: Any) -> None:
    x, y, w0, b0 = T(d.LESSON_X), T(d.LESSON_Y), T(d.ZERO_W), T(d.ZERO_B)
    expected, tol = printed_run(LESSON_STEPS)
    expect_steps(observed, "train_step.lesson", expected, what="from W = b = 0 with lr 1 (the lesson)", atol=tol, rtol=0.0,
                 mistakes=lambda: M.training_mistakes(x, y, w0, b0, d.LESSON_LR, d.LESSON_STEPS))
    with hidden():
        xa, ya = T(d.A_X), T(d.A_Y)
        expect_steps(observed, "train_step.hidden_a", reference_run(reference, xa, ya, w0, b0, d.LESSON_LR, d.LESSON_STEPS),
                     what="from W = b = 0 with lr 1 on other data", **HIDDEN,
                     mistakes=lambda: M.training_mistakes(xa, ya, w0, b0, d.LESSON_LR, d.LESSON_STEPS))


@check("train_step", 2, "train_step takes several consecutive steps right from a non-zero start, on other data")
def test_train_step_consecutive(observed: Any, reference: Any) -> None:
    x, y, w0, b0 = T(d.B_X), T(d.B_Y), T(d.STEP_W), T(d.STEP_B)
    expect_steps(observed, "train_step.hidden_b", reference_run(reference, x, y, w0, b0, d.STEP_LR, d.STEP_COUNT),
                 what=f"from a non-zero start with lr {d.STEP_LR}", **HIDDEN,
                 mistakes=lambda: M.training_mistakes(x, y, w0, b0, d.STEP_LR, d.STEP_COUNT))
