"""Folding Chinese text for matching, one character for one, so offsets carry over.

``fold`` maps traditional characters to simplified (``營銷背景`` → ``营销背景``);
``fold_width`` maps full-width digits and letters (and ``％ ＋``, the ideographic space) to
ASCII. Both keep the text's length, so a span found in folded text is the same span in the
original. The tables differ by purpose: :data:`WIDTH` is what cleaned text keeps (a Chinese
colon stays a Chinese colon); :data:`NUMERIC` also folds the marks inside numbers (``３．５``,
``１２：３０``, ``﹪``); :data:`CASELESS` is NUMERIC with Latin letters in lower case.
"""

from __future__ import annotations

import re

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCT = r"\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\u2018-\u201f"

WIDTH: dict[int, int] = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}  # ０-９
WIDTH.update({c: c - 0xFEE0 for c in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
WIDTH.update({c: c - 0xFEE0 for c in range(0xFF41, 0xFF5B)})  # ａ-ｚ
WIDTH.update({0xFF05: ord("%"), 0xFF0B: ord("+"), 0x3000: ord(" "), 0xA0: ord(" ")})

NUMERIC: dict[int, int] = {**WIDTH, 0xFF0E: ord("."), 0xFF1A: ord(":"), 0xFE6A: ord("%")}

CASELESS: dict[int, int] = {**NUMERIC}
CASELESS.update({c: c - 0xFF21 + ord("a") for c in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ → a-z
CASELESS.update({c: c + 0x20 for c in range(ord("A"), ord("Z") + 1)})  # A-Z → a-z

_WIDE = re.compile("[\uff05-\uff5a\u3000\xa0\ufe6a]")


def fold_width(text: str, table: dict[int, int] = WIDTH) -> str:
    """Full-width characters as ASCII by ``table`` (:data:`WIDTH`, :data:`NUMERIC` or
    :data:`CASELESS`); the length is kept."""
    return text.translate(table) if table is CASELESS or _WIDE.search(text) else text


class _FoldTable(dict[int, str]):
    """``str.translate`` table filled on demand: traditional → simplified, one char to one char."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if code >= 0x2E80:
            import zhconv  # small, pure Python; imported on first use

            out = zhconv.convert(ch, "zh-hans")
            ch = out if len(out) == 1 else ch
        self[code] = ch
        return ch


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Traditional → simplified, character by character (lengths and offsets are kept)."""
    return text.translate(_FOLD)


def is_cjk(ch: str) -> bool:
    return bool(re.match(f"[{CJK}]", ch))
