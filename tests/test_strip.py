"""The rules by which `grade release` cuts a lab's code for the student kit (grader.release.strip)."""

from __future__ import annotations

import ast
import re

import pytest

from grader.release import strip

MISTAKES = '''
"""Mistakes."""
from __future__ import annotations
import torch

SUM = "looks like sum instead of mean"
SHAPE = "keep (m, 1)"


def cost_of(pred, y, kind):
    return torch.sum((pred - y) ** 2) if kind == "sum" else torch.mean((pred - y) ** 2)
'''

SUITE = '''
"""A lab's checks."""
from grader.labs.checking import T, check, hidden
from grader.labs.lab9 import data as d
from grader.labs.lab9 import mistakes as M

MODEL = "Model"
HIDDEN = {"atol": 1e-4}


def wrong(pred, y):
    return {M.SUM: M.cost_of(pred, y, "sum")}


def hints():
    return {(3,): M.SHAPE}


def compare(observed, probe, expected, pred, y):
    variants = wrong(pred, y)
    expect_close(observed.get(probe), expected, mistakes=variants, shape_hints=hints())


@check("cost", 2, "the lesson's 4.6667", public=True)
def test_cost_lesson(observed, reference):
    compare(observed, "cost.lesson", 4.6667, T(d.LESSON_X), T(d.LESSON_Y))
    observed.raw(f"{MODEL}.lesson")
    with hidden():
        compare(observed, "cost.hidden_a", reference.cost(T(d.A_X), T(d.A_Y)), T(d.A_X), T(d.A_Y))


@check("cost", 1, "other data")
def test_cost_other(observed, reference):
    compare(observed, "cost.hidden_b", reference.cost(T(d.B_X), T(d.B_Y)), T(d.B_X), T(d.B_Y), **HIDDEN)
'''


def cut() -> strip.PublicSuite:
    _, hints = strip.mistake_texts(MISTAKES)
    return strip.public_suite(SUITE, "grader.labs.lab9.mistakes", hints)


def test_mistakes_keep_their_texts_and_lose_their_code() -> None:
    text, names = strip.mistake_texts(MISTAKES)
    assert names == {"SUM", "SHAPE"}
    assert "def cost_of" not in text and "torch" not in text and "looks like sum instead of mean" in text
    ast.parse(text)


def test_hidden_checks_and_blocks_go_public_parts_stay() -> None:
    result = cut()
    suite, probes = result.source, result.probes
    tree = ast.parse(suite)
    tests = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    assert tests == ["test_cost_lesson"] and (result.public_points, result.hidden_points) == ((2.0,), (1.0,))
    assert "hidden()" not in suite and "import T, check\n" in suite and "reference.cost" not in suite and "HIDDEN" not in suite
    assert "d.A_X" not in suite and "d.B_X" not in suite
    # the lesson comparison is still made, with the hint text that needs no computing
    assert "compare(observed, 'cost.lesson', 4.6667" in suite and "shape_hints=hints()" in suite
    # the computed mistake is gone with the helper whose value needed it
    assert "cost_of" not in suite and "def wrong" not in suite and "mistakes=" not in suite
    assert {"cost.lesson", "Model.lesson"} <= probes and "cost.hidden_a" not in probes


def test_a_lab_without_a_public_check_cannot_be_cut() -> None:
    with pytest.raises(strip.StripError, match="no public check"):
        strip.public_suite(SUITE.replace(", public=True", ""), "grader.labs.lab9.mistakes", {"SUM", "SHAPE"})


def test_a_public_check_cut_to_nothing_is_refused() -> None:
    """A public check whose every line needs a computed mistake was cut to `pass`: it passed every
    submission in the kit, the stubs too (lab 2's train.lesson_table, caught only by the kit's check
    that the stubs score 0)."""
    lesson = '    compare(observed, "cost.lesson", 4.6667, T(d.LESSON_X), T(d.LESSON_Y))\n    observed.raw(f"{MODEL}.lesson")\n'
    emptied = SUITE.replace(lesson, '    variants = wrong(T(d.LESSON_X), T(d.LESSON_Y))\n'
                                    '    expect_close(observed.get("cost.lesson"), variants)\n')
    assert emptied != SUITE
    with pytest.raises(strip.StripError, match="the public check test_cost_lesson has nothing left to compare"):
        strip.public_suite(emptied, "grader.labs.lab9.mistakes", {"SUM", "SHAPE"})


def test_probes_and_data_keep_what_the_public_checks_use() -> None:
    init = '''
from grader.runner import Probe
from . import data as d
from .figures import figures


def probes():
    a, b = d.HIDDEN_PAIR
    return [Probe("cost.lesson", "cost", "call", {"args": [d.LESSON_X]}),
            Probe("cost.hidden_a", "cost", "call", {"args": [a, b]})]

'''
    kit_init = strip.public_lab(init, {"cost.lesson"})
    assert "cost.hidden_a" not in kit_init and "HIDDEN_PAIR" not in kit_init and "figures" not in kit_init
    assert "def probes():" in kit_init and "from grader.runner import Probe" in kit_init
    data = 'LESSON_X = [[1.0]]\nHIDDEN_PAIR = ([[2.5]], [[7.5]])\n\ndef helper():\n    return 1\nUSES = helper()\n'
    kit_data = strip.public_data(data, strip.attribute_names(kit_init))
    assert "LESSON_X" in kit_data and "HIDDEN_PAIR" not in kit_data and "helper" not in kit_data


INIT = '''
from grader.runner import Probe
from . import data as d


def probes():
    a, b = d.A_X, d.A_Y
    return [Probe("cost.lesson", "cost", "call", {"args": [d.LESSON_X, d.LESSON_Y]}),
            Probe("cost.hidden_a", "cost", "call", {"args": [a, b]}),
            Probe("cost.hidden_b", "cost", "call", {"args": [d.B_X, d.LESSON_Y]})]
'''


