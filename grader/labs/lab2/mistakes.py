"""Lab 2's classic mistakes, computed on the grader's side from the same inputs.

When a student's value is wrong, the checks compare it with what each known mistake
would have produced; a match names the mistake. `simulate` replays SGD training with
one deliberate error switched on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from grader.labs.checking import Runs
from grader.labs.remembering import memo

SUM = "looks like sum instead of mean: the MSE cost divides by m (torch.mean), it does not add the squared errors up"
NO_SQUARE = "looks like a missing square: the MSE averages (H(x) - y) ** 2, not H(x) - y"
ABSOLUTE = "looks like the absolute error |H(x) - y| instead of the squared error (H(x) - y) ** 2"
HALVED = ("looks like half the mean squared error (a convention some books use): the lesson's cost is "
          "torch.mean((H(x) - y) ** 2), without the / 2")
MEAN_SQUARED = ("looks like the mean error squared, torch.mean(H(x) - y) ** 2, instead of the mean of the squared "
                "errors, torch.mean((H(x) - y) ** 2)")
BROADCAST = ("looks like an (m,) prediction broadcast against the (m, 1) target: (m,) - (m, 1) makes an (m, m) "
             "matrix and the mean is silently wrong; keep predictions (m, 1), as x * W + b does")
ZERO_GRAD = ("looks like a forgotten optimizer.zero_grad(): gradients pile up, so the first step is right "
             "and every later one is too big")
AFTER_STEP = "looks like the cost is returned after optimizer.step(); return the cost computed before the step"
NO_MOVE = ("looks like the parameters never move: optimizer.zero_grad() between backward() and step() erases the "
           "gradients step() needs, or step() is missing; the order is zero_grad(), cost, backward(), step()")
LR_IGNORED = ("looks like train ignores its lr argument: the optimizer uses lr=0.01 whatever train is given; "
              "pass lr=lr to optim.SGD")
OWN_LR = ("looks like train trains at an lr of its own whatever lr it is given (a number written into optim.SGD): "
          "pass lr=lr to optim.SGD")
EPOCHS_IGNORED = ("looks like train ignores its epochs argument: it trains 1000 epochs whatever it is given; "
                  "loop over range(epochs + 1)")
LESSON_DATA = ("looks like train_step trains on lesson 002's data (x_train, y_train) whatever x and y it is given: "
               "compute the cost from its arguments, hypothesis(x, W, b) against y")
DATA_IGNORED = ("looks like train_step ignores its x and y: from W = b = 0 it returns the same costs on lesson 002's data "
                "and on other data (x_train, y_train read from outside the function?); compute the cost from its arguments "
                "x and y")
FIXED_LR = ("looks like train_step updates W and b with an lr of its own whatever optimizer it is given (the update "
            "written by hand, an lr written in, or an optimizer of its own): call optimizer.step() on the optimizer it "
            "is given, which uses the lr train chose")
TRAIN_LESSON_DATA = ("looks like train trains on lesson 002's data (x_train, y_train) whatever x and y it is given: "
                     "pass its arguments x and y to train_step")
START = ("looks like train does not start from W = b = 0: its first cost is not the cost at W = b = 0; create W "
         "and b with torch.zeros(1, requires_grad=True), as the lesson does, not with torch.randn or other values")
NO_SGD = ("looks like the update written by hand: the exercise trains with torch.optim; make "
          "the optimizer in train with optim.SGD over W and b and train's lr, and let train_step call optimizer.step()")
SIGN = "looks like the gradient's sign is flipped: d cost/dW = 2 * mean((xW + b - y) * x), which is negative when H(x) < y"
HALF = "looks like the factor 2 is missing: the derivative of (xW + b - y) ** 2 is 2 * (xW + b - y) * (its inner derivative)"
GRAD_SUM = "looks like sum instead of mean in the gradient: it comes out m times too large"
LESSON_004_SUM = ("looks like lesson 004's gradient, the plain sum torch.sum((W * x - y) * x): this lab's gradient is the "
                  "exact derivative of its mean squared error, dW = 2 * mean((xW + b - y) * x) and db = 2 * mean(xW + b - y), "
                  "2/m times that sum")
AUTOGRAD = ("looks like autograd doing the exercise's work: gradient is the derivative worked out by hand, "
            "dW = 2 * mean((xW + b - y) * x) and db = 2 * mean(xW + b - y); backward() and the optimizer belong in train_step")
CUT_OFF = ("looks like the prediction is cut off from autograd: with W and b that require grad, H(x) must stay "
           "connected to them, or backward() in train_step cannot reach W and b; avoid .item(), .detach(), "
           "torch.tensor(...) or numpy on the way")
NO_BIAS = "looks like the bias is ignored: H(x) = xW + b, and b must enter the prediction and the error"
ONE_EPOCH_SHORT = ("looks like one epoch too few: the lesson's loop is `for epoch in range(nb_epochs + 1)`, "
                   "so there are epochs + 1 costs and epochs + 1 steps")
BY_HAND = ("looks like parameters made by hand instead of nn.Linear: write self.linear = nn.Linear(1, 1) in __init__ "
           "and return self.linear(x) in forward")
SHAPE_M = ("the prediction has shape (m,) instead of (m, 1): x @ W with W of shape (1,), or a squeeze(), drops a "
           "dimension, and (m,) - (m, 1) later broadcasts to (m, m); keep it (m, 1), as x * W + b does")


@dataclass(frozen=True)
class Variant:
    cost: str = "mean"  # mean | sum | nosquare | abs | half | meansquared | broadcast
    zero_grad: bool = True
    zero_before_step: bool = False  # zero_grad() between backward() and step()
    bias: bool = True
    report_after: bool = False


VARIANTS = {
    SUM: Variant(cost="sum"),
    NO_SQUARE: Variant(cost="nosquare"),
    BROADCAST: Variant(cost="broadcast"),
    ZERO_GRAD: Variant(zero_grad=False),
    NO_MOVE: Variant(zero_before_step=True),
    AFTER_STEP: Variant(report_after=True),
    NO_BIAS: Variant(bias=False),
    SHAPE_M: Variant(cost="broadcast"),  # hypothesis's word for the same training (carried forward, grader.checks)
    # Last: a value two mistakes give alike is named by the first that matches, and from W = b = 0 the mean error
    # squared takes the broadcast's first step (both follow mean(x) * mean(y)).
    ABSOLUTE: Variant(cost="abs"),
    HALVED: Variant(cost="half"),
    MEAN_SQUARED: Variant(cost="meansquared"),
}


def training_runs(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float, steps: int,
                  changes: Mapping[str, Mapping[str, Any]]) -> Runs:
    """The classic mistakes' training runs by hint (grader.labs.checking.Runs), each simulated when first
    asked for: a mistake sets the Variant, the lr or the data (`{"data": (x, y)}`) of the right run."""
    def run(change: Mapping[str, Any]) -> tuple[list[float], torch.Tensor]:
        data_x, data_y = change.get("data", (x, y))
        variant = change.get("variant", Variant())
        if variant == Variant():  # (the right run's arguments, as other callers remember it)
            return memo(simulate)(data_x, data_y, w0, b0, change.get("lr", lr), steps)
        return memo(simulate)(data_x, data_y, w0, b0, change.get("lr", lr), steps, variant)
    return Runs(run, changes)


def cost_of(pred: torch.Tensor, y: torch.Tensor, kind: str = "mean") -> torch.Tensor:
    if kind == "sum":
        return torch.sum((pred - y) ** 2)
    if kind == "nosquare":
        return torch.mean(pred - y)
    if kind == "abs":
        return torch.mean((pred - y).abs())
    if kind == "half":
        return torch.mean((pred - y) ** 2) / 2
    if kind == "meansquared":
        return torch.mean(pred - y) ** 2
    if kind == "broadcast":
        return torch.mean((pred.reshape(-1) - y) ** 2)
    return torch.mean((pred - y) ** 2)


def simulate(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float, steps: int,
             variant: Variant = Variant()) -> tuple[list[float], torch.Tensor]:
    """SGD from (w0, b0) for `steps` steps with one mistake switched on: (costs, params after each step).

    params[i] is (W, b) after step i + 1, as one tensor: each check copies the remembered run (grader.labs.
    remembering), and one tensor copies at once where a thousand pairs took a failing notebook 0.4 CPU-seconds.
    """
    w = w0.detach().clone().requires_grad_(True)
    b = b0.detach().clone().requires_grad_(True)
    optimizer = torch.optim.SGD([w, b], lr=lr)
    costs, params = [], []
    for _ in range(steps):
        if variant.zero_grad:
            optimizer.zero_grad()
        pred = x * w + (b if variant.bias else 0.0)
        cost = cost_of(pred, y, variant.cost)
        cost.backward()
        if variant.zero_before_step:
            optimizer.zero_grad()
        optimizer.step()
        if variant.report_after:
            with torch.no_grad():
                after = cost_of(x * w + (b if variant.bias else 0.0), y, variant.cost)
            costs.append(float(after))
        else:
            costs.append(float(cost))
        params.append(torch.stack((w.detach(), b.detach())))
    return costs, torch.stack(params)


def gradient_variants(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """(dW, db) as each classic gradient mistake computes them."""
    err = x * w + b - y
    dw, db = 2 * torch.mean(err * x).reshape(1), 2 * torch.mean(err).reshape(1)
    err_nb = x * w - y
    return {
        SIGN: (-dw, -db),
        HALF: (dw / 2, db / 2),
        GRAD_SUM: (dw * x.shape[0], db * x.shape[0]),
        LESSON_004_SUM: (dw * x.shape[0] / 2, db * x.shape[0] / 2),
        NO_BIAS: (2 * torch.mean(err_nb * x).reshape(1), 2 * torch.mean(err_nb).reshape(1)),
    }
