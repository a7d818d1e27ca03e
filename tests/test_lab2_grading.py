"""Grading lab 2 end to end: real files, the real `grade` command, real kernels.

The catalogue of wrong submissions lives in tests/submissions/lab2/: `overrides/` hold
a few definitions (and `# %% after NAME` blocks) applied to the solution, `whole/` hold
complete files. Each is graded as a .py file; most also as a notebook.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from conftest import assert_loses_exactly, assert_reads_in_korean, assert_reference_files_graded, ROOT, SUBMISSIONS, apply_override, as_kind, run_grade

LAB2_FUNCTIONS = ("hypothesis", "mse_cost", "gradient", "train_step", "train", "LinearRegressionModel")
FAST = ("--call-timeout", "10", "--cell-timeout", "30")




@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_reference_files_are_graded_as_expected(folder: str, kind: str, tmp_path: Path) -> None:
    assert_reference_files_graded("lab2", folder, kind, 25, tmp_path, *FAST)


def test_the_stub_notebooks_try_it_cell_raises_no_cell_error(tmp_path: Path) -> None:
    """The stub's optional "Try it" cell calls every unfinished function: tagged demo, grading skips it."""
    graded = run_grade(ROOT / "exercises/lab2/lab2.ipynb", *FAST, cwd=tmp_path)
    assert graded.report["issues"] == [], graded.report["issues"]


# name -> (functions that lose their points, words the main diagnosis must contain). A mistake costs
# points once (the labs' `carry_forward`): train_step and train built on a wrong mse_cost or hypothesis,
# or train on a wrong train_step, keep theirs when they are right for it.
MISTAKES: dict[str, tuple[set[str], str, str]] = {
    "sum_instead_of_mean": ({"mse_cost"}, "mse_cost", "sum instead of mean"),
    "missing_square": ({"mse_cost"}, "mse_cost", "missing square"),
    "cost_absolute_error": ({"mse_cost"}, "mse_cost", "absolute error"),
    "cost_halved": ({"mse_cost"}, "mse_cost", "half the mean squared error"),
    "cost_mean_then_squared": ({"mse_cost"}, "mse_cost", "mean error squared"),
    "cost_not_reduced": ({"mse_cost", "train_step", "train"}, "mse_cost", "0-dim"),
    "forgets_zero_grad": ({"train_step"}, "train_step", "zero_grad"),
    "cost_after_step": ({"train_step"}, "train_step", "after optimizer.step()"),
    # `return cost`, not cost.item(): the right numbers, but train's list holds an autograd graph per epoch.
    "train_step_returns_a_tensor": ({"train_step.lesson_values"}, "train_step", "returned its cost as a tensor"),
    # train_step on the lesson's x_train, y_train, not its x, y: right on lesson 002's data only. train, right
    # for it, is carried forward (it was told it "does not start from W = b = 0").
    "train_step_on_globals": ({"train_step"}, "train_step", "trains on lesson 002's data (x_train, y_train)"),
    # ... holding data of its own: no run to replay (train is charged too), but the hint says what train_step ignores.
    "train_step_on_globals_of_its_own": ({"train_step", "train"}, "train_step", "ignores its x and y"),
    # The update by hand at lr 0.01: right at lr 0.01 only (train was told to pass lr=lr, which it did).
    "train_step_updates_at_a_fixed_lr": ({"train_step.consecutive", "train_step.lesson003_long_run"}, "train_step",
                                         "with an lr of its own whatever optimizer it is given"),
    # The same with an optimizer of its own at lr 0.001: the lr is read from its steps, and train is carried forward.
    "train_step_makes_its_own_optimizer": ({"train_step"}, "train_step", "with an lr of its own whatever optimizer"),
    # train handing x_train, y_train to a right train_step: train's own mistake (it was put on train_step).
    "train_passes_the_lesson_data": ({"train"}, "train", "train trains on lesson 002's data"),
    "gradient_sign_flipped": ({"gradient"}, "gradient", "sign"),
    "gradient_without_factor_two": ({"gradient"}, "gradient", "factor 2"),
    "gradient_sum_instead_of_mean": ({"gradient"}, "gradient", "sum instead of mean"),
    "gradient_ignores_bias": ({"gradient"}, "gradient", "bias is ignored"),
    # The docstring lets W and b require grad and asks for no autograd history: both scored 25/25.
    "gradient_keeps_history": ({"gradient.other_data"}, "gradient", "carries autograd history"),
    "gradient_through_numpy": ({"gradient.other_data"}, "gradient", "Can't call numpy() on Tensor that requires grad"),
    "hypothesis_ignores_bias": ({"hypothesis"}, "hypothesis", "bias is ignored"),
    "prediction_shape_m": ({"hypothesis"}, "hypothesis", "(m,) instead of (m, 1)"),
    "one_epoch_too_few": ({"train"}, "train", "one epoch too few"),
    # torch.manual_seed inside __init__: right after the lesson's seed 1, wrong after any other (it was told
    # "not built on nn.Linear", with a hint about drawing random numbers before it, in English in Korean reports).
    "model_seeds_itself": ({"LinearRegressionModel"}, "LinearRegressionModel", "seems to seed torch itself"),
    # ... with a seed no list holds: the model starts from the same weights after the probes' two seeds.
    "model_seeds_itself_with_3": ({"LinearRegressionModel"}, "LinearRegressionModel", "whatever seed the caller sets"),
    "zero_grad_between_backward_and_step": ({"train_step"}, "train_step", "zero_grad() between backward() and step()"),
    # A random start cannot be simulated (the student's random numbers): the first cost tells.
    "random_start": ({"train"}, "train", "does not start from W = b = 0"),
    # Only the checks that give train another lr, or other epochs, than its defaults can tell.
    "train_ignores_lr": ({"train.lesson000", "train.other_data"}, "train", "ignores its lr argument"),
    "train_ignores_epochs": ({"train.lesson000", "train.other_data"}, "train", "ignores its epochs argument"),
    # An lr written into optim.SGD (0.1): every check tells, and the first step tells which lr (it had no hint).
    "train_at_its_own_lr": ({"train"}, "train", "trains at an lr of its own"),
    # SGD's update written by hand, where train's docstring asks for optim.SGD: read from the source.
    "train_updates_by_hand": ({"train.sgd"}, "train", "never calls torch.optim.SGD"),
    "parameters_by_hand": ({"LinearRegressionModel"}, "LinearRegressionModel", "nn.Linear"),
    # By hand, posing as nn.Linear (its type, names and features, as the harness reports them): the values tell.
    "by_hand_posing_as_linear": ({"LinearRegressionModel"}, "LinearRegressionModel",
                                 "not built on self.linear = nn.Linear(1, 1)"),
    # A cost cut off from autograd, with the harness patched to say it has a grad_fn: no gradient comes back.
    # (The forged flags say gradient's dW and db have a history too: what the student's process says about
    # itself can only cost it points. Its top level reads the harness's namespace as a table, so the
    # grader cannot read how gradient computes either: gradient.by_hand goes too.)
    "cost_cut_off_with_forged_flags": ({"mse_cost.autograd", "train_step", "train", "gradient.other_data",
                                        "gradient.by_hand"}, "mse_cost", "cut off from autograd"),
    # The right number as a Python float: train_step's backward() raises, and says where that starts.
    "cost_as_a_float": ({"mse_cost.autograd", "train_step", "train"}, "mse_cost", "cut off from autograd"),
    # The right numbers from autograd, where the exercise derives them by hand: read from the source.
    "gradient_by_autograd": ({"gradient.by_hand"}, "gradient", "calls cost.backward() at line"),
    "gradient_by_autograd_in_a_helper": ({"gradient.by_hand"}, "gradient", "calls derive() through _slopes"),
    # The same through getattr: a name written out reads as the call; one built at run time cannot be read.
    "gradient_by_autograd_through_getattr": ({"gradient.by_hand"}, "gradient", "calls cost.backward() at line"),
    "gradient_by_autograd_named_at_run_time": ({"gradient.by_hand"}, "gradient",
                                               "looks a name up at run time (from text"),
    # From a review of the feedback as students meet it: an error's hint names the cause the source shows.
    # mse_cost prints its cost and returns nothing: train_step's backward() on None says mse_cost lacks a return.
    "cost_printed_not_returned": ({"mse_cost", "train_step", "train"}, "train_step",
                                  "mse_cost has no return statement with a value, so it returns None whatever it "
                                  "computes, and train_step uses what it returns"),
    "train_step_under_no_grad": ({"train_step", "train"}, "train_step", "inside `with torch.no_grad():` (in train_step)"),
    "train_step_updates_in_place": ({"train_step", "train"}, "train_step", "a parameter updated in place by hand"),
    # Lesson 004's gradient (the plain sum, no 2/m) where lab 2 asks for the MSE's derivative: dW -268.44, not -178.96.
    "gradient_lesson_004_sum": ({"gradient"}, "gradient", "lesson 004's gradient, the plain sum"),
    # The right numbers as Python floats where train returns (1,) tensors: the contract costs train, and says how.
    "train_returns_numbers": ({"train"}, "train", "a Python number where a tensor is asked"),
}


