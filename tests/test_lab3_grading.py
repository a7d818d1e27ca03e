"""Grading lab 3 end to end: real files, the real `grade` command, real kernels.

The catalogue of wrong submissions lives in tests/submissions/lab3/: `overrides/` hold a
few definitions applied to the solution, `whole/` hold complete files. The reference files
are graded as a .py file and as a notebook, the catalogue as .py files (one in-place case as
a notebook too): the notebook path is the same harness, which lab 2's tests cover in depth.

All the submissions are graded two at a time, starting with the first test that needs one,
which keeps the module near a minute on two cores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from conftest import assert_loses_exactly, ROOT, SUBMISSIONS, Graded, apply_override, as_kind, run_grade

FAST = ("--call-timeout", "10", "--cell-timeout", "30")
MAX_SCORE = 20
OVERRIDES = SUBMISSIONS / "lab3" / "overrides"

# name -> (checks that lose their points, the function whose failed check names the mistake, words it must contain)
MISTAKES: dict[str, tuple[set[str], str, str]] = {
    "gradient_mean_instead_of_sum": ({"gradient"}, "gradient", "mean instead of sum"),
    "gradient_two_over_m": ({"gradient"}, "gradient", "(2/m) * sum"),
    "update_added": ({"descent_step"}, "descent_step", "against it"),
    "updates_W_in_place": ({"descent_step.not_in_place"}, "descent_step", "updated in place"),
    "updates_W_in_place_under_no_grad": ({"descent_step.not_in_place"}, "descent_step", "updated in place and returned"),
    # W changed in place, then a copy returned (right value, with a grad_fn): W's values after the call give it away.
    "in_place_then_copy": ({"descent_step.not_in_place"}, "descent_step", "changed the W it was given"),
    # W changed in place and returned, with the harness patched to say it has a grad_fn: same (and its top
    # level reads the harness's namespace as a table, so the by-hand rules cannot be read: they go too).
    "in_place_with_forged_flags": ({"descent_step.not_in_place", "gradient.by_hand", "descent_step.by_hand"},
                                   "descent_step", "changed the W it was given"),
    "cost_sum_instead_of_mean": ({"cost"}, "cost", "sum instead of mean"),
    # cost_curve and train's history use the student's cost: carried forward, including the curve's
    # minimum, which a missing square moves to the grid's edge.
    "cost_absolute_error": ({"cost"}, "cost", "absolute error"),
    "cost_missing_square": ({"cost"}, "cost", "missing square"),
    # An (m,) prediction: the student's cost, curve and training are right for it (carried forward).
    "hypothesis_flattens": ({"hypothesis"}, "hypothesis", "shape (m,) instead of (m, 1)"),
    # numpy on the way: neither a tensor nor a Python number (cost_curve stacks what cost returns).
    "cost_through_numpy": ({"cost", "cost_curve"}, "cost", "a numpy value is neither a torch tensor"),
    "cost_cut_off_from_autograd": ({"cost.autograd_sgd"}, "cost", "cut off from autograd"),
    "curve_averages_everything": ({"cost_curve"}, "cost_curve", "averaged over everything"),
    "one_epoch_too_few": ({"train"}, "train", "one epoch too few"),
    "history_after_update": ({"train"}, "train", "recorded after the update"),
    # Two mistakes at once: train, right for both, keeps its points (its history follows the student's gradient
    # and cost together); with only the gradient's mistake made elsewhere, train's own is still named.
    "cost_sum_and_gradient_two_over_m": ({"cost", "gradient"}, "cost", "sum instead of mean"),
    "gradient_two_over_m_and_history_after_update": ({"gradient", "train"}, "train", "recorded after the update"),
    # The right numbers from autograd or torch.optim, where the lab asks for them by hand (read from the source);
    # descent_step calls the student's gradient, whose own rule is charged alone: a mistake costs points once.
    "gradient_by_autograd": ({"gradient.by_hand"}, "gradient", "the exercise asks for it by hand"),
    "descent_step_by_optimizer": ({"descent_step.by_hand"}, "descent_step", "calls torch.optim.SGD() at line"),
}


def _submissions() -> dict[str, Callable[[Path], Path]]:
    """Every file this module grades, by key, in the order the tests need them."""
    made: dict[str, Callable[[Path], Path]] = {}
    for folder in ("solutions", "exercises"):
        for kind in ("py", "ipynb"):
            made[f"{folder}.{kind}"] = lambda _, f=folder, k=kind: ROOT / f / "lab3" / f"lab3.{k}"
    for name in sorted(MISTAKES):
        made[name] = lambda dest, n=name: apply_override(OVERRIDES / f"{n}.py", "py", dest, lab="lab3")
    made["updates_W_in_place.ipynb"] = lambda dest: apply_override(OVERRIDES / "updates_W_in_place.py", "ipynb", dest, lab="lab3")
    made["hardcodes_lesson_numbers"] = lambda dest: as_kind(SUBMISSIONS / "lab3/whole/hardcodes_lesson_numbers.py", "py", dest, lab="lab3")
    return made


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Graded]]:
    """`graded(key)`: the report of one submission, graded in this process when first asked for
    (each run still forks from the warm zygote into a sandbox of its own)."""
    made = _submissions()
    reports: dict[str, Graded] = {}

    def graded(key: str) -> Graded:
        if key not in reports:
            folder = tmp_path_factory.mktemp(key.replace(".", "_"))
            reports[key] = run_grade(made[key](folder), *FAST, cwd=folder)
        return reports[key]

    yield graded


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_reference_files_are_graded_as_expected(folder: str, kind: str, graded: Callable[[str], Graded]) -> None:
    result = graded(f"{folder}.{kind}")
    report = result.report
    assert report["lab"] == "lab3" and report["submission"]["format"] == kind
    assert report["max_score"] == MAX_SCORE
    if folder == "solutions":
        assert report["score"] == MAX_SCORE and result.returncode == 0, result.stdout
        assert all(c["status"] == "passed" for c in report["checks"])
        assert report["issues"] == [], report["issues"]  # the notebook's try-it cell runs cleanly
    else:
        assert report["score"] == 0 and result.returncode == 1
        for check in report["checks"]:
            assert check["status"] == "error"
            assert "not implemented" in check["message"], check


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_classic_mistake_loses_exactly_its_checks(name: str, graded: Callable[[str], Graded]) -> None:
    wrong, function, words = MISTAKES[name]
    result = graded(name)
    assert_loses_exactly(result, wrong)
    failed = [c for c in result.checks_of(function) if c["status"] != "passed"]
    assert any(words in c["hint"] or words in c["message"] for c in failed), failed
    for check in failed:
        assert check["message"] and check["message"] != "passed"


def test_in_place_update_names_autograds_error(graded: Callable[[str], Graded]) -> None:
    """In a notebook too, the RuntimeError autograd raises is turned into a named mistake, not a crash."""
    result = graded("updates_W_in_place.ipynb")
    assert_loses_exactly(result, {"descent_step.not_in_place"})
    check = next(c for c in result.checks_of("descent_step") if c["status"] != "passed")
    assert check["status"] == "failed"
    assert "leaf Variable that requires grad" in check["message"] and "W - lr * gradient(x, y, W)" in check["hint"]


def test_hard_coding_the_lessons_numbers_earns_nothing(graded: Callable[[str], Graded]) -> None:
    result = graded("hardcodes_lesson_numbers")
    checks = result.report["checks"]
    assert result.report["score"] == 0, [(c["name"], c["status"], c["message"]) for c in checks]
    assert result.returncode == 1
    # It does reproduce the lesson's numbers: only the hidden inputs catch it. (A rule's point only names the
    # value check it goes with, "gradient.lesson_values".)
    failures = [c["message"] for c in checks if not c["message"].startswith("withheld: this point goes with ")]
    assert len(failures) < len(checks) and not any("lesson" in m for m in failures), [(c["name"], c["message"]) for c in checks]


# --- the lesson's numbers, recomputed on the grader's side (no student process) ------------


@pytest.fixture(scope="module")
def reference() -> Any:
    from grader.labs import load_lab

    return load_lab("lab3").reference()


def lesson_xy() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.FloatTensor([[1], [2], [3]]), torch.FloatTensor([[1], [2], [3]])


# The course's Lab 3 notebook (see docs/values.md (lab 3)): `W: {:.3f}, Cost: {:.6f}` at epochs 0..10.
LESSON_TABLE = [("0.000", "4.666667"), ("1.400", "0.746666"), ("0.840", "0.119467"), ("1.064", "0.019115"),
                ("0.974", "0.003058"), ("1.010", "0.000489"), ("0.996", "0.000078"), ("1.002", "0.000013"),
                ("0.999", "0.000002"), ("1.000", "0.000000"), ("1.000", "0.000000")]


def test_reference_prints_the_lessons_table(reference: Any) -> None:
    x, y = lesson_xy()
    assert float(reference.gradient(x, y, torch.zeros(1))) == -14.0
    assert f"{float(reference.descent_step(x, y, torch.zeros(1), 0.1)):.4f}" == "1.4000"
    w, history = reference.train(x, y)
    assert [(f"{w_:.3f}", f"{c:.6f}") for w_, c in history] == LESSON_TABLE
    assert f"{float(w):.3f}" == "1.000"


def test_sgd_with_lr_015_on_the_mean_cost_prints_the_same_table(reference: Any) -> None:
    """The lesson's claim: optim.SGD(lr=0.15) on the mean cost steps like lr 0.1 on the sum gradient (0.15 * 2/3 = 0.1)."""
    x, y = lesson_xy()
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.15)
    _, by_hand = reference.train(x, y, lr=0.1, epochs=10)
    for epoch in range(11):
        cost = reference.cost(x, y, w)
        assert abs(w.item() - by_hand[epoch][0]) < 5e-7 and abs(cost.item() - by_hand[epoch][1]) < 1e-6
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()


