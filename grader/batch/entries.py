"""A class's submissions: one entry per student, whatever shape the LMS download has.

An entry is a file (`alice.ipynb`), a folder (`carol/lab2.ipynb`) or a zip of one
student's files (`dave.zip`); several top-level items with the same student id make one
entry. Nothing here modifies a submission: gradable files are copied into a scratch
folder before grading.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import stat
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from ..errors import GraderError, UnreadableSubmission
from ..labs import Lab, load_lab
from ..labs.stubs import code_hash
from ..sources import too_large
from ..submission import unchanged_stub
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
    return _found_id(name, pattern) or stem


def _found_id(name: str, pattern: re.Pattern[str] | None) -> str:
    """The id `pattern` finds in `name` (its group `id`, else its first group, else the match), or "" for
    none: an empty match is no id (`\\d*` matches every name), or students without one would be merged."""
    match = pattern.search(name) if pattern is not None else None
    if not match:
        return ""
    groups = match.groupdict()
    if "id" in groups:
        return groups["id"] or ""
    return (match.group(1) if match.groups() else match.group(0)) or ""


class OtherLabWarning(UserWarning):
    """Entries hold files named for another lab than --lab."""


def named_for_another_lab(entries: list[Entry], lab: str) -> None:
    """Warn when entries hold files named for another known lab and none for `lab` (`carol/lab2.ipynb`
    graded with --lab lab3), as `grade FILE --lab` does for one file."""
    from ..labs import known_labs

    stems = {load_lab(name).stem.lower(): name for name in known_labs()}
    ours = load_lab(lab).stem.lower()
    named: dict[str, list[str]] = {}
    for entry in entries:
        names = [shown for _, shown in entry.files] + [inner for path, shown in entry.files if _is_zip(shown)
                                                      for inner in _member_names(path)]
        found = {PurePosixPath(name).name.lower().rsplit(".", 1)[0] for name in names if name.lower().endswith(GRADABLE)}
        others = sorted(stems[stem] for stem in found if stem in stems and stem != ours)
        if others and ours not in found:
            named.setdefault(others[0], []).append(entry.name)
    for other, names in sorted(named.items()):
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        warnings.warn(OtherLabWarning(f"{len(names)} of the class's entries hold files named for {other}, none for "
                                      f"{lab}; they are graded against it as --lab asks: {shown}"), stacklevel=2)


def _member_names(archive: Path) -> list[str]:
    """The names of a zip's members, as read from its directory (nothing is unpacked); none if it cannot be read."""
    try:
        with zipfile.ZipFile(archive) as zf:
            return [_member_name(m) for m in zf.infolist()[:MAX_ZIP_MEMBERS]]
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError):
        return []


def discover(root: Path, pattern: re.Pattern[str] | None) -> list[Entry]:
    """Every student's entry in `root`, sorted by student id. Never raises for one entry:
    what makes an entry ungradable is its `problem`."""
    root = Path(os.path.realpath(root))
    by_student: dict[str, list[Path]] = {}
    unmatched = []
    for item in sorted(root.iterdir()):
        if _skipped(item.name):
            continue
        if pattern is not None and not _found_id(item.name, pattern):
            unmatched.append(item.name)
        by_student.setdefault(student_id(item.name, pattern), []).append(item)
    if unmatched:  # the instructor said where the id is; these names do not have it there
        shown = ", ".join(unmatched[:5]) + (", ..." if len(unmatched) > 5 else "")
        warnings.warn(IdPatternWarning(f"--id-pattern found no id in {len(unmatched)} of the class's names, "
                                       f"which are their own ids: {shown}"), stacklevel=2)
    merged = [(student, items) for student, items in sorted(by_student.items())
              if pattern is not None and len({student_id(item.name, None) for item in items}) > 1]
    if merged:  # (`alice.py` and `alice.ipynb` are one student; `lab2_kim_12345` and `lab2_lee_12399` are not)
        shown = "; ".join(f"{student} ({', '.join(item.name for item in items[:3])}{', ...' if len(items) > 3 else ''})"
                          for student, items in merged[:3]) + ("; ..." if len(merged) > 3 else "")
        warnings.warn(IdPatternWarning(f"--id-pattern gave one id to items with different names, which are graded as "
                                       f"one student: {shown}; check that it finds the student's id"), stacklevel=2)
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
            with path.open("rb") as f:
                digest.update(hashlib.file_digest(f, "sha256").digest())  # (in pieces: files are not capped here)
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()


