"""Writing report files: every file the grader writes goes through `write_atomic`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from grader.errors import ReportWriteError

__all__ = ["write_atomic"]

# mkstemp creates files readable by their owner only; a report is meant to be read by
# others too (a TA, a web server), so it gets the usual mode of a newly created file.
_REPORT_MODE = 0o644


def write_atomic(path: Path, data: bytes | str, mode: int = _REPORT_MODE) -> None:
    """Write `data` (text is encoded as UTF-8) to `path`, all or nothing.

    The bytes go to a temporary file in the same directory, are flushed to disk, then
    renamed over `path`, so a reader never sees a half-written report and a crash
    leaves any previous report intact. The file gets `mode` (a report's, by default). Raises
    `ReportWriteError` if it cannot write.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temp_name: str | None = None
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except OSError as error:
        if temp_name is not None:
            _remove_quietly(temp_name)
        raise ReportWriteError(path, error.strerror or str(error)) from error


def _remove_quietly(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass  # already gone, or the directory itself is the problem
