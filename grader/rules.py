"""Rules a function must keep, checked on the grader's side from the submission's own source.

Some exercises ask for a way of computing, not only a value: lab 2's `gradient` and lab 3's
hand-written update are derived by hand, so autograd (`.backward()`, `torch.autograd`) and
`torch.optim` are off limits there, although they give the same numbers. The rule is read from
the submitted file with `ast` (never by asking the student's process): the function's body and
every function and class of the submission it names, directly or through others. Names are
followed through imports (`from torch.autograd import grad as g` makes `g(...)` a
`torch.autograd.grad` call), assignments and default arguments (`ag = torch.autograd`,
`_g=torch.autograd.grad`) and top-level rebindings (`gradient = by_autograd`); a forbidden name
passed on without a call (`map(torch.autograd.grad, ...)`) counts too. Code too deeply nested to
parse fails the rule (it cannot be read). A name looked up from a string is read where the string
is written out (`getattr(cost, "backward")` is a `.backward` call, `__import__("torch.autograd")`
and `importlib.import_module(...)` name that module); where it is computed
(`getattr(x, "back" + "ward")`), or code is run from text (`eval`, `exec`, `compile`), the rule
cannot be read and fails with that line (`computed_names`); so does a namespace read as a table
(`vars(torch)["autograd"]`, `sys.modules[...]`, `globals()[...]`, `x.__getattribute__(...)`).
What the top level stores where a function may look is read as part of it: into an object of its
own (`_T["g"] = ...`, `_T.update(...)`, and a class's attributes when the function uses the class),
onto an attribute anywhere (`torch.Tensor.bw = ...`, `setattr(builtins, "g", ...)`: read wherever
`.bw`, or a bare `g`, is used), and through a table or text (`globals()["g"] = ...`, `exec(...)`:
read for every function). A required call counts only in code that can run: not under `if False:`,
after a `return`, or in a function defined inside and never named. It says the function calls it,
not that the call does the work (a dummy optimizer stepped beside a hand-written update passes).
"""

from __future__ import annotations

import ast
import builtins
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from .sources import TooDeep, Unit, parse_code


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
    """The submission's top-level functions and classes, those inside top-level `if`, `try` and the
    like included (a later definition replaces an earlier one, as when cells run in order; `name =
    value` at the top level rebinds a name to what `value` names), and the names bound to something
    dotted: by imports, and by assignments and default arguments at the top level (`ag = torch.autograd`)."""

    def __init__(self, units: tuple[Unit, ...]) -> None:
        self.functions: dict[str, tuple[list[ast.AST], Unit]] = {}  # name -> what it is bound to, where
        self.methods: dict[str, set[str]] = {}  # method name -> the submission's classes that define it
        self.aliases: dict[str, str] = {}
        # What the top level stores where a function may find it by a name the rule does not bind:
        # `_T["g"] = v` and `_T.update(g=v)` under "_T", `torch.Tensor.bw = v` and `setattr(x, "bw", v)`
        # under "torch"/"x" and ".bw" (any `.bw`, and a bare `bw` when it names nothing else: builtins).
        self.attached: dict[str, list[tuple[ast.AST, Unit]]] = {}
        self.imported: set[str] = set()  # names bound by imports: modules, whose own calls store nothing of the submission's
        self.star: list[str] = []  # modules imported with `*`: a name bound nowhere else may come from them
        self.unreadable: list[str] = []  # units too deeply nested to parse here ("cell 4", "" for a .py)
        for unit in units:
            try:
                tree = parse_code(unit.text, strict=True)
            except TooDeep:
                self.unreadable.append(unit.where)
                continue
            if tree is None:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for name in node.names:  # `import a.b` binds a; `import a.b as c` binds c to a.b
                        top = name.name.split(".")[0]
                        self.aliases[name.asname or top] = name.name if name.asname else top
                        self.imported.add(name.asname or top)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    for name in node.names:
                        if name.name == "*":
                            self.star.append(node.module)
                            continue
                        self.aliases[name.asname or name.name] = f"{node.module}.{name.name}"
                        self.imported.add(name.asname or name.name)
            for statement, nested in _statements(tree.body):
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    self._define(statement.name, statement, unit, nested)
                    if isinstance(statement, ast.ClassDef):
                        for item in statement.body:
                            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                                self.methods.setdefault(item.name, set()).add(statement.name)
                plain = _bindings(statement)
                for target, value in plain:
                    self._define(target, value, unit, nested)
                    if _dotted(value):
                        self.aliases[target] = _dotted(value)
                for target in sorted(_stored_names(statement) - {t for t, _ in plain}):
                    self._define(target, statement, unit, True)  # (`for g in (f,)`, `g, = (f,)`, `with f as g`: the whole statement)
                for key, stored in _stores(statement, self.imported, self.resolve):
                    self.attached.setdefault(key, []).append((stored, unit))

    def _define(self, name: str, node: ast.AST, unit: Unit, nested: bool) -> None:
        """`name` bound to `node`: a definition replaces those of earlier units and the unit's own
        earlier ones, except inside an `if`, `try`, `with` or loop, where it adds to what the unit
        bound (either branch may be the one that ran)."""
        known = self.functions.get(name)
        if nested and known is not None and known[1] is unit:
            known[0].append(node)
        else:
            self.functions[name] = ([node], unit)

    def resolve(self, dotted: str, local: dict[str, str | None] | None = None) -> str:
        """The dotted name `dotted` stands for, through the names bound to dotted names (a name of
        `local`, a function's own, hides the program's; None there: bound to a value)."""
        for _ in range(10):  # a chain of names, not a cycle
            head, _, rest = dotted.partition(".")
            if local is not None and head in local:
                full = local[head]
                if full is None:
                    return dotted
            else:
                full = self.aliases.get(head)
            if full is None or full == head or full.split(".")[0] == head:
                return f"{full}.{rest}" if full and rest else (full or dotted)
            dotted = f"{full}.{rest}" if rest else full
        return dotted


