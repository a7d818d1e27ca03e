"""Find what to grade: which lab, which file, and why that file."""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import AmbiguousSubmission, GraderError, SubmissionNotFound, UnreadableSubmission
from .labs import Lab, known_labs, load_lab
from .labs.stubs import RERECORD, code_hash, released
from .sources import notebook_text, parse_code, submission_units, too_large, too_much_code

KINDS = {".py": "py", ".ipynb": "ipynb"}


@dataclass(frozen=True)
class Submission:
    path: Path
    kind: str  # "py" or "ipynb"
    lab: Lab
    selection: str  # why this file, in one sentence
    sha256: str


def resolve(path: Path, lab_name: str | None = None) -> Submission:
    """The file to grade under `path` (a file or a lab folder), for `lab_name` or the lab its name tells."""
    if not path.exists():
        raise SubmissionNotFound(path)
    path = path.resolve()
    if not path.is_file() and not path.is_dir():
        raise UnreadableSubmission(path, "not a file or a folder (a pipe, a socket or a device)")
    lab = load_lab(lab_name) if lab_name is not None else _infer_lab(path)  # --lab "" is an unknown lab
    if path.is_file():
        if path.suffix not in KINDS:
            raise UnreadableSubmission(path, "a submission is a .py file or a .ipynb notebook")
        _refuse_if_too_large(path)
        return _submission(path, lab, f"{path.name} was given")
    return _pick_in_folder(path, lab)


def _refuse_if_too_large(path: Path) -> None:
    try:
        problem = too_large(path)
    except OSError as exc:
        raise UnreadableSubmission(path, exc.strerror or str(exc)) from None
    if problem is not None:
        raise UnreadableSubmission(path, problem)


def _infer_lab(path: Path) -> Lab:
    names = known_labs()
    for candidate in (path.stem if path.is_file() else path.name, path.parent.name if path.is_file() else ""):
        if candidate in names:
            return load_lab(candidate)
    if path.is_dir():
        found = [n for n in names if any((path / f"{load_lab(n).stem}{s}").is_file() for s in KINDS)]
        if len(found) == 1:
            return load_lab(found[0])
    raise AmbiguousSubmission(path, f"its name names no lab; pass --lab NAME (known labs: {', '.join(names)})")


def _pick_in_folder(folder: Path, lab: Lab) -> Submission:
    py, nb = folder / f"{lab.stem}.py", folder / f"{lab.stem}.ipynb"
    present = [p for p in (nb, py) if p.is_file()]
    if not present:
        raise AmbiguousSubmission(folder, f"no {py.name} or {nb.name} in it")
    for path in present:  # (before they are read to pick one)
        _refuse_if_too_large(path)
    if len(present) == 1:
        return _submission(present[0], lab, f"{present[0].name} is the only {lab.name} file in the folder")
    changed = [p for p in present if _differs_from_stub(p, lab)]
    if len(changed) == 1:
        other = nb.name if changed[0] == py else py.name
        return _submission(changed[0], lab, f"{changed[0].name} differs from the released stub; {other} does not")
    if len(changed) == 2:
        return _pick_the_written(py, nb, lab)
    return _submission(nb, lab, f"neither {py.name} nor {nb.name} differs from the released stubs; the notebook was graded")


def _pick_the_written(py: Path, nb: Path, lab: Lab) -> Submission:
    """Both files differ from the stubs: the one with more of the lab's functions written (a student who
    finished lab2.py and only tried a cell in lab2.ipynb); the notebook when that does not tell."""
    in_py, in_nb = _written(py, lab), _written(nb, lab)
    if in_py is None or in_nb is None or in_py == in_nb:
        return _submission(nb, lab, f"both {py.name} and {nb.name} differ from the released stubs; the notebook was graded")
    (more, most), (fewer, least) = sorted([(py, in_py), (nb, in_nb)], key=lambda pair: -pair[1])
    return _submission(more, lab, f"both {py.name} and {nb.name} differ from the released stubs; {more.name} was graded: "
                                  f"{most} of the lab's {len(lab.functions)} functions are written in it, "
                                  f"against {least} in {fewer.name}")


