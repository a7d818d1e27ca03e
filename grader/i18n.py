"""The words people read, in English and Korean: one message table per language.

`grader/messages/en.toml` and `ko.toml` hold every message by key (tests fail when a key or
a `{placeholder}` exists in one table only). The labs write their check titles and mistake
hints in English in their own files; `ko_labs.toml` translates them, keyed by the English
text as gettext keys by msgid (a test fails when a lab's title or hint has no translation).

What a check computes (its message, its expected and obtained values, a run's issues) is
written in English from parts: "{what} is wrong ({detail})" with `what` itself made from
"{name} after training {where}" and so on. `ko_labs.toml`'s `[details]` holds those patterns
and their Korean; `Messages.detail` reads an English text back through them, each part
translated in turn or kept when it is code ("mse_cost", "[0, 1]", "nn.Linear(1, 1)"). A text
no pattern reads stays English. The language is `--lang ko|en`, else the locale (LC_ALL,
LC_MESSAGES, LANG: "ko..." gives Korean), else English.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from .korean import particles

LANGUAGES = ("en", "ko")


def language(explicit: str | None = None, environ: dict[str, str] | None = None) -> str:
    """The language to speak: an explicit choice, else the first locale variable set."""
    if explicit:
        return explicit
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


@cache
def table(lang: str) -> dict[str, str]:
    """Every message of one language, by dotted key."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose from {', '.join(LANGUAGES)}")
    text = resources.files("grader").joinpath("messages", f"{lang}.toml").read_text(encoding="utf-8")
    return _flatten(tomllib.loads(text))


def _looks_like_stripped(text: str) -> str:
    from grader.reporting._view import hint

    return hint(text).strip()


SECTIONS = ("titles", "hints", "details")
LABS_ENV = "GRADER_LABS"  # (grader.labs.ENV: the instructor's lab folders, whose own words join the course's)


def _labs_table(lang: str) -> dict[str, Any]:
    """The labs' words keyed by their English ({} for English itself): `{lang}_labs.toml`, and each lab's
    own `{lang}.toml` in its folder (an instructor's lab brings its titles, hints and patterns)."""
    return _labs_table_for(lang, os.environ.get(LABS_ENV, ""))


@cache
def _labs_table_for(lang: str, _labs: str) -> dict[str, Any]:
    if lang == "en":
        return {}
    file = resources.files("grader").joinpath("messages", f"{lang}_labs.toml")
    merged: dict[str, Any] = {k: dict(v) for k, v in tomllib.loads(file.read_text(encoding="utf-8")).items()} \
        if file.is_file() else {}
    for own in lab_words(lang).values():
        for section in SECTIONS:
            merged.setdefault(section, {}).update(own.get(section, {}))
    return merged


def lab_words(lang: str) -> dict[str, dict[str, dict[str, str]]]:
    """Each lab's own `{lang}.toml` (sections titles, hints, details), by lab; a file that cannot be read is
    left out here (`grade check-lab` says why: read_lab_words)."""
    from .errors import GraderError
    from .labs import lab_folders

    try:
        folders = lab_folders()
    except GraderError:  # (a broken GRADER_LABS: said where the labs are looked up)
        return {}
    found = {}
    for name, folder in folders.items():
        try:
            found[name] = read_lab_words(folder, lang)
        except ValueError:
            continue
    return {k: v for k, v in found.items() if v}


def read_lab_words(folder: Any, lang: str) -> dict[str, dict[str, str]]:
    """A lab folder's `{lang}.toml` ({} if it has none); ValueError saying what is wrong with it."""
    file = folder / f"{lang}.toml"
    if not file.is_file():
        return {}
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{file.name} cannot be read: {exc}") from None
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ValueError(f"{file.name} has [{unknown[0]}]; its sections are {', '.join(f'[{s}]' for s in SECTIONS)}")
    for section, words in data.items():
        if not isinstance(words, dict) or not all(isinstance(v, str) for v in words.values()):
            raise ValueError(f"{file.name}: [{section}] must hold \"English\" = \"translation\" lines")
    return {section: dict(words) for section, words in data.items()}


def lab_texts(lang: str) -> dict[str, dict[str, str]]:
    """The labs' titles and hints in `lang`, by their English text ({} for English itself)."""
    return _lab_texts(lang, os.environ.get(LABS_ENV, ""))


@cache
def _lab_texts(lang: str, _labs: str) -> dict[str, dict[str, str]]:
    data = _labs_table(lang)
    return {"titles": dict(data.get("titles", {})),
            "hints": {_looks_like_stripped(k): v for k, v in data.get("hints", {}).items()}}


#: Placeholders that hold words, read through the patterns in turn (or kept when they are code).
TEXT = frozenset({"what", "where", "data", "detail", "desc", "want", "problem", "label", "when", "status", "value"})
#: Placeholders kept word for word: Python's own messages, names and reprs from the student's code.
VERBATIM = frozenset({"error", "reason", "probe", "linear_type", "params", "head", "path", "known", "names",
                       "verdicts", "file", "other", "py", "notebook", "command"})
# Any other placeholder holds code ("mse_cost", "0.05", "(3, 1)") and is kept as it is.
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}|'[^']*'|\"[^\"]*[\"]")


