"""Student ids as folder names under `out/students/`: safe on every file system, and distinct.

An id comes from a file name or from `--id-pattern`, i.e. from whoever named the files: it
may hold `..`, separators, control characters or a leading dot. The folder name never does,
and two students never share a folder, even on a case-insensitive file system (macOS,
Windows). The id itself is kept as it is in the gradebook and the reports.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["folder_names", "safe_name"]

MAX_BYTES = 100  # of UTF-8; file systems allow 255, and a suffix may follow
_FORBIDDEN = re.compile(r'[/\\<>:"|?*]')  # separators, and what Windows refuses in a name


def safe_name(student: str) -> str:
    """`student` with every unsafe character replaced by `_` (not yet distinct from others).

    Control and format characters (including bidirectional overrides) and `/ \\ < > : " | ? *`
    become `_`; so do leading dots, every run of two or more dots, and trailing dots and spaces
    (Windows drops them). The name is cut to MAX_BYTES of UTF-8; an empty one becomes `_`.
    """
    name = "".join("_" if unicodedata.category(c).startswith("C") else c for c in student)
    name = _cut(_FORBIDDEN.sub("_", name), MAX_BYTES)
    name = re.sub(r"\.{2,}", lambda m: "_" * len(m.group()), name)
    name = re.sub(r"^\.+", lambda m: "_" * len(m.group()), name)
    name = re.sub(r"[. ]+$", lambda m: "_" * len(m.group()), name)
    return name or "_"


def folder_names(students: Iterable[str]) -> dict[str, str]:
    """A distinct safe folder name for each student id, the same for the same class.

    Ids that are already safe keep their name; the others, and every later id whose name is
    taken (compared case-insensitively), get `-2`, `-3`, ... in sorted order.
    """
    ordered = sorted(set(students))
    taken: set[str] = set()
    names: dict[str, str] = {}
    for student in ordered:  # first pass: safe ids claim their own name
        if safe_name(student) == student and student.casefold() not in taken:
            names[student] = student
            taken.add(student.casefold())
    for student in ordered:
        if student in names:
            continue
        base, n = safe_name(student), 1
        candidate = base
        while candidate.casefold() in taken:
            n += 1
            candidate = _cut(base, MAX_BYTES - len(f"-{n}")) + f"-{n}"
        names[student] = candidate
        taken.add(candidate.casefold())
    return names


def _cut(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    return text if len(encoded) <= limit else encoded[:limit].decode("utf-8", "ignore")
