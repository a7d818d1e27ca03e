"""The student's own source of a function, read on the grader's side, and the line that failed.

The reports show a failing function's source beside its result. It is read from the
submitted file with `ast` (never by asking the student's process): for a `.py` file the
whole module, for a notebook the last code cell that defines the function, which is the
definition the kernel ran. Line numbers are those a traceback from the student's code
uses: the file's for a `.py`, the cell's for a notebook.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

MAX_LINES = 80  # a longer definition is cut: the report is not an editor

# A frame of a traceback: `File "/home/student/lab2.py", line 12, in gradient`, or in a notebook
# `cell 8, line 2, in gradient` (see `cells_named`). Numbers have at most 9 digits: a traceback holds
# the student's own text, and int() of 5,000 digits raises.
_FRAME = re.compile(r'^\s*(?:File "(?P<file>[^"]*)"|(?P<cell>cell \d{1,9})), line (?P<line>\d{1,9}), in (?P<name>\S+)\s*$',
                    re.M)


@dataclass(frozen=True)
class FunctionSource:
    name: str
    first_line: int  # the line number of `def` in its file or cell
    text: str
    where: str = ""  # the notebook cell it is in ("cell 10"); "" in a .py file
    # The places of the submission's other definitions of it, earlier, that the graded one replaced:
    # "cell 6" in a notebook, "line 12" in a .py file (a student's scratch cell, say).
    replaced: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "first_line": self.first_line, "text": self.text, "where": self.where,
                "replaced": list(self.replaced)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FunctionSource:
        return cls(str(data["name"]), int(data["first_line"]), str(data["text"]), str(data.get("where", "")),
                   tuple(str(w) for w in data.get("replaced", ())))

    @property
    def place(self) -> str:
        """Where the graded definition is: "cell 10", or "line 40" in a .py file."""
        return self.where or f"line {self.first_line}"

    def lines(self) -> list[tuple[int, str]]:
        return [(self.first_line + i, line) for i, line in enumerate(self.text.splitlines())]


@dataclass(frozen=True)
class Unit:
    """A piece of the submission run as a whole: the `.py` file, or one notebook code cell."""

    where: str  # "" for a .py file, "cell 4" for a notebook cell (numbered among all cells)
    text: str


# The grader parses a submission's code on its own side (its rules, the sources it shows), outside the
# sandbox's limits, at some 550 bytes of memory per byte of code: these caps bound that (about 0.3 GB),
# far above any lab's code. A file past them is refused before it is parsed.
MAX_CODE_BYTES = 512 * 1024
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024  # (outputs included: pictures)


def too_much_code(size: int) -> str | None:
    """Why `size` bytes of code are not read, or None."""
    if size <= MAX_CODE_BYTES:
        return None
    return f"too much code ({-(-size // 1024)} KiB; a submission holds at most {MAX_CODE_BYTES // 1024} KiB of code)"


def too_large(path: Path) -> str | None:
    """Why the file `path` is not read, by its size (a notebook's code is counted once read), or None."""
    size = path.stat().st_size
    if path.suffix.lower() != ".ipynb":
        return too_much_code(size)
    if size > MAX_NOTEBOOK_BYTES:
        return f"too large ({-(-size // (1 << 20))} MiB; a notebook file is at most {MAX_NOTEBOOK_BYTES >> 20} MiB)"
    return None


def python_text(data: bytes) -> str:
    """A .py file's text as Python reads it (a byte-order mark, a `# -*- coding: ... -*-` line);
    UTF-8 with replacement characters where that fails (Python then refuses to run it anyway)."""
    try:
        return importlib.util.decode_source(data)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return data.decode("utf-8", errors="replace")


def notebook_text(data: bytes) -> str:
    """A notebook file's JSON text: UTF-8, a byte-order mark (Windows editors' "UTF-8 with BOM") dropped."""
    return data.decode("utf-8-sig")


def submission_units(path: Path, kind: str) -> tuple[Unit, ...]:
    """The submission's code as it runs: the file, or the notebook's code cells in order."""
    problem = too_large(path)  # (`resolve` refuses such a file; nothing past the caps is parsed here either)
    if problem is not None:
        raise ValueError(problem)
    if kind == "py":
        return (Unit("", python_text(path.read_bytes())),)
    import nbformat

    notebook = nbformat.reads(notebook_text(path.read_bytes()), as_version=4)
    units = tuple(Unit(f"cell {i + 1}", str(cell.get("source", "")))
                  for i, cell in enumerate(notebook.cells) if cell.get("cell_type") == "code")
    problem = too_much_code(sum(len(unit.text.encode("utf-8", errors="replace")) for unit in units))
    if problem is not None:
        raise ValueError(problem)
    return units


def read_units(path: Path, kind: str) -> tuple[Unit, ...]:
    """`submission_units`, or none when the file cannot be read (the run already says why)."""
    try:
        return submission_units(path, kind)
    except (OSError, ValueError, AttributeError):
        return ()


class TooDeep(Exception):
    """Python's parser gave up on a unit here (nesting too deep for this stack): it may still have run."""


def parse_code(text: str, strict: bool = False) -> ast.Module | None:
    """A unit's syntax tree, IPython magics and shell lines blanked (line numbers kept); None if it
    does not parse. A unit nested too deeply for the parser (RecursionError, MemoryError: how deep
    depends on the stack it is parsed on, so the student's process may have run it) is None too,
    or TooDeep with `strict`."""
    cleaned = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines())
    try:
        return ast.parse(cleaned)
    except (SyntaxError, ValueError):
        return None
    except (RecursionError, MemoryError):
        if strict:
            raise TooDeep() from None
        return None


