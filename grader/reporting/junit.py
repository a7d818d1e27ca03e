"""The class as JUnit XML: one test suite per student, one test case per check, for CI dashboards.

Deterministic: no timestamps, host names or durations (every `time` is "0"), attributes in
a fixed order, so rerunning a batch gives the same bytes. Student text is made safe for
XML 1.0: characters the format cannot carry (terminal colour codes, NUL, ...) are
written as `\\xNN` escapes instead of producing a file no parser accepts.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TYPE_CHECKING

from grader.i18n import Messages
from grader.reporting import _view
from grader.results import CheckResult, GradeResult, Status

if TYPE_CHECKING:  # grader.batch imports the reporters: a run-time import would be circular
    from grader.batch.records import StudentRecord

__all__ = ["render_junit"]

# Everything outside XML 1.0's Char production.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(lab: str, records: Sequence[StudentRecord]) -> str:
    """The JUnit XML text for a batch, with an XML declaration, suites in `records` order."""
    suites = [_suite(lab, record) for record in records]
    totals = {key: str(sum(int(suite.get(key, "0")) for suite in suites)) for key in ("tests", "failures", "errors")}
    root = ET.Element("testsuites", {"name": _safe(lab), **totals, "skipped": "0", "time": "0"})
    root.extend(suites)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(lab: str, record: StudentRecord) -> ET.Element:
    if record.result is None:
        cases = [_missing_result(lab, record)]
    else:
        cases = [_case(lab, record.student, check) for check in record.result.checks]
    suite = ET.Element("testsuite", {
        "name": _safe(record.student),
        "tests": str(len(cases)),
        "failures": str(sum(1 for case in cases if case.find("failure") is not None)),
        "errors": str(sum(1 for case in cases if case.find("error") is not None)),
        "skipped": "0",
        "time": "0",
    })
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("score", _view.number(record.score)),
        ("max_score", _view.number(record.max_score)),
        ("verdict", record.verdict),
        ("entry", record.entry),
    ):
        ET.SubElement(properties, "property", name=name, value=_safe(value))
    if record.message:
        ET.SubElement(properties, "property", name="message", value=_safe(record.message))
    suite.extend(cases)
    if record.result is not None and (problems := _run_problems(record.result)):
        ET.SubElement(suite, "system-err").text = problems
    return suite


def _case(lab: str, student: str, check: CheckResult) -> ET.Element:
    case = ET.Element("testcase", {
        "classname": _safe(f"{lab}.{student}.{check.function}"),
        "name": _safe(check.name),
        "time": "0",
    })
    if check.status is Status.FAILED:
        failure = ET.SubElement(case, "failure", message=_safe(check.message or check.title))
        failure.text = _safe(_failure_text(check))
    elif check.status in (Status.ERROR, Status.GRADER_ERROR):  # the message says whose error it was
        error = ET.SubElement(case, "error", message=_safe(check.message or check.title))
        error.text = _safe("\n\n".join(part for part in (check.message, check.traceback) if part))
    if check.output:
        ET.SubElement(case, "system-out").text = _safe(check.output)
    return case


def _missing_result(lab: str, record: StudentRecord) -> ET.Element:
    """No checks ran for this student: one test case that says why."""
    case = ET.Element("testcase", {"classname": _safe(f"{lab}.{record.student}"), "name": "submission", "time": "0"})
    summary = f"{record.verdict}: {record.message}" if record.message else record.verdict
    error = ET.SubElement(case, "error", message=_safe(summary))
    error.text = _safe(summary)
    return case


def _failure_text(check: CheckResult) -> str:
    parts = [check.title]
    if check.expected:
        parts.append(f"Expected:\n{check.expected}")
    if check.obtained:
        parts.append(f"Obtained:\n{check.obtained}")
    if check.hint:
        parts.append(_view.labelled_hint(check.hint, Messages("en")))
    return "\n\n".join(parts)


def _run_problems(result: GradeResult) -> str:
    """Cell errors, time-outs and stderr: shown to whoever reads the suite, never scored."""
    parts = [f"{issue.where}: {issue.message}" for issue in result.issues]
    if result.stderr:
        parts.append(result.stderr)
    return _safe("\n".join(parts))


def _safe(text: str) -> str:
    """`text` without colour codes, and with characters XML 1.0 cannot hold escaped."""
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", _view.plain(text))
