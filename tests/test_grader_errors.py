"""A failure in the grader's own code is the grader's, never the student's.

Real grades (the student's code runs in its own sandboxed process) with a real bug put into
the grader's side: a hidden suite with broken checks, a reference solution that raises. The
checks they break get the status `grader_error`, keep their points in `max_score`, and make
`grade` exit 2 with one line; what the student's values provoke stays the student's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from conftest import ROOT, assert_reads_in_korean, run_grade
from grader.labs import Lab

FAST = ("--call-timeout", "10", "--cell-timeout", "30")

# Right numbers in the wrong shape, and wrong numbers in the right shape.
STUDENT = '''\
import torch


def hypothesis(x, W, b):
    return (x * W + b).reshape(-1)


def mse_cost(prediction, y):
    return torch.sum((prediction - y) ** 2)
'''

BROKEN_SUITE = '''\
import pytest
import torch

from grader.compare import expect_close
from grader.labs.checking import T, check
from grader.labs.lab2 import data as d


@pytest.fixture
def broken():
    raise RuntimeError("a fixture of the suite is broken")


@check("hypothesis", 1, "passes")
def test_hypothesis_passes(observed, reference):
    x = T(d.A_X)
    expect_close(observed.get("hypothesis.hidden_a").reshape(-1), reference.hypothesis(x, T(d.A_W), T(d.A_B)).reshape(-1),
                 what="hypothesis", atol=1e-4)


@check("hypothesis", 1, "the student's flat tensor cannot be indexed as (m, 1)")
def test_hypothesis_student_shape(observed, reference):
    column = observed.get("hypothesis.hidden_a")[:, 0]
    expect_close(column, reference.hypothesis(T(d.A_X), T(d.A_W), T(d.A_B))[:, 0], what="hypothesis", atol=1e-4)


@check("hypothesis", 1, "asks for a probe the lab does not define")
def test_hypothesis_unknown_probe(observed, reference):
    observed.get("hypothesis.no_such_probe")


@check("hypothesis", 1, "calls the reference wrongly")
def test_hypothesis_reference_raises(observed, reference):
    observed.get("hypothesis.hidden_a")
    reference.hypothesis(None, None, None)


@check("hypothesis", 1, "has a bug whatever the student returns")
def test_hypothesis_suite_bug(observed, reference):
    observed.get("hypothesis.hidden_a")
    {}["hidden_c"]


@check("mse_cost", 1, "fails a wrong cost")
def test_mse_cost_student_wrong(observed, reference):
    pa, ya = T(d.line(d.A_X, d.A_W, d.A_B)), T(d.A_Y)
    expect_close(observed.get("mse_cost.hidden_a"), reference.mse_cost(pa, ya), what="mse_cost", atol=1e-4)


@check("mse_cost", 1, "has a mistake table that raises")
def test_mse_cost_mistake_table(observed, reference):
    pa, ya = T(d.line(d.A_X, d.A_W, d.A_B)), T(d.A_Y)
    expect_close(observed.get("mse_cost.hidden_a"), reference.mse_cost(pa, ya), what="mse_cost", atol=1e-4,
                 mistakes=lambda: {"sum": torch.sum((pa - ya) ** 2) + undefined_name})


@check("mse_cost", 2, "is skipped in its body")
def test_mse_cost_skipped_in_body(observed, reference):
    pytest.skip("not ready")


@pytest.mark.skip(reason="switched off")
@check("mse_cost", 2, "is skipped by a marker")
def test_mse_cost_skipped_by_marker(observed, reference):
    pass


@check("mse_cost", 3, "has a set-up that fails")
def test_mse_cost_setup_fails(observed, reference, broken):
    pass
'''


def test_bugs_in_the_hidden_suite_are_grader_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = tmp_path / "suite" / "checks"
    suite.mkdir(parents=True)
    (suite / "test_injected_bugs.py").write_text(BROKEN_SUITE, encoding="utf-8")
    monkeypatch.setattr(Lab, "suite", property(lambda self: suite))
    monkeypatch.delenv("GRADER_TESTS_SUBPROCESS", raising=False)  # the patch lives in this process
    (tmp_path / "lab2.py").write_text(STUDENT, encoding="utf-8")

    graded = run_grade(tmp_path / "lab2.py", *FAST, "--html", str(tmp_path / "report.html"), cwd=tmp_path)

    checks = {c["name"]: c for c in graded.report["checks"]}
    assert {name: c["status"] for name, c in checks.items()} == {
        "hypothesis.passes": "passed",
        "hypothesis.student_shape": "error",  # the student's flat tensor provoked it
        "hypothesis.unknown_probe": "grader_error",
        "hypothesis.reference_raises": "grader_error",
        "hypothesis.suite_bug": "grader_error",
        "mse_cost.student_wrong": "failed",
        "mse_cost.mistake_table": "grader_error",
        "mse_cost.skipped_in_body": "grader_error",
        "mse_cost.skipped_by_marker": "grader_error",
        "mse_cost.setup_fails": "grader_error",
    }
    assert graded.report["score"] == 1 and graded.report["max_score"] == 14  # nothing dropped
    assert "could not use what the function returned (IndexError" in checks["hypothesis.student_shape"]["message"]
    assert "'hypothesis.no_such_probe'" in checks["hypothesis.unknown_probe"]["message"]
    assert "at lab2.py:" in checks["hypothesis.reference_raises"]["message"]  # the reference's own line
    assert "KeyError: 'hidden_c' at test_injected_bugs.py:" in checks["hypothesis.suite_bug"]["message"]
    assert "table of classic mistakes raised" in checks["mse_cost.mistake_table"]["message"]
    assert "switched off" in checks["mse_cost.skipped_by_marker"]["message"]
    assert "set-up failed (RuntimeError: a fixture of the suite is broken" in checks["mse_cost.setup_fails"]["message"]
    for check in checks.values():
        if check["status"] == "grader_error":
            assert check["message"].startswith("grader error, not your code: ") and check["score"] == 0, check
    assert graded.returncode == 2
    lines = graded.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grade: error: the grader itself failed in checks "
                                                   "hypothesis.unknown_probe, "), graded.stderr
    assert "Traceback" not in graded.stderr and "! GRADER" in graded.stdout
    assert '<span class="badge grader_error">grader error</span>' in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_reference_that_raises_is_a_grader_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real lab 2 suite with a reference whose mse_cost raises: only the checks that call it break."""
    real = Lab.reference

    def broken_reference(self: Lab) -> Any:
        namespace = vars(real(self)).copy()
        namespace["mse_cost"] = lambda prediction, y: prediction.no_such_method()
        return SimpleNamespace(**namespace)

    monkeypatch.setattr(Lab, "reference", broken_reference)
    monkeypatch.delenv("GRADER_TESTS_SUBPROCESS", raising=False)
    solution = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    (tmp_path / "lab2.py").write_text(solution + "# graded against a broken reference\n", encoding="utf-8")

    graded = run_grade(tmp_path / "lab2.py", *FAST, cwd=tmp_path)

    broken = {c["name"] for c in graded.report["checks"] if c["status"] == "grader_error"}
    assert broken == {"mse_cost.lesson_values", "mse_cost.autograd"}, graded.report["checks"]
    assert all(c["status"] == "passed" for c in graded.report["checks"] if c["name"] not in broken)
    assert graded.report["max_score"] == 25 and graded.report["score"] == 22
    assert graded.returncode == 2 and len(graded.stderr.strip().splitlines()) == 1, graded.stderr
    assert "mse_cost.lesson_values, mse_cost.autograd" in graded.stderr


