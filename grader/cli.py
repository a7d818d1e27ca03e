"""The `grade` command: parse arguments, make one library call, map the outcome to an exit status."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import errno
import math
import os
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from enum import IntEnum
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast
from pathlib import Path

from .config import Limits, Sandboxing
from .errors import GraderError
from .i18n import LANGUAGES, Messages, language
from .results import CheckResult, GradeResult

if TYPE_CHECKING:
    from .submission import Submission


class ExitCode(IntEnum):
    FULL_MARKS = 0
    POINTS_LOST = 1
    GRADER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        _fail(f"{message} (see {self.prog} --help)")


def _say(message: str) -> str:
    """A one-line message of the grader's in the language asked for (English where none reads it), its
    control characters shown, not sent (a file name from a student's zip may hold an escape sequence)."""
    from .reporting._view import plain

    return plain(_words().detail(message))


def _words() -> Messages:
    return Messages(_LANG[0])


# The language of the one-line messages, from --lang in the arguments (found before argparse runs,
# so its own errors speak it too) or the locale.
_LANG = ["en"]


def _language_of(argv: list[str]) -> str:
    for arg, following in zip(argv, [*argv[1:], ""]):
        value = arg.removeprefix("--lang=") if arg.startswith("--lang=") else following if arg == "--lang" else ""
        if value in LANGUAGES:
            return value
    return language()


def _fail(message: str) -> None:
    print(f"grade: {_words()('cli.error')}: {_say(message)}", file=sys.stderr)
    raise SystemExit(ExitCode.GRADER_ERROR)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value <= 0:  # nan would pass `<= 0` and end every run at once
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grade", description="Grade a PyTorch lab submission (.py or .ipynb) against hidden checks. "
                "Also: `grade batch` (a whole class), `grade merge` (shards), `grade labs` (what each lab checks), "
                "`grade check-lab` (is a lab sound), `grade release` (the student kit), `grade doctor` (the sandbox).")
    p.add_argument("path", type=Path, help="a lab folder (e.g. exercises/lab2), a .py file or a .ipynb notebook")
    p.add_argument("--lab", help="the lab to grade against, when the file's name does not tell: a name (lab2) or a lab's folder")
    p.add_argument("--html", type=_file_name, metavar="FILE", help="also write a self-contained HTML report")
    p.add_argument("--json", type=_file_name, metavar="FILE", help="also write the result as JSON (docs/report-json.md)")
    _add_limits(p)
    _add_labs(p)
    p.add_argument("--quiet", action="store_true", help="print only the total")
    _add_lang(p)
    return p


def _batch_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grade batch", description="Grade a whole class and write a gradebook, reports and CI files.")
    p.add_argument("submissions", type=Path, help="a folder (or a zip of one) with one entry per student")
    p.add_argument("--lab", required=True, help="the lab every entry is graded against: a name or a lab's folder")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="where the gradebook and reports go")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="submissions graded at a time (default: the number of CPUs)")
    p.add_argument("--id-pattern", metavar="REGEX",
                   help="regular expression taking the student id from an entry name: its group 'id', "
                        r"else its first group (e.g. '_(?P<id>\d+)_' for kim_minsu_12345_lab2.ipynb)")
    p.add_argument("--shard", metavar="K/N", help="grade only the K-th of N deterministic shards of the class")
    p.add_argument("--entry-timeout", type=_positive, metavar="S",
                   help="overall time limit for grading one entry, after which it is 'timed out' and the batch goes "
                        "on (default: 4 x (start-up + 2 x cell limit) + probes x (call limit + 3 s) + 60 s)")
    _add_lang(p)
    _add_limits(p)
    _add_labs(p)
    return p


def _merge_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grade merge", description="Combine the output folders of sharded batches into one.")
    p.add_argument("dirs", type=Path, nargs="+", metavar="DIR", help="output folders of `grade batch --shard`")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    _add_lang(p)
    return p


def _add_lang(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=LANGUAGES, help="the reports' language: en or ko (default: from the locale, "
                   "LC_ALL / LC_MESSAGES / LANG starting with ko gives Korean, else English)")


