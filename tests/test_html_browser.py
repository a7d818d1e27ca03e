"""The HTML report as a real browser renders it: headless Chromium dumps the DOM and a screenshot.

Skipped where Chromium is missing, except on CI (the variable CI is set), which installs it.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from conftest import chromium
from grader.reporting import write_html
from grader.results import CheckResult, GradeResult, IssueKind, RunIssue, Status

KOREAN = "평균 제곱 오차"
SCRIPT = "<script>document.title = 'pwned'</script>"
WINDOW = (1200, 2000)


def passed(name: str, points: float) -> CheckResult:
    function, _, what = name.partition(".")
    title = what.replace("_", " ").capitalize()
    return CheckResult(name, function, title, Status.PASSED, points, points, "matches the reference")


FULL_MARKS = GradeResult(
    lab="lab2",
    graded_file="lab2.py",
    submission_format="py",
    sha256="3f" * 32,
    selection="the only .py file in the folder",
    checks=(
        passed("mse_cost.lesson_values", 2),
        passed("mse_cost.keeps_gradient", 2),
        passed("gradient_step.zeroes_grad", 4),
        passed("train_loop.loss_decreases", 6),
    ),
    grader_version="0.1.0",
    functions=("mse_cost", "gradient_step", "train_loop"),
)

MIXED = GradeResult(
    lab="lab2",
    graded_file="lab2_submission.ipynb",
    submission_format="ipynb",
    sha256="a1" * 32,
    selection="changed from the released stub; the other notebook is unchanged",
    checks=(
        passed("mse_cost.lesson_values", 2),
        CheckResult(
            "mse_cost.mean_not_sum",
            "mse_cost",
            f"Averages the errors ({KOREAN})",
            Status.FAILED,
            0,
            2,
            "off by a factor of 4 (the number of samples)",
            expected="tensor([[0.5000, 1.2500],\n        [2.0000, 3.2500]])",
            obtained="tensor([[ 2.,  5.],\n        [ 8., 13.]])",
            hint="you summed the squared errors instead of averaging them: use .mean()",
        ),
        CheckResult(
            "gradient_step.updates_in_place",
            "gradient_step",
            "Updates the weights in place",
            Status.ERROR,
            0,
            4,
            "raised RuntimeError",
            traceback=(
                "Traceback (most recent call last):\n"
                '  File "lab2.py", line 14, in gradient_step\n'
                "    w -= lr * w.grad\n"
                "RuntimeError: a leaf Variable that requires grad is used in an in-place operation."
            ),
            output="step 1: w=0.50\n",
        ),
        passed("gradient_step.zeroes_grad", 4),
        CheckResult(
            "train_loop.loss_decreases",
            "train_loop",
            "Loss goes down",
            Status.PASSED,
            6,
            6,
            f"student text stays text: {SCRIPT}",
        ),
    ),
    issues=(
        RunIssue(
            IssueKind.CELL_ERROR,
            "cell 3",
            "NameError: name 'plot' is not defined",
            traceback="NameError: name 'plot' is not defined",
            source="plot(history)",
        ),
    ),
    stderr=f"UserWarning: {KOREAN}\n",
    grader_version="0.1.0",
    functions=("mse_cost", "gradient_step", "train_loop"),
)




def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


CASES = pytest.mark.parametrize(
    ("result", "total"), [(FULL_MARKS, "14 / 14"), (MIXED, "12 / 18")], ids=["full_marks", "mixed"]
)


@CASES
def test_browser_dom_shows_total_and_a_section_per_function(
    result: GradeResult, total: str, tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    write_html(result, report)
    dom = chromium(report, tmp_path, "--dump-dom")
    assert f'id="total-score">{total}</div>' in dom
    sections = re.findall(r'<section class="card function" id="fn-(\w+)"', dom)
    assert sections == list(result.functions)
    assert "<script" not in dom.lower()


def test_browser_keeps_script_as_text_and_reads_korean(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    write_html(MIXED, report)
    dom = chromium(report, tmp_path, "--dump-dom")
    assert "&lt;script&gt;document.title = 'pwned'&lt;/script&gt;" in dom
    assert "<title>lab2: 12/18 · lab2_submission.ipynb</title>" in dom  # no script ran
    assert KOREAN in dom  # decoded as UTF-8


@CASES
def test_browser_screenshot(result: GradeResult, total: str, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    write_html(result, report)
    shot = tmp_path / "shot.png"
    chromium(report, tmp_path, f"--screenshot={shot}", "--window-size={},{}".format(*WINDOW))
    assert shot.exists()
    assert png_size(shot) == WINDOW
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few kilobytes