# Every mistake as a .py file; as a notebook, one per function family and the forged flags
# (the harness is reached another way in a kernel): the notebook path is the same code after that.
IN_NOTEBOOKS = ("sum_instead_of_mean", "forgets_zero_grad", "gradient_sign_flipped", "prediction_shape_m",
                "parameters_by_hand", "cost_cut_off_with_forged_flags", "gradient_by_autograd_in_a_helper",
                "train_step_on_globals")


@pytest.mark.parametrize("name, kind", [(n, "py") for n in sorted(MISTAKES)] + [(n, "ipynb") for n in IN_NOTEBOOKS])
def test_classic_mistake_loses_exactly_its_functions(name: str, kind: str, tmp_path: Path) -> None:
    wrong, function, words = MISTAKES[name]
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides" / f"{name}.py", kind, tmp_path), *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, wrong)
    failed = [c for c in graded.checks_of(function) if c["status"] != "passed"]
    assert any(words in c["hint"] or words in c["message"] for c in failed), failed
    for check in failed:
        assert check["message"] and check["message"] != "passed"
    assert_reads_in_korean(graded.report)


def test_a_mistake_is_carried_forward_only_where_it_was_called(tmp_path: Path) -> None:
    """sum instead of mean in mse_cost, and again in train_step's own cost without calling mse_cost:
    train_step made the mistake itself and loses its points; train, right for that train_step (which
    it calls), keeps its points and says why, in Korean too."""
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/sum_inline_in_train_step.py", "py", tmp_path), *FAST,
                       cwd=tmp_path)
    assert_loses_exactly(graded, {"mse_cost", "train_step"})
    assert all("sum instead of mean" in c["hint"] for c in graded.checks_of("train_step")), graded.checks_of("train_step")
    for check in graded.checks_of("train"):
        assert check["message"].startswith("passed, carried forward: right for this submission's own train_step;"), check
    sum_only = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/sum_instead_of_mean.py", "py", tmp_path), *FAST,
                         cwd=tmp_path)
    carried = {c["name"]: c["message"] for c in sum_only.report["checks"] if "carried forward" in c["message"]}
    assert {n.split(".")[0] for n in carried} == {"train_step", "train"} and all("own mse_cost;" in m for m in carried.values())
    assert_reads_in_korean(graded.report)


def test_two_mistakes_are_carried_forward_together(tmp_path: Path) -> None:
    """mse_cost sums and train_step forgets zero_grad: each costs points in its own function only. train_step
    is told its own mistake (zero_grad, what is left with mse_cost's sum carried forward), not mse_cost's again;
    train, right for both, keeps its points and names both, in Korean too."""
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/sum_and_no_zero_grad.py", "py", tmp_path), *FAST,
                       cwd=tmp_path)
    assert_loses_exactly(graded, {"mse_cost", "train_step"})
    assert graded.report["score"] == 16, graded.report["score"]
    for check in graded.checks_of("train_step"):
        assert "zero_grad" in check["hint"] and "sum instead of mean" not in check["hint"], check
        assert "with mse_cost's mistake carried forward it is still wrong" in check["message"], check
    for check in graded.checks_of("train"):
        assert check["message"].startswith("passed, carried forward: right for this submission's own mse_cost and "
                                           "train_step;"), check


