"""Where Chinese sentences and clauses end, and what marks a list item: one vocabulary.

The punctuation comes in named parts, and each reader composes the boundary it means from them:
a sentence ends at a full stop, a semicolon or a line break (:data:`SENTENCE_END`); a clause
also at a comma (:data:`COMMA`), and for some readers at an enumeration comma or a colon.
:func:`sentences` gives sentence spans with their closing quotes, :data:`LIST_MARK` the mark a
list item starts with (``- ``, ``1.``, ``2、``, ``（3）``, ``一、``, ``①``).
"""

from __future__ import annotations

import re

FULL_STOP = "。！？!?"
SEMICOLON = "；;"
COMMA = "，,"
ENUM_COMMA = "、"
COLON = "：:"
NEWLINE = "\n"
CLOSERS = "”’」』）)】》\"'"  # closing quotes and brackets that stay with the sentence before
SENTENCE_END = FULL_STOP + SEMICOLON + NEWLINE
CLAUSE_END = SENTENCE_END + COMMA

BULLETS = "-*•◆●■□▪◇○>#|▶►"
_CN_NUMERALS = "一二三四五六七八九十"
# A list item's mark at the start of a line, with the spaces around it (the match may be empty).
LIST_MARK = re.compile(
    rf"^[\s{re.escape(BULLETS)}]*"
    rf"(?:(?:[0-9]{{1,2}}|[{_CN_NUMERALS}]{{1,3}})[ \t]*[.．、)）:：](?![0-9])"
    rf"|[（(][ \t]*[0-9{_CN_NUMERALS}]{{1,2}}[ \t]*[)）]|[①-⑳])?\s*"
)
# A numbered item's mark (``1.``, ``- 2、``) at the start of any line: a number that only counts
# the list, never a fact.
NUMBERED_ITEM = re.compile(r"(?m)^[ \t]*(?:[-*][ \t]*)?[0-9]{1,2}[.、)）](?![0-9])")

_SENTENCE = re.compile(
    rf"[^{re.escape(SENTENCE_END)}]*(?:[{re.escape(SENTENCE_END)}]+[{re.escape(CLOSERS)}]*|$)"
)


def ends(*parts: str) -> re.Pattern[str]:
    """A pattern matching one character of the given parts (``ends(SENTENCE_END, COMMA)``)."""
    return re.compile(f"[{re.escape(''.join(parts))}]")


def strip_list_mark(line: str) -> str:
    """The line without its list mark (``"1. 提升认知"`` → ``"提升认知"``)."""
    return line[LIST_MARK.match(line).end() :]  # type: ignore[union-attr]  # always matches


def sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences in ``text``, each with its end mark and closing quotes; blank
    pieces are dropped, so the spans need not touch."""
    spans = []
    for m in _SENTENCE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def sentence_around(text: str, at: int) -> tuple[int, int]:
    """The span of the sentence holding offset ``at`` (bounded by :data:`SENTENCE_END`)."""
    start = max(text.rfind(c, 0, max(0, at - 1)) for c in SENTENCE_END) + 1
    found = [i for c in SENTENCE_END if (i := text.find(c, at)) != -1]
    return start, (min(found) if found else len(text))
