"""A failing function's source beside its result, read from the submitted file on the grader's
side, with the line that raised marked: real grades of lab 2 in both formats."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, SUBMISSIONS, apply_override
from grader.reporting.htmlreport import render_html
from grader.sources import FunctionSource, failing_line, function_sources, read_units

RAISING = "    q = x.reshape(-1)[5]  # index 5 of 3 values"


def raising_gradient(kind: str, folder: Path) -> Path:
    """Lab 2's solution whose gradient raises IndexError on its second line."""
    header = "def gradient(x, y, W, b):"
    extra = "\n    m = len(x)\n" + RAISING
    if kind == "py":
        path = folder / "lab2.py"
        source = (ROOT / "solutions" / "lab2" / "lab2.py").read_text(encoding="utf-8")
        path.write_text(source.replace(header, header + extra, 1), encoding="utf-8")
        return path
    notebook = nbformat.read(str(ROOT / "solutions" / "lab2" / "lab2.ipynb"), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and header in cell.source:
            cell.source = cell.source.replace(header, header + extra, 1)
    path = folder / "lab2.ipynb"
    nbformat.write(notebook, str(path))
    return path


@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_the_line_that_raised_is_marked_in_the_students_own_source(kind: str, tmp_path: Path) -> None:
    from grader.pipeline import grade

    result = grade(raising_gradient(kind, tmp_path), "lab2")
    assert [s.name for s in result.sources] == ["gradient"]  # only the function that lost points
    source = result.sources[0]
    assert source.text.startswith("def gradient(x, y, W, b):") and RAISING in source.text
    marked = {failing_line(c.traceback, source) for c in result.checks_for("gradient") if c.traceback}
    assert marked == {source.first_line + 2}
    page = render_html(result, "en")
    lines = re.findall(r'<span class="line failing">(.*?)</span></span>', page)
    assert len(lines) == 1 and "x.reshape(-1)[5]" in lines[0] and "raised here" in lines[0]
    assert "def hypothesis" not in page  # passing functions are not shown


def test_a_wrong_value_shows_the_source_without_a_mark(tmp_path: Path) -> None:
    from grader.pipeline import grade

    result = grade(apply_override(SUBMISSIONS / "lab2" / "overrides" / "forgets_zero_grad.py", "py", tmp_path), "lab2")
    assert [s.name for s in result.sources] == ["train_step"]  # train, right for this train_step, is carried forward
    assert "optimizer.step()" in result.sources[0].text and "zero_grad" not in result.sources[0].text
    page = render_html(result, "ko")
    assert "여러분의 코드" in page and 'class="line failing"' not in page


def test_sources_come_from_the_file_not_from_the_students_process(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%matplotlib inline\ndef train(x):\n    return 1"),
        nbformat.v4.new_markdown_cell("def train(): pass"),
        nbformat.v4.new_code_cell("import torch\n\n\ndef train(x):\n    return 2\n\nclass Model:\n    pass"),
        nbformat.v4.new_code_cell("def broken(:"),
    ])
    path = tmp_path / "lab2.ipynb"
    nbformat.write(notebook, str(path))
    found = function_sources(read_units(path, "ipynb"), ("train", "Model", "missing"))
    # The last definition the kernel ran, numbered as in its cell; a cell that does not parse is skipped.
    # Where it is, and the earlier definitions it replaced, are said (a markdown cell's code is not one).
    assert found == (FunctionSource("train", 4, "def train(x):\n    return 2", "cell 3", ("cell 1",)),
                     FunctionSource("Model", 7, "class Model:\n    pass", "cell 3"))
    twice = tmp_path / "twice.py"
    twice.write_text("def train(x):\n    return 1\n\n\ndef train(x):\n    return 2\n", encoding="utf-8")
    assert function_sources(read_units(twice, "py"), ("train",)) == (
        FunctionSource("train", 5, "def train(x):\n    return 2", "", ("line 1",)),)
    assert function_sources(read_units(tmp_path / "nope.py", "py"), ("train",)) == ()
    (tmp_path / "bad.py").write_text("def train(:\n", encoding="utf-8")
    assert function_sources(read_units(tmp_path / "bad.py", "py"), ("train",)) == ()


def test_a_frame_of_the_harness_or_another_function_is_not_the_students_line() -> None:
    source = FunctionSource("gradient", 10, "def gradient(x):\n    a = 1\n    return helper(a)")
    traceback = ('  File "/grader/harness.py", line 11, in gradient\n    x\n'
                 '  File "/home/student/lab2.py", line 12, in gradient\n    return helper(a)\n'
                 '  File "/home/student/lab2.py", line 11, in helper\n    boom\n')
    assert failing_line(traceback, source) == 12  # the call in gradient that led to the error
    assert failing_line('  File "/home/student/lab2.py", line 40, in gradient\n', source) is None


def test_a_frame_of_a_notebook_is_marked_only_in_the_graded_definitions_cell() -> None:
    """A notebook's frames name their cell (`cell 8, line 3, in gradient`): an earlier definition of
    the same function in another cell, at the same lines, is not the graded one's line."""
    source = FunctionSource("gradient", 1, "def gradient(x):\n    a = 1\n    return a / x", "cell 8")
    assert failing_line("  cell 8, line 3, in gradient\n    return a / x\n", source) == 3
    assert failing_line("  cell 4, line 3, in gradient\n    return a / x\n", source) is None


