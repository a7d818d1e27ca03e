"""What the terminal and HTML reports both show: checks grouped by function, tidy text.

Nothing here computes a score: per-function totals are read from the result's own
JSON form, so every report agrees with the JSON file to the last digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from grader.results import CheckResult, GradeResult, IssueKind, Status
from grader.sources import ANSI_ESCAPE, FunctionSource  # IPython tracebacks from a kernel carry colour codes

if TYPE_CHECKING:
    from grader.i18n import Messages

# Both reports label a hint "Looks like"; hints may be written to read on their own too.
_LOOKS_LIKE = re.compile(r"^\s*looks like\b:?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Section:
    """The checks of one graded function, in the order the lab lists them."""

    function: str
    checks: tuple[CheckResult, ...]
    # None for checks whose function the lab does not list: no total was recorded.
    score: float | None
    max_score: float | None

    @property
    def passed(self) -> int:
        return sum(1 for check in self.checks if check.status is Status.PASSED)

    @property
    def state(self) -> str:
        """'full', 'partial' or 'none': how the points went, for colouring."""
        if self.score is None or self.max_score is None:
            return "partial"
        if self.score >= self.max_score:
            return "full"
        return "partial" if self.score > 0 else "none"


def sections(result: GradeResult) -> tuple[Section, ...]:
    """One section per function in `result.functions` order, then any unlisted ones."""
    totals = {
        entry["name"]: (entry["score"], entry["max_score"])
        for entry in result.to_dict()["functions"]
    }
    names = dict.fromkeys([*result.functions, *(check.function for check in result.checks)])
    built = []
    for name in names:
        score, max_score = totals.get(name, (None, None))
        built.append(Section(name, result.checks_for(name), score, max_score))
    return tuple(built)


def shared_grader_error(checks: tuple[CheckResult, ...] | list[CheckResult]) -> tuple[str, int]:
    """The message of the grader's own failure when several checks share it (nothing of the student's
    could be run, say), and how many share it: the reports say it once, above the checks, instead of
    after each. ("", 0) when no two grader errors share a message."""
    messages = [c.message for c in checks if c.status is Status.GRADER_ERROR and c.message]
    top = max(dict.fromkeys(messages), key=messages.count, default="")  # (a tie: the first in check order)
    count = messages.count(top)
    return (top, count) if count >= 2 else ("", 0)


def repeated(checks: tuple[CheckResult, ...]) -> dict[str, str]:
    """What a function's checks repeat of an earlier one of them, by check name: "all" when
    the message, hint, values and error are those of an earlier check (one error fails the four checks
    of a function alike), "hint" when only the hint is (one mistake, different numbers). The reports
    say it once and "the same as above" after; the JSON report keeps every check whole."""
    seen: set[tuple[str, str, str, str, str]] = set()
    hints: set[str] = set()
    found = {}
    for check in checks:
        if check.status is Status.GRADER_ERROR or (check.status is Status.PASSED and check.message == "passed"):
            continue  # (grader errors: `shared_grader_error`; a passed check's own message may say more)
        whole = (check.message, check.hint, check.expected, check.obtained, last_line(check.traceback))
        if whole in seen and (check.message or check.hint):
            found[check.name] = "all"
        elif check.hint and check.hint in hints:
            found[check.name] = "hint"
        seen.add(whole)
        if check.hint:
            hints.add(check.hint)
    return found


def nothing_loaded(result: GradeResult) -> bool:
    """Whether the `.py` file's top level failed and no check passed: its error (a SyntaxError, say)
    explains every check, and the reports put it first, not after them."""
    failed = any(i.kind in (IssueKind.LOAD_ERROR, IssueKind.LOAD_TIMEOUT) for i in result.issues)
    return failed and bool(result.checks) and not any(c.status is Status.PASSED for c in result.checks)


def replaced_note(source: FunctionSource, t: Messages) -> str:
    """What the reports say of a function defined more than once (a scratch cell redefining it): where
    its other definitions are, and that the last is the one graded; "" for one definition."""
    if not source.replaced:
        return ""
    return t("report.replaced", name=source.name, places=", ".join(t.detail(p) for p in source.replaced),
             place=t.detail(source.place))


def number(value: float) -> str:
    """A score for people: 2, 1.5, 0.33 (never 2.0)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def points(score: float | None, max_score: float | None) -> str:
    if score is None or max_score is None:
        return ""
    return f"{number(score)}/{number(max_score)}"


def percent(score: float, max_score: float) -> int:
    """Width of a progress bar, 0..100."""
    if max_score <= 0:
        return 0
    return max(0, min(100, round(100 * score / max_score)))


# Control characters (C0 but newline and tab, DEL, C1), the bidirectional marks and overrides and the
# Unicode line and paragraph separators: what starts a
# terminal's escape sequences (a clipboard write, a window title, a reset) or turns text around.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """Text to show: colour codes taken out, line ends made newlines, and every other control character
    shown as an escape (`\\x1b`), never sent to a terminal."""
    text = ANSI_ESCAPE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(_shown, text)


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def is_diagnosis(text: str) -> bool:
    """Whether a hint names a mistake ("looks like sum instead of mean") rather than gives advice."""
    return _LOOKS_LIKE.match(plain(text)) is not None


def same_hint_key(text: str) -> str:
    """The words for a hint said above: "the same mistake as above" after "looks like", "the same as
    above" after "hint"."""
    return "report.same_mistake_as_above" if is_diagnosis(text) else "report.same_as_above"


def labelled_hint(text: str, t: Messages) -> str:
    """A hint as the plain-text reports show it, in `t`'s language: "Looks like: ..." for a diagnosis,
    "Hint: ..." for advice."""
    return f"{t('plain.looks_like' if is_diagnosis(text) else 'plain.hint')}: {t.hint(text)}"


def hint(text: str) -> str:
    """A check's hint without its own leading "looks like", which the reports supply."""
    return _LOOKS_LIKE.sub("", plain(text), count=1)


def last_line(text: str) -> str:
    """The last non-blank line: for a traceback, the exception and its message."""
    lines = [line.strip() for line in plain(text).splitlines() if line.strip()]
    return lines[-1] if lines else ""
