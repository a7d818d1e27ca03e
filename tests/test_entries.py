"""Which file of a student's entry a batch grades, read from real files on disk (nothing is run here)."""

from __future__ import annotations

import json
import re
import shutil
import warnings
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from grader.batch.entries import EntryProblem, OtherLabWarning, discover, gather, named_for_another_lab, settle
from grader.labs import load_lab

SOLUTION, STUB = ROOT / "solutions" / "lab2", ROOT / "exercises" / "lab2"
LAB2 = load_lab("lab2")


def put(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)


def wrong_notebook(dest: Path) -> None:
    """The solution notebook with a cell more: a student's own file, whose code differs from the solution's."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    saved = json.loads((SOLUTION / "lab2.ipynb").read_text(encoding="utf-8"))
    saved["cells"].append({"cell_type": "code", "execution_count": None, "id": "draft", "metadata": {}, "outputs": [],
                           "source": "print('a draft')"})
    dest.write_text(json.dumps(saved), encoding="utf-8")


def only_entry(klass: Path, pattern: str | None = None) -> list:
    return discover(klass, re.compile(pattern) if pattern else None)


def gathered(klass: Path, tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    """{working copy: the file it came from} for the class's one entry, as a worker gathers it, and what
    the choice says about the files it did not grade."""
    (entry,) = only_entry(klass)
    assert settle(entry, LAB2) is None
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    folder, origins, choice = gather(entry, LAB2, scratch)
    assert sorted(p.name for p in folder.iterdir()) == sorted(origins)
    return origins, choice.notes()


def graded_files(klass: Path, tmp_path: Path) -> dict[str, str]:
    origins, notes = gathered(klass, tmp_path)
    assert notes == []
    return origins


def problem_of(klass: Path, tmp_path: Path) -> EntryProblem:
    (entry,) = only_entry(klass)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(EntryProblem) as raised:
        gather(entry, LAB2, scratch)
    settled = settle(entry, LAB2)
    assert settled is None or settled.message == raised.value.message  # (settle leaves zips to gather)
    return raised.value


def test_two_different_files_named_for_the_lab_at_one_depth_are_not_picked_between(tmp_path: Path) -> None:
    """amy/draft/lab2.ipynb sorted before amy/final/lab2.ipynb and was graded, the final one ignored."""
    klass = tmp_path / "class"
    wrong_notebook(klass / "amy/draft/lab2.ipynb")
    put(SOLUTION / "lab2.ipynb", klass / "amy/final/lab2.ipynb")
    problem = problem_of(klass, tmp_path)
    assert problem.verdict == "no gradable file"
    assert problem.message == ("several different files could each be the one to grade; keep one: "
                               "amy/draft/lab2.ipynb, amy/final/lab2.ipynb")


def test_the_same_file_twice_or_a_shallower_one_is_no_tie(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    put(SOLUTION / "lab2.ipynb", klass / "amy/draft/lab2.ipynb")
    put(SOLUTION / "lab2.ipynb", klass / "amy/final/lab2.ipynb")
    assert graded_files(klass, tmp_path) == {"lab2.ipynb": "amy/draft/lab2.ipynb"}
    shutil.rmtree(klass)
    put(SOLUTION / "lab2.ipynb", klass / "amy/lab2.ipynb")
    wrong_notebook(klass / "amy/old/lab2.ipynb")
    shutil.rmtree(tmp_path / "scratch")
    assert gathered(klass, tmp_path) == ({"lab2.ipynb": "amy/lab2.ipynb"},
                                         ["amy/old/lab2.ipynb: also handed in, not graded"])


def test_the_kits_untouched_stub_is_set_aside_for_the_students_own_file(tmp_path: Path) -> None:
    """ben kept the kit's lab2.py and wrote lab2_done.ipynb (and kept the kit's notebook as scratch.ipynb):
    the stub was graded, 0/25, verdict ok, his notebook never looked at."""
    klass = tmp_path / "class"
    put(STUB / "lab2.py", klass / "ben/lab2.py")
    put(SOLUTION / "lab2.ipynb", klass / "ben/lab2_done.ipynb")
    put(STUB / "lab2.ipynb", klass / "ben/scratch.ipynb")
    assert gathered(klass, tmp_path) == ({"lab2.ipynb": "ben/lab2_done.ipynb"},
                                         ["ben/lab2.py, ben/scratch.ipynb: the kit's untouched stubs, set aside"])


def test_set_aside_stubs_leave_an_ambiguity_said_not_a_stub_graded(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    put(STUB / "lab2.py", klass / "ben/lab2.py")
    put(SOLUTION / "lab2.ipynb", klass / "ben/lab2_done.ipynb")
    wrong_notebook(klass / "ben/attempt.ipynb")
    problem = problem_of(klass, tmp_path)
    assert problem.message == ("several candidate files and none named lab2.ipynb or lab2.py: "
                               "ben/attempt.ipynb, ben/lab2_done.ipynb; ben/lab2.py: the kit's untouched stub, set aside")


def test_an_entry_of_stubs_only_is_graded_as_the_stub(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    put(STUB / "lab2.py", klass / "cy/lab2.py")
    put(STUB / "lab2.ipynb", klass / "cy/lab2.ipynb")
    assert graded_files(klass, tmp_path) == {"lab2.py": "cy/lab2.py", "lab2.ipynb": "cy/lab2.ipynb"}


def test_a_name_in_another_case_is_the_labs(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    put(SOLUTION / "lab2.ipynb", klass / "eve/Lab2.ipynb")
    wrong_notebook(klass / "eve/Untitled.ipynb")
    assert gathered(klass, tmp_path) == ({"lab2.ipynb": "eve/Lab2.ipynb"},
                                         ["eve/Untitled.ipynb: also handed in, not graded"])


def test_a_zip_in_a_students_folder_is_opened(tmp_path: Path) -> None:
    """Moodle gives each student a folder holding what they uploaded: dan's lab2.zip scored 0 with
    "no .ipynb or .py file in this entry"."""
    klass = tmp_path / "class"
    (klass / "dan_12345_assignsubmission_file_").mkdir(parents=True)
    with zipfile.ZipFile(klass / "dan_12345_assignsubmission_file_/lab2.zip", "w") as zf:
        zf.write(SOLUTION / "lab2.ipynb", "lab2.ipynb")
    assert graded_files(klass, tmp_path) == {"lab2.ipynb": "dan_12345_assignsubmission_file_/lab2.zip/lab2.ipynb"}


def test_an_empty_id_is_no_id(tmp_path: Path) -> None:
    """`(?P<id>\\d*)_lab2` matches every name: lee and park became one entry with an empty id."""
    klass = tmp_path / "class"
    for name in ("kim_12345_lab2.py", "lee_lab2.py", "park_lab2.py"):
        put(SOLUTION / "lab2.py", klass / name)
    with pytest.warns(UserWarning, match=r"found no id in 2 of the class's names.*lee_lab2.py, park_lab2.py"):
        entries = only_entry(klass, r"(?P<id>\d*)_lab2")
    assert [e.student for e in entries] == ["12345", "lee_lab2", "park_lab2"]


def test_entries_named_for_another_lab_are_warned_about(tmp_path: Path) -> None:
    """`grade batch --lab lab3` over a class of lab2 files graded every one 0/20 without a word
    (`grade FILE --lab` warns)."""
    klass = tmp_path / "class"
    put(SOLUTION / "lab2.ipynb", klass / "carol/lab2.ipynb")
    put(SOLUTION / "lab2.py", klass / "dave/Lab2.py")
    put(SOLUTION / "lab2.py", klass / "erin.py")  # named for no lab
    put(SOLUTION / "lab2.py", klass / "fay/lab3.py")  # named for the lab graded
    put(SOLUTION / "lab2.py", klass / "fay/lab2.py")
    (klass / "gil").mkdir()  # Moodle's layout: the student's zip in their folder (its names are read, not unpacked)
    with zipfile.ZipFile(klass / "gil/handin.zip", "w") as zf:
        zf.write(SOLUTION / "lab2.ipynb", "work/lab2.ipynb")
    with pytest.warns(OtherLabWarning) as warned:
        named_for_another_lab(only_entry(klass), "lab3")
    assert [str(w.message) for w in warned] == [
        "3 of the class's entries hold files named for lab2, none for lab3; they are graded against it as --lab asks: "
        "carol, dave, gil"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        named_for_another_lab(only_entry(klass), "lab2")


@pytest.mark.parametrize("notebooks", [("amy/draft/lab2.ipynb", "amy/final/lab2.ipynb"), ("amy/a.ipynb", "amy/b.ipynb")])
def test_a_lone_py_is_not_graded_over_notebooks_not_picked_between(notebooks: tuple[str, str], tmp_path: Path) -> None:
    """With the notebooks tied or ambiguous, the entry's only .py was graded, whatever it was (a helper):
    0/25 'ok', the notebooks never named."""
    klass = tmp_path / "class"
    wrong_notebook(klass / notebooks[0])
    put(SOLUTION / "lab2.ipynb", klass / notebooks[1])
    (klass / "amy/utils.py").write_text("def helper():\n    return 1\n", encoding="utf-8")
    problem = problem_of(klass, tmp_path)
    assert problem.verdict == "no gradable file" and ", ".join(notebooks) in problem.message, problem.message
    assert "utils.py" not in problem.message.split(":")[0]


def test_a_file_named_for_the_lab_is_graded_and_the_others_are_named(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    put(SOLUTION / "lab2.py", klass / "amy/lab2.py")
    wrong_notebook(klass / "amy/a.ipynb")
    put(SOLUTION / "lab2.ipynb", klass / "amy/b.ipynb")
    assert gathered(klass, tmp_path) == ({"lab2.py": "amy/lab2.py"},
                                         ["amy/a.ipynb, amy/b.ipynb: also handed in, not graded"])


def test_notebooks_with_the_same_code_are_the_same_file(tmp_path: Path) -> None:
    """Two copies of one notebook, saved with other outputs and metadata, were 'different files'."""
    klass = tmp_path / "class"
    put(SOLUTION / "lab2.ipynb", klass / "amy/draft/lab2.ipynb")
    saved = json.loads((SOLUTION / "lab2.ipynb").read_text(encoding="utf-8"))
    saved["metadata"]["saved_by"] = "another Jupyter"
    (klass / "amy/final").mkdir(parents=True)
    (klass / "amy/final/lab2.ipynb").write_text(json.dumps(saved), encoding="utf-8")
    assert graded_files(klass, tmp_path) == {"lab2.ipynb": "amy/draft/lab2.ipynb"}


@pytest.mark.parametrize("bad", ["empty", "broken"])
def test_an_unreadable_zip_beside_a_gradable_file_is_passed_over(bad: str, tmp_path: Path) -> None:
    """An empty or broken zip in a student's folder made the whole entry unreadable, 0/25, beside a right lab2.ipynb."""
    klass = tmp_path / "class"
    put(SOLUTION / "lab2.ipynb", klass / "eve/lab2.ipynb")
    if bad == "empty":
        zipfile.ZipFile(klass / "eve/backup.zip", "w").close()
    else:
        (klass / "eve/backup.zip").write_bytes(b"PK not a zip")
    assert gathered(klass, tmp_path) == ({"lab2.ipynb": "eve/lab2.ipynb"},
                                         ["eve/backup.zip: also handed in, not graded"])
    (klass / "eve/lab2.ipynb").unlink()  # the zip alone: the entry is unreadable, and says why
    shutil.rmtree(tmp_path / "scratch")
    problem = problem_of(klass, tmp_path)
    assert problem.verdict == "unreadable" and problem.message.startswith("cannot read eve/backup.zip: "), problem.message


