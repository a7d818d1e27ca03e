"""Instructor batches: grade a whole class, resumably, and write the files instructors use."""

from .execute import BatchExit, BatchOptions, exit_status, parse_shard, run_batch
from .records import StudentRecord

__all__ = ["BatchExit", "BatchOptions", "StudentRecord", "exit_status", "parse_shard", "run_batch"]
