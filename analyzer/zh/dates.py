"""Dates as Chinese entries state them, as (year, month) with either unknown.

:func:`stated_dates` reads 2023年, 2024年5月, 2024.05, 5 月, 6-7 月, 八月 and ranges of them
(2017年至2018年, 2024.05-2024.08) with their spans: what a campaign's story says of when it
happened, for comparing with its period (:func:`analyzer.library.sections.parse_period` reads
the header field itself). :func:`analyzer.zh.numbers.figures` finds the same numbers as date
parts, one by one, for comparing values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Dates as entries write them: 2023年, 2024年5月, 2024.05, 5 月, 6-7 月 (one pattern, starting
# with a digit so ``re`` skips ahead to digits; which reading holds is decided where it matches),
# and 八月, 十一月 (another).
_ARABIC = re.compile(
    r"(?P<n>[0-9][0-9]{0,3})[ \t]*"
    r"(?:(?P<sep>年|[./\-~～至到—])[ \t]*(?:(?P<m>[0-9]{1,2})(?![0-9])[ \t]*)?(?P<mo>月)?|月)"
)
_CHINESE = re.compile("[一二三四五六七八九十][一二]?月")
_YEAR_SEP = re.compile(r"(?:19|20)[0-9]{2}[ \t]*[./\-]")
_RANGE = re.compile(r"[ \t]*(?:至|到|-|~|～|—)[ \t]*")
_CN_MONTH = {
    "十": 10,
    "十一": 11,
    "十二": 12,
    **{c: i + 1 for i, c in enumerate("一二三四五六七八九")},
}
Date = tuple[int | None, int | None]  # (year, month), either unknown


def _reading(m: re.Match[str]) -> tuple[int, list[Date]] | None:
    """(end, dates) a match of :data:`_ARABIC` states, or None when it is no date."""
    n, sep, month = m.group("n", "sep", "m")
    year = len(n) == 4 and n[:2] in ("19", "20")
    if year and sep == "年":
        if month and m["mo"]:
            return m.end(), [(int(n), int(month))]
        return m.start("sep") + 1, [(int(n), None)]  # 2023年 (and what follows is not a month)
    if year and sep and sep in "./-" and month:
        return m.end("m"), [(int(n), int(month))]  # 2024.05, 2024-08-31
    if len(n) <= 2 and not sep:
        return m.end(), [(None, int(n))]  # 5 月
    if len(n) <= 2 and sep and sep != "年" and sep not in "./" and month and m["mo"]:
        return m.end(), [(None, int(n)), (None, int(month))]  # 6-7 月
    return None


def stated_dates(
    text: str, start: int = 0, end: int | None = None
) -> Iterator[tuple[int, int, list[Date]]]:
    """(start, end, dates) of each date or range of dates in ``text[start:end]``:
    "2017年至2018年" is one range of two dates, "6-7 月" too."""
    stop = len(text) if end is None else end
    month = text.find("月", start, stop) != -1
    if not month and text.find("年", start, stop) == -1 and not _YEAR_SEP.search(text, start, stop):
        return  # no date can be there (most sentences): found without a scan for numbers
    read: list[tuple[int, int, list[Date]]] = []
    for m in _ARABIC.finditer(text, start, stop):
        at = m.start()
        if at and text[at - 1] in "0123456789.":
            continue  # the tail of another figure
        if (got := _reading(m)) is not None:
            read.append((at, *got))
    chinese: list[tuple[int, int, list[Date]]] = [
        (m.start(), m.end(), [(None, _CN_MONTH[m.group()[:-1]])])
        for m in (_CHINESE.finditer(text, start, stop) if month else ())
        if m.group()[:-1] in _CN_MONTH
    ]
    if chinese:  # else the numbers are in order already
        read = sorted(read + chinese, key=lambda r: r[0])
    found: list[tuple[int, int, list[Date]]] = []
    for a, b, dates in read:
        if any(mo is not None and not 1 <= mo <= 12 for _, mo in dates):
            continue
        if found and _RANGE.fullmatch(text, found[-1][1], a):
            first, _, before = found[-1]
            found[-1] = (first, b, before + dates)  # "2017年至2018年": one range
        else:
            found.append((a, b, dates))
    yield from found