def test_a_zip_in_a_zip_is_opened(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    klass.mkdir()
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.write(SOLUTION / "lab2.py", "lab2.py")
    with zipfile.ZipFile(klass / "fay.zip", "w") as zf:
        zf.write(inner, "inner.zip")
    assert graded_files(klass, tmp_path) == {"lab2.py": "fay.zip/inner.zip/lab2.py"}


def test_zips_in_a_zip_share_one_budget_for_the_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each zip was held to the unpacking cap on its own, so an entry of small zips of zeros, each under
    it, wrote their sum to the grader's disk (a 0.9 MB entry, three zips: 901 MiB). The cap is one
    budget for the whole entry: here 1 MiB (patched, so that the test writes little), three inner
    zips of 400 KiB each: the third is not unpacked, and the student's file is still graded."""
    import grader.batch.entries as entries

    monkeypatch.setattr(entries, "MAX_ZIP_BYTES", 1 << 20)
    klass = tmp_path / "class"
    klass.mkdir()
    inner = []
    for name in "abc":
        inner.append(tmp_path / f"{name}.zip")
        with zipfile.ZipFile(inner[-1], "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("pad.bin", bytes(400 << 10))
    with zipfile.ZipFile(klass / "mal.zip", "w") as zf:
        zf.write(SOLUTION / "lab2.py", "lab2.py")
        for path in inner:
            zf.write(path, path.name)
    origins, notes = gathered(klass, tmp_path)
    assert origins == {"lab2.py": "mal.zip/lab2.py"}
    assert notes == ["mal.zip/c.zip: also handed in, not graded"], notes
    written = sum(p.stat().st_size for p in (tmp_path / "scratch").rglob("*") if p.is_file())
    assert written < (1 << 20) + (100 << 10), written


def test_one_id_for_different_names_is_warned_about(tmp_path: Path) -> None:
    """`(\\d+)` finds the 2 of lab2 in every name: the whole class became student "2", without a word."""
    klass = tmp_path / "class"
    for name in ("lab2_kim_12345.py", "lab2_lee_12399.py", "alice_777.py", "alice_777.ipynb"):
        put(SOLUTION / "lab2.py", klass / name)
    with pytest.warns(UserWarning, match=r"gave one id to items with different names, which are graded as one student: "
                                         r"2 \(lab2_kim_12345.py, lab2_lee_12399.py\)"):
        assert [e.student for e in only_entry(klass, r"(\d+)")] == ["2", "777"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # alice_777.py and alice_777.ipynb are one student: no warning
        only_entry(klass, r"_(\d+)\.")


def test_a_file_too_large_to_grade_is_not_read_to_choose(tmp_path: Path) -> None:
    """Choosing a student's file read every candidate notebook whole in the batch's main process (a review:
    a 64 MiB notebook took 1.3 GB there). A file past the grader's caps is not read to tell it from the
    stub (a sparse 40 MiB file here: nothing is written to disk)."""
    from grader.labs.stubs import code_hash

    klass = tmp_path / "class"
    put(SOLUTION / "lab2.py", klass / "amy/lab2.py")
    with open(klass / "amy/notes.ipynb", "wb") as f:
        f.truncate(40 << 20)
    with pytest.raises(ValueError, match="too large"):
        code_hash(klass / "amy/notes.ipynb")
    origins, notes = gathered(klass, tmp_path)
    assert origins == {"lab2.py": "amy/lab2.py"} and notes == ["amy/notes.ipynb: also handed in, not graded"], notes