def test_a_kernel_that_cannot_start_costs_the_student_nothing(tmp_path: Path) -> None:
    """Limits too tight for a Jupyter kernel to start (--processes 3: its threads alone need more) are
    the grader's problem, not the student's: nothing of the notebook ran, so no check is scored; every
    check is a grader error that says why, `grade` exits 2 with one line, and no traceback follows.
    (As a process of its own: the traceback came from an exit handler nbclient leaves behind.)"""
    notebook = tmp_path / "lab2.ipynb"
    notebook.write_bytes((ROOT / "solutions/lab2/lab2.ipynb").read_bytes())

    graded = run_grade(notebook, *FAST, "--processes", "3", cwd=tmp_path, process=True)

    checks = graded.report["checks"]
    assert checks and all(c["status"] == "grader_error" and c["score"] == 0 for c in checks), checks
    assert graded.report["max_score"] == 25  # nothing dropped
    assert "could not start a Jupyter kernel" in checks[0]["message"], checks[0]
    assert not [i for i in graded.report["issues"] if i["kind"] == "died"], graded.report["issues"]
    assert graded.returncode == 2
    lines = graded.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not start a Jupyter kernel" in lines[0], graded.stderr
    assert_reads_in_korean(graded.report)


def test_a_python_that_ends_before_the_students_code_costs_the_student_nothing(tmp_path: Path) -> None:
    """The same for a .py: with --processes 2 the sandboxed Python ends before the harness reaches the
    student's first line, and the message says the sandbox's own reason. A file whose own top level ends
    the process stays the student's."""
    script = tmp_path / "lab2.py"
    script.write_bytes((ROOT / "solutions/lab2/lab2.py").read_bytes())

    graded = run_grade(script, *FAST, "--processes", "2", cwd=tmp_path)

    checks = graded.report["checks"]
    assert checks and all(c["status"] == "grader_error" and c["score"] == 0 for c in checks), checks
    assert "ended before the submission's code started" in checks[0]["message"], checks[0]
    # ... and why, in the sandbox's own words (its fork refused by the pids limit), so the failure can be told apart
    assert "sandbox: " in checks[0]["message"] and "Resource temporarily unavailable" in checks[0]["message"], checks[0]
    assert graded.returncode == 2 and not graded.report["issues"], graded.report["issues"]
    assert graded.report["sources"] == []  # nothing of theirs to look at: the grader failed, not their code
    assert_reads_in_korean(graded.report)

    script.write_text("import os\nos._exit(125)\n", encoding="utf-8")  # the status the sandbox's own failure has
    graded = run_grade(script, *FAST, cwd=tmp_path)
    assert graded.returncode == 1 and {c["status"] for c in graded.report["checks"]} == {"error"}
    assert [i["kind"] for i in graded.report["issues"]] == ["died"], graded.report["issues"]


