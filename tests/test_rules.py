"""Rules on how a function computes, read from the submission's source on the grader's side."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from grader.labs.checking import BY_HAND
from grader.rules import computed_names, forbidden_calls
from grader.sources import Unit, submission_units


def calls(text: str, function: str) -> list[tuple[str, str, str]]:
    return [(b.call, b.function, b.where) for b in forbidden_calls((Unit("", text),), function, BY_HAND)]


@pytest.mark.parametrize("lab, functions", [("lab2", ("gradient",)), ("lab3", ("gradient", "descent_step"))])
def test_the_solutions_keep_their_rules(lab: str, functions: tuple[str, ...]) -> None:
    for kind in ("py", "ipynb"):
        units = submission_units(ROOT / "solutions" / lab / f"{lab}.{kind}", kind)
        for function in functions:
            assert forbidden_calls(units, function, BY_HAND) == [], (lab, kind, function)


def test_autograd_is_found_however_it_is_imported() -> None:
    text = """
import torch
import torch.autograd as ag
from torch.autograd import grad as g
from torch import autograd


def gradient(x, y, W, b):
    c = torch.mean((x * W + b - y) ** 2)
    c.backward()
    torch.autograd.grad(c, W)
    ag.grad(c, W)
    g(c, W)
    autograd.grad(c, W)
    (c * 2).backward()
    return W.grad, b.grad
"""
    assert calls(text, "gradient") == [
        ("c.backward", "gradient", "line 10"), ("torch.autograd.grad", "gradient", "line 11"),
        ("ag.grad", "gradient", "line 12"), ("g", "gradient", "line 13"), ("autograd.grad", "gradient", "line 14"),
        ("(...).backward", "gradient", "line 15")]


def test_optimizers_and_calls_through_the_submissions_own_functions() -> None:
    text = """
import torch
from torch import optim


def step(W, lr):
    return optim.SGD([W], lr=lr)


def helper(x, y, W, lr):
    step(W, lr).step()
    return W


def descent_step(x, y, W, lr):
    return helper(x, y, W, lr)


def unrelated(W):
    W.sum().backward()  # not reached from descent_step
"""
    assert calls(text, "descent_step") == [("optim.SGD", "step", "line 7")]
    assert calls(text, "unrelated") == [("(...).backward", "unrelated", "line 20")]


def test_the_hand_written_formula_passes() -> None:
    text = """
import torch


def gradient(x, y, W, b):
    error = x * W + b - y
    return (2 * torch.mean(error * x)).reshape(W.shape), (2 * torch.mean(error)).reshape(b.shape)
