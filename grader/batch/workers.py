"""Grader worker processes: each grades one entry at a time, under the entry's overall deadline.

The batch's main process hands entries to long-lived worker processes (torch and the
checks are imported once per worker, not once per student). With several jobs, where the
platform has one, the workers are forked from a fork server that imported all that once
(grader.batch.preload): a worker starts warm and the workers share those pages.

Every entry has a deadline: past it, the main process sends the worker SIGTERM, which
unwinds the grading in the worker (the runner's own clean-up kills the sandbox and removes
its folders and cgroups), and 10 s later SIGKILL to the worker and every process below it,
as /proc showed them at either moment. The entry gets "timed out"; a fresh worker takes the
next entries.
A worker that dies gets its entry retried once in a fresh worker; twice is a "grader error".
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import TYPE_CHECKING

from .. import stopping
from ..config import Limits, Sandboxing
from ..errors import GraderError
from ..labs import load_lab
from ..runner.watch import below, running
from .entries import Entry, EntryProblem, gather
from .records import StudentRecord, verdict_of

if TYPE_CHECKING:
    from ..runner.warm import Zygote
    from ..submission import Submission

STOP_GRACE = 10.0  # seconds a stopped worker gets to clean up before it is killed


def entry_deadline(limits: Limits, probes: int) -> float:
    """The default overall deadline of one entry: generous, a backstop behind the runner's limits.

    Four runs (a notebook is replayed up to three times without a cell that hung or killed its
    kernel), each with the kernel's start-up allowance and two cell or top-level limits; then
    every probe at its call limit plus 3 s; then a minute. Lab 2 with the default limits:
    4 x (60 + 2 x 60) + 26 x (20 + 3) + 60 = 1378 s.
    """
    return 4 * (limits.startup + 2 * max(limits.cell, limits.load)) + probes * (limits.call + 3) + 60


@dataclass(frozen=True)
class Job:
    """What a worker needs to grade entries of one batch (the same for every entry)."""

    lab: str
    limits: Limits
    deadline: float  # seconds per entry
    zygote: str | None = None  # the exchange folder of the warm sandbox the workers share, if any
    scratch: str | None = None  # the batch's folder for the entries' working copies (the main process removes it)


def grade_entry(entry: Entry, job: Job, key: str) -> StudentRecord:
    """Grade one entry (in a worker process). Never raises an Exception: problems become verdicts."""
    from ..pipeline import grade_submission
    from ..submission import resolve

    started = time.monotonic()
    base = blank_record(entry, key)
    try:
        lab = load_lab(job.lab)
        with tempfile.TemporaryDirectory(prefix="grader-entry-", dir=job.scratch) as scratch:
            folder, origins, choice = gather(entry, lab, Path(scratch))
            try:
                submission = resolve(folder, job.lab)
                copy = submission.path.name  # <stem>.py or <stem>.ipynb, as `origins` knows it
                submission = _under_its_own_name(submission, origins.get(copy, copy), Path(scratch))
                result = replace(grade_submission(submission, job.limits), graded_file=copy)
            except GraderError as exc:  # named as the student handed it in, not by its scratch copy
                raise GraderError(_as_handed_in(str(exc), folder, origins)) from None
    except EntryProblem as problem:
        return replace(base, verdict=problem.verdict, message=problem.message, seconds=time.monotonic() - started)
    except GraderError as exc:
        return replace(base, verdict="unreadable", message=str(exc), seconds=time.monotonic() - started)
    except Exception as exc:  # a grader bug must not sink the batch; the record says what happened
        return replace(base, verdict="grader error", message=f"{type(exc).__name__}: {exc}",
                       seconds=time.monotonic() - started)
    shown = origins.get(result.graded_file, result.graded_file)
    why = result.selection
    for copy, handed_in in sorted(origins.items(), key=lambda o: -len(o[0])):  # (the copies' names: lab3.py...)
        why = why.replace(copy, handed_in)
    reasons = ([] if len(origins) == 1 else [why]) + choice.notes()
    result = replace(result, graded_file=shown,
                     selection=f"{shown} was graded" + (f" ({'; '.join(reasons)})" if reasons else ""))
    verdict, message = verdict_of(result)
    return replace(base, verdict=verdict, message=message, result=result, max_score=result.max_score,
                   seconds=time.monotonic() - started)


# A file name a .py may be graded under: letters (any script), digits, `_`, `-`, `.` and spaces.
_PLAIN_NAME = re.compile(r"\w[\w .-]{0,99}\.py", re.IGNORECASE)


def _under_its_own_name(submission: Submission, shown: str, scratch: Path) -> Submission:
    """A .py file graded under the name it was handed in with (`frank.py`, not the working copy's
    `lab2.py`), so that its errors and tracebacks name the student's file as `grade frank.py` would;
    a name that is not plain (control characters, a leading dot or dash) keeps the working copy's."""
    name = PurePosixPath(shown).name
    if submission.kind != "py" or name == submission.path.name or not _PLAIN_NAME.fullmatch(name):
        return submission
    named = scratch / "named"
    named.mkdir()
    shutil.copyfile(submission.path, named / name)
    return replace(submission, path=named / name)


