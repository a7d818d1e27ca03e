"""Grade the same class of lab 2 notebooks with otter-grader and with `grade batch`, side by side.

    python benchmarks/bench_otter.py [--students 40] [--out benchmarks/out/otter.json] [--skip-install]

Run it with the repository's venv (the `grade` script next to the interpreter is the one measured).
The class is the lab 2 solution notebook and notebooks with one classic mistake each, in turn
(`make_class` of bench_batch.py). Four runs, each timed from start to exit, 2 workers each:

- otter: `otter.api.grade_submission` over the notebooks in a `multiprocessing.Pool(2)`, in a venv
  of its own (/tmp/bench-otter-venv: torch==2.13.0, otter-grader and ipykernel; made once, then
  reused). Its assignment is a handful of OK-format tests of the lab's functions at the lessons'
  values (TESTS below), packed into an autograder zip by `otter generate`.
- ours, warm: `grade batch CLASS --lab lab2 --jobs 2` (the default warm workers), twice: first with
  an empty user cache (as the first batch after installing or changing the grader: it remembers the
  reference's runs and the mistakes' simulations there), then reading it.
- ours, cold: the same with GRADER_WARM=0 (a new interpreter and kernel for every student).

Reports seconds, notebooks per minute, the ratios ours/otter and warm/cold, and the scores each
tool gave (a sanity check that both really graded). Not a test: the figures are only as quiet as
the machine was.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pprint
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_grade import write_json_atomically  # this folder is on sys.path when run as a script

from bench_batch import make_class

ROOT = Path(__file__).resolve().parent.parent
GRADE = Path(sys.executable).parent / "grade"
OTTER_VENV = Path("/tmp/bench-otter-venv")
OTTER_PACKAGES = ["torch==2.13.0", "otter-grader", "ipykernel"]  # torch pinned: the machine's CPU build

# One OK test a function, 1 point each, at the values the lessons print (see grader/labs/lab2/data.py).
# Every test starts from the lessons' data x = y = [[1], [2], [3]].
SETUP = """
>>> import torch
>>> xs = torch.tensor([[1.0], [2.0], [3.0]])
>>> ys = torch.tensor([[1.0], [2.0], [3.0]])
"""
TESTS: dict[str, str] = {
    "hypothesis": """
>>> h = hypothesis(xs, torch.tensor([0.49625658988952637]), torch.tensor([0.7682217955589294]))
>>> tuple(h.shape)
(3, 1)
>>> [round(v, 4) for v in h.flatten().tolist()]
[1.2645, 1.7607, 2.257]
""",
    "mse_cost": """
>>> cost = mse_cost(torch.zeros(3, 1), ys)
>>> cost.dim(), round(cost.item(), 4)
(0, 4.6667)
>>> round(mse_cost(xs * (0.28 / 3) + 0.04, ys).item(), 4)
3.6927
""",
    "gradient": """
>>> dW, db = gradient(xs, ys, torch.zeros(1), torch.zeros(1))
>>> tuple(dW.shape), tuple(db.shape)
((1,), (1,))
>>> round(-0.01 * dW.item(), 4), round(-0.01 * db.item(), 4)
(0.0933, 0.04)
>>> dW, db = gradient(xs, 20 * xs, torch.tensor([0.49625658988952637]), torch.tensor([0.7682217955589294]))
>>> round(dW.item(), 2), round(db.item(), 2)
(-178.96, -76.48)
""",
    "train_step": """
>>> W = torch.zeros(1, requires_grad=True)
>>> b = torch.zeros(1, requires_grad=True)
>>> optimizer = torch.optim.SGD([W, b], lr=0.01)
>>> round(train_step(xs, ys, W, b, optimizer), 4)
4.6667
>>> round(W.item(), 4), round(b.item(), 4)
(0.0933, 0.04)
>>> round(train_step(xs, ys, W, b, optimizer), 4)
3.6927
>>> round(W.item(), 4), round(b.item(), 4)
(0.1764, 0.0755)
""",
    "train": """
>>> W, b, costs = train(xs, ys, lr=0.01, epochs=1000)
>>> len(costs), round(costs[0], 6)
(1001, 4.666667)
>>> round(W.item(), 3), round(b.item(), 3), round(costs[-1], 6)
(0.985, 0.033, 0.000158)
""",
    "LinearRegressionModel": """
>>> _ = torch.manual_seed(1)
>>> model = LinearRegressionModel()
>>> isinstance(model.linear, torch.nn.Linear)
True
>>> [round(v, 4) for v in model(xs).flatten().tolist()]
[0.0739, 0.5891, 1.1044]
""",
}

# Run by the otter venv's interpreter: grade each notebook (argv[2:]) with the autograder zip (argv[1]).
OTTER_DRIVER = """
import json, sys
from multiprocessing import Pool
from otter.api import grade_submission

def grade(path):
    results = grade_submission(path, sys.argv[1], quiet=True)
    return results.total, results.possible

if __name__ == "__main__":
    with Pool(2) as pool:
        print(json.dumps(pool.map(grade, sys.argv[2:], chunksize=1)))
