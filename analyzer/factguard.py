"""The fact guard: every number in a generated draft must come from the brief.

A small model copies figures from the exemplars and invents plausible ones ("曝光量超 1 亿"). The
guard finds every number in the generated text, normalizes it (``3.2亿`` = ``32000万`` =
320,000,000; ``48%`` = 48), and compares it with the numbers found the same way in the brief. Any
number the brief does not contain is marked ``【待核实】`` (or removed), and each place is reported
as a :class:`Flag` so the draft can list it.

Stricter than metric extraction on purpose: a result figure, a date, a count of channels — every
number counts. Exempt: list markers at the start of a line (``1.``, ``2、``) and ordinals (``第3``),
which structure the text rather than state facts, and Chinese numerals without 百/千/万/亿
(``三大平台``), which read as words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from analyzer.brief import Brief

MARK = "【待核实】"

_FOLD = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}  # full-width digits
_FOLD.update({0xFF05: ord("%"), 0xFF0E: ord(".")})

_ARABIC = re.compile(
    r"(?<![0-9A-Za-z_.])(?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.(?P<frac>[0-9]+))?"
    r"(?:[ \t]*(?P<mult>万亿|[十百千]?[万亿]|千|[wWkK](?![A-Za-z])))?"
    r"(?P<tail>[ \t]*(?:%|\+|倍))?"
)
# A Chinese numeral counts when a digit leads a magnitude (三千万, 两百, 一亿五千万): 百度, 千万不要,
# 万一 and 亿万 are words.
_CHINESE = re.compile(
    r"(?<![零〇一二两三四五六七八九十百千万亿])[一二两三四五六七八九十]"
    r"[零〇一二两三四五六七八九十百千万亿]*[百千万亿]"
)
_LIST_MARKER = re.compile(r"(?m)^[ \t]*(?:[-*][ \t]*)?[0-9]{1,2}[.、)）](?![0-9])")
_ORDINAL = re.compile(r"第[ \t]*$")
_DATE = re.compile(r"(?:19|20)[0-9]{2}(?:[ \t]*[./\-年][ \t]*[0-9]{1,2}(?![0-9])){1,2}")
_DIGITS = re.compile(r"[0-9]+")
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGIT.update({"六": 6, "七": 7, "八": 8, "九": 9})
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_MAGNITUDE = {"万": 1e4, "亿": 1e8, "千": 1e3, "百": 1e2, "十": 10, "w": 1e4, "k": 1e3}


@dataclass(frozen=True)
class Figure:
    text: str
    value: float
    start: int
    end: int


@dataclass(frozen=True)
class Flag:
    """A number the brief does not contain, and what the guard did with it."""

    section: str  # section key
    text: str  # the number as generated
    value: float
    action: str  # "marked" | "removed"
    context: str  # the sentence around it, after the change

    def describe(self, section_title: str = "") -> str:
        verb = "已标记【待核实】" if self.action == "marked" else "已删除"
        return (
            f"{section_title or self.section}：「{self.text}」不在简报中，{verb}（{self.context}）"
        )


def figures(text: str) -> list[Figure]:
    """Every number in ``text`` with its normalized value, in order."""
    folded = text.translate(_FOLD)
    exempt = [(m.start(), m.end()) for m in _LIST_MARKER.finditer(folded)]
    out: list[Figure] = []
    for m in _ARABIC.finditer(folded):
        if any(a <= m.start() < b for a, b in exempt):
            continue
        if _ORDINAL.search(folded, max(0, m.start() - 3), m.start()):
            continue
        value = _arabic_value(m)
        if value is not None:
            out.append(Figure(text[m.start() : m.end()], value, m.start(), m.end()))
    for m in _CHINESE.finditer(folded):
        if not m.group() or _ORDINAL.search(folded, max(0, m.start() - 3), m.start()):
            continue
        value = _normalize(m.group()) or _chinese_value(m.group())
        if value:
            out.append(Figure(text[m.start() : m.end()], value, m.start(), m.end()))
    out.sort(key=lambda f: f.start)
    return out


def allowed_values(brief: Brief) -> frozenset[float]:
    """The numbers a draft may state: every number in the brief, and the parts of its dates."""
    values: set[float] = set()
    for text in brief.all_text():
        values.update(f.value for f in figures(text))
        for m in _DATE.finditer(text.translate(_FOLD)):
            values.update(float(d) for d in _DIGITS.findall(m.group()))
    return frozenset(values)


def guard(
    text: str, allowed: Iterable[float], *, section: str = "", remove: bool = False
) -> tuple[str, tuple[Flag, ...]]:
    """``text`` with every number not in ``allowed`` marked (or removed), and where it did so."""
    allowed_list = sorted(set(allowed))
    pieces: list[str] = []
    spots: list[tuple[Figure, int]] = []  # figure, offset of its end in the new text
    pos = 0
    for fig in figures(text):
        if fig.start < pos or _known(fig.value, allowed_list):
            continue
        pieces.append(text[pos : fig.start])
        if not remove:
            pieces.append(text[fig.start : fig.end] + MARK)
        pos = fig.end
        spots.append((fig, sum(map(len, pieces))))
    pieces.append(text[pos:])
    result = "".join(pieces)
    flags = tuple(
        Flag(
            section=section,
            text=fig.text.strip(),
            value=fig.value,
            action="removed" if remove else "marked",
            context=_sentence(result, end),
        )
        for fig, end in spots
    )
    return result, flags


def _known(value: float, allowed: list[float]) -> bool:
    return any(math.isclose(value, a, rel_tol=1e-6, abs_tol=1e-9) for a in allowed)


def _sentence(text: str, at: int) -> str:
    start = max(text.rfind(c, 0, max(0, at - 1)) for c in "。！？；\n") + 1
    ends = [i for c in "。！？；\n" if (i := text.find(c, at)) != -1]
    end = min(ends) if ends else len(text)
    snippet = text[start:end].strip()
    return (
        snippet if len(snippet) <= 60 else "…" + text[max(start, at - 40) : at + 15].strip() + "…"
    )


def _normalize(core: str) -> float | None:
    """The value of a number without its % or +, through the metrics parser when present."""
    try:
        from analyzer.metrics import parse_number
    except ImportError:
        return None
    try:
        return parse_number(core)
    except Exception:  # a parser change must never break drafting; fall back to our own
        return None


def _arabic_value(m: re.Match[str]) -> float | None:
    core = m.group("num") + (f".{m.group('frac')}" if m.group("frac") else "")
    mult = m.group("mult") or ""
    value = _normalize(core + mult)
    if value is not None:
        return value
    try:
        number = float(core.replace(",", ""))
    except ValueError:
        return None
    for ch in mult.lower():
        number *= _MAGNITUDE.get(ch, 1)
    return number if math.isfinite(number) else None


def _chinese_value(s: str) -> float:
    """三千万 → 3e7, 一亿五千万 → 1.5e8, 两百 → 200 (without the metrics parser)."""
    result = section = number = 0.0
    for ch in s:
        if ch in _CN_DIGIT:
            number = _CN_DIGIT[ch]
        elif ch in _CN_UNIT:
            section += (number or 1) * _CN_UNIT[ch]
            number = 0
        elif ch == "万":
            result += (section + number or 1) * 1e4
            section = number = 0
        elif ch == "亿":
            result = (result + section + number or 1) * 1e8
            section = number = 0
    return result + section + number
