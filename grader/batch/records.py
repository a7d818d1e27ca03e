"""One student's outcome in a batch, and how it is kept on disk between runs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ..config import cache_folder
from ..errors import GraderError
from ..labs import draws, load_lab
from ..reporting.files import write_atomic
from ..results import CheckResult, GradeResult, IssueKind, Status

RECORD_VERSION = 2
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")  # what `grading_fingerprint` gives
_LAB_NAME = re.compile(r"[A-Za-z0-9_]+")

# Grader files that only turn records into files: changing them re-renders, never re-grades.
_RENDERING = ("reporting/", "templates/", "batch/writing.py", "batch/merge.py")
# Packages whose version can change a grade: they run the student's code or the checks.
_PACKAGES = ("torch", "numpy", "nbclient", "nbformat", "ipykernel", "jupyter_client", "pytest", "grader")


@dataclass(frozen=True)
class StudentRecord:
    student: str
    entry: str  # the entry's name(s) in the class folder
    entry_sha256: str
    cache_key: str  # entry hash + grading fingerprint + lab + limits: equal keys, equal results
    verdict: str  # "ok", "timed out", "kernel died", "crashed", "raised errors", "no code", "no gradable file", ...
    message: str
    max_score: float
    result: GradeResult | None = None
    seconds: float = 0.0
    folder: str = ""  # the student's folder under out/students/ (grader/batch/folders.py)
    rendering: str = ""  # the rendering fingerprint the student's files were written with

    @property
    def score(self) -> float:
        return self.result.score if self.result else 0.0

    @property
    def isolation(self) -> str:
        """How the submission was isolated ("" when nothing of it ran)."""
        return self.result.isolation if self.result else ""

    def to_dict(self, resume: bool = True) -> dict[str, Any]:
        """The record's JSON form; `resume` adds what only a resumed batch needs (timing, rendering)."""
        data: dict[str, Any] = {
            "record_version": RECORD_VERSION,
            "student": self.student,
            "folder": self.folder,
            "entry": self.entry,
            "entry_sha256": self.entry_sha256,
            "cache_key": self.cache_key,
            "verdict": self.verdict,
            "message": self.message,
            "score": self.score,
            "max_score": self.max_score,
            "isolation": self.isolation,
            "result": self.result.to_dict() if self.result else None,
        }
        if resume:
            data["seconds"] = self.seconds
            data["rendering"] = self.rendering
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudentRecord:
        if data.get("record_version") != RECORD_VERSION:
            raise ValueError(f"record version {data.get('record_version')!r}, not {RECORD_VERSION}")
        return cls(
            student=data["student"], entry=data["entry"], entry_sha256=data["entry_sha256"],
            cache_key=data["cache_key"], verdict=data["verdict"], message=data["message"],
            max_score=float(data["max_score"]),
            result=GradeResult.from_dict(data["result"]) if data.get("result") else None,
            seconds=float(data.get("seconds", 0.0)), folder=str(data["folder"]),
            rendering=str(data.get("rendering", "")),
        )


def verdict_of(result: GradeResult) -> tuple[str, str]:
    """A one-word summary of how the run went, and the first message that explains it."""
    kinds = {i.kind for i in result.issues}
    if result.grader_errors:  # the grader's own code failed: the instructor must see it first
        broken = result.grader_errors[0]
        return "grader error", f"{broken.name}: {broken.message}"
    memory = [i for i in result.issues if i.kind is IssueKind.MEMORY_LIMIT]
    if memory:  # the run was stopped there: what looks timed out or dead after it follows from this
        return "memory limit exceeded", memory[0].message
    timeouts = [c for c in result.checks if c.status is Status.ERROR and "timed out" in c.message]
    died = [i for i in result.issues if i.kind is IssueKind.DIED]
    if IssueKind.CELL_TIMEOUT in kinds or IssueKind.LOAD_TIMEOUT in kinds or timeouts:
        first = next((i.message for i in result.issues if "timeout" in i.kind), timeouts[0].message if timeouts else "")
        return "timed out", first
    # (Output past the limit that only went unkept, a cell's or the top level's, cost nothing: not a verdict.)
    flooded = [c for c in result.checks if "flooded output" in c.message]
    if flooded:
        return "flooded output", flooded[0].message
    if died:
        return ("kernel died" if result.submission_format == "ipynb" else "crashed"), died[0].message
    empty = [c for c in result.checks if "has no code (was it saved?)" in c.message]
    if result.checks and len(empty) == len(result.checks):  # an empty file, a notebook of markdown only
        return "no code", ("the notebook has no code (was it saved?)" if result.submission_format == "ipynb"
                           else "the file has no code (was it saved?)")
    if kinds & {IssueKind.CELL_ERROR, IssueKind.LOAD_ERROR}:
        return "raised errors", next(i.message for i in result.issues)
    return "ok", ""