@dataclass
class Room:
    """What unpacking may still write: one budget for an entry's zips, zips in zips included (each held
    to the cap alone, small zips of zeros inside one wrote their sum)."""

    bytes_left: int
    members_left: int


def extract_zip(archive: Path, dest: Path, room: Room | None = None) -> Path:
    """Unpack a zip safely (no absolute or `..` paths, bounded size, taken from `room`); the folder it holds."""
    room = room if room is not None else Room(MAX_ZIP_BYTES, MAX_ZIP_MEMBERS)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if not members:
                raise UnreadableSubmission(archive, "the zip is empty")
            size = sum(m.file_size for m in members)
            if len(members) > room.members_left or size > room.bytes_left:
                raise UnreadableSubmission(archive, "the zip is too large to unpack" if room.bytes_left == MAX_ZIP_BYTES else
                                           f"the zip is too large to unpack (with the other zips of this entry, "
                                           f"more than {MAX_ZIP_BYTES >> 20} MiB)")
            room.bytes_left -= size
            room.members_left -= len(members)
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


@dataclass(frozen=True)
class Choice:
    """What `gather` picked in an entry, and what it left, as the class folder names them."""

    chosen: dict[str, tuple[Path, str]]  # <stem>.py / <stem>.ipynb -> (file, shown path)
    stubs: tuple[str, ...] = ()  # the kit's untouched stubs, set aside for the student's own files
    passed: tuple[str, ...] = ()  # other candidates not graded (a file named for the lab was)

    def notes(self) -> list[str]:
        """The sentences `selection` adds about the files not graded."""
        notes = []
        if self.passed:
            notes.append(f"{', '.join(self.passed[:5])}: also handed in, not graded")
        if self.stubs:
            notes.append(_set_aside(self.stubs))
        return notes


def _set_aside(stubs: tuple[str, ...]) -> str:
    return f"{', '.join(stubs[:5])}: the kit's untouched {'stub' if len(stubs) == 1 else 'stubs'}, set aside"


MAX_ZIP_DEPTH = 3  # a zip in a zip in a zip is opened; deeper ones are left as they are


def gather(entry: Entry, lab: Lab, scratch: Path) -> tuple[Path, dict[str, str], Choice]:
    """Copy the entry's gradable files into `scratch` as <stem>.py / <stem>.ipynb.

    Returns the folder to grade, for each copy the path it came from inside the entry, and the choice
    made (with the files not graded). A zip is opened wherever it is in the entry, zips in zips too;
    one that cannot be read makes the entry unreadable only when nothing else in it can be graded.
    """
    candidates: list[tuple[Path, str]] = []  # (file, path shown to the instructor)
    unreadable: list[tuple[str, str]] = []  # (shown zip, why)
    pending = [(path, shown, 1) for path, shown in entry.files]
    opened = 0
    room = Room(MAX_ZIP_BYTES, MAX_ZIP_MEMBERS)  # (read here: a test lowers the cap)
    while pending:
        path, shown, depth = pending.pop(0)
        if not _is_zip(shown) or depth > MAX_ZIP_DEPTH:
            candidates.append((path, shown))
            continue
        try:
            unzipped = scratch / f"unzipped{opened}"
            opened += 1
            inner = extract_zip(path, unzipped, room)
            below = inner.relative_to(unzipped).as_posix()
            found = files_of(inner, shown if below == "." else f"{shown}/{below}", Path(os.path.realpath(unzipped)))
        except (GraderError, EntryProblem) as exc:  # named as the class folder shows it, like the entry's other problems
            message = exc.message if isinstance(exc, EntryProblem) else str(exc).replace(str(path), shown)
            unreadable.append((shown, message))
            continue
        pending += [(inner_path, inner_shown, depth + 1) for inner_path, inner_shown in found]
    stem = lab.stem
    try:
        choice = _choose(candidates, stem, lambda path: unchanged_stub(path, lab))
    except EntryProblem as problem:
        if unreadable and not any(shown.lower().endswith(GRADABLE) for _, shown in candidates):
            raise EntryProblem("unreadable", unreadable[0][1]) from None  # (the zip was all there was)
        raise problem from None
    if unreadable:
        choice = replace(choice, passed=choice.passed + tuple(shown for shown, _ in unreadable))
    folder = scratch / "submission"
    folder.mkdir()
    origins: dict[str, str] = {}
    for name, (path, shown) in choice.chosen.items():
        try:
            shutil.copyfile(path, folder / name)
        except OSError as exc:  # the student's file, not the grader: a permission, a FIFO, a vanished file
            raise EntryProblem("unreadable", f"cannot read {shown}: {exc.strerror or exc}") from None
        origins[name] = shown
    return folder, origins, choice


