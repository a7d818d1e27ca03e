"""The `grade` command's contract: which file it grades, exit statuses, one-line errors, stable files."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, run_grade
from grader.errors import AmbiguousSubmission, SubmissionNotFound, UnknownLab, UnreadableSubmission
from grader.submission import resolve

STUB, SOLUTION = ROOT / "exercises" / "lab2", ROOT / "solutions" / "lab2"


def lab_folder(tmp_path: Path, py_from: Path | None, nb_from: Path | None) -> Path:
    folder = tmp_path / "lab2"
    folder.mkdir()
    if py_from:
        shutil.copy(py_from / "lab2.py", folder / "lab2.py")
    if nb_from:
        shutil.copy(nb_from / "lab2.ipynb", folder / "lab2.ipynb")
    return folder


@pytest.mark.parametrize(
    ("py_from", "nb_from", "graded", "why"),
    [
        (STUB, SOLUTION, "lab2.ipynb", "lab2.ipynb differs from the released stub; lab2.py does not"),
        (SOLUTION, STUB, "lab2.py", "lab2.py differs from the released stub; lab2.ipynb does not"),
        (SOLUTION, SOLUTION, "lab2.ipynb", "both lab2.py and lab2.ipynb differ"),
        (STUB, STUB, "lab2.ipynb", "neither"),
        (SOLUTION, None, "lab2.py", "only lab2 file"),
    ],
    ids=["notebook-changed", "py-changed", "both-changed", "none-changed", "py-only"],
)
def test_folder_grades_the_file_the_student_changed(tmp_path: Path, py_from: Path | None, nb_from: Path | None,
                                                    graded: str, why: str) -> None:
    submission = resolve(lab_folder(tmp_path, py_from, nb_from))
    assert submission.path.name == graded
    assert why in submission.selection
    assert submission.lab.name == "lab2"


def test_when_both_files_differ_the_one_with_its_functions_written_is_graded(tmp_path: Path) -> None:
    """A student who finished lab2.py and tried one cell in the notebook (or a comment in the .py
    after finishing the notebook) is graded on the finished file, and told why, in English and
    Korean; where both have as many functions written, the notebook still is."""
    from grader.i18n import translate_detail

    folder = lab_folder(tmp_path, SOLUTION, STUB)
    nb = nbformat.read(str(folder / "lab2.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('hello')"))
    nbformat.write(nb, str(folder / "lab2.ipynb"))
    picked = resolve(folder)
    assert picked.path.name == "lab2.py"
    assert picked.selection == ("both lab2.py and lab2.ipynb differ from the released stubs; lab2.py was graded: "
                                "6 of the lab's 6 functions are written in it, against 0 in lab2.ipynb")
    assert translate_detail("ko", picked.selection) == (
        "lab2.py와 lab2.ipynb 모두 배포된 실습 파일과 다르므로, 실습 함수 6개 중 6개를 작성한 lab2.py를 "
        "채점했습니다 (lab2.ipynb에는 0개)")

    # Half the notebook written, a comment added to the stub .py: the notebook.
    (folder / "lab2.py").write_text((STUB / "lab2.py").read_text(encoding="utf-8") + "# started\n", encoding="utf-8")
    solved = nbformat.read(str(SOLUTION / "lab2.ipynb"), as_version=4)
    stub = nbformat.read(str(STUB / "lab2.ipynb"), as_version=4)
    half = [c for c in stub.cells if "def train" not in c.source and "class " not in c.source]
    half += [c for c in solved.cells if "def train" in c.source or "class " in c.source]
    nbformat.write(nbformat.v4.new_notebook(cells=half), str(folder / "lab2.ipynb"))
    picked = resolve(folder)
    assert picked.path.name == "lab2.ipynb"
    assert "lab2.ipynb was graded: 3 of the lab's 6 functions are written in it, against 0 in lab2.py" in picked.selection

    # Both finished: the notebook, as before.
    shutil.copy(SOLUTION / "lab2.py", folder / "lab2.py")
    shutil.copy(SOLUTION / "lab2.ipynb", folder / "lab2.ipynb")
    assert resolve(folder).selection == "both lab2.py and lab2.ipynb differ from the released stubs; the notebook was graded"


def test_saved_outputs_and_metadata_do_not_count_as_a_change(tmp_path: Path) -> None:
    folder = lab_folder(tmp_path, SOLUTION, None)
    nb = nbformat.read(str(STUB / "lab2.ipynb"), as_version=4)
    nb.metadata["kernelspec"] = {"name": "something-else", "display_name": "x", "language": "python"}
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="old output\n")]
    nbformat.write(nb, str(folder / "lab2.ipynb"))
    assert resolve(folder).path.name == "lab2.py"


def test_a_notebook_cell_without_source_is_graded(tmp_path: Path) -> None:
    """Malformed but readable: a code cell without `source` is an empty cell, in choosing the file and in running it."""
    folder = lab_folder(tmp_path, STUB, None)
    nb = json.loads((SOLUTION / "lab2.ipynb").read_text(encoding="utf-8"))
    nb["cells"].insert(2, {"cell_type": "code", "id": "no-source", "metadata": {}, "outputs": [], "execution_count": None})
    (folder / "lab2.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    graded = run_grade(folder, "--call-timeout", "10", "--cell-timeout", "30", cwd=tmp_path)
    assert graded.report["submission"]["file"] == "lab2.ipynb", graded.stderr
    assert (graded.returncode, graded.report["score"], graded.report["issues"]) == (0, 25, []), graded.stderr


def test_lab_comes_from_the_file_name_or_lab_option(tmp_path: Path) -> None:
    renamed = tmp_path / "my_homework.py"
    shutil.copy(SOLUTION / "lab2.py", renamed)
    with pytest.raises(AmbiguousSubmission):
        resolve(renamed)
    assert resolve(renamed, "lab2").lab.name == "lab2"


def _missing(d: Path) -> Path:
    return d / "missing.py"


def _good_file(d: Path) -> Path:
    return Path(shutil.copy(SOLUTION / "lab2.py", d / "lab2.py"))


def _text_file(d: Path) -> Path:
    (d / "lab2.txt").write_text("x")
    return d / "lab2.txt"


def _broken_notebook(d: Path) -> Path:
    (d / "lab2.ipynb").write_text('{"cells": [')
    return d / "lab2.ipynb"


def _a_pipe(d: Path) -> Path:  # was taken for a folder: "no lab2.py or lab2.ipynb in it"
    os.mkfifo(d / "lab2.py")
    return d / "lab2.py"


def _too_much_code(d: Path) -> Path:
    """The grader reads a submission's code on its side too (its rules, its sources), outside the sandbox's
    limits: 5 MB of `a = 1` lines took it 3 GB and 30 s. Code is refused past 512 KiB, before it is parsed."""
    (d / "lab2.py").write_text((SOLUTION / "lab2.py").read_text(encoding="utf-8") + "if False:\n" + " a = 1\n" * 90_000,
                               encoding="utf-8")
    return d / "lab2.py"


def _notebook_with_too_much_code(d: Path) -> Path:
    nb = json.loads((SOLUTION / "lab2.ipynb").read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "id": "big", "metadata": {}, "outputs": [], "execution_count": None,
                        "source": "if False:\n" + " a = 1\n" * 90_000})
    (d / "lab2.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return d / "lab2.ipynb"


def _folder_with_too_much_code(d: Path) -> Path:  # (the folder's files are read to pick one: not past the cap)
    (d / "lab2").mkdir()
    _too_much_code(d / "lab2")
    shutil.copy(ROOT / "exercises/lab2/lab2.ipynb", d / "lab2/lab2.ipynb")
    return d / "lab2"


def _empty_lab_folder(d: Path) -> Path:
    (d / "lab2").mkdir()
    return d / "lab2"


def _cell_source_not_text(d: Path) -> Path:
    nb = json.loads((SOLUTION / "lab2.ipynb").read_text(encoding="utf-8"))
    nb["cells"][1]["source"] = None
    (d / "lab2.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return d / "lab2.ipynb"


@pytest.mark.parametrize(
    ("make", "lab", "error"),
    [
        (_missing, None, SubmissionNotFound),
        (_good_file, "lab99", UnknownLab),
        (_good_file, "", UnknownLab),  # was taken for no --lab at all
        (_text_file, None, UnreadableSubmission),
        (_broken_notebook, None, UnreadableSubmission),
        (_empty_lab_folder, None, AmbiguousSubmission),
        (_cell_source_not_text, None, UnreadableSubmission),
        (_a_pipe, "lab2", UnreadableSubmission),
        (_too_much_code, None, UnreadableSubmission),
        (_notebook_with_too_much_code, None, UnreadableSubmission),
        (_folder_with_too_much_code, None, UnreadableSubmission),
    ],
    ids=["missing-file", "unknown-lab", "empty-lab", "wrong-suffix", "broken-notebook", "empty-folder", "cell-source-not-text", "a-pipe",
         "too-much-code", "notebook-with-too-much-code", "folder-with-too-much-code"],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, make: Callable[[Path], Path], lab: str | None,
                                          error: type[Exception]) -> None:
    path = make(tmp_path)
    with pytest.raises(error):
        resolve(path, lab)
    args = ("--lab", lab) if lab is not None else ()
    graded = run_grade(path, *args, cwd=tmp_path)
    assert graded.returncode == 2
    lines = graded.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grade: error: "), graded.stderr
    assert "Traceback" not in graded.stderr and graded.report == {}
    # The same line in Korean, for a student who asked for it
    korean = run_grade(path, *args, "--lang", "ko", cwd=tmp_path)
    lines = korean.stderr.strip().splitlines()
    assert korean.returncode == 2 and len(lines) == 1 and lines[0].startswith("grade: 오류: "), korean.stderr
    words = lines[0].removeprefix("grade: 오류: ").replace(str(path), "")
    words = re.sub(r"\([^()]*\)", "", words)  # a library's own error, quoted in brackets, stays as it was
    assert re.search("[\uac00-\ud7a3]", words) and not re.search(r"\b(the|is|not|no|a)\b", words), lines[0]


@pytest.mark.parametrize("shape", ["a JSON object", "the solution without its version"])
def test_a_notebook_that_does_not_say_its_nbformat_version_is_told_so(tmp_path: Path, shape: str) -> None:
    """nbformat takes such a file for a version 1 notebook and fails converting it: the student read of
    a "version 1 to version 2" conversion, or of a variable named 'newcell'."""
    nb = json.loads((SOLUTION / "lab2.ipynb").read_text(encoding="utf-8"))
    del nb["nbformat"]
    (tmp_path / "lab2.ipynb").write_text(json.dumps(nb if shape != "a JSON object" else {"a": 1}), encoding="utf-8")
    with pytest.raises(UnreadableSubmission) as raised:
        resolve(tmp_path / "lab2.ipynb", None)
    assert str(raised.value) == (f"cannot read {tmp_path / 'lab2.ipynb'}: not a valid notebook "
                                 "(it does not say which nbformat version it is)")


def test_bad_option_is_one_line_and_exit_2(tmp_path: Path) -> None:
    graded = run_grade(SOLUTION / "lab2.py", "--call-timeout", "soon", cwd=tmp_path)
    assert graded.returncode == 2 and len(graded.stderr.strip().splitlines()) == 1


def test_a_call_limit_under_one_second_still_applies(tmp_path: Path) -> None:
    """Limits take any positive number of seconds: 0.5 is neither rounded to 0 (no limit) nor to 1."""
    (tmp_path / "lab2.py").write_text("import time\n\n\ndef hypothesis(x, W, b):\n    time.sleep(600)\n", encoding="utf-8")
    graded = run_grade(tmp_path / "lab2.py", "--call-timeout", "0.5", cwd=tmp_path, timeout=120)
    hypothesis = [c for c in graded.report["checks"] if c["function"] == "hypothesis"]
    assert hypothesis and all(c["message"] == "hypothesis timed out after 0.5 s" for c in hypothesis), hypothesis


@pytest.mark.parametrize(("html", "says"), [
    ("afile/report.html", "cannot write"),  # its folder is a file
    ("lab2.py", "--html lab2.py would overwrite the submission being graded"),
    ("report.json", "--html report.json would overwrite --json"),  # run_grade writes the JSON report there
])
def test_a_report_path_that_cannot_work_is_refused_before_grading(html: str, says: str, tmp_path: Path) -> None:
    """One line and exit 2, before the submission runs (its import would leave a file: it must not),
    and the student's file untouched."""
    (tmp_path / "afile").write_text("")
    ran = tmp_path / "ran"
    code = f"open({str(ran)!r}, 'w').close()\n" + (SOLUTION / "lab2.py").read_text(encoding="utf-8")
    (tmp_path / "lab2.py").write_text(code, encoding="utf-8")
    graded = run_grade(tmp_path / "lab2.py", "--unsandboxed", "--html", html, cwd=tmp_path)
    assert graded.returncode == 2 and says in graded.stderr, graded.stderr
    assert len(graded.stderr.strip().splitlines()) == 1 and "Traceback" not in graded.stderr
    assert not ran.exists() and (tmp_path / "lab2.py").read_text(encoding="utf-8") == code