"""
    assert calls(text, "gradient") == []


def test_a_notebook_is_read_cell_by_cell_and_a_later_definition_counts(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("x.backward() in prose is not code"),
        nbformat.v4.new_code_cell("import torch\n%matplotlib inline"),
        nbformat.v4.new_code_cell("def gradient(x, y, W, b):\n    (x * W).sum().backward()\n    return W.grad, b"),
    ])
    path = tmp_path / "lab2.ipynb"
    nbformat.write(nb, str(path))
    units = submission_units(path, "ipynb")
    assert [u.where for u in units] == ["cell 2", "cell 3"]
    assert [(b.call, b.where) for b in forbidden_calls(units, "gradient", BY_HAND)] == [("(...).backward", "cell 3, line 2")]
    # Redefined by hand in a later cell: the kernel runs that one.
    nb.cells.append(nbformat.v4.new_code_cell("def gradient(x, y, W, b):\n    return 2 * x, b"))
    nbformat.write(nb, str(path))
    assert forbidden_calls(submission_units(path, "ipynb"), "gradient", BY_HAND) == []


def test_source_that_does_not_parse_breaks_no_rule() -> None:
    """A syntax error already costs the student through the run; the rule has nothing to read."""
    assert calls("def gradient(x, y, W, b:\n    loss.backward()\n", "gradient") == []


def test_a_manifest_rule_forbids_and_requires_calls_through_helpers() -> None:
    """[rules.<function>] in a lab's manifest: forbid and require, followed into the submission's helpers."""
    from types import SimpleNamespace

    from grader.compare import CheckFailed
    from grader.labs.checking import expect_by_hand
    from grader.labs.manifest import Rule

    rule = Rule(forbid=("torch.nn.functional",), require=("torch.sigmoid",))

    def observed(body: str) -> SimpleNamespace:
        code = f"import torch\nimport torch.nn.functional as F\n\ndef squash(z):\n    return {body}\n\n" \
               "def hypothesis(x, W, b):\n    return squash(x @ W + b)\n"
        return SimpleNamespace(code=(Unit("", code),), rules={"hypothesis": rule})

    expect_by_hand(observed("torch.sigmoid(z)"), "hypothesis", hint="")
    with pytest.raises(CheckFailed, match="never calls torch.sigmoid"):
        expect_by_hand(observed("1 / (1 + torch.exp(-z))"), "hypothesis", hint="")
    with pytest.raises(CheckFailed, match=r"calls F.sigmoid\(\) through squash at line 5; the exercise does not allow it"):
        expect_by_hand(observed("F.sigmoid(z)"), "hypothesis", hint="")
    # No rule in the manifest: the by-hand default.
    plain = SimpleNamespace(code=(Unit("", "def gradient(x):\n    x.backward()\n"),), rules={})
    with pytest.raises(CheckFailed, match="the exercise asks for it by hand"):
        expect_by_hand(plain, "gradient", hint="")


@pytest.mark.parametrize("text, first", [
    ("ag = torch.autograd\n\ndef gradient(x, y, W, b):\n    return ag.grad(cost(x, y, W, b), [W, b])\n", "ag.grad"),
    ("bw = torch.Tensor.backward\n\ndef gradient(x, y, W, b):\n    bw(cost(x, y, W, b))\n    return W.grad, b.grad\n", "bw"),
    ("def gradient(x, y, W, b, _g=torch.autograd.grad):\n    return _g(cost(x, y, W, b), [W, b])\n",
     "torch.autograd.grad"),
    ("def gradient(x, y, W, b):\n    go = cost(x, y, W, b).backward\n    go()\n    return W.grad, b.grad\n",
     "(...).backward"),
    ("def gradient(x, y, W, b):\n    return list(map(torch.autograd.grad, [cost(x, y, W, b)], [[W, b]]))[0]\n",
     "torch.autograd.grad"),
    ("def by_autograd(x, y, W, b):\n    cost(x, y, W, b).backward()\n    return W.grad, b.grad\n\n"
     "def gradient(x, y, W, b):\n    return 2 * x, b\n\ngradient = by_autograd\n", "(...).backward"),
    ("class Helper:\n    def run(self, c, W, b):\n        c.backward()\n        return W.grad, b.grad\n\nh = Helper()\n\n"
     "def gradient(x, y, W, b):\n    return h.run(cost(x, y, W, b), W, b)\n", "c.backward"),
])
def test_autograd_is_found_however_it_is_named(text: str, first: str) -> None:
    """Names bound to autograd by assignment, default argument or rebinding, a reference passed on
    without a call, and a method of the submission's own class: each found (review found the first
    scoring full marks on lab 2 with its by-hand rule passed)."""
    head = "import torch\n\ndef cost(x, y, W, b):\n    return torch.mean((x * W + b - y) ** 2)\n\n"
    found = calls(head + text, "gradient")
    assert found and found[0][0] == first, found


def test_names_local_to_a_function_do_not_carry_over() -> None:
    """`g` is autograd in `train` and a plain value in `gradient`: only `train` breaks the rule."""
    text = """
import torch


def train(x, W):
    g = torch.autograd.grad
    return g(torch.mean(x * W), W)


