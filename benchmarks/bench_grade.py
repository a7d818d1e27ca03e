"""Wall-clock benchmark of whole `grade` commands against the cost of the work they cannot avoid.

Run from anywhere:  python benchmarks/bench_grade.py [--runs N] [--out FILE] [--phases]

Every command is a fresh process, timed from spawn to exit, so interpreter start-up, imports,
kernel start-up and shutdown all count, as they do for a student. Each command runs once to warm
the disk cache, then N times. The two commands of a comparison alternate (A, B, A, B, ...) so that
noise from anything else on the machine falls on both alike. Ratios are ratios of medians.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 1
ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GRADE = str(Path(sys.executable).parent / "grade")

# The baseline for notebooks: what any tool must at least do to run the notebook, with nbclient's
# defaults (graceful kernel shutdown included). The notebook's path arrives as sys.argv[1].
_BARE_NBCLIENT = (
    "import sys, nbformat, nbclient\n"
    "nb = nbformat.read(sys.argv[1], as_version=4)\n"
    "nbclient.NotebookClient(nb, kernel_name='python3').execute()\n"
)
# One trivial cell: the cost of starting a kernel, running anything at all, and shutting it down.
_EMPTY_KERNEL = (
    "import nbformat, nbclient\n"
    "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('pass')])\n"
    "nbclient.NotebookClient(nb, kernel_name='python3').execute()\n"
)


class CommandFailed(RuntimeError):
    """A benchmarked command exited with a status other than the one expected of it."""

    def __init__(self, label: str, expected: int, obtained: int) -> None:
        super().__init__(f"{label!r} exited with status {obtained}, expected {expected}; "
                         f"run it by hand (from {ROOT}) to see why")
        self.label = label
        self.expected = expected
        self.obtained = obtained


@dataclass(frozen=True)
class Command:
    label: str  # how the table and the JSON name it
    argv: tuple[str, ...]
    exit_code: int = 0
    env: tuple[tuple[str, str], ...] = ()  # set on top of the benchmark's own environment
    before: tuple[str, ...] = ()  # run (untimed) before each timed run


@dataclass(frozen=True)
class Timing:
    command: Command
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def to_json(self) -> dict[str, object]:
        return {
            "exit_code": self.command.exit_code,
            "median_s": round(self.median, 3),
            "min_s": round(min(self.seconds), 3),
            "max_s": round(max(self.seconds), 3),
            "runs_s": [round(s, 3) for s in self.seconds],
        }


@dataclass(frozen=True)
class Comparison:
    name: str
    measured: Timing
    baseline: Timing
    target: float | None  # the largest acceptable ratio, if the project has set one

    @property
    def ratio(self) -> float:
        return self.measured.median / self.baseline.median

    def to_json(self) -> dict[str, object]:
        return {
            "measured": self.measured.command.label,
            "baseline": self.baseline.command.label,
            "ratio": round(self.ratio, 3),
            "target": self.target,
            "meets_target": None if self.target is None else self.ratio <= self.target,
        }


def grade(path: str, exit_code: int = 0, how: str = "served") -> Command:
    """`grade` as a student's next grade (served by the warm service the warm-up run started), as a
    first grade (no service running: it starts one), in one process with a warm sandboxed Python
    (GRADER_SERVICE=0), or cold (GRADER_WARM=0: no warm Python and no service)."""
    argv = (GRADE, path, "--quiet")
    if how == "served":
        return Command(f"grade {path} --quiet", argv, exit_code)
    if how == "first":
        return Command(f"grade {path} --quiet, no service running", argv, exit_code, before=(GRADE, "stop"))
    if how == "alone":
        return Command(f"GRADER_SERVICE=0 grade {path} --quiet", argv, exit_code, (("GRADER_SERVICE", "0"),))
    return Command(f"GRADER_WARM=0 grade {path} --quiet", argv, exit_code, (("GRADER_WARM", "0"),))


def python_c(label: str, code: str, *args: str) -> Command:
    return Command(label, (PYTHON, "-c", code, *args))


def time_once(command: Command) -> float:
    if command.before:
        subprocess.run(command.before, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    started = time.perf_counter()
    status = subprocess.run(command.argv, cwd=ROOT, stdin=subprocess.DEVNULL, env={**os.environ, **dict(command.env)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    elapsed = time.perf_counter() - started
    if status != command.exit_code:
        raise CommandFailed(command.label, command.exit_code, status)
    return elapsed


def measure(commands: list[Command], runs: int) -> list[Timing]:
    """Warm each command up once, then run them in turn, `runs` rounds of one run each."""
    for command in commands:
        time_once(command)
    seconds: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, samples in zip(commands, seconds):
            samples.append(time_once(command))
    return [Timing(command, tuple(samples)) for command, samples in zip(commands, seconds)]


def phases(runs: int) -> list[Timing]:
    """Rough costs of the steps any grading run pays, each timed as its own process.

    They do not add up to a `grade` run (imports overlap, and grade forks after warming torch);
    they say which floor a slow run is standing on.
    """
    return measure([
        python_c("python -c pass", "pass"),
        python_c("python -c 'import grader.pipeline, grader.reporting'",
                 "import grader.pipeline, grader.reporting"),
        python_c("bare nbclient: one-cell notebook (kernel start + shutdown)", _EMPTY_KERNEL),
    ], runs)


def machine() -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": importlib.metadata.version("torch"),
        "nbclient": importlib.metadata.version("nbclient"),
    }


def source_revision() -> str:
    """The commit measured, with -dirty when the working tree has changes (figures then are approximate)."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def write_json_atomically(data: dict[str, object], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".tmp", delete=False, encoding="utf-8") as tmp:
        try:
            json.dump(data, tmp, indent=2, sort_keys=True)
            tmp.write("\n")
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.replace(tmp.name, path)


