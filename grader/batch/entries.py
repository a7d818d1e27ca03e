"""A class's submissions: one entry per student, whatever shape the LMS download has.

An entry is a file (`alice.ipynb`), a folder (`carol/lab2.ipynb`) or a zip of one
student's files (`dave.zip`); several top-level items with the same student id make one
entry. Nothing here modifies a submission: gradable files are copied into a scratch
folder before grading.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import GraderError, UnreadableSubmission
from .folders import folder_names

GRADABLE = (".ipynb", ".py")
MAX_ZIP_BYTES = 500 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
_SKIP = ("__MACOSX", ".ipynb_checkpoints", "__pycache__")


@dataclass(frozen=True)
class Entry:
    student: str
    folder: str  # where the student's files go: out/students/<folder>/ (grader/batch/folders.py)
    name: str  # the entry's item name(s) in the class folder, as shown to the instructor
    files: tuple[tuple[Path, str], ...]  # every regular file the entry holds (zips whole), and its shown path
    sha256: str  # of every file the entry holds, names included
    problem: str = ""  # why the entry cannot be graded at all (a link out of the class folder, ...)


class EntryProblem(Exception):
    """This entry cannot be graded (no gradable file, an unreadable zip): its own verdict."""

    def __init__(self, verdict: str, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict
        self.message = message


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in _SKIP


class IdPatternWarning(UserWarning):
    """Some entries' names do not match --id-pattern."""


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
    """Every student's entry in `root`, sorted by student id. Never raises for one entry:
    what makes an entry ungradable is its `problem`."""
    root = Path(os.path.realpath(root))
    by_student: dict[str, list[Path]] = {}
    unmatched = []
    for item in sorted(root.iterdir()):
        if _skipped(item.name):
            continue
        if pattern is not None and not pattern.search(item.name):
            unmatched.append(item.name)
        by_student.setdefault(student_id(item.name, pattern), []).append(item)
    if unmatched:  # the instructor said where the id is; these names do not have it there
        shown = ", ".join(unmatched[:5]) + (", ..." if len(unmatched) > 5 else "")
        warnings.warn(IdPatternWarning(f"--id-pattern found no id in {len(unmatched)} of the class's names, "
                                       f"which are their own ids: {shown}"), stacklevel=2)
    folders = folder_names(by_student)
    entries = []
    for student, items in sorted(by_student.items()):
        name = ", ".join(p.name for p in items)
        try:
            files = [f for item in items for f in files_of(item, item.name, root)]
            entries.append(Entry(student, folders[student], name, tuple(files), _hash(files)))
        except EntryProblem as problem:
            entries.append(Entry(student, folders[student], name, (), _hash([]), problem=problem.message))
        except OSError as exc:
            entries.append(Entry(student, folders[student], name, (), _hash([]),
                                 problem=f"cannot read {name}: {exc.strerror or exc}"))
    return entries


def files_of(item: Path, shown: str, root: Path) -> list[tuple[Path, str]]:
    """The regular files of one item (a file, or a folder at any depth), never leaving `root`.

    A symbolic link is followed only while it stays inside `root` (the real path of the class
    folder, or of a zip's extraction), and only to a file: a link to a folder is not walked. A
    link out of `root`, or a pipe, socket or device, makes the whole entry unreadable.
    """
    real = _inside(item, shown, root)
    if real.is_dir():
        found = sorted(_walk(real, shown, root), key=lambda f: f[1])
        if len(found) > MAX_ZIP_MEMBERS:
            raise EntryProblem("unreadable", f"{shown} holds more than {MAX_ZIP_MEMBERS} files")
        return found
    _regular(real, shown)
    return [(real, shown)]


def _walk(folder: Path, shown: str, root: Path) -> Iterator[tuple[Path, str]]:
    with os.scandir(folder) as listing:
        items = sorted(listing, key=lambda e: e.name)
    for item in items:
        if _skipped(item.name):
            continue
        path, name = Path(item.path), f"{shown}/{item.name}"
        if item.is_symlink():
            real = _inside(path, name, root)
            if not real.is_dir():
                yield _regular(real, name), name
        elif item.is_dir(follow_symlinks=False):
            yield from _walk(path, name, root)
        else:
            yield _regular(path, name), name


def _inside(path: Path, shown: str, root: Path) -> Path:
    real = Path(os.path.realpath(path))
    if real != root and not real.is_relative_to(root):
        raise EntryProblem("unreadable", f"{shown} is a symbolic link to outside the class folder; it was not followed")
    return real


def _regular(path: Path, shown: str) -> Path:
    if not stat.S_ISREG(os.stat(path, follow_symlinks=False).st_mode):
        raise EntryProblem("unreadable", f"{shown} is not a regular file (a pipe, socket or device?); it was not read")
    return path


