"""The logistic lab: logistic regression (binary classification) on the lesson's six points.

An example of a lab kept outside the grader (docs/adding-a-lab.md). Its modules import as
`grader.labs.logistic`, wherever this folder is.
"""

from __future__ import annotations

from grader.labs.probing import tensor as t
from grader.runner import Probe

from . import data as d


def probes() -> list[Probe]:
    """Every call the hidden checks need, with the inputs they need it on."""
    return [
        Probe("hypothesis.zeros", "hypothesis", "call", {"args": [t(d.LESSON_X), t(d.ZERO_W), t(d.ZERO_B)]}),
        Probe("hypothesis.lesson", "hypothesis", "call", {"args": [t(d.LESSON_X), t(d.SOME_W), t(d.SOME_B)]}),
        Probe("hypothesis.hidden_a", "hypothesis", "call", {"args": [t(d.A_X), t(d.A_W), t(d.A_B)]}),
        Probe("hypothesis.hidden_b", "hypothesis", "call", {"args": [t(d.B_X), t(d.B_W), t(d.B_B)]}),
        Probe("bce_cost.halves", "bce_cost", "call", {"args": [t(d.HALVES), t(d.LESSON_Y)]}),
        Probe("bce_cost.lesson", "bce_cost", "call",
              {"args": [t(d.sigmoid_line(d.LESSON_X, d.SOME_W, d.SOME_B)), t(d.LESSON_Y)]}),
        Probe("bce_cost.hidden_a", "bce_cost", "call", {"args": [t(d.sigmoid_line(d.A_X, d.A_W, d.A_B)), t(d.A_Y)]}),
        Probe("bce_cost.autograd", "bce_cost", "call_backward",
              {"args": [t(d.sigmoid_line(d.B_X, d.B_W, d.B_B), requires_grad=True), t(d.B_Y)]}),
        Probe("train_step.lesson", "train_step", "steps",
              {"x": t(d.LESSON_X), "y": t(d.LESSON_Y), "params": [t(d.ZERO_W), t(d.ZERO_B)], "lr": d.LESSON_LR,
               "steps": d.LESSON_STEPS}),
        Probe("train_step.hidden_a", "train_step", "steps",
              {"x": t(d.A_X), "y": t(d.A_Y), "params": [t(d.ZERO_W), t(d.ZERO_B)], "lr": d.LESSON_LR,
               "steps": d.LESSON_STEPS}),
        Probe("train_step.hidden_b", "train_step", "steps",
              {"x": t(d.B_X), "y": t(d.B_Y), "params": [t(d.STEP_W), t(d.STEP_B)], "lr": d.STEP_LR,
               "steps": d.STEP_COUNT}),
    ]
