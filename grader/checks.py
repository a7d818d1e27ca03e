"""The trusted side: run a lab's hidden pytest suite against the values the student's code returned.

Each hidden check is a pytest test marked `@pytest.mark.check(function=..., points=..., title=...)`.
Tests receive the observations through the `observed` fixture; a collector plugin turns each
test report into a `CheckResult`. Nothing from the student's process runs here: only the plain
values it returned, decoded by `grader.values`.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from .compare import CheckFailed
from .errors import GraderError
from .results import CheckResult, Status
from .runner import Outcome, ProbeOutcome
from .values import decode

_INI = Path(__file__).with_name("checks.ini")


class StudentError(Exception):
    """The student's function could not be called or did not answer."""

    def __init__(self, message: str, traceback: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.traceback = traceback
        self.hint = hint  # a check may add the classic mistake the error looks like


def describe_failure(function: str, o: ProbeOutcome) -> StudentError:
    if o.outcome is Outcome.RAISED and o.exception == "NotImplementedError":
        return StudentError(f"not implemented: {function} still raises NotImplementedError")
    if o.outcome is Outcome.RAISED and "[Errno 27]" in o.message:  # EFBIG: the output limit was hit
        return StudentError(f"{function} printed more output than the limit allows and was stopped (flooded output)")
    if o.outcome is Outcome.RAISED:
        return StudentError(f"{function} raised {o.exception}: {o.message}".rstrip(": "), o.traceback)
    if o.outcome is Outcome.MISSING:
        return StudentError(f"no {function} found in the submission (check its name, or a cell that failed before it)")
    if o.outcome is Outcome.TIMEOUT:
        return StudentError(f"{function} timed out after {o.seconds:g} s")
    if o.outcome is Outcome.CRASHED:
        return StudentError(f"{function} crashed: {o.message}")
    return StudentError(f"{function} was not called: the submission's process ended before the grader reached it")


class Observations:
    """What each probe gave back. `get` returns decoded values or raises StudentError."""

    def __init__(self, outcomes: dict[str, ProbeOutcome], functions: dict[str, str]) -> None:
        self._outcomes = outcomes
        self._functions = functions
        self.touched: list[str] = []

    def raw(self, probe_id: str) -> Any:
        """The probe's plain JSON result (a dict whose parts go through `decode`)."""
        self.touched.append(probe_id)
        outcome = self._outcomes[probe_id]
        if outcome.outcome is not Outcome.OK:
            raise describe_failure(self._functions[probe_id], outcome)
        return outcome.result

    def get(self, probe_id: str, part: str = "value") -> Any:
        raw = self.raw(probe_id)
        if not isinstance(raw, dict):
            raise CheckFailed("the submission's answer was malformed")
        return decode(raw.get(part))

    def output_of_touched(self) -> str:
        outputs = dict.fromkeys(self._outcomes[p].output for p in self.touched if p in self._outcomes)
        return "".join(outputs)


class _Collector:
    """pytest plugin: provides `observed` and turns reports into CheckResults."""

    def __init__(self, observations: Observations, reference: Any) -> None:
        self.observations = observations
        self._reference = reference
        self.results: list[CheckResult] = []
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
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        yield
        if call.when == "setup":
            self.observations.touched = []
        if call.when != "call":
            return
        marker = item.get_closest_marker("check")
        if marker is None:
            self.problems.append(f"{item.nodeid} has no check marker")
            return
        self.results.append(self._result(item, marker.kwargs, call))

    def _result(self, item: pytest.Item, meta: Mapping[str, Any], call: pytest.CallInfo[None]) -> CheckResult:
        function, points = str(meta["function"]), float(meta["points"])
        passed = CheckResult(name=f"{function}.{item.name.removeprefix('test_').removeprefix(function + '_')}",
                             function=function, title=str(meta["title"]), status=Status.PASSED, score=points,
                             max_score=points, message="passed", output=self.observations.output_of_touched())
        exc = call.excinfo.value if call.excinfo is not None else None
        if exc is None:
            return passed
        if isinstance(exc, CheckFailed):
            return replace(passed, status=Status.FAILED, score=0.0, message=exc.message, expected=exc.expected,
                           obtained=exc.obtained, hint=exc.hint)
        if isinstance(exc, StudentError):
            return replace(passed, status=Status.ERROR, score=0.0, message=exc.message, traceback=exc.traceback,
                           hint=exc.hint)
        return replace(passed, status=Status.ERROR, score=0.0,
                       message=f"the check could not use what the function returned ({type(exc).__name__}: {exc})")


def run_checks(suite: Path, observations: Observations, reference: Any) -> list[CheckResult]:
    """Run the hidden suite at `suite` with pytest's public API; one CheckResult per test.

    `reference` is the lab's reference solution, loaded in this process; the suite
    computes expected values on hidden inputs with it.
    """
    collector = _Collector(observations, reference)
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
    if collector.problems or not collector.results or code not in (0, 1):
        detail = collector.problems[0].splitlines()[-1] if collector.problems else out.getvalue()[-300:]
        raise GraderError(f"the hidden checks in {suite} could not run: {detail}")
    return collector.results
