"""Lab 2: linear regression by hand and with nn.Linear (lessons 002 and 004, data from 000 and 003)."""

from __future__ import annotations

from ...runner import Probe
from . import data as d
from .figures import figures
from ..probing import tensor as t


def probes() -> list[Probe]:
    """Every call the hidden checks need, with the inputs they need it on."""
    zeros = [[0.0], [0.0], [0.0]]
    return [
        Probe("hypothesis.lesson003", "hypothesis", "call", {"args": [t(d.LESSON_X), t(d.W_003), t(d.B_003)]}),
        Probe("hypothesis.lesson002", "hypothesis", "call", {"args": [t(d.LESSON_X), t(d.W_002_STEP), t(d.B_002_STEP)]}),
        Probe("hypothesis.hidden_a", "hypothesis", "call", {"args": [t(d.A_X), t(d.A_W), t(d.A_B)]}),
        Probe("hypothesis.hidden_b", "hypothesis", "call_backward",  # W and b require grad, as in train_step
              {"args": [t(d.B_X), t(d.B_W, requires_grad=True), t(d.B_B, requires_grad=True)], "sum": True}),
        Probe("mse_cost.lesson002", "mse_cost", "call", {"args": [t(zeros), t(d.LESSON_Y)]}),
        Probe("mse_cost.lesson002_step", "mse_cost", "call",
              {"args": [t(d.line(d.LESSON_X, d.W_002_STEP, d.B_002_STEP)), t(d.LESSON_Y)]}),
        Probe("mse_cost.lesson003", "mse_cost", "call", {"args": [t(d.line(d.LESSON_X, d.W_003, d.B_003)), t(d.STUDY_Y)]}),
        Probe("mse_cost.hidden_a", "mse_cost", "call", {"args": [t(d.line(d.A_X, d.A_W, d.A_B)), t(d.A_Y)]}),
        Probe("mse_cost.autograd", "mse_cost", "call_backward",
              {"args": [t(d.line(d.B_X, d.B_W, d.B_B), requires_grad=True), t(d.B_Y)]}),
        Probe("gradient.lesson003", "gradient", "call", {"args": [t(d.LESSON_X), t(d.STUDY_Y), t(d.W_003), t(d.B_003)]}),
        Probe("gradient.lesson002", "gradient", "call", {"args": [t(d.LESSON_X), t(d.LESSON_Y), t([0.0]), t([0.0])]}),
        Probe("gradient.hidden_a", "gradient", "call", {"args": [t(d.A_X), t(d.A_Y), t(d.A_W), t(d.A_B)]}),
        Probe("gradient.hidden_b", "gradient", "call",  # W and b require grad, as the docstring allows
              {"args": [t(d.B_X), t(d.B_Y), t(d.B_W, requires_grad=True), t(d.B_B, requires_grad=True)]}),
        Probe("train_step.lesson002", "train_step", "steps",
              {"x": t(d.LESSON_X), "y": t(d.LESSON_Y), "params": [t([0.0]), t([0.0])], "lr": 0.01, "steps": 2}),
        Probe("train_step.hidden_a", "train_step", "steps",
              {"x": t(d.A_X), "y": t(d.A_Y), "params": [t([0.0]), t([0.0])], "lr": 0.01, "steps": 2}),
        Probe("train_step.hidden_b", "train_step", "steps",
              {"x": t(d.B_X), "y": t(d.B_Y), "params": [t(d.STEP_START_W), t(d.STEP_START_B)],
               "lr": d.STEP_LR, "steps": d.STEP_COUNT}),
        Probe("train_step.lesson003", "train_step", "steps",
              {"x": t(d.LESSON_X), "y": t(d.STUDY_Y), "params": [t(d.W_003), t(d.B_003)], "lr": d.STUDY_LR,
               "steps": d.STUDY_STEPS}),
        Probe("train_step.hidden_long", "train_step", "steps",
              {"x": t(d.A_X), "y": t(d.A_Y), "params": [t(d.LONG_START_W), t(d.LONG_START_B)], "lr": d.LONG_LR,
               "steps": d.LONG_STEPS}),
        Probe("train.lesson002", "train", "call", {"args": [t(d.LESSON_X), t(d.LESSON_Y)]}),
        Probe("train.hidden_defaults", "train", "call", {"args": [t(d.T_X), t(d.T_Y)]}),
        Probe("train.hidden", "train", "call",
              {"args": [t(d.T_X), t(d.T_Y)], "kwargs": {"lr": d.T_LR, "epochs": d.T_EPOCHS}}),
        Probe("train.lesson000_epoch0", "train", "call",
              {"args": [t(d.L000_X), t(d.L000_Y)], "kwargs": {"lr": d.L000_LR, "epochs": 0}}),
        Probe("train.lesson000", "train", "call",
              {"args": [t(d.L000_X), t(d.L000_Y)], "kwargs": {"lr": d.L000_LR, "epochs": d.L000_EPOCHS}}),
        Probe("train.hidden_six", "train", "call",
              {"args": [t(d.S_X), t(d.S_Y)], "kwargs": {"lr": d.S_LR, "epochs": d.S_EPOCHS}}),
        Probe("LinearRegressionModel.lesson002", "LinearRegressionModel", "module", {"seed": 1, "x": t(d.LESSON_X)}),
        Probe("LinearRegressionModel.hidden", "LinearRegressionModel", "module",
              {"seed": d.MODEL_SEED, "x": t(d.A_X), "y": t(d.A_Y), "lr": d.MODEL_LR, "train_steps": d.MODEL_STEPS}),
    ]