def _add_limits(p: argparse.ArgumentParser) -> None:
    p.add_argument("--call-timeout", type=_positive, metavar="S",
                   help=f"time limit for one call of a student function (default: the lab's [limits], else {Limits.call:g} s)")
    p.add_argument("--cell-timeout", type=_positive, metavar="S",
                   help=f"time limit for one notebook cell or a .py file's top level (default: the lab's [limits], "
                        f"else {Limits.cell:g} s)")
    p.add_argument("--startup-timeout", type=_positive, default=Limits.startup, metavar="S",
                   help="time the sandboxed Python or the notebook's kernel gets to start, before the student's code "
                        f"runs; past it every check is a grader error, not the student's (default {Limits.startup:g} s)")
    p.add_argument("--memory", type=_memory, default=Limits.memory_mib, metavar="MIB",
                   help=f"memory for the submission's whole process tree, in MiB, at least {MIN_MEMORY_MIB}, "
                        "counted from its first line (on top of the Python and torch the grader starts it with) "
                        f"(default {Limits.memory_mib} MiB)")
    p.add_argument("--processes", type=_count, default=Limits.processes, metavar="N",
                   help=f"processes and threads the submission may have at once (default {Limits.processes})")
    p.add_argument("--disk", type=_count, default=Limits.disk_mib, metavar="MIB",
                   help=f"disk in the submission's working folder and in its /tmp, each (default {Limits.disk_mib} MiB)")
    p.add_argument("--open-files", type=_count, default=Limits.open_files, metavar="N",
                   help=f"files the submission may have open at once (default {Limits.open_files})")
    p.add_argument("--unsandboxed", action="store_true",
                   help="run student code as a plain process, without bubblewrap (`grade` falls back to this "
                        "with a warning where bubblewrap cannot start; `grade batch` refuses unless given it)")


def _file_name(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file name, got an empty one")
    return Path(text)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


# A Python that imports torch takes about 190 MiB before the student's first line (measured: lab 2's
# solution started cold scores 0 with 128 MiB, 25 with 192). Below that, every student of a batch
# would be charged with the limit's mistake; `--memory 2` (meant as GiB) is the slip this stops.
MIN_MEMORY_MIB = 256


def _memory(text: str) -> int:
    value = _count(text)
    if value < MIN_MEMORY_MIB:
        raise argparse.ArgumentTypeError(f"{value} MiB is too little for Python and torch to start (about 190 MiB); "
                                         f"give at least {MIN_MEMORY_MIB} (the value is in MiB)")
    return value


def _add_labs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--labs", action="append", default=[], type=Path, metavar="DIR",
                   help="a folder of your own labs, or one lab's folder (repeat; also the GRADER_LABS variable, "
                        "folders separated by ':'; docs/adding-a-lab.md)")


def _use_labs(args: argparse.Namespace) -> None:
    """--labs goes into GRADER_LABS, where every part of the grader (and every worker) reads it."""
    from .labs import add_lab_roots, resolve_lab

    for folder in args.labs:
        if not folder.is_dir():
            raise GraderError(f"--labs {folder}: no such folder")
    if args.labs:
        add_lab_roots(args.labs)
    lab = getattr(args, "lab", None)  # a name, or a lab's folder as check-lab takes (release: a list of them)
    if isinstance(lab, str):
        args.lab = resolve_lab(lab)
    elif isinstance(lab, list):
        args.lab = [resolve_lab(one) for one in lab]


def _limits(args: argparse.Namespace, sandboxing: Sandboxing = Sandboxing.PREFER, lab: str | None = None) -> Limits:
    """The limits the flags give; time limits not given come from the lab's manifest, then the defaults."""
    if args.unsandboxed:
        sandboxing = Sandboxing.OFF
    own: dict[str, float] = {}
    if lab is not None and (args.call_timeout is None or args.cell_timeout is None):
        from .labs import load_lab

        manifest = load_lab(lab).manifest
        own = manifest.limits if manifest is not None else {}
    call = args.call_timeout or own.get("call", Limits.call)
    cell = args.cell_timeout or own.get("cell", Limits.cell)
    return Limits(call=call, cell=cell, load=cell, startup=args.startup_timeout, memory_mib=args.memory,
                  processes=args.processes, disk_mib=args.disk, open_files=args.open_files, sandboxing=sandboxing)


