"""Questions that name one line of a numbered list: "step 6", "la sixième étape", "第六步".

The ranker drops numbers (in prose they say nothing about a topic), so a list's word and the
number beside it are read here, and the line they name is the answer to put first. The words
are each language's (`part_words`, `ordinals`, `last_words` in knowledge/data/<lang>.yaml).
"""

import re
from collections.abc import Iterable

from knowledge.facts import Facts
from knowledge.matching import normalize

_ZH_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8}
_ZH_NUMERALS |= {"九": 9, "十": 10}
# What may stand between a list's word and its number: "step no 6", "الخطوة رقم 6".
_FILLER = r"(?:(?:n|no|nr|number|numero|num|رقم)\s+)?"
_LAST = -1  # the number that stands for a list's last line (0 is no number at all)


def _any(words: Iterable[str]) -> str:
    """A regex alternation of `words`, longest first so that "core function" beats "function"."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True) if w)


def _zh_number(text: str) -> int:
    """一 .. 十三 (and digits) as a number; 0 when it is none."""
    if text.isdecimal():
        return int(text)
    if text.startswith("十"):
        text = "一" + text
    tens, _, units = text.partition("十")
    if "十" not in text:
        return _ZH_NUMERALS.get(text, 0)
    return _ZH_NUMERALS.get(tens, 0) * 10 + (_ZH_NUMERALS.get(units, 0) if units else 0)


class Parts:
    """Finds the numbered line a question names, in the languages it may be written in."""

    def __init__(self, facts: Facts) -> None:
        self.lines = {(p.kind, p.n): pid for pid, p in facts.passages.items() if p.kind}
        self.totals = {p.kind: p.total for p in facts.passages.values() if p.kind}
        self.concepts = {p.kind: p.concept for p in facts.passages.values() if p.kind}
        self.kinds: dict[str, dict[str, str]] = {}
        self.numbers: dict[str, dict[str, int]] = {}
        self.patterns: dict[str, re.Pattern[str]] = {}
        for code, lang in facts.languages.items():
            kinds = {normalize(w): k for k, words in lang.part_words.items() for w in words}
            numbers = {normalize(w): n for n, ws in enumerate(lang.ordinals, 1) for w in ws}
            numbers |= {normalize(w): _LAST for w in lang.last_words}
            self.kinds[code], self.numbers[code] = kinds, numbers
            part, ordinal = _any(kinds), _any(numbers)
            if not part:
                continue
            if code == "zh":
                # 第六步, 第 4 项核心职能, 最后一步: the number after 第, then a measure word.
                last = _any(n for n, v in numbers.items() if v == _LAST) or "(?!)"
                self.patterns[code] = re.compile(
                    rf"(?:第\s*(?P<n>\d{{1,2}}|[一二两三四五六七八九十]{{1,3}})|(?P<last>{last})\s*一?)"
                    rf"\s*(?P<m>个|项|条|点)?\s*(?P<p>{part})?"
                )
                continue
            self.patterns[code] = re.compile(
                rf"(?<!\S)(?:(?P<p>{part})\s+{_FILLER}(?P<n>\d{{1,2}}|{ordinal})"
                rf"|(?P<n2>{ordinal})\s+(?P<p2>{part}))(?!\S)"
            )

    def names_a_part(self, word: str) -> bool:
        """Whether a word names a kind of numbered line in some language ("step", "étape")."""
        return any(word in kinds for kinds in self.kinds.values())

    def named(self, text: str, langs: Iterable[str]) -> tuple[str, int] | None:
        """The kind and number of the numbered line `text` names, or None.

        The number is `_LAST` for the last line; a line past the end is named too ("step 9").
        """
        norm = normalize(text)
        for code in langs:
            pattern = self.patterns.get(code)
            found = pattern.search(norm) if pattern else None
            if found is None:
                continue
            groups = found.groupdict()
            said = groups.get("n") or groups.get("n2") or ""
            kind = self.kinds[code].get(groups.get("p") or groups.get("p2") or "")
            if code == "zh" and groups.get("last"):
                n = _LAST  # 最后一步; 最后 alone is no line (最后手段提供者)
            elif code == "zh":
                n = _zh_number(said)
                # The list's word may come before its number (核心职能里的第四项), but then a
                # measure word follows it: 第三方 and 第一时间 name no line.
                if kind is None and groups.get("m"):
                    kind = next((k for w, k in self.kinds[code].items() if w in norm), None)
            else:
                n = int(said) if said.isdecimal() else self.numbers[code].get(said, 0)
            if kind is None or (n < 1 and n != _LAST) or kind not in self.totals:
                continue  # "step 0" names no line
            return kind, n
        return None

    def line_of(self, kind: str, n: int) -> str | None:
        """The passage id of line `n` of a list (`_LAST`: its last), or None past its end."""
        return self.lines.get((kind, self.totals[kind] if n == _LAST else n))

    def beyond(self, text: str, langs: Iterable[str]) -> tuple[str, int] | None:
        """The kind and number of a line `text` names past its list's end ("step 9" of 8)."""
        named = self.named(text, langs)
        return named if named and self.past_the_end(*named) else None

    def past_the_end(self, kind: str, n: int) -> bool:
        """Whether line `n` is past the end of its list ("step 9" of 8)."""
        return n > self.totals[kind]
