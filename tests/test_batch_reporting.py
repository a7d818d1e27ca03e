"""The class files of a batch, from hand-built records: gradebook CSV, JUnit XML, Gradescope JSON, class index.

The class: one student with full marks, one with wrong results and hints, one whose code
timed out, one without a gradable file, and one whose id has spaces, Korean and markup.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

import pytest
import xmlschema

from conftest import chromium
from grader.batch.folders import safe_name
from grader.batch.records import StudentRecord
from grader.reporting.classindex import render_class_index
from grader.reporting.gradebook import render_gradebook
from grader.reporting.gradescope import render_gradescope
from grader.reporting.junit import render_junit
from grader.results import CheckResult, GradeResult, IssueKind, RunIssue, Status

JUNIT_XSD = Path(__file__).resolve().parent / "data" / "junit.xsd"
LAB = "lab2"
ISOLATION = "bubblewrap; limits: cgroup v1"
ODD_ID = "김 철수 <b>bold</b>"
SUM_HINT = "looks like you summed the squared errors instead of averaging them: use .mean()"
ZERO_GRAD_HINT = "you never zeroed the gradient: call w.grad.zero_() after the update"
TRACEBACK = """\
Traceback (most recent call last):
  File "lab2.py", line 30, in train_loop
    while True:
TimeoutError: the call took longer than 10 s"""

# The lab's checks, as the batch hands them to the reporters: (name, title, points).
LAB_CHECKS = tuple(
    CheckResult(name, name.partition(".")[0], title, Status.PASSED, points, points, "")
    for name, title, points in (
        ("mse_cost.lesson_values", "Cost on the lesson's numbers", 2),
        ("mse_cost.mean_not_sum", "Averages the squared errors", 2),
        ("gradient_step.zeroes_grad", "Zeroes the gradient after each step", 4),
        ("train_loop.loss_decreases", "Loss goes down", 6),
    )
)
NAMES = [check.name for check in LAB_CHECKS]


def passed(name: str) -> CheckResult:
    template = next(check for check in LAB_CHECKS if check.name == name)
    return replace(template, message="matches the reference")


def failed(name: str, hint: str = "", score: float = 0) -> CheckResult:
    return replace(passed(name), status=Status.FAILED, score=score, message="off by a factor of 4",
                   expected="tensor(0.5000)", obtained="tensor(2.)", hint=hint)


def errored(name: str) -> CheckResult:
    # Output straight from a terminal: colour codes and a NUL that XML 1.0 cannot carry.
    return replace(passed(name), status=Status.ERROR, score=0, message="timed out after 10 s", traceback=TRACEBACK,
                   output="\x1b[31mepoch 1\x1b[0m loss=nan\x00\n")


def result(*checks: CheckResult, issues: tuple[RunIssue, ...] = ()) -> GradeResult:
    return GradeResult(lab=LAB, graded_file="lab2.ipynb", submission_format="ipynb", sha256="ab" * 32,
                       selection="the only notebook", checks=checks, issues=issues, grader_version="0.1.0",
                       functions=("mse_cost", "gradient_step", "train_loop"), isolation=ISOLATION)


def record(student: str, graded: GradeResult | None, verdict: str = "ok", message: str = "",
           seconds: float = 1.0) -> StudentRecord:
    return StudentRecord(student=student, entry=f"{student}.zip", entry_sha256="cd" * 32, cache_key="key",
                         verdict=verdict, message=message, max_score=14.0, result=graded, seconds=seconds,
                         folder=safe_name(student))


FULL = record("ada", result(*(passed(name) for name in NAMES)), seconds=3.25)
WRONG = record("grace", result(
    passed("mse_cost.lesson_values"),
    failed("mse_cost.mean_not_sum", SUM_HINT),
    failed("gradient_step.zeroes_grad", ZERO_GRAD_HINT, score=1.5),
    passed("train_loop.loss_decreases"),
), seconds=2.0)
TIMED_OUT = record("linus", result(
    passed("mse_cost.lesson_values"),
    passed("mse_cost.mean_not_sum"),
    passed("gradient_step.zeroes_grad"),
    errored("train_loop.loss_decreases"),
), verdict="timed out", message="train_loop: timed out after 10 s", seconds=41.5)
NO_FILE = record("margaret", None, verdict="no gradable file",
                 message="no .py or .ipynb file in the entry", seconds=0.01)
NAME_ERROR = "NameError: name 'plot' is not defined"
ODD = record(ODD_ID, result(
    failed("mse_cost.lesson_values", SUM_HINT),
    failed("mse_cost.mean_not_sum", SUM_HINT),  # the same mistake as grace's, twice: 2 students, not 3 checks
    passed("gradient_step.zeroes_grad"),  # train_loop's check is missing from the result
    issues=(RunIssue(IssueKind.CELL_ERROR, "cell 4", NAME_ERROR),),
), verdict="raised errors", message=NAME_ERROR, seconds=5.0)
CLASS = (FULL, WRONG, TIMED_OUT, NO_FILE, ODD)
GRADED = [r for r in CLASS if r.result is not None]


# --- gradebook.csv ------------------------------------------------------------------------


def test_gradebook_parses_back_with_the_exact_header_and_one_row_per_student() -> None:
    text = render_gradebook(LAB_CHECKS, CLASS)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    assert reader.fieldnames == ["student", "score", "max_score", *NAMES, "isolation"]
    assert [row["student"] for row in rows] == [r.student for r in CLASS]
    assert [(row["score"], row["max_score"]) for row in rows] == [
        ("14", "14"), ("9.5", "14"), ("8", "14"), ("0", "14"), ("4", "14")
    ]
    assert rows[1] == {"student": "grace", "score": "9.5", "max_score": "14", "mse_cost.lesson_values": "2",
                       "mse_cost.mean_not_sum": "0", "gradient_step.zeroes_grad": "1.5",
                       "train_loop.loss_decreases": "6", "isolation": ISOLATION}
    assert rows[3]["mse_cost.lesson_values"] == "0"  # no result: every check earns 0
    assert rows[3]["isolation"] == ""  # nothing of it ran
    assert rows[4]["train_loop.loss_decreases"] == "0"  # a check missing from the result earns 0


def test_gradebook_rows_add_up_and_hold_nothing_but_numbers() -> None:
    text = render_gradebook(LAB_CHECKS, CLASS)
    assert "\r" not in text and text.endswith("\n")
    assert len(text.splitlines()) == 1 + len(CLASS)  # no extra rows
    for row in csv.DictReader(io.StringIO(text, newline="")):
        assert sum(float(row[name]) for name in NAMES) == pytest.approx(float(row["score"]))
        assert all(float(row[name]) >= 0 for name in ("score", "max_score", *NAMES))
    for verdict in ("timed out", "no gradable file", "raised errors"):
        assert verdict not in text


def test_gradebook_of_an_empty_class_is_the_header_alone() -> None:
    assert render_gradebook(LAB_CHECKS, []) == "student,score,max_score," + ",".join(NAMES) + ",isolation\n"


def test_gradebook_quotes_ids_with_commas_and_keeps_thirds_exact() -> None:
    third = replace(passed("mse_cost.lesson_values"), score=2 / 3)
    text = render_gradebook(LAB_CHECKS[:1], [record('lee, "jo"', result(third))])
    row = next(csv.DictReader(io.StringIO(text, newline="")))
    assert row == {"student": 'lee, "jo"', "score": "0.666667", "max_score": "14",
                   "mse_cost.lesson_values": "0.666667", "isolation": ISOLATION}


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"grades\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\tcmd", "\r=1"]


@pytest.mark.parametrize("student", FORMULAS, ids=["equals", "plus", "minus", "at", "tab", "carriage-return"])
def test_gradebook_cells_a_spreadsheet_would_run_get_a_quote(student: str) -> None:
    """OWASP's CSV-injection rule: a text cell starting with = + - @ tab or CR gets a leading '."""
    isolation = "=cmd|' /C calc'!A0"  # text cells are all escaped, not only the student's id
    graded = replace(result(passed("mse_cost.lesson_values")), isolation=isolation)
    text = render_gradebook(LAB_CHECKS[:1], [record(student, graded)])
    [header, row] = list(csv.reader(io.StringIO(text, newline="")))
    assert row == ["'" + student.replace("\r", " "), "2", "14", "2", "'" + isolation]  # a CR would start a new row
    assert not [cell for cell in header + row if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


# --- junit.xml ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def test_junit_validates_against_the_schema(junit_schema: xmlschema.XMLSchema) -> None:
    text = render_junit(LAB, CLASS)
    assert text.startswith("<?xml version='1.0' encoding='utf-8'?>\n<testsuites ")
    junit_schema.validate(text)


BROKEN = {
    "misspelled element": ('<testcase classname="c" name="n"/>', '<testcases classname="c" name="n"/>'),
    "testcase without name": ('<testcase classname="c" name="n"/>', '<testcase classname="c"/>'),
    "count that is not a number": ('tests="1"', 'tests="one"'),
    "unknown attribute": ('<failure message="m">', '<failure message="m" severity="high">'),
    "failure outside a testcase": ('</testsuite>', '<failure message="m">x</failure></testsuite>'),
}
VALID = ('<?xml version="1.0"?><testsuites><testsuite name="s" tests="1" failures="1" errors="0">'
         '<testcase classname="c" name="n"/><testcase classname="c" name="f"><failure message="m">x</failure>'
         '</testcase></testsuite></testsuites>')


def test_a_hand_written_junit_document_is_valid(junit_schema: xmlschema.XMLSchema) -> None:
    junit_schema.validate(VALID)


@pytest.mark.parametrize(("old", "new"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_junit_fails_validation(junit_schema: xmlschema.XMLSchema, old: str, new: str) -> None:
    assert old in VALID
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        junit_schema.validate(VALID.replace(old, new, 1))


def test_junit_counts_match_the_checks() -> None:
    root = ET.fromstring(render_junit(LAB, CLASS))
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == [r.student for r in CLASS]
    expected = {  # student: (tests, failures, errors)
        "ada": (4, 0, 0), "grace": (4, 2, 0), "linus": (4, 0, 1), "margaret": (1, 0, 1), ODD_ID: (3, 2, 0),
    }
    for suite in suites:
        cases = suite.findall("testcase")
        counts = (len(cases), sum(c.find("failure") is not None for c in cases),
                  sum(c.find("error") is not None for c in cases))
        assert counts == expected[suite.get("name", "")]
        assert (int(suite.get("tests", "")), int(suite.get("failures", "")), int(suite.get("errors", ""))) == counts
        assert suite.get("skipped") == "0"
    assert (root.get("name"), root.get("tests"), root.get("failures"), root.get("errors")) == (LAB, "16", "4", "2")


def test_junit_carries_properties_and_what_went_wrong() -> None:
    root = ET.fromstring(render_junit(LAB, CLASS))
    grace = root.find("testsuite[@name='grace']")
    assert grace is not None
    props = {p.get("name"): p.get("value") for p in grace.iter("property")}
    assert props == {"score": "9.5", "max_score": "14", "verdict": "ok", "entry": "grace.zip"}
    case = grace.find("testcase[@name='mse_cost.mean_not_sum']")
    assert case is not None and case.get("classname") == "lab2.grace.mse_cost"
    failure = case.find("failure")
    assert failure is not None and failure.get("message") == "off by a factor of 4"
    assert failure.text is not None
    assert "Expected:\ntensor(0.5000)" in failure.text and "Obtained:\ntensor(2.)" in failure.text
    assert "Looks like: you summed the squared errors" in failure.text
    zero_grad = grace.find("testcase[@name='gradient_step.zeroes_grad']/failure")
    assert zero_grad is not None and zero_grad.text is not None and "Hint: you never zeroed" in zero_grad.text

    error = root.find("testsuite[@name='linus']/testcase[@name='train_loop.loss_decreases']/error")
    assert error is not None and error.text is not None and "TimeoutError" in error.text
    out = root.find("testsuite[@name='linus']/testcase[@name='train_loop.loss_decreases']/system-out")
    assert out is not None and out.text == "epoch 1 loss=nan\\x00\n"  # colour codes gone, NUL escaped

    missing = root.find("testsuite[@name='margaret']/testcase")
    assert missing is not None and missing.get("name") == "submission"
    why = missing.find("error")
    assert why is not None and why.get("message") == "no gradable file: no .py or .ipynb file in the entry"


def test_junit_is_identical_across_reruns() -> None:
    slower = [replace(r, seconds=r.seconds * 7 + 1) for r in CLASS]
    assert render_junit(LAB, CLASS) == render_junit(LAB, slower)
    assert "timestamp" not in render_junit(LAB, CLASS) and "hostname" not in render_junit(LAB, CLASS)


# --- gradescope_results.json --------------------------------------------------------------


@pytest.mark.parametrize("student", GRADED, ids=lambda r: r.verdict.replace(" ", "_"))
def test_gradescope_scores_add_up(student: StudentRecord) -> None:
    text = render_gradescope(student)
    assert text.endswith("}\n")
    data = json.loads(text)
    assert list(data) == ["score", "output", "tests", "stdout_visibility"]
    assert data["stdout_visibility"] == "visible"
    assert data["score"] == pytest.approx(sum(test["score"] for test in data["tests"]))
    assert data["score"] == student.score
    assert student.result is not None
    assert len(data["tests"]) == len(student.result.checks)
    for test, check in zip(data["tests"], student.result.checks):
        assert set(test) == {"name", "score", "max_score", "status", "output"}
        assert test["name"] == check.title
        assert test["status"] == ("passed" if check.status is Status.PASSED else "failed")


def test_gradescope_explains_failures_and_problems() -> None:
    grace = json.loads(render_gradescope(WRONG))
    assert "Looks like: you summed the squared errors" in grace["tests"][1]["output"]
    # advice, not a diagnosis: "Looks like: you never zeroed..." would misread it
    assert "Hint: you never zeroed the gradient" in grace["tests"][2]["output"] and "Looks like: you never" not in grace["tests"][2]["output"]
    assert "Expected:\ntensor(0.5000)" in grace["tests"][1]["output"]
    assert grace["output"].startswith("Graded lab2.ipynb: 9.5/14 points, 2 of 4 checks passed.")
    linus = json.loads(render_gradescope(TIMED_OUT))
    assert "timed out" in linus["output"]
    assert "TimeoutError" in linus["tests"][3]["output"]
    odd = render_gradescope(ODD)
    assert "raised errors" in json.loads(odd)["output"]


def test_gradescope_without_a_result_is_one_failed_test() -> None:
    data = json.loads(render_gradescope(NO_FILE))
    assert data["score"] == 0
    assert data["tests"] == [{"name": "Submission", "score": 0, "max_score": 14.0, "status": "failed",
                              "output": "no gradable file: no .py or .ipynb file in the entry"}]


def test_gradescope_keeps_korean_readable() -> None:
    assert "김 철수" in render_gradescope(replace(NO_FILE, message=ODD_ID))


# --- index.html ---------------------------------------------------------------------------


def links(page: str) -> list[str]:
    return re.findall(r'<a href="([^"]*)"', page)


def students_in(table: str) -> list[str]:
    """The student column of a table, link or not, as HTML text."""
    return re.findall(r'<td class="student">(?:<a href="[^"]*">)?([^<]*)', table)


def test_class_index_escapes_ids_and_links_each_graded_student_once() -> None:
    page = render_class_index(LAB, LAB_CHECKS, CLASS)
    assert "<b>" not in page and "김 철수 &lt;b&gt;bold&lt;/b&gt;" in page
    table = page[page.index('<table id="students-table">'):]
    reports = links(table)
    assert [unquote(href) for href in reports] == [f"students/{r.folder}/report.html" for r in GRADED]
    assert "students/%EA%B9%80%20%EC%B2%A0%EC%88%98%20_b_bold__b_/report.html" in reports  # the id's safe folder
    assert "students/margaret/" not in page  # no result, no report to link to


def test_class_index_links_resolve_to_the_files_the_batch_writes(tmp_path: Path) -> None:
    page = render_class_index(LAB, LAB_CHECKS, CLASS)
    for r in GRADED:
        folder = tmp_path / "students" / r.folder
        folder.mkdir(parents=True)
        (folder / "report.html").write_text("report", encoding="utf-8")
    for href in {href for href in links(page) if href.endswith("/report.html")}:
        assert (tmp_path / unquote(href)).is_file(), href
        assert (tmp_path / unquote(href)).parent.parent == tmp_path / "students", href  # one safe folder each


def test_class_index_shows_counts_chart_checks_mistakes_and_verdicts() -> None:
    page = render_class_index(LAB, LAB_CHECKS, CLASS)
    assert '<div class="figure" id="students">5</div>' in page
    assert '<div class="figure" id="ran-cleanly">2</div>' in page
    assert '<div class="figure" id="not-ok">3</div>' in page
    assert 'id="mean">7.1<' in page  # (14 + 9.5 + 8 + 0 + 4) / 5
    assert 'id="median">8<' in page
    chart = page[page.index('<svg class="chart"'):page.index("</svg>")]
    assert chart.count("<rect ") == 11
    assert "<title>1 student: 100%</title>" in chart
    assert "<title>1 student: 0–9%</title>" in chart  # margaret, without a result
    assert "<title>1 student: 20–29%</title>" in chart  # 4 / 14
    assert "<title>0 students: 90–99%</title>" in chart
    for verdict in ("timed out", "no gradable file", "raised errors"):
        assert f">{verdict}</span>" in page
    mistakes = page[page.index('id="mistakes"'):]
    assert mistakes.index("you summed the squared errors") < mistakes.index("you never zeroed the gradient")
    assert "2×" in mistakes and "3×" not in mistakes  # students with the mistake, however many checks name it
    assert "<script" not in page.lower()


def test_class_index_lists_problems_and_the_slowest_first() -> None:
    page = render_class_index(LAB, LAB_CHECKS, CLASS)
    odd = "김 철수 &lt;b&gt;bold&lt;/b&gt;"
    problems = page[page.index('<table id="problems">'):page.index('id="slowest-title"')]
    assert students_in(problems) == ["linus", "margaret", odd]
    assert "train_loop: timed out after 10 s" in problems
    slowest = page[page.index('<table id="slowest">'):page.index('id="students-title"')]
    assert students_in(slowest) == ["linus", odd, "ada", "grace", "margaret"]
    assert ">41.5</td>" in slowest


def test_class_index_of_an_empty_class_renders() -> None:
    page = render_class_index(LAB, LAB_CHECKS, [])
    assert '<div class="figure" id="students">0</div>' in page
    assert "Every submission ran cleanly." in page


# --- index.html in a real browser ---------------------------------------------------------




def test_browser_reads_the_class_index(tmp_path: Path) -> None:
    index = tmp_path / "index.html"
    index.write_text(render_class_index(LAB, LAB_CHECKS, CLASS), encoding="utf-8")
    dom = chromium(index, tmp_path, "--dump-dom")
    assert "<title>lab2: class results · 5 students</title>" in dom
    assert "김 철수 &lt;b&gt;bold&lt;/b&gt;" in dom and "<b>bold</b>" not in dom
    distribution = dom[dom.index('id="distribution"'):]
    assert len(re.findall(r"<rect ", distribution[:distribution.index("</svg>")])) == 11
    assert len(re.findall(r'<table id="students-table">.*?</table>', dom, re.S)) == 1


def test_browser_screenshot_of_the_class_index(tmp_path: Path) -> None:
    index = tmp_path / "index.html"
    index.write_text(render_class_index(LAB, LAB_CHECKS, CLASS), encoding="utf-8")
    shot = tmp_path / "shot.png"
    chromium(index, tmp_path, f"--screenshot={shot}", "--window-size=1200,1800")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few kilobytes
