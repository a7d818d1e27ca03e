"""Benchmark `grade batch` on a class of notebooks: warm and cold (GRADER_WARM=0), 1 and 2 jobs,
workers forked from the warm fork server and spawned (GRADER_FORKSERVER=0), the first batch with
an empty user cache (no remembered reference runs or mistake simulations) and later ones.

    python benchmarks/bench_batch.py [--students 40] [--out benchmarks/out/batch.json] [--grade-each]

Also: re-grading the unchanged class (the cache), the whole process tree's peak memory (PSS,
sampled every 0.2 s, in a second run of each row: the sampling costs CPU) per job, and with
--grade-each `grade` once per notebook (the peak: a first grade, which starts the service).

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

from bench_grade import write_json_atomically  # this folder is on sys.path when run as a script

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


def _tree(root: int) -> list[int]:
    """`root` and every process below it, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as f:
                    ppid = int(f.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _pss_mib(pids: list[int]) -> float:
    """Proportional set size of the processes together (shared pages counted once overall)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total / 1024


def time_of(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds from start to exit, with nothing else watching the run (sampling /proc costs CPU on a
    2-core machine, and a loop polling for the exit every 0.2 s would add up to 0.2 s to a run: more
    than a re-grade of the unchanged class takes)."""
    started = time.monotonic()
    code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env}).returncode
    if code not in (0, 1):
        raise SystemExit(f"ERROR: {' '.join(cmd)} exited with {code}")
    return time.monotonic() - started


def peak_of(cmd: list[str], env: dict[str, str]) -> float:
    """The whole process tree's peak memory (PSS, sampled every 0.2 s) in a run of its own."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env})
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _pss_mib(_tree(proc.pid)))
        time.sleep(0.2)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ERROR: {' '.join(cmd)} exited with {proc.returncode}")
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/out/batch.json")
    parser.add_argument("--grade-each", action="store_true", help="also run `grade` once per notebook (slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        classroom = Path(tmp) / "class"
        classroom.mkdir()
        make_class(classroom, args.students)

        def batch(name: str, jobs: int) -> list[str]:
            return [str(GRADE), "batch", str(classroom), "--lab", "lab2", "--out", f"{tmp}/{name}", "--jobs", str(jobs)]

        # The user's cache (the remembered reference runs and mistake simulations) is the benchmark's own:
        # the first batch fills it, as the first batch after installing the grader would; the others read it.
        # Each row is two runs: one timed, one sampled for memory (into another output folder, and for the
        # first row another empty cache, so that it grades the same way).
        cache = {"XDG_CACHE_HOME": f"{tmp}/cache"}
        runs: dict[str, tuple[float, float]] = {}
        for name, out, jobs, env in [
            ("batch_jobs_2_empty_cache", "empty", 2, {}),
            ("batch_jobs_2_cold", "cold", 2, {"GRADER_WARM": "0"}),
            ("batch_jobs_1", "o1", 1, {}),
            ("batch_jobs_2", "o2", 2, {}),
            ("batch_jobs_2_spawned", "spawned", 2, {"GRADER_FORKSERVER": "0"}),
        ]:
            seconds = time_of(batch(out, jobs), {**env, **cache})
            peak_cache = {"XDG_CACHE_HOME": f"{tmp}/cache-peak"} if out == "empty" else cache
            runs[name] = (seconds, peak_of(batch(f"{out}-peak", jobs), {**env, **peak_cache}))
        runs["regrade_unchanged_jobs_2"] = (time_of(batch("o2", 2), cache), peak_of(batch("o2", 2), cache))
        if args.grade_each:
            notebooks = sorted(classroom.iterdir())
            seconds = sum(time_of([str(GRADE), str(nb), "--lab", "lab2", "--quiet"], cache) for nb in notebooks)
            # The peak: a student's first grade, which starts the warm service as its child (stopped first, so
            # that the sampled tree holds it), of a notebook with a mistake.
            subprocess.run([str(GRADE), "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            runs["grade_each"] = (seconds, peak_of([str(GRADE), str(notebooks[1]), "--lab", "lab2", "--quiet"], cache))
    n = args.students
    seconds = {k: v[0] for k, v in runs.items()}
    jobs = {"batch_jobs_2_empty_cache": 2, "batch_jobs_2_cold": 2, "batch_jobs_1": 1, "batch_jobs_2": 2, "regrade_unchanged_jobs_2": 2, "grade_each": 1,
            "batch_jobs_2_spawned": 2}
    figures = {
        "students": n,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "notebooks_per_minute": {k: round(60 * n / v, 1) for k, v in seconds.items()},
        "peak_pss_mib_per_job": {k: round(v[1] / jobs[k]) for k, v in runs.items()},
        "warm_speedup_jobs_2": round(seconds["batch_jobs_2_cold"] / seconds["batch_jobs_2"], 2),
        "filled_cache_speedup_jobs_2": round(seconds["batch_jobs_2_empty_cache"] / seconds["batch_jobs_2"], 2),
        "forked_speedup_jobs_2": round(seconds["batch_jobs_2_spawned"] / seconds["batch_jobs_2"], 2),
        "regrade_speedup": round(seconds["batch_jobs_2"] / seconds["regrade_unchanged_jobs_2"], 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    print(json.dumps(figures, indent=2))
    write_json_atomically(figures, args.out)


if __name__ == "__main__":
    main()
