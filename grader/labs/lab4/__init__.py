"""Lab 4: multivariable linear regression with matmul and nn.Linear(3, 1) (lesson 000, second half)."""

from __future__ import annotations

from ...runner import Probe
from ..probing import tensor as t
from . import data as d
from .figures import figures


def probes() -> list[Probe]:
    """Every call the hidden checks need, with the inputs they need it on."""
    lesson_x, lesson_y = t(d.LESSON_X), t(d.LESSON_Y)
    return [
        Probe("hypothesis.lesson", "hypothesis", "call", {"args": [lesson_x, t(d.W_STEP), t(d.B_STEP)]}),
        Probe("hypothesis.hidden_a", "hypothesis", "call", {"args": [t(d.A_X), t(d.A_W), t(d.A_B)]}),
        Probe("hypothesis.hidden_b", "hypothesis", "call", {"args": [t(d.B_X), t(d.B_W), t(d.B_B)]}),
        Probe("train.lesson", "train", "call", {"args": [lesson_x, lesson_y]}),
        Probe("train.hidden_defaults", "train", "call", {"args": [t(d.T_X), t(d.T_Y)]}),
        Probe("train.lesson_one_step", "train", "call", {"args": [lesson_x, lesson_y], "kwargs": {"epochs": 0}}),
        Probe("train.hidden_few_steps", "train", "call",
              {"args": [t(d.T_X), t(d.T_Y)], "kwargs": {"lr": d.FEW_LR, "epochs": d.FEW_EPOCHS}}),
        Probe("train.hidden", "train", "call",
              {"args": [t(d.U_X), t(d.U_Y)], "kwargs": {"lr": d.U_LR, "epochs": d.U_EPOCHS}}),
        Probe("MultivariateLinearRegressionModel.lesson", "MultivariateLinearRegressionModel", "module",
              {"seed": d.LESSON_SEED, "x": lesson_x, "y": lesson_y, "lr": d.LESSON_LR, "train_steps": d.LESSON_EPOCHS}),
        Probe("MultivariateLinearRegressionModel.hidden", "MultivariateLinearRegressionModel", "module",
              {"seed": d.MODEL_SEED, "x": t(d.U_X), "y": t(d.U_Y), "lr": d.MODEL_LR, "train_steps": d.MODEL_STEPS}),
    ]

