"""Grade a whole class: N submissions at a time, each result saved as it finishes, resumable.

Grading happens in worker processes of the grader (grader/batch/workers.py: each grades
one submission at a time under an overall deadline; every submission still gets a student
process of its own). The main process keeps the progress bar and writes every file,
atomically, as results arrive. A record whose cache key matches the entry's current content,
the grading fingerprint and the limits is reused, unless its verdict is "grader error" (not
graded: a run again tries again); if only the rendering code changed since its files were
written, they are written again from the record, without running anything.
Nothing that goes wrong with one entry ends the batch: it becomes that entry's verdict.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, replace
from enum import IntEnum
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..config import Limits, grader_version
from ..errors import GraderError, ReportWriteError, SubmissionNotFound
from ..i18n import Messages
from ..labs import load_lab
from ..reporting._view import plain
from .entries import Entry, EntryProblem, discover, extract_zip, named_for_another_lab, settle
from .records import LabChecks, StudentRecord, cache_key, grading_fingerprint, rendering_fingerprint
from .workers import Job, blank_record, entry_deadline, run_entries
from .writing import ClassInfo, check_out, set_aside, write_class_outputs, write_student_outputs


class BatchExit(IntEnum):
    """`grade batch`'s exit status (docs/batch.md)."""

    GRADED = 0  # every entry got a verdict other than "grader error", whatever the scores
    COULD_NOT_RUN = 2  # no such folder, unknown lab, unwritable output, a bad option: one line on stderr
    GRADER_ERRORS = 3  # everyone got a verdict and the gradebook is written, but some verdicts are "grader error"


def exit_status(records: Iterable[StudentRecord]) -> BatchExit:
    return BatchExit.GRADER_ERRORS if any(r.verdict == "grader error" for r in records) else BatchExit.GRADED


@dataclass(frozen=True)
class BatchOptions:
    submissions: Path
    lab: str
    out: Path
    jobs: int = 1
    id_pattern: str | None = None
    shard: tuple[int, int] | None = None  # (K, N): grade the K-th of N shards, K from 1
    limits: Limits = Limits()
    entry_timeout: float | None = None  # seconds per entry; None: workers.entry_deadline
    lang: str = "en"  # the reports' language


class EmptyClassWarning(UserWarning):
    """The class folder holds no entries at all."""


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise GraderError(f"--shard takes K/N with 1 <= K <= N, e.g. 2/4; got {text!r}")
    return int(match.group(1)), int(match.group(2))


def in_shard(student: str, shard: tuple[int, int] | None) -> bool:
    """A stable split: the same student lands in the same shard whatever else is in the class."""
    if shard is None:
        return True
    k, n = shard
    return int(hashlib.sha256(student.encode()).hexdigest(), 16) % n == k - 1


def limits_key(limits: Limits, deadline: float) -> str:
    """Every limit that can change a grade, in one stable string (cache keys, `grade merge`)."""
    return f"{limits.key()},entry={deadline:g}"


def run_batch(options: BatchOptions, console: Console) -> list[StudentRecord]:
    """Grade every entry of the class (or of one shard); returns the records, sorted by student."""
    if not options.submissions.exists():
        raise SubmissionNotFound(options.submissions)
    lab = load_lab(options.lab)
    pattern = _compile(options.id_pattern)
    check_out(options.out, options.submissions, lab.name)
    made = [folder for folder in (options.out, options.out / "students") if not folder.exists()]
    try:
        options.out.mkdir(parents=True, exist_ok=True)
        (options.out / "students").mkdir(exist_ok=True)
    except OSError as exc:
        raise ReportWriteError(options.out, exc.strerror or str(exc)) from None
    try:
        with tempfile.TemporaryDirectory(prefix="grader-class-") as tmp:
            root = options.submissions
            if not root.is_dir():  # (a pipe or a device is not opened: reading it could wait for ever)
                if not root.is_file() or not zipfile.is_zipfile(root):
                    raise GraderError(f"{root} is neither a folder nor a zip of submissions")
                root = extract_zip(root, Path(tmp))
            found = discover(root, pattern)
            if not found:  # (a wrong folder, or a download that failed): the gradebook would be empty
                warnings.warn(EmptyClassWarning(f"{options.submissions} holds no submissions"), stacklevel=2)
            entries = [e for e in found if in_shard(e.student, options.shard)]
            named_for_another_lab(entries, lab.name)
            return _grade_all(entries, lab.name, options, console)
    except BaseException:  # the folders this batch made go again if nothing was written into them
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise GraderError(f"--id-pattern is not a valid regular expression: {exc}") from None