_BLOCKS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.TryStar, ast.Match)


def _statements(body: list[ast.stmt], nested: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
    """The statements of a module's top level, with those inside its `if`, `try`, `with`, loops and
    `match` (not inside functions and classes): a function defined there is the submission's too.
    With whether the statement is inside such a block."""
    for statement in body:
        yield statement, nested
        if isinstance(statement, _BLOCKS):
            inner: list[ast.stmt] = [*getattr(statement, "body", []), *getattr(statement, "orelse", []),
                                     *getattr(statement, "finalbody", [])]
            for part in [*getattr(statement, "handlers", []), *getattr(statement, "cases", [])]:
                inner.extend(part.body)
            yield from _statements(inner, True)


def _bindings(node: ast.AST) -> list[tuple[str, ast.expr]]:
    """(name, value) for each plain name `node` assigns: `a = b = value`, `a: T = value`, `(a := value)`."""
    if isinstance(node, ast.Assign):
        return [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and isinstance(node.target, ast.Name) and node.value:
        return [(node.target.id, node.value)]
    return []


def _stored_names(statement: ast.stmt) -> set[str]:
    """The names a top-level statement binds by any form (loop and `with` targets, unpacking, `:=`), outside
    the functions, classes and comprehensions it holds (its own `def` and `class` are bound elsewhere)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
        return set()
    found: set[str] = set()
    pending: list[ast.AST] = [statement]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
        for child in ast.iter_child_nodes(node):
            if node is not statement and isinstance(node, _BLOCKS):
                continue  # (a block's own statements are the top level's too, and come one by one)
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
                                      ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                pending.append(child)
    return found


def _is_table(node: ast.AST, resolve: Callable[[str], str]) -> bool:
    """Whether `node` is a namespace as a table: `globals()`, `vars(x)`, `locals()`, `sys.modules`, `x.__dict__`."""
    if isinstance(node, ast.Call):
        return resolve(_dotted(node.func)) in _TABLE_CALLS
    if isinstance(node, (ast.Name, ast.Attribute)):
        written = _dotted(node)
        return written.rsplit(".", 1)[-1] in ("__dict__", "__builtins__") or resolve(written) == "sys.modules"
    return False


# Methods that change a table they are called on: `globals().update(g=...)`.
_MUTATORS = {"update", "__setitem__", "setdefault", "__init__", "__ior__"}


def _base(node: ast.expr) -> str:
    """The name an attribute and subscript chain starts from (`_T` for `_T["g"].x`), or ''."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _stores(statement: ast.stmt, imported: set[str], resolve: Callable[[str], str]) -> list[tuple[str, ast.AST]]:
    """(key, value) for what a top-level statement stores into an object rather than binds to a name:
    under the name the target starts from (unless an import bound it: `torch.zeros(1)` stores nothing),
    under ".attr" for an attribute, and under "*" (every function may reach it) for a store through a
    namespace read as a table (`globals()["g"] = ...`) or code run from text (see Program.attached)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    found: list[tuple[str, ast.AST]] = []
    targets: list[tuple[ast.expr, ast.expr]] = []
    if isinstance(statement, ast.Assign):
        targets = [(t, statement.value) for t in statement.targets]
    elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)) and statement.value is not None:
        targets = [(statement.target, statement.value)]
    for target, value in targets:
        for part in ast.walk(target):  # (`a.b, c[0] = ...`: each element)
            if not isinstance(part, (ast.Attribute, ast.Subscript)) or not isinstance(part.ctx, ast.Store):
                continue
            if _base(part) and _base(part) not in imported:
                found.append((_base(part), value))
            if isinstance(part, ast.Attribute):
                found.append(("." + part.attr, value))
            if any(_is_table(n, resolve) for n in ast.walk(part)):  # `globals()["g"] = ...`, `sys.modules["m"].g = ...`
                found.append(("*", value))
    for call in (n for n in ast.walk(statement) if isinstance(n, ast.Call)):
        changed = isinstance(call.func, ast.Attribute) and call.func.attr in _MUTATORS and _is_table(call.func.value, resolve)
        handed = any(_is_table(a, resolve) for a in [*call.args, *(k.value for k in call.keywords)])
        if changed or handed:  # a table changed or handed on (`globals().update(g=...)`, `inject(globals())`)
            found.append(("*", call))
        if isinstance(call.func, ast.Name) and call.func.id in ("exec", "eval", "compile", "setattr"):
            if call.func.id != "setattr" or len(call.args) != 3:
                found.append(("*", call))
                continue
            owner, name, value = call.args
            if _base(owner) and _base(owner) not in imported:
                found.append((_base(owner), value))
            if any(_is_table(n, resolve) for n in ast.walk(owner)):  # `setattr(sys.modules[__name__], "g", ...)`
                found.append(("*", value))
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.append(("." + name.value, value))
            else:  # an attribute named at run time: any function may reach it
                found.append(("*", value))
        elif isinstance(call.func, ast.Attribute) and _base(call.func.value) and _base(call.func.value) not in imported:
            found.append((_base(call.func.value), call))  # `_T.update(g=v)`, `_L.append(v)`
    return found


def _local_names(node: ast.AST) -> dict[str, str | None]:
    """The names a function binds itself (its parameters, its assignments): to a dotted name
    where that is what they are given (`g = torch.autograd.grad`, `_g=torch.autograd.grad` as a
    default), else None. Nested functions and classes count as the function's own."""
    local: dict[str, str | None] = {}
    for inner in ast.walk(node):
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = inner.args
            positional = args.posonlyargs + args.args
            defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
            for arg, default in [*zip(positional, defaults), *zip(args.kwonlyargs, args.kw_defaults)]:
                local[arg.arg] = (_dotted(default) or None) if default is not None else None
            for rest in (args.vararg, args.kwarg):
                if rest is not None:
                    local[rest.arg] = None
        for name, value in _bindings(inner):
            local[name] = _dotted(value) or None
    for inner in ast.walk(node):  # bound any other way (unpacking, a loop, `with ... as`, `except ... as`): a value
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
            local.setdefault(inner.id, None)
        elif isinstance(inner, ast.ExceptHandler) and inner.name:
            local.setdefault(inner.name, None)
    for inner in ast.walk(node):  # `global g`: the module's g, not the function's
        if isinstance(inner, ast.Global):
            for name in inner.names:
                local.pop(name, None)
    return local


def _falsy(test: ast.expr) -> bool | None:
    """Whether a test is a constant (`False`, `0`, `None`, `not True`): True if falsy, False if truthy, else None."""
    try:
        return not ast.literal_eval(test)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = _falsy(test.operand)
            return None if inner is None else not inner
        return None


def _live(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk` without the code that never runs: a branch under a constant test (`if False:`, `while 0:`,
    the `else` of `if True:`), statements after a `return`, `raise`, `break` or `continue` in their block,
    and functions defined inside that the code around them never names."""
    named = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    pending = deque([node])
    while pending:
        item = pending.popleft()
        yield item
        for field, value in ast.iter_fields(item):
            if not isinstance(value, list):
                if isinstance(value, ast.AST):
                    pending.append(value)
                continue
            if isinstance(item, (ast.If, ast.While)) and field in ("body", "orelse"):
                falsy = _falsy(item.test)
                if falsy is not None and falsy == (field == "body"):
                    continue
            for child in value:
                if not isinstance(item, ast.ClassDef) and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                        and child.name not in named:  # (a class's methods are named as attributes)
                    continue
                if isinstance(child, ast.AST):
                    pending.append(child)
                if isinstance(child, (ast.Return, ast.Raise, ast.Break, ast.Continue)):
                    break


def _uses(node: ast.AST, live: bool = False) -> Iterator[tuple[ast.expr, bool]]:
    """Every name and attribute chain `node` reads, whole (`torch.autograd.grad`, not also its
    `torch.autograd`), in `ast.walk` order (`live`: of the code that can run); with whether it is the
    function of a call."""
    nodes = list(_live(node) if live else ast.walk(node))
    inside_chain: set[int] = set()
    called: set[int] = set()
    for inner in nodes:
        if isinstance(inner, ast.Attribute):
            inside_chain.add(id(inner.value))
        elif isinstance(inner, ast.Call):
            called.add(id(inner.func))
    for inner in nodes:
        if isinstance(inner, (ast.Name, ast.Attribute)) and isinstance(inner.ctx, ast.Load) \
                and id(inner) not in inside_chain:
            yield inner, id(inner) in called


@lru_cache(maxsize=4)
def _program(units: tuple[Unit, ...]) -> Program:
    """The submission's Program, parsed once for all the rule checks of a grade (never changed after)."""
    return Program(units)


def defined_names(units: tuple[Unit, ...]) -> tuple[set[str], set[str]]:
    """Every top-level name the submission defines, and those of them a def or class defines."""
    functions = _program(units).functions
    return set(functions), {name for name, (nodes, _) in functions.items()
                            if any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in nodes)}


def returns_nothing(units: tuple[Unit, ...], function: str) -> bool:
    """Whether every definition of the submission's function `function` lacks a `return` with a value (and
    a `yield`): it always returns None. False for a class, a name bound otherwise, or one not found."""
    found = _program(units).functions.get(function)
    if found is None or not found[0]:
        return False
    return all(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _gives_nothing(node) for node in found[0])


_GRAD_OFF = frozenset({"no_grad", "inference_mode", "set_grad_enabled"})


def turns_grad_off(units: tuple[Unit, ...], function: str) -> bool:
    """Whether a definition of the submission's function `function` names torch.no_grad, inference_mode or
    set_grad_enabled (read from its code, not its comments or docstring): autograd may record nothing there."""
    found = _program(units).functions.get(function)
    return found is not None and any(
        isinstance(n, ast.Attribute) and n.attr in _GRAD_OFF or isinstance(n, ast.Name) and n.id in _GRAD_OFF
        for node in found[0] for n in ast.walk(node))


def forward_returns_nothing(units: tuple[Unit, ...], cls: str) -> bool:
    """Whether every definition of the submission's class `cls` has a `forward` method that lacks a `return`
    with a value: the model gives None. False for a function, a class without `forward`, or one not found."""
    found = _program(units).functions.get(cls)
    if found is None or not found[0]:
        return False
    for node in found[0]:
        if not isinstance(node, ast.ClassDef):
            return False
        forwards = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "forward"]
        if not forwards or not _gives_nothing(forwards[-1]):
            return False
    return True


def _gives_nothing(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """No `return` with a value (and no `yield`) in the function's own body."""
    pending: list[ast.AST] = list(node.body)
    while pending:
        item = pending.pop()
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue  # (their returns are their own)
        if isinstance(item, ast.Return) and item.value is not None or isinstance(item, (ast.Yield, ast.YieldFrom)):
            return False
        pending.extend(ast.iter_child_nodes(item))
    return True


def reached(units: tuple[Unit, ...], function: str) -> set[str]:
    """The submission's functions and classes `function` calls or names, itself or through the ones
    it names (not `function` itself)."""
    return set(_walk(units, function)[1] - {function})


@lru_cache(maxsize=16)
def _walk(units: tuple[Unit, ...], function: str, skip: frozenset[str] = frozenset(), live: bool = False
          ) -> tuple[tuple[tuple[str, str, str, str, bool], ...], frozenset[str], tuple[tuple[str, str, str], ...]]:
    """(as written, resolved, in which function, where, whether called) for every name `function` uses,
    itself or through the submission's functions and classes it names; those it went through (`function` included); and
    the computed look-ups (the call's text, in which function, where). Walked once per function for
    all of a rule's parts (forbidden, computed, required; `live`: only the code that can run, for what
    a rule requires). The functions in `skip` are not gone into (their own rule judges them). What the
    top level stores where the function may look (Program.attached) is gone into as well."""
    program = _program(units)
    found: list[tuple[str, str, str, str, bool]] = []
    computed: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    queued: set[str] = set()
    expanded: set[str] = set()  # method names whose classes are queued already
    pending: deque[str] = deque()

    def queue(key: str) -> None:  # (each key once: 2,000 classes naming one method took minutes)
        if key not in queued:
            queued.add(key)
            pending.append(key)

    queue(function)
    if "*" in program.attached:
        queue("*")
    while pending:
        name = pending.popleft()
        if name in skip and name != function:
            continue
        if name in program.functions:
            nodes, unit = program.functions[name]
            parts = [(node, unit, name) for node in nodes]
        elif name in program.attached:
            parts = []
        else:
            continue
        parts += [(node, unit, "the top level") for node, unit in program.attached.get(name, [])]
        seen.add(name)
        for node, unit, shown in parts:
            local = _local_names(node)
            for use, is_call in _uses(node, live):
                written = _dotted(use)
                if not written:
                    continue
                line = f"line {use.lineno}"
                where = f"{unit.where}, {line}" if unit.where else line
                resolved = program.resolve(written, local)
                found.append((written, resolved, shown, where, is_call))
                if _introspects(written, resolved) or (not is_call and _lookup(resolved) in _BY_NAME):
                    computed.append((written, shown, where))  # (a look-up function passed on: `reduce(getattr, ...)`)
                head, _, _ = written.partition(".")
                last = written.rsplit(".", 1)[-1]
                unbound = head not in local and head not in program.functions and head not in program.aliases
                if unbound and head not in _BUILTINS and head != "(...)":  # from a `*` import, maybe
                    found += [(written, f"{module}.{written}", shown, where, is_call) for module in program.star]
                if head not in local and (head in program.functions or head in program.attached):
                    queue(head)  # a function, class or object of the submission, called, passed on or looked into
                if "." + last in program.attached and ("." in written or unbound):
                    queue("." + last)  # an attribute the top level set (a bare name: set on builtins)
                if "." in written and last not in expanded:  # `h.run`: the submission's classes with a method of that name
                    expanded.add(last)
                    for owner in sorted(program.methods.get(last, ())):
                        queue(owner)
            for call in (n for n in (_live(node) if live else ast.walk(node)) if isinstance(n, ast.Call)):
                called = _dotted(call.func)
                looked_up = _by_name(call, _lookup(program.resolve(called, local))) if called else None
                if looked_up is None:
                    continue
                line = f"line {call.lineno}"
                where = f"{unit.where}, {line}" if unit.where else line
                text, is_computed = looked_up
                if is_computed:
                    computed.append((_shown(call), shown, where))
                else:
                    found.append((text, program.resolve(text, local), shown, where, True))
    return tuple(found), frozenset(n for n in seen if n in program.functions), tuple(computed)


# What reads a namespace as a table, past any name a rule can follow: `vars(torch)["autograd"]`,
# `sys.modules["torch.autograd"]`, `cost.__getattribute__("backward")`, `globals()["torch"]`.
_TABLE_CALLS = {"vars", "globals", "locals"}
_INTROSPECTION = {*_TABLE_CALLS, "sys.modules", "inspect.getattr_static", "inspect.getmembers"}
_DUNDER_LOOKUPS = {"__getattribute__", "__getattr__", "__dict__", "__globals__", "__builtins__"}


def _introspects(written: str, resolved: str) -> bool:
    parts = {*written.split("."), *resolved.split(".")}
    return bool(parts & _DUNDER_LOOKUPS) or any(resolved == n or resolved.startswith(n + ".") for n in _INTROSPECTION)


def _lookup(resolved: str) -> str:
    """A builtin however it is reached (`builtins.getattr` is `getattr`)."""
    return resolved.removeprefix("builtins.")


_BUILTINS = frozenset(dir(builtins))


def _shown(node: ast.AST, limit: int = 80) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


# Builtins and functions that look a name up from a string: which argument holds the name, and how a
# name written out there reads as code (`None`: the text is code, never read as a name).
_BY_NAME: dict[str, tuple[int, str] | None] = {
    "getattr": (1, "attribute"), "operator.attrgetter": (0, "attribute"), "operator.methodcaller": (0, "attribute"),
    "__import__": (0, "module"), "importlib.import_module": (0, "module"), "importlib.__import__": (0, "module"),
    "pydoc.locate": (0, "module"), "pkgutil.resolve_name": (0, "module"),
    "eval": None, "exec": None, "compile": None,
}


def _by_name(call: ast.Call, resolved: str) -> tuple[str, bool] | None:
    """For a call that looks a name up from a string: (the name as code, e.g. `(...).backward` or
    `torch.autograd`; whether it is computed rather than written out). None for any other call."""
    if resolved not in _BY_NAME:
        return None
    how = _BY_NAME[resolved]
    if how is None:
        return "", True
    index, kind = how
    argument = call.args[index] if len(call.args) > index else None
    if not isinstance(argument, ast.Constant) or not isinstance(argument.value, str):
        return "", True
    name = argument.value
    if kind == "module":
        return name, False
    owner = _dotted(call.args[0]) if resolved == "getattr" else ""
    return (f"{owner or '(...)'}.{name}" if "." not in name else f"(...).{name}"), False


def computed_names(units: tuple[Unit, ...], function: str, skip: frozenset[str] = frozenset()) -> list[Breach]:
    """Where `function` (or a function it calls, but those in `skip`) looks a name up from a computed
    string, or runs code from text: a rule cannot say what such a line calls."""
    return [Breach(written, name, where) for written, name, where in _walk(units, function, skip)[2]]


def _matches(written: str, resolved: str, name: str) -> bool:
    if name == "backward":
        return any(n.endswith(".backward") or n == "backward" for n in (written, resolved))
    if name.startswith("."):  # a method of that name, on whatever object (".step": optimizer.step())
        return any(n.endswith(name) for n in (written, resolved))
    return resolved == name or resolved.startswith(name + ".")


# What autograd and torch.func run on, reached directly: forbidding them forbids these too.
_ENGINES = {"torch.autograd": ("torch._C", "torch._functorch"), "torch.func": ("torch._functorch",)}


def forbidden_calls(units: tuple[Unit, ...], function: str, forbid: tuple[str, ...],
                    skip: frozenset[str] = frozenset()) -> list[Breach]:
    """Calls of `function` (and of the functions it calls, but those in `skip`) that a rule forbids, and
    names of what it forbids passed on without a call (`map(torch.autograd.grad, ...)`)."""
    forbid = (*forbid, *(engine for f in forbid for engine in _ENGINES.get(f, ())))
    return [Breach(written, name, where) for written, resolved, name, where, _ in _walk(units, function, skip)[0]
            if any(_matches(written, resolved, f) for f in forbid)]


def unreadable_units(units: tuple[Unit, ...]) -> list[str]:
    """Where the submission has code too deeply nested to parse here ("cell 4"; "" for a .py): a
    rule cannot be checked on what it cannot read."""
    return _program(units).unreadable


def missing_calls(units: tuple[Unit, ...], function: str, require: tuple[str, ...]) -> list[str]:
    """The calls a rule requires that neither `function` nor any function it calls makes."""
    if not require:
        return []
    calls = [(written, resolved) for written, resolved, _, _, is_call in _walk(units, function, live=True)[0] if is_call]
    return [r for r in require if not any(_matches(written, resolved, r) for written, resolved in calls)]