def settle(entry: Entry, lab: Lab) -> EntryProblem | None:
    """Why the entry has nothing to grade, known without running anything (no worker needed), or
    None. An entry holding a zip is left to `gather`, which unpacks it in a worker."""
    if any(_is_zip(shown) for _, shown in entry.files):
        return None
    try:
        _choose(list(entry.files), lab.stem, lambda path: unchanged_stub(path, lab))
    except EntryProblem as problem:
        return problem
    return None


def _is_zip(shown: str) -> bool:
    return shown.lower().endswith(".zip")


def _choose(candidates: list[tuple[Path, str]], stem: str, is_stub: Callable[[Path], bool]) -> Choice:
    """The file to grade for each format: the one named <stem> (in any case) at the shallowest depth,
    or the only one of its format.

    The kit's untouched stubs are set aside while the entry holds a file of its own: a student who
    kept `lab2.py` from the kit and wrote `lab2_done.ipynb` handed in the notebook. Files that could
    each be the one (`draft/lab2.ipynb` and `final/lab2.ipynb` with different code, two notebooks
    none named for the lab) are not picked between, and then a file of the other format is graded
    only if it is named for the lab (a lone `utils.py` is no answer to the lab).
    """
    code = functools.cache(_code)  # (each file's code is read once)
    gradable = [c for c in candidates if c[1].lower().endswith(GRADABLE)]
    too_big = [(c, problem) for c in gradable if (problem := _too_large(c[0])) is not None]  # (never read: passed over)
    gradable = [c for c in gradable if c not in {big for big, _ in too_big}]
    written = [c for c in gradable if not is_stub(c[0])]
    stubs = tuple(shown for path, shown in gradable if (path, shown) not in written) if written else ()
    if written:
        gradable = written
    chosen: dict[str, tuple[Path, str]] = {}
    named_for_the_lab = False
    ambiguous: list[str] = []
    tied: list[str] = []
    for suffix in GRADABLE:
        found = [c for c in gradable if c[1].lower().endswith(suffix)]
        named = [c for c in found if PurePosixPath(c[1]).name.lower() == stem.lower() + suffix]
        if named:
            depth = min(_depth(shown) for _, shown in named)
            shallowest = [c for c in named if _depth(c[1]) == depth]
            if len({code(path) for path, _ in shallowest}) > 1:
                tied += [shown for _, shown in shallowest]
                continue
            chosen[f"{stem}{suffix}"] = shallowest[0]
            named_for_the_lab = True
        elif len(found) == 1:
            chosen[f"{stem}{suffix}"] = found[0]
        else:
            ambiguous += [shown for _, shown in found]
    if (tied or ambiguous) and not named_for_the_lab:
        chosen = {}
    if not chosen:
        aside = f"; {_set_aside(stubs)}" if stubs else ""
        if tied:
            raise EntryProblem("no gradable file", "several different files could each be the one to grade; keep one: "
                                                   + ", ".join(tied[:5]) + aside)
        if ambiguous:
            lone = [shown for _, shown in gradable if shown not in ambiguous]
            raise EntryProblem("no gradable file", f"several candidate files and none named {stem}.ipynb or {stem}.py: "
                                                   + ", ".join((ambiguous + lone)[:5]) + aside)
        if too_big:
            (path, shown), problem = too_big[0]
            raise EntryProblem("unreadable", f"cannot read {shown}: {problem}")
        raise EntryProblem("no gradable file", "no .ipynb or .py file in this entry")
    graded = {shown for _, shown in chosen.values()}
    same = {code(path) for path, _ in chosen.values()}  # (copies of a graded file are not worth a word)
    passed = tuple(shown for path, shown in gradable if shown not in graded and code(path) not in same)
    return Choice(chosen, stubs, passed + tuple(shown for (_, shown), _ in too_big))


def _too_large(path: Path) -> str | None:
    try:
        return too_large(path)
    except OSError:
        return None  # (unreadable: copying it says why)


def _depth(shown: str) -> int:
    return len(shown.split("/"))


def _code(path: Path) -> str:
    """What tells two files apart: their code (a notebook's outputs and metadata aside), else their bytes."""
    try:
        return code_hash(path)
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        try:
            with path.open("rb") as f:
                return hashlib.file_digest(f, "sha256").hexdigest()  # (in pieces: a file too large to read whole)
        except OSError:
            return str(path)  # (unreadable: unlike any other; copying it says why)