def _grade_all(entries: list[Entry], lab: str, options: BatchOptions, console: Console) -> list[StudentRecord]:
    deadline = options.entry_timeout or entry_deadline(options.limits, len(load_lab(lab).make_probes()))
    limits = limits_key(options.limits, deadline)
    grading, rendering = grading_fingerprint(lab), f"{rendering_fingerprint()}:{options.lang}"
    info = ClassInfo(lab=lab, grader_version=grader_version(), grading=grading, limits=limits,
                     shard=f"{options.shard[0]}/{options.shard[1]}" if options.shard else None)
    keys = {entry.student: cache_key(entry.sha256, lab, grading, limits) for entry in entries}
    checks = LabChecks(lab, grading)
    the_lab = load_lab(lab)
    records: dict[str, StudentRecord] = {}
    todo: list[tuple[Entry, str]] = []
    problems: list[Entry] = []
    settled: list[tuple[Entry, EntryProblem]] = []  # nothing to grade, known here: no worker for them
    stale: list[StudentRecord] = []
    for entry in entries:
        key, previous = keys[entry.student], _load_previous(options.out, entry)
        if entry.problem:
            problems.append(entry)
        elif previous is not None and previous.cache_key == key and previous.verdict != "grader error":
            # (an entry the grader failed was not graded: a run again tries again)
            checks.learn(previous)
            if previous.rendering == rendering:
                records[entry.student] = previous
            else:
                stale.append(previous)
        elif (problem := settle(entry, the_lab)) is not None:
            settled.append((entry, problem))
        else:
            todo.append((entry, key))
    columns = (TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TextColumn("elapsed"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[failures]}"))
    with Progress(*columns, console=console, disable=not console.is_terminal, transient=False) as progress:
        task = progress.add_task("grading", total=len(entries), completed=len(entries) - len(todo),
                                 failures=_failures(records.values()))
        job = Job(lab=lab, limits=options.limits, deadline=deadline)
        with closing(run_entries(todo, job, options.jobs)) as finished:  # Ctrl-C: stop the workers at once
            for record in finished:
                checks.learn(record)
                records[record.student] = _save(options.out, record, rendering, checks, options.lang)
                progress.update(task, advance=1, failures=_failures(records.values()))
        for record in stale:  # graded before; only the rendering changed: written again, nothing run
            records[record.student] = _save(options.out, record, rendering, checks, options.lang)
        for entry, problem in settled:  # saved last, as a worker's record: the checks are known by then
            records[entry.student] = _save(options.out, blank_record(entry, keys[entry.student], problem.verdict,
                                                                     problem.message), rendering, checks, options.lang)
        for entry in problems:
            records[entry.student] = _save(options.out, blank_record(entry, keys[entry.student], "unreadable",
                                                                     entry.problem), rendering, checks, options.lang)
        progress.update(task, failures=_failures(records.values()))
    ordered = [records[e.student] for e in entries]
    write_class_outputs(options.out, info, checks.get(), ordered, options.lang)
    if options.shard is None:  # (a shard's folder holds a part of the class by design)
        moved = set_aside(options.out, {r.folder for r in ordered})
        if moved:
            shown = ", ".join(moved[:5]) + (f" and {len(moved) - 5} more" if len(moved) > 5 else "")
            note = (f"moved the folders of {len(moved)} student(s) not in this class from {options.out / 'students'} "
                    f"to {options.out / 'removed'}: {shown}")
            console.print(plain(Messages(options.lang).detail(note)), markup=False, highlight=False, soft_wrap=True)
    return ordered


def _save(out: Path, record: StudentRecord, rendering: str, checks: LabChecks, lang: str) -> StudentRecord:
    """Write the student's files; if that fails, the failure is the student's verdict (a "grader
    error": the batch goes on, and no record.json means the entry is graded again next time)."""
    record = replace(record, rendering=rendering)
    if record.result is None:
        record = replace(record, max_score=checks.max_score())
    try:
        write_student_outputs(out, record, lang)
    except (GraderError, OSError) as exc:
        return replace(record, verdict="grader error", message=f"could not write the student's files: {exc}")
    except Exception as exc:  # a report the grader cannot render from this student's answers: a bug, but
        # the student's own (a grader error they see), never the whole class's batch
        return replace(record, verdict="grader error",
                       message=f"could not write the student's files: internal error ({type(exc).__name__}: {exc})")
    return record


def _load_previous(out: Path, entry: Entry) -> StudentRecord | None:
    try:
        path = out / "students" / entry.folder / "record.json"
        record = StudentRecord.from_dict(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    return record if (record.student, record.folder) == (entry.student, entry.folder) else None


def _failures(records: Iterable[StudentRecord]) -> str:
    bad = sum(1 for r in records if r.verdict != "ok")
    return f"{bad} not ok" if bad else ""