def test_cost_curve_is_lowest_next_to_one(reference: Any) -> None:
    x, y = lesson_xy()
    ws = torch.linspace(-5, 7, 1000)
    assert int(reference.cost_curve(x, y, ws).argmin()) in (499, 500)  # W 0.9940 and 1.0060 tie


def test_the_mistake_simulator_agrees_with_the_reference(reference: Any) -> None:
    from grader.labs.lab3 import data as d
    from grader.labs.lab3 import mistakes as M

    x, y = torch.tensor(d.U_X), torch.tensor(d.U_Y)
    w, history = M.simulate(x, y, d.U_LR, d.U_EPOCHS)
    ref_w, ref_history = reference.train(x, y, lr=d.U_LR, epochs=d.U_EPOCHS)
    assert torch.allclose(w, ref_w) and torch.allclose(torch.tensor(history), torch.tensor(ref_history))


def test_every_mistake_is_told_apart_on_the_hidden_inputs(reference: Any) -> None:
    from grader.labs.lab3 import data as d
    from grader.labs.lab3 import mistakes as M

    for xs, ys, ws, lr in ((d.A_X, d.A_Y, d.A_W, d.A_LR), (d.B_X, d.B_Y, d.B_W, d.B_LR)):
        x, y, w = torch.tensor(xs), torch.tensor(ys), torch.tensor(ws)
        for variants, right in ((M.gradient_variants(x, y, w), reference.gradient(x, y, w)),
                                (M.step_variants(x, y, w, lr), reference.descent_step(x, y, w, lr)),
                                (M.cost_variants(x, y, w), reference.cost(x, y, w))):
            # (a transposed prediction's cost is a flat one's by design: one of the two is enough)
            values = [right, *(v for hint, v in variants.items() if hint != M.PRED_TRANSPOSED)]
            for i, a in enumerate(values):
                for b in values[i + 1:]:
                    assert not torch.allclose(a, b, atol=1e-3), (a, b)
