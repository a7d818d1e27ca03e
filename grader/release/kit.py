"""`grade release`: the student kit, a folder with the exercises and a grader that has no answers.

The kit holds `exercises/`, a `grader/` package cut from this one (grader.release.strip: the
public checks only, no reference solution, no hidden inputs, no computed mistakes, no pictures
drawn against the reference), its `pyproject.toml` and a student README. It is written into a
temporary folder next to `out` and renamed into place once whole and verified: the kit's public
checks must pass on the reference solution's answers and give the stubs nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..edition import KIT_FILE
from ..errors import GraderError
from ..labs import ENV, Lab, known_labs, load_lab
from ..labs.manifest import MANIFEST
from ..labs.stubs import RECORD, code_hash
from . import strip

PACKAGE = Path(__file__).resolve().parent.parent
# Never copied: the tool that cuts kits, caches, and the course material bundled in a wheel.
_SKIPPED = {"release", "__pycache__", "_course"}
_TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class LabInKit:
    name: str
    public_checks: int
    public_points: float
    hidden_checks: int
    hidden_points: float


def build_kit(out: Path, labs: Sequence[str] = ()) -> list[LabInKit]:
    """Write the student kit for `labs` (default: all) to `out`, which must not exist or be empty."""
    names = list(dict.fromkeys(labs)) or list(known_labs())
    for name in names:
        load_lab(name)  # an unknown name: UnknownLab, before anything is written
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GraderError(f"{out} already exists and is not empty; name a new folder for the kit")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        summary = _write(work, names)
        _verify(work, names)
        if out.exists():
            out.rmdir()
        os.replace(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary


def _write(kit: Path, names: list[str]) -> list[LabInKit]:
    package = kit / "grader"
    shutil.copytree(PACKAGE, package, ignore=_ignore(names))
    hidden: dict[str, dict[str, float]] = {}
    summary = []
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    for name in names:
        lab = load_lab(name)
        source, target = lab.folder, package / "labs" / name
        suite_file, suite, init, texts = cut_suite(lab)
        data = strip.public_data((source / "data.py").read_text(encoding="utf-8"),
                                 strip.attribute_names(suite.source) | strip.attribute_names(init))
        (target / "checks").mkdir(parents=True)
        _write_text(target / "checks" / suite_file.name, suite.source)
        _write_text(target / "__init__.py", init)
        _write_text(target / "data.py", data)
        _write_text(target / "mistakes.py", texts)
        shutil.copy2(source / MANIFEST, target / MANIFEST)
        for words in sorted(source.glob("??.toml")):  # the lab's own translations (ko.toml)
            shutil.copy2(words, target / words.name)
        summary.append(LabInKit(name, len(suite.public_points), sum(suite.public_points),
                                len(suite.hidden_points), sum(suite.hidden_points)))
        hidden[name] = {"checks": len(suite.hidden_points), "points": sum(suite.hidden_points)}
        exercises = kit / "exercises" / name
        exercises.mkdir(parents=True)
        shipped = record.get(name, {})
        for suffix in (".py", ".ipynb"):
            if suffix == ".ipynb":
                _write_text(exercises / lab.stub(suffix).name, _handed_out(lab.stub(suffix)))
            else:
                shutil.copy2(lab.stub(suffix), exercises / lab.stub(suffix).name)
            # An instructor's lab has no recorded hashes: the stub handed out is the one recorded.
            shipped[suffix] = sorted({*shipped.get(suffix, []), code_hash(lab.stub(suffix))})
        record[name] = shipped
    _write_text(package / KIT_FILE.name, json.dumps({"hidden": hidden}, indent=2, sort_keys=True) + "\n")
    _write_text(package / "labs" / RECORD.name,
                json.dumps({k: v for k, v in record.items() if k in names}, indent=2, sort_keys=True) + "\n")
    for template in ("pyproject.toml", "README.md"):
        text = (_TEMPLATES / template).read_text(encoding="utf-8")
        _write_text(kit / template, text.replace("{first_lab}", "lab2" if "lab2" in names else names[0]))
    return summary


def cut_suite(lab: Lab) -> tuple[Path, strip.PublicSuite, str, str]:
    """The lab's checks file, and the kit's copies of it, of `__init__.py` and of the mistakes module; a
    GraderError where the lab's checks cannot go into a kit (`grade check-lab` asks too)."""
    suite_file = next(iter(sorted((lab.folder / "checks").glob("test_*.py"))), None)
    if suite_file is None:
        raise GraderError(f"{lab.name}'s checks folder holds no test_*.py file")
    mistakes = lab.folder / "mistakes.py"  # (optional: a lab may name no mistakes)
    try:
        texts, hint_names = strip.mistake_texts(mistakes.read_text(encoding="utf-8") if mistakes.is_file() else "")
        init = (lab.folder / "__init__.py").read_text(encoding="utf-8")
        ids, used = strip.hidden_probes(init)
        data = lab.folder / "data.py"
        hidden_data = used & strip.defined_names(data.read_text(encoding="utf-8")) if data.is_file() else set()
        suite = strip.public_suite(suite_file.read_text(encoding="utf-8"), f"grader.labs.{lab.name}.mistakes", hint_names,
                                   ids, hidden_data)
        kit_init = strip.public_lab(init, suite.probes)
        leak = strip.kit_leaks(suite, kit_init, ids, hidden_data)
        if leak:
            raise strip.StripError(leak)
    except strip.StripError as error:
        raise GraderError(f"{lab.name}'s checks cannot go into a kit: checks/{suite_file.name}: {error}") from None
    except SyntaxError as error:
        raise GraderError(f"{lab.name}'s checks, data.py, mistakes.py or __init__.py do not compile: line "
                          f"{error.lineno}: {error.msg}") from None
    except OSError as error:
        raise GraderError(f"{lab.name} cannot go into a kit: {error.strerror or error}: {error.filename}") from None
    return suite_file, suite, kit_init, texts


