"""The trusted side: run a lab's hidden pytest suite against the values the student's code returned.

Each hidden check is a pytest test marked `@pytest.mark.check(function=..., points=..., title=...)`.
Tests receive the observations through the `observed` fixture; a collector plugin turns each
test report into a `CheckResult`. Nothing from the student's process runs here: only the plain
values it returned, decoded by `grader.values`.

Whose fault a check's exception is: `CheckFailed` and `StudentError` are verdicts on the
student's values. Anything else is the grader's (status `grader_error`) when it comes from
code that never sees a student value (the reference solution, a lab's `mistakes.py` or
`data.py`, a table of classic mistakes, an unknown probe, a skipped check, a failed set-up),
or when the check also fails on the reference solution's own answers; otherwise the student's
values provoked it (status `error`). A bug only reached on a wrong value, in the suite's own
lines, is still taken for the student's: the known limit of this rule.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import inspect
import io
import itertools
import json
import os
import re
import traceback
from collections.abc import Generator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from . import stopping
from .compare import GOES_WITH, CheckFailed, following
from .errors import GraderError, UnknownProbe
from .labs.manifest import MANIFEST, Manifest, Rule, read_manifest
from .labs.remembering import memo
from .results import CheckResult, IssueKind, RunIssue, Status
from .rules import defined_names, forward_returns_nothing, reached, returns_nothing, turns_grad_off
from .sources import Unit, error_place, parse_code, submission_units
from .runner import Outcome, Probe, ProbeOutcome
from .values import decode

_INI = Path(__file__).with_name("checks.ini")
_PACKAGE = os.path.realpath(Path(__file__).parent) + os.sep


class StudentError(Exception):
    """The student's function could not be called or did not answer."""

    def __init__(self, message: str, traceback: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.traceback = traceback
        self.hint = hint  # a check may add the classic mistake the error looks like


#: Why a function can be missing, by default (a notebook's cells); see `why_missing`.
MISSING = "no {function} found in the submission (check its name, or a cell that failed before it)"


def why_missing(kind: str, code: Sequence[Unit], issues: Sequence[RunIssue]) -> str:
    """The message for a function the submission did not define, with what the run tells about why."""
    trees = [parse_code(unit.text) for unit in code]
    if all(tree is not None and not tree.body for tree in trees):  # blank, comments only, no code cells
        return ("no {function} found: the file has no code (was it saved?)" if kind == "py"
                else "no {function} found: the notebook has no code (was it saved?)")
    if kind != "py":
        return MISSING
    for issue in (i for i in issues if i.kind is IssueKind.LOAD_ERROR):
        place = error_place(issue.traceback, outermost=True)
        error = issue.message.split(":", 1)[0]
        if error in _COMPILE_ERRORS:  # nothing of the file ran
            return (f"no {{function}} found: the file could not run ({error} at line {place[0]}), so nothing in it "
                    "was defined" if place else f"no {{function}} found: the file could not run ({error}), so nothing "
                    "in it was defined")
        if place is not None:
            return (f"no {{function}} found: the file stopped at line {place[0]} with {error}, so nothing below "
                    "that line was defined")
    for issue in (i for i in issues if i.kind is IssueKind.LOAD_TIMEOUT):
        stopped = re.search(r"stopped at line (\d+)", issue.message)
        if stopped:
            return (f"no {{function}} found: the file's top level ran too long and was stopped at line {stopped[1]}, "
                    "and below that line only definitions (def, class, import, constants) ran")
    return "no {function} found in the submission (check its name)"


_COMPILE_ERRORS = ("SyntaxError", "IndentationError", "TabError")
_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.M)


