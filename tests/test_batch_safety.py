"""`grade batch` against a class folder that is hostile or broken, and what the batch promises anyway.

Ids that are paths, formulas or control characters; links out of the class folder; a pipe
where a file should be; an output folder that is in the way; an entry that never ends; a
rendering-only upgrade; shards that do not belong together; the documented CI workflow.
Every case runs the real `grade` command on real files. Most entries hold nothing gradable
(they cost no student process); the few that run are lab 2's solution or a small variant.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from conftest import GRADE, ROOT, SUBMISSIONS, interruptible

from grader.batch.execute import limits_key
from grader.batch.folders import folder_names, safe_name
from grader.batch.records import cache_key, environment_versions, grading_fingerprint, verdict_of
from grader.config import Limits, Sandboxing
from grader.results import CheckResult, GradeResult, IssueKind, RunIssue, Status

SOLUTION = ROOT / "solutions" / "lab2" / "lab2.py"
LIMITS = ("--call-timeout", "3", "--cell-timeout", "15")  # generous: two workers share two cores
CLASS_FILES = {"gradebook.csv", "results.json", "junit.xml", "index.html", "timings.json", "students"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def batch(*args: str | Path, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GRADE), "batch", *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=env)


def students(out: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    return {s["student"]: s for s in json.loads((out / "results.json").read_text(encoding="utf-8"))["students"]}


def nothing_gradable(folder: Path) -> None:
    """An entry that gets a verdict without running anything: a folder holding only notes."""
    folder.mkdir()
    (folder / "notes.txt").write_text("I will hand it in tomorrow\n", encoding="utf-8")


def one_line_of_stderr(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


# --- ids: safe distinct folders, formulas escaped, how each was isolated, memory ---------------

ODD_IDS = {  # id -> the folder its files go to
    "..": "__",  # graded: the solution
    ".hidden": "_hidden",
    "Alice": "Alice",
    "a\x01b": "a_b",
    "alice": "alice-2",  # graded: allocates 3 GiB under a 1 GiB limit; "Alice" took the name first
    '=HYPERLINK("evil","grades")': "=HYPERLINK(_evil_,_grades_)",
    "+1+1": "+1+1",
    "-2+3": "-2+3",
    "@SUM(A1)": "@SUM(A1)",
    "\tcmd": "_cmd",
}


@pytest.fixture(scope="module")
def odd_class(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """Ids taken with --id-pattern from names like `s_.._x.py`: a path, a hidden name, names that differ
    only in case, control characters and spreadsheet formulas."""
    root = tmp_path_factory.mktemp("odd")
    klass, out = root / "class", root / "out"
    klass.mkdir()
    for student in ODD_IDS:
        if student not in ("..", "alice"):
            nothing_gradable(klass / f"s_{student}_x")
    shutil.copy(SOLUTION, klass / "s_.._x.py")
    hog = (SUBMISSIONS / "attacks" / "grabs_memory.py").read_text(encoding="utf-8")
    (klass / "s_alice_x.py").write_text(SOLUTION.read_text(encoding="utf-8") + "\n\n" + hog, encoding="utf-8")
    proc = batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1", "--id-pattern", r"^s_(?P<id>.*)_x",
                 "--memory", "1024", "--call-timeout", "60", "--cell-timeout", "15")
    # (a call limit far above the seconds it takes to touch 1 GiB on a loaded machine whose memory the
    # host hands over lazily, measured over 10 s on a fresh CI machine: the memory limit, not the
    # clock, must stop the hog; no other entry here makes a call that waits on it)
    return root, out, proc


def test_odd_ids_get_safe_distinct_folders_and_nothing_is_written_elsewhere(
        odd_class: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    root, out, proc = odd_class
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in root.iterdir()) == ["class", "out"]
    assert {p.name for p in out.iterdir()} == CLASS_FILES  # the id ".." wrote nothing into out/ itself
    assert {p.name for p in (out / "students").iterdir()} == set(ODD_IDS.values())
    found = students(out)
    assert {student: s["folder"] for student, s in found.items()} == ODD_IDS  # ids themselves are kept
    assert found[".."]["score"] == 25 and (out / "students" / "__" / "report.html").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="students/__/report.html"' in index and 'href="students/alice-2/report.html"' in index


def test_gradebook_cells_are_never_formulas(odd_class: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    """Read back as a spreadsheet reads a CSV: no cell may start with = + - @ tab or CR."""
    _, out, _ = odd_class
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert [cell for row in rows for cell in row if cell.startswith(FORMULA_START)] == []
    ids = [row[0] for row in rows[1:]]
    assert "'=HYPERLINK(\"evil\",\"grades\")" in ids and "'+1+1" in ids and "'-2+3" in ids and "'\tcmd" in ids
    for row in csv.DictReader((out / "gradebook.csv").open(newline="", encoding="utf-8")):
        assert float(row["score"]) >= 0 and float(row["max_score"]) == 25  # numbers stay numbers


def test_gradebook_and_results_say_how_each_submission_was_isolated(
        odd_class: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    _, out, _ = odd_class
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    found = students(out)
    isolation = found[".."]["result"]["isolation"]
    assert re.fullmatch(r"(bubblewrap|process); limits: .+", isolation), isolation
    assert found[".."]["isolation"] == rows[".."]["isolation"] == isolation
    assert found["Alice"]["isolation"] == rows["Alice"]["isolation"] == ""  # nothing of it ran


def test_running_out_of_memory_is_a_verdict_of_its_own(odd_class: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    _, out, _ = odd_class
    alice = students(out)["alice"]
    assert alice["verdict"] == "memory limit exceeded", alice["message"]
    assert "memory limit exceeded" in alice["message"] and "train" in alice["message"]
    assert 0 < alice["score"] < 25  # the functions answered before it keep their points


def test_verdict_of_names_grader_errors_then_the_memory_limit() -> None:
    issues = (RunIssue(IssueKind.MEMORY_LIMIT, "train", "the code used more memory than the limit allows"),
              RunIssue(IssueKind.DIED, "lab2.py", "the process ended"))
    result = GradeResult(lab="lab2", graded_file="lab2.py", submission_format="py", sha256="0" * 64,
                         selection="", checks=(), issues=issues)
    assert verdict_of(result) == ("memory limit exceeded", "the code used more memory than the limit allows")
    broken = CheckResult("train.lesson_table", "train", "Trains", Status.GRADER_ERROR, 0, 3, "the reference raised")
    assert verdict_of(replace(result, checks=(broken,))) == ("grader error", "train.lesson_table: the reference raised")


def test_a_file_without_code_is_a_verdict_of_its_own() -> None:
    """An empty .py or a notebook of markdown only: 'no code' (was it saved?), not 'ok' at 0."""
    empty = CheckResult("hypothesis.lesson", "hypothesis", "H(x)", Status.ERROR, 0, 2,
                        "no hypothesis found: the notebook has no code (was it saved?)")
    notebook = GradeResult(lab="lab2", graded_file="lab2.ipynb", submission_format="ipynb", sha256="0" * 64,
                           selection="", checks=(empty, replace(empty, name="train.lesson", function="train")), issues=())
    assert verdict_of(notebook) == ("no code", "the notebook has no code (was it saved?)")
    other = replace(empty, message="no hypothesis found in the submission (check its name)")
    assert verdict_of(replace(notebook, checks=(empty, other))) == ("ok", "")


def test_output_past_the_limit_that_cost_nothing_is_no_verdict() -> None:
    """A notebook cell that printed past the output limit, and a .py top level that did (its output is
    not kept either), both with full marks: 'ok' alike. A call stopped for flooding is the verdict."""
    full = CheckResult("hypothesis.lesson", "hypothesis", "H(x)", Status.PASSED, 2, 2, "passed")
    cell = GradeResult(lab="lab2", graded_file="lab2.ipynb", submission_format="ipynb", sha256="0" * 64, selection="",
                       checks=(full,), issues=(), stderr="[cell 3] [... output truncated ...]\n")
    assert verdict_of(cell) == ("ok", "")
    assert verdict_of(replace(cell, graded_file="lab2.py", submission_format="py", stderr="")) == ("ok", "")
    stopped = replace(full, status=Status.ERROR, score=0, message="hypothesis printed more output than the limit "
                                                                  "allows and was stopped (flooded output)")
    assert verdict_of(replace(cell, checks=(stopped,)))[0] == "flooded output"


@pytest.mark.parametrize("ids", [
    ["..", ".", "", "a/b", "a\\b", "a..b", "bob.", "x\x00y", "rtl\u202egnp", "é" * 200],
    ["Alice", "alice", "alice-2", "ALICE", "a/b", "a_b"],
], ids=["unsafe", "collisions"])
def test_folder_names_are_safe_distinct_and_stable(ids: list[str]) -> None:
    names = folder_names(ids)
    assert folder_names(list(reversed(ids))) == names  # the order of the class folder does not matter
    assert len({n.casefold() for n in names.values()}) == len(set(ids))
    for name in names.values():
        assert name not in ("", ".", "..") and not name.startswith(".") and ".." not in name
        assert not re.search(r'[/\\\x00-\x1f\x7f<>:"|?*\u202e]', name) and len(name.encode()) <= 100
    if "alice-2" in ids:  # safe ids keep their names; the others get the next free suffix, in sorted order
        assert names == {"ALICE": "ALICE", "Alice": "Alice-3", "a/b": "a_b-2", "a_b": "a_b", "alice": "alice-4",
                         "alice-2": "alice-2"}
    assert safe_name("..") == "__"


# --- the class folder is never left -----------------------------------------------------------


@pytest.fixture(scope="module")
def awkward_class(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One batch over links out of the class folder, a pipe, a zipped link (eve ... kim), a broken notebook (liz), and an
    entry whose output folder is in the way (alice, bob, carl): one worker start for both tests."""
    root = tmp_path_factory.mktemp("awkward")
    klass, out, outside = root / "class", root / "out", root / "outside"
    klass.mkdir()
    outside.mkdir()
    shutil.copy(SOLUTION, outside / "lab2.py")
    (klass / "eve.py").symlink_to(SOLUTION)  # the entry itself
    (klass / "fay").mkdir()
    (klass / "fay" / "lab2.py").symlink_to(SOLUTION)  # a file inside a student's folder
    (klass / "hal").symlink_to(outside, target_is_directory=True)  # a whole folder elsewhere
    os.mkfifo(klass / "jay.py")  # reading it would block the batch for ever
    link = zipfile.ZipInfo("gus/lab2.py")  # a zip member that is a symbolic link to the solution
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(klass / "gus.zip", "w") as zf:
        zf.writestr(link, str(SOLUTION))
    (klass / "kim" / "drafts").mkdir(parents=True)
    shutil.copy(SOLUTION, klass / "kim" / "drafts" / "final.py")
    (klass / "kim" / "lab2.py").symlink_to(klass / "kim" / "drafts" / "final.py")  # inside the class folder: fine
    (klass / "liz.ipynb").write_text("{not json", encoding="utf-8")  # unreadable, in the worker's scratch copy
    (klass / "max.zip").write_bytes(b"not a zip at all\n")  # unreadable, unzipped in the worker
    zipfile.ZipFile(klass / "ned.zip", "w").close()  # a zip with nothing in it
    shutil.copy(SOLUTION, klass / "alice.py")
    nothing_gradable(klass / "bob")
    nothing_gradable(klass / "carl")
    (out / "students").mkdir(parents=True)
    (out / "students" / "bob").write_text("left over from something else\n")  # in the way of bob's folder
    return batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1", *LIMITS, timeout=240), out


