"""Run a notebook submission top to bottom with nbclient, then call its functions.

The grader's own Python kernel runs it, whatever the notebook's metadata says, and
saved outputs are thrown away. A cell that raises is reported and the next cells
still run. A cell that hangs past its limit, or kills the kernel, is reported and
skipped: the kernel is replaced and the notebook replayed without that cell, so what
the other cells define is still graded. After the last cell one extra cell runs the
harness, which calls the student's functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from ..config import Limits
from ..results import IssueKind, RunIssue
from .protocol import HARNESS, Probe, read_outcomes
from .session import RunOutcome, student_env

KERNEL_NAME = "grader-python3"
MAX_ATTEMPTS = 3
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _CappedClient(NotebookClient):
    """A NotebookClient that stops keeping a cell's output past a size, so floods cost no memory."""

    output_limit: int = 20_000

    def output(self, outs: list[Any], msg: dict[str, Any], display_id: str | None, cell_index: int) -> Any:
        size = sum(len(str(o.get("text", ""))) for o in outs if o.get("output_type") == "stream")
        if msg["msg_type"] == "stream" and size > self.output_limit:
            if not outs or outs[-1].get("text") != "[... output truncated ...]\n":
                outs.append(nbformat.v4.new_output("stream", name="stderr", text="[... output truncated ...]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)


def _kernel_specs(root: Path) -> KernelSpecManager:
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "grader",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelSpecManager(kernel_dirs=[str(root / "kernels")])


def _harness_source(probes_file: Path, out_dir: Path) -> str:
    return (
        "import runpy as _grader_runpy\n"
        f"_grader_runpy.run_path({str(HARNESS)!r}, run_name='grader_harness')"
        f"['run_probes']({str(probes_file)!r}, {str(out_dir)!r}, globals())\n"
    )


def read_notebook(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata = {}
    return cast(nbformat.NotebookNode, nb)


def run_notebook(path: Path, probes: list[Probe], probes_file: Path, out_dir: Path, workdir: Path, limits: Limits) -> RunOutcome:
    return asyncio.run(_run(path, probes, probes_file, out_dir, workdir, limits))


async def _run(path: Path, probes: list[Probe], probes_file: Path, out_dir: Path, workdir: Path, limits: Limits) -> RunOutcome:
    source = read_notebook(path)
    skipped: dict[int, RunIssue] = {}
    harness = nbformat.v4.new_code_cell(_harness_source(probes_file, out_dir))
    with tempfile.TemporaryDirectory(prefix="grader-kernels-") as spec_root:
        specs = _kernel_specs(Path(spec_root))
        failure = f"gave up after {MAX_ATTEMPTS} kernels; the functions could not be called"
        for _attempt in range(MAX_ATTEMPTS):
            nb = nbformat.from_dict(json.loads(json.dumps(source)))
            nb.cells.append(harness)
            try:
                done, extra = await _attempt_once(nb, skipped, specs, workdir, limits, len(probes))
            except (RuntimeError, TimeoutError, OSError) as exc:  # the kernel did not start: try a new one
                done, failure = False, f"the kernel could not start ({type(exc).__name__}: {exc})"[:500]
            if done:
                break
        else:
            extra = [RunIssue(IssueKind.DIED, "notebook", failure)]
    issues = list(skipped.values()) + _cell_errors(nb) + extra
    return RunOutcome(
        probes=read_outcomes(out_dir, probes, limits.output_chars),
        issues=tuple(sorted(issues, key=lambda i: _cell_number(i.where))),
        stderr=_stderr(nb, limits.output_chars),
    )


async def _attempt_once(
    nb: nbformat.NotebookNode,
    skipped: dict[int, RunIssue],
    specs: KernelSpecManager,
    workdir: Path,
    limits: Limits,
    n_probes: int,
) -> tuple[bool, list[RunIssue]]:
    """Run the notebook once. False means a cell hung or killed the kernel: try again without it."""
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
    client = _CappedClient(
        nb,
        km=km,
        timeout=int(limits.cell),
        startup_timeout=int(limits.startup),
        allow_errors=True,
        interrupt_on_timeout=False,
        shutdown_kernel="immediate",
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.output_limit = limits.output_chars
    # The kernel's own stdout/stderr (its log, C-level prints) go to a file, not our terminal.
    pgid: int | None = None
    try:
        with (workdir.parent / "out" / "kernel.log").open("ab") as kernel_log:
            async with client.async_setup_kernel(env=student_env(workdir), cwd=str(workdir),
                                                 stdout=kernel_log, stderr=kernel_log):
                pgid = getattr(km.provisioner, "pgid", None)
                return await _execute(client, nb, skipped, limits, n_probes)
    finally:
        # Also reaps what the student's code left running after its kernel died.
        if pgid:
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)


async def _execute(client: NotebookClient, nb: nbformat.NotebookNode, skipped: dict[int, RunIssue],
                   limits: Limits, n_probes: int) -> tuple[bool, list[RunIssue]]:
    harness_index = len(nb.cells) - 1
    for index, cell in enumerate(nb.cells[:harness_index]):
        if index in skipped:
            cell.outputs = []
            continue
        try:
            await client.async_execute_cell(cell, index)
        except CellTimeoutError:
            skipped[index] = RunIssue(IssueKind.CELL_TIMEOUT, f"cell {index + 1}",
                                      f"ran longer than {limits.cell:g} s and was stopped; "
                                      "the notebook was run again without it", source=cell.source)
            return False, []
        except DeadKernelError:
            skipped[index] = RunIssue(IssueKind.DIED, f"cell {index + 1}",
                                      "the kernel died while this cell ran (sys.exit, os._exit or a crash); "
                                      "the notebook was run again without it", source=cell.source)
            return False, []
    client.timeout = int(n_probes * (limits.call + 1.0) + 10)
    try:
        await client.async_execute_cell(nb.cells[harness_index], harness_index)
    except (CellTimeoutError, DeadKernelError) as exc:
        kind = "timed out" if isinstance(exc, CellTimeoutError) else "died"
        return True, [RunIssue(IssueKind.DIED, "notebook",
                               f"the kernel {kind} while the grader called the functions; "
                               "the calls still pending were not graded")]
    return True, []


def _cell_number(where: str) -> int:
    match = re.search(r"\d+", where)
    return int(match.group()) if match else 10**9


def _cell_errors(nb: nbformat.NotebookNode) -> list[RunIssue]:
    issues = []
    for index, cell in enumerate(nb.cells[:-1]):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                tb = _ANSI.sub("", "\n".join(out.get("traceback", [])))
                issues.append(RunIssue(IssueKind.CELL_ERROR, f"cell {index + 1}",
                                       f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"[:2000],
                                       traceback=tb[:20000], source=cell.source))
    return issues


def _stderr(nb: nbformat.NotebookNode, limit: int) -> str:
    parts = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                parts.append(f"[cell {index + 1}] {out.get('text', '')}")
    text = "".join(parts)
    return text[:limit] + ("\n[... truncated ...]" if len(text) > limit else "")
