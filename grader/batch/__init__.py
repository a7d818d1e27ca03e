"""Instructor batches: grade a whole class, resumably, and write the files instructors use.

The names below are imported on first use: a single grade reads `batch.records` (the grading
fingerprint of its remembered runs) and must not import the whole batch machinery for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .execute import BatchExit, BatchOptions, exit_status, parse_shard, run_batch
    from .records import StudentRecord

__all__ = ["BatchExit", "BatchOptions", "StudentRecord", "exit_status", "parse_shard", "run_batch"]
_MODULES = {"BatchExit": "execute", "BatchOptions": "execute", "exit_status": "execute", "parse_shard": "execute",
            "run_batch": "execute", "StudentRecord": "records"}


def __getattr__(name: str) -> Any:
    if name in _MODULES:  # (an import statement, not importlib's: `python -X importtime` lists it)
        module = __import__(f"{__name__}.{_MODULES[name]}", fromlist=[name])
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
