"""In a lab folder the file the student changed is graded, compared with the stubs as shipped.

The grader knows the released stubs by the hashes of their code (grader/labs/stubs.json),
never by the files under exercises/: with the README's editable install those are the very
files a student fills in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from conftest import ROOT, _replace_definitions
from grader.labs import known_labs, load_lab
from grader.labs.stubs import RERECORD, SUFFIXES, code_hash, released
from grader.runner.notebook import is_demo

FAST = ("--call-timeout", "10", "--cell-timeout", "30")


def test_the_recorded_hashes_are_those_of_the_stubs_in_exercises() -> None:
    for name in known_labs():
        for suffix in SUFFIXES:
            stub = ROOT / "exercises" / name / f"{load_lab(name).stem}{suffix}"
            assert code_hash(stub) in released(name, suffix), (
                f"{stub.relative_to(ROOT)} changed since its hash was recorded: run `{RERECORD}` "
                "and commit grader/labs/stubs.json")


def test_the_try_it_cells_are_demonstrations() -> None:
    """Each notebook's optional "Try it" cell calls every function: tagged demo, grading skips it."""
    for folder in ("exercises", "solutions"):
        for name in known_labs():
            nb = nbformat.read(str(ROOT / folder / name / f"{load_lab(name).stem}.ipynb"), as_version=4)
            code = [cell for cell in nb.cells if cell.cell_type == "code"]
            assert [is_demo(cell) for cell in code] == [False] * (len(code) - 1) + [True], f"{folder}/{name}"


def _fresh_clone(dest: Path) -> Path:
    """The repository's tracked files, as a clone has them (no build, no _course folder)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.split(b"\0")):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def _from_clone(clone: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Python with the clone's grader first on the path: what `pip install -e .` in the clone gives."""
    env = {**os.environ, "PYTHONPATH": str(clone)}
    return subprocess.run([sys.executable, *argv], cwd=clone, env=env, capture_output=True, text=True, timeout=300)


# The clone's `grade` command line, twice, in one Python (the clone's grader.cli.main each time): the
# notebook filled in in place, then the .py filled in in place and the notebook put back.
_IN_PLACE = """
import contextlib, io, json, shutil, sys
import grader
from grader.cli import main
done = [grader.__file__]
for copies, argv in json.loads(sys.argv[1]):
    for source, target in copies:
        shutil.copy(source, target)
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            done.append(int(main(argv)))
        except SystemExit as exc:
            done.append(exc.code if isinstance(exc.code, int) else 1)
print(json.dumps(done))
"""


def test_a_fresh_clone_grades_the_stub_the_student_filled_in_in_place(tmp_path: Path) -> None:
    clone = _fresh_clone(tmp_path / "grader")
    stubs = clone / "exercises" / "lab2"
    solution = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
    filled = tmp_path / "filled.py"  # the stub's functions filled in, the rest of the stub kept
    filled.write_text(_replace_definitions((stubs / "lab2.py").read_text(encoding="utf-8"), solution), encoding="utf-8")
    steps = [
        ([(str(ROOT / "solutions/lab2/lab2.ipynb"), str(stubs / "lab2.ipynb"))],
         ["exercises/lab2", "--json", str(tmp_path / "notebook.json"), "--quiet", *FAST]),
        ([(str(ROOT / "exercises/lab2/lab2.ipynb"), str(stubs / "lab2.ipynb")), (str(filled), str(stubs / "lab2.py"))],
         ["exercises/lab2", "--json", str(tmp_path / "py.json"), "--quiet", *FAST]),
    ]
    run = _from_clone(clone, "-c", _IN_PLACE, json.dumps(steps))
    assert run.returncode == 0, run.stderr[-3000:]
    where, *codes = json.loads(run.stdout)
    assert Path(where).is_relative_to(clone), where
    cases = (("notebook", "lab2.ipynb", "lab2.py"), ("py", "lab2.py", "lab2.ipynb"))
    for code, (name, changed, kept) in zip(codes, cases, strict=True):
        report = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        assert report["submission"]["selection"] == f"{changed} differs from the released stub; {kept} does not"
        assert (code, report["score"], report["max_score"]) == (0, 25, 25)

    # The same folder copied out of the clone (`cp -r exercises/lab2 ~/mywork`).
    shutil.copytree(stubs, tmp_path / "mywork")
    picked = _from_clone(clone, "-c", "import sys; from pathlib import Path; from grader.submission import resolve; "
                                      "print(resolve(Path(sys.argv[1])).selection)", str(tmp_path / "mywork"))
    assert picked.stdout.strip() == "lab2.py differs from the released stub; lab2.ipynb does not", picked.stderr
