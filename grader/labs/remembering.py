"""Remembering the grader's own runs: in this process, and on disk between processes.

The reference solution's training runs and the classic mistakes' simulations depend only on
their inputs, which are the lab's constants. `memo` computes each once per process. With a
store (`use_store`), a process also reads them from a file that earlier processes wrote, and
`save` adds what it computed: a student's first failing `grade`, or each worker of a batch,
no longer simulates every mistake again (about 2.4 s for lab 2 here).

The file belongs to one lab and one grading fingerprint (grader.batch.records): a change to
the grader, the lab, its solution or the packages that grade gives another file. It holds
JSON lines, one per call (tensors as dtype, shape and values, which round-trip exactly), and a
process parses only the lines of the calls it makes; whatever the file holds, reading it runs no
code. It is the user's own (mode 0600): the reference's runs on hidden
inputs are in it. A file is about 2 MB for lab 2, and each new grader or lab version makes
another: files of the same lab with another fingerprint go once nothing has used them for a
week (a process that reads its file marks it used, at most once a day).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import torch

__all__ = ["memo", "use_store", "save"]

_MEMO: dict[tuple[Any, ...], Any] = {}
_MEMO_ENTRIES = 512  # a bound on what is kept; past it the memory starts again empty
_STORE_ENTRIES = 512  # a store this full takes no more entries
_UNUSED_FOR = 7 * 24 * 3600  # another fingerprint's file left this long goes
_MARK_EVERY = 24 * 3600  # how stale a file's time may be before a read marks it used
_F = TypeVar("_F", bound=Callable[..., Any])


class _Unkeyable(Exception):
    pass


def _key(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), tuple(value.shape), value.requires_grad,
                value.detach().cpu().contiguous().numpy().tobytes())
    if value is None or isinstance(value, (bool, int, float, str)):
        return (type(value).__name__, value)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_key(v) for v in value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and value.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return (type(value).__qualname__, _key(dataclasses.astuple(value)))
    if isinstance(value, SimpleNamespace) and isinstance(vars(value).get("__file__"), str):  # a loaded reference
        path = vars(value)["__file__"]
        return ("module", path, os.stat(path).st_mtime_ns)
    raise _Unkeyable


def _copy(value: Any) -> Any:
    """A copy the caller may change without changing what is remembered."""
    if isinstance(value, torch.Tensor):
        if not value.is_leaf:
            raise _Unkeyable
        return value.detach().clone().requires_grad_(value.requires_grad)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        if all(type(v) in _IMMUTABLE for v in value):  # a run's costs: a thousand floats, copied at C speed
            return type(value)(value)
        return type(value)(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    raise _Unkeyable


_IMMUTABLE = {type(None), bool, int, float, str}


# --- the store's JSON form ---------------------------------------------------------------

_DTYPES = {str(t): t for t in (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int8, torch.int16,
                               torch.int32, torch.int64, torch.uint8, torch.bool)}


def _encode(value: Any) -> Any:
    """`value` (what `_copy` accepts) as JSON; raises _Unkeyable for anything else."""
    if isinstance(value, torch.Tensor):
        if str(value.dtype) not in _DTYPES:
            raise _Unkeyable
        return {"tensor": str(value.dtype), "shape": list(value.shape), "grad": value.requires_grad,
                "values": _finite(value.detach().reshape(-1).tolist())}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": [[k, _encode(v)] for k, v in value.items()]}
    raise _Unkeyable


def _decode(data: Any) -> Any:
    """What `_encode` gave, back; ValueError for anything it cannot have written."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [_decode(v) for v in data]
    if isinstance(data, dict) and len(data) == 1:
        (kind, inner), = data.items()
        if kind == "tuple" and isinstance(inner, list):
            return tuple(_decode(v) for v in inner)
        if kind == "dict" and isinstance(inner, list):
            return {str(k): _decode(v) for k, v in inner}
        if kind == "float" and inner in ("nan", "inf", "-inf"):
            return float(inner)
    if isinstance(data, dict) and set(data) == {"tensor", "shape", "grad", "values"} and data["tensor"] in _DTYPES:
        values = [float(v) if isinstance(v, str) else v for v in data["values"]]  # non-finite, as repr() wrote them
        tensor = torch.tensor(values, dtype=_DTYPES[data["tensor"]]).reshape([int(n) for n in data["shape"]])
        return tensor.requires_grad_(bool(data["grad"]))
    raise ValueError("not a remembered value")