def test_a_wrong_shape_with_wrong_values_says_both(tmp_path: Path) -> None:
    """gradient's dW and db 0-dim where W's shape (1,) is asked: with the right values only the shape is
    wrong; with lesson 004's plain sum the values are wrong too, and the check says so at once (fixing the
    shape alone would fail again), with the expected values."""
    right = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/gradient_unshaped.py", "py", tmp_path), *FAST,
                      cwd=tmp_path)
    wrong = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/gradient_unshaped_lesson_004_sum.py", "py", tmp_path),
                      *FAST, cwd=tmp_path)
    for graded in (right, wrong):
        assert_loses_exactly(graded, {"gradient"})
    lesson = next(c for c in right.checks_of("gradient") if c["name"] == "gradient.lesson_values")
    assert "has shape (), expected (1,)" in lesson["message"] and "wrong too" not in lesson["message"], lesson
    assert lesson["expected"] == "shape (1,)" and "shape of W" in lesson["hint"], lesson
    lesson = next(c for c in wrong.checks_of("gradient") if c["name"] == "gradient.lesson_values")
    assert "has shape (), expected (1,); its values are wrong too (off by 89.48" in lesson["message"], lesson
    assert "-178.9621" in lesson["expected"] and "shape of W" in lesson["hint"], lesson


@pytest.mark.parametrize("name", ["cost_plus_one", "trains_to_overflow"])
def test_a_wrong_cost_or_a_made_up_train_is_not_called_a_random_start(name: str, tmp_path: Path) -> None:
    """The start hint is for a first cost that only a start elsewhere explains: not for a cost that is
    wrong at W = b = 0 too (the MSE plus one, not a simulated mistake), nor for costs that never go down."""
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides" / f"{name}.py", "py", tmp_path), *FAST, cwd=tmp_path)
    failed = [c for c in graded.checks_of("train") if c["status"] != "passed"]
    assert failed, "train should lose points: the test proves nothing"
    assert not any("does not start from W = b = 0" in c["hint"] for c in graded.report["checks"]), failed


def test_flags_the_submission_forged_reached_the_grader(kind: str, tmp_path: Path) -> None:
    """The forged flags did arrive (the harness said the cost had a grad_fn), and still earned nothing."""
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/cost_cut_off_with_forged_flags.py", kind, tmp_path),
                       *FAST, cwd=tmp_path)
    check = next(c for c in graded.checks_of("mse_cost") if c["name"] == "mse_cost.autograd")
    assert check["score"] == 0 and "no gradient for it after backward()" in check["obtained"], check


def test_broadcasting_is_named_where_it_hurts(kind: str, tmp_path: Path) -> None:
    """train_step squeezing a right prediction to (m,) before the cost: train_step is charged, with the
    broadcast named; train, right for that train_step, is carried forward."""
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/train_step_squeezes.py", kind, tmp_path), *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, {"train_step"})
    assert all("broadcast against the (m, 1) target" in c["hint"] for c in graded.checks_of("train_step"))


def test_a_failed_check_shows_expected_and_obtained(kind: str, tmp_path: Path) -> None:
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/sum_instead_of_mean.py", kind, tmp_path), *FAST, cwd=tmp_path)
    check = next(c for c in graded.checks_of("mse_cost") if c["status"] == "failed")
    assert "4.6667" in check["expected"] and "14.0000" in check["obtained"]
    assert "FAIL" in graded.stdout and "Score: 22/25" in graded.stdout


# --- tampering: nothing a submission does in its own process raises its score ------------


@pytest.mark.parametrize("name", ["monkeypatches_everything", "tensor_subclass", "prints_results", "hardcodes_lesson_numbers"])
def test_tampering_earns_nothing(name: str, kind: str, tmp_path: Path) -> None:
    """Each returns plausible values (zeros, the lessons' numbers, a tensor subclass) that reach the
    comparison ("failed", not an error): what it does besides, in its own process, earns nothing."""
    graded = run_grade(as_kind(SUBMISSIONS / "lab2/whole" / f"{name}.py", kind, tmp_path), *FAST, cwd=tmp_path)
    assert graded.report["score"] == 0, [(c["name"], c["status"], c["message"]) for c in graded.report["checks"]]
    assert all(c["status"] == "failed" for c in graded.report["checks"]), [
        (c["name"], c["status"], c["message"]) for c in graded.report["checks"]]
    assert graded.returncode == 1


def test_printed_results_are_shown_never_read(tmp_path: Path) -> None:
    graded = run_grade(as_kind(SUBMISSIONS / "lab2/whole/prints_results.py", "py", tmp_path), *FAST, cwd=tmp_path)
    assert "PASSED hypothesis 2/2" in " ".join(c["output"] for c in graded.checks_of("hypothesis"))
    assert "Score: 0/25" in graded.stdout


def test_tensor_subclass_is_refused_by_name(kind: str, tmp_path: Path) -> None:
    graded = run_grade(as_kind(SUBMISSIONS / "lab2/whole/tensor_subclass.py", kind, tmp_path), *FAST, cwd=tmp_path)
    assert any("tensor subclass Liar" in c["message"] for c in graded.checks_of("hypothesis"))


def test_sys_exit_at_import(kind: str, tmp_path: Path) -> None:
    """A .py file stops where it exits (what came before is graded); a notebook goes on to the next cell."""
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/exits_at_import.py", kind, tmp_path), *FAST, cwd=tmp_path)
    if kind == "py":
        assert_loses_exactly(graded, set(LAB2_FUNCTIONS) - {"hypothesis"})
        assert any(i["kind"] == "load_error" and "SystemExit" in i["message"] for i in graded.report["issues"])
    else:
        assert_loses_exactly(graded, set())
        assert any("SystemExit" in i["message"] for i in graded.report["issues"])


def test_os_exit_at_import(kind: str, tmp_path: Path) -> None:
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/os_exit_at_import.py", kind, tmp_path), *FAST, cwd=tmp_path)
    if kind == "py":
        assert_loses_exactly(graded, set(LAB2_FUNCTIONS))
    else:  # the cell that killed the kernel is skipped; the other cells' functions are graded
        assert_loses_exactly(graded, set())
    assert any(i["kind"] == "died" for i in graded.report["issues"])


def test_exits_inside_functions_cost_only_those_functions(kind: str, tmp_path: Path) -> None:
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/exits_inside_functions.py", kind, tmp_path), *FAST, cwd=tmp_path)
    # train_step and train call hypothesis and mse_cost, so they go down with them.
    assert_loses_exactly(graded, {"hypothesis", "mse_cost", "train_step", "train"})
    assert any("SystemExit" in c["message"] for c in graded.checks_of("hypothesis"))
    assert any("crashed" in c["message"] for c in graded.checks_of("mse_cost"))


