"""Grading lab 1 end to end: real files, the real `grade` command, real kernels.

The catalogue of wrong submissions lives in tests/submissions/lab1/: `overrides/` hold a
definition or two applied to the solution, `whole/` a complete file. Lab 2's suite already
covers the runner's behaviour (hangs, exits, crashes, notebooks' quirks) in both formats, so
here the catalogue is graded as .py files, with two of its entries also as notebooks, to keep
this file quick.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import torch

from conftest import assert_reads_in_korean, assert_loses_exactly, assert_reference_files_graded, ROOT, SUBMISSIONS, Graded, apply_override, as_kind, run_grade

MAX_SCORE = 14
FAST = ("--call-timeout", "10", "--cell-timeout", "30")




@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_reference_files_are_graded_as_expected(folder: str, kind: str, tmp_path: Path) -> None:
    assert_reference_files_graded("lab1", folder, kind, MAX_SCORE, tmp_path, *FAST)


# name -> (functions that lose their points, the function whose checks must name it, words naming it)
MISTAKES: dict[str, tuple[set[str], str, str]] = {
    "forgets_requires_grad": ({"quadratic_grad"}, "quadratic_grad", "forgotten requires_grad=True"),
    "returns_z_not_its_gradient": ({"quadratic_grad"}, "quadratic_grad", "instead of its derivative"),
    # No `return`: it was told ".grad read from the wrong tensor", a mistake its None only looks like.
    "forgets_the_return": ({"quadratic_grad"}, "quadratic_grad", "has no return statement with a value"),
    "zeroes_the_gradient_each_call": ({"accumulated_grads"}, "accumulated_grads", "every entry is 2"),
    "appends_the_grad_tensor": ({"accumulated_grads"}, "accumulated_grads", "the same tensor each time"),
    "one_backward_call_too_many": ({"accumulated_grads"}, "accumulated_grads", "one backward() call too many"),
    "gradients_by_hand": ({"quadratic_grad.autograd", "accumulated_grads.autograd"}, "quadratic_grad", "worked out by hand"),
    # Autograd through torch.autograd.grad, not backward(): it was told "the derivative worked out by hand".
    "quadratic_grad_by_autograd_grad": ({"quadratic_grad.autograd"}, "quadratic_grad", "torch.autograd.grad in place of"),
    # train_l1 trains with the student's own l1_cost: right for it, so carried forward (a mistake costs once).
    "l1_squared_error": ({"l1_cost"}, "l1_cost", "squared error"),
    "l1_sum_instead_of_mean": ({"l1_cost"}, "l1_cost", "sum instead of mean"),
    "l1_abs_of_mean": ({"l1_cost"}, "l1_cost", "absolute value of the mean"),
    "l1_cost_not_reduced": ({"l1_cost", "train_l1"}, "l1_cost", "0-dim"),
    # (m,) against (m, 1): train_l1, right for it, was charged too (6/14), told to fix its seeding.
    "l1_broadcast": ({"l1_cost"}, "l1_cost", "prediction"),  # (which words where: in the test)
    "trains_with_mse_loss": ({"train_l1"}, "train_l1", "nn.MSELoss"),
    "forgets_zero_grad": ({"train_l1"}, "train_l1", "zero_grad"),
    "one_epoch_too_many": ({"train_l1"}, "train_l1", "one epoch too many"),
    "model_not_seeded": ({"train_l1"}, "train_l1", "torch.manual_seed(seed)"),
    # torch.manual_seed(1), a number of its own: it was told "W and b started at 0" (a diagnosis at the goal's
    # room, 0.5), and "expected 3.0000" where the reference ends at 2.613.
    "seeds_its_own_number": ({"train_l1"}, "train_l1", "started from other parameters"),
    # Two mistakes: l1_cost sums and train_l1 forgets zero_grad. train_l1 was told l1_cost's "sum instead of
    # mean" (its first cost matches that) and never its own; it is told its own, on top of the sum carried.
    "l1_sum_and_no_zero_grad": ({"l1_cost", "train_l1"}, "train_l1", "zero_grad"),
}


def assert_mistake(name: str, graded: Graded) -> None:
    wrong, function, words = MISTAKES[name]
    assert_loses_exactly(graded, wrong)
    failed = [c for c in graded.checks_of(function) if c["status"] != "passed"]
    assert failed and all(words in c["hint"] or words in c["message"] for c in failed if not waits(c)), failed
    assert all(not c["hint"] for c in failed if waits(c))  # (a rule's point waiting on the values: said there)


def waits(check: dict[str, str]) -> bool:
    """A rule check's point withheld while the value check it goes with fails."""
    return check["message"].startswith("withheld: this point goes with")


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_classic_mistake_loses_exactly_its_functions(name: str, tmp_path: Path) -> None:
    path = apply_override(SUBMISSIONS / "lab1/overrides" / f"{name}.py", "py", tmp_path, lab="lab1")
    graded = run_grade(path, *FAST, cwd=tmp_path)
    assert_mistake(name, graded)
    if name == "returns_z_not_its_gradient":  # a failed check shows both numbers
        check = graded.checks_of("quadratic_grad")[0]
        assert "8.0000" in check["expected"] and "13.0000" in check["obtained"]
    if name == "l1_broadcast":  # on the lesson's (m, 1) data it broadcasts; on a (2, 3) block view(-1) raises
        hints = {c["name"]: c["hint"] for c in graded.checks_of("l1_cost")}
        assert "broadcast against the (m, 1) target" in hints["l1_cost.lesson_value"], hints
        assert "prediction reshaped (view(-1)" in hints["l1_cost.all_elements_and_autograd"], hints
    if name == "l1_sum_and_no_zero_grad":  # what is still wrong with the sum carried: not costs[0], right for it
        [other] = [c for c in graded.checks_of("train_l1") if c["name"] == "train_l1.other_settings"]
        assert other["message"].startswith("costs at epochs [0, 1, 40, 79]"), other["message"]
        assert other["message"].endswith("with l1_cost's mistake carried forward it is still wrong"), other["message"]
        [near] = [c for c in graded.checks_of("train_l1") if c["name"] == "train_l1.lesson_data"]
        assert near["expected"].endswith(" (right with this submission's own l1_cost)"), near  # not the right answer
    if name == "seeds_its_own_number":  # the goal shown as a goal, with its room, in Korean too
        [near] = [c for c in graded.checks_of("train_l1") if c["name"] == "train_l1.lesson_data"]
        assert near["expected"] == "3 ± 0.5 (the lesson's goal)", near
        assert_reads_in_korean(graded.report)


