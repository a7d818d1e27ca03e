"""A class's submissions: one entry per student, whatever shape the LMS download has.

An entry is a file (`alice.ipynb`), a folder (`carol/lab2.ipynb`) or a zip of one
student's files (`dave.zip`); several top-level items with the same student id make one
entry. Nothing here modifies a submission: gradable files are copied into a scratch
folder before grading.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import GraderError, UnreadableSubmission

GRADABLE = (".ipynb", ".py")
MAX_ZIP_BYTES = 500 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
_SKIP = ("__MACOSX", ".ipynb_checkpoints", "__pycache__")


@dataclass(frozen=True)
class Entry:
    student: str
    name: str  # the entry's item name(s) in the class folder, as shown to the instructor
    paths: tuple[Path, ...]
    sha256: str  # of every file the entry holds, names included


class EntryProblem(Exception):
    """This entry cannot be graded (no gradable file, an unreadable zip): its own verdict."""

    def __init__(self, verdict: str, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict
        self.message = message


def _skipped(path: Path) -> bool:
    return path.name.startswith(".") or path.name in _SKIP


def student_id(name: str, pattern: re.Pattern[str] | None) -> str:
    """`kim_minsu_12345_lab2.ipynb` with pattern `(?P<id>\\d+)` -> `12345`; else the name without suffix."""
    stem = name
    for suffix in (".ipynb", ".py", ".zip"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    if pattern is not None:
        match = pattern.search(name)
        if match:
            groups = match.groupdict()
            return str(groups.get("id") or (match.group(1) if match.groups() else match.group(0)))
    return stem


def discover(root: Path, pattern: re.Pattern[str] | None) -> list[Entry]:
    """Every student's entry in `root`, sorted by student id."""
    by_student: dict[str, list[Path]] = {}
    for item in sorted(root.iterdir()):
        if _skipped(item):
            continue
        by_student.setdefault(student_id(item.name, pattern), []).append(item)
    return [
        Entry(student=sid, name=", ".join(p.name for p in paths), paths=tuple(paths), sha256=_hash_items(paths))
        for sid, paths in sorted(by_student.items())
    ]


def _files_under(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not any(_skipped(Path(part)) for part in p.relative_to(path).parts))


def _hash_items(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for item in paths:
        for f in _files_under(item):
            rel = f.relative_to(item.parent).as_posix()
            digest.update(rel.encode() + b"\0")
            try:
                digest.update(hashlib.sha256(f.read_bytes()).digest())
            except OSError:
                digest.update(b"<unreadable>")
    return digest.hexdigest()


def extract_zip(archive: Path, dest: Path) -> Path:
    """Unpack a zip safely (no absolute or `..` paths, bounded size); the folder it holds."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise UnreadableSubmission(archive, "the zip is too large to unpack")
            for m in members:
                parts = PurePosixPath(m.filename).parts
                if m.filename.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                    raise UnreadableSubmission(archive, f"the zip holds an unsafe path {m.filename!r}")
            zf.extractall(dest)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise UnreadableSubmission(archive, f"not a readable zip ({exc})") from None
    kept = [p for p in dest.iterdir() if not _skipped(p)]
    return kept[0] if len(kept) == 1 and kept[0].is_dir() else dest


def gather(entry: Entry, stem: str, scratch: Path) -> tuple[Path, dict[str, str]]:
    """Copy the entry's gradable files into `scratch` as <stem>.py / <stem>.ipynb.

    Returns the folder to grade and, for each copy, the path it came from inside the entry.
    """
    candidates: list[tuple[Path, str]] = []  # (file, path shown to the instructor)
    for i, item in enumerate(entry.paths):
        if item.is_file() and item.suffix.lower() == ".zip":
            try:
                unzipped = scratch / f"unzipped{i}"
                inner = extract_zip(item, unzipped)
            except GraderError as exc:
                raise EntryProblem("unreadable", str(exc)) from None
            candidates += [(f, f"{item.name}/{f.relative_to(unzipped).as_posix()}") for f in _files_under(inner)]
        elif item.is_dir():
            candidates += [(f, f"{item.name}/{f.relative_to(item).as_posix()}") for f in _files_under(item)]
        else:
            candidates.append((item, item.name))
    folder = scratch / "submission"
    folder.mkdir()
    origins: dict[str, str] = {}
    ambiguous: list[str] = []
    for suffix in GRADABLE:
        found = [(f, shown) for f, shown in candidates if f.suffix.lower() == suffix]
        named = sorted((f for f in found if f[0].name == stem + suffix), key=lambda f: len(f[1].split("/")))
        chosen = named[0] if named else (found[0] if len(found) == 1 else None)
        if chosen is None:
            ambiguous += [shown for _, shown in found]
            continue
        shutil.copyfile(chosen[0], folder / f"{stem}{suffix}")
        origins[f"{stem}{suffix}"] = chosen[1]
    if not origins:
        if ambiguous:
            raise EntryProblem("no gradable file", f"several candidate files and none named {stem}.ipynb or {stem}.py: "
                                                   + ", ".join(ambiguous[:5]))
        raise EntryProblem("no gradable file", "no .ipynb or .py file in this entry")
    return folder, origins
