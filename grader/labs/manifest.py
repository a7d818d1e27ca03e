"""A lab's manifest, `lab.toml`: what the lab asks for, read and checked before any code runs.

    title = "Logistic regression: sigmoid, binary cross-entropy, one training step"
    stem = "logistic"                      # optional: the stub's file stem (default: the folder's name)

    [functions.sigmoid]                    # one table per graded function, in the order students meet them
    points = 2                             # what its checks add up to
    signature = "(z)"                      # its parameters, as the stub writes them

    [functions.LogisticModel]              # a class: its methods' parameters
    points = 3
    methods = { __init__ = "(self)", forward = "(self, x)" }

    [limits]                               # optional: this lab's time limits in seconds (flags still win)
    call = 20
    cell = 60

    [values]                               # every lesson number the checks compare with, as printed
    "lesson 005" = ["0.6931", "0.4032"]

    [files]                                # optional, labs outside the grader: stubs and solutions
    exercise = "exercise"
    solution = "solution"

    [known_mistakes]                       # optional: known-mistakes/<file> and the checks it fails (only those)
    "sum_instead_of_mean.py" = ["cost.lesson_values"]

    [rules.gradient]                       # optional: how a function must compute, read from its source
    forbid = ["backward", "torch.autograd", "torch.optim"]  # calls it (or a function it calls) must not make
    require = []                           # calls it must make, e.g. ["torch.sigmoid"]

    [feedback]                             # optional: a failure on hidden inputs shows its expected
    show_hidden_expected = false           # values only when true (default false)
    carry_forward = false                  # a mistake costs points once, where it is made (default false)

    [draws]                                # optional: hidden inputs in data.py drawn per submission
    HIDDEN_X = { low = -2.0, high = 5.0 }  # every number in it, uniformly, rounded to `decimals` (2)

This module needs no torch: the CLI reads manifests before anything heavy is imported.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GraderError

MANIFEST = "lab.toml"
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_LIMITS = ("call", "cell")


class ManifestError(GraderError):
    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class Function:
    name: str
    points: float
    signature: str | None  # a function's "(params)", normalised
    methods: dict[str, str] = field(default_factory=dict)  # a class's method -> "(params)"


@dataclass(frozen=True)
class Rule:
    """Calls a function must not make and calls it must make (itself or through the submission's
    functions it calls): "backward" is any `.backward()`, a dotted name also covers what is under it."""

    forbid: tuple[str, ...] = ()
    require: tuple[str, ...] = ()


@dataclass(frozen=True)
class Draw:
    """How to draw one hidden input: each number in it from [low, high] (whole numbers stay whole)."""

    low: float
    high: float
    decimals: int = 2


@dataclass(frozen=True)
class Manifest:
    path: Path
    name: str
    title: str
    stem: str
    functions: tuple[Function, ...]
    limits: dict[str, float]
    values: dict[str, tuple[str, ...]]
    exercise: str | None
    solution: str | None
    known_mistakes: dict[str, tuple[str, ...]]
    draws: dict[str, Draw] = field(default_factory=dict)
    show_hidden_expected: bool = False
    rules: dict[str, Rule] = field(default_factory=dict)
    carry_forward: bool = False  # follow-through marking (grader.checks)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def lesson_numbers(self) -> frozenset[str]:
        return frozenset(v for values in self.values.values() for v in values)


def normalise_signature(text: str) -> str:
    """`"(x, W, b = 0.10)"` -> `"(x, W, b=0.1)"`; ValueError if it is not a parameter list."""
    try:
        tree = ast.parse(f"def f{text.strip()}:\n    pass\n")
    except SyntaxError:
        raise ValueError(f"{text!r} is not a parameter list like \"(x, W, b)\"") from None
    node = tree.body[0]
    assert isinstance(node, ast.FunctionDef)
    return f"({ast.unparse(node.args)})"


def read_manifest(path: Path) -> Manifest:
    """Parse and check `path` (a lab.toml); ManifestError with one line per first problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(path, f"cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(path, f"is not valid TOML ({exc})") from None
    name = path.parent.name
    if not _NAME.fullmatch(name):
        raise ManifestError(path, f"the lab's folder name {name!r} must be lower-case letters, digits and _")
    own = sorted(p.stem for p in Path(__file__).parent.glob("*.py") if not p.stem.startswith("_"))
    if name in own:  # (a lab imports as grader.labs.<name>, where these modules of the grader are)
        raise ManifestError(path, f"the lab's folder name {name!r} is the name of one of the grader's own modules; "
                                  f"rename the folder (taken: {', '.join(own)})")
    known = {"title", "stem", "functions", "limits", "values", "files", "known_mistakes", "draws", "feedback", "rules"}
    extra = sorted(set(data) - known)
    if extra:
        raise ManifestError(path, f"unknown key {extra[0]!r} (known: {', '.join(sorted(known))})")
    title = _text(path, data, "title")
    stem = data.get("stem", name)
    if not isinstance(stem, str) or not _NAME.fullmatch(stem):
        raise ManifestError(path, "stem must be lower-case letters, digits and _")
    files = _table(path, data, "files")
    for key in files:
        if key not in ("exercise", "solution") or not isinstance(files[key], str):
            raise ManifestError(path, f"[files] takes exercise = \"folder\" and solution = \"folder\", not {key!r}")
    return Manifest(path=path, name=name, title=title, stem=stem, functions=_functions(path, data),
                    limits=_limits(path, data), values=_values(path, data), exercise=files.get("exercise"),
                    solution=files.get("solution"), known_mistakes=_mistakes(path, data),
                    draws=_draws(path, data), show_hidden_expected=_feedback(path, data, "show_hidden_expected"),
                    rules=_rules(path, data), carry_forward=_feedback(path, data, "carry_forward"))


def _text(path: Path, data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ManifestError(path, f"{key} must be a non-empty string")
    return value


def _table(path: Path, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ManifestError(path, f"[{key}] must be a table")
    return value


def _functions(path: Path, data: dict[str, Any]) -> tuple[Function, ...]:
    table = _table(path, data, "functions")
    if not table:
        raise ManifestError(path, "it names no [functions.NAME] to grade")
    found = []
    for name, spec in table.items():
        where = f"[functions.{name}]"
        if not name.isidentifier() or not isinstance(spec, dict):
            raise ManifestError(path, f"{where} must be a table named after a Python function or class")
        extra = sorted(set(spec) - {"points", "signature", "methods"})
        if extra:  # (a typo, `pionts = 2`, or a key the grader has no use for)
            raise ManifestError(path, f"{where}: unknown key {extra[0]!r} (known: methods, points, signature)")
        points = spec.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
            raise ManifestError(path, f"{where} needs points, a number above 0, not {points!r}" if "points" in spec
                                else f"{where} needs points, a number above 0")
        signature, methods = spec.get("signature"), spec.get("methods", {})
        if (signature is None) == (not methods):
            raise ManifestError(path, f"{where} needs signature = \"(...)\" for a function or methods = {{...}} for a class")
        try:
            normal = normalise_signature(signature) if isinstance(signature, str) else None
            if signature is not None and normal is None:
                raise ValueError("signature must be a string")
            if not isinstance(methods, dict) or not all(isinstance(v, str) for v in methods.values()):
                raise ValueError("methods must map method names to \"(self, ...)\" strings")
            found.append(Function(name, float(points), normal, {m: normalise_signature(s) for m, s in methods.items()}))
        except ValueError as exc:
            raise ManifestError(path, f"{where}: {exc}") from None
    return tuple(found)


def _limits(path: Path, data: dict[str, Any]) -> dict[str, float]:
    table = _table(path, data, "limits")
    for key, value in table.items():
        if key not in _LIMITS or isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ManifestError(path, f"[limits] takes {' and '.join(_LIMITS)}, seconds above 0; not {key} = {value!r}")
    return {k: float(v) for k, v in table.items()}


def _values(path: Path, data: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    table = _table(path, data, "values")
    for source, values in table.items():
        if not isinstance(values, list) or not all(isinstance(v, str) and _NUMBER.fullmatch(v) for v in values):
            raise ManifestError(path, f"[values] {source!r} must be a list of numbers written as strings, as printed")
    return {k: tuple(v) for k, v in table.items()}


def _mistakes(path: Path, data: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    table = _table(path, data, "known_mistakes")
    for file, checks in table.items():
        if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
            raise ManifestError(path, f"[known_mistakes] {file!r} must list the checks it fails, e.g. [\"cost.lesson_values\"]")
    return {k: tuple(v) for k, v in table.items()}


def _draws(path: Path, data: dict[str, Any]) -> dict[str, Draw]:
    table = _table(path, data, "draws")
    found = {}
    for name, rule in table.items():
        low, high = (rule.get("low"), rule.get("high")) if isinstance(rule, dict) else (None, None)
        decimals = rule.get("decimals", 2) if isinstance(rule, dict) else None
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
        if (not name.isidentifier() or not numbers or not isinstance(decimals, int) or isinstance(decimals, bool)
                or not 0 <= decimals <= 8 or set(rule) - {"low", "high", "decimals"} or not low < high):  # type: ignore[operator]
            raise ManifestError(path, f"[draws] {name} must be {{ low = A, high = B }} with A < B (and decimals = 0..8)")
        found[name] = Draw(float(low), float(high), decimals)  # type: ignore[arg-type]
    return found


def _feedback(path: Path, data: dict[str, Any], key: str) -> bool:
    table = _table(path, data, "feedback")
    wrong = sorted(k for k, v in table.items() if k not in ("show_hidden_expected", "carry_forward") or not isinstance(v, bool))
    if wrong:
        raise ManifestError(path, "[feedback] takes show_hidden_expected = true or false and carry_forward = true or false; "
                                  f"not {wrong[0]} = {table[wrong[0]]!r}")
    return bool(table.get(key, False))


def _rules(path: Path, data: dict[str, Any]) -> dict[str, Rule]:
    table = _table(path, data, "rules")
    named = {f.name for f in _functions(path, data)}
    found = {}
    for function, rule in table.items():
        lists = {k: rule.get(k, []) for k in ("forbid", "require")} if isinstance(rule, dict) else {}
        if (function not in named or not lists or set(rule) - set(lists)
                or not all(isinstance(v, list) and all(isinstance(c, str) and c for c in v) for v in lists.values())):
            raise ManifestError(path, f"[rules.{function}] must name a function of [functions] and take "
                                      "forbid = [\"call\", ...] and require = [\"call\", ...]")
        found[function] = Rule(tuple(lists["forbid"]), tuple(lists["require"]))
    return found