def _ignore(names: list[str]) -> Callable[[str, list[str]], set[str]]:
    labs_dir = PACKAGE / "labs"

    def ignored(folder: str, entries: list[str]) -> set[str]:
        skip = {e for e in entries if e in _SKIPPED or e.endswith(".pyc")}
        here = Path(folder)
        if here == labs_dir:  # the labs not released, and every lab's own code (written cut, above)
            skip |= {e for e in entries if (here / e).is_dir() and e not in names and e != "__pycache__"}
            skip.add(RECORD.name)
        elif here.parent == labs_dir:
            skip |= set(entries)
        return skip

    return ignored


def _handed_out(stub: Path) -> str:
    """A stub notebook as the kit hands it out: no saved outputs or execution counts, of each cell's metadata
    only its tags (the grader's `demo`), of the notebook's only its kernel and language. A stub made from
    the solved notebook keeps the solution's printout in its outputs otherwise; the grader ignores them."""
    import nbformat

    try:
        notebook = nbformat.read(stub, as_version=4)
    except Exception as exc:  # (nbformat's errors have no common base)
        raise GraderError(f"cannot read the stub notebook {stub}: {exc}") from None
    notebook.metadata = nbformat.NotebookNode({k: v for k, v in notebook.metadata.items()
                                               if k in ("kernelspec", "language_info")})  # (no widget state)
    for cell in notebook.cells:
        tags = cell.metadata.get("tags")
        cell.metadata = nbformat.NotebookNode({"tags": tags} if tags else {})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    text: str = nbformat.writes(notebook)
    return text


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


_VERIFY = """
import json, runpy, sys
from types import SimpleNamespace
from grader import edition
from grader.checks import Observations, reference_observations, run_checks
from grader.labs import load_lab
from grader.runner import Outcome, ProbeOutcome
assert edition.public_only(), "the kit's grader does not know it is a kit"
problems = []
for name, solution, stub in json.loads(sys.argv[1]):
    lab = load_lab(name)
    probes = lab.make_probes()
    for who, path in (("solution", solution), ("stub", stub)):
        module = SimpleNamespace(**runpy.run_path(path, run_name="kit_" + who))
        results = run_checks(lab.suite, reference_observations(probes, module), None, probes)
        got, most = sum(c.score for c in results), sum(c.max_score for c in results)
        if who == "solution" and got != most:
            failed = [c.name + ": " + c.message for c in results if c.score != c.max_score]
            problems.append(f"{name}: the solution scores {got:g}/{most:g} on the kit's checks ({failed[0]})")
        if who == "stub" and got != 0:
            problems.append(f"{name}: the stubs score {got:g}/{most:g} on the kit's checks")
print(json.dumps(problems))
"""


def _verify(kit: Path, names: list[str]) -> None:
    """Run the kit's own public checks on the reference's answers and on the stubs' (kit's Python code, our data)."""
    cases = [(name, str(load_lab(name).solution(".py")), str(load_lab(name).stub(".py"))) for name in names]
    env = {**os.environ, "PYTHONPATH": str(kit), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop(ENV, None)  # the kit holds the instructor's labs it releases; it must not find them twice
    proc = subprocess.run([sys.executable, "-c", _VERIFY, json.dumps(cases)], cwd=kit, env=env,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise GraderError(f"the kit's checks could not run: {last}")
    problems = json.loads(proc.stdout.strip().splitlines()[-1])
    if problems:
        raise GraderError(f"the kit is not sound: {problems[0]}")