def broken_cells(issues: Sequence[RunIssue]) -> dict[str, str]:
    """For a notebook: the message for each function whose own cell Python could not read (a SyntaxError in
    it), so that nothing of the cell was defined. Its name is right there: "check its name" misleads."""
    found: dict[str, str] = {}
    for issue in (i for i in issues if i.kind is IssueKind.CELL_ERROR and i.source):
        error = issue.message.split(":", 1)[0]
        if error not in _COMPILE_ERRORS:
            continue
        place = error_place(issue.traceback, outermost=True)
        why = f"{error} at line {place[0]}" if place else error
        for name in _DEF.findall(issue.source):
            found.setdefault(name, f"no {name} found: its cell, {issue.where}, could not run ({why}), so nothing "
                                   "in that cell was defined")
    return found


_NOT_A_TENSOR_COST = (
    "looks like backward() called on a numpy value, a list or a tuple: a cost turned into one on the way (.numpy(), "
    ".tolist(), numpy functions, [cost], (cost,)), in your other functions too, cannot be differentiated; keep the "
    "cost a torch tensor, and take .item() only of the value you return")

NONE_COST = ("looks like backward() called on None: a function on the way returns nothing (it prints the cost, or "
             "computes it without `return`); end it with return")
IN_PLACE_LEAF = ("looks like a parameter updated in place by hand (W -= lr * W.grad, W.sub_(...)): autograd refuses "
                 "it on a tensor that requires grad; let the optimizer update the parameters (optimizer.step())")
NO_GRAD = ("looks like the cost computed inside `with torch.no_grad():` (in {function}): autograd records nothing "
           "there, so backward() has nothing to follow; compute the cost and call backward() outside that block")
UPSTREAM_NONE = ("{other} has no return statement with a value, so it returns None whatever it computes, and "
                 "{function} uses what it returns: end it with return")

#: PyTorch errors that name a classic mistake whatever the lab (a lab's checks may name a closer one).
#: The first needle found in the error's message gives the hint.
RAISE_HINTS = {
    **{f"'{kind}' object has no attribute 'backward'": _NOT_A_TENSOR_COST
       for kind in ("numpy.ndarray", "numpy.float32", "numpy.float64", "list", "tuple")},
    "does not require grad and does not have a grad_fn":
        "looks like backward() on a cost autograd did not record: create the parameters with requires_grad=True, "
        "and keep every step from them to the cost in torch (no .item(), .detach(), torch.tensor(...) or numpy), "
        "in your other functions too",
    "'NoneType' object has no attribute 'backward'": NONE_COST,
    "a leaf Variable that requires grad is being used in an in-place operation": IN_PLACE_LEAF,
    "object has no attribute 'backward'":
        "looks like backward() called on a Python number: a cost turned into a float on the way (.item(), float(...)), "
        "in your other functions too, cannot be differentiated; keep the cost a tensor, and take .item() only of "
        "the value you return",
    "'Tensor' object is not callable":
        "looks like a function's name reused for a tensor: a line below its def (the lesson's "
        "`hypothesis = x_train * W + b` or `cost = ...`) rebinds the name, so calling it calls the tensor; "
        "give those variables other names",
}


def describe_failure(function: str, o: ProbeOutcome, missing: str = MISSING) -> StudentError:
    if o.outcome is Outcome.RAISED and o.exception == "NotImplementedError":
        return StudentError(f"not implemented: {function} still raises NotImplementedError")
    if o.outcome is Outcome.RAISED and "[Errno 27]" in o.message:  # EFBIG: the output limit was hit
        return StudentError(f"{function} printed more output than the limit allows and was stopped (flooded output)")
    if o.outcome is Outcome.RAISED:
        hint = next((h for needle, h in RAISE_HINTS.items() if needle in o.message), "")
        return StudentError(f"{function} raised {o.exception}: {o.message}".rstrip(": "), o.traceback, hint=hint)
    if o.outcome is Outcome.MISSING:
        return StudentError(missing.replace("{function}", function))
    if o.outcome is Outcome.TIMEOUT:
        return StudentError(f"{function} timed out after {o.seconds:g} s")
    if o.outcome is Outcome.CRASHED:
        return StudentError(f"{function} crashed: {o.message}")
    return StudentError(f"{function} was not called: the submission's process ended before the grader reached it")


