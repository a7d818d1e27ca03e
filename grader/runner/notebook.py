"""Run a notebook submission top to bottom with nbclient, then call its functions.

The grader's own Python kernel runs it, whatever the notebook's metadata says, and
saved outputs are thrown away. A cell that raises is reported and the next cells
still run; cells tagged "demo" (optional demonstrations) are skipped. A cell that hangs past its limit, or kills the kernel, is reported and
skipped: the kernel is replaced and the notebook replayed without that cell, so what
the other cells define is still graded. After the last cell one extra cell runs the
harness, which calls the student's functions.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from queue import Empty
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar, TypeVarTuple, Unpack, cast

import nbformat
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
import zmq

from .. import stopping
from ..config import MIB, Limits
from ..results import IssueKind, RunIssue
from ..sources import ANSI_ESCAPE, RanCell, cells_named, notebook_text
from .channel import Channel
from .kernelchannels import ReconnectingIOPub, ReplyDropped, WatchedShell
from .jail import Jail
from .protocol import HARNESS, KERNEL, PYTHON_FLAGS, Probe, read_outcomes
from .session import TOO_TIGHT, RunOutcome, grader_stops
from .warm import WarmProcess
from .watch import GRACE, Watcher, runner_pid

KERNEL_NAME = "grader-python3"
MAX_ATTEMPTS = 3
MAX_MESSAGE = 16 * 1024 * 1024  # bytes: a message from the kernel larger than this is dropped
DEATH_SEEN_WITHIN = 2.0  # seconds: a kernel whose shell connection dropped and lives on sent too much
RECONNECT_EVERY_MS = 5  # how soon a client tries again to reach a kernel's socket not yet made


class _CappedClient(NotebookClient):
    """A NotebookClient that stops keeping a cell's output past a size, so floods cost no memory.

    Displays keep their text alone: a plot's image is not what the grader reads, and its base64 would
    count as output. Every kind of output counts (streams, displays, errors); past the limit the cell
    keeps one "[... output truncated ...]" line and its error, if it raises, so the report can still say so.
    It also looks whether the kernel died every 0.1 s, where nbclient looks every second: a cell
    that ends its kernel (sys.exit, a crash) cost up to a second more, before the notebook's replay.
    """

    output_limit: int = 20_000
    alive_every = 0.1  # seconds

    async def _async_poll_kernel_alive(self) -> None:  # nbclient's, with a shorter sleep
        while True:
            await asyncio.sleep(self.alive_every)
            try:
                await self._async_check_alive()
            except DeadKernelError:
                assert self.task_poll_for_reply is not None
                self.task_poll_for_reply.cancel()
                return

    def output(self, outs: list[Any], msg: dict[str, Any], display_id: str | None, cell_index: int) -> Any:
        content = msg.get("content")
        data = content.get("data") if isinstance(content, dict) else None
        if isinstance(content, dict) and isinstance(data, dict) and set(data) - {"text/plain"}:
            # (a plot's PNG, HTML...: nothing reads them here)
            msg = {**msg, "content": {**content, "data": {k: v for k, v in data.items() if k == "text/plain"}}}
        kept: dict[int, int] = self.__dict__.setdefault("_kept_sizes", {})
        size = kept.get(cell_index, 0) + len(str(msg.get("content", "")))
        kept[cell_index] = size
        if msg["msg_type"] != "error" and size > self.output_limit:
            if not outs or outs[-1].get("text") != "[... output truncated ...]\n":
                outs.append(nbformat.v4.new_output("stream", name="stderr", text="[... output truncated ...]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)


class _Client(AsyncKernelClient):
    """A client that knows the kernel is ready as soon as it has answered, without idling.

    jupyter_client's own wait ends by draining IOPub until 0.2 s pass without a message: 0.2 s
    of every kernel start, most of a warm kernel's. This one asks for kernel_info until a reply
    comes and IOPub is known to be connected: it carries the kernel's welcome (ipykernel 7 greets
    each subscriber) or its "idle" for that request. Its IOPub connects again after refusing an
    oversized message; its shell raises ReplyDropped (grader/runner/kernelchannels.py).
    """

    iopub_channel_class = ReconnectingIOPub
    shell_channel_class = WatchedShell

    def start_channels(self, shell: bool = True, iopub: bool = True, stdin: bool = True, hb: bool = True,
                       control: bool = True) -> None:
        """Every channel but the heartbeat: whether the kernel lives is asked of its process, and the
        heartbeat's thread would outlive the grade (nbclient leaves a kernel it did not start as it is)."""
        super().start_channels(shell=shell, iopub=iopub, stdin=stdin, hb=False, control=control)

    @property
    def iopub_channel(self) -> Any:
        return self._watched(super().iopub_channel, "iopub")

    @property
    def shell_channel(self) -> Any:
        return self._watched(super().shell_channel, "shell")

    def _watched(self, channel: Any, name: str) -> Any:
        if channel.url is None:  # just made
            channel.watch(self._make_url(name))
        return channel

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else math.inf)
        while True:
            request = self.kernel_info()
            replied = False
            while time.monotonic() < deadline:
                stopping.raise_if_requested()
                if not replied:
                    try:
                        reply = await self.shell_channel.get_msg(timeout=1)
                    except (Empty, ReplyDropped):  # (a kernel that died: the check below says so)
                        break
                    replied = reply.get("parent_header", {}).get("msg_id") == request
                    continue
                try:
                    message = await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    break  # IOPub not connected yet when the kernel said idle: ask again
                if message.get("msg_type") == "iopub_welcome" or (  # IOPub connected (kernels with XPUB)
                        message.get("parent_header", {}).get("msg_id") == request
                        and message.get("content", {}).get("execution_state") == "idle"):
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() >= deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class _Manager(AsyncKernelManager):
    """A kernel manager whose clients refuse any single message over MAX_MESSAGE bytes (ZMQ_MAXMSGSIZE):
    one huge print or display never sits whole in the grader's memory."""

    client_factory = _Client

    def client(self, **kwargs: Any) -> Any:
        kc = super().client(**kwargs)
        kc.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
        # The client connects before the kernel has made its sockets, and ZMQ tries again only after
        # RECONNECT_IVL (100 ms by default): about 100 ms of every kernel start, most of a warm one's.
        kc.context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_EVERY_MS)
        self.__dict__.setdefault("_made", []).append(kc)
        return kc

    def close(self) -> None:
        """End the ZMQ contexts this manager and its clients made, with their sockets: each has two
        threads and its descriptors, and nothing else ends them, since nbclient leaves a manager it
        was given as it is (a batch worker or the service grades notebook after notebook)."""
        for kc in self.__dict__.pop("_made", []):
            if not kc.context.closed:
                kc.context.destroy(linger=0)
        if self._created_context and not self.context.closed:
            self.context.destroy(linger=0)


