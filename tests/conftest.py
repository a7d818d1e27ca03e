"""Shared fixtures: real submission files on disk and the real `grade` command."""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
GRADE = Path(sys.executable).parent / "grade"


@dataclass(frozen=True)
class Graded:
    returncode: int
    report: dict[str, Any]
    stdout: str
    stderr: str

    def function_scores(self) -> dict[str, tuple[float, float]]:
        return {f["name"]: (f["score"], f["max_score"]) for f in self.report["functions"]}

    def checks_of(self, function: str) -> list[dict[str, Any]]:
        return [c for c in self.report["checks"] if c["function"] == function]


@pytest.fixture(scope="session", autouse=True)
def _no_warm_service() -> Iterator[None]:
    """Every `grade` of the tests grades in its own process (tests/test_service.py turns the
    background service on for its own grades, and stops what it started)."""
    before = os.environ.get("GRADER_SERVICE")
    os.environ["GRADER_SERVICE"] = "0"
    yield
    if before is None:
        os.environ.pop("GRADER_SERVICE", None)
    else:
        os.environ["GRADER_SERVICE"] = before


@pytest.fixture(scope="session", autouse=True)
def _own_user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The grader's user cache (labs' check lists) in a folder of this test run, for every `grade`
    the tests start: never the developer's ~/.cache."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


def interruptible() -> None:
    """`preexec_fn` for a process the test will Ctrl-C: pytest-xdist's workers ignore SIGINT and their
    children inherit that (as a background job's do); a student's terminal does not."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_loses_exactly(graded: Graded, wrong: set[str]) -> None:
    """Checks in `wrong` score 0 (a function name stands for all its checks, `function.check` for
    one); every other check of the lab passes."""
    from grader.labs import load_lab

    checks = graded.report["checks"]
    assert {c["function"] for c in checks} == set(load_lab(graded.report["lab"]).functions)
    for check in checks:
        if check["function"] in wrong or check["name"] in wrong:
            assert check["score"] == 0, f"{check['name']} should lose its points: {check}"
        else:
            assert check["status"] == "passed", f"{check['name']} should keep its points: {check}"
    assert graded.returncode == (1 if wrong else 0), graded.stderr
    assert_reads_in_korean(graded.report)


def assert_reads_in_korean(report: dict[str, Any]) -> None:
    """Every message, expected and obtained value of a check that did not pass, and every issue the
    grader words itself, has its Korean (the student's and Python's own words stay as they are)."""
    from grader.i18n import translate_detail

    texts = [c[k] for c in report["checks"] if c["status"] != "passed" for k in ("message", "expected", "obtained")]
    texts += [c["message"] for c in report["checks"] if c["status"] == "passed" and c["message"] != "passed"]  # carried
    texts += [i["message"] for i in report["issues"] if i["kind"] not in ("cell_error", "load_error")]
    texts += [i["where"] for i in report["issues"]] + [report["submission"]["selection"]]
    for text in texts:
        if text:
            assert translate_detail("ko", text) is not None, f"no Korean reads {text!r}"


def run_grade(path: Path, *args: str, cwd: Path, timeout: float | None = None, process: bool = False) -> Graded:
    """The `grade` command line, as a student runs it, with a JSON report to read back.

    `grader.cli.main` runs in this test process: the same code from argument parsing to exit
    status, minus the seconds of interpreter and torch start-up a new process pays (the
    student's code still runs in its own sandboxed process or kernel). With a `timeout` (tests
    of limits, where a grader that waits too long must fail the test), an alarm ends the grade
    past it with `GradeTookTooLong` (see `_alarm`), and the grade is not cached. With `process=True` it runs as a
    separate process (the real script), killed past the timeout: for tests that change what
    a process reads once (TMPDIR).
    """
    out = cwd / "report.json"
    out.unlink(missing_ok=True)
    argv = [str(path), "--json", str(out), *args]
    # In-process grading swaps sys.stdout, the working folder and the environment: only the main
    # thread may do it. Grades started from other threads (a fixture's pool) run as processes.
    in_thread = threading.current_thread() is not threading.main_thread()
    if process or in_thread or os.environ.get("GRADER_TESTS_SUBPROCESS"):  # set it to grade as processes
        proc = subprocess.run([str(GRADE), *argv], cwd=cwd, capture_output=True, text=True, timeout=timeout or 300)
        code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
        return Graded(code, report, stdout, stderr)
    if timeout is not None:
        code, stdout, stderr = _grade_in_process(argv, cwd, timeout)
        return Graded(code, json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}, stdout, stderr)
    cache = _cache_file(path, args)
    if cache is not None and cache.is_file():  # the same file with the same options, already graded
        return Graded(**json.loads(cache.read_text(encoding="utf-8")))
    code, stdout, stderr = _grade_in_process(argv, cwd)
    report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    graded = Graded(code, report, stdout, stderr)
    if cache is not None:
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(graded.__dict__), encoding="utf-8")
        os.replace(tmp, cache)
    return graded


def _cache_file(path: Path, args: tuple[str, ...]) -> Path | None:
    """Where this run keeps the result of grading these bytes with these options (shared by the
    xdist workers of one run: grading is deterministic, and several tests look at the same
    submission). None when the options write files a test may read, or when `path` is a folder."""
    import hashlib

    if "--html" in args or not path.is_file():
        return None
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"grader-tests-{run}"
    folder.mkdir(exist_ok=True)
    key = hashlib.sha256(json.dumps([path.name, path.parent.name, list(args)]).encode() + path.read_bytes())
    return folder / f"{key.hexdigest()[:32]}.json"


class GradeTookTooLong(BaseException):
    """Raised by `_alarm` in the test's thread: a BaseException, so no `except Exception` in the
    grader turns it into a verdict; the grade's own clean-up (`finally`) still runs."""


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Bound an in-process grade: past `seconds`, SIGALRM raises GradeTookTooLong and the test fails;
    the warm sandboxed Pythons are then let go (a half-finished grade may have left one in use).
    If even that cannot end it, faulthandler prints every stack and ends the process 60 s later."""
    import faulthandler

    def expire(signum: int, frame: object) -> None:
        raise GradeTookTooLong(f"the grade took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds + 60, exit=True, file=sys.__stderr__)
    try:
        yield
    except GradeTookTooLong:
        from grader.runner import warm

        warm.shutdown()
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


def _grade_in_process(argv: list[str], cwd: Path, timeout: float | None = None) -> tuple[int, str, str]:
    import contextlib
    import io

    from grader.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    before, environ = Path.cwd(), dict(os.environ)  # the grader's own pytest run sets and clears PYTEST_* variables
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                with _alarm(timeout) if timeout is not None else contextlib.nullcontext():
                    code = int(main(argv))
            except SystemExit as exc:
                code = int(exc.code) if isinstance(exc.code, int) else 1
    finally:
        os.chdir(before)
        os.environ.clear()
        os.environ.update(environ)
    return code, stdout.getvalue(), stderr.getvalue()


def grade_command(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`grade ARGV` run by `grader.cli.main` in this test process (as `run_grade` does), without the
    GRADER_LABS and GRADER_SECRET of the test run and with `env` for it alone; with GRADER_TESTS_SUBPROCESS set, the real
    script. An instructor's lab is loaded from a folder of the test: what this process kept of it
    (its modules, the grader's caches) is forgotten afterwards, so the next test's lab of the same
    name, from another folder, loads afresh as it would in a new process."""
    environ = {k: v for k, v in os.environ.items() if k not in ("GRADER_LABS", "GRADER_SECRET")}
    environ.update(env or {})
    if os.environ.get("GRADER_TESTS_SUBPROCESS"):
        return subprocess.run([str(GRADE), *argv], cwd=cwd, env=environ, capture_output=True, text=True, timeout=600)
    before, modules, path = dict(os.environ), set(sys.modules), list(sys.path)
    os.environ.clear()
    os.environ.update(environ)
    try:
        code, stdout, stderr = _grade_in_process(list(argv), cwd)
    finally:
        from grader.runner import warm

        warm.shutdown()  # its warm sandboxes end with it, as a process's do at exit (they cover this test's lab)
        os.environ.clear()
        os.environ.update(before)
        _forget_the_tests_labs(modules, path)
    return subprocess.CompletedProcess([str(GRADE), *argv], code, stdout, stderr)