def _run_batch(argv: list[str]) -> int:
    args = _batch_parser().parse_args(argv)
    if args.jobs < 1:
        _fail("--jobs takes a positive number")
    from rich.console import Console

    from .batch import BatchOptions, exit_status, parse_shard, run_batch

    _use_labs(args)
    limits = _limits(args, Sandboxing.REQUIRE, args.lab)
    if limits.sandboxing is Sandboxing.REQUIRE:
        from .runner.sandbox import bubblewrap_problem

        problem = bubblewrap_problem()
        if problem is not None:
            _fail(f"{problem}; a batch grades only in the sandbox (run `grade doctor`, or pass --unsandboxed "
                  "to grade with plain processes)")
    console = Console(stderr=True)
    options = BatchOptions(submissions=args.submissions, lab=args.lab, out=args.out, jobs=args.jobs,
                           id_pattern=args.id_pattern, shard=parse_shard(args.shard) if args.shard else None,
                           limits=limits, entry_timeout=args.entry_timeout, lang=language(args.lang))
    records = run_batch(options, console)
    not_ok = [r for r in records if r.verdict != "ok"]
    mean = sum(r.score for r in records) / len(records) if records else 0.0
    verdicts = [_words().verdict(v) for v in sorted({r.verdict for r in not_ok})]
    print(_say(f"graded {len(records)} submission{'' if len(records) == 1 else 's'} to {args.out}: mean score {mean:.2f}"
               + (f", {len(not_ok)} not ok ({', '.join(verdicts)})" if not_ok else "")))
    errors = [r.folder for r in records if r.verdict == "grader error"]  # folder names: no control characters
    if errors:
        print(f"grade batch: {len(errors)} {'entry' if len(errors) == 1 else 'entries'} got 'grader error' "
              f"(see results.json): {', '.join(errors[:5])}"
              + (" ..." if len(errors) > 5 else ""), file=sys.stderr)
    return int(exit_status(records))


def _run_merge(argv: list[str]) -> int:
    args = _merge_parser().parse_args(argv)
    from .batch.merge import merge

    records = merge(args.dirs, args.out, language(args.lang))
    print(_say(f"merged {len(records)} students from {len(args.dirs)} folders into {args.out}"))
    return 0


def _run_labs(argv: list[str]) -> int:
    p = _Parser(prog="grade labs", description="List the labs with their functions and points.")
    _add_labs(p)
    _add_lang(p)
    _use_labs(p.parse_args(argv))
    from .labs import known_labs, load_lab

    for name in known_labs():  # a bad lab folder or manifest is one line before anything heavy loads
        load_lab(name)
    from .batch.records import LabChecks, grading_fingerprint

    for name in known_labs():  # (the check lists come from the user's cache when the lab is unchanged)
        lab, checks = load_lab(name), LabChecks(name, grading_fingerprint(name)).get()
        print(f"{name}  {_words().title(lab.title)}  " + _say(f"({sum(c.max_score for c in checks):g} points)"))
        for function in lab.functions:
            own = [c for c in checks if c.function == function]
            points = f"{sum(c.max_score for c in own):g}"  # (right-aligned in 4 columns, as words follow it)
            print(f"  {function:<34} {' ' * (4 - len(points))}" + _say(f"{points} points  ({len(own)} check{'s' * (len(own) != 1)})"))
    return 0


def _run_doctor(argv: list[str]) -> int:
    p = _Parser(prog="grade doctor", description="Tell whether the sandbox and the limits work on this machine.")
    _add_lang(p)
    p.parse_args(argv)
    from .runner.doctor import diagnose

    lines = diagnose()
    for what, fine, detail in lines:
        print(f"{'ok  ' if fine else 'NO  '} {what:<17} {detail}")
    sandboxed = all(fine for what, fine, _ in lines if what in ("bubblewrap", "sandboxed python"))
    print(_say("grading is sandboxed here" if sandboxed else
               "grading is NOT sandboxed here: `grade` warns and runs student code as a plain process; "
               "`grade batch` refuses unless given --unsandboxed"))
    return 0 if sandboxed else 1


def _run_stop(argv: list[str]) -> int:
    p = _Parser(prog="grade stop", description="Stop the warm graders that `grade` left running in the background "
                                               "(each also leaves by itself when unused; GRADER_SERVICE=0 starts none).")
    _add_lang(p)
    p.parse_args(argv)
    from .service.client import stop_all

    print(_say(f"stopped {stop_all()} warm grader(s)"))
    return 0


def _run_release(argv: list[str]) -> int:
    p = _Parser(prog="grade release", description="Write the student kit: the exercises and a grader with the public "
                "checks only (no solutions, hidden checks, hidden inputs or computed mistakes).")
    p.add_argument("--out", type=Path, required=True, help="a new (or empty) folder for the kit")
    p.add_argument("--lab", action="append", default=[], metavar="LAB", help="a lab to release, by name or folder (repeat; default: all)")
    _add_labs(p)
    _add_lang(p)
    args = p.parse_args(argv)
    _use_labs(args)
    from . import edition

    if edition.public_only():
        raise GraderError("this is a student kit: it has no hidden checks to release from")
    from .release.kit import build_kit

    for lab in build_kit(args.out, args.lab):
        print(f"{lab.name}: {lab.public_checks} public checks ({lab.public_points:g} points) in the kit; "
              f"{lab.hidden_checks} hidden checks ({lab.hidden_points:g} points) left out")
    print(f"the student kit is in {args.out}; its README.md says how to set it up")
    return 0