@pytest.mark.parametrize("name", ["appends_the_grad_tensor", "l1_squared_error"])
def test_classic_mistake_in_a_notebook(name: str, tmp_path: Path) -> None:
    path = apply_override(SUBMISSIONS / "lab1/overrides" / f"{name}.py", "ipynb", tmp_path, lab="lab1")
    graded = run_grade(path, *FAST, cwd=tmp_path)
    assert_mistake(name, graded)
    lost = sum(graded.function_scores()[f][1] for f in MISTAKES[name][0])
    assert f"Score: {MAX_SCORE - lost:g}/{MAX_SCORE}" in graded.stdout


def test_hardcoded_lesson_numbers_earn_nothing(kind: str, tmp_path: Path) -> None:
    path = as_kind(SUBMISSIONS / "lab1/whole/hardcodes_lesson_numbers.py", kind, tmp_path, lab="lab1")
    graded = run_grade(path, *FAST, cwd=tmp_path)
    assert graded.report["score"] == 0, [(c["name"], c["status"], c["message"]) for c in graded.report["checks"]]
    assert graded.returncode == 1


def test_documented_values_are_reproduced() -> None:
    """The numbers docs/values.md (lab 1) and the notebook's "Try it" cell quote, from the reference solution."""
    from grader.labs.lab1 import data as d

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: extra threads only wait on a busy machine
    try:
        ref = runpy.run_path(str(ROOT / "solutions/lab1/lab1.py"))
        x, y, line = (torch.tensor(v) for v in (d.L1_X, d.L1_Y, d.L1_LINE))
        assert ref["quadratic_grad"](2.0) == 8.0
        assert ref["accumulated_grads"](2.0, 21) == [2.0 * k for k in range(1, 22)]
        assert f"{float(ref['l1_cost'](line, y)):.4f}" == "1.6271"
        w, b, costs = ref["train_l1"](x, y)
        assert (f"{w:.4f}", f"{b:.4f}", f"{costs[0]:.4f}", f"{costs[-1]:.4f}") == ("2.0156", "2.6129", "10.4601", "1.6737")
        assert len(costs) == 500
    finally:
        torch.set_num_threads(threads)


def test_a_misspelt_function_is_named_and_the_errors_it_causes_point_to_it(tmp_path: Path) -> None:
    """`def l1_cots(`: l1_cost's checks said "no l1_cost found (check its name)" without the near miss, and
    train_l1's NameError for l1_cost said nothing of where it starts (6/14, from a student review)."""
    source = (ROOT / "solutions/lab1/lab1.py").read_text(encoding="utf-8")
    misspelt = tmp_path / "lab1.py"
    misspelt.write_text(source.replace("def l1_cost(", "def l1_cots(", 1), encoding="utf-8")
    graded = run_grade(misspelt, *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, {"l1_cost", "train_l1"})
    for check in graded.checks_of("l1_cost"):
        assert check["message"].endswith("; the submission defines l1_cots: is that it, misspelt?"), check
    for check in graded.checks_of("train_l1"):
        assert "NameError" in check["message"] and check["message"].endswith(
            "; l1_cost is not defined in the submission (its own checks say so), and train_l1 calls it: the error "
            "starts there"), check
    assert_reads_in_korean(graded.report)
