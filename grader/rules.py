"""Rules a function must keep, checked on the grader's side from the submission's own source.

Some exercises ask for a way of computing, not only a value: lab 2's `gradient` and lab 3's
hand-written update are derived by hand, so autograd (`.backward()`, `torch.autograd`) and
`torch.optim` are off limits there, although they give the same numbers. The rule is read from
the submitted file with `ast` (never by asking the student's process): the function's body and
every function of the submission it calls, directly or through others. Imports are followed
(`from torch.autograd import grad as g` makes `g(...)` a `torch.autograd.grad` call); code that
builds a call out of strings (`getattr(x, "back" + "ward")`) is not seen: the known limit.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .sources import Unit, parse_code


@dataclass(frozen=True)
class Breach:
    call: str  # as the student wrote it: "cost.backward", "torch.autograd.grad"
    function: str  # the function whose body makes the call
    where: str  # "line 14" or "cell 4, line 3"


def _dotted(node: ast.expr) -> str:
    """`torch.autograd.grad` for that attribute chain; '' for anything that is not a plain chain."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return ".".join(["(...)", *reversed(parts)]) if parts else ""  # a method of a computed value: (x * 2).backward


class Program:
    """The submission's top-level functions (a later definition replaces an earlier one, as when
    cells run in order) and the names its imports bind."""

    def __init__(self, units: tuple[Unit, ...]) -> None:
        self.functions: dict[str, tuple[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, Unit]] = {}
        self.aliases: dict[str, str] = {}
        for unit in units:
            tree = parse_code(unit.text)
            if tree is None:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for name in node.names:  # `import a.b` binds a; `import a.b as c` binds c to a.b
                        top = name.name.split(".")[0]
                        self.aliases[name.asname or top] = name.name if name.asname else top
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    for name in node.names:
                        self.aliases[name.asname or name.name] = f"{node.module}.{name.name}"
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    self.functions[node.name] = (node, unit)

    def resolve(self, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        full = self.aliases.get(head, head)
        return f"{full}.{rest}" if rest else full


def _calls(units: tuple[Unit, ...], function: str) -> list[tuple[str, str, str, str]]:
    """(as written, resolved, in which function, where) for every call `function` makes, itself or
    through the submission's functions it calls."""
    program = Program(units)
    found: list[tuple[str, str, str, str]] = []
    seen: set[str] = set()
    pending = [function]
    while pending:
        name = pending.pop(0)
        if name in seen or name not in program.functions:
            continue
        seen.add(name)
        node, unit = program.functions[name]
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            written = _dotted(call.func)
            if not written:
                continue
            line = f"line {call.lineno}"
            found.append((written, program.resolve(written), name, f"{unit.where}, {line}" if unit.where else line))
            if "." not in written and written in program.functions:
                pending.append(written)
    return found


def _matches(written: str, resolved: str, name: str) -> bool:
    if name == "backward":
        return written.endswith(".backward") or written == "backward"
    return resolved == name or resolved.startswith(name + ".")


def forbidden_calls(units: tuple[Unit, ...], function: str, forbid: tuple[str, ...]) -> list[Breach]:
    """Calls of `function` (and of the functions it calls) that a rule forbids."""
    return [Breach(written, name, where) for written, resolved, name, where in _calls(units, function)
            if any(_matches(written, resolved, f) for f in forbid)]


def missing_calls(units: tuple[Unit, ...], function: str, require: tuple[str, ...]) -> list[str]:
    """The calls a rule requires that neither `function` nor any function it calls makes."""
    if not require:
        return []
    calls = _calls(units, function)
    return [r for r in require if not any(_matches(written, resolved, r) for written, resolved, _, _ in calls)]
