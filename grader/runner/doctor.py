"""`grade doctor`: does the sandbox work on this machine, and which limits hold."""

from __future__ import annotations

import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from ..config import Limits, Sandboxing
from .jail import open_jail
from .protocol import PYTHON_FLAGS
from .sandbox import bubblewrap, bubblewrap_problem

_PROBE = ("import os, socket\n"
          "assert os.getpid() < 10, 'not in a PID namespace'\n"
          "assert [n for _, n in socket.if_nameindex()] == ['lo'], 'has a network'\n"
          "print('ok')\n")


def diagnose() -> list[tuple[str, bool, str]]:
    """(what, fine, detail) lines, from a real sandboxed Python started the way grading starts one."""
    lines = [("platform", sys.platform.startswith("linux"), f"{platform.system()} {platform.release()}")]
    problem = bubblewrap_problem()
    lines.append(("bubblewrap", problem is None, problem or f"{bubblewrap()} starts sandboxes"))
    with tempfile.TemporaryDirectory(prefix="grader-doctor-") as tmp:
        jail = open_jail(Path(tmp), Limits(sandboxing=Sandboxing.PREFER if problem is None else Sandboxing.OFF))
        try:
            run = subprocess.run(jail.argv([sys.executable, *PYTHON_FLAGS, "-c", _PROBE]), env=jail.env(), cwd=jail.root / "work",
                                 capture_output=True, text=True, timeout=60)
            fine = run.returncode == 0 and run.stdout.strip() == "ok"
            detail = "a sandboxed Python started" if fine else (run.stderr.strip().splitlines() or ["failed"])[-1]
            if jail.sandboxed:
                lines.append(("sandboxed python", fine, detail))
            limits = jail.box.method
            lines.append(("limits", limits != "rlimits",
                          f"memory and processes through {limits}" if limits != "rlimits" else
                          "no cgroups here: memory is bounded by RLIMIT_AS only, processes are not bounded"))
        finally:
            jail.close()
    return lines