def _hash(files: list[tuple[Path, str]]) -> str:
    digest = hashlib.sha256()
    for path, shown in files:
        digest.update(shown.encode() + b"\0")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()


def extract_zip(archive: Path, dest: Path) -> Path:
    """Unpack a zip safely (no absolute or `..` paths, bounded size); the folder it holds."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if not members:
                raise UnreadableSubmission(archive, "the zip is empty")
            if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise UnreadableSubmission(archive, "the zip is too large to unpack")
            for m in members:
                m.filename = _member_name(m)
                parts = PurePosixPath(m.filename).parts
                if m.filename.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                    raise UnreadableSubmission(archive, f"the zip holds an unsafe path {m.filename!r}")
            zf.extractall(dest, members=members)  # (the ZipInfos, whose names were read again above)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise UnreadableSubmission(archive, f"not a readable zip ({exc})") from None
    kept = [p for p in dest.iterdir() if not _skipped(p.name)]
    return kept[0] if len(kept) == 1 and kept[0].is_dir() else dest


def _member_name(member: zipfile.ZipInfo) -> str:
    """A member's name as its maker wrote it. Without the zip's UTF-8 flag, Python reads a name as cp437
    (the format's default), but Linux's `zip` writes UTF-8 without the flag and Korean Windows cp949:
    `김민수.py` came out as `Ω╣Çδ»╝∞êÿ.py`. Its bytes are read as UTF-8, else cp949, else left so."""
    if member.flag_bits & 0x800 or member.filename.isascii():
        return member.filename
    try:
        raw = member.filename.encode("cp437")
    except UnicodeEncodeError:
        return member.filename
    for encoding in ("utf-8", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return member.filename


def gather(entry: Entry, stem: str, scratch: Path) -> tuple[Path, dict[str, str]]:
    """Copy the entry's gradable files into `scratch` as <stem>.py / <stem>.ipynb.

    Returns the folder to grade and, for each copy, the path it came from inside the entry.
    """
    candidates: list[tuple[Path, str]] = []  # (file, path shown to the instructor)
    for i, (path, shown) in enumerate(entry.files):
        if _is_zip(shown):  # a top-level zip: one student's files
            try:
                unzipped = scratch / f"unzipped{i}"
                inner = extract_zip(path, unzipped)
            except GraderError as exc:  # named as the class folder shows it, like the entry's other problems
                raise EntryProblem("unreadable", str(exc).replace(str(path), shown)) from None
            below = inner.relative_to(unzipped).as_posix()
            candidates += files_of(inner, shown if below == "." else f"{shown}/{below}", Path(os.path.realpath(unzipped)))
        else:
            candidates.append((path, shown))
    chosen = _choose(candidates, stem)
    folder = scratch / "submission"
    folder.mkdir()
    origins: dict[str, str] = {}
    for name, (path, shown) in chosen.items():
        try:
            shutil.copyfile(path, folder / name)
        except OSError as exc:  # the student's file, not the grader: a permission, a FIFO, a vanished file
            raise EntryProblem("unreadable", f"cannot read {shown}: {exc.strerror or exc}") from None
        origins[name] = shown
    return folder, origins


def settle(entry: Entry, stem: str) -> EntryProblem | None:
    """Why the entry has nothing to grade, known without running anything (no worker needed), or
    None. An entry holding a zip is left to `gather`, which unpacks it in a worker."""
    if any(_is_zip(shown) for _, shown in entry.files):
        return None
    try:
        _choose(list(entry.files), stem)
    except EntryProblem as problem:
        return problem
    return None


def _is_zip(shown: str) -> bool:
    return "/" not in shown and shown.lower().endswith(".zip")


def _choose(candidates: list[tuple[Path, str]], stem: str) -> dict[str, tuple[Path, str]]:
    """The file to grade for each format, as {<stem>.py / <stem>.ipynb: (file, shown path)}:
    the one named <stem>, the shallowest first, or the only one of its format."""
    chosen: dict[str, tuple[Path, str]] = {}
    ambiguous: list[str] = []
    for suffix in GRADABLE:
        found = [(f, shown) for f, shown in candidates if shown.lower().endswith(suffix)]
        named = sorted((f for f in found if PurePosixPath(f[1]).name == stem + suffix), key=lambda f: len(f[1].split("/")))
        pick = named[0] if named else (found[0] if len(found) == 1 else None)
        if pick is None:
            ambiguous += [shown for _, shown in found]
            continue
        chosen[f"{stem}{suffix}"] = pick
    if not chosen:
        if ambiguous:
            raise EntryProblem("no gradable file", f"several candidate files and none named {stem}.ipynb or {stem}.py: "
                                                   + ", ".join(ambiguous[:5]))
        raise EntryProblem("no gradable file", "no .ipynb or .py file in this entry")
    return chosen