def test_a_call_that_kills_its_process(kind: str, tmp_path: Path) -> None:
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/kills_its_kernel_in_a_call.py", kind, tmp_path), *FAST, cwd=tmp_path)
    # hypothesis and mse_cost were graded before gradient killed the process; nothing after it ran.
    assert_loses_exactly(graded, {"gradient", "train_step", "train", "LinearRegressionModel"})
    assert any(i["kind"] == "died" for i in graded.report["issues"])
    # None of gradient's answers count: how many came before the grader ended the run was a matter of timing
    # (a warm and a cold grade of one notebook once differed in it, under load).
    for check in graded.checks_of("gradient"):
        assert check["message"].startswith("gradient crashed: the process calling the functions died during this "
                                           "call"), check
    assert_reads_in_korean(graded.report)


# --- hangs: bounded time, and only the hanging part costs ------------------------------------


def test_hang_at_import_finishes_in_bounded_time(kind: str, tmp_path: Path) -> None:
    path = apply_override(SUBMISSIONS / "lab2/overrides/hangs_at_import.py", kind, tmp_path)
    started = time.monotonic()
    graded = run_grade(path, "--call-timeout", "3", "--cell-timeout", "3", cwd=tmp_path, timeout=120)
    assert time.monotonic() - started < 90
    # Only the hang costs: a notebook is replayed without its hanging cell; a .py file's top level is
    # stopped where it hangs, and the definitions below that line still run, so every function is graded.
    assert_loses_exactly(graded, set())
    if kind == "py":
        loop = path.read_text(encoding="utf-8").splitlines().index("while True:") + 1  # (`pass` is the next line)
        [issue] = graded.report["issues"]
        assert issue["kind"] == "load_timeout"
        assert issue["message"] in {f"running the file's top level took longer than 3 s; it was stopped at line {line}, "
                                    "and only the definitions below it (def, class, import, constants) ran after that"
                                    for line in (loop, loop + 1)}
    else:
        assert any(i["kind"] == "cell_timeout" for i in graded.report["issues"])


def test_definitions_below_a_stopped_top_level_run_each_on_its_own(tmp_path: Path) -> None:
    """Below where the top level was stopped: a literal binding a definition uses as its default runs
    too, a definition that fails (its decorator raises) leaves out only itself, and definitions inside
    an `if` or a `try` made of nothing else run too."""
    source = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    head, model = source.split("class LinearRegressionModel", 1)
    head, train = head.split("def train(x, y, lr=0.01, epochs=1000):", 1)
    source = (head + "import time\nwhile True:\n    time.sleep(0.1)\n\nLR = 0.01\n\n\nif LR > 0:\n"
              + textwrap.indent("def train(x, y, lr=LR, epochs=1000):" + train, "    ")
              + "@undefined_decorator\ndef extra():\n    pass\n\n\ntry:\n    import numpy as np\n"
              + textwrap.indent("class LinearRegressionModel" + model, "    ")
              + "except ImportError:\n    pass\n")
    assert "LR = 0.01" in source and "@undefined_decorator" in source and "    class LinearRegressionModel" in source
    (tmp_path / "lab2.py").write_text(source, encoding="utf-8")
    graded = run_grade(tmp_path / "lab2.py", "--call-timeout", "10", "--cell-timeout", "3", cwd=tmp_path, timeout=120)
    assert_loses_exactly(graded, set())
    assert [i["kind"] for i in graded.report["issues"]] == ["load_timeout"]


def test_a_function_left_out_below_a_stopped_top_level_says_why(tmp_path: Path) -> None:
    """`train = _train` below where the top level was stopped is not a definition and does not run: the
    message says so, not to check the function's name."""
    source = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    source = source.replace("def train(x, y, lr=0.01, epochs=1000):", "import time\nwhile True:\n    time.sleep(0.1)\n\n\n"
                            "def _train(x, y, lr=0.01, epochs=1000):", 1) + "\n\ntrain = _train\n"
    (tmp_path / "lab2.py").write_text(source, encoding="utf-8")
    loop = source.splitlines().index("while True:") + 1
    graded = run_grade(tmp_path / "lab2.py", "--call-timeout", "10", "--cell-timeout", "3", cwd=tmp_path, timeout=120)
    assert_loses_exactly(graded, {"train"})
    [message] = {c["message"] for c in graded.checks_of("train")}
    assert message in {f"no train found: the file's top level ran too long and was stopped at line {line}, and below "
                       "that line only definitions (def, class, import, constants) ran" for line in (loop, loop + 1)}


def test_a_prediction_cut_off_from_autograd_is_named_where_it_breaks(tmp_path: Path) -> None:
    """`x * W.item() + b.item()` gives the right numbers: hypothesis loses the point that sends W and b
    requiring grad, and train_step and train, whose backward() then finds no graph, say why."""
    path = apply_override(SUBMISSIONS / "lab2/overrides/hypothesis_cut_off.py", "py", tmp_path)
    graded = run_grade(path, *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, {"hypothesis.other_shapes", "train_step", "train"})
    [cut] = [c for c in graded.checks_of("hypothesis") if c["status"] != "passed"]
    assert "cut off from autograd" in cut["hint"]
    for function in ("train_step", "train"):
        assert all("backward() on a cost autograd did not record" in c["hint"] for c in graded.checks_of(function))


def test_an_error_that_starts_in_a_function_already_failed_says_so(tmp_path: Path) -> None:
    """mse_cost returning `.item()`: train_step's `cost.backward()` raises AttributeError. train_step and
    train (which reaches mse_cost through train_step) name mse_cost, whose own check failed first, not
    train_step, whose errors start there; the hint says what a float cost does; in Korean too."""
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/cost_as_a_float.py", "py", tmp_path), *FAST,
                       cwd=tmp_path)
    assert_loses_exactly(graded, {"mse_cost.autograd", "train_step", "train"})
    for function in ("train_step", "train"):
        for check in graded.checks_of(function):
            assert check["status"] == "error", check
            assert check["message"].endswith(f"; an earlier check failed on mse_cost, which {function} uses: the error "
                                             "may start there"), check
            assert check["hint"].startswith("looks like backward() called on a Python number"), check
    assert_reads_in_korean(graded.report)
    from grader.i18n import translate_detail

    korean = translate_detail("ko", graded.checks_of("train_step")[0]["message"])
    assert korean is not None and "train_step이 사용하는 mse_cost가 앞선 검사에서 이미 실패했습니다" in korean