def _as_handed_in(message: str, folder: Path, origins: dict[str, str]) -> str:
    """`message` with the scratch copies' paths replaced by the entry's own names (the scratch folder's
    name is random: the record, and so the gradebook, would differ between two identical runs)."""
    for name, shown in origins.items():
        message = message.replace(str(folder / name), shown)
    return message.replace(str(folder), ".")


def blank_record(entry: Entry, key: str, verdict: str = "ok", message: str = "") -> StudentRecord:
    """A record without a result; the batch sets its max_score from the lab's checks when it saves it."""
    return StudentRecord(student=entry.student, folder=entry.folder, entry=entry.name, entry_sha256=entry.sha256,
                         cache_key=key, verdict=verdict, message=message, max_score=0.0)


def _stop(signum: int, frame: FrameType | None) -> None:
    # What the unwinding prints from here on (asyncio cancelling a kernel's start, a kernel already
    # gone) is noise: the batch says in one line that it was interrupted.
    with contextlib.suppress(OSError):
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 2)
        os.close(quiet)
    stopping.request(signum, frame)


def _serve(conn: Connection, job: Job, environment: dict[str, str]) -> None:
    """A worker's life: grade the entries it is sent, one at a time, until told to stop."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # A forked worker has the fork server's environment, from the batch that started it: take this batch's.
    os.environ.clear()
    os.environ.update(environment)
    tempfile.tempdir = None
    from ..cli import show_warning

    warnings.showwarning = show_warning  # as in the main process: the grader's own, one line; libraries' not at all
    try:
        with contextlib.suppress(stopping.Stopped, EOFError, OSError):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})  # blocked while it started
            if job.limits.sandboxing != Sandboxing.OFF:
                from ..runner import warm

                if job.zygote is not None:
                    warm.share(Path(job.zygote))  # the batch's, started by the main process
                else:
                    warm.prestart()  # its warm sandboxed Python starts while this worker imports torch
            while (task := conn.recv()) is not None:
                entry, key = task
                conn.send(grade_entry(entry, job, key))
    finally:
        # Done, or stopped (a stop can also surface as asyncio's CancelledError). A worker forked from
        # the fork server leaves through os._exit, without atexit handlers: its warm sandbox and that
        # sandbox's folder go now, with no signal cutting that short (the batch kills what is left
        # after its grace). Then a late signal ends the process quietly.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if "grader.runner.warm" in sys.modules:
            sys.modules["grader.runner.warm"].shutdown()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    # Done (or stopped), with nothing left but freeing every module and object: a forked worker leaves
    # through os._exit anyway, and a spawned one (a 1-job batch's) would spend 0.3 s on it first.
    # (A grader bug raised above instead, and multiprocessing prints it and exits 1 as usual.)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(0)


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    task: tuple[Entry, str, int] | None = None  # entry, cache key, tries
    deadline: float = 0.0
    kill_at: float | None = None  # set once stopped
    tree: set[tuple[int, int]] = field(default_factory=set)  # (pid, start time) seen below it


def run_entries(todo: list[tuple[Entry, str]], job: Job, jobs: int) -> Generator[StudentRecord, None, None]:
    """Grade `todo` (entries with their cache keys) in `jobs` workers; yield records as they finish."""
    pending = deque((entry, key, 0) for entry, key in todo)
    workers: list[_Worker] = []
    context = _context(jobs)
    # The entries' working copies go into a folder of the batch's, which this process removes whatever
    # happens to a worker (killed after its grace, mid-way through removing its own).
    scratch = tempfile.mkdtemp(prefix="grader-batch-")
    shared = None
    try:
        shared = _shared_zygote(job, min(jobs, len(todo)))
        job = replace(job, scratch=scratch, zygote=None if shared is None else str(shared.exchange))
        while pending or any(w.task for w in workers):
            idle = [w for w in workers if w.task is None and w.kill_at is None]
            while pending and (idle or sum(w.kill_at is None for w in workers) < jobs):
                worker = idle.pop() if idle else _start(context, job, workers)
                worker.task, worker.deadline = pending.popleft(), time.monotonic() + job.deadline
                with contextlib.suppress(OSError):  # a worker that died meanwhile: `_collect` retries its entry
                    worker.conn.send(worker.task[:2])
            busy = [w for w in workers if w.task is not None]
            stopping = [w for w in workers if w.kill_at is not None]
            soonest = min([w.deadline for w in busy] + [w.kill_at for w in stopping if w.kill_at is not None],
                          default=time.monotonic() + 1)
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy + stopping],
                 timeout=max(0.0, soonest - time.monotonic()))
            for worker in busy:
                yield from _collect(worker, job, pending)
            for worker in stopping:
                _finish_stopping(worker, workers)
    finally:
        _shut_down(workers)
        if shared is not None:
            shared.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _shared_zygote(job: Job, workers: int) -> Zygote | None:
    """With several workers, one warm sandbox for all of them (each run is still a fresh fork of it,
    walled off from the others: grader/runner/zygote.py): one torch import and about 125 MiB less per
    worker. It starts now, while the workers start."""
    if workers < 2 or job.limits.sandboxing == Sandboxing.OFF:
        return None
    from ..runner import warm

    return warm.start_shared()


# Libraries that start a thread pool when imported (OpenBLAS, through numpy) start none with these:
# a process with threads must not fork.
_Context = multiprocessing.context.ForkServerContext | multiprocessing.context.SpawnContext
_ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _context(jobs: int) -> _Context:
    """Fork workers from a warm fork server where there is one and several workers share it; else (or
    with GRADER_FORKSERVER=0, for comparison) each is a new interpreter. (With one job the server
    would only hold a second copy of what its one worker holds: 709 MiB peak PSS against 677.)"""
    if (jobs < 2 or "forkserver" not in multiprocessing.get_all_start_methods()
            or os.environ.get("GRADER_FORKSERVER") == "0"):
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["grader.batch.preload"])
    return context


def _start(context: _Context, job: Job, workers: list[_Worker]) -> _Worker:
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs, job, dict(os.environ)), daemon=True)
    # Ctrl-C reaches every process of the terminal's group: a worker still starting up would print a
    # KeyboardInterrupt traceback. It starts with SIGINT/SIGTERM blocked and unblocks them in `_serve`
    # (a fork server started here keeps them blocked too, and its workers inherit that).
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        with _environment(_ONE_THREAD):  # for the fork server, if this start starts it
            process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    theirs.close()
    worker = _Worker(process, ours)
    workers.append(worker)
    return worker


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _collect(worker: _Worker, job: Job, pending: deque[tuple[Entry, str, int]]) -> Iterator[StudentRecord]:
    """The record of a busy worker's entry, if it finished, died or ran out of time."""
    assert worker.task is not None
    entry, key, tries = worker.task
    dead = False
    try:
        if worker.conn.poll():
            record = worker.conn.recv()
            if isinstance(record, StudentRecord):
                worker.task = None
                yield record
                return
    except (EOFError, OSError):  # a dead worker's end of the pipe reads as EOF
        dead = True
    if dead or not worker.process.is_alive():
        worker.task = None
        _stop_worker(worker, now=True)
        if tries >= 1:
            yield blank_record(entry, "", "grader error",
                               "the grader's worker process died twice on this submission")
        else:
            pending.appendleft((entry, key, tries + 1))
    elif time.monotonic() >= worker.deadline:
        worker.task = None
        _stop_worker(worker)
        yield blank_record(entry, key, "timed out",
                           f"grading this submission took longer than the batch allows one submission "
                           f"({job.deadline:g} s); it was stopped")


