"""The terminal report: one line per check, details only where something went wrong.

Every piece of student-provided text goes in as `rich.text.Text`, never as markup, so
brackets in a message cannot restyle the report. Status words stand beside the marks
(✓/✗ for checks, ! for problems while the code ran) so the report reads the same when
piped or printed without colour; rich leaves colour out when it is not a terminal.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from grader.i18n import Messages

from grader.reporting._view import (
    Section,
    last_line,
    nothing_loaded,
    number,
    plain,
    points,
    repeated,
    replaced_note,
    same_hint_key,
    sections,
    shared_grader_error,
)
from grader.results import CheckResult, GradeResult, IssueKind, RunIssue, Status
from grader.sources import error_place

TRUNCATED = "[... output truncated ...]"  # where the runner stopped keeping output (grader/runner/channel.py)

__all__ = ["render_terminal"]

_MARKS: dict[Status, tuple[str, str]] = {  # a sign and a word beside every colour
    Status.PASSED: ("✓", "green"),
    Status.FAILED: ("✗", "red"),
    Status.ERROR: ("✗", "magenta"),
    Status.GRADER_ERROR: ("!", "yellow"),  # the grader's fault: the message says so
}
_STATE_STYLES = {"full": "bold green", "partial": "bold yellow", "none": "bold red"}
_TIMEOUTS = (IssueKind.CELL_TIMEOUT, IssueKind.LOAD_TIMEOUT)
# Expected and obtained values can be whole tensors; the HTML report has them in full.
_DETAIL_LINES = 4


def render_terminal(result: GradeResult, console: Console | None = None, lang: str = "en") -> None:
    """Print the report for `result` on `console` (a plain stdout console by default), in `lang`."""
    console = console or Console(highlight=False)
    t = Messages(lang)
    console.print(_header(result, t))
    shared, count = shared_grader_error(result.checks)
    if shared:
        console.print()
        mark = Text.assemble("  ", (f"! {t('terminal.mark.grader_error')}", "bold yellow"))
        console.print(_Row([(mark, mark.cell_len)], Text(t("terminal.shared_grader_error", count=count,
                                                             message=plain(t.detail(shared))))))
    first = nothing_loaded(result)  # (the error that explains every check, before them)
    if first:
        console.print()
        console.print(_issues(result.issues, t))
    all_sections = sections(result)
    width = max((len(points(c.score, c.max_score)) for c in result.checks), default=3)
    notes = {source.name: replaced_note(source, t) for source in result.sources}
    for section in all_sections:
        console.print()
        console.print(_section_heading(section))
        if notes.get(section.function):
            console.print(_Row([(Text(""), 1)], Text(plain(notes[section.function]), style="yellow")))
        console.print(_checks(section.checks, width, t, shared))
    if not all_sections:
        console.print(Text("\n" + t("terminal.no_checks"), style="bold red"))
    if result.issues and not first:
        console.print()
        console.print(_issues(result.issues, t))
    if result.stderr.strip():
        console.print()
        note = "terminal.flood_note" if TRUNCATED in result.stderr else "terminal.stderr_note"
        console.print(_Row([], Text(t(note), style="yellow")))
    console.print()
    console.print(_total(result, t))


def _header(result: GradeResult, t: Messages) -> Group:
    title = Text.assemble((t("terminal.lab") + " ", "bold"), (result.lab, "bold cyan"), ("  ·  ", "dim"))
    title.append(plain(result.graded_file), style="bold")
    if not result.selection:
        return Group(title)
    why = Text("  " + t("terminal.graded_because"), style="dim")
    return Group(title, _Row([(why, why.cell_len)], Text(plain(t.detail(result.selection)))))


def _section_heading(section: Section) -> Text:
    heading = Text(section.function, style="bold")
    score = points(section.score, section.max_score)
    if score:
        heading.append("  ")
        heading.append(score, style=_STATE_STYLES[section.state])
    return heading


def _checks(checks: tuple[CheckResult, ...], points_width: int, t: Messages, shared: str = "") -> Group:
    rows: list[RenderableType] = []
    words = {status: f"{sign} {t('terminal.mark.' + status.value)}" for status, (sign, _) in _MARKS.items()}
    mark_width = 2 + max(cell_len(word) for word in words.values())
    again = repeated(checks)
    for check in checks:
        mark = Text.assemble("  ", (words[check.status], f"bold {_MARKS[check.status][1]}"))
        score = Text(points(check.score, check.max_score).rjust(points_width))
        said = check.status is Status.GRADER_ERROR and check.message == shared
        if again.get(check.name) == "all":
            line = _headline(check, t, with_message=False)
            line.append(" — ", style="dim")
            line.append(t("report.same_as_above"), style="dim")
            rows.append(_Row([(mark, mark_width), (score, points_width)], line))
            continue
        rows.append(_Row([(mark, mark_width), (score, points_width)], _headline(check, t, with_message=not said)))
        if check.status is not Status.PASSED:
            indent = Text(" " * (mark_width + 1 + points_width))
            rows.extend(
                _Row([(indent, len(indent)), (label, label_width)], value)
                for label, label_width, value in _details(check, t, hint_again=check.name in again)
            )
    return Group(*rows)


class _Row:
    """One line: cells of fixed width, then text that wraps under itself (a hanging indent).

    Rich tables pad every wrapped line to the column's width; this keeps piped output
    free of trailing blanks.
    """

    def __init__(self, fixed: list[tuple[Text, int]], last: Text) -> None:
        self.prefix = Text()
        for text, width in fixed:
            cell = text.copy()
            cell.truncate(width, pad=True)
            self.prefix.append_text(cell)
            self.prefix.append(" ")
        self.last = last

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        indent = self.prefix.cell_len
        width = max(options.max_width - indent, 20)
        for number, line in enumerate(self.last.wrap(console, width, overflow="fold")):
            line.rstrip()
            yield (self.prefix if number == 0 else Text(" " * indent)) + line


def _headline(check: CheckResult, t: Messages, with_message: bool = True) -> Text:
    line = Text()
    line.append(t.title(check.title), style="bold")
    if check.message and with_message:
        line.append(" — ", style="dim")
        line.append(plain(t.detail(check.message)))
    return line


def _details(check: CheckResult, t: Messages, hint_again: bool = False) -> list[tuple[Text, int, Text]]:
    """(label, label column width, value) for each detail line of a check that did not pass
    (`hint_again`: its hint is an earlier check's, said there)."""
    details: list[tuple[str, str, Text]] = []
    if check.expected:
        details.append((t("terminal.expected"), "dim", _short(t.detail(check.expected), t)))
    if check.obtained:
        details.append((t("terminal.obtained"), "dim", _short(t.detail(check.obtained), t)))
    if check.hint:
        said = t(same_hint_key(check.hint)) if hint_again else plain(t.hint(check.hint))
        details.append((t.hint_label(check.hint, "terminal"), "bold yellow", Text(said)))
    if check.traceback:
        details.append((t("terminal.raised"), "dim", Text(last_line(check.traceback))))
    width = max((cell_len(label) for label, _, _ in details), default=0)
    return [(Text(label, style=style), width, value) for label, style, value in details]


def _short(value: str, t: Messages) -> Text:
    lines = plain(value).rstrip().splitlines() or [""]
    text = Text("\n".join(lines[:_DETAIL_LINES]))
    if len(lines) > _DETAIL_LINES:
        hidden = len(lines) - _DETAIL_LINES
        text.append("\n" + t("terminal.more_lines", count=hidden), style="dim")
    return text


def _issues(issues: tuple[RunIssue, ...], t: Messages) -> Group:
    words = ["! " + t("terminal.timeout" if issue.kind in _TIMEOUTS else "terminal.error") for issue in issues]
    word_width = max(cell_len(word) for word in words)
    where_width = max(cell_len(plain(t.detail(issue.where))) for issue in issues)
    rows: list[RenderableType] = [Text(t("report.problems"), style="bold red")]
    for word, issue in zip(words, issues):
        detail = Text()
        detail.append(f"{t('issue.' + issue.kind.value)}: ", style="dim")
        raised = last_line(issue.traceback)  # (the message, where it says more: a file next to the submission)
        detail.append(raised if raised and not issue.message.startswith(raised + ";") else plain(t.detail(issue.message)))
        place = error_place(issue.traceback)
        if place is not None:
            detail.append("\n" + t("terminal.at_line", line=place[0], code=plain(place[1])), style="dim")
        rows.append(
            _Row(
                [
                    (Text("  " + word, style="bold red"), word_width + 2),
                    (Text(plain(t.detail(issue.where)), style="bold"), where_width),
                ],
                detail,
            )
        )
    return Group(*rows)


def public_only_note(result: GradeResult, t: Messages) -> str:
    """What a student kit's score covers: its public checks, not the hidden ones it left out."""
    return t("report.public_only", count=len(result.checks), hidden=result.hidden.checks,
             points=number(result.hidden.points))


def _total(result: GradeResult, t: Messages) -> Text:
    style = "bold green" if result.full_marks else "bold"
    total = Text.assemble((t("terminal.score") + " ", "bold"), (points(result.score, result.max_score), style))
    if result.full_marks and result.checks:
        total.append("  " + t("terminal.full_marks"), style="green")
    if result.hidden.checks:
        total.append("\n" + public_only_note(result, t), style="yellow")
    return total
