"""The one interface to the student's process: `run_submission`.

Whatever starts the student's code (a subprocess for .py, an ipykernel through
nbclient for .ipynb, later a sandbox or a warm forking server) lives behind this
function. It returns plain data only: what each probe gave back, what went wrong
while the code ran, and the stderr text to show.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..config import Limits
from ..results import RunIssue
from .protocol import Probe, ProbeOutcome, write_probes


@dataclass(frozen=True)
class RunOutcome:
    probes: dict[str, ProbeOutcome]
    issues: tuple[RunIssue, ...]
    stderr: str


def student_env(workdir: Path) -> dict[str, str]:
    """A small, explicit environment: nothing of the grader's leaks in by accident."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        # One thread each: batches run several submissions side by side, and
        # forked probes must not inherit a busy OpenMP pool.
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    for name in ("VIRTUAL_ENV", "TMPDIR", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def run_submission(path: Path, kind: str, probes: list[Probe], limits: Limits) -> RunOutcome:
    """Run the submission at `path` ("py" or "ipynb") and call every probe on it."""
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        root = Path(tmp)
        out_dir, workdir = root / "out", root / "work"
        out_dir.mkdir()
        workdir.mkdir()
        probes_file = root / "probes.json"
        write_probes(probes_file, probes, limits.call)
        if kind == "ipynb":
            from .notebook import run_notebook

            return run_notebook(path, probes, probes_file, out_dir, workdir, limits)
        from .script import run_script

        return run_script(path, probes, probes_file, out_dir, workdir, limits)
