"""Lab 3's classic mistakes, computed on the grader's side from the same inputs.

When a student's value is wrong, the checks compare it with what each known mistake
would have produced; a match names the mistake. `simulate` replays the lesson's
training loop with one deliberate error switched on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

COST_SUM = "looks like sum instead of mean: the cost is torch.mean((x * W - y) ** 2), the squared errors added up and divided by m"
COST_NO_SQUARE = "looks like a missing square: the cost averages (x * W - y) ** 2, not x * W - y"
COST_ABS = "looks like the absolute error |x * W - y| instead of the squared error (x * W - y) ** 2"
GRAD_MEAN = ("looks like mean instead of sum: the lesson's gradient is torch.sum((W * x - y) * x), the plain sum over "
             "the m points; torch.mean divides it by m")
GRAD_TWO_OVER_M = ("looks like (2/m) * sum, the exact derivative of the mean cost (lab 2's formula); this lesson defines "
                   "the gradient as the plain sum torch.sum((W * x - y) * x), without the factor 2/m")
GRAD_SIGN = ("looks like the gradient's sign is flipped: it is sum((W * x - y) * x), negative when W is below the best W "
             "(at W = 0 on the lesson's data it is -14)")
GRAD_NO_X = "looks like the factor x is missing: the gradient is sum((W * x - y) * x), the error times x, not sum(W * x - y)"
UPDATE_ADDED = ("looks like W moves along the gradient instead of against it: gradient descent is W - lr * gradient, "
                "not W + lr * gradient (check the sign of the update and of gradient)")
AUTOGRAD_GRADIENT = ("looks like autograd doing the exercise's work: the lesson computes the gradient by its formula, "
                     "torch.sum((W * x - y) * x), without backward() or an optimizer")
AUTOGRAD_STEP = ("looks like autograd or an optimizer doing the exercise's work: the hand-written step is "
                 "W - lr * gradient(x, y, W) with your own gradient, no backward() and no torch.optim")
IN_PLACE = ("looks like W is updated in place (`W -= lr * gradient` or W.sub_(...)): on a W that requires grad autograd "
            "refuses it ('a leaf Variable that requires grad is being used in an in-place operation'), and on any W it "
            "changes the caller's tensor; return a new tensor instead: return W - lr * gradient(x, y, W)")
IN_PLACE_HIDDEN = ("looks like W was updated in place and returned (under torch.no_grad() or through W.data): what came back "
                   "is a leaf that requires grad, i.e. the very W that was passed in, now changed; return a new tensor "
                   "instead: return W - lr * gradient(x, y, W)")
CURVE_ALL = ("the costs were averaged over everything: x * Ws broadcasts to (m, n), one column per W; average over the "
             "m points only (dim=0), or call cost(x, y, W) once per W and torch.stack the results")
CURVE_COLUMN = "the curve has shape (n, 1): return one number per W, shape (n,), e.g. torch.stack of the 0-dim costs"
CURVE_MATRIX = "the curve is the (m, n) matrix of squared errors: average it over the m points (dim=0) to get one cost per W"
ONE_EPOCH_SHORT = ("looks like one epoch too few: the lesson's loop is `for epoch in range(nb_epochs + 1)`, so there are "
                   "epochs + 1 history entries and epochs + 1 updates")
RECORDED_AFTER = ("looks like W and the cost are recorded after the update: the lesson prints W and the cost first and "
                  "updates W last, so history[0] is (0.0, cost at W = 0)")
W_RECORDED_AFTER = ("looks like W is recorded after the update but the cost before it (the way lab 2 prints): here each "
                    "entry holds the W the cost was computed at, so history[0] is (0.0, cost at W = 0)")
NOT_FROM_ZERO = "looks like training does not start from W = torch.zeros(1): history[0] must be (0.0, cost at W = 0)"
# hypothesis's shape mistakes; the cost of such a prediction against the (m, 1) y is the mean over an (m, m) matrix.
PRED_FLAT = "the prediction has shape (m,) instead of (m, 1): keep the shape of x, as x * W does"
PRED_TRANSPOSED = "the prediction is transposed, (1, m) instead of (m, 1): compute x * W with x as given"
PRED_SQUARE = "the prediction is (m, m): a (m,) tensor was broadcast against an (m, 1) one; use x * W"


def cost_of(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, kind: str = "mean") -> torch.Tensor:
    err = x * w - y
    if kind == "sum":
        return torch.sum(err ** 2)
    if kind == "nosquare":
        return torch.mean(err)
    if kind == "abs":
        return torch.mean(err.abs())
    if kind == "broadcast":  # an (m,) or (1, m) prediction: (m,) - (m, 1) is (m, m)
        return torch.mean(((x * w).reshape(-1) - y) ** 2)
    return torch.mean(err ** 2)


# Each cost mistake, and hypothesis's shape mistakes as the student's own cost then computes them
# (carried forward to cost, cost_curve and train: grader.checks).
COST_KINDS = ((COST_SUM, "sum"), (COST_NO_SQUARE, "nosquare"), (COST_ABS, "abs"), (PRED_FLAT, "broadcast"),
              (PRED_TRANSPOSED, "broadcast"))


def cost_gradients(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> dict[str, torch.Tensor]:
    """d cost / dW at w, from autograd, as each cost mistake computes the cost."""
    found = {}
    for hint, kind in COST_KINDS:
        p = w.detach().clone().requires_grad_(True)
        cost_of(x, y, p, kind).backward()
        assert p.grad is not None
        found[hint] = p.grad
    return found


def cost_variants(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> dict[str, torch.Tensor]:
    return {hint: cost_of(x, y, w, kind) for hint, kind in COST_KINDS}


def gradient_of(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, kind: str = "sum") -> torch.Tensor:
    """The lesson's gradient, or a classic variant of it, shaped like w."""
    total = torch.sum((w * x - y) * x)
    m = x.shape[0]
    value = {"sum": total, "mean": total / m, "two_over_m": 2 * total / m, "flipped": -total,
             "no_x": torch.sum(w * x - y)}[kind]
    return value.reshape(w.shape)