def test_a_kernels_traceback_names_cells_as_the_report_does() -> None:
    from grader.sources import ANSI_ESCAPE, RanCell, cells_named, error_place

    probe = ('Traceback (most recent call last):\n  Cell In[7], line 2, in gradient\n'
             "    return torch.mean(undefined_name), W\nNameError: name 'undefined_name' is not defined\n")
    gradient = RanCell("cell 8", "def gradient(x, y, W, b):\n    return torch.mean(undefined_name), W")
    named = cells_named(probe, {7: gradient, 12: RanCell("cell 14", "x = 1")})
    assert named.splitlines()[1] == "  cell 8, line 2, in gradient"
    assert failing_line(named, FunctionSource("gradient", 1, gradient.source, "cell 8")) == 2
    assert cells_named(probe, {6: RanCell("cell 8", "x = 1")}) == probe  # a number no cell ran as stays as it is
    assert cells_named(probe, {7: RanCell("cell 8", "x = 1\ny = 2")}) == probe  # so does a line the cell lacks
    cell = cells_named(ANSI_ESCAPE.sub("", IN_A_CELL), {4: RanCell("cell 5", "values = [1]\nprint(values[10])")})
    assert "cell 5, line 2" in cell and "In[4]" not in cell
    assert error_place(cell) == error_place(IN_A_CELL) == (2, "print(values[10])")


def test_a_cells_line_counts_the_lines_ipython_dropped_and_a_cell_magics_body_runs_as_the_next_count() -> None:
    """A review: IPython compiles a cell without its leading blank lines, and a `%%capture` cell's body as
    a cell of its own, with the next execution count: "cell 3, line 3" named mse_cost's cell for an
    error in hypothesis's, and the HTML marked `def train` for an error three lines below it."""
    from grader.sources import RanCell, cells_named

    train = RanCell("cell 12", "\n\n\ndef train(x):\n    a = 1\n    return a / x")
    raised = "  Cell In[12], line 3, in train\n    return a / x\nZeroDivisionError: division by zero"
    assert cells_named(raised, {12: train}).splitlines()[0] == "  cell 12, line 6, in train"
    quiet = RanCell("cell 2", "%%capture\n\ndef hypothesis(x):\n    return x / 0")
    ipython = ("Cell In[3], line 2, in hypothesis(x)\n      1 def hypothesis(x):\n----> 2     return x / 0\n\n"
               "ZeroDivisionError: division by zero")
    cells = {2: quiet, 3: RanCell("cell 3", "def mse_cost(p, y):\n    d = p - y\n    return d")}
    assert cells_named(ipython, cells).splitlines()[0] == "cell 2, line 4, in hypothesis(x)"


def test_a_traceback_with_a_number_too_long_for_int_is_read_as_text() -> None:
    """A review: a student's exception message with `Cell In[` and 5,000 digits ended the grade with an
    internal error (int() refuses so many digits); as `File "a.py", line <5,000 nines>` it did with --html."""
    from grader.sources import RanCell, cells_named, error_place

    nines = "9" * 5000
    text = f"  Cell In[{nines}], line 1, in f\n    x\nValueError: \nCell In[{nines}], line {nines}\n"
    assert cells_named(text, {1: RanCell("cell 1", "x")}) == text
    file = f'  File "/home/student/lab2.py", line {nines}, in gradient\n    x\n'
    assert failing_line(file, FunctionSource("gradient", 1, "def gradient():\n    x")) is None
    assert error_place(file) is None and error_place(f"cell {nines}, line 2\n    x\nE") is None



# Tracebacks as the grader gets them: Python's for a .py file's top level (the harness keeps the
# student's frames), IPython's for a cell (colour codes and all), and syntax errors of both.
NESTED = """Traceback (most recent call last):
  File "/home/student/lab2.py", line 68, in <module>
    helper()
  File "/home/student/lab2.py", line 17, in helper
    return 1 / 0
           ~~^~~
ZeroDivisionError: division by zero
"""
IN_A_CELL = ("\x1b[0;31m---------------------------------------------------------------------------\x1b[0m\n"
             "\x1b[0;31mIndexError\x1b[0m                                Traceback (most recent call last)\n"
             "Cell \x1b[0;32mIn[4], line 2\x1b[0m\n"
             "\x1b[1;32m      1\x1b[0m values \x1b[38;5;241m=\x1b[39m [\x1b[38;5;241m1\x1b[39m]\n"
             "\x1b[0;32m----> 2\x1b[0m \x1b[38;5;28mprint\x1b[39m(values[\x1b[38;5;241m10\x1b[39m])\n\n"
             "\x1b[0;31mIndexError\x1b[0m: list index out of range")
SYNTAX = '  File "/home/student/lab2.py", line 64\n    def train(x, y,, lr=0.01):\n                   ^\nSyntaxError: invalid syntax\n'
NO_LINE = '  File "/home/student/lab2.py", line 0\nSyntaxError: unknown encoding: foo\n'


def test_error_place_reads_each_kind_of_traceback() -> None:
    from grader.sources import error_place

    assert error_place(NESTED) == (17, "return 1 / 0")  # where it raised (the terminal)
    assert error_place(NESTED, outermost=True) == (68, "helper()")  # the top level's line (what ran no further)
    assert error_place(IN_A_CELL) == (2, "print(values[10])")
    assert error_place(SYNTAX) == (64, "def train(x, y,, lr=0.01):")
    assert error_place(NO_LINE) is None  # no line 0, and the exception is not the code
    assert error_place("ValueError: no place at all") is None
