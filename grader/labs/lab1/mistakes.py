"""Lab 1's classic mistakes, computed on the grader's side from the same inputs.

When a student's value is wrong, the checks compare it with what each known mistake
would have produced; a match names the mistake. `simulate` replays lesson 001's L1
training with one deliberate error switched on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# --- autograd (lesson 000) ---------------------------------------------------------------

REQUIRES_GRAD = ("looks like a forgotten requires_grad=True: backward() needs a leaf created with "
                 "torch.tensor(w, requires_grad=True), or nothing records how z depends on w")
GRAD_NONE = ("looks like .grad read from the wrong tensor: it is None except on the tensor made with "
             "requires_grad=True (a leaf), after z.backward(); a tensor computed from it (w * 1, w.double()) gets none")
VALUE_NOT_GRAD = "looks like z itself (2 * w**2 + 5) instead of its derivative: return w.grad after z.backward()"
ZEROED = ("looks like the gradient was zeroed (or w re-created) between calls, so every entry is 2. This exercise "
          "shows the opposite: without zero_grad, backward() ADDS to w.grad, so it grows 2, 4, 6, ...")
ALIASED = ("looks like w.grad itself was appended: the list then holds the same tensor each time, and backward() "
           "adds into it in place, so every entry shows the last gradient; append w.grad.item() (or w.grad.clone())")
ONE_TOO_MANY = ("looks like one backward() call too many: `calls` is the number of calls (the lesson's range(nb_epochs + 1) "
                "with nb_epochs = 20 is 21 calls), so loop `for _ in range(calls)`")
BY_HAND = ("looks like the derivative worked out by hand: this exercise is about autograd; make w with "
           "torch.tensor(w, requires_grad=True), build z from it, call z.backward() and read w.grad")
ONE_TOO_FEW = "looks like one backward() call too few: loop `for _ in range(calls)`, one entry per call"

# --- the L1 cost (lesson 001) ------------------------------------------------------------

SQUARED = ("looks like the squared error (MSE): the L1 cost averages |prediction - y|, the absolute error, "
           "not (prediction - y) ** 2")
SUM = "looks like sum instead of mean: the L1 cost divides by the number of elements (torch.mean), as nn.L1Loss does"
NO_ABS = ("looks like a missing absolute value: mean(prediction - y) lets positive and negative errors cancel; "
          "take torch.abs first")
ABS_OF_MEAN = ("looks like the absolute value of the mean error, |mean(prediction - y)|: take the absolute value "
               "of each error first, then the mean")
RESHAPED = ("looks like the prediction reshaped (view(-1), reshape, squeeze()) before it meets y: on inputs of "
            "another shape they no longer match; keep prediction and y as they come, the same shape")
BROADCAST = ("looks like an (m,) prediction broadcast against the (m, 1) target: (m,) - (m, 1) makes an (m, m) "
             "matrix and the mean is silently wrong; keep both (m, 1)")
NOT_SCALAR = ("backward() needs a single number: the cost must be reduced to a 0-dim tensor with torch.mean "
              "(check l1_cost)")
NOT_REDUCED = ("looks like a cost that is not reduced: take torch.mean over all elements, "
               "e.g. torch.mean(torch.abs(prediction - y))")

# --- training (lesson 001) -----------------------------------------------------------------

MSE_TRAINING = ("looks like training with the squared error (nn.MSELoss) instead of the L1 cost "
                "(nn.L1Loss or your l1_cost)")
ZERO_GRAD = ("looks like a forgotten optimizer.zero_grad(): gradients pile up (as in accumulated_grads), so "
             "the first step is right and every later one is too big")
START = ("looks like training started from other parameters (the very first cost differs): call "
         "torch.manual_seed(seed) and create nn.Linear(1, 1) right after it, before anything else draws random numbers")
ZERO_START = ("looks like W and b started at 0: the contract starts from nn.Linear(1, 1)'s own initial values "
              "after torch.manual_seed(seed)")
ONE_EPOCH_MORE = ("looks like one epoch too many: lesson 001's loop is `for i in range(num_epoch)`, so `epochs` "
                  "updates and `epochs` costs (not lab 2's range(epochs + 1))")
ONE_EPOCH_LESS = "looks like one epoch too few: loop `for epoch in range(epochs)`, one cost per update"
AFTER_STEP = "looks like the cost is recorded after optimizer.step(); record the cost computed before the step"


def cost_of(pred: torch.Tensor, y: torch.Tensor, kind: str = "l1") -> torch.Tensor:
    """The L1 cost, or what one classic mistake computes instead."""
    if kind == "squared":
        return torch.mean((pred - y) ** 2)
    if kind == "sum":
        return torch.sum(torch.abs(pred - y))
    if kind == "noabs":
        return torch.mean(pred - y)
    if kind == "abs_of_mean":
        return torch.abs(torch.mean(pred - y))
    if kind == "broadcast":
        return _broadcast_l1(pred, y)
    return torch.mean(torch.abs(pred - y))


def _broadcast_l1(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """torch.mean(torch.abs(pred.reshape(-1) - y)) for an (m, 1) y: the mean of |p_i - y_j| over every pair,
    in O(m log m) with autograd's gradient ((2k - m) / m^2 for a p_i above k of the y_j), where the (m, m)
    matrix on lesson 001's 1000 points took seconds of training."""
    if y.dim() < 2 or y.shape[-1] != 1:  # (not the (m,) - (m, 1) case: broadcast as written)
        return torch.mean(torch.abs(pred.reshape(-1) - y))
    p, ys = pred.reshape(-1), torch.sort(y.detach().reshape(-1).to(torch.float64)).values
    prefix = torch.cat([ys.new_zeros(1), torch.cumsum(ys, 0)])
    below = torch.searchsorted(ys, p.detach().to(torch.float64), right=True)  # how many y_j <= p_i
    m = ys.numel()
    pairs = (p.to(torch.float64) * (2 * below - m) - 2 * prefix[below] + prefix[-1]).sum() / (p.numel() * m)
    return pairs.to(pred.dtype)


