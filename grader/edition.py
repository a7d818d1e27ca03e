"""Which grader this is: the instructor's (every check, the reference solution) or a student kit.

`grade release` builds the kit and writes `kit.json` next to this module in it: the kit holds the
public checks only, and for each lab how many hidden checks (and points) it left out, so a
student's report can say that its score covers the public checks only. The instructor's grader
has no `kit.json`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

KIT_FILE = Path(__file__).with_name("kit.json")


@dataclass(frozen=True)
class Hidden:
    """What the kit left out of one lab: its hidden checks, counted, never named."""

    checks: int = 0
    points: float = 0.0


@functools.cache
def _kit() -> dict[str, Hidden] | None:
    if not KIT_FILE.is_file():
        return None
    data = json.loads(KIT_FILE.read_text(encoding="utf-8"))
    return {lab: Hidden(int(h["checks"]), float(h["points"])) for lab, h in data["hidden"].items()}


def public_only() -> bool:
    """True in a student kit: no reference solution, no hidden checks."""
    return _kit() is not None


def hidden(lab: str) -> Hidden:
    """The hidden checks a kit left out of `lab` (none in the instructor's grader)."""
    return (_kit() or {}).get(lab, Hidden())