def gradient(x, y, W, b):
    g = torch.mean(x * W + b - y)
    return (2 * g * x).reshape(W.shape), (2 * g).reshape(b.shape)
"""
    assert calls(text, "gradient") == []
    assert calls(text, "train") == [("torch.autograd.grad", "train", "line 6"), ("g", "train", "line 7")]


def test_source_too_deep_to_read_fails_the_rule_closed() -> None:
    """A unit Python's parser gives up on here (RecursionError; it depends on how deep the grader's
    stack is, so a notebook's kernel may have run it) could hold the function: the rule cannot be
    checked, so it fails, saying why; reading the function's source for the report does not crash."""
    from types import SimpleNamespace

    from grader.compare import CheckFailed
    from grader.i18n import translate_detail
    from grader.labs.checking import expect_by_hand
    from grader.sources import function_sources

    deep = "DEEP = " + "+".join(["1"] * 20_000) + "\n\ndef gradient(x, y, W, b):\n    return 2 * x, b\n"
    units = (Unit("cell 1", "import torch"), Unit("cell 2", deep))
    assert function_sources(units, ("gradient",)) == ()
    with pytest.raises(CheckFailed, match="could not read cell 2") as failed:
        expect_by_hand(SimpleNamespace(code=units, rules={}), "gradient", hint="")
    for text in (str(failed.value), failed.value.expected, failed.value.obtained):
        assert translate_detail("ko", text) is not None, text
    with pytest.raises(CheckFailed, match="could not read the file"):
        expect_by_hand(SimpleNamespace(code=(Unit("", deep),), rules={}), "gradient", hint="")


@pytest.mark.parametrize("imports, call", [
    ("import torch.optim as optim", "optim.SGD"), ("import torch", "torch.optim.SGD"), ("from torch import optim", "optim.SGD"),
    ("from torch.optim import SGD", "SGD"), ("from torch.optim import SGD as Descent", "Descent"),
    ("import torch.optim as optim\nmake = optim.SGD", "make")])
def test_optim_sgd_is_found_however_it_is_written(imports: str, call: str) -> None:
    """Labs 2 and 4 require torch.optim.SGD in train: every spelling counts, in train or a helper it calls;
    the same loop without it does not."""
    from grader.rules import missing_calls

    text = f"""
import torch
{imports}


def make_optimizer(W, b, lr):
    return {call}([W, b], lr=lr)


def train(x, y, lr=0.01, epochs=1000):
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = make_optimizer(W, b, lr)
    return W, b, []
"""
    assert missing_calls((Unit("", text),), "train", ("torch.optim.SGD",)) == []
    by_hand = text.replace("optimizer = make_optimizer(W, b, lr)", "W.data -= lr")
    assert missing_calls((Unit("", by_hand),), "train", ("torch.optim.SGD",)) == ["torch.optim.SGD"]


def test_functions_defined_inside_top_level_blocks_are_read_too() -> None:
    """A function defined inside a top-level `if`, `try` or `with` is the submission's too: either
    branch may be the one that ran, so both are read; a later cell's definition still replaces them."""
    text = """
import torch
try:
    import numpy
except ImportError:
    pass
if torch.cuda.is_available():
    def gradient(x, y, W, b):
        return 2 * torch.mean(x * W + b - y), 2 * torch.mean((x * W + b - y) * x)
else:
    def gradient(x, y, W, b):
        c = torch.mean((x * W + b - y) ** 2)
        c.backward()
        return W.grad, b.grad
"""
    assert calls(text, "gradient") == [("c.backward", "gradient", "line 13")]
    later = "def gradient(x, y, W, b):\n    return 2 * (x * W + b - y).mean(), 2 * ((x * W + b - y) * x).mean()\n"
    assert forbidden_calls((Unit("cell 1", text), Unit("cell 2", later)), "gradient", BY_HAND) == []