def _forget_the_tests_labs(modules: set[str], path: list[str]) -> None:
    """Unload what a grade loaded from outside the grader and the Python installation (an
    instructor's lab in a test's folder: its package, its checks), and clear what the grader keeps
    per lab name or per file."""
    from grader import checks, labs, pipeline

    installed = [Path(p).resolve() for p in {sys.prefix, sys.base_prefix}] + [ROOT]
    for name in set(sys.modules) - modules:
        file = getattr(sys.modules[name], "__file__", None)
        if file and not any(Path(file).resolve().is_relative_to(root) for root in installed):
            del sys.modules[name]
    for name in [n for n in sys.modules if n.startswith("grader.labs.")]:  # (a lab package loaded from a folder)
        file = getattr(sys.modules[name], "__file__", None) or ""
        if not Path(file).resolve().is_relative_to(ROOT / "grader"):
            del sys.modules[name]
            if "." not in name.removeprefix("grader.labs."):
                vars(labs).pop(name.removeprefix("grader.labs."), None)
    sys.path[:] = path
    builtin = set(labs.known_labs())
    pipeline._primed.intersection_update(builtin)
    for key in [k for k in pipeline._reference_answers if k[0] not in builtin]:
        del pipeline._reference_answers[key]
    labs._load.cache_clear()
    labs._lab_folders.cache_clear()
    checks._reference_code.cache_clear()


# --- building submissions from the solution ---------------------------------------------