class Observations:
    """What each probe gave back. `get` returns decoded values or raises StudentError."""

    def __init__(self, outcomes: dict[str, ProbeOutcome], functions: dict[str, str], code: tuple[Unit, ...] = (),
                 missing: str = MISSING, broken: Mapping[str, str] | None = None) -> None:
        self._outcomes = outcomes
        self._functions = functions
        self._missing = missing  # the message for a function not found (`why_missing`)
        self._broken = broken or {}  # a function's own message, where its cell did not compile (`broken_cells`)
        self.code = code  # the submission's source, read by the grader (grader.rules), for rules on how to compute
        self.rules: Mapping[str, Rule] = {}  # the lab manifest's [rules], by function
        self.touched: list[str] = []

    def raw(self, probe_id: str) -> Any:
        """The probe's plain JSON result (a dict whose parts go through `decode`)."""
        if probe_id not in self._outcomes:
            raise UnknownProbe(probe_id)
        self.touched.append(probe_id)
        outcome = self._outcomes[probe_id]
        if outcome.outcome is not Outcome.OK:
            function = self._functions[probe_id]
            failure = describe_failure(function, outcome, self._broken.get(function, self._missing))
            # (a function whose own cell did not compile is named right there: no other name is "it, misspelt")
            if outcome.outcome is Outcome.MISSING and function not in self._broken and (near := self._near_miss(function)):
                failure.message += f"; the submission defines {near}: is that it, misspelt?"
            raise failure
        return outcome.result

    def _near_miss(self, function: str) -> str:
        """A name the submission defines that looks like `function` misspelt (`l1_cots` for `l1_cost`), else ''."""
        try:
            names, definitions = defined_names(self.code)
        except Exception:  # (the grader's reading of the source: never a reason to fail the check)
            return ""
        if function in names:  # written, but not run (a top level stopped above it): not a misspelling
            return ""
        # Only functions and classes: `train` is close to the lesson's y_train.
        found = difflib.get_close_matches(function, sorted(definitions - self.lab_functions()), n=1, cutoff=0.8)
        return found[0] if found else ""

    def lab_functions(self) -> set[str]:
        """The functions and classes the lab's probes call."""
        return set(self._functions.values())

    def get(self, probe_id: str, part: str = "value") -> Any:
        raw = self.raw(probe_id)
        if not isinstance(raw, dict):
            raise CheckFailed("the submission's answer was malformed")
        return decode(raw.get(part))

    def output_of_touched(self) -> str:
        outputs = dict.fromkeys(self._outcomes[p].output for p in self.touched if p in self._outcomes)
        return "".join(outputs)


def reference_observations(probes: Sequence[Probe], reference: Any) -> Observations:
    """What the reference solution answers to `probes`: values every check must accept.

    Computed here, in the grader, with the harness's own recipes (the same code that calls
    the student's functions), so a check can be tried on answers known to be right.
    """
    import torch

    outcomes: dict[str, ProbeOutcome] = {}
    with torch.random.fork_rng():  # the module recipe seeds torch; leave the grader's generator alone
        for probe in probes:
            try:
                outcomes[probe.id] = ProbeOutcome(Outcome.OK, result=_reference_answer(
                    reference, probe.recipe, probe.function, json.dumps(probe.to_json(), sort_keys=True)))
            except Exception as exc:  # the reference cannot answer: no check can pass on it
                outcomes[probe.id] = ProbeOutcome(Outcome.RAISED, exception=type(exc).__name__, message=str(exc))
    source = getattr(reference, "__file__", None)
    return Observations(outcomes, {p.id: p.function for p in probes}, _reference_code(source) if source else ())