@pytest.mark.parametrize("text, first", [
    ('def gradient(x, y, W, b):\n    getattr(cost(x, y, W, b), "backward")()\n    return W.grad, b.grad\n',
     "(...).backward"),
    ('def gradient(x, y, W, b):\n    return getattr(torch, "autograd").grad(cost(x, y, W, b), [W, b])\n', "torch.autograd"),
    ('def gradient(x, y, W, b):\n    return __import__("torch.autograd").autograd.grad(cost(x, y, W, b), [W, b])\n',
     "torch.autograd"),
    ('import importlib\n\ndef gradient(x, y, W, b):\n'
     '    return importlib.import_module("torch.autograd").grad(cost(x, y, W, b), [W, b])\n', "torch.autograd"),
    ('from operator import methodcaller\n\ndef gradient(x, y, W, b):\n'
     '    methodcaller("backward")(cost(x, y, W, b))\n    return W.grad, b.grad\n', "(...).backward"),
])
def test_a_name_looked_up_from_a_string_written_out_is_read(text: str, first: str) -> None:
    head = "import torch\n\ndef cost(x, y, W, b):\n    return torch.mean((x * W + b - y) ** 2)\n\n"
    found = calls(head + text, "gradient")
    assert found and found[0][0] == first, found


@pytest.mark.parametrize("text", [
    'def gradient(x, y, W, b):\n    getattr(cost(x, y, W, b), "back" + "ward")()\n    return W.grad, b.grad\n',
    'def gradient(x, y, W, b):\n    name = "backward"\n    getattr(cost(x, y, W, b), name)()\n    return W.grad, b.grad\n',
    'def gradient(x, y, W, b):\n    eval("cost(x, y, W, b).backward()")\n    return W.grad, b.grad\n',
    'def helper(c):\n    exec("c.back" + "ward()")\n\ndef gradient(x, y, W, b):\n    helper(cost(x, y, W, b))\n'
    '    return W.grad, b.grad\n',
])
def test_a_name_or_code_built_at_run_time_cannot_be_read(text: str) -> None:
    """What such a line calls cannot be read from the source: the rule says so (it used to pass)."""
    head = "import torch\n\ndef cost(x, y, W, b):\n    return torch.mean((x * W + b - y) ** 2)\n\n"
    units = (Unit("", head + text),)
    assert calls(head + text, "gradient") == []
    found = computed_names(units, "gradient")
    assert found and found[0].function in ("gradient", "helper"), found


@pytest.mark.parametrize("lab, functions", [("lab2", ("gradient",)), ("lab3", ("gradient", "descent_step"))])
def test_the_solutions_build_no_name_at_run_time(lab: str, functions: tuple[str, ...]) -> None:
    for kind in ("py", "ipynb"):
        units = submission_units(ROOT / "solutions" / lab / f"{lab}.{kind}", kind)
        for function in functions:
            assert computed_names(units, function) == [], (lab, kind, function)


def test_a_function_judged_by_its_own_rule_is_not_charged_to_its_callers_again() -> None:
    """lab 3: descent_step calls gradient, and both must be by hand. autograd inside gradient is
    gradient's breach alone; descent_step still answers for its own body and for helpers that no rule
    of their own judges."""
    text = """
import torch


def gradient(x, y, W):
    c = torch.mean((x * W - y) ** 2)
    c.backward()
    return W.grad


def helper(x, y, W):
    return torch.autograd.grad(torch.mean((x * W - y) ** 2), W)[0]


def descent_step(x, y, W, lr):
    return W - lr * gradient(x, y, W)


def descent_step_with_helper(x, y, W, lr):
    return W - lr * gradient(x, y, W) - 0 * helper(x, y, W)
"""
    units, judged = (Unit("", text),), frozenset({"gradient"})
    assert [b.function for b in forbidden_calls(units, "descent_step", BY_HAND)] == ["gradient"]
    assert forbidden_calls(units, "descent_step", BY_HAND, judged) == []
    assert [(b.call, b.function) for b in forbidden_calls(units, "descent_step_with_helper", BY_HAND, judged)] == [
        ("torch.autograd.grad", "helper")]
    assert [b.function for b in forbidden_calls(units, "gradient", BY_HAND, judged)] == ["gradient"]  # itself


