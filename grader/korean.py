"""Korean particles that depend on the word before them: 을/를, 이/가, 은/는, 과/와.

A message template cannot know whether `{name}` ends in a consonant ("train" is read 트레인,
"mse_cost" 코스트), so the tables write both forms, "{name}을(를)", and `particles` picks one
from how the word before it is read: a Hangul syllable by its final consonant, a digit by its
Korean name (3 is 삼, 2 is 이), a code name by how its last letters are read in Korean (l, m, n
and -ng, and p or k after a vowel, end in a consonant: 모델, 트레인, 스텝; -er is 어: 텐서).
Where nothing can be read (a symbol), both forms stay.
"""

from __future__ import annotations

import re

_PAIRS = {"을(를)": ("을", "를"), "이(가)": ("이", "가"), "은(는)": ("은", "는"), "과(와)": ("과", "와")}
_PAIR = re.compile(r"(?<=\S)(을\(를\)|이\(가\)|은\(는\)|과\(와\))")
_CLOSERS = "\"'`)]}>»”’"  # read past these to the word: `"title"을(를)`, `(1,)은(는)`
_DIGITS_WITH_FINAL = set("013678")  # 영 일 삼 육 칠 팔; 이 사 오 구 end in a vowel
_VOWELS = set("aeiou")


def particles(text: str) -> str:
    """`text` with each "X(Y)" particle pair replaced by the one that fits the word before it."""
    if "(" not in text:
        return text
    return _PAIR.sub(lambda m: _pick(text, m.start(), m.group()), text)


def _pick(text: str, at: int, pair: str) -> str:
    before = text[:at].rstrip(_CLOSERS + ",.")
    final = _ends_in_consonant(before)
    if final is None:
        return pair
    with_final, without = _PAIRS[pair]
    return with_final if final else without


def _ends_in_consonant(before: str) -> bool | None:
    """Whether the word ending `before` is read ending in a consonant; None if it cannot be read."""
    if not before:
        return None
    last = before[-1]
    if "가" <= last <= "힣":
        return (ord(last) - ord("가")) % 28 != 0
    if last.isdigit():
        return last in _DIGITS_WITH_FINAL
    if not last.isascii() or not last.isalpha():
        return None
    word = re.search(r"[A-Za-z]+$", before)
    letters = word.group() if word else last
    if len(letters) == 1:  # a letter read by its name: 엘 엠 엔 알 end in a consonant
        return letters.lower() in "lmnr"
    end = letters.lower()
    if end.endswith("ng") or end[-1] in "lmn":
        return True
    if end[-1] in "pk":  # step, book (not "sgd", "cpk": spelled out, 케이 ends in a vowel)
        return end[-2] in _VOWELS
    if end[-1] == "r":  # tensor, optimizer (-er, -or are 어); "lr" is spelled out: 엘알
        return end[-2] not in _VOWELS
    return False
