"""torch._dynamo deferred until something compiles (grader/runner/lazy_dynamo.py).

torch.optim imports it on an optimizer's first use, about a CPU-second and 70 MiB in every
process that trains. With the stand-in, training gives the same bits without it; compiling
still works, with the real package run once; and the sandbox's runs train without it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_grade
from test_sandbox import FAST, needs_bubblewrap, with_attack  # noqa: F401  (the fixture applies here too)

DEFER = f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nimport torch\nfrom grader.runner import lazy_dynamo\n"

TRAIN = """
import torch.nn.functional as F
x = torch.tensor([[1.0], [2.0], [3.0]]); y = torch.tensor([[2.0], [4.0], [6.0]])
W = torch.zeros(1, requires_grad=True); b = torch.zeros(1, requires_grad=True)
sgd = torch.optim.SGD([W, b], lr=0.01)
for _ in range(200):
    sgd.zero_grad(); torch.mean((x * W + b - y) ** 2).backward(); sgd.step()
torch.manual_seed(1)
model = torch.nn.Linear(1, 1)
adam = torch.optim.Adam(model.parameters(), lr=0.1)
for _ in range(20):
    adam.zero_grad(); F.mse_loss(model(x), y).backward(); adam.step()
adam.load_state_dict(adam.state_dict())
numbers = [v.hex() for v in (W.item(), b.item(), *(p.item() for p in model.parameters()))]
loaded = 'optimize' in vars(sys.modules.get('torch._dynamo') or sys)
print(json.dumps({'numbers': numbers, 'loaded': loaded}))
"""


def _side_by_side(*scripts: str) -> list[subprocess.CompletedProcess[str]]:
    """Each script in a Python of its own, all at once (each mostly waits on its own torch import)."""
    started = [subprocess.Popen([sys.executable, "-I", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for script in scripts]
    done = []
    try:
        for proc in started:
            stdout, stderr = proc.communicate(timeout=180)
            done.append(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    finally:
        for proc in started:
            proc.kill()
            proc.wait()
    return done


def _runs(*scripts: str) -> list[dict[str, object]]:
    """The last line each script prints, as JSON."""
    outs = []
    for proc in _side_by_side(*("import json\n" + script for script in scripts)):
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs.append(dict(json.loads(proc.stdout.splitlines()[-1])))
    return outs


def _run(script: str) -> dict[str, object]:
    return _runs(script)[0]


def test_training_gives_the_same_bits_without_importing_torch_dynamo() -> None:
    plain, deferred = _runs("import sys\nimport torch\n" + TRAIN,
                            DEFER + "assert lazy_dynamo.defer() and not lazy_dynamo.defer()\n" + TRAIN)
    assert plain["loaded"] is True  # the control: torch.optim imports it
    assert deferred["loaded"] is False
    assert deferred["numbers"] == plain["numbers"]


def test_compiling_runs_the_real_package_once_in_the_same_module() -> None:
    # A submodule first: the import system reads the package's __path__ before it looks for the
    # submodule, which the package's own import also imports; it must not run twice.
    out = _run(DEFER + "lazy_dynamo.defer()\n" + """
stand_in = sys.modules['torch._dynamo']
import torch._dynamo.eval_frame as eval_frame
import torch._dynamo.config as config
from torch._dynamo.aot_compile_types import BundledAOTAutogradSerializableCallable as bundled
import torch._dynamo.aot_compile_types as aot_compile_types
compiled = torch.compile(lambda a: a * 2 + 1, backend='eager')
print(json.dumps({
    'loaded': lazy_dynamo.loaded(),
    'same_module': stand_in is sys.modules['torch._dynamo'] is torch._dynamo,
    'once': eval_frame.OptimizedModule is torch._dynamo.OptimizedModule
            and config is sys.modules['torch._dynamo.config'] is torch._dynamo.config
            and aot_compile_types.BundledAOTAutogradSerializableCallable is bundled,
    'spec_kept': eval_frame.__spec__.name == 'torch._dynamo.eval_frame'
                 and type(eval_frame.__spec__.loader).__name__ == 'SourceFileLoader',
    'finder_gone': not any(type(f).__module__ == lazy_dynamo.__name__ for f in sys.meta_path),
    'compiled': compiled(torch.ones(2)).tolist(),
}))
""")
    assert out == {"loaded": True, "same_module": True, "once": True, "spec_kept": True, "finder_gone": True,
                   "compiled": [3.0, 3.0]}


def test_what_torch_itself_disables_runs_disabled_once_the_real_package_is_there() -> None:
    """Optimizer methods wrapped before the load go through torch._dynamo.disable after it."""
    out = _run(DEFER + "lazy_dynamo.defer()\n" + """
W = torch.zeros(1, requires_grad=True)
sgd = torch.optim.SGD([W], lr=0.1)
sgd.zero_grad()  # wrapped by torch._disable_dynamo: the stand-in's disable, before the load
seen = []
import torch._dynamo.eval_frame as eval_frame
real_disable = torch._dynamo.disable
def spy(fn=None, recursive=True, **kwargs):
    seen.append(getattr(fn, '__name__', None))
    return real_disable(fn, recursive, **kwargs)