def test_the_probes_on_hidden_inputs_and_the_names_only_they_use() -> None:
    ids, names = strip.hidden_probes(INIT)
    assert ids == {"cost.hidden_a", "cost.hidden_b"}
    assert {"A_X", "A_Y", "B_X"} <= names and not {"LESSON_X", "LESSON_Y", "Probe", "d"} & names


LESSON_LINE = '    compare(observed, "cost.lesson", 4.6667, T(d.LESSON_X), T(d.LESSON_Y))\n'


@pytest.mark.parametrize("added, refused", [
    # An instructor review's leak: the kit carried the hidden probe, its inputs and the formula, and release said yes.
    ('    expect_close(observed.get("cost.hidden_a"), 1.0)\n', "asks for cost.hidden_a, a probe on hidden inputs"),
    ('    expect_close(observed.get("cost.lesson"), T(d.B_X))\n', "uses B_X, an input only probes on hidden inputs use"),
    # These two were refused only by the kit's own run, as "could not use what the function returned".
    ('    expect_close(observed.get("cost.lesson"), reference.cost(T(d.LESSON_X), T(d.LESSON_Y)))\n',
     "uses reference.cost outside its `with hidden():` blocks"),
    ('    with hidden():\n        want = 4.6667\n    expect_close(observed.get("cost.lesson"), want)\n',
     "reads want, which only its `with hidden():` blocks set"),
])
def test_a_public_check_using_what_the_kit_cannot_carry_is_refused_by_line(added: str, refused: str) -> None:
    _, hints = strip.mistake_texts(MISTAKES)
    ids, names = strip.hidden_probes(INIT)
    suite = SUITE.replace("from grader.labs.lab9 import mistakes as M\n",
                          "from grader.labs.lab9 import mistakes as M\nfrom grader.labs.checking import expect_close\n")
    assert strip.public_suite(suite, "grader.labs.lab9.mistakes", hints, ids, names).source  # as written: fine
    changed = suite.replace(LESSON_LINE, LESSON_LINE + added)
    assert changed != suite
    line = changed.splitlines().index(added.splitlines()[-1]) + 1
    with pytest.raises(strip.StripError, match=f"^line {line}: the public check test_cost_lesson {re.escape(refused)}"):
        strip.public_suite(changed, "grader.labs.lab9.mistakes", hints, ids, names)


def test_a_public_check_all_inside_hidden_is_refused_as_such() -> None:
    """Its message said that what it needs outside its hidden blocks uses hidden inputs: nothing was outside."""
    body = LESSON_LINE + '    observed.raw(f"{MODEL}.lesson")\n'
    changed = SUITE.replace(body, "")
    assert changed != SUITE
    with pytest.raises(strip.StripError, match="the public check test_cost_lesson has all its code inside `with hidden"):
        strip.public_suite(changed, "grader.labs.lab9.mistakes", {"SUM", "SHAPE"})


def test_a_hidden_probe_reached_through_a_constant_or_a_helper_is_found_over_the_whole_cut() -> None:
    """A review: a hidden probe's id in a module constant, an f-string of one, or a helper the public check
    calls passed the by-line refusal, and the kit kept the probe and its inputs."""
    _, hints = strip.mistake_texts(MISTAKES)
    ids, names = strip.hidden_probes(INIT)
    variants = [
        ('HID = "cost.hidden_a"\n', '    observed.get(HID)\n'),
        ('FN = "cost"\n', '    observed.get(f"{FN}.hidden_a")\n'),
        ('def both(observed):\n    return observed.get("cost.hidden_b")\n', '    both(observed)\n'),
    ]
    for module_line, check_line in variants:
        suite = SUITE.replace("MODEL = \"Model\"\n", "MODEL = \"Model\"\n" + module_line).replace(LESSON_LINE, LESSON_LINE + check_line)
        cut = strip.public_suite(suite, "grader.labs.lab9.mistakes", hints, ids, names)
        leak = strip.kit_leaks(cut, strip.public_lab(INIT, cut.probes), ids, names)
        assert leak.startswith("the public checks ask for cost.hidden_"), (module_line, leak)
    clean = strip.public_suite(SUITE, "grader.labs.lab9.mistakes", hints, ids, names)
    assert strip.kit_leaks(clean, strip.public_lab(INIT, clean.probes), ids, names) == ""


def test_what_a_sound_public_check_may_use_is_not_refused() -> None:
    """A review: __file__, a name imported under a top-level `try:`, and a method a hidden probe also calls
    (`.tolist()`: hidden data is only what data.py defines) were refused as hidden leftovers."""
    _, hints = strip.mistake_texts(MISTAKES)
    ids, used = strip.hidden_probes(INIT.replace("a, b = d.A_X, d.A_Y", "a, b = d.A_X, torch.tensor(d.A_Y).tolist()"))
    data = strip.defined_names("LESSON_X = [[1.0]]\nLESSON_Y = [[2.0]]\nA_X = [[3.0]]\nA_Y = [[4.0]]\nB_X = [[5.0]]\n")
    assert "tolist" in used and "tolist" not in used & data
    suite = SUITE.replace("MODEL = \"Model\"\n", "MODEL = \"Model\"\ntry:\n    import numpy as np\nexcept ImportError:\n    np = None\n")
    suite = suite.replace(LESSON_LINE, LESSON_LINE + "    print(__file__, np, T(d.LESSON_X).tolist())\n")
    cut = strip.public_suite(suite, "grader.labs.lab9.mistakes", hints, ids, used & data)
    assert "__file__" in cut.source and strip.kit_leaks(cut, strip.public_lab(INIT, cut.probes), ids, used & data) == ""
