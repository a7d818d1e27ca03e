"""Reporters: turn a `GradeResult` into something to read. They never compute scores.

One small module per format; every file goes through `files.write_atomic`. Each is imported on
first use: the grading pipeline needs `files` alone before the student's run starts, and jinja2
and rich (0.1 s) would delay that run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.reporting.htmlreport import write_html
    from grader.reporting.jsonreport import write_json
    from grader.reporting.terminal import render_terminal

__all__ = ["render_terminal", "write_html", "write_json"]
_MODULES = {"render_terminal": "terminal", "write_html": "htmlreport", "write_json": "jsonreport"}


def __getattr__(name: str) -> Any:
    if name in _MODULES:  # (an import statement, not importlib's: `python -X importtime` lists it)
        module = __import__(f"{__name__}.{_MODULES[name]}", fromlist=[name])
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
