"""Chinese and Arabic numerals: their values, and every number of a text with its kind.

:func:`chinese_value` reads ``三千万`` (3e7), ``一亿五千万`` (1.5e8), ``两百``, ``十二``, ``二〇二四``;
:data:`MAGNITUDE` gives ``万 亿 千 w k`` their factors. :func:`figures` finds every number of a
text, normalized (``3.2亿`` = ``32000万`` = 320,000,000; ``三成`` = 30 %; ``十二座`` = 12) with its
kind: a date part, a percentage, percentage points, a multiple, a rank, a vague magnitude (近万,
数百万, 千万级, 破亿) or a plain count. Exempt, because they structure the text rather than state
facts: numbered list marks at the start of a line (``1.``, ``2、``), ordinals (``第3阶段``; a rank
such as ``第1名`` or ``TOP1`` does count), a lone ``一`` before a measure word (一款, 一次), and
numerals inside words (三大平台, 百度, 千万不要, 万一, 一二线城市).

The fact guard (every number of a draft must be the brief's) and the checker read numbers here;
metric extraction (:mod:`analyzer.library.metrics`) reads values here and adds what makes a
figure a result (qualifiers, units, bounds, the measure it belongs to).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from analyzer.zh.fold import CASELESS, fold_width
from analyzer.zh.segments import NUMBERED_ITEM

CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
CN_DIGIT.update({"六": 6, "七": 7, "八": 8, "九": 9})
CN_UNIT = {"十": 10, "百": 100, "千": 1000}
# Factors of the magnitudes written after a number: 3000万, 1.2亿, 10w, 5k, 3千.
MAGNITUDE = {
    "十": 10,
    "百": 100,
    "千": 1000,
    "万": 10_000,
    "亿": 100_000_000,
    "w": 10_000,
    "k": 1000,
}

# Kinds of number: a value is allowed only by a brief value of the same kind.
DATE, PERCENT, POINTS, TIMES, RANK, VAGUE, COUNT = (
    "date", "percent", "points", "times", "rank", "vague", "count",
)  # fmt: skip


_CN = "零〇一二两三四五六七八九十"
_MEASURE = (
    "个月|分钟|小时|百分点|个|座|家|场|次|位|名|人|款|篇|条|项|轮|期|天|日|周|年|月|倍|成|处|户"
    "|所|支|部|集|首|张|份|种|类|届|块|站|组|段|句|页|秒|季|城|省|国|批|件|半|万|亿"
)
# Dates: 2024.05, 2024-08-31, 2024年5月, and a range's second half (2019.07.12-09.19).
_DATE = re.compile(
    r"(?<![0-9.])(?:19|20)[0-9]{2}(?:[ \t]*[./\-年][ \t]*[0-9]{1,2}(?![0-9])){1,2}"
    r"(?:[ \t]*[-~～至到][ \t]*[0-9]{1,2}(?![0-9])(?:[ \t]*[./\-月][ \t]*[0-9]{1,2}(?![0-9]))?)?"
)
_RANK = re.compile(
    r"(?<![a-z])(?:top|no\.?)[ \t]*(?P<a>[0-9]+)(?![0-9.])"
    rf"|第[ \t]*(?P<b>[0-9]+|[{_CN}]+)[ \t]*(?=名|位)"
    rf"|排名第[ \t]*(?P<c>[0-9]+|[{_CN}]+)"
)
_ARABIC = re.compile(
    r"(?<![0-9a-z_.])(?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.(?P<frac>[0-9]+))?"
    r"(?P<approx>余|多)?"
    r"(?:[ \t]*(?P<mult>万亿|[十百千]?[万亿]|千|[wk](?![a-z])))?"
    r"(?P<tail>[ \t]*(?:%|个百分点|百分点|倍|成(?!本|功|为|果|员|长|交|熟|立|就|都))|\+)?"
)
# A Chinese numeral with a magnitude (三千万, 两百, 一亿五千万, 十万+).
_CN_BIG = re.compile(
    rf"(?<![{_CN}百千万亿])[一二两三四五六七八九十][{_CN}百千万亿]*[百千万亿]"
    r"(?P<approx>余|多)?(?P<tail>%|倍|\+)?"
)
# A Chinese numeral without a magnitude, counting something: 五个城市, 二十场, 三成, 十余个.
_CN_SMALL = re.compile(
    rf"(?<![{_CN}百千万亿第])(?P<n>[{_CN}]+)(?P<approx>余|多)?"
    rf"(?=[ \t]*(?P<m>{_MEASURE}))"
)
# Vague magnitudes: 近万, 上万名, 数百万, 几十场, 百万级, 千万级, 破亿, 过亿, 十余万.
_VAGUE = re.compile(
    r"(?:近|上|数|几|逾|超|破|过|达)(?:[十百千]?[万亿]|[十百千](?=[万亿]|余|多|[ \t]*(?:"
    + _MEASURE
    + r")))[余多]?[万亿]?\+?"
    r"|(?<![一二两三四五六七八九十百千])[十百千]?[万亿](?:级|量级)"
    r"|(?<![一二两三四五六七八九])[十百千](?:余|多)[万亿]?\+?"
)
_ORDINAL = re.compile(r"第[ \t]*$")
_DIGITS = re.compile(r"[0-9]+")
# Measure words that make a number a date part rather than a count.
_DATE_WORDS = ("月", "日")


@dataclass(frozen=True)
class Figure:
    """One number in a text: as written, its value and kind, and where it is."""

    text: str
    value: float
    start: int
    end: int
    kind: str = COUNT


def figures(text: str) -> list[Figure]:
    """Every number in ``text`` with its normalized value and kind, in order."""
    folded = fold_width(text, CASELESS)
    taken: list[tuple[int, int]] = [(m.start(), m.end()) for m in NUMBERED_ITEM.finditer(folded)]
    out: list[Figure] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    def add(a: int, b: int, value: float, kind: str) -> None:
        taken.append((a, b))
        out.append(Figure(text[a:b], value, a, b, kind))

    for m in _DATE.finditer(folded):
        if free(m.start(), m.end()):
            for d in _DIGITS.finditer(m.group()):
                add(m.start() + d.start(), m.start() + d.end(), float(d.group()), DATE)
            taken.append((m.start(), m.end()))
    for m in _RANK.finditer(folded):
        number = m.group("a") or m.group("b") or m.group("c")
        a, b = m.start(), m.end()
        if free(a, b) and (value := _any_value(number)) is not None:
            if m.group("b"):  # 第1名: the mark goes after 名
                b += 1
            add(a, b, value, RANK)
    for m in _VAGUE.finditer(folded):
        if free(m.start(), m.end()):
            add(m.start(), m.end(), math.nan, VAGUE)
    for m in _ARABIC.finditer(folded):
        a, b = m.start(), m.end()
        if not free(a, b) or _ORDINAL.search(folded, max(0, a - 3), a):
            continue
        if b < len(folded) and folded[b].isascii() and folded[b].isalpha():
            continue  # 5G, 3D: part of a name
        value = _arabic_value(m)
        if value is not None:
            add(a, _end_without_space(folded, a, b), *_arabic_kind(m, value, folded))
    for m in _CN_BIG.finditer(folded):
        a, b = m.start(), m.end()
        if not free(a, b) or _ORDINAL.search(folded, max(0, a - 3), a):
            continue
        value = chinese_value(m.group().rstrip("%倍+余多"))
        tail = m.group("tail") or ""
        kind = PERCENT if tail == "%" else TIMES if tail == "倍" else COUNT
        if value:
            add(a, b, value, kind)
    for m in _CN_SMALL.finditer(folded):
        a, b = m.start(), m.end()
        if not free(a, b):
            continue
        n, measure = m.group("n"), m.group("m")
        if m.group("approx"):
            add(a, b, math.nan, VAGUE)
            continue
        if measure == "半":
            if n == "一":
                add(a, b + 1, 50.0, PERCENT)  # 一半
            continue
        if len(n) > 1 and not set(n) & {"十"} and len(n) != 4:
            add(a, b, math.nan, VAGUE)  # 两三个, 一两次
            continue
        value = chinese_value(n)
        if measure == "倍":
            add(a, b + 1, value, TIMES)
        elif measure == "成":
            add(a, b + 1, value * 10, PERCENT)
        elif measure == "百分点":
            add(a, b, value, POINTS)
        elif n == "一":
            continue  # 一款, 一次: an article, not a count
        elif measure in _DATE_WORDS and value <= 31:
            add(a, b, value, DATE)
        elif measure not in ("万", "亿"):
            add(a, b, value, COUNT)
    out.sort(key=lambda f: f.start)
    return out


def vague_key(text: str) -> str:
    """A vague magnitude as compared with another (近万 = 近 万+)."""
    return fold_width(text, CASELESS).replace(" ", "").rstrip("+")


def chinese_value(s: str) -> float:
    """三千万 → 3e7, 一亿五千万 → 1.5e8, 两百 → 200, 十二 → 12, 二〇二四 → 2024, 万 → 1e4."""
    if len(s) > 1 and all(ch in CN_DIGIT for ch in s):
        return float("".join(str(CN_DIGIT[ch]) for ch in s))
    result = section = number = 0.0
    for ch in s:
        if ch in CN_DIGIT:
            number = CN_DIGIT[ch]
        elif ch in CN_UNIT:
            section += (number or 1) * CN_UNIT[ch]
            number = 0
        elif ch == "万":
            result += (section + number or 1) * 1e4
            section = number = 0
        elif ch == "亿":
            result = (result + section + number or 1) * 1e8
            section = number = 0
    return result + section + number


def magnitude(mult: str | None) -> int:
    """The factor of a magnitude as written after a number (``万``, ``千万``, ``w``)."""
    factor = 1
    for ch in (mult or "").strip().lower():
        factor *= MAGNITUDE.get(ch, 1)
    return factor


def _end_without_space(folded: str, start: int, end: int) -> int:
    while end > start and folded[end - 1] in " \t":
        end -= 1
    return end


def _arabic_value(m: re.Match[str]) -> float | None:
    core = m.group("num").replace(",", "") + (f".{m.group('frac')}" if m.group("frac") else "")
    try:
        number = float(core)
    except ValueError:
        return None
    for ch in m.group("mult") or "":
        number *= MAGNITUDE.get(ch, 1)
    return number if math.isfinite(number) else None


def _arabic_kind(m: re.Match[str], value: float, folded: str) -> tuple[float, str]:
    tail = (m.group("tail") or "").strip()
    if tail == "%":
        return value, PERCENT
    if tail.endswith("百分点"):
        return value, POINTS
    if tail == "倍":
        return value, TIMES
    if tail == "成":
        return value * 10, PERCENT
    if m.group("approx"):
        return value, COUNT  # 600多家: the figure is the brief's 600
    after = folded[m.end() : m.end() + 4].lstrip(" \t")
    whole = not m.group("frac") and not m.group("mult") and not tail
    if whole and after[:1] in _DATE_WORDS and 1 <= value <= 31 and not after.startswith("日均"):
        return value, DATE  # 8月, 31日 (not 8个月)
    if whole and after[:1] == "号" and 1 <= value <= 31:
        return value, DATE
    if whole and re.match(
        r"[ \t]*[-~～至到][ \t]*[0-9]{1,2}[ \t]*月", folded[m.end() : m.end() + 9]
    ):
        return value, DATE  # the 6 of 6-7 月
    if whole and re.fullmatch(r"(?:19|20)[0-9]{2}", m.group("num")):
        return value, DATE  # a year
    return value, COUNT


def _any_value(number: str) -> float | None:
    if number.isdigit():
        return float(number)
    value = chinese_value(number)
    return value or None
