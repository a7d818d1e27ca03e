"""The words people read, in English and Korean: one message table per language.

`grader/messages/en.toml` and `ko.toml` hold every message by key (tests fail when a key or
a `{placeholder}` exists in one table only). The labs write their check titles and mistake
hints in English in their own files; `ko_labs.toml` translates them, keyed by the English
text as gettext keys by msgid (a test fails when a lab's title or hint has no translation). The language is `--lang ko|en`, else the
locale (LC_ALL, LC_MESSAGES, LANG: "ko..." gives Korean), else English.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from importlib import resources
from typing import Any

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


@cache
def lab_texts(lang: str) -> dict[str, dict[str, str]]:
    """The labs' titles and hints in `lang`, by their English text ({} for English itself)."""
    if lang == "en":
        return {"titles": {}, "hints": {}}
    file = resources.files("grader").joinpath("messages", f"{lang}_labs.toml")
    data = tomllib.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}
    return {"titles": dict(data.get("titles", {})),
            "hints": {_looks_like_stripped(k): v for k, v in data.get("hints", {}).items()}}


class Messages:
    """`t("key", name=value)`: the message in this language, its placeholders filled."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang
        self._table = table(lang)

    def __call__(self, key: str, **values: Any) -> str:
        return self._table[key].format(**values)

    def count(self, key: str, count: int, **values: Any) -> str:
        """A message about `count` things: `key.one` for exactly one, else `key.other`."""
        return self(f"{key}.{'one' if count == 1 else 'other'}", count=count, **values)

    def title(self, english: str) -> str:
        """A lab's check title in this language (as written where no translation exists)."""
        return lab_texts(self.lang)["titles"].get(english, english)

    def hint(self, english: str) -> str:
        """A mistake's diagnosis, its leading "looks like" dropped, in this language."""
        text = _looks_like_stripped(english)
        return lab_texts(self.lang)["hints"].get(text, text)

    def has(self, key: str) -> bool:
        return key in self._table
