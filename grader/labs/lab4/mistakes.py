"""Lab 4's classic mistakes, computed on the grader's side from the same inputs.

When a student's value is wrong, the checks compare it with what each known mistake
would have produced; a match names the mistake. `simulate` replays the lesson's
training with one deliberate error switched on. Wrong shapes are named by the
shape they produce (`prediction_shape_hints`), and errors raised by the student's code by
the message torch gives (`raised_hint`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

SUM = ("looks like sum instead of mean: the cost is torch.mean((H - y) ** 2), the average over the m rows, "
       "not their sum")
ZERO_GRAD = ("looks like a forgotten optimizer.zero_grad(): gradients pile up, so the first step is right "
             "and every later one is too big")
AFTER_STEP = "looks like the cost is recorded after optimizer.step(); record the cost computed before the step"
OWN_LR = ("looks like train trains at an lr of its own whatever lr it is given (a number written into optim.SGD): "
          "pass lr=lr to optim.SGD")
LESSON_DATA = ("looks like train trains on the lesson's quiz scores (x_data, y_data) whatever x and y it is given "
               "(a notebook's globals?): compute the cost from its arguments, hypothesis(x, W, b) against y")
NO_SGD = ("looks like the update written by hand: the exercise trains with torch.optim, as the lesson does; make "
          "the optimizer with optim.SGD over W and b and train's lr before the loop, then call optimizer.zero_grad(), cost.backward() "
          "and optimizer.step() in each epoch")
ONE_EPOCH_SHORT = ("looks like one epoch too few: the lesson's loop is `for epoch in range(nb_epochs + 1)`, "
                   "so there are epochs + 1 costs and epochs + 1 steps")
ELEMENTWISE = ("looks like elementwise `*` instead of a matrix product: x * W multiplies entry by entry (and an (m, 3) "
               "x only broadcasts against a (3, 1) W when m is 3); H(X) = XW + b is x.matmul(W) + b (or x @ W + b)")
FLAT_PREDICTION = ("the prediction has shape (m,) instead of (m, 1): a W of shape (3,) (or a squeeze) drops the last "
                   "dimension, and (m,) - (m, 1) later broadcasts to (m, m); keep W (3, 1) so x.matmul(W) is (m, 1)")
NO_BIAS = "looks like the bias is ignored: H(X) = XW + b, so add b to x.matmul(W)"
W_NOT_LEARNING = ("looks like W created without requires_grad=True: autograd gives it no gradient, so optimizer.step() "
                  "never moves it and only b learns; create it with torch.zeros((3, 1), requires_grad=True)")
B_NOT_LEARNING = ("looks like b created without requires_grad=True: autograd gives it no gradient, so optimizer.step() "
                  "never moves it and only W learns; create it with torch.zeros(1, requires_grad=True)")
BROADCAST = ("looks like an (m,) prediction broadcast against the (m, 1) target: (m,) - (m, 1) makes an (m, m) matrix "
             "and the mean is silently wrong; keep predictions (m, 1), as x.matmul(W) + b with W (3, 1) gives")
FLAT_W = ("W has shape (3,): create it as torch.zeros((3, 1), requires_grad=True), one column, so that x.matmul(W) "
          "is (m, 1) like y")
BIAS_PER_ROW = ("b has one entry per row: the lesson's bias is torch.zeros(1, requires_grad=True), a single number "
                "that broadcasts over every row of x.matmul(W)")
BY_HAND = ("looks like parameters made by hand instead of nn.Linear: write self.linear = nn.Linear(3, 1) in __init__ "
           "and return self.linear(x) in forward")
LINEAR_FEATURES = ("looks like the one-variable model's nn.Linear(1, 1): three input features need "
                   "self.linear = nn.Linear(3, 1) (input_dim 3, output_dim 1)")

_SIZE_MISMATCH = re.compile(r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton dimension 0")


def raised_hint(message: str, m: int) -> str:
    """The classic mistake behind an error the student's code raised on an (m, 3) x, or ''."""
    found = _SIZE_MISMATCH.search(message)
    if found and {int(found[1]), int(found[2])} == {m, 3}:
        return ELEMENTWISE
    if "mat1 and mat2 shapes cannot be multiplied" in message and "1x1)" in message:
        return LINEAR_FEATURES
    return ""


def prediction_shape_hints(m: int) -> dict[tuple[int, ...], str]:
    return {(m,): FLAT_PREDICTION, (m, 3): ELEMENTWISE}


@dataclass(frozen=True)
class Variant:
    cost: str = "mean"  # mean | sum
    flat: bool = False  # an (m,) prediction broadcast against the (m, 1) target (apart from the cost: both combine)
    zero_grad: bool = True
    report_after: bool = False
    bias_per_row: bool = False
    learns: str = "wb"  # which of W and b were made with requires_grad=True


VARIANTS = {
    SUM: Variant(cost="sum"),
    BROADCAST: Variant(flat=True),
    ZERO_GRAD: Variant(zero_grad=False),
    AFTER_STEP: Variant(report_after=True),
    BIAS_PER_ROW: Variant(bias_per_row=True),
    FLAT_PREDICTION: Variant(flat=True),  # hypothesis's word for the same training (carried forward, grader.checks)
    W_NOT_LEARNING: Variant(learns="b"),
    B_NOT_LEARNING: Variant(learns="w"),
}


def cost_of(pred: torch.Tensor, y: torch.Tensor, kind: str = "mean", flat: bool = False) -> torch.Tensor:
    if flat:
        pred = pred.reshape(-1)
    if kind == "sum":
        return torch.sum((pred - y) ** 2)
    return torch.mean((pred - y) ** 2)


def simulate(x: torch.Tensor, y: torch.Tensor, lr: float, steps: int,
             variant: Variant = Variant()) -> tuple[list[float], torch.Tensor, torch.Tensor]:
    """The lesson's SGD from zeros for `steps` steps with one mistake switched on: (costs, W, b at the end)."""
    w = torch.zeros((x.shape[1], 1), requires_grad="w" in variant.learns)
    b = torch.zeros((x.shape[0], 1) if variant.bias_per_row else (1,), requires_grad="b" in variant.learns)
    optimizer = torch.optim.SGD([w, b], lr=lr)
    costs = []
    for _ in range(steps):
        if variant.zero_grad:
            optimizer.zero_grad()
        cost = cost_of(x.matmul(w) + b, y, variant.cost, variant.flat)
        cost.backward()
        optimizer.step()
        if variant.report_after:
            with torch.no_grad():
                cost = cost_of(x.matmul(w) + b, y, variant.cost, variant.flat)
        costs.append(cost.item())
    return costs, w.detach(), b.detach()
