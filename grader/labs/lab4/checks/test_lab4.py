"""Lab 4's checks. Each one holds the student to a lesson's numbers AND to the reference
solution on hidden inputs, so hard-coding the lesson's numbers earns nothing. A check marked
`public=True` compares with the lessons' printed numbers and goes into the student kit without its
`with hidden():` blocks (grader.release); the other checks are hidden and stay here.

Fixtures: `observed` (what the student's functions returned, see grader.checks) and
`reference` (the reference solution, run here on the grader's side).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from grader.checks import StudentError
from grader.compare import CheckFailed, as_tensor, derived, expect_close, printed_tolerance
from grader.labs.lab4 import data as d
from grader.labs.lab4 import mistakes as M
from grader.labs.checking import (Runs, T, check, goes_with, expect_by_hand, expect_linear_model, first_step_lr, hidden, same_start, memo,
                                  printed, reference_model_run, training_result)
from grader.values import decode

HIDDEN_TOL = 1e-4  # absolute and relative: float32 work done in another order may differ this much
LESSON_M = len(d.LESSON_X)
# The lesson's last costs are small differences of large float32 numbers: torch 2.13 gives 1.619063
# and 0.227729 where the lesson printed 1.619033 and 0.227732 (2e-5 apart; docs/values.md (lab 4)).
LAST_COST_RTOL = 1e-4


def answer(observed: Any, probe: str, m: int) -> dict[str, Any]:
    """The probe's raw result; an error the student's code raised names its classic mistake when it has one."""
    try:
        raw = observed.raw(probe)
    except StudentError as error:
        hint = M.raised_hint(error.message, m)
        if hint:
            raise StudentError(error.message, error.traceback, hint=hint) from None
        raise
    if not isinstance(raw, dict):
        raise CheckFailed("the submission's answer was malformed")
    return raw


def value(observed: Any, probe: str, m: int, part: str = "value") -> Any:
    return decode(answer(observed, probe, m).get(part))


# --- hypothesis ------------------------------------------------------------------------


def expect_hypothesis(observed: Any, reference: Any, probe: str, x: list[list[float]], w: list[list[float]],
                      b: list[float], what: str, lesson: list[str] | None = None) -> None:
    m = len(x)
    got = value(observed, probe, m)
    if lesson:
        expected, atol = printed(lesson)
        expected, rtol = expected.reshape(m, 1), 0.0
    else:
        expected, atol, rtol = reference.hypothesis(T(x), T(w), T(b)), HIDDEN_TOL, HIDDEN_TOL
    expect_close(got, expected, what=what, atol=atol, rtol=rtol, shape_hints=M.prediction_shape_hints(m),
                 mistakes=lambda: {M.NO_BIAS: T(x).matmul(T(w))})


@check("hypothesis", 2, "H(X) = XW + b gives the course notebook's epoch-1 predictions 67.2578, 80.8397, 79.6523, 86.7394, 61.6605", public=True)
def test_hypothesis_lesson_values(observed: Any, reference: Any) -> None:
    expect_hypothesis(observed, reference, "hypothesis.lesson", d.LESSON_X, d.W_STEP, d.B_STEP,
                      "hypothesis(x, W, b) at W, b after the lesson's first SGD step",
                      ["67.2578", "80.8397", "79.6523", "86.7394", "61.6605"])
    with hidden():
        expect_hypothesis(observed, reference, "hypothesis.hidden_a", d.A_X, d.A_W, d.A_B, "hypothesis on other quiz scores")


@check("hypothesis", 1, "hypothesis keeps the (m, 1) shape for any m (here 3 rows), negative weights included")
def test_hypothesis_other_shapes(observed: Any, reference: Any) -> None:
    expect_hypothesis(observed, reference, "hypothesis.hidden_b", d.B_X, d.B_W, d.B_B,
                      "hypothesis on 3 rows with W [-0.8, 1.5, 0.3], b -2")


# --- train -----------------------------------------------------------------------------


def train_parts(result: Any, epochs: int, m: int) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """(W, b, costs) from what train returned, with shapes checked first: they name most mistakes."""
    w, b, costs = training_result(result, epochs + 1, length_hints={epochs: M.ONE_EPOCH_SHORT})
    w = as_tensor(w, what="the W train returned", shape=(3, 1),
                  shape_hints={(3,): M.FLAT_W, (1, 3): "W must be a column, shape (3, 1), so that x.matmul(W) is (m, 1)"})
    b = as_tensor(b, what="the b train returned", shape=(1,),
                  shape_hints={(m, 1): M.BIAS_PER_ROW, (m,): M.BIAS_PER_ROW,
                               (): "return b with shape (1,), as torch.zeros(1) creates it"})
    return w, b, costs


def expect_training(observed: Any, reference: Any, probe: str, x: list[list[float]], y: list[list[float]],
                    lr: float, epochs: int, what: str, lesson: dict[int, tuple[str, float]] | None = None) -> None:
    """train against the reference (and the lesson's printed costs: epoch -> (as printed, relative tolerance))."""
    m = len(x)
    w, b, costs = train_parts(value(observed, probe, m), epochs, m)
    tx, ty = T(x), T(y)

    def run(change: Mapping[str, Any]) -> tuple[list[float], torch.Tensor, torch.Tensor]:
        data_x, data_y = change.get("data", (tx, ty))
        if "variant" in change:
            return memo(M.simulate)(data_x, data_y, change.get("lr", lr), epochs + 1, change["variant"])
        return memo(M.simulate)(data_x, data_y, change.get("lr", lr), epochs + 1)

    def runs() -> Runs:
        """The classic mistakes' runs (each made when first asked for, two together where follow-through
        marking carries one forward); then training on the lesson's data whatever the data given (where this
        is other data), and at the lr train's first step shows where it is not the lr train was given."""
        changes: dict[str, dict[str, Any]] = {h: {"variant": v} for h, v in M.VARIANTS.items()}
        if x != d.LESSON_X:
            changes[M.LESSON_DATA] = {"data": (T(d.LESSON_X), T(d.LESSON_Y))}
        own = first_step_lr(tx, ty, w, costs)
        if own is not None and not math.isclose(own, lr, rel_tol=1e-3):
            changes[M.OWN_LR] = {"lr": own}
        return Runs(run, changes)
    wrong = functools.cache(runs)

    def at(epochs_to_check: list[int], source: list[float]) -> torch.Tensor:
        return torch.tensor([source[e] for e in epochs_to_check], dtype=torch.float64)

    def compare_costs(epochs_to_check: list[int], expected: torch.Tensor, atol: float, rtol: float) -> None:
        expect_close(at(epochs_to_check, costs), expected, what=f"costs at epochs {epochs_to_check} {what}", atol=atol,
                     rtol=rtol, decimals=6, mistakes=derived(wrong, lambda run: at(epochs_to_check, run[0])))

    for epoch, (text, rtol) in sorted((lesson or {}).items()):
        compare_costs([epoch], printed([text])[0], printed_tolerance(text), rtol)
    with hidden():
        ref_w, ref_b, ref_costs = memo(reference.train)(tx, ty, lr=lr, epochs=epochs)
        epochs_to_check = sorted({0, 1, epochs // 2, epochs} & set(range(epochs + 1)))
        compare_costs(epochs_to_check, at(epochs_to_check, ref_costs), HIDDEN_TOL, HIDDEN_TOL)
        for j, (name, got, exp) in enumerate((("W", w, ref_w), ("b", b, ref_b))):
            expect_close(got, exp.detach(), what=f"{name} after training {what}", atol=HIDDEN_TOL, rtol=HIDDEN_TOL,
                         mistakes=derived(wrong, lambda result, j=j: result[j + 1]))


@check("train", 2, "train with the defaults (lr 1e-5, 20 epochs) gives the course notebook's costs 29661.800781, 9298.520508 "
                   "and 1.619033 at epochs 0, 1 and 20", public=True)
def test_train_lesson_costs(observed: Any, reference: Any) -> None:
    expect_training(observed, reference, "train.lesson", d.LESSON_X, d.LESSON_Y, d.LESSON_LR, d.LESSON_EPOCHS,
                    "on the lesson's quiz scores with the default lr and epochs",
                    {0: ("29661.800781", 1e-6), 1: ("9298.520508", 1e-6), 20: ("1.619033", LAST_COST_RTOL)})
    with hidden():
        expect_training(observed, reference, "train.hidden_defaults", d.T_X, d.T_Y, d.LESSON_LR, d.LESSON_EPOCHS,
                        "on other quiz scores with the default lr and epochs")


@check("train", 1, "train trains with optim.SGD, as its docstring asks: it makes torch.optim.SGD and calls its step()",
       public=True)
def test_train_sgd(observed: Any, reference: Any) -> None:
    with goes_with("train.lesson_costs"):  # the rule's point goes with values that work
        test_train_lesson_costs(observed, reference)
    expect_by_hand(observed, "train", hint=M.NO_SGD)


@check("train", 1, "train counts its steps: epochs=0 takes one (cost 29661.800781, then the epoch-1 predictions "
                   "67.2578, ...), epochs=2 takes three", public=True)
def test_train_step_count(observed: Any, reference: Any) -> None:
    expect_training(observed, reference, "train.lesson_one_step", d.LESSON_X, d.LESSON_Y, d.LESSON_LR, 0,
                    "with epochs=0 on the lesson's data", {0: ("29661.800781", 1e-6)})
    w, b, _ = train_parts(value(observed, "train.lesson_one_step", LESSON_M), 0, LESSON_M)
    expected, atol = printed(["67.2578", "80.8397", "79.6523", "86.7394", "61.6605"])
    x, y = T(d.LESSON_X), T(d.LESSON_Y)
    expect_close(x.matmul(w.float()) + b.float(), expected.reshape(LESSON_M, 1), atol=atol,
                 what="x.matmul(W) + b with the W, b that train(x, y, epochs=0) returned",
                 mistakes=lambda: {h: x.matmul(mw) + mb for h, v in M.VARIANTS.items()
                                   for _, mw, mb in [memo(M.simulate)(x, y, d.LESSON_LR, 1, v)]})
    with hidden():
        expect_training(observed, reference, "train.hidden_few_steps", d.T_X, d.T_Y, d.FEW_LR, d.FEW_EPOCHS,
                        f"with lr {d.FEW_LR}, epochs={d.FEW_EPOCHS} on other data")


@check("train", 2, "train follows the reference on other data, learning rate and epoch count")
def test_train_other_data(observed: Any, reference: Any) -> None:
    expect_training(observed, reference, "train.hidden", d.U_X, d.U_Y, d.U_LR, d.U_EPOCHS,
                    f"with lr {d.U_LR}, {d.U_EPOCHS} epochs on other data")


# --- MultivariateLinearRegressionModel -------------------------------------------------

MODEL = "MultivariateLinearRegressionModel"


def reference_model(reference: Any, seed: int, x: torch.Tensor, y: torch.Tensor, lr: float,
                    steps: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The reference model run the way the `module` recipe runs the student's: (self.linear(x), output, trained)."""
    return reference_model_run(reference, MODEL, seed, x, y, lr, steps)


def by_hand_hint(raw: Any) -> str:
    """The harness's word on the module (the student's process describing itself) only picks the hint."""
    structure = raw.get("structure")
    return "" if isinstance(structure, dict) and structure.get("linear_is_nn_linear") is True else M.BY_HAND


def expect_model(observed: Any, reference: Any, part: str, lesson_cost: str, rtol: float, what: str) -> None:
    """The lesson's cost from the seed-1 run's `part`, then the reference on the hidden run's `part`."""
    raw = answer(observed, f"{MODEL}.lesson", LESSON_M)
    hint = by_hand_hint(raw)
    try:
        out = as_tensor(decode(raw.get(part)), what=f"model(x) {what}", shape=(LESSON_M, 1),
                        shape_hints=M.prediction_shape_hints(LESSON_M))
        expect_close(F.mse_loss(out, T(d.LESSON_Y).double()), printed([lesson_cost])[0][0],
                     what=f"F.mse_loss(model(x), y) {what}", atol=printed_tolerance(lesson_cost), rtol=rtol, decimals=6)
        with hidden():
            x, y = T(d.U_X), T(d.U_Y)
            expected = reference_model(reference, d.MODEL_SEED, x, y, d.MODEL_LR, d.MODEL_STEPS)[1 if part == "output" else 2]
            hidden_what = (f"model(x) on other data after torch.manual_seed({d.MODEL_SEED})" if part == "output" else
                           f"model(x) after {d.MODEL_STEPS} SGD steps (lr {d.MODEL_LR}) on other data")
            expect_close(value(observed, f"{MODEL}.hidden", len(d.U_X), part), expected, what=hidden_what,
                         atol=HIDDEN_TOL, rtol=HIDDEN_TOL)
    except CheckFailed as failure:
        failure.hint = failure.hint or hint
        raise


@check(MODEL, 1, "the model holds one nn.Linear(3, 1) named linear and forward returns self.linear(x)")
def test_model_structure(observed: Any, reference: Any) -> None:
    # Judged by values: self.linear(x) and forward(x) after the seed, and the outputs after seeded training.
    probes = ((f"{MODEL}.lesson", d.LESSON_SEED, d.LESSON_X, d.LESSON_Y, d.LESSON_LR, d.LESSON_EPOCHS, "the lesson's data"),
              (f"{MODEL}.hidden", d.MODEL_SEED, d.U_X, d.U_Y, d.MODEL_LR, d.MODEL_STEPS, "other data"))
    itself = same_start(observed, [(probe, T(x)) for probe, _, x, *_ in probes])  # (whatever the caller's seed)
    for probe, seed, x, y, lr, steps, data in probes:
        raw = answer(observed, probe, len(x))
        expect_linear_model(raw, reference_model(reference, seed, T(x), T(y), lr, steps), linear="nn.Linear(3, 1)",
                            seed=seed, data=data, by_hand=M.BY_HAND, shape_hints=M.prediction_shape_hints(len(x)),
                            seeds_itself=itself)


@check(MODEL, 2, "after torch.manual_seed(1) the untrained model's cost is the course notebook's epoch-0 31667.597656", public=True)
def test_model_initial_cost(observed: Any, reference: Any) -> None:
    # torch 2.13 gives 31667.599609, one float32 step (0.002) above the lesson's print: rtol 1e-5 takes both.
    expect_model(observed, reference, "output", "31667.597656", 1e-5, "after torch.manual_seed(1), before training")


@check(MODEL, 2, "20 SGD steps (lr 1e-5, F.mse_loss) bring the model to the course notebook's epoch-20 cost 0.227732", public=True)
def test_model_trained_cost(observed: Any, reference: Any) -> None:
    expect_model(observed, reference, "trained", "0.227732", LAST_COST_RTOL,
                 f"after torch.manual_seed(1) and {d.LESSON_EPOCHS} SGD steps of lr {d.LESSON_LR}")
