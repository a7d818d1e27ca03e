"""Hidden inputs drawn per submission, so a failed hidden check's expected values cannot be copied.

A lab's manifest names hidden inputs of its `data.py` in `[draws]`, with the range each number
is drawn from. When the instructor sets a secret (the GRADER_SECRET environment variable, a CI
secret for one), every submission gets its own values: a generator seeded with
HMAC-SHA256(secret, lab and the submission's content hash). The same file and secret give the
same inputs, so a re-run gives identical reports; a changed file gets new ones. Without a
secret the constants in `data.py` are used, as before.

The values replace the data module's constants for the time one submission is graded (the
probes, the reference's runs and the checks all read them there); a grading process grades one
submission at a time.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib
import os
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..edition import public_only
from ..errors import GraderError
from .manifest import Draw

if TYPE_CHECKING:
    from . import Lab

SECRET_ENV = "GRADER_SECRET"


def secret() -> bytes | None:
    value = os.environ.get(SECRET_ENV, "")
    return value.encode("utf-8") if value else None


def secret_tag() -> str:
    """A short digest that changes with the secret (for cache keys), never the secret itself."""
    key = secret()
    return "" if key is None else hmac.new(key, b"grader cache key", hashlib.sha256).hexdigest()[:16]


def active(lab: Lab) -> bool:
    return bool(lab.manifest is not None and lab.manifest.draws and secret() is not None and not public_only())


@contextlib.contextmanager
def drawn(lab: Lab, sha256: str) -> Iterator[dict[str, Any]]:
    """Within the block, `lab`'s data holds the inputs drawn for the submission with this content hash."""
    key = secret()
    if lab.manifest is None or key is None or not active(lab):  # (the first two tell mypy what active() knows)
        yield {}
        return
    data = importlib.import_module(f"grader.labs.{lab.name}.data")
    missing = [name for name in lab.manifest.draws if not hasattr(data, name)]
    if missing:
        raise GraderError(f"{lab.name}'s [draws] names {missing[0]}, which its data.py does not define")
    rng = random.Random(hmac.new(key, f"{lab.name}\0{sha256}".encode(), hashlib.sha256).digest())
    before = {name: getattr(data, name) for name in lab.manifest.draws}
    values = {name: _draw(before[name], rule, rng, name) for name, rule in lab.manifest.draws.items()}
    try:
        for name, value in values.items():
            setattr(data, name, value)
        yield values
    finally:
        for name, value in before.items():
            setattr(data, name, value)


def problems(lab: Lab) -> list[str]:
    """What would stop `lab`'s [draws] from drawing, found with or without the secret (`grade check-lab`
    runs where the secret may not be set; a CI that sets it would fail every grade)."""
    if lab.manifest is None or not lab.manifest.draws:
        return []
    data = importlib.import_module(f"grader.labs.{lab.name}.data")
    found = []
    rng = random.Random(0)
    for name, rule in lab.manifest.draws.items():
        if not hasattr(data, name):
            found.append(f"[draws] names {name}, which data.py does not define")
            continue
        try:
            _draw(getattr(data, name), rule, rng, name)
        except GraderError as exc:
            found.append(str(exc))
    return found


def _draw(value: Any, rule: Draw, rng: random.Random, name: str) -> Any:
    """`value` with every number replaced by a draw: same shape, same types."""
    if isinstance(value, bool):
        raise GraderError(f"[draws] {name} holds a bool, which cannot be drawn")
    if isinstance(value, int):
        return rng.randint(int(rule.low), int(rule.high))
    if isinstance(value, float):
        return round(rng.uniform(rule.low, rule.high), rule.decimals)
    if isinstance(value, (list, tuple)):
        drawn_items = [_draw(v, rule, rng, name) for v in value]
        return drawn_items if isinstance(value, list) else tuple(drawn_items)
    raise GraderError(f"[draws] {name} holds a {type(value).__name__}; only numbers and lists of them can be drawn")