# A red-team review scored lab 2 at 25/25 with gradient.by_hand passed through each of the first four; the
# others store autograd where the function finds it by a name the rule did not follow.
@pytest.mark.parametrize("text", [
    "class _Tools:\n    bw = torch.Tensor.backward\n\n"
    "def gradient(x, y, W, b):\n    _Tools.bw(cost(x, y, W, b))\n    return W.grad, b.grad\n",
    'def gradient(x, y, W, b):\n    cost(x, y, W, b).__getattribute__("backward")()\n    return W.grad, b.grad\n',
    'import sys\n\ndef gradient(x, y, W, b):\n    return sys.modules["torch.autograd"].grad(cost(x, y, W, b), [W, b])\n',
    '_T = {}\n_T["g"] = vars(torch)["autograd"].grad\n\n'
    'def gradient(x, y, W, b):\n    return _T["g"](cost(x, y, W, b), [W, b])\n',
    "_T = {}\n_T['g'] = torch.autograd.grad\n\ndef gradient(x, y, W, b):\n    return _T['g'](cost(x, y, W, b), [W, b])\n",
    "torch.Tensor.bw = torch.Tensor.backward\n\ndef gradient(x, y, W, b):\n    cost(x, y, W, b).bw()\n    return W.grad, b.grad\n",
    "def _bw(c):\n    c.backward()\n\ntorch.Tensor.bw = _bw\n\n"
    "def gradient(x, y, W, b):\n    cost(x, y, W, b).bw()\n    return W.grad, b.grad\n",
    'def _bw(c):\n    c.backward()\n\nsetattr(torch.Tensor, "bw", _bw)\n\n'
    "def gradient(x, y, W, b):\n    cost(x, y, W, b).bw()\n    return W.grad, b.grad\n",
    "import builtins\nbuiltins.g = torch.autograd.grad\n\ndef gradient(x, y, W, b):\n    return g(cost(x, y, W, b), [W, b])\n",
    "def gradient(x, y, W, b):\n    return globals()['torch'].autograd.grad(cost(x, y, W, b), [W, b])\n",
])
def test_autograd_stored_or_looked_up_where_the_rule_did_not_read_still_fails_it(text: str) -> None:
    head = "import torch\n\ndef cost(x, y, W, b):\n    return torch.mean((x * W + b - y) ** 2)\n\n"
    units = (Unit("", head + text),)
    assert calls(head + text, "gradient") or computed_names(units, "gradient"), "the rule passes"


def test_autograd_used_at_the_top_level_to_check_a_gradient_breaks_no_rule() -> None:
    """A notebook cell comparing the by-hand gradient with autograd's is no breach: only what is stored
    where the function can reach it is."""
    text = """
import torch

def gradient(x, y, W, b):
    e = x * W + b - y
    return 2 * torch.mean(e * x), 2 * torch.mean(e)

W = torch.zeros(1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
x = torch.tensor([1.0, 2.0]); y = 2 * x
torch.mean((x * W + b - y) ** 2).backward()
print(gradient(x, y, W.detach(), b.detach()), W.grad, torch.autograd.grad)
"""
    units = (Unit("", text),)
    assert calls(text, "gradient") == [] and computed_names(units, "gradient") == []


