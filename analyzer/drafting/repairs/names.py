"""Repairs of the brief's names and words: spelled as the brief spells them.

A small model alters a brand's name ("样本茶饮" for "示例茶饮") and garbles a word into a rare
character ("UGC 晲杯笔记" for "UGC 晒杯笔记"); both are put back and noted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.drafting.context import SectionContext


def names_step(text: str, ctx: SectionContext) -> tuple[str, list[str]]:
    """The brand's and advertiser's names as the brief spells them."""
    return restore_names(text, ctx.names, ctx.brief_text)


def rare_chars_step(text: str, ctx: SectionContext) -> tuple[str, list[str]]:
    """A brief word's character the model garbled into a rare one, put back."""
    return restore_rare_chars(text, ctx.brief_text)


_FUNCTION_CHARS = frozenset("的了在和与及是为把被将对从以而或等也都就这那其之一个")


def restore_names(text: str, names: Iterable[str], brief_text: str) -> tuple[str, list[str]]:
    """Put back a brief name the model altered ("样本茶饮" for "示例茶饮"); say where.

    A window of the name's length that keeps at least half of its characters in place
    (including its first or last character), differs only in Chinese characters that are no
    function words, and whose changed part the brief never uses, is taken for an altered name.
    """
    notes: list[str] = []
    for name in sorted({n for n in names if 3 <= len(n) <= 12}, key=len, reverse=True):
        size = len(name)
        out: list[str] = []
        i = 0
        changed: dict[str, int] = {}
        while i < len(text):
            window = text[i : i + size]
            if len(window) == size and window != name and _altered(window, name, brief_text):
                out.append(name)
                changed[window] = changed.get(window, 0) + 1
                i += size
                continue
            out.append(text[i])
            i += 1
        text = "".join(out)
        notes += [f"「{w}」已改回简报中的「{name}」" for w in changed]
    return text, notes


def _altered(window: str, name: str, brief_text: str) -> bool:
    same = [a == b for a, b in zip(window, name, strict=True)]
    if sum(same) * 2 < len(name) or not (same[0] or same[-1]):
        return False
    diff = "".join(w for w, s in zip(window, same, strict=True) if not s)
    if not all("\u4e00" <= ch <= "\u9fff" and ch not in _FUNCTION_CHARS for ch in diff):
        return False
    if not all(ch.isalnum() or "\u4e00" <= ch <= "\u9fff" for ch in window):
        return False
    # The changed part must be contiguous (样本 for 示例), and new to the brief (夏季 is not).
    first = same.index(False)
    last = len(same) - 1 - same[::-1].index(False)
    if not all(not s for s in same[first : last + 1]):
        return False
    if window[first : last + 1] in brief_text or window in brief_text:
        return False
    # Nor a brief word that runs into the name's kept part: "一家新茶饮" is 新茶饮 (the brief's
    # industry), not an altered "示例茶饮".
    return not any(
        window[a:b] in brief_text
        for a in range(last + 1)
        for b in range(max(a + 3, first + 1), len(window) + 1)
    )


def restore_rare_chars(text: str, brief_text: str) -> tuple[str, list[str]]:
    """Put back a brief character the model garbled into a rare one ("UGC 晲杯笔记" for the brief's
    "UGC 晒杯笔记"); say where.

    A character outside GB2312's 6,763 common ones that the brief never uses is replaced when the
    brief holds the same two characters before and after it (three, next to the text's edge)
    around one and the same other character.
    """
    out = list(text)
    notes: dict[tuple[str, str], str] = {}
    for i, ch in enumerate(text):
        if not _rare(ch) or ch in brief_text:
            continue
        left, right = text[max(0, i - 2) : i], text[i + 1 : i + 3]
        if len(left) + len(right) < 3:
            continue
        found = {
            m.group(1)
            for m in re.finditer(re.escape(left) + r"(.)" + re.escape(right), brief_text)
            if m.group(1) != ch
        }
        if len(found) == 1:
            out[i] = found.pop()
            before = re.split(r"[^\w ]", text[max(0, i - 4) : i])[-1]
            after = re.split(r"[^\w ]", text[i + 1 : i + 5])[0]
            notes.setdefault((ch, out[i]), (before + out[i] + after).strip())
    return "".join(out), [
        f"「{old}」已改回简报中的「{new}」（{where}）" for (old, new), where in notes.items()
    ]


@cache
def _rare(ch: str) -> bool:
    if not "\u3400" <= ch <= "\u9fff":
        return False
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return True
    return False