def test_links_out_of_the_class_folder_are_not_followed(awkward_class: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = awkward_class
    found = students(out)
    for student, shown in (("eve", "eve.py"), ("fay", "fay/lab2.py"), ("hal", "hal")):
        assert (found[student]["verdict"], found[student]["score"]) == ("unreadable", 0), found[student]
        assert found[student]["message"] == f"{shown} is a symbolic link to outside the class folder; it was not followed"
    assert found["jay"]["verdict"] == "unreadable" and "not a regular file" in found["jay"]["message"]
    assert found["gus"]["score"] == 0 and found["gus"]["verdict"] == "raised errors"  # the link's text, not the solution
    assert found["kim"]["score"] == 25
    # Named as handed in: the worker's scratch folder has a random name, and two runs would differ.
    assert found["liz"]["verdict"] == "unreadable" and found["liz"]["message"].startswith("cannot read liz.ipynb: ")
    assert found["max"]["verdict"] == "unreadable" and found["max"]["message"].startswith("cannot read max.zip: not a "
                                                                                          "readable zip"), found["max"]
    # An empty zip was a grader error (exit 3 on every run, never remembered) naming a random scratch folder.
    assert (found["ned"]["verdict"], found["ned"]["message"]) == ("unreadable", "cannot read ned.zip: the zip is empty")
    assert "grader-entry" not in (out / "results.json").read_text(encoding="utf-8")


# --- one entry never ends the batch ------------------------------------------------------------


def test_an_entry_that_cannot_be_written_is_a_grader_error_and_the_batch_goes_on(
        awkward_class: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = awkward_class
    assert proc.returncode == 3, proc.stderr
    assert "grader error" in one_line_of_stderr(proc) and "bob" in proc.stderr
    found = students(out)
    assert (found["alice"]["verdict"], found["alice"]["score"]) == ("ok", 25)
    assert found["bob"]["verdict"] == "grader error"
    assert found["bob"]["message"].endswith("students/bob: it exists and is not a folder")
    assert found["carl"]["verdict"] == "no gradable file"
    assert [v["verdict"] for k, v in found.items() if k != "bob"].count("grader error") == 0
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        assert [row["student"] for row in csv.DictReader(f)] == ["alice", "bob", "carl", "eve", "fay", "gus", "hal",
                                                                 "jay", "kim", "liz", "max", "ned"]


def test_an_entry_the_grader_could_not_run_is_graded_again_by_the_next_run(tmp_path: Path) -> None:
    """Limits too tight for the sandboxed Python to reach the student's code (--processes 2) make that
    entry a "grader error" that costs the student no points; a batch run again with the same options
    grades that entry again instead of keeping the failure (a graded entry is kept: see test_batch)."""
    klass, out = tmp_path / "class", tmp_path / "out"
    klass.mkdir()
    shutil.copy(SOLUTION, klass / "ann.py")
    options = (klass, "--lab", "lab2", "--out", out, "--jobs", "1", "--processes", "2", *LIMITS)

    first = batch(*options)
    assert first.returncode == 3 and "ann" in one_line_of_stderr(first), first.stderr
    record = json.loads((out / "students/ann/record.json").read_text(encoding="utf-8"))
    assert (record["verdict"], record["score"]) == ("grader error", 0), record
    assert "ended before the submission's code started" in record["message"]

    again = batch(*options)
    assert again.returncode == 3, again.stderr
    regraded = json.loads((out / "students/ann/record.json").read_text(encoding="utf-8"))
    assert regraded["verdict"] == "grader error" and regraded["seconds"] != record["seconds"], (record, regraded)


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_entries_past_their_deadline_are_stopped_and_leave_nothing() -> None:
    """A `.py` whose top level and a notebook whose cell sleep far longer than the entry deadline, well
    within the cell limit: only the batch's deadline can stop them, their processes must not outlive
    them, and the batch goes on. Both go to workers that have already graded a notebook: nbclient
    resets SIGTERM to the default while a kernel runs, and a worker forked from the fork server leaves
    without atexit handlers; either way a worker's folders (its entry's scratch, its runs', its warm
    sandbox's) used to outlive it. Afterwards nothing of the grader is left in TMPDIR."""
    scratch = Path(tempfile.mkdtemp(prefix="gbs-", dir="/tmp"))  # short: a deep TMPDIR is not used for runs
    token = f"{600 + uuid.uuid4().int % 10_000 / 10_000:.4f}"  # sleeps no other process has
    sleeps = {"yan": f"{token}1", "zed": f"{token}2"}
    try:
        klass, out, temporary = scratch / "class", scratch / "out", scratch / "t"
        klass.mkdir()
        temporary.mkdir()
        for name in ("alice", "bob"):
            shutil.copy(ROOT / "solutions/lab2/lab2.ipynb", klass / f"{name}.ipynb")
        (klass / "yan.py").write_text(f"import subprocess\nsubprocess.run(['sleep', '{sleeps['yan']}'])\n",
                                      encoding="utf-8")
        stuck = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            f"import subprocess\nsubprocess.run(['sleep', '{sleeps['zed']}'])")])
        nbformat.write(stuck, klass / "zed.ipynb")
        started = time.monotonic()
        proc = subprocess.Popen([str(GRADE), "batch", str(klass), "--lab", "lab2", "--out", str(out), "--jobs", "2",
                                 "--entry-timeout", "14", "--call-timeout", "3", "--cell-timeout", "300"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "TMPDIR": str(temporary)})
        seen: set[str] = set()
        try:
            while proc.poll() is None and time.monotonic() - started < 200:
                seen |= {who for who, s in sleeps.items() if _processes_with(f"sleep\0{s}")}
                time.sleep(0.2)
            _, stderr = proc.communicate(timeout=5)
        finally:
            leftovers = [pid for s in sleeps.values() for pid in _processes_with(f"sleep\0{s}")]
            for pid in leftovers:  # clean up before failing
                os.kill(pid, signal.SIGKILL)
            proc.kill()
        assert seen == {"yan", "zed"}, "a stuck entry's sleep never started: the test proves nothing"
        assert leftovers == []
        assert proc.returncode == 0, stderr
        assert time.monotonic() - started < 150  # the cell limit (300 s) did not do it
        found = students(out)
        assert [(found[s]["verdict"], found[s]["score"]) for s in ("alice", "bob", "yan", "zed")] == [
            ("ok", 25), ("ok", 25), ("timed out", 0), ("timed out", 0)]
        assert found["yan"]["message"] == ("grading this submission took longer than the batch allows one "
                                           "submission (14 s); it was stopped")
        assert sorted(p.name for p in temporary.iterdir() if p.name.startswith("grader")) == []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_ctrl_c_on_a_batch_of_notebooks_says_one_line_and_leaves_nothing(stop: str) -> None:
    """Ctrl-C while two workers grade notebooks: the batch says it was interrupted, in one line (no
    asyncio or import traceback from a worker or the fork server), and no folder of the grader stays.
    A check that the stop lands in (pytest takes what a check raises for its failure) must not keep
    the worker grading until the batch kills it. SIGTERM to `grade` alone (what `timeout`, `kill` and a
    cancelled CI job send) is the same stop: it left a copy of the whole class in $TMPDIR."""
    scratch = Path(tempfile.mkdtemp(prefix="gbi-", dir="/tmp"))
    try:
        klass, out, temporary = scratch / "class", scratch / "out", scratch / "t"
        klass.mkdir()
        temporary.mkdir()
        for i in range(16):  # (a warm notebook takes about half a second: enough to stop in the middle)
            shutil.copy(ROOT / "solutions/lab2/lab2.ipynb", klass / f"s{i:02d}.ipynb")
        proc = subprocess.Popen([str(GRADE), "batch", str(klass), "--lab", "lab2", "--out", str(out), "--jobs", "2"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                                preexec_fn=interruptible, env={**os.environ, "TMPDIR": str(temporary)})
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(out.glob("students/*/record.json")):
            time.sleep(0.1)
        time.sleep(0.5)  # into the next students' grading
        if stop == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert "Traceback" not in stderr and "interrupted; results written so far are kept" in stderr, stderr
        assert len(list(out.glob("students/*/record.json"))) < 16, "the interruption should land mid-batch"
        assert sorted(p.name for p in temporary.iterdir() if p.name.startswith(("grader", "pymp"))) == []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --- the cache: grading vs rendering ------------------------------------------------------------


def test_the_cache_key_changes_with_torch_python_and_every_limit() -> None:
    versions = environment_versions()
    assert {"python", "torch", "nbclient", "ipykernel"} <= set(versions)
    same = grading_fingerprint("lab2", versions)
    assert grading_fingerprint("lab2") == same
    limits = limits_key(Limits(), 100)
    key = cache_key("ab" * 32, "lab2", same, limits)
    for name in ("torch", "python", "nbclient", "ipykernel"):
        other = grading_fingerprint("lab2", {**versions, name: versions[name] + ".post1"})
        assert cache_key("ab" * 32, "lab2", other, limits) != key, name
    for changed in (Limits(memory_mib=1024), Limits(processes=8), Limits(disk_mib=64), Limits(open_files=64),
                    Limits(sandboxing=Sandboxing.OFF), Limits(call=5), Limits(output_chars=10)):
        assert cache_key("ab" * 32, "lab2", same, limits_key(changed, 100)) != key, changed
    assert cache_key("ab" * 32, "lab2", same, limits_key(Limits(), 200)) != key  # the entry deadline


def test_a_rendering_change_rerenders_without_running_student_code(tmp_path: Path) -> None:
    """An upgrade that changes a template: reports are written again from the records, no student
    code runs. One that changes what grades (here: a bug in the reference solution) grades again, and
    the bug is a "grader error" with exit status 3. (A copy of the grader package is changed, as an
    upgrade would; --unsandboxed lets the submission leave a mark each time it runs.)"""
    copy = tmp_path / "grader-copy"
    shutil.copytree(ROOT / "grader", copy / "grader", ignore=shutil.ignore_patterns("__pycache__", "_course"))
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder, copy / folder)
    klass, out, marker = tmp_path / "class", tmp_path / "out", tmp_path / "ran.log"
    klass.mkdir()
    (klass / "ann.py").write_text(SOLUTION.read_text(encoding="utf-8")
                                  + f"\n\nwith open({str(marker)!r}, 'a') as _mark:\n    _mark.write('ran\\n')\n",
                                  encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(copy)}
    command = [sys.executable, "-m", "grader", "batch", str(klass), "--lab", "lab2", "--out", str(out),
               "--jobs", "1", "--unsandboxed", *LIMITS]

    def run(status: int = 0) -> dict:  # type: ignore[type-arg]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
        assert proc.returncode == status, proc.stderr
        return students(out)["ann"]

    assert run()["score"] == 25
    assert marker.read_text() == "ran\n"
    report = out / "students" / "ann" / "report.html"
    assert "rendering changed" not in report.read_text(encoding="utf-8")
    template = copy / "grader" / "templates" / "report.html.j2"
    template.write_text(template.read_text(encoding="utf-8") + "<!-- rendering changed -->\n", encoding="utf-8")
    assert run()["score"] == 25
    assert marker.read_text() == "ran\n"  # no student code ran
    assert "<!-- rendering changed -->" in report.read_text(encoding="utf-8")  # yet the report is the new one
    reference = copy / "solutions" / "lab2" / "lab2.py"
    reference.write_text(reference.read_text(encoding="utf-8")
                         + "\n\ndef hypothesis(x, W, b):\n    raise RuntimeError('a bug in the reference')\n",
                         encoding="utf-8")
    ann = run(status=3)
    assert marker.read_text() == "ran\nran\n"  # what grades changed: graded again
    assert ann["verdict"] == "grader error" and ann["message"].startswith("hypothesis."), ann["message"]