def _run_check_lab(argv: list[str]) -> int:
    p = _Parser(prog="grade check-lab", description="Check that a lab is sound: its solution earns full marks and its "
                "stubs nothing in both formats, its files match its manifest, its known mistakes lose points.")
    p.add_argument("lab", metavar="NAME|PATH", help="a lab's name, or the folder of a lab (the one holding lab.toml)")
    _add_limits(p)
    _add_labs(p)
    _add_lang(p)
    args = p.parse_args(argv)
    _use_labs(args)
    from .labcheck import check_lab
    from .labs import resolve_lab

    name = resolve_lab(args.lab)
    try:
        limits = _limits(args, lab=name)
    except GraderError:  # a lab that does not load: check_lab says why, as one of its problems
        limits = _limits(args)
    findings = check_lab(name, limits)
    for problem in findings.problems:
        print(f"{name}: {_say(problem)}")
    if findings.problems:
        print(f"{name}: {len(findings.problems)} problem{'s' if len(findings.problems) > 1 else ''}", file=sys.stderr)
        return 1
    print(f"{name} is sound: " + "; ".join(findings.facts))
    return 0


COMMANDS = {"check-lab": _run_check_lab, "batch": _run_batch, "merge": _run_merge, "labs": _run_labs, "doctor": _run_doctor, "release": _run_release,
            "stop": _run_stop}