@pytest.mark.parametrize("body", [
    "    if False:\n        optim.SGD([W], lr=lr)\n",
    "    while 0:\n        optim.SGD([W], lr=lr)\n",
    "    if True:\n        pass\n    else:\n        optim.SGD([W], lr=lr)\n",
    "    def _never():\n        optim.SGD([W], lr=lr)\n",
    "    return W, b\n    optim.SGD([W], lr=lr)\n",
])
def test_a_required_call_in_code_that_never_runs_does_not_count(body: str) -> None:
    """`if False: optim.SGD()` in a train that updated by hand passed "train trains with optim.SGD" (red team)."""
    from grader.rules import missing_calls

    text = f"import torch\nfrom torch import optim\n\ndef train(x, y, lr=0.1):\n    W = torch.zeros(1)\n    b = torch.zeros(1)\n{body}" \
           "    return W, b\n"
    assert missing_calls((Unit("", text),), "train", ("torch.optim.SGD",)) == ["torch.optim.SGD"]
    live = text.replace("if False:", "if lr > 0:").replace("while 0:", "while lr < 0:").replace("if True:", "if lr < 0:") \
        .replace("    def _never():\n        optim", "    optim").replace("    return W, b\n    optim", "    optim")
    assert missing_calls((Unit("", live),), "train", ("torch.optim.SGD",)) == [], live


@pytest.mark.parametrize("store", [
    'globals()["g"] = torch.autograd.grad', 'import builtins\nbuiltins.__dict__["g"] = torch.autograd.grad',
    'import builtins\nsetattr(builtins, "g", torch.autograd.grad)', 'exec("g = torch.autograd.grad")',
])
def test_a_name_the_top_level_makes_through_a_table_or_text_fails_the_rule(store: str) -> None:
    text = f"import torch\n\n{store}\n\ndef gradient(x, y, W, b):\n    return g(torch.mean((x * W + b - y) ** 2), [W, b])\n"
    units = (Unit("", text),)
    assert calls(text, "gradient") or computed_names(units, "gradient"), "the rule passes"


HEAD = "import torch\n\ndef cost(x, y, W, b):\n    return torch.mean((x * W + b - y) ** 2)\n\n"
BY_HAND_GRADIENT = ("def gradient(x, y, W, b):\n    error = x * W + b - y\n"
                    "    return 2 * torch.mean(error * x), 2 * torch.mean(error)\n\n")


@pytest.mark.parametrize("top", [
    # a results table whose keys are computed (a review of the hardening: 24/25 for this honest notebook)
    "def train(x, y, lr):\n    W = torch.zeros(1, requires_grad=True)\n    opt = torch.optim.SGD([W], lr=lr)\n"
    "    cost(x, y, W, 0).backward()\n    opt.step()\n    return W\n\nresults = {}\n"
    "for lr in [0.001, 0.01]:\n    results[str(lr)] = train(torch.ones(2), torch.ones(2), lr)\n",
    # a name the function binds by unpacking, a loop or `with` is its own, not the top level's
    "error = cost(torch.ones(2), torch.ones(2), torch.zeros(1, requires_grad=True), 0)\nerror.backward()\n",
    # a namespace table read, not changed or handed on (test_lazy_dynamo's probe of torch._dynamo)
    "import sys\nprint(type(sys.modules.get('torch._dynamo')).__name__, 'x' in globals())\n",
])
def test_honest_notebooks_keep_the_by_hand_rule(top: str) -> None:
    gradient = BY_HAND_GRADIENT.replace("    error = x * W + b - y\n", "    (error,) = (x * W + b - y,)\n    for e in [error]:\n        pass\n")
    text = HEAD + gradient + top
    assert calls(text, "gradient") == [] and computed_names((Unit("", text),), "gradient") == []


