"""Instructor batches: grade a whole class, resumably, and write the files instructors use."""

from .execute import BatchOptions, parse_shard, run_batch
from .records import StudentRecord

__all__ = ["BatchOptions", "StudentRecord", "parse_shard", "run_batch"]
