"""What the sandbox costs: the same work with and without bubblewrap, side by side in one run.

1. Start-up alone: a sandboxed `python -c pass` against a plain one, both through the grader's
   launcher (same cgroups and rlimits), so the difference is bubblewrap's own cost.
2. Whole grades: `grade solutions/lab2/lab2.py` and `.ipynb` with the sandbox and with
   `--unsandboxed`, taking turns (A, B, A, B, ...) so that other load hits both alike.

    python benchmarks/bench_sandbox.py [--runs N] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_grade import write_json_atomically  # this folder is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
GRADE = str(Path(sys.executable).parent / "grade")


def _time(argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT, expect: int = 0) -> float:
    started = time.perf_counter()
    run = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if run.returncode != expect:
        raise SystemExit(f"ERROR: {argv[:4]} exited {run.returncode}: {run.stderr[-500:]}")
    return elapsed


def startup(runs: int) -> dict[str, float]:
    from grader.config import Limits, Sandboxing
    from grader.runner.jail import open_jail

    times: dict[str, list[float]] = {"sandboxed": [], "plain": []}
    for _ in range(runs + 1):
        for name, mode in (("sandboxed", Sandboxing.REQUIRE), ("plain", Sandboxing.OFF)):
            with tempfile.TemporaryDirectory() as tmp:
                jail = open_jail(Path(tmp), Limits(sandboxing=mode))
                try:
                    times[name].append(_time(jail.argv([sys.executable, "-s", "-P", "-c", "pass"]), env=jail.env(),
                                             cwd=jail.root / "work"))
                finally:
                    jail.close()
    return {name: statistics.median(values[1:]) for name, values in times.items()}


def grades(runs: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for kind in ("py", "ipynb"):
        target = f"solutions/lab2/lab2.{kind}"
        times: dict[str, list[float]] = {"sandboxed": [], "unsandboxed": []}
        for _ in range(runs + 1):
            times["sandboxed"].append(_time([GRADE, target, "--quiet"]))
            times["unsandboxed"].append(_time([GRADE, target, "--quiet", "--unsandboxed"]))
        for name, values in times.items():
            out[f"{kind} {name}"] = statistics.median(values[1:])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/out/sandbox.json")
    args = parser.parse_args()
    figures = {"startup": startup(args.runs * 4), "grade": grades(args.runs), "cpus": os.cpu_count()}
    s = figures["startup"]
    print(f"start-up   sandboxed {s['sandboxed'] * 1000:.0f} ms  plain {s['plain'] * 1000:.0f} ms  "
          f"bubblewrap adds {(s['sandboxed'] - s['plain']) * 1000:.0f} ms")
    g = figures["grade"]
    for kind in ("py", "ipynb"):
        a, b = g[f"{kind} sandboxed"], g[f"{kind} unsandboxed"]
        print(f"grade .{kind:<6} sandboxed {a:.2f} s  unsandboxed {b:.2f} s  ratio {a / b:.2f}x")
    write_json_atomically(figures, args.out)


if __name__ == "__main__":
    main()
