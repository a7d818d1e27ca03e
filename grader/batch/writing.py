"""Every file a batch writes, each atomically: per student as results arrive, per class at the end."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GraderError, ReportWriteError
from ..reporting.classindex import render_class_index
from ..reporting.files import write_atomic
from ..reporting.gradebook import render_gradebook
from ..reporting.gradescope import render_gradescope
from ..reporting.htmlreport import render_html
from ..reporting.junit import render_junit
from ..results import CheckResult
from .records import StudentRecord


@dataclass(frozen=True)
class ClassInfo:
    """What a class's results.json says about how it was graded: `grade merge` checks it."""

    lab: str
    grader_version: str
    grading: str  # records.grading_fingerprint: code, lab files, package versions
    limits: str  # the limits, in one stable string (execute.limits_key)
    shard: str | None = None  # "K/N", or None for a whole class (and a merged one)

    def to_dict(self) -> dict[str, Any]:
        return {"lab": self.lab, "grader_version": self.grader_version, "grading": self.grading,
                "limits": self.limits, "shard": self.shard}


def check_out(out: Path, classroom: Path | None = None, lab: str | None = None, doing: str = "grading") -> None:
    """Refuse, before anything is written, an output folder the batch would grade (inside the class
    folder, or holding it), one that already holds files of someone else's, which the class's
    files would overwrite, or another lab's batch. A new or empty folder, or a batch's own of the same
    lab, is fine; hidden files are ignored."""
    target = out.resolve()
    if lab is not None and (other := _lab_of(target)) not in (None, lab):
        raise GraderError(f"--out {out} holds a batch of {other}; {doing} {lab} into it would replace that "
                          f"batch's files: choose another folder")
    if classroom is not None and classroom.is_dir():
        inputs = classroom.resolve()
        if target == inputs or inputs in target.parents:
            raise GraderError(f"--out {out} is inside the class folder {classroom}: the next batch would grade it "
                              "as a student; choose a folder outside it")
        if target in inputs.parents:
            raise GraderError(f"--out {out} holds the class folder {classroom}; choose a folder that does not")
    if not target.is_dir() or (target / "students").is_dir():
        return
    try:
        foreign = sorted(p.name for p in target.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        raise ReportWriteError(out, exc.strerror or str(exc)) from None
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise GraderError(f"--out {out} already holds files that are not a batch's output ({shown}); "
                          "choose a new or empty folder")


def _lab_of(folder: Path) -> str | None:
    """The lab a batch output folder holds, as its results.json says, else (a batch stopped before its
    end writes none) as the first of its students' records with a result says; None if none says."""
    def lab_in(path: Path, *keys: str) -> str | None:
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        for key in keys:
            data = data.get(key) if isinstance(data, dict) else None
        return data if isinstance(data, str) else None

    found = lab_in(folder / "results.json", "lab")
    if found is None and (folder / "students").is_dir():
        for record in sorted((folder / "students").glob("*/record.json")):
            if (found := lab_in(record, "result", "lab")) is not None:
                break
    return found


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def student_dir(out: Path, folder: str) -> Path:
    """out/students/<folder>, made if needed; never a link, never anything but a folder there."""
    if not folder or folder in (".", "..") or "/" in folder or "\\" in folder:
        raise ReportWriteError(out / "students" / folder, "not a safe folder name")  # folders.py makes sure
    path = out / "students" / folder
    if path.is_symlink():
        raise ReportWriteError(path, "it is a symbolic link; the batch writes only into folders of its own")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "it exists and is not a folder" if isinstance(exc, FileExistsError) else exc.strerror or str(exc)
        raise ReportWriteError(path, reason) from None
    return path


def write_student_outputs(out: Path, record: StudentRecord, lang: str = "en") -> None:
    """The student's report, JSON result and Gradescope file; record.json last, as the resume marker."""
    folder = student_dir(out, record.folder)
    if record.result is not None:
        write_atomic(folder / "report.html", render_html(record.result, lang))
        write_atomic(folder / "result.json", _json(record.result.to_dict()))
    write_atomic(folder / "gradescope_results.json", render_gradescope(record, lang))
    write_atomic(folder / "record.json", _json(record.to_dict()))


def set_aside(out: Path, kept: set[str]) -> list[str]:
    """Move out/students/<folder> of every student not in this class (removed from it, or another class
    graded into the same --out before) to out/removed/, so that students/ is this class's and nothing
    is deleted; the folders moved, sorted (a name taken in removed/ gets -2, -3...)."""
    moved = []
    for path in sorted((out / "students").iterdir()):
        if path.name in kept or path.is_symlink() or not path.is_dir():
            continue
        target = out / "removed" / path.name
        n = 1
        while target.exists() or target.is_symlink():
            n += 1
            target = out / "removed" / f"{path.name}-{n}"
        try:
            target.parent.mkdir(exist_ok=True)
            path.rename(target)
        except OSError:  # (left where it is: the gradebook lists only this class anyway)
            continue
        moved.append(path.name)
    return moved


def write_class_outputs(out: Path, info: ClassInfo, checks: Sequence[CheckResult],
                        records: Sequence[StudentRecord], lang: str = "en") -> None:
    write_atomic(out / "gradebook.csv", render_gradebook(checks, records))
    summary = {**info.to_dict(), "students": [r.to_dict(resume=False) for r in records]}
    write_atomic(out / "results.json", _json(summary))
    write_atomic(out / "junit.xml", render_junit(info.lab, records))
    write_atomic(out / "timings.json", _json({r.student: round(r.seconds, 3) for r in records}))
    write_atomic(out / "index.html", render_class_index(info.lab, checks, records, lang))