def test_a_cost_as_a_numpy_value_is_told_so_where_its_backward_fails(tmp_path: Path) -> None:
    """mse_cost returning `.detach().numpy()`: train_step's `cost.backward()` raises AttributeError on a numpy
    array. Its hint named "a Python number" and ".item(), float(...)", which the student never wrote."""
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/cost_as_numpy.py", "py", tmp_path), *FAST,
                       cwd=tmp_path)
    assert_loses_exactly(graded, {"mse_cost", "train_step", "train"})
    assert all("a numpy value" in c["hint"] for c in graded.checks_of("mse_cost")), graded.checks_of("mse_cost")
    for function in ("train_step", "train"):
        for check in graded.checks_of(function):
            assert check["hint"].startswith("looks like backward() called on a numpy value, a list or a tuple"), check
            assert ".numpy()" in check["hint"], check
    assert_reads_in_korean(graded.report)
    wrapped = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/cost_in_a_list.py", "py", tmp_path), *FAST,
                        cwd=tmp_path)
    assert_loses_exactly(wrapped, {"mse_cost", "train_step", "train"})
    for check in wrapped.checks_of("mse_cost"):  # (no hint at all: "is a list, expected a number")
        assert check["hint"].startswith("the value is wrapped in a list or tuple"), check
    assert all(c["hint"].startswith("looks like backward() called on a numpy value, a list or a tuple")
               for c in wrapped.checks_of("train_step")), wrapped.checks_of("train_step")
    assert_reads_in_korean(wrapped.report)


def test_a_rule_s_point_withheld_for_wrong_values_says_so_not_that_the_rule_was_broken(tmp_path: Path) -> None:
    """A gradient by hand with its sign flipped keeps the rule (no autograd) but not the values the rule's
    point goes with: gradient.by_hand, titled "without backward()...", says that it was not judged and
    why, not the value failure alone as if the rule were broken. It points at that check rather than
    repeating its failure (a student review: "not judged yet" read as unfinished, and the expected and
    obtained values came a second time)."""
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/gradient_sign_flipped.py", "py", tmp_path), *FAST,
                       cwd=tmp_path)
    [rule] = [c for c in graded.checks_of("gradient") if c["name"] == "gradient.by_hand"]
    [values] = [c for c in graded.checks_of("gradient") if c["name"] == "gradient.lesson_values"]
    assert rule["score"] == 0 and rule["message"] == (
        f'withheld: this point goes with "{values["title"]}" above, which fails; the rule is judged once it '
        "passes"), rule  # (by its title, as the student reads it: a review found the id "gradient.lesson_values")
    assert not rule["expected"] and not rule["obtained"] and not rule["hint"], rule  # (said on that check)
    assert "sign" in values["hint"]
    assert_reads_in_korean(graded.report)
    korean = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/gradient_sign_flipped.py", "py", tmp_path), *FAST,
                       "--lang", "ko", cwd=tmp_path)
    said = " ".join(korean.stdout.split())
    assert '보류: 이 점수는 위의 "gradient가 수업 003의' in said, korean.stdout  # the title in Korean, as above it


def test_a_function_name_the_lessons_loop_reuses_is_named(tmp_path: Path) -> None:
    """The lesson's loop pasted below the functions rebinds `hypothesis` to a tensor: the functions that
    call it fail, and say that the name was reused."""
    source = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    source += ("\n\nx_train = torch.FloatTensor([[1], [2], [3]])\nW = torch.zeros(1)\nb = torch.zeros(1)\n"
               "hypothesis = x_train * W + b\n")
    (tmp_path / "lab2.py").write_text(source, encoding="utf-8")
    graded = run_grade(tmp_path / "lab2.py", *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, {"hypothesis", "train_step", "train"})
    for function in ("hypothesis", "train_step", "train"):
        assert all("function's name reused for a tensor" in c["hint"] for c in graded.checks_of(function))


def test_a_top_level_that_sets_up_sigalrm_keeps_it(tmp_path: Path) -> None:
    """The harness's own alarm must not take SIGALRM from a file that uses it (plain Python runs it)."""
    source = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    source = source.replace("def hypothesis(x, W, b):\n", "def hypothesis(x, W, b):\n    if not ALARMED:  # once per process\n"
                            "        ALARMED.append(signal.setitimer(signal.ITIMER_REAL, 0.01))\n        time.sleep(0.05)\n", 1)
    source += "\nimport signal\nimport time\nALARMED = []\nsignal.signal(signal.SIGALRM, lambda *_: None)\n"
    (tmp_path / "lab2.py").write_text(source, encoding="utf-8")
    graded = run_grade(tmp_path / "lab2.py", *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, set())


