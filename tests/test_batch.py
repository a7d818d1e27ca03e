"""`grade batch` over a mixed class: verdicts, gradebook rows, resume, shards and merge, zips."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import GRADE, ROOT, SUBMISSIONS, apply_override, interruptible

SOLUTION = ROOT / "solutions" / "lab2"
OVERRIDES = SUBMISSIONS / "lab2" / "overrides"
LIMITS = ("--call-timeout", "3", "--cell-timeout", "8")  # the solution's cells take under 0.5 s; gina's hangs


def batch(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GRADE), "batch", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def made(kind: str, override: str, dest: Path, name: str) -> Path:
    """A submission built from the solution with one override, saved as `name` in `dest`."""
    with_override = apply_override(OVERRIDES / f"{override}.py", kind, dest)
    return with_override.rename(dest / name)


def tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        digest.update(f.relative_to(folder).as_posix().encode())
        if f.is_file():
            digest.update(f.read_bytes())
    return digest.hexdigest()


def gradebook(out: Path) -> list[dict[str, str]]:
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def mixed_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class")
    scratch = tmp_path_factory.mktemp("scratch")
    saved = json.loads((SOLUTION / "lab2.ipynb").read_text(encoding="utf-8"))  # correct, its cells without ids:
    for cell in saved["cells"]:  # nbformat warns about those, which a batch's output must not show
        del cell["id"]
    (root / "alice.ipynb").write_text(json.dumps(saved), encoding="utf-8")
    made("py", "sum_instead_of_mean", scratch, "bob.py").replace(root / "bob.py")  # wrong
    (root / "carol").mkdir()  # a folder whose notebook kills its kernel in one cell
    made("ipynb", "os_exit_at_import", scratch, "lab2.ipynb").replace(root / "carol" / "lab2.ipynb")
    with zipfile.ZipFile(root / "dave.zip", "w") as zf:  # a zip of one student's files
        zf.write(SOLUTION / "lab2.py", "dave/lab2.py")
    (root / "erin").mkdir()  # an empty folder
    (root / "erin" / "notes.txt").write_text("I will hand it in tomorrow\n")
    (root / "frank.py").write_text("def hypothesis(x, W, b:\n    return x * W + b\n")  # syntax error
    made("ipynb", "hangs_at_import", scratch, "gina.ipynb").replace(root / "gina.ipynb")  # hangs in a cell
    made("py", "runaway_function", scratch, "hank.py").replace(root / "hank.py")  # one function hangs
    made("py", "floods_output", scratch, "ivan.py").replace(root / "ivan.py")  # prints without end
    shutil.copy(SOLUTION / "lab2.py", root / "kim_minsu_12345_lab2.py")  # an LMS download name
    made("py", "trains_to_overflow", scratch, "mallory.py").replace(root / "mallory.py")  # pictures overflow
    return root


@pytest.fixture(scope="module")
def graded_class(mixed_class: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str], str]:
    out = tmp_path_factory.mktemp("out")
    before = tree_hash(mixed_class)
    proc = batch(mixed_class, "--lab", "lab2", "--out", out, "--jobs", "2", "--id-pattern", r"_(?P<id>\d+)_", *LIMITS)
    return out, proc, before


EXPECTED = {  # student -> (score, verdict)
    "12345": (25, "ok"),
    "alice": (25, "ok"),
    "bob": (22, "ok"),  # sum instead of mean: train_step and train carried forward
    "carol": (25, "kernel died"),
    "dave": (25, "ok"),
    "erin": (0, "no gradable file"),
    "frank": (0, "raised errors"),
    "gina": (25, "timed out"),
    "hank": (19, "timed out"),
    "ivan": (10, "flooded output"),
    "mallory": (19, "ok"),  # train: finite answers, pictures past the floats (left out, not a crash)
}


def test_every_submission_gets_a_verdict(graded_class: tuple[Path, subprocess.CompletedProcess[str], str]) -> None:
    out, proc, _ = graded_class
    assert proc.returncode == 0, proc.stderr
    # Libraries' warnings (nbformat's about cell ids) are not the instructor's business; the names
    # --id-pattern found no id in are: one line.
    assert proc.stderr == ("grade: warning: --id-pattern found no id in 10 of the class's names, which are their own "
                           "ids: alice.ipynb, bob.py, carol, dave.zip, erin, ...\n")
    results = json.loads((out / "results.json").read_text())
    verdicts = {s["student"]: (s["score"], s["verdict"]) for s in results["students"]}
    assert verdicts == EXPECTED
    assert results["lab"] == "lab2" and results["grader_version"]
    graded = {s["student"]: s for s in results["students"] if s["result"]}
    assert len(graded["alice"]["result"]["submission"]["sha256"]) == 64
    assert graded["dave"]["result"]["submission"]["file"] == "dave.zip/dave/lab2.py"
    # A .py is graded under the name it was handed in with: its errors name frank.py, not the working copy.
    frank = graded["frank"]
    assert "(frank.py, line 1)" in frank["message"] and "lab2.py" not in json.dumps(frank), frank["message"]
    assert [i["where"] for i in frank["result"]["issues"]] == ["frank.py"]


def test_gradebook_rows(graded_class: tuple[Path, subprocess.CompletedProcess[str], str]) -> None:
    out, _, _ = graded_class
    rows = gradebook(out)
    assert [r["student"] for r in rows] == sorted(EXPECTED)
    header = list(rows[0])
    assert header[:3] == ["student", "score", "max_score"] and "mse_cost.lesson_values" in header
    assert header[-1] == "isolation"
    for row in rows:
        score, _ = EXPECTED[row["student"]]
        assert float(row["score"]) == score and float(row["max_score"]) == 25
        assert sum(float(row[c]) for c in header[3:-1]) == score
        assert row["isolation"].startswith("bubblewrap; limits: ") or row["student"] == "erin"  # erin: nothing ran
    bob = next(r for r in rows if r["student"] == "bob")
    assert float(bob["mse_cost.lesson_values"]) == 0 and float(bob["hypothesis.lesson_values"]) == 2


def test_per_student_files_and_class_files(graded_class: tuple[Path, subprocess.CompletedProcess[str], str]) -> None:
    out, _, _ = graded_class
    for name in ("gradebook.csv", "results.json", "junit.xml", "index.html"):
        assert (out / name).is_file()
    alice = out / "students" / "alice"
    assert (alice / "report.html").is_file() and json.loads((alice / "result.json").read_text())["score"] == 25
    gradescope = json.loads((alice / "gradescope_results.json").read_text())
    assert gradescope["score"] == 25 and all(t["status"] == "passed" for t in gradescope["tests"])
    assert json.loads((out / "students" / "erin" / "gradescope_results.json").read_text())["score"] == 0
    index = (out / "index.html").read_text()
    assert "students/alice/report.html" in index and "no gradable file" in index
    mallory = (out / "students" / "mallory" / "report.html").read_text(encoding="utf-8")
    assert "train" in mallory and "<svg" not in mallory  # the pictures that would overflow are left out


def test_a_korean_class_gets_every_file_in_korean_without_grading_again(
        mixed_class: Path, graded_class: tuple[Path, subprocess.CompletedProcess[str], str], tmp_path: Path) -> None:
    """--lang ko over the graded class (a copy of its output): the reports are rendered again from the
    records, no student code runs, and the summary line's verdicts, the class index's entry problems and
    every student's Gradescope file read in Korean (they were English whatever --lang said)."""
    out = tmp_path / "out"
    shutil.copytree(graded_class[0], out)
    started = time.monotonic()
    proc = batch(mixed_class, "--lab", "lab2", "--out", out, "--jobs", "2", "--id-pattern", r"_(?P<id>\d+)_", *LIMITS,
                 "--lang", "ko")
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 30  # rendered, not graded: no kernel, no hang
    english = re.compile(r"\b(?!lab2\b)[A-Za-z]{3,}\b")  # any English word, once paths and file names are out
    summary = proc.stdout.replace(str(out), "")
    assert "제출물 11개를 채점해" in summary and "시간 초과" in summary and not english.search(summary), summary
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "이 제출물에 .ipynb 파일도 .py 파일도 없습니다" in index and "no .ipynb or .py file" not in index
    for student in EXPECTED:
        folder = "12345" if student == "12345" else student
        data = json.loads((out / "students" / folder / "gradescope_results.json").read_text(encoding="utf-8"))
        words = data["output"] + "".join(t["name"] + t["output"] for t in data["tests"] if t["status"] == "failed")
        assert re.search("[\uac00-\ud7a3]", data["output"]), (student, data["output"])
        for sentence in ("Graded ", "Not graded", "While your code ran", "Expected:", "Your result:", "Looks like"):
            assert sentence not in words, (student, sentence, words[:2000])


