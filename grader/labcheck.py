"""`grade check-lab NAME|PATH`: is a lab sound enough to hand out?

Every finding is one line. The lab is graded for real (the sandbox, a kernel for the notebooks):
its solution must earn full marks in both formats, its stubs nothing, each check saying "not
implemented"; each known mistake must fail the checks its manifest names. The rest is read
from the files: the manifest's functions and signatures against the four course files, the
checks' points against the manifest's, the number strings the checks use against its values.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .config import Limits
from .errors import GraderError, SubmissionNotFound
from .labs import Lab, course_root, load_lab
from .labs.manifest import MANIFEST, Function, Manifest
from .results import CheckResult, GradeResult, IssueKind, Status
from .rules import Program
from .sources import read_units

KNOWN_MISTAKES = "known-mistakes"
_NUMBER = re.compile(r"-?\d+\.\d+([eE][-+]?\d+)?|-?\d+[eE][-+]?\d+")


@dataclass
class Findings:
    lab: str
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)  # what was checked and held, for the closing line

    said: dict[str, tuple[int, str, int]] = field(default_factory=dict)  # cause -> (index, line, other files)

    def __call__(self, problem: str) -> None:
        self.problems.append(problem)

    def once(self, cause: str, problem: str) -> None:
        """`problem`, unless the same `cause` was found in another file: then that line counts it (an
        import error in the checks fails all five files graded alike)."""
        if cause not in self.said:
            self.said[cause] = (len(self.problems), problem, 0)
            self.problems.append(problem)
            return
        index, line, others = self.said[cause]
        self.said[cause] = (index, line, others + 1)
        self.problems[index] = f"{line} (the same in {others + 1} more file{'s' * (others > 0)})"


def check_lab(name: str, limits: Limits) -> Findings:
    """Every problem with lab `name` (none: it is sound)."""
    found = Findings(name)
    try:
        lab = load_lab(name)
        probes = lab.make_probes()  # (a mistake there would fail every file graded below, each its own line)
    except GraderError as exc:
        found(str(exc))
        return found
    init = _show(lab.folder / "__init__.py", lab)
    seen: set[str] = set()
    for probe in probes:
        if probe.id in seen:
            found(f"{init}: two probes are named {probe.id}")
        seen.add(probe.id)
        if probe.function not in lab.functions:
            found(f"{init}: probe {probe.id} calls {probe.function}, which [functions] does not name")
    from .labs.draws import problems

    for problem in problems(lab):
        found(problem)
    if found.problems:  # (every file graded below would fail on it)
        return found
    assert lab.manifest is not None
    files = {"stub": {s: lab.stub(s) for s in (".py", ".ipynb")},
             "solution": {s: lab.solution(s) for s in (".py", ".ipynb")}}
    for role in files.values():
        for path in role.values():
            if not path.is_file():
                found(f"{_show(path, lab)} is missing")
            elif not _signatures(path, lab.manifest, found, lab) and path == files["solution"][".py"]:
                return found  # (the checks run it: every file graded would fail on it)
    _numbers(lab, found)
    _rules_checked(lab, found)
    _check_definitions(lab, found)
    solution = [(path, _grade(path, lab, limits, found)) for path in files["solution"].values() if path.is_file()]
    for path, result in solution:
        if result is not None and result.score != result.max_score:
            lost = [c for c in result.checks if c.score != c.max_score and c.status is not Status.GRADER_ERROR]
            if not lost:  # (only checks that themselves failed: said once above)
                continue
            found(f"the solution {_show(path, lab)} scores {result.score:g}/{result.max_score:g}: "
                  f"{lost[0].name} fails ({lost[0].message}{_values_of(lost[0])})" + (f", and {len(lost) - 1} more" if len(lost) > 1 else ""))
    reference = next((r for _, r in solution if r is not None), None)
    if reference is not None:
        _points(reference, lab.manifest, found)
        _translations(lab, reference, found)
    for path in files["stub"].values():
        if path.is_file() and (result := _grade(path, lab, limits, found)) is not None:
            _stub_scores_nothing(result, path, lab, found)
    _known_mistakes(lab, limits, found)
    from .release.kit import cut_suite

    try:  # what `grade release` would refuse (or carry: a probe on hidden inputs), said now
        cut_suite(lab)
    except GraderError as exc:
        found(f"grade release would refuse it: {exc}")
    return found


def _values_of(check: CheckResult) -> str:
    """"; expected 0.6931, obtained 0.6930": whether the check or the solution is wrong is the instructor's call."""
    shown = [f"{word} {' '.join(value.split())[:120]}" for word, value in (("expected", check.expected),
                                                                        ("obtained", check.obtained)) if value]
    return "; " + ", ".join(shown) if shown else ""