def test_entries_with_nothing_to_run_start_no_worker(tmp_path: Path) -> None:
    """Folders without a gradable file get their verdict in the main process: no worker, no
    student process. The lab's check list (the gradebook's columns and points) is loaded once,
    then read from the user's cache, keyed by the grading fingerprint."""
    klass = tmp_path / "class"
    klass.mkdir()
    for name in ("ann", "ben"):
        nothing_gradable(klass / name)
    (klass / "cat").mkdir()
    for name in ("a.py", "b.py"):  # two candidates, neither named lab2.py
        (klass / "cat" / name).write_text("x = 1\n", encoding="utf-8")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    runs = []
    for out in ("first", "second"):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "grader", "batch", str(klass), "--lab", "lab2",
                               "--out", str(tmp_path / out), "--jobs", "2", *LIMITS], capture_output=True, text=True,
                              timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs.append(re.findall(r"^import time:.*\|\s+(\S+)$", proc.stderr, re.M))
    # One Python process (no worker): it imports torch the first time, for the check list, not the second.
    assert runs[0].count("encodings") == 1 and runs[0].count("torch") == 1, runs[0].count("encodings")
    assert runs[1].count("encodings") == 1 and "torch" not in runs[1] and "grader.batch.execute" in runs[1]
    verdicts = {s: r["verdict"] for s, r in students(tmp_path / "second").items()}
    assert verdicts == {"ann": "no gradable file", "ben": "no gradable file", "cat": "no gradable file"}
    assert "none named lab2.ipynb or lab2.py: cat/a.py, cat/b.py" in students(tmp_path / "second")["cat"]["message"]
    assert all(s["max_score"] == 25 for s in students(tmp_path / "second").values())
    assert (tmp_path / "first" / "gradebook.csv").read_bytes() == (tmp_path / "second" / "gradebook.csv").read_bytes()


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"" for p in sorted(folder.rglob("*"))}