def _finite(values: list[Any]) -> list[Any]:
    """Non-finite numbers as text (JSON has none), as `_decode` reads them."""
    return [v if not isinstance(v, float) or math.isfinite(v) else repr(v) for v in values]


class _Store:
    """One file of remembered runs, a line per call: `["<digest of the call>", <its result's JSON form>]`,
    sorted. Only the lines of the calls a process makes are parsed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[str, str] | None = None  # digest -> its line
        self.added = False

    def _read(self) -> dict[str, str]:
        lines: dict[str, str] = {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, ValueError):
            return lines
        for line in text.splitlines():
            if _LINE_START.match(line):
                lines[line[2:66]] = line
        return lines

    def _load(self) -> dict[str, str]:
        if self.lines is None:
            self.lines = self._read()
            if self.lines:
                self._mark_used()
        return self.lines

    def _mark_used(self) -> None:
        """Bring the file's time up to date if it is over a day old, so that an old grader's save
        (`_prune`) does not take it for unused."""
        try:
            if self.path.stat().st_mtime < time.time() - _MARK_EVERY:
                os.utime(self.path)
        except OSError:
            pass

    def _prune(self) -> None:
        """Remove this lab's files of other fingerprints that nothing has used for a week."""
        lab_prefix = self.path.name.rsplit("-", 1)[0] + "-"  # "memo-<lab>-": lab names have no "-"
        unused_since = time.time() - _UNUSED_FOR
        for other in self.path.parent.glob(f"{lab_prefix}*.jsonl"):
            try:
                if other != self.path and other.is_file() and other.stat().st_mtime < unused_since:
                    other.unlink()
            except OSError:
                continue

    def get(self, digest: str) -> tuple[bool, Any]:
        line = self._load().get(digest)
        if line is None:
            return False, None
        try:
            return True, _decode(json.loads(line)[1])
        except (ValueError, TypeError, RuntimeError, OverflowError, IndexError):
            return False, None

    def put(self, digest: str, value: Any) -> None:
        lines = self._load()
        if len(lines) >= _STORE_ENTRIES:
            return
        try:
            line = json.dumps([digest, _encode(value)], sort_keys=True, separators=(",", ":"))
        except _Unkeyable:
            return
        lines[digest] = line
        self.added = True

    def save(self) -> None:
        """Add what this process computed to what the file holds now (another process may have
        written it meanwhile), all at once."""
        if not self.added or self.lines is None:
            return
        from ..errors import GraderError
        from ..reporting.files import write_atomic

        merged = {**self._read(), **self.lines}
        text = "".join(line + "\n" for _, line in sorted(merged.items())[:_STORE_ENTRIES])
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomic(self.path, text, mode=0o600)
            self.added = False
        except (OSError, GraderError):
            return  # only a cache: the next process computes again
        self._prune()


_LINE_START = re.compile(r'\["[0-9a-f]{64}",')
_store: _Store | None = None
_lock = threading.Lock()  # the checks' head start runs in a thread


def use_store(path: Path | None) -> None:
    """Read and add remembered runs in the file at `path` from now on (None: this process only)."""
    global _store
    with _lock:
        if _store is None or path is None or _store.path != path:
            _store = _Store(path) if path is not None else None


def save() -> None:
    """Write what this process computed since the last save into the store's file."""
    with _lock:
        if _store is not None:
            _store.save()


def memo(function: _F) -> _F:
    """Remember what `function` returned for the same arguments (tensors by value): for this
    process, and in the store (`use_store`) for the next ones.

    Only for functions of their arguments alone: no global random state, no side effects. Calls
    whose arguments or results it cannot key or copy (a module, an optimizer) are simply made.
    """
    code = getattr(function, "__code__", None)
    where = (code.co_filename if code else "", getattr(function, "__qualname__", repr(function)))

    @functools.wraps(function)
    def remembered(*args: Any, **kwargs: Any) -> Any:
        try:
            key = (where, _key(args), _key(sorted(kwargs.items())))
        except _Unkeyable:
            return function(*args, **kwargs)
        if key in _MEMO:
            return _copy(_MEMO[key])
        digest = hashlib.sha256(repr(key).encode()).hexdigest()
        with _lock:
            store = _store
            found, result = store.get(digest) if store is not None else (False, None)
        if not found:
            result = function(*args, **kwargs)
        try:
            kept = _copy(result)
        except _Unkeyable:
            return result
        if len(_MEMO) >= _MEMO_ENTRIES:
            _MEMO.clear()
        _MEMO[key] = kept
        if not found and store is not None:
            with _lock:
                store.put(digest, kept)
        return result

    return remembered  # type: ignore[return-value]