def test_a_top_level_that_swallows_the_stop_is_not_returned_to(tmp_path: Path) -> None:
    """The harness's alarm runs in the student's process, which can catch it (a bare `except:` in a
    loop): a moment later the harness goes on from where that code is, without returning to it, so
    the functions are still graded; leaving the `torch.no_grad()` block it was stopped in, too."""
    path = apply_override(SUBMISSIONS / "lab2/overrides/hangs_at_import.py", "py", tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("while True:\n    pass", "with torch.no_grad():\n    while True:\n        try:\n"
                                 "            while True:\n                pass\n        except:\n            pass"),
                    encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    first = lines.index("with torch.no_grad():") + 1
    assert lines[first + 4].strip() == "except:"
    started = time.monotonic()
    graded = run_grade(path, "--call-timeout", "2", "--cell-timeout", "2", cwd=tmp_path, timeout=120)
    assert time.monotonic() - started < 60
    assert_loses_exactly(graded, set())
    [issue] = graded.report["issues"]
    assert issue["kind"] == "load_timeout"
    assert issue["message"] in {f"running the file's top level took longer than 2 s; it was stopped at line {line}, "
                                "and only the definitions below it (def, class, import, constants) ran after that"
                                for line in range(first, first + 6)}


def test_runaway_function_costs_only_its_checks(kind: str, tmp_path: Path) -> None:
    path = apply_override(SUBMISSIONS / "lab2/overrides/runaway_function.py", kind, tmp_path)
    started = time.monotonic()
    graded = run_grade(path, "--call-timeout", "2", "--cell-timeout", "15", cwd=tmp_path, timeout=120)
    assert time.monotonic() - started < 90
    assert_loses_exactly(graded, {"train"})
    assert all("timed out after 2 s" in c["message"] for c in graded.checks_of("train"))


# --- what does not count: stderr, warnings, saved outputs, metadata; what works: magics -------


def test_warnings_and_stderr_are_shown_never_scored(kind: str, tmp_path: Path) -> None:
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/warns_and_writes_stderr.py", kind, tmp_path), *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, set())
    assert "the top level wrote this to stderr" in graded.report["stderr"]
    assert "a top-level UserWarning" in graded.report["stderr"]
    printed = " ".join(c["output"] for c in graded.checks_of("mse_cost"))
    assert "mse_cost wrote this to stderr" in printed


def test_a_cell_that_raises_is_reported_and_the_rest_still_runs(kind: str, tmp_path: Path) -> None:
    path = apply_override(SUBMISSIONS / "lab2/overrides/raises_in_a_cell.py", kind, tmp_path)
    graded = run_grade(path, *FAST, cwd=tmp_path)
    issues = graded.report["issues"]
    assert any("IndexError" in i["message"] and "values[10]" in i["traceback"] for i in issues), issues
    if kind == "py":  # a .py file stops at the error: what it defined before is still graded
        assert_loses_exactly(graded, {"gradient", "train_step", "train", "LinearRegressionModel"})
        assert issues[0]["kind"] == "load_error"
        line = path.read_text(encoding="utf-8").splitlines().index("print(values[10])") + 1
        # What was not defined says why, and the terminal says where the error was.
        assert {c["message"] for c in graded.checks_of("gradient")} == {
            f"no gradient found: the file stopped at line {line} with IndexError, so nothing below that line was defined"}
        assert f"at line {line}: print(values[10])" in graded.stdout
    else:
        assert_loses_exactly(graded, set())
        cell = next(i for i in issues if i["kind"] == "cell_error")
        assert cell["where"].startswith("cell ") and "values[10]" in cell["source"]
        assert "at line 2: print(values[10])" in graded.stdout  # the line in its cell
    assert_reads_in_korean(graded.report)


def test_a_syntax_error(kind: str, tmp_path: Path) -> None:
    path = apply_override(SUBMISSIONS / "lab2/overrides/syntax_error_in_a_cell.py", kind, tmp_path)
    graded = run_grade(path, *FAST, cwd=tmp_path)
    assert any("SyntaxError" in i["message"] for i in graded.report["issues"]), graded.report["issues"]
    assert_loses_exactly(graded, set(LAB2_FUNCTIONS) if kind == "py" else set())
    # The terminal shows the line Python could not read (in the file, or in its cell).
    line = path.read_text(encoding="utf-8").splitlines().index("def broken(:") + 1 if kind == "py" else 1
    assert f"at line {line}: def broken(:" in graded.stdout
    if kind == "py":
        assert {c["message"] for c in graded.checks_of("hypothesis")} == {
            f"no hypothesis found: the file could not run (SyntaxError at line {line}), so nothing in it was defined"}
    assert_reads_in_korean(graded.report)


@pytest.mark.parametrize("content", ["", "# TODO: everything\n\n"], ids=["empty", "comments-only"])
def test_a_file_with_no_code_says_so(kind: str, content: str, tmp_path: Path) -> None:
    """A file saved empty (or never saved over a blank one): every function is missing, and the
    message says the file has no code rather than 'check its name'."""
    if kind == "py":
        path = tmp_path / "lab2.py"
        path.write_text(content, encoding="utf-8")
    else:
        path = tmp_path / "lab2.ipynb"
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Lab 2")]
                                                + ([nbformat.v4.new_code_cell(content)] if content else [])), str(path))
    graded = run_grade(path, *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, set(LAB2_FUNCTIONS))
    what = "file" if kind == "py" else "notebook"
    assert {c["message"] for c in graded.checks_of("train")} == {f"no train found: the {what} has no code (was it saved?)"}
    assert_reads_in_korean(graded.report)


def test_notebook_magics_numpy_and_matplotlib_work(tmp_path: Path) -> None:
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides/uses_magics_numpy_matplotlib.py", "ipynb", tmp_path), *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, set())
    assert graded.report["issues"] == []


def test_saved_outputs_and_kernelspec_are_ignored(tmp_path: Path) -> None:
    nb = nbformat.read(str(ROOT / "exercises/lab2/lab2.ipynb"), as_version=4)
    nb.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "Nope", "language": "python"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count = 1
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Score: 25/25 full marks\n")]
    path = tmp_path / "lab2.ipynb"
    nbformat.write(nb, str(path))
    graded = run_grade(path, *FAST, cwd=tmp_path)
    assert graded.report["score"] == 0 and graded.returncode == 1
    assert all("not implemented" in c["message"] for c in graded.report["checks"])


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp949"])
def test_a_py_saved_as_python_reads_it_is_graded(encoding: str, tmp_path: Path) -> None:
    """A .py with a byte-order mark (Windows Notepad's "UTF-8"), or in cp949 (Korean Windows) under
    a `# -*- coding: cp949 -*-` line: Python runs both (PEP 263), so the grader does, and reads the
    rules from the same text (a by-hand `gradient` that uses autograd still loses its rule)."""
    header = "# -*- coding: cp949 -*-\n" if encoding == "cp949" else ""
    solution = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    (tmp_path / "lab2.py").write_bytes((header + solution).encode(encoding))
    graded = run_grade(tmp_path / "lab2.py", *FAST, cwd=tmp_path)
    assert graded.returncode == 0 and graded.report["score"] == 25, graded.stdout[-3000:]
    by_autograd = apply_override(SUBMISSIONS / "lab2/overrides/gradient_by_autograd.py", "py", tmp_path)
    by_autograd.write_bytes((header + by_autograd.read_text(encoding="utf-8")).encode(encoding))
    graded = run_grade(by_autograd, *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, MISTAKES["gradient_by_autograd"][0])