def test_an_output_folder_the_batch_would_grade_or_overwrite_is_refused(tmp_path: Path) -> None:
    """`--out` inside the class folder made the next batch grade the output as a student; a folder
    holding the class, or someone's own files (say, a notes folder with an index.html), had files
    overwritten. Each is one line and exit 2, before anything is written. A new or empty folder,
    one holding only hidden files, and a batch's own earlier output are used."""
    klass = tmp_path / "class"
    klass.mkdir()
    nothing_gradable(klass / "ann")
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "index.html").write_text("<p>my own page</p>\n", encoding="utf-8")
    before = _tree(tmp_path)
    for out, says in ((klass / "out", f"--out {klass / 'out'} is inside the class folder {klass}: "),
                      (klass, f"--out {klass} is inside the class folder {klass}: "),
                      (tmp_path, f"--out {tmp_path} holds the class folder {klass}; "),
                      (mine, f"--out {mine} already holds files that are not a batch's output (index.html); ")):
        proc = batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1", *LIMITS)
        assert proc.returncode == 2, proc.stderr
        assert one_line_of_stderr(proc).startswith(f"grade: error: {says}")
    proc = subprocess.run([str(GRADE), "merge", str(tmp_path / "nowhere"), "--out", str(mine)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "already holds files that are not a batch's output" in one_line_of_stderr(proc)
    assert _tree(tmp_path) == before
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    (quiet / ".keep").write_text("", encoding="utf-8")
    for out in (tmp_path / "new", quiet, tmp_path / "new"):  # the last: the batch's own output, graded again
        proc = batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1", *LIMITS)
        assert proc.returncode == 0, proc.stderr
        assert students(out)["ann"]["verdict"] == "no gradable file"


def test_the_check_list_cache_is_used_only_when_well_formed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache file that is not exactly a non-empty list of checks is a miss (the suite is loaded
    instead), and a fingerprint read from a shard's files never names a path outside the cache."""
    from grader.batch.records import LabChecks

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    checks = LabChecks("lab2", "0123456789abcdef")
    path = checks._cache_file()
    assert path == tmp_path / "grader" / "checks-lab2-0123456789abcdef.json"
    assert path is not None
    path.parent.mkdir(parents=True)
    good = CheckResult(name="f.x", function="f", title="t", status=Status.PASSED, score=0.0, max_score=2.0, message="")
    for text in ("[]", "{}", "[1]", "not json", json.dumps([{**good.to_dict(), "max_score": "2"}])):
        path.write_text(text, encoding="utf-8")
        assert checks._cached() is None, text
    path.write_text(json.dumps([good.to_dict()]), encoding="utf-8")
    assert checks._cached() == [good]
    assert LabChecks("lab2", "../../../../tmp/x")._cache_file() is None
    assert LabChecks("../lab2", "0123456789abcdef")._cache_file() is None
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # the XDG spec: ignored
    assert LabChecks("lab2", "0123456789abcdef")._cache_file() == Path.home() / ".cache" / "grader" / path.name


# --- grade merge ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Shards 1/3 and 3/3 of a class, shard 2/3 graded with another call limit, 3/3 of lab 1."""
    root = tmp_path_factory.mktemp("shards")
    klass = root / "class"
    klass.mkdir()
    for name in ("ann", "ben", "cat", "dan", "eli"):
        nothing_gradable(klass / name)
    made = {}
    for name, extra in (("1", ()), ("3", ()), ("2-other-limits", ("--call-timeout", "4")),
                        ("3-lab1", ("--lab", "lab1"))):
        out = root / f"shard{name}"
        args = ["--lab", "lab2", *LIMITS, *extra]
        proc = batch(klass, *args, "--out", out, "--shard", f"{name[0]}/3", "--jobs", "1")
        assert proc.returncode == 0, proc.stderr
        made[name] = out
    return made


def merge(*folders: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GRADE), "merge", *map(str, folders), "--out", str(out)], capture_output=True,
                          text=True, timeout=120)


