"""Grading lab 4 end to end: real files, the real `grade` command, real kernels.

The catalogue of wrong submissions lives in tests/submissions/lab4/: `overrides/` hold a few
definitions applied to the solution, `whole/` complete files. The lab's own files and the
hard-coding submission are graded as a .py file and as a notebook; the catalogue as .py files
(one mistake also as a notebook), since lab 2's suite already covers what differs between the
two formats and a notebook costs a kernel start per submission.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import assert_loses_exactly, assert_reference_files_graded, SUBMISSIONS, Graded, apply_override, as_kind, run_grade

MODEL = "MultivariateLinearRegressionModel"
FAST = ("--call-timeout", "10", "--cell-timeout", "30")




@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_reference_files_are_graded_as_expected(folder: str, kind: str, tmp_path: Path) -> None:
    graded = assert_reference_files_graded("lab4", folder, kind, 14, tmp_path, *FAST)
    if folder == "solutions":
        assert graded.report["issues"] == []


# name -> (functions that lose their points, the function whose checks name it, words that name it)
MISTAKES: dict[str, tuple[set[str], str, str]] = {
    "elementwise_product": ({"hypothesis", "train"}, "hypothesis", "elementwise `*` instead of a matrix product"),
    "prediction_shape_m": ({"hypothesis"}, "hypothesis", "(m,) instead of (m, 1)"),
    # With train's own forgotten zero_grad on top: train was told hypothesis's broadcast (its costs match
    # neither alone); every failed value check of train now names its own mistake (see below).
    "prediction_shape_m_and_no_zero_grad": ({"hypothesis", "train"}, "train", "zero_grad"),
    # And with a train that sums: both change the cost, which one Variant field held (no hint at all).
    "prediction_shape_m_and_sum": ({"hypothesis", "train"}, "train", "sum instead of mean"),
    "weights_shape_3": ({"train"}, "train", "torch.zeros((3, 1), requires_grad=True)"),
    "forgets_requires_grad_on_W": ({"train"}, "train", "W created without requires_grad=True"),
    "bias_per_row": ({"train"}, "train", "one entry per row"),
    "sum_instead_of_mean": ({"train"}, "train", "sum instead of mean"),
    "forgets_zero_grad": ({"train"}, "train", "zero_grad"),
    "one_epoch_too_few": ({"train"}, "train", "one epoch too few"),
    # SGD's update written by hand, where train's docstring asks for optim.SGD: read from the source.
    "train_updates_by_hand": ({"train.sgd"}, "train", "never calls torch.optim.SGD"),
    # optim.SGD(..., lr=1e-5) written in: only the checks at other lrs tell, with no hint ("train counts its steps").
    "train_at_its_own_lr": ({"train.step_count", "train.other_data"}, "train", "trains at an lr of its own"),
    # The lesson's x_data, y_data (a notebook's global) in place of its arguments: right on the lesson only.
    "train_on_the_lesson_data": ({"train"}, "train", "trains on the lesson's quiz scores"),
    # optim.SGD made and never stepped, the update by hand: 14/14 (the rule looked for the constructor only).
    "train_with_an_unused_optimizer": ({"train.sgd"}, "train", "never calls .step()"),
    "parameters_by_hand": ({MODEL}, MODEL, "instead of nn.Linear"),
    # By hand, posing as nn.Linear(3, 1) (its type, names and features, as the harness reports them): the values tell.
    "by_hand_posing_as_linear": ({MODEL}, MODEL, "not built on self.linear = nn.Linear(3, 1)"),
    "linear_one_input": ({MODEL}, MODEL, "nn.Linear(1, 1): three input features need"),
    # forward computing without a return: the grader's own loss on the None it gives raised, with no hint.
    "forward_without_return": ({MODEL}, MODEL, "forward has no return statement with a value"),
    "other_correct_spellings": (set(), "", ""),
}


@pytest.fixture(scope="module")
def graded_override(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Graded]:
    """Grade an override as `kind` once per module: several tests read the same report."""

    @functools.cache
    def grade(name: str, kind: str) -> Graded:
        folder = tmp_path_factory.mktemp(name)
        path = apply_override(SUBMISSIONS / "lab4/overrides" / f"{name}.py", kind, folder, lab="lab4")
        return run_grade(path, *FAST, cwd=folder)

    return grade


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_classic_mistake_loses_exactly_its_functions(name: str, graded_override: Callable[[str, str], Graded]) -> None:
    wrong, function, words = MISTAKES[name]
    graded = graded_override(name, "py")
    assert_loses_exactly(graded, wrong)
    if not wrong:
        return
    failed = [c for c in graded.checks_of(function) if c["status"] != "passed"]
    assert any(words in c["hint"] or words in c["message"] for c in failed), failed
    if name in ("prediction_shape_m_and_no_zero_grad", "prediction_shape_m_and_sum"):
        assert all(words in c["hint"] for c in failed if not c["message"].startswith("withheld")), failed
    for check in graded.report["checks"]:
        if check["function"] in wrong:
            assert check["status"] != "passed" and check["message"], check


def test_broadcasting_is_named_in_train(graded_override: Callable[[str, str], Graded]) -> None:
    """An (m,) prediction passes the first cost (H = 0 broadcasts harmlessly) and goes wrong from epoch 1
    (train's own squeeze: a hypothesis returning (m,) is charged in hypothesis, and train carried forward)."""
    checks = graded_override("train_squeezes", "py").checks_of("train")
    assert all("broadcast against the (m, 1) target" in c["hint"] for c in checks  # (but a rule's withheld point)
               if not c["message"].startswith("withheld: this point goes with")), checks
    first = next(c for c in checks if c["name"] == "train.lesson_costs")
    assert "9298.520508" in first["expected"]


def test_a_raised_error_names_its_mistake(kind: str, graded_override: Callable[[str, str], Graded]) -> None:
    """x * W raises on 5 rows (and gives (3, 3) on 3): every hypothesis and train check names the mistake."""
    graded = graded_override("elementwise_product", kind)
    assert_loses_exactly(graded, {"hypothesis", "train"})
    checks = graded.checks_of("hypothesis") + graded.checks_of("train")
    assert all("elementwise `*`" in c["hint"] + c["message"] for c in checks), checks
    raised = [c for c in checks if c["status"] == "error"]
    assert raised and all("RuntimeError" in c["message"] and c["traceback"] for c in raised), raised


def test_hard_coded_lesson_numbers_earn_nothing(kind: str, tmp_path: Path) -> None:
    graded = run_grade(as_kind(SUBMISSIONS / "lab4/whole/hardcodes_lesson_numbers.py", kind, tmp_path, lab="lab4"),
                       *FAST, cwd=tmp_path)
    assert graded.report["score"] == 0, [(c["name"], c["status"], c["message"]) for c in graded.report["checks"]]
    assert graded.returncode == 1