def test_a_notebook_with_a_byte_order_mark_is_graded(tmp_path: Path) -> None:
    """A notebook saved as "UTF-8 with BOM" (some Windows editors) is graded like the same JSON without
    it: it runs (every other check passes) and its source is read (the by-hand rule still sees autograd)."""
    path = apply_override(SUBMISSIONS / "lab2/overrides/gradient_by_autograd.py", "ipynb", tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    graded = run_grade(path, *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, MISTAKES["gradient_by_autograd"][0])


def test_a_py_runs_with_its_own_future_imports_only(tmp_path: Path) -> None:
    """An annotation naming nothing fails when `def` runs, as under `python lab2.py`; the harness's own
    `from __future__ import annotations` must not postpone it (it did: the file scored 25/25)."""
    source = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    (tmp_path / "lab2.py").write_text(source.replace("def train(x, y,", "def train(x: NoSuchType, y,", 1), encoding="utf-8")
    graded = run_grade(tmp_path / "lab2.py", *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, {"train", "LinearRegressionModel"})
    assert "NameError: name 'NoSuchType' is not defined" in graded.report["issues"][0]["message"]


def test_a_py_with_an_unknown_coding_could_not_run(tmp_path: Path) -> None:
    """`# -*- coding: foo -*-`: Python refuses the file before any line runs, and says so without a line."""
    source = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    (tmp_path / "lab2.py").write_text("# -*- coding: foo -*-\n" + source, encoding="utf-8")
    graded = run_grade(tmp_path / "lab2.py", *FAST, cwd=tmp_path)
    assert_loses_exactly(graded, set(LAB2_FUNCTIONS))
    assert {c["message"] for c in graded.checks_of("train")} == {
        "no train found: the file could not run (SyntaxError), so nothing in it was defined"}
    assert "at line 0" not in graded.stdout
    assert_reads_in_korean(graded.report)


def test_a_py_that_is_not_utf8_is_told_which_line(tmp_path: Path) -> None:
    """Without a coding line, bytes that are not UTF-8 are Python's SyntaxError, with its line."""
    source = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    (tmp_path / "lab2.py").write_bytes(("x = 1\n" + source).encode("cp949"))
    graded = run_grade(tmp_path / "lab2.py", *FAST, cwd=tmp_path)
    assert graded.report["score"] == 0
    loading = [i for i in graded.report["issues"] if i["kind"] == "load_error"]
    assert loading and "SyntaxError" in loading[0]["message"] and "line " in loading[0]["traceback"] + loading[0]["message"], loading


def test_a_variable_made_only_in_a_demo_cell_is_said_to_be_skipped(tmp_path: Path) -> None:
    """train_step using x_train and y_train, made only in the "Try it" cell (tagged demo): it works in Jupyter,
    and when graded it raised a bare NameError. The hint says that grading skips that cell, in Korean too."""
    import nbformat

    nb = nbformat.read(str(ROOT / "solutions/lab2/lab2.ipynb"), as_version=4)
    step = next(c for c in nb.cells if c.cell_type == "code" and "def train_step" in c.source)
    assert "cost = mse_cost(hypothesis(x, W, b), y)" in step.source
    step.source = step.source.replace("cost = mse_cost(hypothesis(x, W, b), y)",
                                      "cost = mse_cost(hypothesis(x_train, W, b), y_train)")
    demo = nbformat.v4.new_code_cell("x_train = torch.FloatTensor([[1], [2], [3]])\ny_train = torch.FloatTensor([[2], [4], [6]])")
    demo.metadata["tags"] = ["demo"]
    nb.cells.append(demo)
    nbformat.write(nb, str(tmp_path / "lab2.ipynb"))
    graded = run_grade(tmp_path / "lab2.ipynb", *FAST, cwd=tmp_path)
    raised = [c for c in graded.checks_of("train_step") if "NameError" in c["message"]]
    assert raised and all(c["hint"].startswith("x_train is made only in a cell tagged demo") for c in raised), raised
    # (not "or make it in a cell without that tag": a train_step reading x_train from any cell trains on that
    # data whatever it is given, and loses its points for that instead)
    assert all(c["hint"].endswith("use its arguments") for c in raised), raised
    assert_reads_in_korean(graded.report)


@pytest.mark.parametrize("name, look_alike", [("cost_printed_not_returned", "backward() called on a Python number"),
                                               ("train_step_under_no_grad", "create the parameters with requires_grad=True")])
def test_an_error_s_hint_names_the_cause_the_source_shows_not_a_look_alike(name: str, look_alike: str,
                                                                            tmp_path: Path) -> None:
    """PyTorch's own words fit several causes: backward() on None said "a cost turned into a float (.item())"
    where mse_cost printed its cost, and an unrecorded cost said "create the parameters with requires_grad=True"
    where the parameters did and train_step computed its cost under torch.no_grad(). Every check that raised
    now names what the source shows, and none the look-alike."""
    graded = run_grade(apply_override(SUBMISSIONS / "lab2/overrides" / f"{name}.py", "py", tmp_path), *FAST, cwd=tmp_path)
    raised = [c for c in graded.report["checks"] if c["status"] == "error"]
    assert {c["function"] for c in raised} == {"train_step", "train"}, raised
    assert not any(look_alike in c["hint"] for c in graded.report["checks"]), raised
    assert all(c["hint"].startswith(("mse_cost has no return", "looks like the cost computed inside")) for c in raised), raised


def test_a_syntax_error_in_a_function_s_own_cell_says_so_not_check_its_name(tmp_path: Path) -> None:
    """A notebook whose mse_cost cell misses a parenthesis: mse_cost's checks said "no mse_cost found (check its
    name, or a cell that failed before it)", and the SyntaxError stood only at the bottom of the report."""
    import nbformat

    nb = nbformat.read(str(ROOT / "solutions/lab2/lab2.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def mse_cost" in c.source)
    cell.source = "def mse_cost(prediction, y):\n    return torch.mean((prediction - y) ** 2\n"
    nbformat.write(nb, str(tmp_path / "lab2.ipynb"))
    graded = run_grade(tmp_path / "lab2.ipynb", *FAST, cwd=tmp_path)
    where = next(i["where"] for i in graded.report["issues"] if "SyntaxError" in i["message"])
    assert {c["message"] for c in graded.checks_of("mse_cost")} == {
        f"no mse_cost found: its cell, {where}, could not run (SyntaxError at line 2), so nothing in that cell was defined"}
    assert_reads_in_korean(graded.report)


def test_the_no_return_and_misspelt_hints_stay_where_they_belong(tmp_path: Path) -> None:
    """A review of the change that added them: the stubs (raising NotImplementedError, no return) were told to
    end with return; a train_step raising on .item() before backward() lost its own hint to the no-return one;
    a train cell that did not compile was asked whether the lesson's y_train was train misspelt."""
    stub = run_grade(ROOT / "exercises/lab2/lab2.py", *FAST, cwd=tmp_path)
    assert not [c for c in stub.report["checks"] if "no return statement" in c["hint"]], stub.report["checks"]
    source = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    step = ("    cost = mse_cost(hypothesis(x, W, b), y)\n    cost.backward()\n    optimizer.step()\n"
            "    return cost.item()\n")
    assert step in source
    (tmp_path / "lab2.py").write_text(source.replace(step, "    cost = mse_cost(hypothesis(x, W, b), y).item()\n"
                                                           "    cost.backward()\n    optimizer.step()\n"), encoding="utf-8")
    graded = run_grade(tmp_path / "lab2.py", *FAST, cwd=tmp_path)
    assert all(c["hint"].startswith("looks like backward() called on a Python number") for c in graded.checks_of("train_step")), \
        graded.checks_of("train_step")
    notebook = nbformat.read(ROOT / "solutions/lab2/lab2.ipynb", as_version=4)
    [cell] = [c for c in notebook.cells if c.cell_type == "code" and "def train(" in c.source]
    cell.source = cell.source.replace("def train(x, y,", "def train(x y,", 1)
    nbformat.write(notebook, tmp_path / "broken.ipynb")
    broken = run_grade(tmp_path / "broken.ipynb", "--lab", "lab2", *FAST, cwd=tmp_path)
    assert broken.checks_of("train") and not [c for c in broken.checks_of("train") if "misspelt" in c["message"]], \
        broken.checks_of("train")


def test_a_function_s_traceback_starts_in_the_student_s_code(kind: str, tmp_path: Path) -> None:
    """A review: the HTML report's traceback of a function that raised began with two frames of the
    grader's harness (`File "/grader/harness.py", line 205, in _call`), which teach a student nothing.
    It starts at their function; an error past it (in torch, say) keeps its frames."""
    override = tmp_path / "override.py"
    override.write_text("def gradient(x, y, W, b):\n    return torch.mean(undefined_name), W\n", encoding="utf-8")
    graded = run_grade(apply_override(override, kind, tmp_path), *FAST, "--html", str(tmp_path / "report.html"),
                       cwd=tmp_path)
    [first, *_] = [c for c in graded.checks_of("gradient") if c["traceback"]]
    lines = first["traceback"].splitlines()
    assert "harness" not in first["traceback"], first["traceback"]
    assert lines[0] == "Traceback (most recent call last):" and "in gradient" in lines[1], lines
    assert lines[-1] == "NameError: name 'undefined_name' is not defined"
    if kind == "ipynb":  # the cell, as the report names it, not the file IPython compiled it to
        [source] = [s for s in graded.report["sources"] if s["name"] == "gradient"]
        assert lines[1] == f"  {source['where']}, line {source['first_line'] + 1}, in gradient", lines
        html = (tmp_path / "report.html").read_text(encoding="utf-8")
        assert "ipykernel" not in first["traceback"] + html and 'class="line failing"' in html
    override.write_text("def gradient(x, y, W, b):\n    return torch.nn.functional.mse_loss(x, y, reduction='all'), W\n",
                        encoding="utf-8")
    (tmp_path / "deeper").mkdir()
    deeper = run_grade(apply_override(override, kind, tmp_path / "deeper"), *FAST, cwd=tmp_path)
    [first, *_] = [c for c in deeper.checks_of("gradient") if c["traceback"]]
    assert "in gradient" in first["traceback"].splitlines()[1] and "functional.py" in first["traceback"], first["traceback"]
    assert "harness" not in first["traceback"] and "is not a valid value for reduction" in first["traceback"]


def test_a_notebook_frame_names_the_cell_and_the_line_as_the_student_wrote_them(tmp_path: Path) -> None:
    """A review: IPython compiles a cell without its leading blank lines and runs a `%%capture` cell's body
    with the next cell's count, so an error in hypothesis was placed at "cell 5, line 3" (mse_cost's cell)
    and no line was marked; and a student's message with `Cell In[` and 5,000 digits ended the grade with
    an internal error. The frame names hypothesis's own cell and line, and the message is only text."""
    nb = nbformat.read(str(ROOT / "solutions/lab2/lab2.ipynb"), as_version=4)
    [index] = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "def hypothesis" in c.source]
    raising = "    raise ValueError('see below:\\nCell In[' + '9' * 5000 + '], line 1')"
    nb.cells[index].source = "\n\n%%capture\n\n" + nb.cells[index].source.replace(
        "    return x * W + b", raising + "\n    return x * W + b")
    nbformat.write(nb, str(tmp_path / "lab2.ipynb"))
    graded = run_grade(tmp_path / "lab2.ipynb", *FAST, "--html", str(tmp_path / "report.html"), cwd=tmp_path)
    assert graded.returncode == 1 and graded.function_scores()["hypothesis"][0] == 0, graded.stderr
    line = nb.cells[index].source.splitlines().index(raising) + 1
    [first, *_] = [c for c in graded.checks_of("hypothesis") if c["traceback"]]
    assert first["traceback"].splitlines()[1] == f"  cell {index + 1}, line {line}, in hypothesis", first["traceback"]
    assert 'class="line failing"' in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_function_defined_twice_says_which_definition_is_graded(kind: str, tmp_path: Path) -> None:
    """A review: a scratch cell below the functions redefined train_step without zero_grad. The last
    definition is graded (what the kernel ran), and the hint sent the student to the first, which had
    zero_grad: nothing said there were two. The report now says where both are, and which one counts."""
    scratch = (SUBMISSIONS / "lab2/overrides/forgets_zero_grad.py").read_text(encoding="utf-8")
    override = tmp_path / "override.py"
    override.write_text("# %% after train\n" + scratch, encoding="utf-8")
    graded = run_grade(apply_override(override, kind, tmp_path), *FAST, "--lang", "en", cwd=tmp_path)
    assert graded.function_scores()["train_step"][0] == 0  # the scratch definition is the one graded
    [source] = [s for s in graded.report["sources"] if s["name"] == "train_step"]
    assert "zero_grad" not in source["text"]
    if kind == "ipynb":
        (earlier,) = source["replaced"]
        assert earlier.startswith("cell ") and source["where"].startswith("cell ") and earlier < source["where"]
        place = source["where"]
    else:
        (earlier,) = source["replaced"]
        assert source["where"] == "" and int(earlier.removeprefix("line ")) < source["first_line"]
        place = f"line {source['first_line']}"
    said = " ".join(graded.stdout.split())
    assert (f"train_step is defined in {earlier} and again in {place}: the last definition, in {place}, is the one "
            "that ran and is graded") in said, graded.stdout
    assert [s["replaced"] for s in graded.report["sources"] if s["name"] != "train_step"] == [[]] * (len(graded.report["sources"]) - 1)
    korean = run_grade(apply_override(override, kind, tmp_path), *FAST, "--lang", "ko", cwd=tmp_path)
    where = f"셀 {place.split()[1]}" if kind == "ipynb" else f"{place.split()[1]}번째 줄"
    assert f"{where}에서 다시 정의되었습니다" in " ".join(korean.stdout.split()), korean.stdout