def _kernel_specs(root: Path, argv: list[str]) -> KernelSpecManager:
    """The grader's own kernelspec: the notebook's metadata never chooses what runs."""
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {"argv": argv, "display_name": "grader", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelSpecManager(kernel_dirs=[str(root / "kernels")])


def _harness_source(jail: Jail, channel: Channel) -> str:
    return (
        "import runpy as _grader_runpy\n"
        f"_grader_runpy.run_path({str(jail.inside(HARNESS))!r}, run_name='grader_harness')"
        f"['run_probes']({str(jail.inside(jail.io / 'probes.json'))!r}, {str(jail.inside(channel.path))!r}, globals())\n"
    )


def read_notebook(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.reads(notebook_text(path.read_bytes()), as_version=4)
    for cell in nb.cells:
        cell.setdefault("source", "")
        cell.setdefault("metadata", {})
        if cell.get("cell_type") == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata = {}
    return cast(nbformat.NotebookNode, nb)


def is_demo(cell: nbformat.NotebookNode) -> bool:
    """Optional demonstration cells (tag "demo"): the student runs them, grading skips them."""
    tags = cell.get("metadata", {}).get("tags", [])
    return isinstance(tags, list) and "demo" in tags


_Args = TypeVarTuple("_Args")


class _OwnSignals(asyncio.SelectorEventLoop):
    """An event loop that leaves the grader's own signal handlers in place.

    While a kernel is up, nbclient hands SIGINT and SIGTERM to the loop (they only schedule the
    kernel's clean-up and let the grading go on) and on leaving resets them to Python's defaults:
    a batch worker or the warm service, whose SIGTERM must unwind the grading and its clean-up,
    lost its handler after its first notebook and died on the spot instead. nbclient does without
    them where the loop refuses, as off the main thread (RuntimeError).
    """

    def add_signal_handler(self, sig: int, callback: Callable[[Unpack[_Args]], object], *args: Unpack[_Args]) -> None:
        raise RuntimeError("the grader keeps its own signal handlers")

    def remove_signal_handler(self, sig: int) -> bool:
        return False


def run_notebook(path: Path, probes: list[Probe], jail: Jail, channel: Channel) -> RunOutcome:
    with asyncio.Runner(loop_factory=_OwnSignals) as runner:
        return runner.run(_run(path, probes, jail, channel))


async def _run(path: Path, probes: list[Probe], jail: Jail, channel: Channel) -> RunOutcome:
    limits = jail.limits
    source = read_notebook(path)
    skipped: dict[int, RunIssue] = {
        i: RunIssue(IssueKind.CELL_ERROR, f"cell {i + 1}", "")  # placeholder: never reported
        for i, cell in enumerate(source.cells) if is_demo(cell)
    }
    demo = set(skipped)
    harness = nbformat.v4.new_code_cell(_harness_source(jail, channel))
    watcher = Watcher(channel, limits.call, jail.box.oom_kills, jail.kill_all, shared=[],
                      memory_share=jail.box.memory_share)
    watcher.start()
    failure = f"gave up after {MAX_ATTEMPTS} kernels; the functions could not be called"
    extra: list[RunIssue] = []
    ready: list[int] = []  # the attempts whose kernel started: only then did any of the student's code run
    error = "no kernel answered"
    nb = source
    try:
        for attempt in range(MAX_ATTEMPTS):
            nb = nbformat.from_dict(json.loads(json.dumps(source)))
            nb.cells.append(harness)
            try:
                done, extra = await _attempt_once(nb, skipped, jail, watcher, attempt, len(probes), ready)
            except (RuntimeError, TimeoutError, OSError) as exc:  # the kernel did not start: try a new one
                done, error = False, f"{type(exc).__name__}: {exc}"[:400]
                failure = f"the kernel could not start ({error})"
            if done or _ended_by_grader(watcher):
                break
        else:
            extra = [RunIssue(IssueKind.DIED, "notebook", failure)]
    finally:
        jail.kill_all()
        transcript = watcher.stop()
    if not ready and not _ended_by_grader(watcher):
        return RunOutcome(probes=read_outcomes(transcript, probes, limits.output_chars), issues=(), stderr="",
                          not_run=f"the grader could not start a Jupyter kernel ({error}), {MAX_ATTEMPTS} times; "
                                  f"{TOO_TIGHT}")
    ran_as = _ran_as(nb, demo)
    issues = [i for n, i in skipped.items() if n not in demo] + _cell_errors(nb, demo, ran_as) + extra
    issues += grader_stops(transcript, "notebook")
    outcomes = read_outcomes(transcript, probes, limits.output_chars)
    return RunOutcome(
        probes={k: replace(o, traceback=cells_named(o.traceback, ran_as)) for k, o in outcomes.items()},
        issues=tuple(sorted(issues, key=lambda i: _cell_number(i.where))),
        stderr=_stderr(nb, demo, limits.output_chars),
    )


def _ended_by_grader(watcher: Watcher) -> bool:
    t = watcher.transcript
    return bool(t.memory_exceeded or t.overflow or t.stalled)


async def _attempt_once(nb: nbformat.NotebookNode, skipped: dict[int, RunIssue], jail: Jail, watcher: Watcher,
                        attempt: int, n_probes: int, ready: list[int]) -> tuple[bool, list[RunIssue]]:
    """Run the notebook once in a new sandboxed kernel. False means a cell hung or killed the kernel.
    `attempt` is added to `ready` once the kernel has started (and before any cell runs)."""
    limits = jail.limits
    # The kernel and the grader talk over ZeroMQ ipc:// sockets in a folder only this kernel
    # sees (at the same path on both sides); no network, no connection file left behind.
    ipc = jail.root / f"ipc{attempt}"
    ipc.mkdir()
    jail.share(ipc)
    watcher.shared.append(ipc)
    # A warm kernel is a fork of the zygote (_WarmProvisioner reads only the arguments); a cold one starts
    # from kernel.py, which first loads what the zygote holds.
    start = [sys.executable, *PYTHON_FLAGS, str(jail.inside(KERNEL))] if jail.warm is None else []
    command = [*start, "ipykernel_launcher", "-f", "{connection_file}"]
    if jail.sandboxed:  # its parent is the sandbox's init (pid 1 inside): don't poll for it
        command.append("--IPKernelApp.parent_handle=1")
    specs = _kernel_specs(jail.root, command if jail.warm is not None else jail.argv(command))
    km = _Manager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs, transport="ipc",
                  ip=str(ipc / "k"), connection_file=str(ipc / "kernel.json"))
    if jail.warm is not None:
        km.provisioner = _WarmProvisioner(kernel_id=f"warm-{attempt}", kernel_spec=km.kernel_spec, parent=km)
        km.provisioner.jail, km.provisioner.writable = jail, ipc
    timeout = {"seconds": limits.cell}
    client = _CappedClient(
        nb,
        km=km,
        timeout_func=lambda cell: timeout["seconds"],
        startup_timeout=int(math.ceil(limits.startup)),
        allow_errors=True,
        interrupt_on_timeout=False,
        shutdown_kernel="immediate",
        record_timing=False,
        resources={"metadata": {"path": str(jail.workdir)}},
    )
    client.output_limit = limits.output_chars
    try:
        # The kernel's own stdout/stderr (its log, C-level prints) are not shown: they go nowhere.
        async with client.async_setup_kernel(env=jail.env(), cwd=str(jail.root / "work"),
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            ready.append(attempt)
            process = getattr(km.provisioner, "process", None)
            if process is not None and not isinstance(process, WarmProcess):
                jail.box.adopt(process.pid)
            jail.box.count_from_here()  # the student's memory counts from the first cell
            watcher.kill_all = _killer(process, jail)
            return await _execute(client, nb, skipped, watcher, process, jail.sandboxed, timeout, limits, n_probes)
    finally:
        # nbclient leaves its exit handler registered when the kernel fails to start: at the grader's
        # exit it would print a traceback (and until then it keeps this client alive).
        atexit.unregister(client._cleanup_kernel)
        _killer(getattr(km.provisioner, "process", None), jail)()
        km.close()


class _WarmProvisioner(LocalProvisioner):
    """Starts the kernel as a fork of the warm zygote instead of a new process (grader/runner/warm.py)."""

    jail: Jail
    writable: Path

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        assert self.jail.warm is not None
        arguments = cmd[cmd.index("ipykernel_launcher") + 1:]
        env = {k: v for k, v in kwargs.get("env", {}).items()}
        process = self.jail.warm.start("kernel", arguments, env, self.jail.root, self.jail.box,
                                       self.jail.limits.disk_mib * MIB,
                                       writable=[self.writable.relative_to(self.jail.root).as_posix()])
        self.process = process  # type: ignore[assignment]  # Popen's interface: pid, poll, wait, kill
        self.pid, self.pgid = process.pid, None
        return self.connection_info


def _killer(process: Any, jail: Jail) -> Callable[[], None]:
    def kill() -> None:
        if process is not None and not isinstance(process, WarmProcess):
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                process.kill()
        jail.kill_all()
    return kill


async def _execute(client: NotebookClient, nb: nbformat.NotebookNode, skipped: dict[int, RunIssue],
                   watcher: Watcher, process: Any, sandboxed: bool, timeout: dict[str, float],
                   limits: Limits, n_probes: int) -> tuple[bool, list[RunIssue]]:
    harness_index = len(nb.cells) - 1
    for index, cell in enumerate(nb.cells[:harness_index]):
        if index in skipped:
            cell.outputs = []
            continue
        watcher.stage = f"cell {index + 1}"
        try:
            await _unless_stopped(client.async_execute_cell(cell, index))
        except CellTimeoutError:
            skipped[index] = RunIssue(IssueKind.CELL_TIMEOUT, f"cell {index + 1}",
                                      f"ran longer than {limits.cell:g} s and was stopped; "
                                      "the notebook was run again without it", source=cell.source)
            return False, []
        except (DeadKernelError, ReplyDropped) as exc:
            if _ended_by_grader(watcher):
                return True, []
            if isinstance(exc, ReplyDropped) and await _outlives(client, DEATH_SEEN_WITHIN):
                skipped[index] = RunIssue(IssueKind.CELL_ERROR, f"cell {index + 1}",
                                          f"sent a reply over {MAX_MESSAGE // MIB} MiB (an error with a message that "
                                          "long), which the grader does not take; the notebook was run again without it",
                                          source=cell.source)
                return False, []
            skipped[index] = RunIssue(IssueKind.DIED, f"cell {index + 1}",
                                      "the kernel died while this cell ran (sys.exit, os._exit or a crash); "
                                      "the notebook was run again without it", source=cell.source)
            return False, []
    watcher.stage = "probing"
    if isinstance(process, WarmProcess):
        watcher.runner = process.runner()
    elif process is not None:
        watcher.runner = runner_pid(process.pid, sandboxed)
    timeout["seconds"] = n_probes * (limits.call + GRACE + 1.0) + 10
    try:
        await _unless_stopped(client.async_execute_cell(nb.cells[harness_index], harness_index))
    except (CellTimeoutError, DeadKernelError, ReplyDropped) as exc:
        if _ended_by_grader(watcher):
            return True, []
        kind = "timed out" if isinstance(exc, CellTimeoutError) else "died"
        # (a reply dropped for its size from a kernel that lives on is not a death)
        watcher.transcript.died_in_call = isinstance(exc, DeadKernelError) or (
            isinstance(exc, ReplyDropped) and not await _outlives(client, DEATH_SEEN_WITHIN))
        return True, [RunIssue(IssueKind.DIED, "notebook",
                               f"the kernel {kind} while the grader called the functions; "
                               "the calls still pending were not graded")]
    return True, []


async def _outlives(client: NotebookClient, seconds: float) -> bool:
    """Whether the kernel is still alive `seconds` from now. A kernel that dies drops its connections
    a moment before its death is seen: a dropped shell connection means an oversized reply only
    when the kernel goes on living."""
    kernel = cast(AsyncKernelClient, client.kc)
    deadline = time.monotonic() + seconds
    while await kernel.is_alive():
        if time.monotonic() >= deadline:
            return True
        await asyncio.sleep(0.05)
    return False


_T = TypeVar("_T")


async def _unless_stopped(work: Awaitable[_T]) -> _T:
    """`work`, cut short by a stop (grader/stopping.py) even where a library swallowed its exception
    (a bare `except:`): a watcher looks at the flag every 0.1 s and cancels this task. `work` is
    awaited in this task, so a Ctrl-C reaches nbclient as before; the caller's clean-up kills the kernel."""
    current = asyncio.current_task()
    assert current is not None

    async def watch() -> None:
        while True:
            await asyncio.sleep(0.1)
            if stopping.requested():
                current.cancel()
                return

    watcher = asyncio.ensure_future(watch())
    try:
        return await work
    finally:
        watcher.cancel()
        stopping.raise_if_requested()  # (whatever the cancelled cell ended with)


def _cell_number(where: str) -> int:
    match = re.search(r"\d+", where)
    return int(match.group()) if match else 10**9


def _ran_as(nb: nbformat.NotebookNode, demo: set[int]) -> dict[int, RanCell]:
    """The cell each execution count of the graded run went to ("cell 6"; the harness's cell is last)."""
    return {cell.execution_count: RanCell(f"cell {index + 1}", str(cell.get("source", "")))
            for index, cell in enumerate(nb.cells[:-1])
            if index not in demo and isinstance(cell.get("execution_count"), int)}


def _cell_errors(nb: nbformat.NotebookNode, demo: set[int], ran_as: dict[int, RanCell]) -> list[RunIssue]:
    issues = []
    for index, cell in enumerate(nb.cells[:-1]):
        if index in demo:
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                tb = cells_named(ANSI_ESCAPE.sub("", "\n".join(out.get("traceback", []))), ran_as)
                issues.append(RunIssue(IssueKind.CELL_ERROR, f"cell {index + 1}",
                                       f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"[:2000],
                                       traceback=tb[:20000], source=cell.source))
    return issues


def _stderr(nb: nbformat.NotebookNode, demo: set[int], limit: int) -> str:
    parts = []
    for index, cell in enumerate(nb.cells):
        if index in demo:
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                parts.append(f"[cell {index + 1}] {out.get('text', '')}")
    text = "".join(parts)
    return text[:limit] + ("\n[... truncated ...]" if len(text) > limit else "")
