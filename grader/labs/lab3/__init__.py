"""Lab 3: gradient descent by hand on a model without bias, H(x) = xW (lesson 004, second half)."""

from __future__ import annotations

from ...runner import Probe
from ..probing import tensor as t
from . import data as d
from .figures import figures


def probes() -> list[Probe]:
    """Every call the hidden checks need, with the inputs they need it on."""
    x, y = t(d.LESSON_X), t(d.LESSON_Y)
    lesson_ws = d.linspace(d.CURVE_START, d.CURVE_END, d.CURVE_POINTS)
    return [
        Probe("hypothesis.lesson", "hypothesis", "call", {"args": [x, t([1.0])]}),
        Probe("hypothesis.hidden_a", "hypothesis", "call", {"args": [t(d.A_X), t(d.A_W)]}),
        Probe("hypothesis.hidden_b", "hypothesis", "call", {"args": [t(d.B_X), t(d.B_W)]}),
        Probe("cost.lesson_w0", "cost", "call", {"args": [x, y, t([0.0])]}),
        Probe("cost.lesson_w1", "cost", "call", {"args": [x, y, t([1.0])]}),
        Probe("cost.lesson_step", "cost", "call", {"args": [x, y, t(d.W_AFTER_ONE_STEP)]}),
        Probe("cost.hidden_a", "cost", "call", {"args": [t(d.A_X), t(d.A_Y), t(d.A_W)]}),
        # With W requiring grad: the gradient autograd gives is what torch.optim.SGD steps with.
        Probe("cost.autograd_w0", "cost", "call_backward", {"args": [x, y, t([0.0], requires_grad=True)]}),
        Probe("cost.autograd_step", "cost", "call_backward", {"args": [x, y, t(d.W_AFTER_ONE_STEP, requires_grad=True)]}),
        Probe("cost.autograd_b", "cost", "call_backward", {"args": [t(d.B_X), t(d.B_Y), t(d.B_W, requires_grad=True)]}),
        Probe("gradient.lesson_w0", "gradient", "call", {"args": [x, y, t([0.0])]}),
        Probe("gradient.lesson_w1", "gradient", "call", {"args": [x, y, t([1.0])]}),
        Probe("gradient.hidden_a", "gradient", "call", {"args": [t(d.A_X), t(d.A_Y), t(d.A_W)]}),
        Probe("gradient.hidden_b", "gradient", "call", {"args": [t(d.B_X), t(d.B_Y), t(d.B_W)]}),
        Probe("descent_step.lesson_first", "descent_step", "call", {"args": [x, y, t([0.0]), d.LESSON_LR]}),
        Probe("descent_step.lesson_second", "descent_step", "call", {"args": [x, y, t(d.W_AFTER_ONE_STEP), d.LESSON_LR]}),
        Probe("descent_step.hidden_a", "descent_step", "call", {"args": [t(d.A_X), t(d.A_Y), t(d.A_W), d.A_LR]}),
        # A W that autograd tracks: updating it in place raises, or comes back as the same leaf.
        Probe("descent_step.requires_grad", "descent_step", "call",
              {"args": [t(d.B_X), t(d.B_Y), t(d.B_W, requires_grad=True), d.B_LR]}),
        Probe("cost_curve.lesson", "cost_curve", "call", {"args": [x, y, t(lesson_ws)]}),
        Probe("cost_curve.hidden_a", "cost_curve", "call", {"args": [t(d.A_X), t(d.A_Y), t(d.CURVE_A)]}),
        Probe("cost_curve.hidden_b", "cost_curve", "call", {"args": [t(d.B_X), t(d.B_Y), t(d.CURVE_B)]}),
        Probe("train.lesson", "train", "call", {"args": [x, y]}),
        Probe("train.hidden_defaults", "train", "call", {"args": [t(d.T_X), t(d.T_Y)]}),
        Probe("train.hidden", "train", "call",
              {"args": [t(d.U_X), t(d.U_Y)], "kwargs": {"lr": d.U_LR, "epochs": d.U_EPOCHS}}),
    ]