@dataclass(frozen=True)
class Pattern:
    """An English pattern split at its placeholders (literal, name, literal, ..., literal)."""

    pieces: tuple[str, ...]
    target: str

    @classmethod
    def parse(cls, english: str, target: str) -> Pattern:
        parts = _PLACEHOLDER.split(english)  # literal, name, literal, ...
        for literal in parts[2:-1:2]:
            if not literal:
                raise ValueError(f"two placeholders side by side in {english!r}")
        return cls(tuple(parts), target)

    def splits(self, text: str) -> Iterator[dict[str, str]]:
        """Every way `text` reads as this pattern: the placeholders' values, shortest first."""
        yield from self._splits(text, 0, 0, {})

    def _splits(self, text: str, at: int, index: int, found: dict[str, str]) -> Iterator[dict[str, str]]:
        literal = self.pieces[index]
        if not text.startswith(literal, at):
            return
        start = at + len(literal)
        if index == len(self.pieces) - 1:
            if start == len(text):
                yield found
            return
        name, following = self.pieces[index + 1], self.pieces[index + 2]
        if index + 2 == len(self.pieces) - 1:  # the last placeholder runs to the closing literal
            end = len(text) - len(following)
            if end > start and text.endswith(following):
                yield {**found, name: text[start:end]}
            return
        end = text.find(following, start + 1)
        while end != -1:
            yield from self._splits(text, end, index + 2, {**found, name: text[start:end]})
            end = text.find(following, end + 1)


@dataclass(frozen=True)
class Details:
    exact: dict[str, str]
    patterns: tuple[Pattern, ...]  # in the table's order: whole sentences first, then their parts


def details(lang: str) -> Details:
    """The `[details]` patterns of `lang` (none for English)."""
    return _details(lang, os.environ.get(LABS_ENV, ""))


@cache
def _details(lang: str, _labs: str) -> Details:
    table = _labs_table(lang).get("details", {})
    exact = {k: v for k, v in table.items() if not _PLACEHOLDER.search(k)}
    patterns = [Pattern.parse(k, v) for k, v in table.items() if _PLACEHOLDER.search(k)]
    return Details(exact, tuple(patterns))


def looks_like_code(text: str) -> bool:
    """A value or an expression, not words: no spaces outside brackets and quotes ("[0, 1]")."""
    if not text.strip():
        return False
    previous = None
    while previous != text:
        previous, text = text, _BRACKETED.sub("", text)
    return not any(c.isspace() for c in text)


def translate_detail(lang: str, english: str) -> str | None:
    """`english` read through `lang`'s patterns, or None when some part of it has no translation."""
    return _translate(lang, english, os.environ.get(LABS_ENV, ""))


@lru_cache(maxsize=4096)
def _translate(lang: str, english: str, _labs: str) -> str | None:
    table = details(lang)
    if english in table.exact:
        return table.exact[english]
    for pattern in table.patterns:
        if not all(literal in english for literal in pattern.pieces[::2]):
            continue
        for values in pattern.splits(english):
            filled = {}
            for name, value in values.items():
                translated = _part(lang, name, value)
                if translated is None:
                    break
                filled[name] = translated
            else:
                said = _PLACEHOLDER.sub(lambda m: filled[m.group(1)], pattern.target)
                return particles(said) if lang == "ko" else said
    return english if looks_like_code(english) else None


def _part(lang: str, name: str, value: str) -> str | None:
    if name in VERBATIM:
        return value
    if name == "title":  # a check's title, as the report shows it (as written where the lab gives none)
        return lab_texts(lang)["titles"].get(value, value)
    if name in TEXT:
        return translate_detail(lang, value)
    return value if looks_like_code(value) else None


class Messages:
    """`t("key", name=value)`: the message in this language, its placeholders filled."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang
        self._table = table(lang)

    def __call__(self, key: str, **values: Any) -> str:
        return self._fit(self._table[key].format(**values))

    def _fit(self, text: str) -> str:
        return particles(text) if self.lang == "ko" else text

    def count(self, key: str, count: int, **values: Any) -> str:
        """A message about `count` things: `key.one` for exactly one, else `key.other`."""
        return self(f"{key}.{'one' if count == 1 else 'other'}", count=count, **values)

    def title(self, english: str) -> str:
        """A lab's check title in this language (as written where no translation exists)."""
        return self._fit(lab_texts(self.lang)["titles"].get(english, english))

    def hint_label(self, english: str, where: str) -> str:
        """The words before a hint (`where`: "report" or "terminal"): "looks like" for a diagnosis
        (a hint that starts so), "hint" for advice ("compute the cost with torch operations...")."""
        from grader.reporting._view import is_diagnosis

        return self(f"{where}.looks_like" if is_diagnosis(english) else f"{where}.hint")

    def hint(self, english: str) -> str:
        """A mistake's diagnosis, its leading "looks like" dropped, in this language."""
        text = _looks_like_stripped(english)
        found = lab_texts(self.lang)["hints"].get(text)
        if found is None and self.lang != "en":  # a hint a check computes ("dW must have the shape of W ...")
            found = translate_detail(self.lang, text)
        return self._fit(found) if found is not None else text

    def detail(self, english: str) -> str:
        """A computed message or value in this language, English where no pattern reads it."""
        if self.lang == "en" or not english:
            return english
        return translate_detail(self.lang, english) or english

    def has(self, key: str) -> bool:
        return key in self._table

    def verdict(self, name: str) -> str:
        """A batch verdict ("timed out") in this language (as it is where no word exists)."""
        return self(f"verdict.{name}") if self.has(f"verdict.{name}") else name
