"""Clean text extracted from PDFs, slides and web pages before anything else sees it.

What it removes or mends: control characters, full-width ASCII digits/letters, image file names
(``微信截图_20180926094621.png``), page residue (page numbers, lone bullets), stray spaces inside
Chinese words (``广 告 主``), markdown bold markers, and hard line wraps of PDF text (a sentence
broken over lines is joined back). Blank lines go; each paragraph is one line.
"""

from __future__ import annotations

import re
import unicodedata

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\u2018-\u201f"

_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}  # ０-９
_FULLWIDTH.update({c: c - 0xFEE0 for c in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_FULLWIDTH.update({c: c - 0xFEE0 for c in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_FULLWIDTH.update({0xFF05: ord("%"), 0xFF0B: ord("+"), 0x3000: ord(" "), 0xA0: ord(" ")})

_IMAGE_NAME = re.compile(
    r"(?<![/\w.])[^\s/\\:：<>\"|?*，。]{0,60}?\.(?:png|jpe?g|gif|bmp|webp|tiff?)(?![\w/])",
    re.IGNORECASE,
)
_PAGE_RESIDUE = re.compile(
    r"^(?:[-–—_\s]*\d{1,4}[-–—_\s]*|第\s*\d+\s*页(?:\s*[/,，]?\s*共\s*\d+\s*页)?|"
    r"page\s*\d+(?:\s*(?:of|/)\s*\d+)?|\d{1,4}\s*/\s*\d{1,4}|[\s\-–—•·◆●■□▪︎*◇○>#|]+)$",
    re.IGNORECASE,
)
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}{_CJK_PUNCT}])[ \t]+(?=[{_CJK}{_CJK_PUNCT}])")
_BOLD = re.compile(r"\*\*|__")
_TERMINAL = tuple("。！？!?；;：:…」』”）)】")
_LIST_START = re.compile(
    r"^(?:[-*•◆●■▪>#【\[（(]|\d{1,2}\s*[、.．)）]|[一二三四五六七八九十]+[、.．]|[①-⑳]|第[一二三四五六七八九十\d]+)"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def clean_text(raw: str) -> str:
    """Return the cleaned text: one paragraph per line, no blank lines."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = _CONTROL.sub("", text).translate(_FULLWIDTH)
    text = unicodedata.normalize("NFC", text)
    lines = []
    for line in text.split("\n"):
        line = _IMAGE_NAME.sub("", line)
        line = _BOLD.sub("", line)
        line = _SPACE_BETWEEN_CJK.sub("", line).strip()
        if not line or _PAGE_RESIDUE.match(line):
            continue
        lines.append(line)
    return "\n".join(_join_wrapped(lines))


def _join_wrapped(lines: list[str]) -> list[str]:
    """Join lines that a PDF hard-wrapped: a full-width line not ending a sentence + its follower."""
    lengths = sorted(len(x) for x in lines if len(x) >= 10)
    if len(lengths) < 5:
        return lines
    width = lengths[int(len(lengths) * 0.9) - 1]
    if width < 20:
        return lines
    near_full = sum(1 for n in lengths if 0.8 * width <= n <= width + 2)
    if near_full < max(4, 0.25 * len(lengths)):
        return lines  # not hard-wrapped: paragraphs of varied length
    out: list[str] = []
    for line in lines:
        if out and _continues(out[-1], line, width):
            prev = out[-1]
            sep = " " if prev[-1:].isascii() and line[:1].isascii() and prev[-1:].isalnum() else ""
            out[-1] = prev + sep + line
        else:
            out.append(line)
    return out


def _continues(prev: str, line: str, width: int) -> bool:
    # Only the last physical line of ``prev`` counts: joined paragraphs grow past ``width``.
    tail = len(prev) % width if len(prev) > width + 2 else len(prev)
    if tail < 0.8 * width and len(prev) <= width + 2:
        return False
    if prev.endswith(_TERMINAL) or re.search(r"https?://\S+$", prev):
        return False
    if _LIST_START.match(line) or line.startswith("http"):
        return False
    # A short line with no punctuation at all is more likely a heading than a wrapped tail.
    return not (len(line) <= 12 and not re.search(r"[，。、；：,.;:!?！？%+]", line))


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
    return bool(re.match(f"[{_CJK}]", ch))