def test_a_python_that_never_reaches_the_students_code_costs_the_student_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sandboxed Python still short of the student's file at the start-up limit (`--startup-timeout`,
    the same allowance a notebook's kernel gets; a machine too busy for a cold start, or a grader bug;
    here a harness that never starts) is the grader's failure: every check is a grader error, not a
    load timeout charged to the student's top level."""
    from grader.runner import jail, script

    stalled = tmp_path / "stalled_harness.py"
    stalled.write_text("import time\ntime.sleep(600)\n", encoding="utf-8")
    monkeypatch.setenv("GRADER_WARM", "0")  # a cold run starts the harness itself (a warm zygote holds it already)
    monkeypatch.setattr(jail, "HARNESS", stalled)
    monkeypatch.setattr(script, "HARNESS", stalled)
    solution = tmp_path / "lab2.py"
    solution.write_bytes((ROOT / "solutions/lab2/lab2.py").read_bytes())

    graded = run_grade(solution, *FAST, "--startup-timeout", "3", cwd=tmp_path, timeout=40)

    checks = graded.report["checks"]
    assert checks and all(c["status"] == "grader_error" and c["score"] == 0 for c in checks), checks
    assert "did not reach the submission's code within 3 s" in checks[0]["message"], checks[0]
    assert graded.returncode == 2 and not graded.report["issues"], graded.report["issues"]
    assert_reads_in_korean(graded.report)


