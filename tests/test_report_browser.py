"""Student and class reports as a real browser shows them, in English and Korean.

Three real lab 2 grades (the solution, one that forgets `zero_grad`, one whose functions
exit) are rendered in both languages and opened in headless Chromium through Playwright:
no console errors, the pictures present and visible with their text alternatives, the
page in the chosen language, and a screenshot of each kept under `test-artifacts/`.
Skipped where Chromium is missing, except on CI (the variable CI is set), which installs it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, SUBMISSIONS, apply_override, find_chromium
from grader.results import GradeResult

ARTIFACTS = Path(os.environ.get("GRADER_TEST_ARTIFACTS", ROOT / "test-artifacts"))
CASES = ("right", "half_wrong", "crashing")
# Words only the chosen language's page has (headings the report always shows).
WORDS = {"en": ("Grading report", "Summary", "Function"), "ko": ("채점 보고서", "요약", "함수")}
FOREIGN = {"en": ("채점 보고서", "요약"), "ko": ("Grading report", "Summary", "Full marks")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, GradeResult]:
    from grader.pipeline import grade

    folders = {case: tmp_path_factory.mktemp(case) for case in CASES}
    return {
        "right": grade(ROOT / "solutions" / "lab2" / "lab2.py", "lab2"),
        "half_wrong": grade(apply_override(SUBMISSIONS / "lab2" / "overrides" / "forgets_zero_grad.py", "py",
                                           folders["half_wrong"]), "lab2"),
        "crashing": grade(apply_override(SUBMISSIONS / "lab2" / "overrides" / "exits_inside_functions.py", "py",
                                         folders["crashing"]), "lab2"),
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = find_chromium()
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield launched
        launched.close()


def open_page(browser: Any, path: Path) -> tuple[Any, list[str]]:
    """The page, and every console error or uncaught exception it produced while loading."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(path.as_uri())
    return page, problems


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    return shot


def test_the_pictures_come_from_the_students_own_values(graded: dict[str, GradeResult]) -> None:
    right, half, crashing = graded["right"], graded["half_wrong"], graded["crashing"]
    assert [f.kind for f in right.figures] == ["cost_over_epochs", "fitted_line"]
    for figure in right.figures:  # the solution's curves and lines lie on the reference's
        mine = next(s for s in figure.series if s.role == "yours")
        theirs = next(s for s in figure.series if s.role == "reference")
        assert mine.y == pytest.approx(theirs.y, rel=1e-4)
    costs = next(f for f in half.figures if f.kind == "cost_over_epochs")
    mine, theirs = (next(s for s in costs.series if s.role == role) for role in ("yours", "reference"))
    assert mine.y[0] == pytest.approx(theirs.y[0]) and mine.y[-1] != pytest.approx(theirs.y[-1], rel=1e-2)
    assert costs.facts["last"] != costs.facts["ref_last"]
    assert crashing.figures == ()  # nothing came back: no picture, the checks say why
    again = GradeResult.from_dict(right.to_dict())  # figures survive the JSON (batches re-render from it)
    assert again.to_dict() == right.to_dict() and json.dumps(again.to_dict()) == json.dumps(right.to_dict())


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("case", CASES)
def test_student_report_in_a_browser(case: str, lang: str, graded: dict[str, GradeResult], browser: Any,
                                     tmp_path: Path) -> None:
    from grader.reporting import write_html

    result = graded[case]
    path = tmp_path / "report.html"
    write_html(result, path, lang)
    page, problems = open_page(browser, path)
    assert problems == []
    assert page.evaluate("document.documentElement.lang") == lang
    text = page.locator("body").text_content()  # the words as written (CSS capitalises some)
    assert all(word in text for word in WORDS[lang]), text[:400]
    assert not any(word in text for word in FOREIGN[lang])
    charts = page.locator("figure.picture svg.chart")
    assert charts.count() == len(result.figures) == (0 if case == "crashing" else 2)
    for i in range(charts.count()):
        chart = charts.nth(i)
        box = chart.bounding_box()
        assert chart.is_visible() and box["width"] > 300 and box["height"] > 150, box
        assert chart.locator("polyline").count() >= 2  # the student's line and the reference's
        description = chart.locator("desc").text_content()
        assert description and re.search(r"\d", description)  # the text alternative quotes the numbers
        caption = page.locator("figure.picture figcaption").nth(i).inner_text()
        assert description in caption  # and it is on the page, for everyone
    assert "+ -" not in text  # a negative bias reads y = 2.19·x − 0.224
    titles = page.locator("article.check h3").all_text_contents() + page.locator("p.hint").all_text_contents()
    assert titles and all(bool(re.search("[가-힣]", title)) == (lang == "ko") for title in titles), titles
    if lang == "ko" and result.figures:
        assert "모범 답안" in text and "여러분" in text
    page.emulate_media(media="print")  # printed: the pictures stay
    assert all(charts.nth(i).is_visible() for i in range(charts.count()))
    page.emulate_media(media="screen")
    assert screenshot(page, f"report-{case}-{lang}").stat().st_size > 20_000
    page.close()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_class_report_in_a_browser(lang: str, graded: dict[str, GradeResult], browser: Any, tmp_path: Path) -> None:
    from test_batch_reporting import CLASS

    from grader.reporting.classindex import render_class_index
    from grader.results import Status

    checks = tuple(replace(c, status=Status.PASSED, score=c.max_score) for c in graded["right"].checks)
    path = tmp_path / "index.html"
    path.write_text(render_class_index("lab2", checks, CLASS, lang), encoding="utf-8")
    page, problems = open_page(browser, path)
    assert problems == []
    text = page.locator("body").text_content()
    expected = ("점수 분포", "가장 많이 나온 실수", "제출물별 채점 시간", "시간 초과") if lang == "ko" else \
        ("Score distribution", "Most frequent mistakes", "Time per submission", "timed out")
    assert all(word in text for word in expected)
    for selector in ("svg#distribution", "svg.chart.bars"):
        chart = page.locator(selector)
        assert chart.is_visible() and chart.bounding_box()["height"] > 80
    assert page.locator("svg.chart.bars rect.bar").count() >= 2  # seconds 0.01 to 41.5: several bands
    assert "41.5" in page.locator("svg.chart.bars desc").text_content()
    assert screenshot(page, f"class-index-{lang}").stat().st_size > 20_000
    page.close()
