"""Configuration as frozen dataclasses, built once by the CLI and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Time limits on the student's side, in seconds.

    `call` bounds one call of one student function (a probe); `cell` bounds one
    notebook cell; `load` bounds running a .py submission's top level.
    """

    call: float = 20.0
    cell: float = 60.0
    load: float = 60.0
    startup: float = 60.0
    #: Characters of stdout/stderr kept per cell, per call and per run.
    output_chars: int = 20_000
