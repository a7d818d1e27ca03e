"""Benchmark `grade batch` on a class of notebooks: 1 job, 2 jobs, and `grade` once per submission.

    python benchmarks/bench_batch.py [--students 40] [--out benchmarks/out/batch.json]

The class is the lab 2 solution notebook and notebooks with one classic mistake each, in turn.
Reports wall-clock seconds, notebooks per minute and the speed-ups. Not a test: run it on a
quiet machine and copy the figures into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADE = Path(sys.executable).parent / "grade"
MISTAKES = ["sum_instead_of_mean", "forgets_zero_grad", "gradient_sign_flipped", "one_epoch_too_few",
            "parameters_by_hand", "cost_after_step", "hypothesis_ignores_bias"]


def make_class(folder: Path, students: int) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import apply_override  # the test suite's builder of submissions from the solution

    scratch = folder.parent / "scratch"
    scratch.mkdir()
    for i in range(students):
        target = folder / f"student{i:03d}.ipynb"
        if i % 2 == 0:
            shutil.copy(ROOT / "solutions/lab2/lab2.ipynb", target)
        else:
            mistake = MISTAKES[(i // 2) % len(MISTAKES)]
            apply_override(ROOT / f"tests/submissions/lab2/overrides/{mistake}.py", "ipynb", scratch).rename(target)


def timed(cmd: list[str]) -> float:
    started = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ERROR: {' '.join(cmd)} exited with {proc.returncode}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/out/batch.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        classroom = Path(tmp) / "class"
        classroom.mkdir()
        make_class(classroom, args.students)
        seconds = {
            "batch_jobs_1": timed([str(GRADE), "batch", str(classroom), "--lab", "lab2", "--out", f"{tmp}/o1", "--jobs", "1"]),
            "batch_jobs_2": timed([str(GRADE), "batch", str(classroom), "--lab", "lab2", "--out", f"{tmp}/o2", "--jobs", "2"]),
        }
        started = time.monotonic()
        for nb in sorted(classroom.iterdir()):
            timed([str(GRADE), str(nb), "--lab", "lab2", "--quiet"])
        seconds["grade_each"] = time.monotonic() - started
    n = args.students
    figures = {
        "students": n,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "notebooks_per_minute": {k: round(60 * n / v, 1) for k, v in seconds.items()},
        "speedup_vs_grade_each": {k: round(seconds["grade_each"] / v, 2) for k, v in seconds.items()},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".tmp")
    tmp_out.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp_out, args.out)


if __name__ == "__main__":
    main()
