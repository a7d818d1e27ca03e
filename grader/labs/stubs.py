"""The released stubs, by the hash of their code: how the grader tells which file a student changed.

A lab folder may hold both `labN.py` and `labN.ipynb`; the one the student changed is
graded. "Changed" means: its code differs from every stub as shipped, whose hashes are
recorded in `stubs.json` next to this module. The working copy under `exercises/` is never
the yardstick: with an editable install it is the very file the student edits in place.

After changing a stub, record its hash again and commit `grader/labs/stubs.json`:

    python -m grader.labs.stubs

Hashes recorded before stay recognised, so a student still holding an older stub is not
taken to have changed it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

RECORD = Path(__file__).with_name("stubs.json")
SUFFIXES = (".py", ".ipynb")
RERECORD = "python -m grader.labs.stubs"


def code_lines(text: str, suffix: str) -> list[str]:
    """The code a file holds, ignoring outputs, metadata, markdown and trailing spaces.

    Raises ValueError for a notebook that is not JSON; a malformed but readable one (a cell
    without `source`, a source that is not text) contributes what code it has.
    """
    if suffix.lower() == ".ipynb":
        data = json.loads(text)
        cells = data.get("cells") if isinstance(data, dict) else None
        text = "\n".join(_source(c) for c in (cells if isinstance(cells, list) else [])
                         if isinstance(c, dict) and c.get("cell_type") == "code")
    return [line.rstrip() for line in text.strip().splitlines()]


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def code_hash(path: Path) -> str:
    """SHA-256 of the code `path` holds (see `code_lines`). Raises OSError, ValueError (also for a file too
    large to read: no stub is, and a batch asks of every file it is handed)."""
    from ..sources import too_large

    problem = too_large(path)
    if problem is not None:
        raise ValueError(problem)
    lines = code_lines(path.read_text(encoding="utf-8-sig"), path.suffix)  # (a byte-order mark is not code)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def released(lab: str, suffix: str) -> frozenset[str]:
    """The code hashes of `lab`'s stubs with this suffix as shipped; empty if none were recorded."""
    entry = _read_record().get(lab, {})
    return frozenset(entry.get(suffix, [])) if isinstance(entry, dict) else frozenset()


def _read_record() -> dict[str, Any]:
    try:
        data = json.loads(RECORD.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record(exercises: Path) -> dict[str, dict[str, list[str]]]:
    """The record for the stubs under `exercises/<lab>/`, keeping every hash recorded before."""
    from . import known_labs, load_lab

    old = _read_record()
    new: dict[str, dict[str, list[str]]] = {}
    for name in known_labs():
        lab = load_lab(name)
        if not lab.builtin:  # an instructor's lab: its stub in its own folder is the record
            continue
        for suffix in SUFFIXES:
            stub = exercises / name / f"{lab.stem}{suffix}"
            if stub.is_file():
                before = old.get(name, {}).get(suffix, []) if isinstance(old.get(name), dict) else []
                new.setdefault(name, {})[suffix] = sorted({*before, code_hash(stub)})
    return new


def write_record(data: dict[str, dict[str, list[str]]]) -> None:
    """Write `stubs.json` atomically, keys sorted: the same stubs give the same bytes."""
    fd, temp = tempfile.mkstemp(prefix=".stubs.", suffix=".tmp", dir=RECORD.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        os.replace(temp, RECORD)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def main() -> int:
    from . import course_root

    exercises = course_root() / "exercises"
    data = record(exercises)
    write_record(data)
    stubs = sum(1 for hashes in data.values() for _ in hashes)
    print(f"recorded the code hashes of {stubs} stubs under {exercises} in {RECORD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
