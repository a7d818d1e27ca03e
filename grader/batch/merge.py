"""Combine the output folders of sharded batches into one gradebook and class report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..errors import GraderError, ReportWriteError, SubmissionNotFound
from .records import StudentRecord
from .writing import student_dir, write_class_outputs


def _read_shard(folder: Path) -> tuple[str, list[StudentRecord]]:
    summary = folder / "results.json"
    if not summary.is_file():
        raise SubmissionNotFound(summary)
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
        lab = str(data["lab"])
        students = [str(s["student"]) for s in data["students"]]
        records = [StudentRecord.from_dict(json.loads((folder / "students" / s / "record.json").read_text("utf-8")))
                   for s in students]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GraderError(f"{folder} is not a complete batch output folder ({exc})") from None
    return lab, records


def merge(folders: list[Path], out: Path) -> list[StudentRecord]:
    """Every shard's students in one output folder, as one unsharded batch would have written it."""
    from ..pipeline import lab_checks

    labs: set[str] = set()
    seen: dict[str, Path] = {}
    records: list[StudentRecord] = []
    for folder in folders:
        lab, shard = _read_shard(folder)
        labs.add(lab)
        for record in shard:
            if record.student in seen:
                raise GraderError(f"student {record.student!r} is in both {seen[record.student]} and {folder}")
            seen[record.student] = folder
            records.append(record)
    if len(labs) != 1:
        raise GraderError(f"the folders grade different labs: {', '.join(sorted(labs))}")
    lab = labs.pop()
    try:
        out.mkdir(parents=True, exist_ok=True)
        for record in records:
            source = seen[record.student] / "students" / record.student
            target = student_dir(out, record.student)
            if source.resolve() != target.resolve():
                for item in sorted(source.iterdir()):
                    shutil.copyfile(item, target / (item.name + ".tmp"))
                    (target / (item.name + ".tmp")).replace(target / item.name)
    except OSError as exc:
        raise ReportWriteError(out, exc.strerror or str(exc)) from None
    records.sort(key=lambda r: r.student)
    write_class_outputs(out, lab, lab_checks(lab), records)
    return records
