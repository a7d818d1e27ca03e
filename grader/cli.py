"""The `grade` command: parse arguments, make one library call, map the outcome to an exit status."""

from __future__ import annotations

import argparse
import sys
from enum import IntEnum
from pathlib import Path

from .config import Limits
from .errors import GraderError


class ExitCode(IntEnum):
    FULL_MARKS = 0
    POINTS_LOST = 1
    GRADER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        _fail(f"{message} (see grade --help)")


def _fail(message: str) -> None:
    print(f"grade: error: {message}", file=sys.stderr)
    raise SystemExit(ExitCode.GRADER_ERROR)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grade", description="Grade a PyTorch lab submission (.py or .ipynb) against hidden checks.")
    p.add_argument("path", type=Path, help="a lab folder (e.g. exercises/lab2), a .py file or a .ipynb notebook")
    p.add_argument("--lab", help="the lab to grade against, when the file's name does not tell (e.g. lab2)")
    p.add_argument("--html", type=Path, metavar="FILE", help="also write a self-contained HTML report")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the result as JSON (docs/report-json.md)")
    p.add_argument("--call-timeout", type=_positive, default=Limits.call, metavar="S",
                   help=f"time limit for one call of a student function (default {Limits.call:g} s)")
    p.add_argument("--cell-timeout", type=_positive, default=Limits.cell, metavar="S",
                   help=f"time limit for one notebook cell or a .py file's top level (default {Limits.cell:g} s)")
    p.add_argument("--quiet", action="store_true", help="print only the total")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    limits = Limits(call=args.call_timeout, cell=args.cell_timeout, load=args.cell_timeout)
    try:
        from .pipeline import grade
        from .reporting import render_terminal, write_html, write_json

        result = grade(args.path, args.lab, limits)
        if args.json:
            write_json(result, args.json)
        if args.html:
            write_html(result, args.html)
    except GraderError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        print("grade: interrupted", file=sys.stderr)
        return 130
    if args.quiet:
        print(f"{result.lab}: {result.score:g}/{result.max_score:g}")
    else:
        render_terminal(result)
    return ExitCode.FULL_MARKS if result.full_marks else ExitCode.POINTS_LOST


if __name__ == "__main__":
    sys.exit(main())