def test_merge_says_which_shard_is_missing(shards: dict[str, Path], tmp_path: Path) -> None:
    proc = merge(shards["1"], shards["3"], out=tmp_path / "merged")
    assert proc.returncode == 2
    assert one_line_of_stderr(proc) == "grade: error: cannot merge: shard 2/3 is missing"
    assert not (tmp_path / "merged" / "gradebook.csv").exists()
    proc = merge(shards["3"], out=tmp_path / "merged")
    assert one_line_of_stderr(proc) == "grade: error: cannot merge: shards 1/3 and 2/3 are missing"
    proc = merge(shards["1"], shards["3"], shards["3"], out=tmp_path / "merged")
    assert "shard 3/3 is given twice" in one_line_of_stderr(proc)


@pytest.mark.parametrize(("other", "what"), [("2-other-limits", "limits"), ("3-lab1", "lab"),
                                             ("old-grader", "grader version")])
def test_merge_refuses_shards_graded_differently(shards: dict[str, Path], tmp_path: Path, other: str, what: str) -> None:
    if other == "old-grader":  # another machine with an older grader: its results.json says so
        shutil.copytree(shards["3"], tmp_path / other)
        summary = tmp_path / other / "results.json"
        summary.write_text(summary.read_text(encoding="utf-8").replace('"grader_version": "', '"grader_version": "0.0.1-'))
        folder = tmp_path / other
    else:
        folder = shards[other]
    proc = merge(shards["1"], folder, out=tmp_path / "merged")
    assert proc.returncode == 2
    assert f"were graded with different {what} (" in one_line_of_stderr(proc)
    assert not (tmp_path / "merged").exists()