"""


def install_otter(skip: bool) -> Path:
    """The otter venv's interpreter, made (or completed) unless `skip`."""
    python = OTTER_VENV / "bin/python"
    if not skip:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(OTTER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *OTTER_PACKAGES], check=True)
    if not python.exists():
        raise SystemExit(f"ERROR: no {python}: run without --skip-install first")
    return python


def build_assignment(python: Path, folder: Path) -> Path:
    """Write TESTS as OK-format test files and pack them with `otter generate`; returns the zip."""
    tests = folder / "tests"
    tests.mkdir(parents=True)
    for name, code in TESTS.items():
        case = {"code": SETUP + code.lstrip("\n"), "hidden": False, "locked": False}
        test = {"name": name, "points": 1, "suites": [{"cases": [case], "scored": True, "setup": "",
                                                       "teardown": "", "type": "doctest"}]}
        (tests / f"{name}.py").write_text(f"OK_FORMAT = True\n\ntest = {pprint.pformat(test, width=100)}\n",
                                          encoding="utf-8")
    zip_path = folder / "autograder.zip"
    subprocess.run([str(python.parent / "otter"), "generate", "-t", str(tests), "-o", str(zip_path), "--no-config",
                    "--no-requirements", "--no-environment"], cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return zip_path


def run_otter(python: Path, zip_path: Path, notebooks: list[Path]) -> tuple[float, list[float]]:
    """Seconds for otter to grade `notebooks`, and the fraction of the points each got."""
    started = time.monotonic()
    proc = subprocess.run([str(python), "-c", OTTER_DRIVER, str(zip_path), *map(str, notebooks)],
                          capture_output=True, text=True, cwd=zip_path.parent)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"ERROR: otter exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    return seconds, [total / possible for total, possible in json.loads(proc.stdout.splitlines()[-1])]


def run_grade_batch(classroom: Path, out: Path, warm: bool, cache: Path) -> tuple[float, list[float]]:
    """Seconds for `grade batch --jobs 2` on the class, and the fraction of the points each got.
    `cache`: the user's cache folder (XDG_CACHE_HOME), where the remembered reference runs and
    mistake simulations are kept."""
    env = dict(os.environ, GRADER_WARM="1" if warm else "0", XDG_CACHE_HOME=str(cache))
    cmd = [str(GRADE), "batch", str(classroom), "--lab", "lab2", "--out", str(out), "--jobs", "2"]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ERROR: {' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    return seconds, batch_scores(out)


def batch_scores(out: Path) -> list[float]:
    """The fraction of the points each entry got, from the batch's results.json."""
    rows = json.loads((out / "results.json").read_text(encoding="utf-8"))["students"]
    return [row["score"] / row["max_score"] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/out/otter.json")
    parser.add_argument("--skip-install", action="store_true", help=f"use {OTTER_VENV} as it is")
    args = parser.parse_args()
    otter_python = install_otter(args.skip_install)
    with tempfile.TemporaryDirectory(prefix="bench-otter-") as tmp:
        classroom = Path(tmp) / "class"
        classroom.mkdir()
        make_class(classroom, args.students)
        notebooks = sorted(classroom.iterdir())
        zip_path = build_assignment(otter_python, Path(tmp) / "otter")
        runs = {
            "otter": run_otter(otter_python, zip_path, notebooks),
            # The first batch after installing (or changing) the grader fills the user's cache; later ones read it.
            "grade_batch_warm_empty_cache": run_grade_batch(classroom, Path(tmp) / "first", True, Path(tmp) / "cache"),
            "grade_batch_warm": run_grade_batch(classroom, Path(tmp) / "warm", True, Path(tmp) / "cache"),
            "grade_batch_cold": run_grade_batch(classroom, Path(tmp) / "cold", False, Path(tmp) / "cache"),
        }
    n = args.students
    seconds = {name: seconds for name, (seconds, _) in runs.items()}
    figures = {
        "students": n,
        "jobs": 2,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "notebooks_per_minute": {k: round(60 * n / v, 1) for k, v in seconds.items()},
        "ratios": {
            "grade_batch_warm / otter": round(seconds["grade_batch_warm"] / seconds["otter"], 2),
            "grade_batch_warm_empty_cache / otter": round(seconds["grade_batch_warm_empty_cache"] / seconds["otter"], 2),
            "grade_batch_cold / otter": round(seconds["grade_batch_cold"] / seconds["otter"], 2),
            "grade_batch_warm / grade_batch_cold": round(seconds["grade_batch_warm"] / seconds["grade_batch_cold"], 2),
        },
        "full_marks": {name: sum(score == 1 for score in scores) for name, (_, scores) in runs.items()},
        "otter_tests": len(TESTS),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    print(f"{'run':<28} {'seconds':>8} {'nb/min':>7} {'full marks':>11}")
    for name in runs:
        print(f"{name:<28} {seconds[name]:8.1f} {figures['notebooks_per_minute'][name]:7.1f} "
              f"{figures['full_marks'][name]:>5}/{n}")
    for name, ratio in figures["ratios"].items():
        print(f"{name}: {ratio:.2f}x")
    write_json_atomically(figures, args.out)


if __name__ == "__main__":
    main()