def _show(path: Path, lab: Lab) -> str:
    """A lab's file as the instructor knows it: inside the lab's folder, or the course's for its own labs."""
    for root in (lab.folder, course_root()):
        if path.is_relative_to(root):
            return str(path.relative_to(root))
    return str(path)


def _grade(path: Path, lab: Lab, limits: Limits, found: Findings) -> GradeResult | None:
    from .pipeline import grade

    try:
        result = grade(path, lab.name, limits)
    except GraderError as exc:
        found.once(str(exc).replace(str(path), ""), f"{_show(path, lab)} could not be graded: {exc}")
        return None
    if result.grader_errors:
        bad = result.grader_errors[0]
        found.once(f"{bad.name}: {bad.message}", f"{_show(path, lab)}: the check {bad.name} itself failed ({bad.message})")
    return result


# --- the files' functions against the manifest ----------------------------------------------


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    return f"({ast.unparse(node.args)})"


def _signatures(path: Path, manifest: Manifest, found: Findings, lab: Lab) -> bool:
    """Whether the file defines the manifest's functions as it says (problems to `found`); False where a
    `.py` does not compile (its functions are then not said missing one by one)."""
    units = read_units(path, "ipynb" if path.suffix == ".ipynb" else "py")
    if not units:
        found(f"{_show(path, lab)} cannot be read as {'a notebook' if path.suffix == '.ipynb' else 'Python'}")
        return False
    if path.suffix == ".py":
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            found(f"{_show(path, lab)} does not compile: line {exc.lineno}: {exc.msg}")
            return False
    defined = {name: nodes[0] for name, (nodes, _) in Program(units).functions.items()  # defs, not `name = value`
               if isinstance(nodes[0], (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    for function in manifest.functions:
        node = defined.get(function.name)
        if node is None:
            found(f"{_show(path, lab)} does not define {function.name}")
        else:
            for problem in _compare(node, function):
                found(f"{_show(path, lab)}: {problem}")
    return True


def _compare(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, function: Function) -> Iterator[str]:
    if function.signature is not None:
        if isinstance(node, ast.ClassDef):
            yield f"{function.name} is a class; the manifest gives a function's signature {function.signature}"
        elif _params(node) != function.signature:
            yield f"{function.name}{_params(node)} differs from the manifest's {function.name}{function.signature}"
        return
    if not isinstance(node, ast.ClassDef):
        yield f"{function.name} is a function; the manifest gives a class's methods"
        return
    methods = {n.name: n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for method, signature in function.methods.items():
        if method not in methods:
            yield f"{function.name} has no method {method}"
        elif _params(methods[method]) != signature:
            yield (f"{function.name}.{method}{_params(methods[method])} differs from the manifest's "
                   f"{function.name}.{method}{signature}")


# --- checks, points and lesson numbers -------------------------------------------------------


def _points(result: GradeResult, manifest: Manifest, found: Findings) -> None:
    checks: dict[str, list[CheckResult]] = {}
    for c in result.checks:
        checks.setdefault(c.function, []).append(c)
        if c.max_score <= 0:
            found(f"the check {c.name} has no points ({c.max_score:g}): give it more than 0")
    for function in manifest.functions:
        own = checks.pop(function.name, [])
        if not own:
            found(f"{function.name} has no check")
        elif sum(c.max_score for c in own) != function.points:
            given = sum(c.max_score for c in own)
            found(f"{function.name}'s checks give {given:g} point{'' if given == 1 else 's'}; "
                  f"the manifest says {function.points:g}")
    for graded, own in checks.items():
        found(f"the check {own[0].name} grades {graded}, which the manifest's [functions] does not name")
    found.facts.append(f"{len(result.checks)} checks of {len(manifest.functions)} functions, {result.max_score:g} points")


def _translations(lab: Lab, result: GradeResult, found: Findings) -> None:
    """The lab's own Korean (`ko.toml`): readable, and how many of its check titles it gives."""
    from .i18n import read_lab_words

    try:
        words = read_lab_words(lab.folder, "ko")
    except ValueError as exc:
        found(str(exc))
        return
    if lab.builtin and not words:  # (the course's labs are in grader/messages/ko_labs.toml)
        return
    titles = {c.title for c in result.checks}
    if not words:
        found.facts.append("no ko.toml: its titles and hints stay English in Korean reports")
        return
    found.facts.append(f"ko.toml gives {len(titles & set(words.get('titles', {})))} of {len(titles)} check titles in Korean")


def _check_definitions(lab: Lab, found: Findings) -> None:
    """A `@check` function pytest never collects (not named test_...), and a second one of the same name
    (it replaces the first): both only showed as points that do not add up."""
    for file in sorted(lab.suite.glob("test_*.py")):
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue  # (the grades below say why)
        seen: set[str] = set()
        where = f"{lab.suite.name}/{file.name}"
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            is_check = any(isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "check"
                           for d in node.decorator_list)
            if is_check and not node.name.startswith("test"):
                found(f"{where}:{node.lineno}: the check {node.name} is not named test_...: pytest never runs it")
            if node.name.startswith("test") and node.name in seen:
                found(f"{where}:{node.lineno}: a second check named {node.name} replaces the first one (a copy left "
                      "with its old name?)")
            seen.add(node.name)


def _rules_checked(lab: Lab, found: Findings) -> None:
    """A [rules.<function>] that no check applies (`expect_by_hand(observed, "<function>", ...)`) is never
    kept: a student breaking it still earns full marks."""
    assert lab.manifest is not None
    applied: set[str] = set()
    for file in sorted(lab.suite.glob("test_*.py")):
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue  # (the grades below say why)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "expect_by_hand" \
                    and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                applied.add(str(node.args[1].value))
    for function in sorted(set(lab.manifest.rules) - applied):
        found(f"[rules.{function}] is applied by no check: a check must call expect_by_hand(observed, "
              f"\"{function}\", hint=...), or the rule is never kept")


def suite_numbers(suite: Path) -> dict[str, str]:
    """Every string constant in the suite that is a decimal number, with the file and line it is on."""
    numbers: dict[str, str] = {}
    for file in sorted(suite.glob("test_*.py")):
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError) as exc:
            numbers[f"<{file.name} unreadable: {exc}>"] = file.name
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _NUMBER.fullmatch(node.value):
                numbers.setdefault(node.value, f"{file.name}:{node.lineno}")
    return numbers


def _numbers(lab: Lab, found: Findings) -> None:
    assert lab.manifest is not None
    table = lab.manifest.lesson_numbers()
    numbers = suite_numbers(lab.suite)
    for number, where in numbers.items():
        if number.startswith("<"):
            found(number[1:-1])
        elif number not in table:
            found(f"the checks use {number} ({where}), which the manifest's [values] does not list")
    found.facts.append(f"{len(numbers)} lesson numbers in [values]")


# --- what the stubs and the known mistakes score ----------------------------------------------


def _stub_scores_nothing(result: GradeResult, path: Path, lab: Lab, found: Findings) -> None:
    if result.score != 0:
        earned = [c for c in result.checks if c.score > 0]
        found(f"the stub {_show(path, lab)} scores {result.score:g}/{result.max_score:g} "
              f"({earned[0].name} passes on it)")
    raised = [i for i in result.issues if i.kind in (IssueKind.CELL_ERROR, IssueKind.LOAD_ERROR)]
    if raised:  # every student grading the stub as handed out would see it
        found(f"the stub {_show(path, lab)} raises as handed out, in {raised[0].where}: {raised[0].message[:200]} "
              "(a cell that calls the unfinished functions wants the tag demo, so that grading skips it)")
    quiet = [c for c in result.checks if "not implemented" not in c.message and c.status is not Status.GRADER_ERROR]
    if quiet:
        found(f"the stub {_show(path, lab)}: {quiet[0].name} does not say \"not implemented\" ({quiet[0].message})")


def _known_mistakes(lab: Lab, limits: Limits, found: Findings) -> None:
    assert lab.manifest is not None
    folder = lab.folder / KNOWN_MISTAKES
    files = sorted(p for p in folder.iterdir() if p.suffix in (".py", ".ipynb")) if folder.is_dir() else []
    listed = lab.manifest.known_mistakes
    for name in sorted(set(listed) - {p.name for p in files}):
        found(f"[known_mistakes] names {name}, which is not in {KNOWN_MISTAKES}/")
    for path in files:
        result = _grade(path, lab, limits, found)
        if result is None:
            continue
        checks = {c.name: c for c in result.checks}
        if result.score >= result.max_score:
            found(f"the known mistake {KNOWN_MISTAKES}/{path.name} scores full marks")
        if path.name not in listed:
            continue
        for name in listed[path.name]:
            if name not in checks:
                found(f"[known_mistakes] {path.name}: there is no check {name}")
            elif checks[name].score >= checks[name].max_score:
                found(f"the known mistake {KNOWN_MISTAKES}/{path.name} passes {name}, which it should fail")
        others = [c.name for c in result.checks if c.score < c.max_score and c.name not in listed[path.name]
                  and c.status is not Status.GRADER_ERROR]  # (a check that itself failed: said once above)
        if others:
            found(f"the known mistake {KNOWN_MISTAKES}/{path.name} also fails {', '.join(others)}, "
                  "which [known_mistakes] does not list")
    found.facts.append(f"{len(files)} known mistake{'s' * (len(files) != 1)}" if files else
                       f"no {KNOWN_MISTAKES}/ folder: no known mistakes were tried")
