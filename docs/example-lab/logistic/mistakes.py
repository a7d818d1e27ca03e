"""The logistic lab's classic mistakes, computed on the grader's side from the same inputs.

When a student's value is wrong, the checks compare it with what each known mistake would
have produced; a match names the mistake. The hint texts are the module's string constants
(the student kit keeps them); the functions below compute the mistaken values (the kit
leaves them out, since they replay the exercise).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

NO_SIGMOID = ("looks like the sigmoid is missing: H(x) = sigmoid(xW + b) = 1 / (1 + exp(-(xW + b))), "
              "a probability between 0 and 1, not the raw score xW + b")
EXP_SIGN = ("looks like exp(xW + b) where the sigmoid has exp(-(xW + b)): H(x) = 1 / (1 + exp(-(xW + b))), "
            "or torch.sigmoid(x @ W + b)")
SHAPE_M = ("the prediction has shape (m,) instead of (m, 1): x @ W with W of shape (2, 1) is already (m, 1); "
           "do not squeeze or flatten it")
SUM = ("looks like sum instead of mean: the binary cross-entropy averages the m losses (torch.mean), "
       "it does not add them up")
NO_MINUS = ("looks like the minus sign is missing: the cost is -(y log H(x) + (1 - y) log(1 - H(x))), averaged; "
            "without the minus it is negative and gradient descent climbs it")
NO_ONE_MINUS = ("looks like the (1 - y) log(1 - H(x)) term is missing: without it the rows with y = 0 cost "
                "nothing, whatever the prediction")
NOT_REDUCED = "the cost is one number: average the m losses over every row with torch.mean (or .mean())"
ZERO_GRAD = ("looks like a forgotten optimizer.zero_grad(): gradients pile up, so the first step is right "
             "and every later one is off")
AFTER_STEP = "looks like the cost is returned after optimizer.step(); return the cost computed before the step"
NAN_COST = ("a nan cost means torch.log got a value outside (0, 1): hypothesis must return probabilities, "
            "sigmoid(xW + b), for bce_cost to take their log")

COSTS = {SUM: "sum", NO_MINUS: "no_minus", NO_ONE_MINUS: "no_one_minus"}


def hypothesis_mistakes(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> dict[str, torch.Tensor]:
    """The predictions each classic hypothesis mistake makes."""
    z = x @ w + b
    return {NO_SIGMOID: z, EXP_SIGN: 1 / (1 + torch.exp(z))}


def cost_of(pred: torch.Tensor, y: torch.Tensor, kind: str = "mean") -> torch.Tensor:
    """The binary cross-entropy, or one of its classic mistakes (`kind`, see COSTS)."""
    losses = y * torch.log(pred) + (1 - y) * torch.log(1 - pred)
    if kind == "sum":
        return -torch.sum(losses)
    if kind == "no_minus":
        return torch.mean(losses)
    if kind == "no_one_minus":
        return -torch.mean(y * torch.log(pred))
    return -torch.mean(losses)


def cost_mistakes(pred: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    return {hint: cost_of(pred, y, kind) for hint, kind in COSTS.items()}


def cost_gradients(pred: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """d cost / d prediction, as each classic cost mistake gives it."""
    found = {}
    for hint, kind in COSTS.items():
        p = pred.detach().clone().requires_grad_(True)
        cost_of(p, y, kind).backward()
        assert p.grad is not None
        found[hint] = p.grad
    return found


@dataclass(frozen=True)
class Variant:
    cost: str = "mean"  # mean, or a kind of COSTS
    zero_grad: bool = True
    report_after: bool = False


TRAINING = {
    SUM: Variant(cost="sum"),
    NO_MINUS: Variant(cost="no_minus"),
    NO_ONE_MINUS: Variant(cost="no_one_minus"),
    ZERO_GRAD: Variant(zero_grad=False),
    AFTER_STEP: Variant(report_after=True),
}

Run = list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # per step: (cost returned, W after, b after)


def simulate(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float, steps: int,
             variant: Variant) -> Run:
    """SGD from (w0, b0) for `steps` steps with one mistake switched on."""
    w = w0.detach().clone().requires_grad_(True)
    b = b0.detach().clone().requires_grad_(True)
    optimizer = torch.optim.SGD([w, b], lr=lr)
    run = []
    for _ in range(steps):
        if variant.zero_grad:
            optimizer.zero_grad()
        cost = cost_of(torch.sigmoid(x @ w + b), y, variant.cost)
        cost.backward()
        optimizer.step()
        if variant.report_after:
            with torch.no_grad():
                cost = cost_of(torch.sigmoid(x @ w + b), y, variant.cost)
        run.append((cost.detach().to(torch.float64), w.detach().clone(), b.detach().clone()))
    return run


def training_mistakes(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float,
                      steps: int) -> dict[str, Run]:
    """Each classic training mistake's run from the same start."""
    return {hint: simulate(x, y, w0, b0, lr, steps, variant) for hint, variant in TRAINING.items()}
