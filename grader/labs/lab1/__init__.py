"""Lab 1: autograd and the L1 loss (lesson 000's autograd examples, lesson 001's L1 regression)."""

from __future__ import annotations

from ...runner import Probe
from ..probing import tensor as t
from . import data as d
from .figures import figures


def probes() -> list[Probe]:
    """Every call the hidden checks need, with the inputs they need it on."""
    (qb1, qb2), (aw, ac) = d.Q_HIDDEN_B, d.ACC_HIDDEN
    (ow1, oc1), (ow2, oc2) = d.ACC_OTHER
    return [
        Probe("quadratic_grad.lesson000", "quadratic_grad", "call", {"args": [d.LESSON_W]}),
        Probe("quadratic_grad.hidden_a", "quadratic_grad", "call", {"args": [d.Q_HIDDEN_A]}),
        Probe("quadratic_grad.hidden_b1", "quadratic_grad", "call", {"args": [qb1]}),
        Probe("quadratic_grad.hidden_b2", "quadratic_grad", "call", {"args": [qb2]}),
        Probe("accumulated_grads.lesson000", "accumulated_grads", "call", {"args": [d.LESSON_W, d.LESSON_CALLS]}),
        Probe("accumulated_grads.hidden", "accumulated_grads", "call", {"args": [aw, ac]}),
        Probe("accumulated_grads.other1", "accumulated_grads", "call", {"args": [ow1, oc1]}),
        Probe("accumulated_grads.other2", "accumulated_grads", "call", {"args": [ow2, oc2]}),
        Probe("l1_cost.lesson001", "l1_cost", "call", {"args": [t(d.L1_LINE), t(d.L1_Y)]}),
        Probe("l1_cost.hidden_a", "l1_cost", "call", {"args": [t(d.C_PRED_A), t(d.C_Y_A)]}),
        Probe("l1_cost.hidden_b", "l1_cost", "call", {"args": [t(d.C_PRED_B), t(d.C_Y_B)]}),
        Probe("l1_cost.autograd", "l1_cost", "call_backward", {"args": [t(d.C_PRED_G, requires_grad=True), t(d.C_Y_G)]}),
        Probe("train_l1.lesson001", "train_l1", "call", {"args": [t(d.L1_X), t(d.L1_Y)]}),
        Probe("train_l1.hidden_defaults", "train_l1", "call", {"args": [t(d.TD_X), t(d.TD_Y)]}),
        Probe("train_l1.hidden", "train_l1", "call",
              {"args": [t(d.TH_X), t(d.TH_Y)], "kwargs": {"lr": d.TH_LR, "epochs": d.TH_EPOCHS, "seed": d.TH_SEED}}),
    ]