def test_merge_never_writes_into_a_folder_it_merges(shards: dict[str, Path]) -> None:
    """`grade merge s1 s2 --out s1` (a slip in a glob: `grade merge s*/ --out s1`) turned shard 1 into a
    whole batch holding shard 2's students; a later merge then said s1 was "a whole batch"."""
    first = shards["1"]
    before = _tree(first)
    for out in (first, first / "merged", first.parent):
        proc = merge(first, shards["3"], out=out)
        assert proc.returncode == 2, proc.stderr
        assert one_line_of_stderr(proc) == (f"grade: error: cannot merge into {out}: it is, holds or lies inside "
                                            f"{first}, one of the folders merged; choose another --out")
    assert _tree(first) == before


def test_another_labs_batch_is_never_overwritten(tmp_path: Path) -> None:
    """`--lab lab3` over a lab 2 output folder replaced every file of it with lab 3's 0/20s, without a word."""
    klass, out = tmp_path / "class", tmp_path / "out"
    klass.mkdir()
    nothing_gradable(klass / "ann")
    assert batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1").returncode == 0
    before = _tree(out)
    proc = batch(klass, "--lab", "lab3", "--out", out, "--jobs", "1")
    assert proc.returncode == 2
    assert one_line_of_stderr(proc) == (f"grade: error: --out {out} holds a batch of lab2; grading lab3 into it "
                                        "would replace that batch's files: choose another folder")
    assert _tree(out) == before
    assert batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1").returncode == 0  # its own lab: fine
    # A batch stopped before its end has no results.json yet: its students' records say the lab.
    shutil.copy(ROOT / "solutions/lab2/lab2.py", klass / "amy.py")
    assert batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1", *LIMITS).returncode == 0
    (out / "results.json").unlink()
    before = _tree(out)
    proc = batch(klass, "--lab", "lab3", "--out", out, "--jobs", "1")
    assert proc.returncode == 2 and "holds a batch of lab2; grading lab3 into it" in one_line_of_stderr(proc)
    assert _tree(out) == before