@pytest.mark.parametrize("text", [
    "_ag = lambda x, y, W, b: torch.autograd.grad(cost(x, y, W, b), [W, b])\n" + BY_HAND_GRADIENT + line
    for line in ["for gradient in (_ag,):\n    pass\n", "gradient, = (_ag,)\n", "(gradient := _ag)\n",
                 "import contextlib\nwith contextlib.nullcontext(_ag) as gradient:\n    pass\n",
                 "globals().update(gradient=_ag)\n", "globals().__setitem__('gradient', _ag)\n",
                 "import sys\nsetattr(sys.modules[__name__], 'gradient', _ag)\n"]
] + [
    "import sys\ndef gradient(x, y, W, b):\n    return sys.modules.get('torch.' + 'autograd').grad(cost(x, y, W, b), [W, b])\n",
    "def gradient(x, y, W, b):\n    return torch.__dict__.get('auto' + 'grad').grad(cost(x, y, W, b), [W, b])\n",
    "import builtins\ndef gradient(x, y, W, b):\n    return builtins.getattr(torch, 'auto' + 'grad').grad(cost(x, y, W, b), [W, b])\n",
    "import functools\ndef gradient(x, y, W, b):\n"
    "    return functools.reduce(getattr, ['auto' + 'grad', 'grad'], torch)(cost(x, y, W, b), [W, b])\n",
    "def gradient(x, y, W, b):\n    return [getattr][0](torch, 'auto' + 'grad').grad(cost(x, y, W, b), [W, b])\n",
    "import importlib\ndef gradient(x, y, W, b):\n"
    "    return importlib.__import__('torch.autograd', fromlist=['grad']).grad(cost(x, y, W, b), [W, b])\n",
    "import pydoc\ndef gradient(x, y, W, b):\n    return pydoc.locate('torch.autograd.grad')(cost(x, y, W, b), [W, b])\n",
    "from torch.autograd import *\ndef gradient(x, y, W, b):\n    return grad(cost(x, y, W, b), [W, b])\n",
    "def gradient(x, y, W, b):\n    c = cost(x, y, W, b)\n"
    "    torch._C._ImperativeEngine().run_backward((c,), (torch.ones(()),), False, False, (W, b), False, False)\n",
    "import torch._functorch.apis as fa\ndef gradient(x, y, W, b):\n"
    "    return fa.grad(lambda W, b: cost(x, y, W, b), argnums=(0, 1))(W, b)\n",
])
def test_autograd_reached_in_other_ways_still_fails_the_rule(text: str) -> None:
    """A review of the hardening found these sixteen scoring 25/25 on lab 2 with gradient.by_hand passed."""
    units = (Unit("", HEAD + text),)
    assert calls(HEAD + text, "gradient") or computed_names(units, "gradient"), "the rule passes"


def test_reading_a_rule_takes_time_in_proportion_to_the_code() -> None:
    """2,000 classes each with a method f using `a.f` (66 KB, far under the size cap) took the grader's rule
    check over 300 s: every `a.f` queued every class again. A bound far above the honest time (0.1 s)."""
    import signal
    import time

    text = "import torch\ndef gradient(x, y, W, b):\n    return a.f\n" + "".join(
        f"class C{i}:\n def f(s):return a.f\n" for i in range(2000))

    def too_long(*_: object) -> None:
        raise TimeoutError("the rule check took more than 30 s")

    old = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(30)
    try:
        started = time.monotonic()
        assert calls(text, "gradient") == []
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - started < 30


def test_a_no_grad_block_is_read_from_the_code_not_its_comments() -> None:
    """The hint for an unrecorded cost names a torch.no_grad() block only where the function's code has one:
    a comment or a docstring that mentions it (the lesson's own notes do) is not one."""
    from grader.rules import turns_grad_off

    block = "import torch\ndef train_step(x):\n    with torch.no_grad():\n        return x.sum()\n"
    imported = "from torch import no_grad\ndef train_step(x):\n    with no_grad():\n        return x.sum()\n"
    said = 'def train_step(x):\n    """Not under torch.no_grad()."""\n    # no_grad would break backward()\n    return x.sum()\n'
    assert turns_grad_off((Unit("", block),), "train_step")
    assert turns_grad_off((Unit("", imported),), "train_step")
    assert not turns_grad_off((Unit("", said),), "train_step")
    assert not turns_grad_off((Unit("", block),), "hypothesis")