def test_submissions_are_never_modified(mixed_class: Path, graded_class: tuple[Path, subprocess.CompletedProcess[str], str]) -> None:
    assert tree_hash(mixed_class) == graded_class[2]


def test_rerun_reuses_everything_and_writes_the_same_gradebook(
        mixed_class: Path, graded_class: tuple[Path, subprocess.CompletedProcess[str], str]) -> None:
    out, _, _ = graded_class
    first = (out / "gradebook.csv").read_bytes(), (out / "results.json").read_bytes(), (out / "junit.xml").read_bytes()
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "grader", "batch", str(mixed_class), "--lab", "lab2",
                           "--out", str(out), "--jobs", "2", "--id-pattern", r"_(?P<id>\d+)_", *LIMITS],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert time.monotonic() - started < 30  # nothing was graded again: no kernel, no hang
    imported = re.findall(r"^import time:.*\|\s+(\S+)$", proc.stderr, re.M)
    assert "grader.batch.execute" in imported and "torch" not in imported  # not even the suite was loaded
    assert ((out / "gradebook.csv").read_bytes(), (out / "results.json").read_bytes(),
            (out / "junit.xml").read_bytes()) == first


@pytest.fixture(scope="module")
def small_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("small")
    scratch = tmp_path_factory.mktemp("small-scratch")
    for i, override in enumerate(["forgets_zero_grad", "one_epoch_too_few", "gradient_sign_flipped", "missing_square"]):
        made("py", override, scratch, f"student{i}.py").replace(root / f"student{i}.py")
    shutil.copy(SOLUTION / "lab2.py", root / "top.py")
    return root