def cache_key(entry_sha256: str, lab: str, grading: str, limits: str) -> str:
    """Equal keys, equal results: the entry's content, the lab, what grades it and the limits."""
    return f"{entry_sha256[:24]}-{lab}-{grading}-{hashlib.sha256(limits.encode()).hexdigest()[:12]}"


def grading_fingerprint(lab_name: str, versions: Mapping[str, str] | None = None) -> str:
    """Changes whenever something that can change a grade changes: the grader's code (but not
    its rendering), the lab's solution and stubs, or the version of Python, torch, nbclient,
    ipykernel and the other packages in `_PACKAGES` (`versions`, default: the installed ones)."""
    grading, _ = _package_files(lab_name)
    lab = load_lab(lab_name)
    if not lab.builtin:  # an instructor's lab: its whole folder grades
        grading += sorted(p for p in lab.folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    grading += [lab.solution(".py"), lab.stub(".py"), lab.stub(".ipynb")]
    versions = environment_versions() if versions is None else versions
    extra = "".join(f"{name}={versions[name]}\n" for name in sorted(versions))
    if draws.active(lab):  # hidden inputs drawn with the instructor's secret: another secret, other grades
        extra += f"draws={draws.secret_tag()}\n"
    return _digest(grading, extra)


def rendering_fingerprint() -> str:
    """Changes whenever the code or templates that turn records into files change."""
    _, rendering = _package_files(None)
    return _digest(rendering, "")


def environment_versions() -> dict[str, str]:
    """Python's version and those of the packages that take part in grading."""
    found = {"python": f"{platform.python_implementation()} {platform.python_version()}"}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "none"
    return found


def _package_files(lab_name: str | None) -> tuple[list[Path], list[Path]]:
    """The grader package's files: (those that grade `lab_name`, those that only render)."""
    package = Path(__file__).resolve().parent.parent
    labs = package / "labs"
    own = load_lab(lab_name).name if lab_name else None

    def other_lab(p: Path) -> bool:  # other labs' files do not change this lab's results
        inside = p.relative_to(package).parts
        return p.is_relative_to(labs) and len(inside) > 2 and inside[1] != own

    files = sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".j2", ".ini", ".json", ".toml")
                   and "__pycache__" not in p.parts and "_course" not in p.parts)
    rendering = [p for p in files if p.relative_to(package).as_posix().startswith(_RENDERING)]
    grading = [p for p in files if p not in rendering and not other_lab(p)]
    return grading, rendering


def _digest(files: list[Path], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for f in files:
        digest.update(f.name.encode() + b"\0")
        if f.is_file():
            digest.update(hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()[:16]


class LabChecks:
    """The lab's checks (names, points), learnt from the first record graded with them.

    Then a batch's main process never loads torch or the hidden suite: its workers do. When no
    record has a result (every entry unreadable, without a gradable file or timed out), the list
    comes from the user's cache, keyed by the grading fingerprint (`grading`); only the first
    time for that fingerprint is the suite loaded here.
    """

    def __init__(self, lab: str, grading: str | None = None) -> None:
        self.lab = lab
        self.grading = grading
        self._checks: list[CheckResult] | None = None

    def learn(self, record: StudentRecord) -> None:
        if self._checks is None and record.result is not None and record.result.checks:
            self._checks = list(record.result.checks)

    def get(self) -> list[CheckResult]:
        if self._checks is None:
            self._checks = self._cached()
        if self._checks is None:
            from ..pipeline import lab_checks

            self._checks = lab_checks(self.lab)
            self._keep()
        return self._checks

    def _cache_file(self) -> Path | None:
        """None without a fingerprint, or when either part is not a plain name (a merge reads the
        fingerprint from shards' files), or when there is no absolute cache folder to use."""
        if self.grading is None or not (_FINGERPRINT.fullmatch(self.grading) and _LAB_NAME.fullmatch(self.lab)):
            return None
        folder = cache_folder()
        return None if folder is None else folder / f"checks-{self.lab}-{self.grading}.json"

    def _cached(self) -> list[CheckResult] | None:
        """The cached list, or None if it is missing or not exactly what `_keep` writes."""
        path = self._cache_file()
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            checks = [CheckResult(**{**c, "status": Status(c["status"])}) for c in data]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
        fields_ok = all(isinstance(c.name, str) and isinstance(c.function, str) and isinstance(c.title, str)
                        and type(c.max_score) in (int, float) and type(c.score) in (int, float) for c in checks)
        return checks if checks and fields_ok else None

    def _keep(self) -> None:
        path = self._cache_file()
        if path is None or self._checks is None:
            return
        with contextlib.suppress(OSError, GraderError):  # only a cache: the next batch loads the suite again
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps([c.to_dict() for c in self._checks], sort_keys=True) + "\n")

    def max_score(self) -> float:
        return float(sum(c.max_score for c in self.get()))