def gradient_variants(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> dict[str, torch.Tensor]:
    return {hint: gradient_of(x, y, w, kind) for hint, kind in
            ((GRAD_MEAN, "mean"), (GRAD_TWO_OVER_M, "two_over_m"), (GRAD_SIGN, "flipped"), (GRAD_NO_X, "no_x"))}


def step_variants(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, lr: float) -> dict[str, torch.Tensor]:
    """The new W as each classic mistake computes it."""
    wrong = {UPDATE_ADDED: w + lr * gradient_of(x, y, w)}
    wrong.update({hint: w - lr * g for hint, g in gradient_variants(x, y, w).items() if hint != GRAD_SIGN})
    return wrong


@dataclass(frozen=True)
class Variant:
    gradient: str = "sum"  # sum | mean | two_over_m | no_x
    direction: float = -1.0  # -1: W - lr * gradient; +1: W + lr * gradient
    cost: str = "mean"  # mean | sum | nosquare | abs
    record: str = "before"  # before | after (W and cost after the update) | w_after (W after, cost before)


VARIANTS = {
    GRAD_MEAN: Variant(gradient="mean"),
    GRAD_TWO_OVER_M: Variant(gradient="two_over_m"),
    GRAD_NO_X: Variant(gradient="no_x"),
    UPDATE_ADDED: Variant(direction=1.0),
    COST_SUM: Variant(cost="sum"),
    COST_NO_SQUARE: Variant(cost="nosquare"),
    COST_ABS: Variant(cost="abs"),
    PRED_FLAT: Variant(cost="broadcast"),  # hypothesis's words for the same history (carried forward)
    PRED_TRANSPOSED: Variant(cost="broadcast"),
    RECORDED_AFTER: Variant(record="after"),
    W_RECORDED_AFTER: Variant(record="w_after"),
}


def simulate(x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int,
             variant: Variant = Variant()) -> tuple[torch.Tensor, list[tuple[float, float]]]:
    """The lesson's loop from W = 0 with one mistake switched on: (W after it, history)."""
    w = torch.zeros(1)
    history = []
    for _ in range(epochs + 1):
        before = float(cost_of(x, y, w, variant.cost))
        new = w + variant.direction * lr * gradient_of(x, y, w, variant.gradient)
        if variant.record == "after":
            history.append((float(new), float(cost_of(x, y, new, variant.cost))))
        elif variant.record == "w_after":
            history.append((float(new), before))
        else:
            history.append((float(w), before))
        w = new
    return w, history
