"""Grade a whole class: N submissions at a time, each result saved as it finishes, resumable.

Grading happens in worker processes of the grader (each grades one submission at a time;
every submission still gets a student process of its own). The main process keeps the
progress bar and writes every file, atomically, as results arrive. A record whose cache
key matches the entry's current content and the grader's fingerprint is reused.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import tempfile
import time
import zipfile
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..config import Limits
from ..errors import GraderError, ReportWriteError, SubmissionNotFound
from ..labs import load_lab
from .entries import Entry, EntryProblem, discover, extract_zip, gather
from .records import StudentRecord, fingerprint, verdict_of
from .writing import write_class_outputs, write_student_outputs


@dataclass(frozen=True)
class BatchOptions:
    submissions: Path
    lab: str
    out: Path
    jobs: int = 1
    id_pattern: str | None = None
    shard: tuple[int, int] | None = None  # (K, N): grade the K-th of N shards, K from 1
    limits: Limits = Limits()


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise GraderError(f"--shard takes K/N with 1 <= K <= N, e.g. 2/4; got {text!r}")
    return int(match.group(1)), int(match.group(2))


def in_shard(student: str, shard: tuple[int, int] | None) -> bool:
    """A stable split: the same student lands in the same shard whatever else is in the class."""
    if shard is None:
        return True
    import hashlib

    k, n = shard
    return int(hashlib.sha256(student.encode()).hexdigest(), 16) % n == k - 1


def _cache_key(entry: Entry, lab: str, grader: str, limits: Limits) -> str:
    return f"{entry.sha256[:24]}-{grader}-{lab}-{limits.call:g}-{limits.cell:g}"


def grade_entry(entry: Entry, lab_name: str, limits: Limits, cache_key: str, max_score: float) -> StudentRecord:
    """Grade one entry (runs in a worker process). Never raises: problems become verdicts."""
    from ..pipeline import grade

    started = time.monotonic()
    base = StudentRecord(student=entry.student, entry=entry.name, entry_sha256=entry.sha256, cache_key=cache_key,
                         verdict="ok", message="", max_score=max_score)
    lab = load_lab(lab_name)
    try:
        with tempfile.TemporaryDirectory(prefix="grader-entry-") as scratch:
            folder, origins = gather(entry, lab.stem, Path(scratch))
            result = grade(folder, lab_name, limits)
    except EntryProblem as problem:
        return replace(base, verdict=problem.verdict, message=problem.message, seconds=time.monotonic() - started)
    except GraderError as exc:
        return replace(base, verdict="unreadable", message=str(exc), seconds=time.monotonic() - started)
    except Exception as exc:  # a grader bug must not sink the batch; the record says what happened
        return replace(base, verdict="grader error", message=f"{type(exc).__name__}: {exc}",
                       seconds=time.monotonic() - started)
    shown = origins.get(result.graded_file, result.graded_file)
    result = replace(result, graded_file=shown,
                     selection=f"{shown} was graded" + ("" if len(origins) == 1 else f" ({result.selection})"))
    verdict, message = verdict_of(result)
    return replace(base, verdict=verdict, message=message, result=result, max_score=result.max_score,
                   seconds=time.monotonic() - started)


def _load_previous(out: Path, student: str) -> StudentRecord | None:
    try:
        return StudentRecord.from_dict(json.loads((out / "students" / student / "record.json").read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_batch(options: BatchOptions, console: Console) -> list[StudentRecord]:
    """Grade every entry of the class (or of one shard); returns the records, sorted by student."""
    if not options.submissions.exists():
        raise SubmissionNotFound(options.submissions)
    lab = load_lab(options.lab)
    pattern = _compile(options.id_pattern)
    try:
        options.out.mkdir(parents=True, exist_ok=True)
        (options.out / "students").mkdir(exist_ok=True)
    except OSError as exc:
        raise ReportWriteError(options.out, exc.strerror or str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="grader-class-") as tmp:
        root = options.submissions
        if root.is_file():
            if not zipfile.is_zipfile(root):
                raise GraderError(f"{root} is neither a folder nor a zip of submissions")
            root = extract_zip(root, Path(tmp))
        entries = [e for e in discover(root, pattern) if in_shard(e.student, options.shard)]
        return _grade_all(entries, lab.name, options, console)


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise GraderError(f"--id-pattern is not a valid regular expression: {exc}") from None


def _grade_all(entries: list[Entry], lab: str, options: BatchOptions, console: Console) -> list[StudentRecord]:
    from ..pipeline import lab_checks

    checks = lab_checks(lab)
    max_score = float(sum(c.max_score for c in checks))
    grader = fingerprint(lab)
    records: dict[str, StudentRecord] = {}
    todo: list[tuple[Entry, str]] = []
    for entry in entries:
        key = _cache_key(entry, lab, grader, options.limits)
        previous = _load_previous(options.out, entry.student)
        if previous is not None and previous.cache_key == key:
            records[entry.student] = previous
        else:
            todo.append((entry, key))
    columns = (TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TextColumn("elapsed"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[failures]}"))
    with Progress(*columns, console=console, disable=not console.is_terminal, transient=False) as progress:
        task = progress.add_task("grading", total=len(entries), completed=len(records),
                                 failures=_failures(records.values()))
        for record in _run_pool(todo, lab, options, max_score):
            write_student_outputs(options.out, record)
            records[record.student] = record
            progress.update(task, advance=1, failures=_failures(records.values()))
    ordered = [records[e.student] for e in entries]
    write_class_outputs(options.out, lab, checks, ordered)
    return ordered


def _failures(records: Iterable[StudentRecord]) -> str:
    bad = sum(1 for r in records if r.verdict != "ok")
    return f"{bad} not ok" if bad else ""


def _run_pool(todo: list[tuple[Entry, str]], lab: str, options: BatchOptions,
              max_score: float) -> Iterator[StudentRecord]:
    """Yield records as they finish. If a worker process dies, the unfinished entries go to a fresh
    pool; an entry that was in flight twice when a pool broke gets a "grader error" verdict."""
    pending = [(entry, key, 0) for entry, key in todo]
    while pending:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=max(1, options.jobs), mp_context=context)
        futures: dict[Future[StudentRecord], tuple[Entry, str, int]] = {
            pool.submit(grade_entry, entry, lab, options.limits, key, max_score): (entry, key, tries)
            for entry, key, tries in pending
        }
        pending = []
        try:
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    entry, key, tries = futures.pop(future)
                    try:
                        record = future.result()
                    except BrokenProcessPool:
                        if tries >= 1:
                            yield StudentRecord(student=entry.student, entry=entry.name, entry_sha256=entry.sha256,
                                                cache_key="", verdict="grader error", max_score=max_score,
                                                message="the grader's worker process died twice on this submission")
                        else:
                            pending.append((entry, key, tries + 1))
                        continue
                    yield record
                if pending:
                    pending += list(futures.values())
                    break
        finally:
            pool.shutdown(wait=not pending, cancel_futures=True)