def _written(path: Path, lab: Lab) -> int | None:
    """How many of the lab's graded functions `path` defines with a body of its own, not a stub's (one
    that raises NotImplementedError, or holds only `pass` or `...`); None when its code cannot be read."""
    try:
        units = submission_units(path, KINDS[path.suffix])
    except (OSError, ValueError, AttributeError, UnicodeDecodeError):
        return None
    done: dict[str, bool] = {}
    for unit in units:
        tree = parse_code(unit.text)
        if tree is None:
            continue
        for node in tree.body:  # (a later cell's definition replaces an earlier one, as when it runs)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in lab.functions:
                done[node.name] = not _is_stub(node)
    return sum(done.values())


def _is_stub(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> bool:
    if isinstance(node, ast.ClassDef):
        methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        return bool(methods) and all(_is_stub(m) for m in methods)
    body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    if not body or all(isinstance(n, ast.Pass) for n in body):  # (a docstring, `...`, `pass`)
        return True
    raised = [n.exc.func if isinstance(n.exc, ast.Call) else n.exc for n in body if isinstance(n, ast.Raise)]
    return any(isinstance(e, ast.Name) and e.id == "NotImplementedError" for e in raised)


def _differs_from_stub(path: Path, lab: Lab) -> bool:
    """Whether `path`'s code differs from every stub as shipped (never from a working copy)."""
    suffix = path.suffix.lower()
    shipped = released(lab.name, suffix)
    if not lab.builtin and lab.stub(suffix).is_file():  # an instructor's lab: the stub in its folder
        shipped |= {code_hash(lab.stub(suffix))}
    if not shipped:
        raise GraderError(f"no released {lab.stem}{suffix} stub is recorded for {lab.name}; "
                          f"run `{RERECORD}` in the grader's source tree")
    try:
        return code_hash(path) not in shipped
    except (OSError, ValueError, RecursionError):  # unreadable or not JSON: not the stub, whatever it is
        return True


def unchanged_stub(path: Path, lab: Lab) -> bool:
    """Whether `path` holds one of the lab's stubs as shipped, unchanged; False when it cannot be read or
    no stub of its format is known."""
    try:
        return not _differs_from_stub(path, lab)
    except GraderError:
        return False


def _submission(path: Path, lab: Lab, selection: str) -> Submission:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableSubmission(path, exc.strerror or str(exc)) from None
    if path.suffix == ".ipynb":
        _check_notebook(path, data)
    elif b"\0" in data:  # Python refuses it ("source code string cannot contain null bytes")
        utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[1::2].count(0) > len(data) // 4
        raise UnreadableSubmission(path, "it is saved as UTF-16 (Windows Notepad's \"Unicode\"); save it as UTF-8"
                                   if utf16 else "it holds NUL bytes, which Python source cannot hold")
    digest = hashlib.sha256(data).hexdigest()
    return Submission(path=path, kind=KINDS[path.suffix], lab=lab, selection=selection, sha256=digest)


def _says_its_version(text: str) -> bool:
    """Whether the notebook has an `nbformat` number (for text that is not JSON, nbformat's error says why)."""
    try:
        data = json.loads(text)
    except ValueError:
        return True
    return isinstance(data, dict) and isinstance(data.get("nbformat"), int)


def _check_notebook(path: Path, data: bytes) -> None:
    """A notebook that is not a notebook cannot be run: say so in one line."""
    import nbformat  # (here: 40 ms of start-up a `.py` grade does not need)

    try:
        text = notebook_text(data)
        if not _says_its_version(text):  # nbformat takes it for version 1 and fails oddly
            raise UnreadableSubmission(path, "not a valid notebook (it does not say which nbformat version it is)")
        nb = nbformat.reads(text, as_version=4)
    except UnreadableSubmission:
        raise
    except Exception as exc:  # nbformat raises several unrelated types for broken files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableSubmission(path, f"not a valid notebook ({first[:200]})") from None
    if not isinstance(nb.get("cells"), list):
        raise UnreadableSubmission(path, "not a valid notebook (no cells)")
    for number, cell in enumerate(nb.cells, start=1):
        # A cell without `source` is run as an empty cell; one whose source is not text cannot be run.
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise UnreadableSubmission(path, f"not a valid notebook (cell {number} has no cell_type)")
        if not isinstance(cell.get("source", ""), str):
            raise UnreadableSubmission(path, f"not a valid notebook (the source of cell {number} is not text)")
    problem = too_much_code(sum(len(cell.get("source", "").encode("utf-8", errors="replace")) for cell in nb.cells
                                if cell.get("cell_type") == "code"))
    if problem is not None:
        raise UnreadableSubmission(path, problem)