def _definitions(code: str, names: set[str]) -> list[FunctionSource]:
    """Every top-level definition of `names` in one unit, in order."""
    tree = parse_code(code)
    if tree is None:
        return []
    lines = code.splitlines()
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            end = min(node.end_lineno or node.lineno, start + MAX_LINES - 1)
            found.append(FunctionSource(node.name, start, "\n".join(lines[start - 1:end])))
    return found


def function_sources(units: tuple[Unit, ...], names: tuple[str, ...]) -> tuple[FunctionSource, ...]:
    """The definitions of `names` in the submission's `units`, in `names` order: the last of each (a
    later cell, or a later `def` in the file, redefines), with the places of the ones it replaced."""
    wanted = set(names)
    found: dict[str, list[FunctionSource]] = {}
    for unit in units:
        for source in _definitions(unit.text, wanted):
            found.setdefault(source.name, []).append(replace(source, where=unit.where))
    graded = {}
    for name, all_of_them in found.items():
        *earlier, last = all_of_them
        graded[name] = replace(last, replaced=tuple(dict.fromkeys(s.place for s in earlier if s.place != last.place)))
    return tuple(graded[name] for name in names if name in graded)


def failing_line(traceback: str, source: FunctionSource) -> int | None:
    """The line of `source` the traceback last passed through, if it passed through it at all.

    A frame counts when it names the function (or, for a class, any of its methods) and comes
    from the student's code, not from the harness or an installed library."""
    is_class = source.text.lstrip().startswith("class ") or "\nclass " in source.text
    last = None
    for match in _FRAME.finditer(traceback):
        line, name = int(match.group("line")), match.group("name")
        if match.group("cell"):
            if source.where and match.group("cell") != source.where:  # another cell's definition
                continue
        elif (where := match.group("file")).startswith("/grader/") or "site-packages" in where or "/lib/python" in where:
            continue
        if name == source.name or (is_class and name != "<module>"):
            if source.first_line <= line < source.first_line + len(source.text.splitlines()):
                last = line
    return last


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # a kernel's tracebacks carry colour codes
# A traceback's place lines: `File "/home/student/lab2.py", line 34, in <module>` (a .py file),
# `Cell In[4], line 1` (a kernel's) or `cell 6, line 1` (a kernel's, named by `cells_named`),
# any of them without ", in ..." for a syntax error.
_PLACE = re.compile(r'^\s*(?:File "(?P<file>[^"]*)"|Cell In\[(?P<count>\d{1,9})\]|(?P<cell>cell \d{1,9})), '
                    r'line (?P<line>\d{1,9})(?:, in .*)?$')