@memo
def _reference_answer(reference: Any, recipe: str, function: str, spec: str) -> Any:
    """The reference's answer to one probe (`spec`, its JSON), as JSON: remembered like the
    reference's other runs (grader.labs.remembering), so a grade whose store holds it neither runs
    the reference again nor imports what its training needs (torch.optim's torch._dynamo)."""
    from .runner import harness

    return json.loads(json.dumps(harness.RECIPES[recipe](vars(reference)[function], json.loads(spec))))


@functools.cache
def _reference_code(path: str) -> tuple[Unit, ...]:
    """The reference solution's own source, for the rule checks run on its answers (read once)."""
    return submission_units(Path(path), "py")


class _Collector:
    """pytest plugin: provides `observed` and turns reports into CheckResults."""

    def __init__(self, observations: Observations, reference: Any, probes: Sequence[Probe], suite: Path,
                 manifest: Manifest | None) -> None:
        self.observations = observations
        self._rules = manifest.rules if manifest is not None else {}
        observations.rules = self._rules
        self._withhold_hidden = manifest is not None and not manifest.show_hidden_expected
        self._carry_forward = manifest is not None and manifest.carry_forward
        self._reference = reference
        self._probes = probes
        # Code that only ever sees the grader's own inputs: an exception there is the grader's.
        self._grader_only = {os.path.realpath(f) for f in (suite.parent / "mistakes.py", suite.parent / "data.py",
                                                            getattr(reference, "__file__", None)) if f}
        self._suite = os.path.realpath(suite) + os.sep
        self._reference_answers: Observations | None = None
        self.results: list[CheckResult] = []
        self._started_elsewhere: set[str] = set()  # functions whose errors were traced to a function they use
        self.problems: list[str] = []

    @pytest.fixture
    def observed(self) -> Observations:
        return self.observations

    @pytest.fixture
    def reference(self) -> Any:
        return self._reference

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "check(function, points, title): a graded check")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.problems.append(str(report.longrepr))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
        made = yield
        report: pytest.TestReport = made.get_result()
        if call.when == "setup":
            self.observations.touched = []
        marker = item.get_closest_marker("check")
        if marker is None:
            if call.when == "call":
                self.problems.append(f"{item.nodeid} has no check marker")
            return
        passed = self._passed(item, marker.kwargs)
        if call.when == "call":
            self.results.append(self._result(item, passed, call))
        elif call.when == "setup" and (report.failed or report.skipped):  # the test never ran: say so
            reason = _skip_reason(report) if report.skipped else self._describe(call.excinfo)
            what = "the hidden suite skipped this check" if report.skipped else "the check's set-up failed"
            self.results.append(grader_error(passed, f"{what} ({reason})"))
        elif call.when == "teardown" and report.failed and self.results and self.results[-1].name == passed.name:
            self.results[-1] = grader_error(passed, f"the check's tear-down failed ({self._describe(call.excinfo)})")

    def _passed(self, item: pytest.Item, meta: Mapping[str, Any]) -> CheckResult:
        function, points = str(meta["function"]), float(meta["points"])
        return CheckResult(name=f"{function}.{item.name.removeprefix('test_').removeprefix(function + '_')}",
                           function=function, title=str(meta["title"]), status=Status.PASSED, score=points,
                           max_score=points, message="passed", output=self.observations.output_of_touched())

    def _result(self, item: pytest.Item, passed: CheckResult, call: pytest.CallInfo[None]) -> CheckResult:
        exc = call.excinfo.value if call.excinfo is not None else None
        if exc is None:
            return passed
        if isinstance(exc, GraderError):
            return grader_error(passed, str(exc))
        if isinstance(exc, CheckFailed):
            upstream = self._upstream(passed.function) if self._carry_forward else []
            carried = self._carried(item, passed, upstream)
            if carried is not None:
                return carried
            if exc.goes_with:  # a rule's point waiting on a value check: named by the title the student reads
                title = next((r.title for r in self.results if r.name == exc.goes_with), exc.goes_with)
                return replace(passed, status=Status.FAILED, score=0.0, message=GOES_WITH.format(title=title))
            own, after, still = self._own_mistake(item, upstream)
            if still is not None:  # what is still wrong with the earlier function's mistake carried forward
                exc = still  # (train_l1's costs[0] is right for an l1_cost that sums, its W is not)
            marker = item.get_closest_marker("check")
            public = bool(marker is not None and marker.kwargs.get("public"))
            hidden = self._withhold_hidden and (not public or exc.on_hidden_inputs)
            message, hint = withheld(exc.message) if hidden else exc.message, exc.hint
            expected = WITHHELD if hidden else exc.expected
            if own:  # this function's own mistake, on top of the earlier one; what is right with that one
                message = STILL_WRONG.format(what=message, function=after)
                expected = expected if hidden or not expected else CARRIED_EXPECTED.format(value=expected, function=after)
            return replace(passed, status=Status.FAILED, score=0.0, message=message,
                           expected=expected, obtained=exc.obtained,
                           hint=self._no_return(passed.function) or hint)
        if isinstance(exc, StudentError):
            message = exc.message
            if exc.traceback and (earlier := self._failed_earlier(passed.function)):
                message += f"; an earlier check failed on {', '.join(earlier)}, which {passed.function} uses: the error may start there"
                self._started_elsewhere.add(passed.function)
            elif exc.traceback and (missing := self._undefined_lab_function(exc.message, passed.function)):
                message += (f"; {missing} is not defined in the submission (its own checks say so), and "
                            f"{passed.function} calls it: the error starts there")
                self._started_elsewhere.add(passed.function)
            # A None used later (the grader's own loss on a forward that returns nothing): the missing return,
            # where nothing better is known (not a stub's NotImplementedError, nor an error of its own).
            none_used = "'NoneType'" in message and not message.startswith("not implemented")
            hint = self._closer_hint(passed.function, exc) or exc.hint
            return replace(passed, status=Status.ERROR, score=0.0, message=message, traceback=exc.traceback,
                           hint=hint or (self._no_return(passed.function) if none_used else ""))
        if isinstance(exc, (pytest.skip.Exception, pytest.xfail.Exception)):
            return grader_error(passed, f"the hidden suite skipped this check ({exc})")
        if self._raised_in_grader_only_code(exc.__traceback__) or not self._passes_on_reference(item):
            return grader_error(passed, f"the check itself raised {self._describe(call.excinfo)}")
        return replace(passed, status=Status.ERROR, score=0.0,
                       message=f"the check could not use what the function returned ({type(exc).__name__}: {exc})")

    def _closer_hint(self, function: str, exc: StudentError) -> str:
        """A hint read from the source where an error's own words fit several causes, else '': backward()
        on None where a function `function` uses has no return; an unrecorded cost where `function` (or
        one it uses) holds a torch.no_grad() block."""
        none = "'NoneType' object has no attribute" in exc.message
        if not exc.traceback or not (none or "does not require grad and does not have a grad_fn" in exc.message):
            return ""
        code = self.observations.code
        used = [function, *sorted(reached(code, function))]
        if none:
            empty = [f for f in used[1:] if returns_nothing(code, f)]
            return UPSTREAM_NONE.replace("{other}", empty[0]).replace("{function}", function) \
                if empty and not returns_nothing(code, function) else ""
        off = [f for f in used if turns_grad_off(code, f)]
        return NO_GRAD.replace("{function}", off[0]) if off else ""

    def _no_return(self, function: str) -> str:
        """For a function with no `return` that gives a value (it returns None whatever it computes), the hint that
        says so, in place of a mistake its None only looks like; else ''."""
        if returns_nothing(self.observations.code, function):
            return f"{function} has no return statement with a value, so it returns None whatever it computes: end it with return"
        if forward_returns_nothing(self.observations.code, function):
            return (f"{function}'s forward has no return statement with a value, so the model gives None whatever it "
                    "computes: end forward with return")
        return ""

    def _raised_in_grader_only_code(self, tb: TracebackType | None) -> bool:
        while tb is not None:
            if os.path.realpath(tb.tb_frame.f_code.co_filename) in self._grader_only:
                return True
            tb = tb.tb_next
        return False

    def _upstream(self, function: str) -> list[tuple[str, str]]:
        """(function, hint) for each known mistake an earlier check of another function was failed for (its
        hint), where `function` calls that one (read from the source), in the order they were checked."""
        called = reached(self.observations.code, function)
        return list({(r.function, r.hint): None for r in self.results if r.status is Status.FAILED and r.hint
                     and r.function != function and r.function in called})

    def _carried(self, item: pytest.Item, passed: CheckResult, upstream: Sequence[tuple[str, str]]) -> CheckResult | None:
        """Follow-through marking (the manifest's `carry_forward`): a failed check passes when every value
        it compares is what a known mistake of a function it calls gives (`upstream`), or two of them made
        together (mse_cost's sum under a train_step without zero_grad). Each mistake then costs points once,
        in the function where it was made."""
        for function, hint in upstream:
            with following(hint):
                if self._rerun(item, self.observations) is None:
                    return replace(passed, message=CARRIED.format(function=function))
        for (function, hint), (other, other_hint) in itertools.combinations(upstream, 2):
            if hint == other_hint:
                continue
            with following(hint, other_hint):
                if self._rerun(item, self.observations) is None:
                    message = CARRIED.format(function=function) if function == other else \
                        CARRIED_TWO.format(function=function, other=other)
                    return replace(passed, message=message)
        return None

    def _own_mistake(self, item: pytest.Item, upstream: Sequence[tuple[str, str]]
                     ) -> tuple[str, str, CheckFailed | None]:
        """(hint, function, failure): the known mistake a failed check's values show on top of `function`'s,
        carried forward (train_step without zero_grad, on an mse_cost that sums), and the check's failure
        with it carried; else ('', '', None). Only a mistake a table replayed together with the carried one
        counts, not a hint a check gives when none matched."""
        for function, hint in upstream:
            with following(hint, diagnose=True) as named:
                failure = self._rerun(item, self.observations)
            if isinstance(failure, CheckFailed) and failure.hint in named and failure.hint != hint:
                return failure.hint, function, failure
        return "", "", None

    def _undefined_lab_function(self, message: str, function: str) -> str:
        """The lab's function a NameError in `function` names, when that one failed its own checks first (a
        typo in its def, a notebook cell that did not run), else ''."""
        named = re.search(r"NameError: name '(\w+)' is not defined", message)
        if named is None or named[1] == function or named[1] not in self.observations.lab_functions():
            return ""
        return named[1] if any(r.function == named[1] and r.status is not Status.PASSED for r in self.results) else ""

    def _failed_earlier(self, function: str) -> list[str]:
        """The submission's functions that `function` uses (read from the source), in the order they were
        checked, that failed a check of their own before it, or raised there for no such reason: an
        error in `function` may start there (mse_cost returning a float makes train_step's backward()
        raise)."""
        used = reached(self.observations.code, function)
        found: list[str] = []
        for r in self.results:
            if r.function in used and r.function not in found and r.function not in self._started_elsewhere \
                    and r.status in (Status.FAILED, Status.ERROR):
                found.append(r.function)
        return found

    def _passes_on_reference(self, item: pytest.Item) -> bool:
        """Run the check again on the reference solution's answers: a check that fails on them is broken."""
        if self._reference is None:  # a student kit: its suite was run on the solution when it was released
            return True
        if self._reference_answers is None:
            self._reference_answers = reference_observations(self._probes, self._reference)
            self._reference_answers.rules = self._rules
        return self._passes_with(item, self._reference_answers)

    def _passes_with(self, item: pytest.Item, observed: Observations) -> bool:
        """Run the check again, on `observed`: whether it passes."""
        return self._rerun(item, observed) is None

    def _rerun(self, item: pytest.Item, observed: Observations) -> BaseException | None:
        """Run the check again, on `observed`: what it raised, None when it passes."""
        test = getattr(item, "obj", None)
        funcargs = getattr(item, "funcargs", None)
        if test is None or funcargs is None:
            return GraderError("the check cannot be run again")
        arguments = {name: funcargs[name] for name in inspect.signature(test).parameters if name in funcargs}
        arguments["observed"] = observed
        try:
            test(**arguments)
        except (Exception, pytest.skip.Exception, pytest.xfail.Exception, pytest.fail.Exception) as exc:
            return exc
        return None

    def _describe(self, excinfo: pytest.ExceptionInfo[BaseException] | None) -> str:
        """`KeyError: 'x' at test_lab2.py:80`: the exception and the grader's line it came from."""
        if excinfo is None:
            return "no exception"
        exc = excinfo.value
        text = str(exc).strip().splitlines()
        where = ""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            path = os.path.realpath(frame.filename)
            if path.startswith((_PACKAGE, self._suite)) or path in self._grader_only:
                where = f" at {Path(path).name}:{frame.lineno}"
                break
        return f"{type(exc).__name__}{': ' + text[0][:200] if text else ''}{where}"


