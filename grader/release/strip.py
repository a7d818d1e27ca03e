"""The student kit's copy of a lab's code, cut from the instructor's with `ast`.

What goes: every hidden check (a `@check` without `public=True`); every `with hidden():` block of a
public check; every computed classic mistake (the mistake tables replay the exercise with one error
switched on, so they hold the answers), with the `mistakes=` arguments and the lines that used
them; the probes no public check asks for; and then whatever top-level code, data and imports
nothing left uses. Comments go too: the kit is written back from the syntax tree.

What stays: the public checks' comparisons with the lessons' printed numbers, the mistakes' hint
texts (they teach; they compute nothing) and the helpers those need. The kit's leak test
(tests/test_release.py) is the proof: it looks for every line of the solutions and every hidden
input and expected number in the kit, and finds none.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable
from dataclasses import dataclass

# Optional arguments that only word a failure: dropped when they need a computed mistake.
DIAGNOSES = frozenset({"mistakes", "hint", "length_hints", "shape_hints"})


class StripError(Exception):
    """The lab's code cannot be cut into a kit (the message says where)."""


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _attributes(node: ast.AST, base: str) -> set[str]:
    return {n.attr for n in ast.walk(node)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == base}


def _is_check(node: ast.stmt) -> ast.Call | None:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name) and decorator.func.id == "check":
            return decorator
    return None


def _is_public(decorator: ast.Call) -> bool:
    return any(k.arg == "public" and isinstance(k.value, ast.Constant) and k.value.value is True for k in decorator.keywords)


def _is_hidden_block(node: ast.stmt) -> bool:
    return isinstance(node, ast.With) and any(
        isinstance(item.context_expr, ast.Call) and isinstance(item.context_expr.func, ast.Name)
        and item.context_expr.func.id == "hidden" for item in node.items)


def _bound(node: ast.stmt) -> set[str]:
    """Names a top-level statement defines."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return set()


class _Cutter:
    """Removes, inside function bodies, what depends on `tainted` names or attributes."""

    def __init__(self, module_alias: set[str], kept_attributes: set[str]) -> None:
        self.aliases = module_alias  # names the mistakes module is imported as
        self.kept = kept_attributes  # its attributes the kit keeps (hint texts)
        self.tainted: set[str] = set()  # top-level names whose value needs a computed mistake

    def taints(self, node: ast.AST, local: set[str]) -> bool:
        if _names(node) & (self.tainted | local):
            return True
        return any(attr not in self.kept for alias in self.aliases for attr in _attributes(node, alias))

    def clean_calls(self, node: ast.AST, local: set[str]) -> None:
        """Drop the diagnosis arguments that need a computed mistake, in every call under `node`."""
        for call in [n for n in ast.walk(node) if isinstance(n, ast.Call)]:
            call.keywords = [k for k in call.keywords if not (k.arg in DIAGNOSES and self.taints(k.value, local))]

    def body(self, statements: list[ast.stmt], local: set[str]) -> tuple[list[ast.stmt], bool]:
        """The statements without what is tainted; True when a `return` had to go."""
        kept: list[ast.stmt] = []
        lost_return = False
        for statement in statements:
            if _is_hidden_block(statement):
                continue
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                statement.body, lost = self.body(statement.body, set(local))
                statement.body = statement.body or [ast.Pass()]
                if lost:
                    local.add(statement.name)
                kept.append(statement)
            elif _has_body(statement):
                header = _header(statement)
                for part in header:
                    self.clean_calls(part, local)
                if any(self.taints(part, local) for part in header):
                    local |= _stored(statement)
                    lost_return |= any(isinstance(n, ast.Return) for n in ast.walk(statement))
                    continue
                for field in ("body", "orelse", "finalbody"):
                    inner = getattr(statement, field, None)
                    if inner:
                        cut, lost = self.body(inner, local)
                        lost_return |= lost
                        setattr(statement, field, cut or ([ast.Pass()] if field == "body" else []))
                for handler in getattr(statement, "handlers", []):
                    cut, lost = self.body(handler.body, local)
                    lost_return |= lost
                    handler.body = cut or [ast.Pass()]
                kept.append(statement)
            else:
                self.clean_calls(statement, local)
                if self.taints(statement, local):  # the whole line needs a computed mistake: it goes
                    local |= _stored(statement)
                    lost_return |= isinstance(statement, ast.Return)
                else:
                    kept.append(statement)
        return kept, lost_return


def _has_body(node: ast.stmt) -> bool:
    return isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try))


def _header(node: ast.stmt) -> list[ast.AST]:
    if isinstance(node, (ast.If, ast.While)):
        return [node.test]
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [node.target, node.iter]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return list(node.items)
    return []


def _stored(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _used_names(tree: ast.Module) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def prune(tree: ast.Module, roots: Iterable[str] = (), keep_all_functions: bool = False) -> ast.Module:
    """Drop top-level definitions, assignments and imports nothing else uses (to a fixed point)."""
    roots = set(roots)
    while True:
        used = _used_names(tree) | roots
        kept: list[ast.stmt] = []
        changed = False
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                kept.append(node)
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a for a in node.names if (a.asname or a.name).split(".")[0] in used]
                changed |= len(names) != len(node.names)
                if names:
                    node.names = names
                    kept.append(node)
                continue
            bound = _bound(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and keep_all_functions:
                kept.append(node)
            elif bound and not bound & used:
                changed = True
            else:
                kept.append(node)
        tree.body = kept
        if not changed:
            return tree


def _set_docstring(tree: ast.Module, text: str) -> None:
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        tree.body = tree.body[1:]
    tree.body.insert(0, ast.Expr(ast.Constant(text)))


def mistake_texts(source: str) -> tuple[str, set[str]]:
    """The kit's mistakes module: the hint texts only. Returns (source, the names kept)."""
    tree = ast.parse(source)
    kept: list[ast.stmt] = []
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            kept.append(node)
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
              and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            kept.append(node)
            names.add(node.targets[0].id)
    tree.body = kept
    _set_docstring(tree, "The classic mistakes' hint texts. (Student kit: the mistakes themselves stay with the instructor.)")
    return ast.unparse(tree) + "\n", names