def test_a_time_limit_must_be_a_finite_positive_number(tmp_path: Path) -> None:
    for bad in ("nan", "inf", "0", "-1", "abc"):
        graded = run_grade(SOLUTION / "lab2.py", "--call-timeout", bad, cwd=tmp_path)
        assert graded.returncode == 2 and "expected a positive number of seconds" in graded.stderr, (bad, graded.stderr)


def test_reports_are_deterministic(tmp_path: Path) -> None:
    """Grading the same file twice writes byte-identical JSON and HTML."""
    outputs = []
    for attempt in ("a", "b"):
        html = tmp_path / f"{attempt}.html"
        graded = run_grade(ROOT / "tests/submissions/lab2/whole/prints_results.py", "--lab", "lab2", "--html", str(html),
                           cwd=tmp_path)
        outputs.append(((tmp_path / "report.json").read_bytes(), html.read_bytes()))
        assert graded.returncode == 1
    assert outputs[0] == outputs[1]
    assert b'"score": 0.0' in outputs[0][0] and b"0 / 25" in outputs[0][1].replace(b"&nbsp;", b" ")


def test_a_notebook_from_an_older_jupyter_grades_without_warnings(tmp_path: Path) -> None:
    """Cells without ids (nbformat 4.4 and older) are normal: no warning lines for the student."""
    raw = json.loads((ROOT / "solutions/lab2/lab2.ipynb").read_text(encoding="utf-8"))
    raw["nbformat_minor"] = 4
    for cell in raw["cells"]:
        cell.pop("id", None)
    path = tmp_path / "lab2.ipynb"
    path.write_text(json.dumps(raw), encoding="utf-8")
    graded = run_grade(path, cwd=tmp_path)
    assert graded.returncode == 0 and graded.report["score"] == 25
    assert "warning" not in graded.stderr, graded.stderr