@pytest.fixture(scope="module")
def small_reference(small_class: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small-out")
    assert batch(small_class, "--lab", "lab2", "--out", out, "--jobs", "1").returncode == 0
    return out


def test_interrupted_batch_resumes_to_an_identical_gradebook(small_class: Path, small_reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen([str(GRADE), "batch", str(small_class), "--lab", "lab2", "--out", str(out), "--jobs", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=interruptible)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("students/*/record.json"))) < 2:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    proc.communicate(timeout=120)
    finished = len(list(out.glob("students/*/record.json")))
    assert 2 <= finished < 5, "the interruption should land mid-batch"
    assert not (out / "gradebook.csv").exists()
    resumed = batch(small_class, "--lab", "lab2", "--out", out, "--jobs", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "gradebook.csv").read_bytes() == (small_reference / "gradebook.csv").read_bytes()
    assert (out / "results.json").read_bytes() == (small_reference / "results.json").read_bytes()


def test_shards_merged_equal_one_unsharded_run(small_class: Path, small_reference: Path, tmp_path: Path) -> None:
    """Each shard's output folder starts with its students' records from the unsharded run (same
    cache keys: a shard grades as the whole class does), so the shard runs select, reuse, render
    and write; grading itself is covered by the resume and rerun tests."""
    from grader.batch.execute import in_shard

    shards = []
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}"
        for record in small_reference.glob("students/*/record.json"):
            if in_shard(json.loads(record.read_text(encoding="utf-8"))["student"], (k, 3)):
                shutil.copytree(record.parent, out / "students" / record.parent.name)
        proc = batch(small_class, "--lab", "lab2", "--out", out, "--shard", f"{k}/3", "--jobs", "1")
        assert proc.returncode == 0, proc.stderr
        for record in out.glob("students/*/record.json"):  # reused as they were: the keys matched
            assert record.read_bytes() == (small_reference / "students" / record.parent.name / "record.json").read_bytes()
        shards.append(out)
    counts = [len(json.loads((s / "results.json").read_text())["students"]) for s in shards]
    assert sum(counts) == 5 and sorted(counts)[-2] > 0  # at least two shards hold students
    merged = tmp_path / "merged"
    proc = subprocess.run([str(GRADE), "merge", *map(str, shards), "--out", str(merged)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name in ("gradebook.csv", "results.json", "junit.xml"):
        assert (merged / name).read_bytes() == (small_reference / name).read_bytes(), name
    assert (merged / "students" / "top" / "report.html").is_file()


def test_a_zip_of_the_class_grades_like_the_folder(small_class: Path, small_reference: Path, tmp_path: Path) -> None:
    """Two of the class's students, zipped as an LMS download: the same entries as in the folder
    (same names, same content, hence the same cache keys: the first one's record from the folder
    run, put in the output folder first, is reused as it is), and the same rows (the second one is
    graded from the zip)."""
    chosen = sorted(small_class.iterdir())[-2:]
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in chosen:
            zf.write(f, f"lab2-submissions/{f.name}")
    out = tmp_path / "out"
    seeded = chosen[0].stem
    shutil.copytree(small_reference / "students" / seeded, out / "students" / seeded)
    assert batch(archive, "--lab", "lab2", "--out", out, "--jobs", "1").returncode == 0
    record = out / "students" / seeded / "record.json"  # reused, not graded again: the zip's entry is the folder's
    assert record.read_bytes() == (small_reference / "students" / seeded / "record.json").read_bytes()
    reference = {r["student"]: r for r in gradebook(small_reference)}
    rows = gradebook(out)
    assert [r["student"] for r in rows] == [f.stem for f in chosen]
    assert rows == [reference[f.stem] for f in chosen]


@pytest.mark.parametrize(
    "args",
    [
        ("{tmp}/nowhere", "--lab", "lab2", "--out", "{tmp}/out"),
        ("{class}", "--lab", "lab99", "--out", "{tmp}/out"),
        ("{class}", "--lab", "lab2", "--out", "{tmp}/afile/out"),
        ("{tmp}/afile", "--lab", "lab2", "--out", "{tmp}/out"),
        ("{tmp}/apipe", "--lab", "lab2", "--out", "{tmp}/out"),
        ("{class}", "--lab", "lab2", "--out", "{tmp}/out", "--shard", "3/2"),
        ("{class}", "--out", "{tmp}/out"),
    ],
    ids=["no-such-folder", "unknown-lab", "unwritable-out", "not-a-zip", "a-pipe", "bad-shard", "no-lab"],
)
def test_a_batch_that_cannot_run_exits_2(args: tuple[str, ...], small_class: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a zip")
    os.mkfifo(tmp_path / "apipe")  # nothing writes to it: reading it would wait for ever
    real = [a.format(tmp=tmp_path, **{"class": small_class}) for a in args]
    proc = batch(*real)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr  # the input's fault, said so
    assert not (tmp_path / "out").exists()  # a batch that could not run leaves no empty output folder
    korean = batch(*real, "--lang", "ko")  # the same line in Korean, for an instructor who asked for it
    assert korean.returncode == 2 and korean.stderr.startswith("grade: 오류: "), korean.stderr
    words = korean.stderr.removeprefix("grade: 오류: ").replace(str(tmp_path), "").replace(str(small_class), "")
    words = re.sub(r"\([^()]*\)|'[^']*'", "", words)  # a library's own error, a value quoted, stay as they were
    assert re.search("[\uac00-\ud7a3]", words) and not re.search(r"\b(the|is|not|no|a|takes)\b", words), korean.stderr


def test_students_no_longer_in_the_class_are_moved_aside_not_left_or_deleted(tmp_path: Path) -> None:
    """--out graded before for a class with bob: run again without him (or for another class), and
    students/ holds this class's folders only (uploading students/* must not upload bob's old result);
    bob's folder moves to removed/ (nothing is deleted), a later one of the same name beside it."""
    klass, out = tmp_path / "class", tmp_path / "out"

    def class_of(*names: str) -> None:
        shutil.rmtree(klass, ignore_errors=True)
        for name in names:  # (no gradable file: a verdict without running anything)
            (klass / name).mkdir(parents=True)
            (klass / name / "notes.txt").write_text(f"{name}'s notes\n", encoding="utf-8")

    class_of("alice", "bob")
    assert batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1").returncode == 0
    bob = (out / "students/bob/record.json").read_bytes()
    class_of("alice", "carol")
    done = batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (out / "students").iterdir()) == ["alice", "carol"]
    assert (out / "removed/bob/record.json").read_bytes() == bob
    assert (f"moved the folders of 1 student(s) not in this class from {out / 'students'} to {out / 'removed'}: bob"
            in done.stderr.splitlines()), done.stderr  # one line: it was wrapped mid-path on a pipe
    class_of("bob")
    batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1")
    class_of("alice")
    batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1", "--lang", "ko")
    assert sorted(p.name for p in (out / "students").iterdir()) == ["alice"]
    assert sorted(p.name for p in (out / "removed").iterdir()) == ["alice", "bob", "bob-2", "carol"]
    with (out / "gradebook.csv").open(encoding="utf-8") as f:
        assert [row[0] for row in csv.reader(f)][1:] == ["alice"]


def test_a_zip_without_its_utf8_flag_keeps_korean_names(tmp_path: Path) -> None:
    """Linux's `zip` writes UTF-8 names without the zip's UTF-8 flag, Korean Windows writes cp949: Python
    reads both as cp437 (김민수 came out as Ω╣Çδ»╝∞êÿ in the gradebook). Names read back as written."""
    archive = tmp_path / "class.zip"
    names = {"김민수": "utf-8", "이영희": "cp949", "bob": "ascii"}
    placeholders = {name: f"{i}" * len(name.encode(encoding)) for i, (name, encoding) in enumerate(names.items())}
    with zipfile.ZipFile(archive, "w") as zf:  # ASCII stand-ins of the same length: no flag is set for them
        for name, stand_in in placeholders.items():
            zf.writestr(f"class/{stand_in}/notes.txt", f"{name}'s notes\n")
    data = archive.read_bytes()
    for name, stand_in in placeholders.items():  # the names' own bytes in place, as those tools write them
        data = data.replace(f"class/{stand_in}/".encode(), f"class/{name}/".encode(names[name]))
    archive.write_bytes(data)
    assert all(not info.flag_bits & 0x800 for info in zipfile.ZipFile(archive).infolist())

    out = tmp_path / "out"
    done = batch(archive, "--lab", "lab2", "--out", out, "--jobs", "1")
    assert done.returncode == 0, done.stderr
    with (out / "gradebook.csv").open(encoding="utf-8") as f:
        assert sorted(row[0] for row in list(csv.reader(f))[1:]) == sorted(names)
    assert sorted(p.name for p in (out / "students").iterdir()) == sorted(names)


def test_why_a_file_was_graded_names_the_files_the_student_handed_in(tmp_path: Path) -> None:
    """dave handed in dave.py and dave.ipynb: the reason names them, not the working copies (lab2.py...).
    ben kept the kit's lab2.py beside his lab2_done.ipynb: his notebook is graded, and the reason says
    why the stub was not (it was graded, 0/25 and "ok", before)."""
    klass, out = tmp_path / "class", tmp_path / "out"
    (klass / "dave").mkdir(parents=True)
    shutil.copy(ROOT / "solutions/lab2/lab2.py", klass / "dave/dave.py")
    tried = json.loads((ROOT / "exercises/lab2/lab2.ipynb").read_text(encoding="utf-8"))
    tried["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                           "source": "print('trying')"})
    (klass / "dave/dave.ipynb").write_text(json.dumps(tried), encoding="utf-8")
    (klass / "ben").mkdir()
    shutil.copy(ROOT / "exercises/lab2/lab2.py", klass / "ben/lab2.py")
    shutil.copy(ROOT / "solutions/lab2/lab2.ipynb", klass / "ben/lab2_done.ipynb")
    done = batch(klass, "--lab", "lab2", "--out", out, "--jobs", "1")
    assert done.returncode == 0, done.stderr
    dave = json.loads((out / "students/dave/result.json").read_text(encoding="utf-8"))
    assert dave["submission"]["selection"] == (
        "dave/dave.py was graded (both dave/dave.py and dave/dave.ipynb differ from the released stubs; dave/dave.py "
        "was graded: 6 of the lab's 6 functions are written in it, against 0 in dave/dave.ipynb)"), dave["submission"]
    ben = json.loads((out / "students/ben/result.json").read_text(encoding="utf-8"))
    assert ben["submission"]["selection"] == (
        "ben/lab2_done.ipynb was graded (ben/lab2.py: the kit's untouched stub, set aside)"), ben["submission"]
    assert ben["score"] == ben["max_score"] == 25
    korean = out / "ko"
    assert batch(klass, "--lab", "lab2", "--out", korean, "--jobs", "1", "--lang", "ko").returncode == 0
    assert "ben/lab2.py: 배포된 그대로의 실습 파일이라 제외했습니다" in (korean / "students/ben/report.html").read_text("utf-8")
