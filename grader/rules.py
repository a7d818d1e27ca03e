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


#: What autograd and the optimizers are reached through (after following imports).
AUTOGRAD = ("torch.autograd.", "torch.func.", "functorch.")
OPTIMIZERS = ("torch.optim.",)


def _dotted(node: ast.expr) -> str:
    """`torch.autograd.grad` for that attribute chain; '' for anything that is not a plain chain."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return ".".join(["(...)", *reversed(parts)]) if parts else ""  # a method of a computed value: (x * 2).backward


class _Program:
    """The submission's top-level functions (a later definition replaces an earlier one, as when
    cells run in order) and the names its imports bind."""

    def __init__(self, units: tuple[Unit, ...]) -> None:
        self.functions: dict[str, tuple[ast.AST, Unit]] = {}
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


def breaches(units: tuple[Unit, ...], function: str, forbidden: tuple[str, ...]) -> list[Breach]:
    """Calls `function` makes, itself or through the submission's other functions, that reach a
    name starting with one of `forbidden` (or `.backward()` when autograd is forbidden)."""
    program = _Program(units)
    found: list[Breach] = []
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
            full = program.resolve(written)
            backward = written.endswith(".backward") and "torch.autograd." in forbidden  # tensor.backward()
            if backward or full.startswith(forbidden):
                line = f"line {call.lineno}"
                found.append(Breach(written, name, f"{unit.where}, {line}" if unit.where else line))
            elif "." not in written and written in program.functions:
                pending.append(written)
    return found