def _stop_worker(worker: _Worker, now: bool = False) -> None:
    worker.tree |= _descendants(worker.process.pid)
    worker.kill_at = time.monotonic() + (0.0 if now else STOP_GRACE)
    with contextlib.suppress(OSError, ValueError):
        worker.process.terminate()


def _finish_stopping(worker: _Worker, workers: list[_Worker]) -> None:
    """Once a stopped worker has exited, or its grace is over: kill what is left below it."""
    assert worker.kill_at is not None
    if worker.process.is_alive() and time.monotonic() < worker.kill_at:
        return
    worker.tree |= _descendants(worker.process.pid)
    with contextlib.suppress(OSError, ValueError):
        worker.process.kill()
    _kill_tree(worker.tree)
    worker.process.join(5)
    worker.conn.close()
    workers.remove(worker)


def _shut_down(workers: list[_Worker]) -> None:
    for worker in workers:
        if worker.kill_at is None and worker.task is None:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)  # idle: leaves its loop and exits
        elif worker.kill_at is None:
            _stop_worker(worker)
    deadline = time.monotonic() + STOP_GRACE
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
    for worker in list(workers):
        worker.kill_at = 0.0
        _finish_stopping(worker, workers)


# --- the processes below a worker (Linux: /proc; elsewhere the runner's clean-up must do) ---------


def _descendants(pid: int | None) -> set[tuple[int, int]]:
    """Every process below `pid`, with its start time (so that a reused pid is never killed)."""
    return set() if pid is None else below(pid)


def _kill_tree(tree: set[tuple[int, int]]) -> None:
    for pid, start in sorted(tree):
        if running(pid, start):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
