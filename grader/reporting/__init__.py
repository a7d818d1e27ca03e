"""Reporters: turn a `GradeResult` into something to read. They never compute scores.

One small module per format; every file goes through `files.write_atomic`.
"""

from __future__ import annotations

from grader.reporting.htmlreport import write_html
from grader.reporting.jsonreport import write_json
from grader.reporting.terminal import render_terminal

__all__ = ["render_terminal", "write_html", "write_json"]
