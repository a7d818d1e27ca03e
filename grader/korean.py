"""Korean particles that depend on the word before them: 을/를, 이/가, 은/는, 과/와, 으로/로.

A message template cannot know whether `{name}` ends in a consonant ("train" is read 트레인,
"mse_cost" 코스트), so the tables write both forms, "{name}을(를)", "{x}(으)로", and `particles` picks one
from how the word before it is read: a Hangul syllable by its final consonant, a digit by its
Korean name (3 is 삼, 2 is 이), a code name by how its last letters are read in Korean (l, m, n
and -ng, and p or k after a vowel, end in a consonant: 모델, 트레인, 스텝; -er is 어: 텐서).
Where nothing can be read (a symbol), both forms stay.
"""

from __future__ import annotations

import re

_PAIRS = {"을(를)": ("을", "를"), "이(가)": ("이", "가"), "은(는)": ("은", "는"), "과(와)": ("과", "와"),
          "(으)로": ("으로", "로")}
_PAIR = re.compile(r"(?<=\S)(" + "|".join(map(re.escape, _PAIRS)) + ")")
_CLOSERS = "\"'`)]}>»”’"  # read past these to the word: `"title"을(를)`, `(1,)은(는)`
_VOWELS = set("aeiou")
_RIEUL = 8  # ㄹ among the final consonants: 로 follows it as it follows a vowel (파일로, 1로: 일로)


def particles(text: str) -> str:
    """`text` with each "X(Y)" particle pair replaced by the one that fits the word before it."""
    if "(" not in text:
        return text
    return _PAIR.sub(lambda m: _pick(text, m.start(), m.group()), text)


def _pick(text: str, at: int, pair: str) -> str:
    final = _final(text[:at].rstrip(_CLOSERS + ",."))
    if final is None:
        return pair
    with_final, without = _PAIRS[pair]
    if pair == "(으)로":
        return without if final in ("", "l") else with_final
    return with_final if final else without


def _final(before: str) -> str | None:
    """How the word ending `before` is read to end: "" in a vowel, "l" in ㄹ, "c" in another
    consonant; None if it cannot be read."""
    if not before:
        return None
    last = before[-1]
    if "가" <= last <= "힣":
        final = (ord(last) - ord("가")) % 28
        return "" if final == 0 else "l" if final == _RIEUL else "c"
    if last.isdigit():  # 영 일 이 삼 사 오 육 칠 팔 구
        return "l" if last in "178" else "c" if last in "036" else ""
    if not last.isascii() or not last.isalpha():
        return None
    word = re.search(r"[A-Za-z]+$", before)
    letters = (word.group() if word else last).lower()
    if len(letters) == 1:  # a letter read by its name: 엘 알 end in ㄹ, 엠 엔 in another consonant
        return "l" if letters in "lr" else "c" if letters in "mn" else ""
    if letters.endswith("ng") or letters[-1] in "mn":
        return "c"
    if letters[-1] == "l":  # 모델
        return "l"
    if letters[-1] in "pk":  # step, book (not "sgd", "cpk": spelled out, 케이 ends in a vowel)
        return "c" if letters[-2] in _VOWELS else ""
    if letters[-1] == "r":  # tensor, optimizer (-er, -or are 어); "lr" is spelled out: 엘알
        return "" if letters[-2] in _VOWELS else "l"
    return ""