@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_ctrl_c_while_the_functions_run_writes_no_report(kind: str, tmp_path: Path) -> None:
    """Ctrl-C while the grader calls the student's functions: "interrupted", exit 130 and no report.
    The stop can land where the runner or pytest catches it (a notebook's kernel taken for dead, a
    session ended early): the grade must not go on to write a score for the part that ran."""
    import signal
    import subprocess
    import time

    from conftest import GRADE, interruptible

    called = tmp_path / "called"
    wrap = (f"\n_train = train\n\ndef train(*args, **kwargs):\n    import time\n    open({str(called)!r}, 'w').close()\n"
            "    time.sleep(5)\n    return _train(*args, **kwargs)\n")
    source = (SOLUTION / "lab2.py").read_text(encoding="utf-8") + wrap
    if kind == "py":
        (tmp_path / "lab2.py").write_text(source, encoding="utf-8")
    else:
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), tmp_path / "lab2.ipynb")
    proc = subprocess.Popen([str(GRADE), str(tmp_path / f"lab2.{kind}"), "--unsandboxed", "--json", "r.json"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    try:
        limit = time.monotonic() + 120
        while not called.exists() and proc.poll() is None and time.monotonic() < limit:
            time.sleep(0.05)
        assert called.exists(), "the functions were never called: the test proves nothing"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted" in stderr and "Traceback" not in stderr, stderr
    assert not (tmp_path / "r.json").exists() and "Score" not in stdout


def test_a_ctrl_c_while_grade_exits_changes_nothing(tmp_path: Path) -> None:
    """Ctrl-C after the score is printed, while `grade` exits (its warm sandboxes are closed then):
    the student has their score and report, so no "Exception ignored ... KeyboardInterrupt" traceback
    and the same exit status. The Ctrl-C is sent by an exit handler that runs last (registered at
    start-up by a sitecustomize on the grade's PYTHONPATH; the sandbox's Pythons run isolated)."""
    import subprocess

    from conftest import GRADE

    hooks = tmp_path / "hooks"
    hooks.mkdir()
    sent = tmp_path / "sent"
    (hooks / "sitecustomize.py").write_text(
        "import atexit, os, signal, time\n\n\ndef _ctrl_c() -> None:\n"
        f"    open({str(sent)!r}, 'w').close()\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n    time.sleep(0.5)\n\n\natexit.register(_ctrl_c)\n",
        encoding="utf-8")
    shutil.copy(ROOT / "exercises" / "lab2" / "lab2.py", tmp_path / "lab2.py")
    env = {**os.environ, "PYTHONPATH": str(hooks)}
    proc = subprocess.run([str(GRADE), "lab2.py", "--quiet", "--json", "r.json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert sent.exists(), "the exit handler never ran: the test proves nothing"
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "lab2: 0/25" in proc.stdout
    assert "KeyboardInterrupt" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["score"] == 0


def test_grades_exit_runs_the_exit_handlers_and_flushes_but_skips_the_teardown(tmp_path: Path) -> None:
    """`grade` ends without Python's teardown of every module (0.3 s with torch): what an exit
    must do still happens, in order, and the exit status is kept."""
    import subprocess
    import sys

    script = ("import atexit, sys\nfrom grader.cli import end\n"
              "class Freed:\n    def __del__(self):\n        print('torn down')\n"
              "kept = Freed()\n"
              "atexit.register(lambda: print('handler'))\n"
              "print('buffered', end=' ')\nsys.stderr.write('err')\nend(3)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "buffered handler\n", "err")


def test_grades_exit_waits_for_a_thread_python_would_wait_for(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = tmp_path / "done"
    script = ("import pathlib, threading, time\nfrom grader.cli import end\n"
              f"threading.Thread(target=lambda: (time.sleep(0.5), pathlib.Path({str(done)!r}).touch())).start()\n"
              "end(0)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert done.exists()


def test_a_reader_that_closes_the_output_early_costs_no_report_and_no_status(tmp_path: Path) -> None:
    """`grade lab2.py --json r.json --html r.html | head -1`, and `grade labs | head -1`: once the
    reader is gone, what is left of the terminal output is dropped; the reports are still written,
    the exit status is still the grade's, and no 'internal error' (BrokenPipeError) is printed."""
    import subprocess

    from conftest import GRADE

    solution = tmp_path / "lab2.py"
    solution.write_bytes((SOLUTION / "lab2.py").read_bytes())
    for argv in ([str(solution), "--json", "r.json", "--html", "r.html", "--cell-timeout", "30"], ["labs"]):
        proc = subprocess.Popen([str(GRADE), *argv], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader has gone before the first line
        stderr = proc.stderr.read().decode()
        assert proc.wait(timeout=300) == 0, (argv, stderr)
        assert "error" not in stderr and "Traceback" not in stderr, stderr
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["score"] == 25
    assert (tmp_path / "r.html").read_text(encoding="utf-8").rstrip().endswith("</html>")


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from grader.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_memory_limit_too_small_for_python_and_torch_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """`--memory 2` (meant as GiB) used to charge every student with the slip: the solution scored 0/25
    (a cold start needs about 190 MiB; a warm one scored 25 at 64 MiB, so the score even depended on
    which start it got). Refused in one line, before anything runs, in English and Korean."""
    solution = str(SOLUTION / "lab2.py")
    for argv in ([solution, "--memory", "2"], ["batch", "class", "--lab", "lab2", "--out", "out", "--memory", "255"]):
        code, out, err = _main(argv, capsys)
        assert code == 2 and out == "", (out, err)
        assert err.count("\n") == 1 and "too little for Python and torch to start" in err and "at least 256" in err, err
    code, _, err = _main([solution, "--memory", "2", "--lang", "ko"], capsys)
    assert code == 2 and "256 이상을 주세요" in err and "too little" not in err, err


def test_every_command_takes_lang_and_its_errors_name_its_own_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _main(["labs", "--lang", "ko"], capsys)
    assert code == 0 and "선형 회귀: 가설" in out and "(25점)" in out and "points" not in out, out
    code, out, err = _main(["stop", "--lang", "ko"], capsys)
    assert code == 0 and "채점기" in out, (out, err)
    code, out, err = _main(["batch", "--lang", "ko"], capsys)
    assert code == 2 and err.strip().endswith("(grade batch --help 참고)") and "submissions" in err, err
    code, out, err = _main(["--lang", "ko", "lab2.py", "--bogus"], capsys)
    assert code == 2 and "알 수 없는 인자: --bogus" in err, err
    code, out, err = _main(["merge", "--out", "x"], capsys)
    assert code == 2 and err.strip().endswith("(see grade merge --help)"), err


def test_small_slips_get_a_line_that_says_what_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A .py saved as UTF-16 (Notepad's "Unicode": Python said only "source code string cannot contain null
    bytes"), an empty --html, check-lab on a folder that is not there ("unknown lab" before), and a file
    named for one lab graded against another (a warning: --lab may be meant)."""
    utf16 = tmp_path / "lab2.py"
    utf16.write_bytes((SOLUTION / "lab2.py").read_text(encoding="utf-8").encode("utf-16"))
    code, _, err = _main([str(utf16)], capsys)
    assert code == 2 and err.strip().endswith("it is saved as UTF-16 (Windows Notepad's \"Unicode\"); save it as UTF-8"), err
    code, _, err = _main([str(utf16), "--lang", "ko"], capsys)
    assert code == 2 and "UTF-8로 저장하세요" in err, err
    code, _, err = _main([str(SOLUTION / "lab2.py"), "--html", ""], capsys)
    assert code == 2 and "argument --html: expected a file name, got an empty one" in err, err
    code, _, err = _main(["check-lab", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and f"no such file or folder: {tmp_path / 'nowhere'}" in err, err
    code, out, err = _main([str(SOLUTION / "lab2.py"), "--lab", "lab3", "--quiet"], capsys)
    assert code == 1 and out.strip() == "lab3: 0/20", out
    assert err.strip() == "grade: warning: lab2.py is named for lab2, and is graded against lab3 as --lab asks", err