def test_an_empty_class_folder_is_warned_about(tmp_path: Path) -> None:
    """An empty class folder (a wrong path, a download that failed) gave "graded 0 submissions", exit 0,
    without a word."""
    klass = tmp_path / "class"
    klass.mkdir()
    (klass / ".DS_Store").write_text("", encoding="utf-8")
    proc = batch(klass, "--lab", "lab2", "--out", tmp_path / "out", "--jobs", "1")
    assert proc.returncode == 0
    assert f"grade: warning: {klass} holds no submissions" in proc.stderr.splitlines()
    nothing_gradable(klass / "ann")
    proc = batch(klass, "--lab", "lab2", "--out", tmp_path / "out", "--jobs", "1", "--shard", "1/2")
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr  # an empty shard of a class is fine


def test_merge_renders_every_students_files_in_the_language_asked(tmp_path: Path) -> None:
    """`grade merge --lang ko` rendered only the class files in Korean: the students' reports stayed as
    the shards had them (English)."""
    klass = tmp_path / "class"
    klass.mkdir()
    shutil.copy(ROOT / "solutions/lab2/lab2.py", klass / "amy.py")
    for name in ("ben", "cat", "dan"):
        nothing_gradable(klass / name)
    for k in (1, 2):
        assert batch(klass, "--lab", "lab2", "--out", tmp_path / f"s{k}", "--shard", f"{k}/2", "--jobs", "1",
                     *LIMITS).returncode == 0
    proc = subprocess.run([str(GRADE), "merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out",
                           str(tmp_path / "ko"), "--lang", "ko"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    ko = tmp_path / "ko"
    assert '<html lang="ko"' in (ko / "students/amy/report.html").read_text(encoding="utf-8")
    for name in ("amy", "ben", "cat", "dan"):
        assert json.loads((ko / "students" / name / "record.json").read_text("utf-8"))["rendering"].endswith(":ko")
        assert "채점" in (ko / "students" / name / "gradescope_results.json").read_text("utf-8"), name
    assert students(ko)["amy"]["score"] == 25
    english = tmp_path / "en"
    assert merge(tmp_path / "s1", tmp_path / "s2", out=english).returncode == 0
    assert '<html lang="en"' in (english / "students/amy/report.html").read_text(encoding="utf-8")
    # Merged into an earlier batch's output (another class's): its students move to removed/, as a batch's do.
    earlier = tmp_path / "earlier"
    other = tmp_path / "other"
    other.mkdir()
    nothing_gradable(other / "zed")
    assert batch(other, "--lab", "lab2", "--out", earlier, "--jobs", "1").returncode == 0
    assert merge(tmp_path / "s1", tmp_path / "s2", out=earlier).returncode == 0
    assert sorted(p.name for p in (earlier / "students").iterdir()) == ["amy", "ben", "cat", "dan"]
    assert sorted(p.name for p in (earlier / "removed").iterdir()) == ["zed"]


# --- the documented CI workflow -------------------------------------------------------------------


def test_the_documented_workflow_has_a_read_only_token_left_nowhere_and_a_working_sandbox() -> None:
    text = (ROOT / "docs" / "batch.md").read_text(encoding="utf-8")
    workflow = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert workflow is not None
    lines = [line.strip() for line in workflow.group(1).splitlines()]
    assert "permissions:" in lines and lines[lines.index("permissions:") + 1] == "contents: read"
    checkouts = [i for i, line in enumerate(lines) if line.endswith("uses: actions/checkout@v4")]
    assert len(checkouts) == 2  # the grading jobs and the merge job
    for i in checkouts:
        assert lines[i + 1: i + 3] == ["with:", "persist-credentials: false"], lines[i: i + 3]
    install = lines.index("- run: sudo apt-get install -y bubblewrap")
    sysctl = lines.index("- run: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0")
    grading = next(i for i, line in enumerate(lines) if line.startswith("- run: grade batch"))
    assert install < grading and sysctl < grading
    assert any("setting up uid map: Permission denied" in line for line in lines[sysctl - 3: sysctl])  # says why


def test_a_worker_takes_its_batchs_environment_not_the_fork_servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers fork from a fork server that lives as long as the process that started it, with the
    environment of the first batch. A later batch in the same process (here: with GRADER_LABS naming an
    instructor's lab the first batch did not have) must run with its own."""
    from grader.batch.entries import Entry
    from grader.batch.workers import Job, entry_deadline, run_entries
    from grader.config import Limits

    def entry(path: Path) -> Entry:
        return Entry(student="s", folder="s", name=path.name, files=((path, path.name),), sha256="0")

    limits = Limits()
    first = list(run_entries([(entry(ROOT / "solutions/lab2/lab2.py"), "k")], Job("lab2", limits, entry_deadline(limits, 26)), 2))
    assert [r.verdict for r in first] == ["ok"] and first[0].result is not None
    assert first[0].result.score == first[0].result.max_score
    labs = tmp_path / "labs"
    shutil.copytree(ROOT / "docs/example-lab/logistic", labs / "logistic")
    monkeypatch.setenv("GRADER_LABS", str(labs))
    solution = labs / "logistic/solution/logistic.py"
    second = list(run_entries([(entry(solution), "k")], Job("logistic", limits, entry_deadline(limits, 20)), 2))
    assert [r.verdict for r in second] == ["ok"], second
    assert second[0].result is not None and second[0].result.score == second[0].result.max_score > 0
