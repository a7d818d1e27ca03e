"""Combine the output folders of sharded batches into one gradebook and class report.

The shards must have been graded alike (the same lab, grader version, grading fingerprint
and limits, as each results.json records them) and must all be there: shards 1/3 and 3/3
alone are refused with "shard 2/3 is missing".
"""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

from ..errors import GraderError, SubmissionNotFound
from ..reporting.files import write_atomic
from .records import LabChecks, StudentRecord, rendering_fingerprint
from .writing import ClassInfo, check_out, set_aside, student_dir, write_class_outputs, write_student_outputs

_ALIKE = (("lab", "lab"), ("grader_version", "grader version"), ("grading", "grading code or packages"),
          ("limits", "limits"))


def _read_shard(folder: Path) -> tuple[ClassInfo, list[StudentRecord]]:
    summary = folder / "results.json"
    if not summary.is_file():
        raise SubmissionNotFound(summary)
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
        info = ClassInfo(lab=str(data["lab"]), grader_version=str(data["grader_version"]),
                         grading=str(data["grading"]), limits=str(data["limits"]),
                         shard=None if data["shard"] is None else str(data["shard"]))
        records = [StudentRecord.from_dict(json.loads(
                       (folder / "students" / str(s["folder"]) / "record.json").read_text("utf-8")))
                   for s in data["students"]]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise GraderError(f"{folder} is not a complete batch output folder of this grader ({exc})") from None
    return info, records


def check_shards(shards: list[tuple[Path, ClassInfo]]) -> None:
    """Refuse, in one line, shards graded differently and an incomplete or repeated set of shards."""
    (first, reference), *others = shards
    for folder, info in others:
        for attribute, what in _ALIKE:
            theirs, ours = getattr(info, attribute), getattr(reference, attribute)
            if theirs != ours:
                raise GraderError(f"cannot merge: {folder} and {first} were graded with different {what} "
                                  f"({theirs} vs {ours})")
    sharded = [(folder, info.shard) for folder, info in shards if info.shard is not None]
    if not sharded:
        return  # whole batches of disjoint students (say, two sections): nothing can be missing
    if len(sharded) != len(shards):
        whole = next(folder for folder, info in shards if info.shard is None)
        raise GraderError(f"cannot merge: {whole} is a whole batch, not a shard like {sharded[0][0]}")
    given: dict[int, Path] = {}
    splits = {text.split("/")[1] for _, text in sharded}
    if len(splits) != 1:
        raise GraderError("cannot merge: the shards come from different splits "
                          f"({', '.join(sorted(text for _, text in sharded))})")
    n = int(splits.pop())
    for folder, text in sharded:
        k = int(text.split("/")[0])
        if k in given:
            raise GraderError(f"cannot merge: shard {k}/{n} is given twice ({given[k]} and {folder})")
        given[k] = folder
    missing = [f"{k}/{n}" for k in range(1, n + 1) if k not in given]
    if missing:
        shards_word = "shard" if len(missing) == 1 else "shards"
        verb = "is" if len(missing) == 1 else "are"
        listed = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
        raise GraderError(f"cannot merge: {shards_word} {listed} {verb} missing")


def merge(folders: list[Path], out: Path, lang: str = "en") -> list[StudentRecord]:
    """Every shard's students in one output folder, as one unsharded batch would have written it."""
    target = out.resolve()
    for folder in folders:
        given = folder.resolve()
        if target == given or given in target.parents or target in given.parents:
            raise GraderError(f"cannot merge into {out}: it is, holds or lies inside {folder}, one of the folders "
                              f"merged; choose another --out")
    check_out(out)
    shards = [(folder, *_read_shard(folder)) for folder in folders]
    check_shards([(folder, info) for folder, info, _ in shards])
    check_out(out, lab=shards[0][1].lab, doing="merging")  # (not into another lab's batch)
    seen: dict[str, Path] = {}
    records: list[StudentRecord] = []
    for folder, _, shard in shards:
        for record in shard:
            if record.student in seen:
                raise GraderError(f"cannot merge: student {record.student!r} is in both {seen[record.student]} "
                                  f"and {folder}")
            seen[record.student] = folder
            records.append(record)
    folders_used: dict[str, str] = {}
    for record in records:
        if folders_used.setdefault(record.folder.casefold(), record.student) != record.student:
            raise GraderError(f"cannot merge: students {folders_used[record.folder.casefold()]!r} and "
                              f"{record.student!r} share the folder {record.folder!r}")
    rendering = f"{rendering_fingerprint()}:{lang}"
    for i, record in enumerate(records):
        source = seen[record.student] / "students" / record.folder
        try:
            if record.rendering != rendering:  # a shard rendered in another language, or by other templates
                records[i] = record = replace(record, rendering=rendering)
                write_student_outputs(out, record, lang)
                continue
            target = student_dir(out, record.folder)
            for item in sorted(source.iterdir()):
                if stat.S_ISREG(item.lstat().st_mode):
                    write_atomic(target / item.name, item.read_bytes())
        except OSError as exc:
            raise GraderError(f"cannot copy {source}: {exc.strerror or exc}") from None
    records.sort(key=lambda r: r.student)
    set_aside(out, {record.folder for record in records})  # an earlier class's students, graded into `out`
    merged = replace(shards[0][1], shard=None)
    lab = merged.lab
    checks = LabChecks(lab, merged.grading)
    for record in records:
        checks.learn(record)
    write_class_outputs(out, merged, checks.get(), records, lang)
    return records
