"""One student's outcome in a batch, and how it is kept on disk between runs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..labs import course_root, load_lab
from ..results import GradeResult, IssueKind, Status

RECORD_VERSION = 1


@dataclass(frozen=True)
class StudentRecord:
    student: str
    entry: str  # the entry's name(s) in the class folder
    entry_sha256: str
    cache_key: str  # entry hash + grader fingerprint + lab + limits: equal keys, equal results
    verdict: str  # "ok", "timed out", "kernel died", "crashed", "raised errors", "no gradable file", ...
    message: str
    max_score: float
    result: GradeResult | None = None
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return self.result.score if self.result else 0.0

    def to_dict(self, timing: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "record_version": RECORD_VERSION,
            "student": self.student,
            "entry": self.entry,
            "entry_sha256": self.entry_sha256,
            "cache_key": self.cache_key,
            "verdict": self.verdict,
            "message": self.message,
            "score": self.score,
            "max_score": self.max_score,
            "result": self.result.to_dict() if self.result else None,
        }
        if timing:
            data["seconds"] = self.seconds
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudentRecord:
        return cls(
            student=data["student"], entry=data["entry"], entry_sha256=data["entry_sha256"],
            cache_key=data["cache_key"], verdict=data["verdict"], message=data["message"],
            max_score=float(data["max_score"]),
            result=GradeResult.from_dict(data["result"]) if data.get("result") else None,
            seconds=float(data.get("seconds", 0.0)),
        )


def verdict_of(result: GradeResult) -> tuple[str, str]:
    """A one-word summary of how the run went, and the first message that explains it."""
    kinds = {i.kind for i in result.issues}
    timeouts = [c for c in result.checks if c.status is Status.ERROR and "timed out" in c.message]
    died = [i for i in result.issues if i.kind is IssueKind.DIED]
    if IssueKind.CELL_TIMEOUT in kinds or IssueKind.LOAD_TIMEOUT in kinds or timeouts:
        first = next((i.message for i in result.issues if "timeout" in i.kind), timeouts[0].message if timeouts else "")
        return "timed out", first
    flooded = [c for c in result.checks if "flooded output" in c.message]
    if flooded or "output truncated" in result.stderr:
        return "flooded output", flooded[0].message if flooded else "the code printed more than the output limit"
    if died:
        return ("kernel died" if result.submission_format == "ipynb" else "crashed"), died[0].message
    if kinds & {IssueKind.CELL_ERROR, IssueKind.LOAD_ERROR}:
        return "raised errors", next(i.message for i in result.issues)
    return "ok", ""


def fingerprint(lab_name: str) -> str:
    """Changes whenever the grader's code, templates, or the lab's solution and stubs change."""
    package = Path(__file__).resolve().parent.parent
    lab = load_lab(lab_name)
    labs = package / "labs"

    def relevant(p: Path) -> bool:  # other labs' files do not change this lab's results
        inside = p.relative_to(package).parts
        return not (p.is_relative_to(labs) and len(inside) > 2 and inside[1] != lab.name)

    files = sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".j2", ".ini")
                   and "__pycache__" not in p.parts and "_course" not in p.parts and relevant(p))
    files += [course_root() / "solutions" / lab.name / f"{lab.stem}.py", lab.stub(".py"), lab.stub(".ipynb")]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0")
        if f.is_file():
            digest.update(hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()[:16]