def show_warning(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
    """The grader's own warnings (the sandbox fell back...), one line each; libraries' are not the user's business
    (nbformat warns about every notebook saved by an older Jupyter, for one)."""
    if category.__module__.split(".")[0] == "grader":
        _print_warning(str(message))


def _print_warning(text: str) -> None:
    print(f"grade: {_words()('cli.warning')}: {_say(text)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _LANG[0] = _language_of(argv)
    warnings.showwarning = show_warning
    try:
        if argv and argv[0] in COMMANDS:
            return COMMANDS[argv[0]](argv[1:])
        return _grade_one(argv)
    except GraderError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        print("grade: " + _say("interrupted; results written so far are kept (run the same command again to resume)"),
              file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in the grader: one line, unless asked for the traceback
        if os.environ.get("GRADER_DEBUG"):
            raise
        _fail(f"internal error ({type(exc).__name__}: {exc}); set GRADER_DEBUG=1 for the traceback")
    return ExitCode.GRADER_ERROR


class _Reader:
    """Standard output, which its reader may close early (`grade lab2.py --json r.json | head -1`):
    what it no longer takes is dropped, and the command goes on, writes its reports and exits with
    its own status. (Python would raise BrokenPipeError from the first print after it, in the middle
    of the work.)"""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._drop()

    def _drop(self) -> None:
        self._gone = True
        with contextlib.suppress(OSError, ValueError):  # what is still buffered goes nowhere, quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def run() -> None:
    """The `grade` command: `main`, then an exit that a late Ctrl-C cannot turn into a traceback.

    The score is printed and the reports written by then; what is left (closing the warm
    sandboxes, Python's own teardown) is short and ends by itself, so SIGINT is ignored for it.
    (`main` stays free of this: tests call it in their own process.)"""
    if sys.stdout is not None:
        sys.stdout = cast(TextIO, _Reader(sys.stdout))
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler):  # (not a job started with it ignored)
        # SIGTERM (`timeout`, `kill`, a cancelled CI job) stops as Ctrl-C does, through whatever handles SIGINT
        # now: a batch then kills its workers and removes its folders (before, the whole class stayed in $TMPDIR).
        signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(os.getpid(), signal.SIGINT))
    code = main()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    end(code)


def end(code: int) -> NoReturn:
    """Exit as Python does, without freeing every module and object first: with torch loaded that
    teardown takes about 0.3 s (a fifth of a first grade), and the process is ending anyway.

    What an exit must still do is done: the exit handlers run (warm sandboxes closed, temporary
    folders removed, logging flushed) and the standard streams are flushed. While a thread that
    Python would wait for still runs, this is a plain exit."""
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.current_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # a closed pipe or stream, or none
            if stream is sys.stdout:
                code = code or 120  # as Python ends when it cannot flush stdout
    os._exit(code)


def _grade_one(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    _use_labs(args)
    from .pipeline import grade_submission
    from .submission import resolve

    submission = resolve(args.path, args.lab)
    from .labs import known_labs

    named = submission.path.stem
    if args.lab and named != submission.lab.stem and named in known_labs() and named != submission.lab.name:
        _print_warning(f"{submission.path.name} is named for {named}, and is graded against {submission.lab.name} "
                       f"as --lab asks")
    _check_report_paths(submission.path, [("--json", args.json), ("--html", args.html)])
    limits = _limits(args, lab=submission.lab.name)
    with _ctrl_c_remembered() as interrupted:
        result = _served(submission, limits, args) or grade_submission(submission, limits)
        if interrupted:  # caught on the way (pytest ends its session; a kernel is taken for dead)
            raise KeyboardInterrupt
    # (Each report's module is imported here, and only if asked for: every millisecond before the grade
    # starts delays the sandbox's start-up, and a served grade has imported them while it waited.)
    from . import reporting

    if args.quiet:  # on the terminal first: a report that cannot be written then loses nothing
        print(f"{result.lab}: {result.score:g}/{result.max_score:g}")
    else:
        reporting.render_terminal(result, lang=language(args.lang))
    if args.json:
        reporting.write_json(result, args.json)
    if args.html:
        reporting.write_html(result, args.html, language(args.lang))
    if result.grader_errors:  # the report is written; the exit status says it cannot be trusted
        print(f"grade: {_words()('cli.error')}: {_say(_grader_errors_line(result.grader_errors))}", file=sys.stderr)
        return ExitCode.GRADER_ERROR
    return ExitCode.FULL_MARKS if result.full_marks else ExitCode.POINTS_LOST


def _import_reports(args: argparse.Namespace) -> None:
    """Import the modules of the reports this grade writes (a served grade does it while it waits)."""
    from . import reporting  # (the package alone: its modules come on first use)

    for wanted, name in ((not args.quiet, "render_terminal"), (args.json, "write_json"), (args.html, "write_html")):
        if wanted:
            getattr(reporting, name)


@contextlib.contextmanager
def _ctrl_c_remembered() -> Iterator[list[bool]]:
    """Ctrl-C raises KeyboardInterrupt as usual, and is also remembered (the list yielded is then
    not empty): the runner or pytest may catch it, and a grade stopped anywhere reports nothing.
    A SIGINT that is ignored (a background job) or handled by someone else is left alone."""
    seen: list[bool] = []

    def interrupt(signum: int, frame: FrameType | None) -> None:
        seen.append(True)
        raise KeyboardInterrupt

    ours = (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    if ours:
        signal.signal(signal.SIGINT, interrupt)
    try:
        yield seen
    finally:
        if ours:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _check_report_paths(submission: Path, reports: list[tuple[str, str | None]]) -> None:
    """Before grading, refuse a report path that would overwrite the submission or the other
    report, and one whose folder cannot be written (found by creating and removing a file there)."""
    from .errors import ReportWriteError

    taken = {submission.resolve(): "the submission being graded"}
    for option, name in reports:
        if not name:
            continue
        target = Path(name).resolve()
        if target in taken:
            _fail(f"{option} {name} would overwrite {taken[target]}")
        taken[target] = option
        if target.is_dir():
            raise ReportWriteError(Path(name), os.strerror(errno.EISDIR))
        try:
            fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as error:
            raise ReportWriteError(Path(name), error.strerror or str(error)) from error
        os.close(fd)
        os.unlink(probe)


def _served(submission: Submission, limits: Limits, args: argparse.Namespace) -> GradeResult | None:
    """The grade from the user's warm grader (grader/service), or None to grade in this process."""
    from .service import client

    try:
        served = client.grade(submission, limits, meanwhile=lambda: _import_reports(args))
    except client.ServiceFailed as failed:
        for text in failed.warnings:
            _print_warning(text)
        if failed.internal:
            _fail(f"internal error ({failed}); set GRADER_DEBUG=1 for the traceback")
        raise
    if served is None:
        return None
    for text in served.warnings:
        _print_warning(text)
    if served.started and not args.quiet:
        idle = (f"{served.idle_minutes:g} minutes" if served.idle_minutes >= 1
                else f"{round(served.idle_minutes * 60):g} seconds")  # (GRADER_SERVICE_IDLE, in seconds)
        print("grade: " + _say(f"a warm grader now runs in the background, so the next grade starts faster "
                               f"(it leaves after {idle} unused; GRADER_SERVICE=0 turns it off)"), file=sys.stderr)
    return served.result


def _grader_errors_line(failed: tuple[CheckResult, ...]) -> str:
    names = ", ".join(c.name for c in failed[:3]) + (f" and {len(failed) - 3} more" if len(failed) > 3 else "")
    return f"the grader itself failed in check{'s' if len(failed) > 1 else ''} {names}: {failed[0].message}"


if __name__ == "__main__":
    sys.exit(main())
