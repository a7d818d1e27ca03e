"""Grade one submission: resolve -> run (untrusted) -> plain values -> checks (trusted) -> result.

The grader's own start-up work (importing torch and pytest, loading the reference
solution) runs in a thread while the student's process starts and runs, so grading
costs little beyond running the student's code.
"""

from __future__ import annotations

import contextlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import edition
from .config import Limits, Sandboxing, cache_folder, grader_version
from .errors import GraderError
from .figures import Figure
from .labs import Lab
from .labs.draws import active, drawn
from .results import CheckResult, GradeResult, IssueKind, RunIssue, Status
from .sources import function_sources, read_units
from .runner import Probe, run_submission
from .submission import Submission, resolve


_primed: set[str] = set()  # labs whose checks already ran once in this process


def first_torch_use() -> None:
    """One thread, torch._dynamo deferred, and autograd's lazy first-use cost paid now.

    No optimizer: the grader's side needs one only to run the reference or a mistake's simulation,
    and those runs are remembered (grader.labs.remembering): a grade whose store holds them
    trains nothing. torch.optim's own import of torch._dynamo (about 1 CPU-second and 70 MiB)
    waits until something compiles (grader.runner.lazy_dynamo), which the grader never does."""
    import torch

    from .runner import lazy_dynamo

    lazy_dynamo.defer()

    # The grader's tensors are tiny: extra threads only wait, and batches run several graders at once.
    torch.set_num_threads(1)
    torch.zeros(1, requires_grad=True).sum().backward()


def _warm_up(lab: Lab, probes: list[Probe] | None = None) -> Any:
    """Imports and lazy initialisation the checks need, done while the student's code runs.

    The first time in a process (given the probes), the checks also run once on the reference's
    own answers: the suite is imported and the reference runs the checks compare with are
    remembered (grader.labs.remembering.memo, also between processes), so after the student's
    run only the comparing is left.
    """
    from . import checks  # (imports torch and pytest)

    first_torch_use()
    reference = lab.reference()
    if probes is not None and reference is not None and lab.name not in _primed:
        _primed.add(lab.name)
        with contextlib.suppress(Exception):  # only a head start: the real run reports any problem
            checks.run_checks(lab.suite, checks.reference_observations(probes, reference), reference, probes)
    return reference


_reference_answers: dict[tuple[str, str], Any] = {}  # (lab, probe id) -> the reference's decoded answer


def draw_figures(lab: Lab, observations: Any, reference: Any, probes: list[Probe]) -> tuple[Figure, ...]:
    """The lab's pictures of the student's training, from the values that came back (grader side)."""
    if lab.make_figures is None:  # (a student kit's labs have no pictures: they draw the reference)
        return ()
    from .checks import reference_observations

    by_id = {p.id: p for p in probes}

    def theirs(probe_id: str) -> Any:
        key = (lab.name, probe_id)
        if key not in _reference_answers:
            _reference_answers[key] = reference_observations([by_id[probe_id]], reference).get(probe_id)
        return _reference_answers[key]

    return tuple(lab.make_figures(observations.get, theirs))


def grade(path: Path, lab: str | None = None, limits: Limits | None = None) -> GradeResult:
    """Grade the submission at `path` (a .py file, a notebook or a lab folder)."""
    return grade_submission(resolve(path, lab), limits or Limits())


def grade_submission(submission: Submission, limits: Limits) -> GradeResult:
    """Grade a submission already resolved (the command line resolves it first for the lab's limits)."""
    if limits.sandboxing != Sandboxing.OFF:
        from .runner.warm import prestart

        prestart(kernels=submission.kind == "ipynb")  # the sandboxed Python starts while the grader warms up
    from .labs import remembering  # (imports torch: not where `grade` only asks the service)

    remembering.use_store(_memo_store(submission.lab, limits))
    with drawn(submission.lab, submission.sha256) as values:  # this submission's hidden inputs, if drawn
        if values:
            _reference_answers.clear()
        result = _grade(submission, limits)
    remembering.save()
    return result


def _memo_store(lab: Lab, limits: Limits) -> Path | None:
    """The file where this lab's reference runs and mistake simulations are remembered between
    processes (grader/labs/remembering.py). None without the sandbox (a student's code could
    write there), with hidden inputs drawn per submission (every student's would differ), or
    where the student's sandbox would see the file."""
    if limits.sandboxing == Sandboxing.OFF or active(lab):
        return None
    from .batch.records import grading_fingerprint
    from .runner.sandbox import python_roots, secrets

    folder = cache_folder()
    if folder is None or not re.fullmatch(r"[A-Za-z0-9_]+", lab.name):
        return None
    try:
        path = folder.resolve() / f"memo-{lab.name}-{grading_fingerprint(lab.name)}.jsonl"
    except (OSError, GraderError):
        return None
    return None if any(root == path or root in path.parents for root in python_roots(secrets())) else path