_RAN_AS = re.compile(r"^(?P<indent>[ \t]*)Cell In\[(?P<count>\d{1,9})\], line (?P<line>\d{1,9})(?P<rest>(?:, in .*)?)$")
_POINTED = re.compile(r"^-*>\s*\d{1,9}\s(.*)$")  # IPython's `----> 2 print(values[10])`


@dataclass(frozen=True)
class RanCell:
    """A notebook code cell as the graded run ran it: its place ("cell 6") and its source."""

    place: str
    source: str

    def own_line(self, line: int, code: str) -> int | None:
        """This cell's line number for line `line` of the code IPython compiled from it, if `code` (as a
        traceback shows it; "" where none is shown) is on that line; else None. IPython drops a cell's
        leading blank lines, and a cell magic's `%%` line (and the blank lines after it)."""
        lines = self.source.splitlines()
        skip = _past_blank_lines(lines, 0)
        if skip < len(lines) and lines[skip].startswith("%%"):  # (the magic runs the rest as a cell of its own)
            skip = _past_blank_lines(lines, skip + 1)
        own = line + skip
        if own < 1 or own > len(lines) or (code and lines[own - 1].strip() != code.strip()):
            return None
        return own


def _past_blank_lines(lines: list[str], start: int) -> int:
    while start < len(lines) and not lines[start].strip():
        start += 1
    return start


def cells_named(traceback: str, cells: dict[int, RanCell]) -> str:
    """A kernel's traceback with each `Cell In[4], line 2` (line 2 of the code the fourth cell run
    compiled to) named as the report names the cell, by its place among all the notebook's cells,
    and its line counted in the cell as the student wrote it: `cell 6, line 5`. A student's own run
    numbers its cells otherwise, and grading skips demo cells. The code the traceback shows must be
    on that line: a `%%capture` cell's body runs as the next count (tried second). A frame that
    matches no cell stays as it was."""
    lines = traceback.split("\n")
    for i, text in enumerate(lines):
        frame = _RAN_AS.match(text)
        if frame is None:
            continue
        count, line, code = int(frame["count"]), int(frame["line"]), _shown_code(lines, i)
        for cell in (cells.get(count), cells.get(count - 1)):
            if cell is not None and (own := cell.own_line(line, code)) is not None:
                lines[i] = f"{frame['indent']}{cell.place}, line {own}{frame['rest']}"
                break
    return "\n".join(lines)


def _shown_code(lines: list[str], header: int) -> str:
    """The code a traceback shows for the frame whose place is on line `header`: IPython's pointed
    line among its numbered ones, or Python's (and a syntax error's) line below the place."""
    following = []
    for text in lines[header + 1:]:
        if not text.strip() or _PLACE.match(text):
            break
        following.append(text)
    for text in following:
        if pointed := _POINTED.match(text):
            return pointed.group(1)
    return following[0] if following else ""


def error_place(traceback: str, outermost: bool = False) -> tuple[int, str] | None:
    """Where in the unit a traceback starts in (the .py file, or the cell) the error was: the deepest
    place there (with `outermost`, the first: the line of a file's top level that was running), as
    (line, the code on it); None if it cannot be told (no place, no code shown, no line)."""
    lines = ANSI_ESCAPE.sub("", traceback).splitlines()
    places = [(i, m) for i, m in ((i, _PLACE.match(text)) for i, text in enumerate(lines)) if m]
    if not places:
        return None
    unit = _unit(places[0][1])
    index, match = [(i, m) for i, m in places if _unit(m) == unit][0 if outermost else -1]
    after = [i for i, _ in places if i > index]
    # This place's own lines; the traceback's last line is the exception, never the code.
    following = lines[index + 1:after[0] if after else len(lines) - 1]
    pointed = [m.group(1) for m in map(_POINTED.match, following) if m]  # IPython's `----> 2 print(...)`
    code = pointed[0].strip() if pointed else following[0].strip() if following else ""
    if not code or set(code) <= set("^~ ") or int(match.group("line")) < 1:
        return None
    return int(match.group("line")), code


def _unit(place: re.Match[str]) -> str:
    return place.group("file") or place.group("count") or place.group("cell")