def test_the_students_code_runs_only_once_the_grader_has_read_the_harness_s_begin_and_given_the_word(tmp_path: Path) -> None:
    """The student's file can read the harness's channel too: had `begin` still been in the pipe when
    its first line ran, it could take it out and exit, and pass its own failure off as the grader's.
    And its memory limit counts from `begin` (cgroups.Box.count_from_here), which the grader sets before it
    gives the word on the `go` FIFO. The real harness, in a real process, with FIFOs the test holds: the
    file's first line (it leaves a mark) runs only after the test has read `begin` and given the word."""
    import array
    import fcntl
    import subprocess
    import sys
    import termios
    import time

    from grader.runner.channel import Go
    from grader.runner.protocol import HARNESS, PYTHON_FLAGS, write_probes

    channel, probes, mark = tmp_path / "channel", tmp_path / "probes.json", tmp_path / "ran"
    os.mkfifo(channel)
    reader = os.open(channel, os.O_RDONLY | os.O_NONBLOCK)
    go = Go.create(tmp_path / "go")
    write_probes(probes, [], 5.0, 1000, load_timeout=10.0, rest_timeout=1.0)
    (tmp_path / "lab2.py").write_text(f"open({str(mark)!r}, 'w').close()\n", encoding="utf-8")
    process = subprocess.Popen([sys.executable, *PYTHON_FLAGS, str(HARNESS), str(tmp_path / "lab2.py"), str(probes),
                                str(channel), str(go.path)])
    try:
        waiting = array.array("i", [0])
        deadline = time.monotonic() + 60
        while not waiting[0] and time.monotonic() < deadline:  # until the harness (it imports torch) sends begin
            time.sleep(0.02)
            fcntl.ioctl(reader, termios.FIONREAD, waiting, True)
        assert waiting[0], "the harness sent nothing"
        time.sleep(1.0)  # time enough for the file's first line, had it been let run
        assert not mark.exists(), "the student's code ran before the grader read begin"
        assert json.loads(os.read(reader, 65536).strip().splitlines()[0]) == {"type": "begin"}
        time.sleep(1.0)
        assert not mark.exists(), "the student's code ran before the grader gave the word"
        go.give()
        deadline = time.monotonic() + 30
        while not mark.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert mark.exists(), "the student's code did not run once the grader gave the word"
    finally:
        process.kill()
        process.wait()
        os.close(reader)
        go.close()


def test_a_module_or_file_next_to_the_submission_is_said_to_be_missing_when_graded(tmp_path: Path) -> None:
    """`from helper import ...` with helper.py beside lab2.py, and a notebook cell reading data.csv beside
    it: on the student's machine both are there; in the sandbox only the submission is. The error says
    so, in English and Korean, and says nothing of the kind where no such file is beside it."""
    import nbformat

    source = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    (tmp_path / "lab2.py").write_text("from helper import scale\n" + source, encoding="utf-8")
    (tmp_path / "helper.py").write_text("scale = 1\n", encoding="utf-8")
    graded = run_grade(tmp_path / "lab2.py", *FAST, cwd=tmp_path)
    [issue] = graded.report["issues"]
    assert issue["message"] == ("ModuleNotFoundError: No module named 'helper'; when graded, only the submitted file "
                                "runs: helper.py, next to it, is not there (put what it holds into the file)"), issue
    assert_reads_in_korean(graded.report)

    folder = tmp_path / "nb"
    folder.mkdir()
    nb = nbformat.read(str(ROOT / "solutions/lab2/lab2.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("open('data.csv').read()"))
    nbformat.write(nb, str(folder / "lab2.ipynb"))
    alone = run_grade(folder / "lab2.ipynb", *FAST, cwd=folder)
    assert [i["message"] for i in alone.report["issues"]] == [
        "FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'"], alone.report["issues"]
    other = tmp_path / "nb_with_data"  # (another folder: the tests keep a grade of the same bytes in the same one)
    other.mkdir()
    nbformat.write(nb, str(other / "lab2.ipynb"))
    (other / "data.csv").write_text("1,2\n", encoding="utf-8")
    beside = run_grade(other / "lab2.ipynb", *FAST, cwd=other)
    assert [i["message"] for i in beside.report["issues"]] == [
        "FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'; when graded, only the submitted file "
        "runs: data.csv, next to it, is not there (put what it holds into the file)"], beside.report["issues"]