COST_KINDS = {SQUARED: "squared", SUM: "sum", NO_ABS: "noabs", ABS_OF_MEAN: "abs_of_mean", BROADCAST: "broadcast"}


@dataclass(frozen=True)
class Variant:
    cost: str = "l1"  # see cost_of
    zero_grad: bool = True
    seeded: bool = True  # False: W = b = 0
    report_after: bool = False


VARIANTS = {
    MSE_TRAINING: Variant(cost="squared"),
    # The same training, under l1_cost's word for the mistake: what carries it forward (grader.checks)
    # from a student's l1_cost written as the MSE; a diagnosis still names MSE_TRAINING, found first.
    SQUARED: Variant(cost="squared"),
    SUM: Variant(cost="sum"),
    NO_ABS: Variant(cost="noabs"),
    ABS_OF_MEAN: Variant(cost="abs_of_mean"),
    BROADCAST: Variant(cost="broadcast"),  # (carried forward to train_l1 from an l1_cost that broadcasts)
    ZERO_GRAD: Variant(zero_grad=False),
    ZERO_START: Variant(seeded=False),
    AFTER_STEP: Variant(report_after=True),
}


def simulate(x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, seed: int,
             variant: Variant = Variant()) -> tuple[float, float, list[float]]:
    """Lesson 001's training with one mistake switched on: (W, b, costs).

    The generator's state is left as it was (a function of its arguments alone: the checks remember it)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = torch.nn.Linear(1, 1)
    if not variant.seeded:
        with torch.no_grad():
            model.weight.zero_()
            model.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    costs = []
    for _ in range(epochs):
        if variant.zero_grad:
            optimizer.zero_grad()
        cost = cost_of(model(x), y, variant.cost)
        cost.backward()
        optimizer.step()
        if variant.report_after:
            with torch.no_grad():
                costs.append(cost_of(model(x), y, variant.cost).item())
        else:
            costs.append(cost.item())
    return model.weight.item(), model.bias.item(), costs