def _grade(submission: Submission, limits: Limits) -> GradeResult:
    probes = submission.lab.make_probes()
    with ThreadPoolExecutor(max_workers=1) as pool:
        warm = pool.submit(_warm_up, submission.lab, probes)
        outcome = run_submission(submission.path, submission.kind, probes, limits)
        reference = warm.result()
    from .checks import Observations, broken_cells, grader_error, run_checks, why_missing

    code = read_units(submission.path, submission.kind)  # the rules and the report read the same source
    observations = Observations(outcome.probes, {p.id: p.function for p in probes}, code,
                                why_missing(submission.kind, code, outcome.issues), broken_cells(outcome.issues))
    checks = _demo_names_told(submission, run_checks(submission.lab.suite, observations, reference, probes))
    if outcome.not_run:  # none of the student's code ran, and not through their doing: nothing is scored
        checks = [grader_error(c, outcome.not_run) for c in checks]
    return GradeResult(
        figures=draw_figures(submission.lab, observations, reference, probes),
        sources=function_sources(code, tuple(dict.fromkeys(  # (a grader error is no reason to look at one's code)
            c.function for c in checks if c.status not in (Status.PASSED, Status.GRADER_ERROR)))),
        lab=submission.lab.name,
        graded_file=submission.path.name,
        submission_format=submission.kind,
        sha256=submission.sha256,
        selection=submission.selection,
        checks=tuple(checks),
        issues=_neighbours_named(submission.path, outcome.issues),
        stderr=outcome.stderr,
        grader_version=grader_version(),
        functions=submission.lab.functions,
        isolation=outcome.isolation,
        hidden=edition.hidden(submission.lab.name),
    )


_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([A-Za-z_][A-Za-z0-9_]*)")
_MISSING_FILE = re.compile(r"FileNotFoundError: \[Errno 2\] No such file or directory: '([^'/]+)'")


def _neighbours_named(path: Path, issues: tuple[RunIssue, ...]) -> tuple[RunIssue, ...]:
    """An error about a module or a file that sits next to the submission on the student's machine
    (`from helper import ...`, `open("data.csv")`): only the submission is in the sandbox, and the
    error says so, or the student sees the file right there and cannot tell why."""
    told = []
    for issue in issues:
        if issue.kind in (IssueKind.LOAD_ERROR, IssueKind.CELL_ERROR):
            module, file = _MISSING_MODULE.search(issue.message), _MISSING_FILE.search(issue.message)
            there = [n for n in ([f"{module[1]}.py", module[1]] if module else []) + ([file[1]] if file else [])
                     if n not in (".", "..") and (path.parent / n).exists()]
            if there:
                issue = replace(issue, message=f"{issue.message}; when graded, only the submitted file runs: "
                                               f"{there[0]}, next to it, is not there (put what it holds into the file)")
        told.append(issue)
    return tuple(told)


_UNDEFINED = re.compile(r"NameError: name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


def _demo_names_told(submission: Submission, checks: list[CheckResult]) -> list[CheckResult]:
    """A function that uses a variable made only in a cell tagged `demo` (the stub's "Try it" cell, which
    grading skips) works in Jupyter and raises a bare NameError when graded: the hint says why."""
    if submission.kind != "ipynb" or not any(c.status == Status.ERROR and _UNDEFINED.search(c.message) for c in checks):
        return checks
    import ast

    import nbformat

    from .runner.notebook import is_demo
    from .sources import notebook_text, parse_code

    try:
        cells = nbformat.reads(notebook_text(submission.path.read_bytes()), as_version=4).cells
    except Exception:  # (the run already said what is wrong with the file)
        return checks
    made: set[str] = set()
    for cell in cells:
        tree = parse_code(str(cell.get("source", ""))) if cell.get("cell_type") == "code" and is_demo(cell) else None
        if tree is not None:
            made |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    told = []
    for check in checks:
        found = _UNDEFINED.search(check.message) if check.status == Status.ERROR and not check.hint else None
        if found and found[1] in made:
            check = replace(check, hint=f"{found[1]} is made only in a cell tagged demo (a \"Try it\" cell), which "
                                        "grading skips; a function that reads it would use that data whatever it is given: use its arguments")
        told.append(check)
    return told


def lab_checks(name: str) -> list[CheckResult]:
    """The lab's checks with their points, from its hidden suite, without any submission."""
    from .checks import Observations, run_checks
    from .labs import load_lab
    from .runner import Outcome, ProbeOutcome

    lab = load_lab(name)
    probes = lab.make_probes()
    nothing = {p.id: ProbeOutcome(Outcome.NOT_RUN) for p in probes}
    return run_checks(lab.suite, Observations(nothing, {p.id: p.function for p in probes}), _warm_up(lab), probes)