def table(timings: list[Timing], comparisons: list[Comparison], runs: int) -> str:
    width = max(len(t.command.label) for t in timings)
    lines = [f"{'command':<{width}}  {'median':>7}  {'min':>7}  {'max':>7}",
             f"{'-' * width}  {'-' * 7}  {'-' * 7}  {'-' * 7}"]
    for t in timings:
        lines.append(f"{t.command.label:<{width}}  {t.median:>6.2f}s  {min(t.seconds):>6.2f}s  "
                     f"{max(t.seconds):>6.2f}s")
    lines.append(f"({runs} runs each after one warm-up; wall clock of the whole process)")
    lines.append("")
    for c in comparisons:
        verdict = "" if c.target is None else (
            f"  target <= {c.target:.2f}x: {'met' if c.ratio <= c.target else 'NOT MET'}")
        lines.append(f"{c.name}: {c.ratio:.2f}x{verdict}")
    return "\n".join(lines)


def run(runs: int, with_phases: bool) -> tuple[dict[str, object], str]:
    notebook = "solutions/lab2/lab2.ipynb"
    script = "solutions/lab2/lab2.py"
    bare = python_c(f"bare nbclient: {notebook}", _BARE_NBCLIENT, notebook)
    plain = Command(f"python {script}", (PYTHON, script))
    nb_served, nb_first, nb_alone, nb_cold, nb_bare, py_served, py_first, py_alone, py_cold, py_plain = measure(
        [grade(notebook), grade(notebook, how="first"), grade(notebook, how="alone"), grade(notebook, how="cold"),
         bare, grade(script), grade(script, how="first"), grade(script, how="alone"), grade(script, how="cold"), plain],
        runs)
    comparisons = [  # issue 9's targets: a notebook no slower than bare nbclient, a .py at most 1.3x plain python
        Comparison("grade .ipynb / bare nbclient", nb_served, nb_bare, 1.0),
        Comparison("first grade .ipynb (starts the service) / bare nbclient", nb_first, nb_bare, None),
        Comparison("GRADER_SERVICE=0 grade .ipynb / bare nbclient", nb_alone, nb_bare, None),
        Comparison("GRADER_WARM=0 grade .ipynb / bare nbclient", nb_cold, nb_bare, None),
        Comparison("grade .py / python lab2.py", py_served, py_plain, 1.3),
        Comparison("first grade .py (starts the service) / python lab2.py", py_first, py_plain, None),
        Comparison("GRADER_SERVICE=0 grade .py / python lab2.py", py_alone, py_plain, None),
        Comparison("GRADER_WARM=0 grade .py / python lab2.py", py_cold, py_plain, None),
    ]
    timings = [nb_served, nb_first, nb_alone, nb_cold, nb_bare, py_served, py_first, py_alone, py_cold, py_plain]
    timings += measure([grade("exercises/lab2/lab2.ipynb", exit_code=1)], runs)
    subprocess.run((GRADE, "stop"), cwd=ROOT, stdout=subprocess.DEVNULL, check=False)  # leave no service behind
    if with_phases:
        timings += phases(runs)
    report: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "revision": source_revision(),
        "machine": machine(),
        "runs": runs,
        "commands": {t.command.label: t.to_json() for t in timings},
        "comparisons": {c.name: c.to_json() for c in comparisons},
    }
    return report, table(timings, comparisons, runs)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--runs", type=_positive_int, default=5, help="timed runs per command (default 5)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "results.json",
                   metavar="FILE", help="where to write the figures as JSON (default benchmarks/out/results.json)")
    p.add_argument("--phases", action="store_true",
                   help="also time interpreter start-up, the grader's imports and a bare kernel round trip")
    args = p.parse_args(argv)
    if not Path(GRADE).is_file():
        print(f"ERROR no `grade` next to {PYTHON}; install the project into this interpreter "
              "(pip install -e .)", file=sys.stderr)
        return 2
    try:
        report, text = run(args.runs, args.phases)
    except CommandFailed as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 1
    print(text)
    write_json_atomically(report, args.out)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