torch._dynamo.disable = spy
sgd.zero_grad()
torch._dynamo.disable = real_disable
print(json.dumps({'seen': seen}))
""")
    assert out == {"seen": ["zero_grad"]}


# Programs whose output must not change with the stand-in: compiling after eager training (the
# optimizer's methods torch wrapped meanwhile are wrapped again: the same frames, graph breaks
# and no recompile), a submodule as the first touch, what a monkeypatch sets or puts back, a
# thread that trains while another loads the real package, and an import in another thread
# while the package loads (the load must not hold the import system's global lock).
SAME = {
    "compile_after_training": """
torch.manual_seed(0)
m = torch.nn.Linear(3, 1); opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
x = torch.randn(8, 3); y = torch.randn(8, 1)
def step():
    opt.zero_grad(); loss = ((m(x) - y) ** 2).mean(); loss.backward(); opt.step(); return loss
for _ in range(3): step()
from torch._dynamo.utils import counters
counters.clear()
compiled = torch.compile(step, backend='eager')
print([compiled().item().hex() for _ in range(3)], sorted((k, sorted(v.items())) for k, v in counters.items()))
def grow(a):
    opt.add_param_group({'params': [torch.zeros(2, requires_grad=True)]}); return a * 2
grown = torch.compile(grow, backend='eager')
grown(x)
torch.compiler.set_stance('fail_on_recompile')
print([grown(x).sum().item() for _ in range(2)], len(opt.param_groups))
""",
    "config_first": """
import torch._dynamo.config
print(torch._dynamo.config.cache_size_limit, type(torch._dynamo.config.__spec__.loader).__name__)
""",
    "patched": """
from unittest import mock
calls = []
W = torch.zeros(2, requires_grad=True); opt = torch.optim.SGD([W], lr=0.1)
with mock.patch.object(torch._dynamo, 'graph_break', lambda *a: calls.append('patched')):
    W.sum().backward(); opt.step()
W.sum().backward(); opt.step()
torch._dynamo.graph_break = lambda *a: calls.append('set')
W.sum().backward(); opt.step()
print(calls, W.tolist())
""",
    "threads": """
import threading, time
W = torch.zeros(3, requires_grad=True); opt = torch.optim.SGD([W], lr=0.1)
errors, stop = [], []
def train():
    for _ in range(20000):
        if stop: break
        try:
            opt.zero_grad(); (W ** 2).sum().backward(); opt.step()
        except Exception as exc:
            errors.append(type(exc).__name__)
trainer = threading.Thread(target=train); trainer.start()
time.sleep(0.05)
torch._dynamo.reset()
stop.append(1); trainer.join()
print(sorted(set(errors)))
""",
    "import_meanwhile": """
import threading, time
importer = threading.Thread(target=__import__, args=('sympy',), daemon=True); importer.start()
time.sleep(0.02)
import torch._dynamo.utils
importer.join(60)
print(importer.is_alive(), 'sympy' in sys.modules)
""",
}


@pytest.mark.parametrize("name", sorted(SAME))
def test_a_program_prints_the_same_with_the_stand_in(name: str) -> None:
    plain, deferred = _side_by_side(DEFER + "\n" + SAME[name],  # (the same line numbers)
                                    DEFER + "assert lazy_dynamo.defer()\n" + SAME[name])
    assert plain.returncode == 0 and plain.stdout.strip(), plain.stderr[-3000:]
    assert (deferred.returncode, deferred.stdout) == (0, plain.stdout), deferred.stderr[-3000:]


DETECT = """
import sys as _sys
_x = torch.tensor([[1.0], [2.0], [3.0]])
_W, _b, _costs = train(_x, 2 * _x, epochs=10)
_stand_in = type(_sys.modules.get('torch._dynamo')).__name__
_trained_without = 'optimize' not in vars(_sys.modules['torch._dynamo'])
_compiled = torch.compile(lambda a: a * 2 + 1, backend='eager')(torch.ones(2)).tolist()
print('DYNAMO', _stand_in, _trained_without, _compiled, 'optimize' in vars(_sys.modules['torch._dynamo']),
      file=_sys.stderr)
"""


@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_a_sandboxed_run_trains_without_torch_dynamo_and_can_still_compile(kind: str, tmp_path: Path) -> None:
    (tmp_path / "detect.py").write_text(DETECT, encoding="utf-8")
    graded = run_grade(with_attack(str(tmp_path / "detect.py"), kind, tmp_path), *FAST, cwd=tmp_path)
    lines = [line[line.index("DYNAMO"):] for line in graded.report["stderr"].splitlines() if "DYNAMO" in line]
    assert lines == ["DYNAMO _Deferred True [3.0, 3.0] True"], graded.report["stderr"][-3000:]
    assert graded.report["score"] == graded.report["max_score"]