def _blocks(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """An override file: replacement definitions, then `# %% after NAME` blocks to insert."""
    text = path.read_text(encoding="utf-8")
    parts = text.split("# %% after ")
    inserts = []
    for part in parts[1:]:
        name, _, body = part.partition("\n")
        inserts.append((name.strip(), body))
    return parts[0], inserts


def _definitions(source: str) -> dict[str, tuple[int, int]]:
    """Top-level def/class name -> (first line, last line), 1-based, decorators included."""
    spans = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans[node.name] = (start, node.end_lineno or node.lineno)
    return spans


def _replace_definitions(source: str, replacements: str) -> str:
    new = _definitions(replacements)
    new_lines = replacements.splitlines()
    lines = source.splitlines()
    for name, (start, end) in sorted(_definitions(source).items(), key=lambda kv: -kv[1][0]):
        if name in new:
            a, b = new[name]
            lines[start - 1:end] = new_lines[a - 1:b]
    return "\n".join(lines) + "\n"


def apply_override(override: Path, kind: str, dest: Path, lab: str = "lab2") -> Path:
    """The lab's solution with some definitions replaced and some blocks inserted, as <lab>.py or <lab>.ipynb."""
    replacements, inserts = _blocks(override)
    if kind == "py":
        source = _replace_definitions((ROOT / "solutions" / lab / f"{lab}.py").read_text(encoding="utf-8"), replacements)
        lines = source.splitlines()
        for name, body in reversed(inserts):
            end = _definitions(source)[name][1]
            lines[end:end] = ["", body.rstrip("\n")]
        path = dest / f"{lab}.py"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
    nb = nbformat.read(str(ROOT / "solutions" / lab / f"{lab}.ipynb"), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = _replace_definitions(cell.source, replacements).rstrip("\n")
    for name, body in inserts:
        index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and name in _definitions(c.source))
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(body.strip("\n")))
    path = dest / f"{lab}.ipynb"
    nbformat.write(nb, str(path))
    return path


def as_kind(source_file: Path, kind: str, dest: Path, lab: str = "lab2") -> Path:
    """A whole .py submission as itself, or as a notebook with one cell per `# %%` block."""
    text = source_file.read_text(encoding="utf-8")
    if kind == "py":
        path = dest / f"{lab}.py"
        path.write_text(text, encoding="utf-8")
        return path
    cells = [c.strip("\n") for c in text.split("# %%") if c.strip()]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    path = dest / f"{lab}.ipynb"
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(params=["py", "ipynb"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- a real browser ------------------------------------------------------------------------


def find_chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; CI must install it (apt-get install chromium)")
    pytest.skip("chromium is not installed")


def chromium(page: Path, tmp_path: Path, *action: str) -> str:
    """Run headless Chromium on a local page (`--dump-dom`, `--screenshot=...`); its stdout."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    # Keep everything the browser writes (profile, caches, crash dumps) under tmp_path.
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home)}
    command = [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", *action, page.as_uri()]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert run.returncode == 0, f"chromium failed ({run.returncode}):\n{run.stderr[-2000:]}"
    return run.stdout


# --- the lab's own files -------------------------------------------------------------------


def assert_reference_files_graded(lab: str, folder: str, kind: str, max_score: float, tmp_path: Path,
                                  *args: str) -> Graded:
    """The solution gets full marks; the stub gets zero, every check saying "not implemented"."""
    graded = run_grade(ROOT / folder / lab / f"{lab}.{kind}", *args, cwd=tmp_path)
    report = graded.report
    assert report["lab"] == lab and report["submission"]["format"] == kind
    assert report["max_score"] == max_score
    if folder == "solutions":
        assert report["score"] == max_score and graded.returncode == 0, graded.stdout
        assert all(c["status"] == "passed" for c in report["checks"])
    else:
        assert report["score"] == 0 and graded.returncode == 1
        for check in report["checks"]:
            assert check["status"] == "error"
            assert "not implemented" in check["message"], check
    assert_reads_in_korean(report)
    return graded


# The files that take longest, longest first (seconds on one worker, 2 cores: test_types is mypy,
# 13 s with no cache, as in CI): pytest-xdist hands out whole files in collection order (--dist
# loadfile, with --no-loadscope-reorder, else it orders them by their number of tests), so the long
# ones start first and the short ones fill the gaps at the end, instead of one long file running
# alone at the end.
_LONGEST_FIRST = ("test_lab2_grading.py", "test_lab_folders.py", "test_batch_safety.py", "test_lazy_dynamo.py",
                  "test_batch.py", "test_sandbox.py", "test_warm_worker.py", "test_cli.py", "test_runner_limits.py",
                  "test_service.py", "test_grader_errors.py", "test_release.py", "test_report_browser.py",
                  "test_types.py", "test_lab1_grading.py", "test_lab3_grading.py", "test_remembering.py",
                  "test_lab4_grading.py",
                  "test_memory_pressure.py", "test_released_stubs.py", "test_shared_zygote.py", "test_html_browser.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return _LONGEST_FIRST.index(name) if name in _LONGEST_FIRST else len(_LONGEST_FIRST)

    items.sort(key=rank)  # stable: a file's tests keep their order
