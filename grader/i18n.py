"""The words people read, in English and Korean: one message table per language.

`grader/messages/en.toml` and `ko.toml` hold every message by key (tests fail when a key or
a `{placeholder}` exists in one table only). The language is `--lang ko|en`, else the
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

    def has(self, key: str) -> bool:
        return key in self._table