WITHHELD = "(not shown: a check on hidden inputs)"
CARRIED = ("passed, carried forward: right for this submission's own {function}; its mistake costs points only in that "
           "function's checks")
CARRIED_TWO = ("passed, carried forward: right for this submission's own {function} and {other}; their mistakes cost "
               "points only in those functions' checks")
STILL_WRONG = "{what}; with {function}'s mistake carried forward it is still wrong"
CARRIED_EXPECTED = "{value} (right with this submission's own {function})"
# "... is wrong (off by 7.71)" and "(mismatched elements 2 / 5, max absolute difference ...)": with the
# student's own values beside them, these would give the expected values away.
_DIFFERENCE = re.compile(r" \((off by|mismatched elements)[^()]*\)$")


def withheld(message: str) -> str:
    """A failure on hidden inputs, told without the numbers that would give its expected values away."""
    return _DIFFERENCE.sub("", message)


def grader_error(passed: CheckResult, what: str) -> CheckResult:
    """`passed` (any result of the check) as a check the grader failed to grade: no points, and why."""
    return replace(passed, status=Status.GRADER_ERROR, score=0.0,
                   message=f"grader error, not your code: {what}; these points could not be graded")


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


def run_checks(suite: Path, observations: Observations, reference: Any, probes: Sequence[Probe]) -> list[CheckResult]:
    """Run the hidden suite at `suite` with pytest's public API; one CheckResult per test.

    `reference` is the lab's reference solution, loaded in this process; the suite
    computes expected values on hidden inputs with it. `probes` are the calls the
    observations answer: with them a check that raised is tried on the reference's answers.
    The lab's manifest, next to the suite, gives the rules the checks read (`observed.rules`)
    and whether a failure on hidden inputs (a hidden check, or a public check's `with hidden():`
    block) may show its expected values.
    """
    manifest_path = suite.parent / MANIFEST
    collector = _Collector(observations, reference, probes, suite,
                           read_manifest(manifest_path) if manifest_path.is_file() else None)
    args = [str(suite), "-c", str(_INI), "--rootdir", str(suite.parent), "-p", "no:cacheprovider",
            "-p", "no:stepwise",
            # These collect garbage or hook logging around every test: time we need not spend.
            "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:logging", "-q", "--tb=no", "--no-header", "-W", "ignore"]
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        with contextlib.redirect_stdout(io.StringIO()) as out:
            code = pytest.main(args, plugins=[collector])
    finally:
        if previous is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous
    stopping.raise_if_requested()  # a stop pytest caught in a check (as that check's failure)
    if collector.problems or not collector.results or code not in (0, 1):
        detail = collector.problems[0].splitlines()[-1] if collector.problems else out.getvalue()[-300:]
        raise GraderError(f"the hidden checks in {suite} could not run: {detail}")
    return collector.results
