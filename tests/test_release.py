"""`grade release`: the student kit grades with the public checks only and holds no answers.

The leak test looks through every file of the kit, the kit's own bytecode and a zip of it for
every line of the solutions (`.py` and notebooks), every hidden input and every number a hidden
check compares against; the grading tests run the kit's real `grade` (sandbox, kernels) on the
stubs and the solutions.
"""

from __future__ import annotations

import ast
import json
import marshal
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from conftest import GRADE, ROOT, SUBMISSIONS, run_grade

LABS = ("lab1", "lab2", "lab3", "lab4", "logistic")  # the course's labs, and the example of an instructor's own
EXAMPLE_LABS = ROOT / "docs" / "example-lab"
# Solution lines the kit may hold, and why: none of them gives a function away.
NOT_ANSWERS = {
    "return self.linear(x)": "lessons 000 and 002 print it, and the structure check's title quotes it",
    "return W - lr * gradient(x, y, W)": "lesson 003's `W -= lr * gradient`, which descent_step's title states",
    "with torch.no_grad():": "a Python construct the grader's own harness uses",
}


@pytest.fixture(scope="module", autouse=True)
def instructor_labs() -> Iterator[None]:
    """The example lab, found as an instructor's lab is (GRADER_LABS), here and in every `grade` run."""
    before = os.environ.get("GRADER_LABS")
    os.environ["GRADER_LABS"] = str(EXAMPLE_LABS)
    yield
    if before is None:
        os.environ.pop("GRADER_LABS", None)
    else:
        os.environ["GRADER_LABS"] = before


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "kit"
    proc = subprocess.run([str(GRADE), "release", "--labs", str(EXAMPLE_LABS), "--out", str(out)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "lab2: 10 public checks (17 points) in the kit; 6 hidden checks (8 points) left out" in proc.stdout
    return out


def kit_grade(kit: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The kit's own `grade`, as a student runs it from the kit folder (its package, not ours)."""
    return kit_python(kit, "-m", "grader", *args, timeout=timeout)


def kit_python(kit: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Python started in the kit folder, with the kit's package on its path (not ours)."""
    env = {**os.environ, "PYTHONPATH": str(kit), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("GRADER_LABS", None)  # a student's machine: the kit's labs only
    return subprocess.run([sys.executable, *args], cwd=kit, env=env, capture_output=True, text=True, timeout=timeout)


# --- what the kit holds ----------------------------------------------------------------------


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def solution_lines(lab: str) -> set[str]:
    """Every line of code in the lab's solutions (.py and notebook) that no handed-out stub shows
    (their docstrings and notes quote the lessons' code: `optimizer.zero_grad()`, `cost.backward()`)."""
    from grader.labs import load_lab

    stub_code = squash("\n".join(load_lab(name).stub(s).read_text(encoding="utf-8") for name in LABS for s in (".py", ".ipynb")))
    lines = set()
    for suffix in (".py", ".ipynb"):
        for line in _code(load_lab(lab).solution(suffix)).splitlines():
            code = squash(line.split("#")[0])
            if len(code) >= 10 and code not in stub_code and not code.startswith(("def", "class", "import", "from")):
                lines.add(code)
    return lines


def _code(path: Path) -> str:
    """A file's code without docstrings (which the stubs share) or comments."""
    if path.suffix == ".ipynb":
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    else:
        source = path.read_text(encoding="utf-8")
    return ast.unparse(_without_docstrings(ast.parse(source)))


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return tree


def hidden_inputs(lab: str, kit: Path) -> dict[str, str]:
    """The hidden data (names the instructor's data module has and the kit's lacks), as they print."""
    import importlib

    ours = importlib.import_module(f"grader.labs.{lab}.data")
    theirs = ast.parse((kit / "grader" / "labs" / lab / "data.py").read_text(encoding="utf-8"))
    kept = {n.id for n in ast.walk(theirs) if isinstance(n, ast.Name)}
    found = {}
    for name, value in vars(ours).items():
        if name.isupper() and name not in kept and isinstance(value, (list, tuple)) and len(_numbers(value)) >= 3:
            found[name] = squash(repr(value))
    return found


def _numbers(value: Any) -> list[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    return []


def hidden_expected(lab: str, kit: Path) -> tuple[set[str], set[str]]:
    """The numbers the hidden checks compare against: the reference's answers to the probes the kit
    left out, as a report prints them (4 decimals), with 4 significant digits or more and not also
    an answer to a public probe; and the public probes' answers, printed the same way."""
    from grader.checks import reference_observations
    from grader.labs import load_lab

    spec = load_lab(lab)
    probes = spec.make_probes()
    kit_init = (kit / "grader" / "labs" / lab / "__init__.py").read_text(encoding="utf-8")
    public_ids = {p.id for p in probes if f"'{p.id}'" in kit_init or f'"{p.id}"' in kit_init}
    public = [p for p in probes if p.id in public_ids]
    assert public and len(public) < len(probes)

    def printed(selection: list[Any]) -> set[str]:
        answers = reference_observations(selection, spec.reference())
        numbers = [n for p in selection for n in _numbers(_plain(answers.get(p.id)))]
        return {f"{n:.4f}" for n in numbers if abs(n) >= 0.01 and len(f"{abs(n):.4f}".replace(".", "").lstrip("0")) >= 4}

    shown = printed(public)
    return printed([p for p in probes if p.id not in public_ids]) - shown, shown


def _plain(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().double().reshape(-1).tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def kit_texts(kit: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(where, text) for every file of the kit, the constants of its compiled code, and a zip of it."""
    for path in sorted(p for p in kit.rglob("*") if p.is_file()):
        yield str(path.relative_to(kit)), path.read_bytes().decode("utf-8", errors="replace")
    for path in sorted(kit.rglob("*.py")):
        code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        yield f"{path.relative_to(kit)} (bytecode)", " ".join(map(str, _constants(marshal.loads(marshal.dumps(code)))))
    archive = Path(shutil.make_archive(str(tmp_path / "kit"), "zip", kit))
    wheels = tmp_path / "wheel"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                            str(kit)], capture_output=True, text=True, timeout=300)  # what `pip install .` installs
    assert build.returncode == 0, build.stderr
    for zipped in (archive, *sorted(wheels.glob("*.whl"))):
        with zipfile.ZipFile(zipped) as z:
            for member in z.namelist():
                yield f"{zipped.name}:{member}", z.read(member).decode("utf-8", errors="replace")


def _constants(code: Any) -> Iterator[Any]:
    for const in code.co_consts:
        if hasattr(const, "co_consts"):
            yield from _constants(const)
        else:
            yield const


def test_the_kit_holds_no_solution_hidden_input_or_hidden_expected_value(kit: Path, tmp_path: Path) -> None:
    assert not (kit / "solutions").exists() and not list((kit / "grader" / "labs").rglob("figures.py"))
    assert sorted(p.name for p in (kit / "exercises").iterdir()) == list(LABS)
    needles = all_needles(kit)
    leaks = []
    searched = 0
    in_wheel = 0
    for where, text in kit_texts(kit, tmp_path):
        searched += 1
        in_wheel += ".whl:" in where
        flat = squash(text)
        leaks += [f"{needle.what} in {where}" for needle in needles if needle.found_in(flat)]
    assert searched > 100 and in_wheel > 20  # the kit's files, its bytecode, a zip of it and the wheel pip builds of it
    assert not leaks, "\n".join(leaks[:20])


@dataclass(frozen=True)
class Needle:
    """Text that must not be in the kit (whitespace removed), and what it would give away. With a
    `pattern`, the text counts only where the pattern also matches (a whole number)."""

    text: str
    what: str
    pattern: re.Pattern[str] | None = None

    def found_in(self, flat: str) -> bool:
        return self.text in flat and (self.pattern is None or self.pattern.search(flat) is not None)


def all_needles(kit: Path) -> list[Needle]:
    """What must not be in the kit: solution lines and hidden inputs anywhere, hidden expected
    numbers as whole numbers (0.7466 is not found inside lab 3's printed 0.746666)."""
    public_numbers = set()
    needles: list[Needle] = []
    hidden: dict[str, str] = {}
    for lab in LABS:
        lines = solution_lines(lab) - {squash(line) for line in NOT_ANSWERS}
        inputs = hidden_inputs(lab, kit)
        numbers, public = hidden_expected(lab, kit)
        public_numbers |= public
        assert len(lines) >= 4 and len(inputs) >= 1 and len(numbers) >= 5, (lab, len(lines), len(inputs), len(numbers))
        needles += [Needle(code, f"{lab} solution line {code!r}") for code in sorted(lines)]
        needles += [Needle(text, f"{lab} hidden input {name}") for name, text in sorted(inputs.items())]
        hidden |= {n: f"{lab} hidden expected value {n}" for n in numbers}
    for number, what in hidden.items():
        if number not in public_numbers:  # another lab's lesson may print the same number
            needles.append(Needle(number, what, re.compile(rf"(?<![\d.]){re.escape(number)}(?!\d)")))
    return needles


def test_the_leak_test_finds_what_it_looks_for(kit: Path, tmp_path: Path) -> None:
    """The same search over a copy of the kit with one solution line, one hidden input and one
    hidden number planted in it (in a notebook, in bytecode and in a zip inside the kit)."""
    planted = tmp_path / "planted"
    shutil.copytree(kit, planted)
    line = sorted(solution_lines("lab2"))[0]
    name, data = sorted(hidden_inputs("lab2", kit).items())[0]
    number = sorted(hidden_expected("lab2", kit)[0])[0]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(line)])
    nbformat.write(nb, str(planted / "exercises" / "lab2" / "extra.ipynb"))
    (planted / "grader" / "planted.py").write_text(f"X = {data!r}\n", encoding="utf-8")
    with zipfile.ZipFile(planted / "extra.zip", "w") as z:
        z.writestr("inner.txt", f"the value is {number}")
    needles = all_needles(kit)
    texts = [(where, squash(text)) for where, text in kit_texts(planted, tmp_path)]
    for planted_text in (line, data, number):
        needle = next(n for n in needles if n.found_in(squash(planted_text)))
        found = [where for where, flat in texts if needle.found_in(flat)]
        assert found, planted_text


def test_every_lab_keeps_public_checks_and_the_kit_knows_its_hidden_ones(kit: Path) -> None:
    meta = json.loads((kit / "grader" / "kit.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in meta["hidden"].items() if k != "logistic"} == {
        "lab1": {"checks": 4, "points": 5.0}, "lab2": {"checks": 6, "points": 8.0},
        "lab3": {"checks": 5, "points": 7.0}, "lab4": {"checks": 3, "points": 4.0}}
    assert meta["hidden"]["logistic"]["checks"] >= 1
    for lab in LABS:
        suite = next((kit / "grader" / "labs" / lab / "checks").glob("test_*.py")).read_text(encoding="utf-8")
        assert "public=True" in suite, lab
        assert "hidden()" not in suite and "simulate" not in suite and "VARIANTS" not in suite, lab
        mistakes = (kit / "grader" / "labs" / lab / "mistakes.py").read_text(encoding="utf-8")
        assert "def " not in mistakes and "import torch" not in mistakes, lab  # hint texts only


# --- grading with the kit ----------------------------------------------------------------------

# The kit's own `grade` command line, run several times in one Python started from the kit folder
# (its package, not ours; sandbox and kernels as usual): `grader.cli.main` from argument parsing
# to exit status, once per grade, without paying Python's and torch's start-up for each.
_KIT_GRADES = """
import contextlib, io, json, sys
import grader
from grader.cli import main
results = {"package": {"returncode": 0, "stdout": grader.__file__, "stderr": ""}}
for name, argv in json.loads(sys.argv[1]).items():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = int(main(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    results[name] = {"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue()}
sys.stdout.write(json.dumps(results))
"""


@pytest.fixture(scope="module")
def kit_grades(kit: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    """Grades by the kit: the stubs, the solution as .py and as a notebook, a wrong mse_cost, and
    hard-coded lesson numbers. Each test reads its own; `work/<name>.json` is each JSON report."""
    work = tmp_path_factory.mktemp("kit-grades")
    for suffix in (".ipynb", ".py"):
        folder = work / f"solution{suffix}" / "lab2"
        shutil.copytree(kit / "exercises" / "lab2", folder)
        shutil.copy2(ROOT / "solutions" / "lab2" / f"lab2{suffix}", folder / f"lab2{suffix}")
    source = (ROOT / "solutions" / "lab2" / "lab2.py").read_text(encoding="utf-8")
    wrong = source.replace("return torch.mean((prediction - y) ** 2)", "return torch.sum((prediction - y) ** 2)")
    assert wrong != source
    (work / "wrong").mkdir()
    (work / "wrong" / "lab2.py").write_text(wrong, encoding="utf-8")
    runs = {
        "stubs": ["exercises/lab2"],
        "solution.ipynb": [str(work / "solution.ipynb" / "lab2"), "--html", str(work / "solution.ipynb.html"), "--lang", "ko"],
        "solution.py": [str(work / "solution.py" / "lab2"), "--html", str(work / "solution.py.html"), "--lang", "ko"],
        "wrong": [str(work / "wrong" / "lab2.py")],
        "hardcoded": [str(SUBMISSIONS / "lab2" / "whole" / "hardcodes_lesson_numbers.py"), "--lab", "lab2"],
    }
    argvs = {name: [*argv, "--json", str(work / f"{name}.json")] for name, argv in runs.items()}
    proc = kit_python(kit, "-c", _KIT_GRADES, json.dumps(argvs), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = json.loads(proc.stdout)
    assert Path(runs["package"]["stdout"]).is_relative_to(kit), runs["package"]  # the kit's package graded
    return work, runs


def kit_report(kit_grades: tuple[Path, dict[str, dict[str, Any]]], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The kit's grade `name`: its exit status and output, and its JSON report."""
    work, runs = kit_grades
    return runs[name], json.loads((work / f"{name}.json").read_text(encoding="utf-8"))


def test_the_kit_grades_the_stubs_zero_with_public_checks_only(kit_grades: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    run, report = kit_report(kit_grades, "stubs")
    assert run["returncode"] == 1, run["stderr"]
    assert (report["score"], report["max_score"]) == (0, 17)
    assert report["hidden"] == {"checks": 6, "points": 8.0}
    assert all("not implemented" in c["message"] for c in report["checks"]), report["checks"]
    assert "Public checks only: this score covers the 10 public checks; 6 hidden checks worth 8 points" in \
        " ".join(run["stdout"].split())


@pytest.mark.parametrize("suffix", [".ipynb", ".py"])
def test_the_kit_gives_the_solution_full_public_marks(kit_grades: tuple[Path, dict[str, dict[str, Any]]],
                                                      suffix: str) -> None:
    run, report = kit_report(kit_grades, f"solution{suffix}")
    assert run["returncode"] == 0, run["stdout"] + run["stderr"]
    assert report["submission"]["format"] == suffix[1:]
    assert (report["score"], report["max_score"], report["figures"]) == (17, 17, [])
    assert "공개 검사만 실행했습니다" in (kit_grades[0] / f"solution{suffix}.html").read_text(encoding="utf-8")


def test_a_wrong_function_loses_its_public_points_in_the_kit(kit_grades: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    run, report = kit_report(kit_grades, "wrong")
    lost = {c["name"] for c in report["checks"] if c["score"] == 0}
    assert run["returncode"] == 1 and "mse_cost.lesson_values" in lost and "hypothesis.lesson_values" not in lost
    cost = next(c for c in report["checks"] if c["name"] == "mse_cost.lesson_values")
    assert cost["expected"].startswith("4.6667") and cost["obtained"].startswith("14.0000"), cost


def test_hard_coded_lesson_numbers_pass_the_kit_but_not_the_instructor(
        kit_grades: tuple[Path, dict[str, dict[str, Any]]], tmp_path: Path) -> None:
    """What the kit's README promises: the public score is a sign, the hidden checks decide."""
    in_kit, kit_report_ = kit_report(kit_grades, "hardcoded")
    ours = run_grade(SUBMISSIONS / "lab2" / "whole" / "hardcodes_lesson_numbers.py", "--lab", "lab2", cwd=tmp_path)
    assert in_kit["returncode"] in (0, 1) and ours.returncode == 1
    assert kit_report_["score"] > 0 and ours.report["score"] < kit_report_["score"]


# --- refusing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    (("--lab", "lab9"), "unknown lab"),
    (("--lab", "lab2"), "already exists and is not empty"),
])
def test_release_refuses_in_one_line(tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    out = tmp_path / "kit"
    if "already" in words:
        out.mkdir()
        (out / "mine.txt").write_text("keep me", encoding="utf-8")
    proc = subprocess.run([str(GRADE), "release", "--out", str(out), *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr.lower(), proc.stderr
    if "already" in words:
        assert [p.name for p in out.iterdir()] == ["mine.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kit")] == []


def test_a_kit_cannot_release_a_kit(kit: Path, tmp_path: Path) -> None:
    proc = kit_grade(kit, "release", "--out", str(tmp_path / "again"))
    assert proc.returncode != 0 and "student kit" in proc.stderr and not (tmp_path / "again").exists()