@dataclass(frozen=True)
class PublicSuite:
    """The kit's copy of a lab's suite, and what the cut left in and out."""

    source: str
    probes: set[str]  # every string it spells: the ids of the probes it may ask for are among them
    public_points: tuple[float, ...]  # one entry per check kept
    hidden_points: tuple[float, ...]  # one entry per check left out


def _points(node: ast.stmt, decorator: ast.Call) -> float:
    points = decorator.args[1] if len(decorator.args) > 1 else None
    if not (isinstance(points, ast.Constant) and isinstance(points.value, (int, float))):
        raise StripError(f"line {node.lineno}: a check's points must be a number written out")
    return float(points.value)


def public_suite(source: str, mistakes_module: str, hint_names: set[str], hidden_ids: Iterable[str] = (),
                 hidden_data: Iterable[str] = ()) -> PublicSuite:
    """Cut a lab's suite for the kit (see the module's docstring for what goes). `hidden_ids` and
    `hidden_data` (from hidden_probes) are what no public check may use outside its hidden blocks."""
    tree = ast.parse(source)
    for node in tree.body:
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (decorator := _is_check(node)) is not None
                and _is_public(decorator) and all(_is_hidden_block(n) or _is_docstring(n) for n in node.body)):
            raise StripError(f"line {node.lineno}: the public check {node.name} has all its code inside "
                             "`with hidden():`, so nothing is left for the kit to compare: compare the lesson's "
                             "values outside the block, or make it a hidden check (no public=True)")
    aliases: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            aliases |= {a.asname or a.name for a in node.names if f"{node.module}.{a.name}" == mistakes_module}
        elif isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name == mistakes_module}
    public: list[float] = []
    hidden: list[float] = []
    body: list[ast.stmt] = []
    for node in tree.body:
        decorator = _is_check(node)
        if decorator is not None:
            (public if _is_public(decorator) else hidden).append(_points(node, decorator))
        if decorator is None or _is_public(decorator):
            body.append(node)
    tree.body = body
    cutter = _Cutter(aliases, hint_names)
    # A top-level helper is tainted when it had to lose a return (its value needs a computed mistake).
    while True:
        before = set(cutter.tainted)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                node.body, lost = cutter.body(node.body, set())
                node.body = node.body or [ast.Pass()]
                if lost:
                    cutter.tainted.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and cutter.taints(node, set()):
                cutter.tainted |= _bound(node)
        tree.body = [n for n in tree.body if not (isinstance(n, (ast.Assign, ast.AnnAssign)) and _bound(n) & cutter.tainted)]
        if cutter.tainted == before:
            break
    roots = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_check(n)}
    if not roots:
        raise StripError("the lab has no public check")
    # Every name the module binds anywhere (imports under `try:` or `if TYPE_CHECKING:` too; a same name bound
    # elsewhere hides a leftover, whose NameError the kit's own run then finds), builtins and module dunders.
    known = _bound_in(tree) | set(dir(builtins)) | _MODULE_NAMES
    star = any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in tree.body)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in roots:
            _refuse_leftovers(node, set(hidden_ids), set(hidden_data), None if star else known)
    for node in tree.body:  # a check cut down to nothing would pass every submission, the stubs too
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in roots and all(
                isinstance(n, ast.Pass) or (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
                for n in node.body):
            raise StripError(f"line {node.lineno}: the public check {node.name} has nothing left to compare in the kit: "
                             "what it needs outside its `with hidden():` blocks uses hidden inputs or a computed "
                             "mistake; move that into a hidden block")
    tree = prune(tree, roots)
    left = {f"{alias}.{attr}" for alias in aliases for attr in _attributes(tree, alias) if attr not in hint_names}
    if left:
        raise StripError(f"the public checks still compute a classic mistake through {', '.join(sorted(left))}")
    probes = _strings(tree)
    _set_docstring(tree, "The lab's public checks. (Student kit: the hidden checks and inputs stay with the instructor.)")
    return PublicSuite(ast.unparse(tree) + "\n", probes, tuple(public), tuple(hidden))


_MODULE_NAMES = frozenset({"__file__", "__name__", "__doc__", "__spec__", "__package__", "__loader__", "__builtins__",
                           "__annotations__", "__cached__", "__path__"})


def kit_leaks(suite: PublicSuite, init: str, hidden_ids: Iterable[str], hidden_data: Iterable[str]) -> str:
    """Behind `_refuse_leftovers`, over the whole cut (helpers, constants and f-strings of them included):
    a probe on hidden inputs the kit would keep, or hidden data its code would need; '' if none."""
    probes = sorted(set(hidden_ids) & suite.probes)
    if probes:
        return (f"the public checks ask for {probes[0]}, a probe on hidden inputs, outside their `with hidden():` "
                "blocks (through a helper, a constant or an f-string); move that into a hidden block")
    data = sorted(set(hidden_data) & (attribute_names(suite.source) | attribute_names(init)))
    if data:
        return (f"the public checks use {data[0]}, an input only probes on hidden inputs use, outside their "
                "`with hidden():` blocks (through a helper); move that into a hidden block")
    return ""


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _refuse_leftovers(check: ast.FunctionDef | ast.AsyncFunctionDef, hidden_ids: set[str], hidden_data: set[str],
                      known: set[str] | None) -> None:
    """What a public check kept for the kit may not use: a probe on hidden inputs or an input only those
    probes use (the kit would carry them), the reference solution (the kit has none: passing `reference`
    on to a helper is fine, it is None there), or a name only its hidden blocks set (`known`: the module's
    names and builtins; None where a star import hides them)."""
    where = f"the public check {check.name}"
    for n in ast.walk(check):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in hidden_ids:
            raise StripError(f"line {n.lineno}: {where} asks for {n.value}, a probe on hidden inputs, outside its "
                             "`with hidden():` blocks; move that into a hidden block")
        if isinstance(n, ast.Attribute) and n.attr in hidden_data:
            raise StripError(f"line {n.lineno}: {where} uses {n.attr}, an input only probes on hidden inputs use, "
                             "outside its `with hidden():` blocks; move that into a hidden block")
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "reference":
            raise StripError(f"line {n.lineno}: {where} uses reference.{n.attr} outside its `with hidden():` blocks, "
                             "and the kit has no reference solution; move that into a hidden block")
    if known is None:
        return
    bound = known | _bound_in(check)
    for n in ast.walk(check):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound:
            raise StripError(f"line {n.lineno}: {where} reads {n.id}, which only its `with hidden():` blocks set: "
                             "the kit has no value for it; set it outside the block, or move its use into one")


def _bound_in(function: ast.AST) -> set[str]:
    """Every name a function binds, in its nested scopes too (arguments, assignments, loops, imports...)."""
    names: set[str] = set()
    for n in ast.walk(function):
        if isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            names.add(n.name)
        elif isinstance(n, ast.MatchMapping) and n.rest:
            names.add(n.rest)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            names |= set(n.names)
    return names


def hidden_probes(init_source: str) -> tuple[set[str], set[str]]:
    """A lab's probes on hidden inputs (named `<function>.hidden...`, the labs' rule) and the names only
    they use (`d.A_X`, also through the probes' local variables): what a kit must not carry."""
    tree = ast.parse(init_source)
    uses: dict[str, set[str]] = {}  # a variable: the names and attributes its value uses
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name in (n.id for n in ast.walk(target) if isinstance(n, ast.Name)):
                    uses.setdefault(name, set()).update(_reads(node.value))
    hidden_ids: set[str] = set()
    hidden: set[str] = set()
    other: set[str] = set()
    for node in ast.walk(tree):
        probe = _probe_id(node)
        if probe is None:
            continue
        read = _reads(node)
        todo = list(read)
        while todo:  # through the variables the probe's inputs were built in
            for more in uses.get(todo.pop(), set()) - read:
                read.add(more)
                todo.append(more)
        if probe.partition(".")[2].startswith("hidden"):
            hidden_ids.add(probe)
            hidden |= read
        else:
            other |= read
    return hidden_ids, hidden - other


def _reads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def _strings(tree: ast.Module) -> set[str]:
    """Every string the code spells out, f-strings of module-level string constants included."""
    constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
                 and isinstance(n.value.value, str) for t in n.targets if isinstance(t, ast.Name)}
    found = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    parts.append(part.value)
                elif (isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name)
                      and part.value.id in constants and part.format_spec is None and part.conversion == -1):
                    parts.append(constants[part.value.id])
                else:
                    break
            else:
                found.add("".join(parts))
    return found


def public_lab(source: str, probe_ids: set[str]) -> str:
    """The kit's copy of a lab's `__init__.py`: only the probes the public checks ask for, no pictures."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.List):
            node.elts = [e for e in node.elts if not (_probe_id(e) is not None and _probe_id(e) not in probe_ids)]
    tree.body = [n for n in tree.body if "figures" not in _bound(n)]
    for function in [n for n in tree.body if isinstance(n, ast.FunctionDef)]:
        _drop_unused_locals(function)
    return ast.unparse(prune(tree, roots={"probes"}, keep_all_functions=True)) + "\n"


def _drop_unused_locals(function: ast.FunctionDef) -> None:
    """Assignments to local names nothing in the function reads any more (the dropped probes' inputs)."""
    while True:
        read = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        body = [s for s in function.body if not (isinstance(s, ast.Assign) and not _stored(s) & read)]
        if len(body) == len(function.body):
            return
        function.body = body


def _probe_id(node: ast.AST) -> str | None:
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Probe" and node.args
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        return node.args[0].value
    return None


def public_data(source: str, used: set[str]) -> str:
    """The kit's copy of a lab's `data.py`: the names the kit's code uses, nothing else."""
    tree = ast.parse(source)
    _set_docstring(tree, "The lessons' inputs. (Student kit: the hidden inputs stay with the instructor.)")
    return ast.unparse(prune(tree, roots=used)) + "\n"


def attribute_names(source: str) -> set[str]:
    """Every attribute and name a module's code reads (what the data module must keep for it)."""
    tree = ast.parse(source)
    return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} | _used_names(tree)


def defined_names(source: str) -> set[str]:
    """The names a module's top level defines (a data module's inputs)."""
    return set().union(*(_bound(n) for n in ast.parse(source).body))
