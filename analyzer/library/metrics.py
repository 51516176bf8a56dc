"""Find the quantified results in entry text and normalize them.

``3000 万+`` → 30,000,000 (bound lower), ``10w+`` → 100,000, ``近万个`` → 10,000 (approx),
``同比增长157%`` → 157 % (change increase), ``91%~100%`` → range 91..100. Each figure gets the
canonical measure it belongs to (曝光, 阅读, 互动 …) from the keywords of ``templates/measures.toml``
in its clause; that file documents how a keyword is chosen.

Pure regex, compiled once, in four passes over the text:

1. fold full-width digits, ``％`` and ``＋``, and traditional characters to simplified (one
   character for one, so offsets hold: ``3000 萬+`` is read as ``3000 万+``);
2. mask what is never a result: URLs, file names, ids, dates and periods, times, years, ordinals
   (第 11 届), festivals (双11, 11.11), fractions (1/5, skipped on purpose) and phone numbers;
3. match figures: qualifier (超过/近/上) + number + magnitude (万/亿/w/k) + unit (次/人/元/%) +
   suffix (+/以上/内);
4. drop durations (24小时), ranks (前3名), names (H5, 4G, Top200, 360PC) and bare numbers that
   have no ``+``, ``%``, magnitude, unit or measure word right before them.
"""

from __future__ import annotations

import bisect
import math
import re
from decimal import Decimal
from typing import NamedTuple

from analyzer.library.measurewords import MEASURES_FILE, Keyword, Keywords, vocab
from analyzer.library.parsed import Metric
from analyzer.paths import templates_dir
from analyzer.zh.fold import NUMERIC, fold, fold_width
from analyzer.zh.numbers import chinese_value, magnitude
from analyzer.zh.segments import CLAUSE_END, SENTENCE_END, ends

OTHER = "其他"
NEAR_BEFORE = 10  # non-space characters between a label and its figure ("CPL 实际完成率 114%")
NEAR_AFTER = 4  # "超过 20+ 主流媒体", "5.5亿流量转化"

_S = r"[ \t]*"  # spaces inside a figure never cross a line
_SEP = r"[~～\-—–至到]"
_YEAR = r"(?:19|20)[0-9]{2}"
_URLCHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"

_MASK = re.compile(
    # The leading class lets the engine skip CJK text at once; every pattern starts with one of these.
    r"(?=[0-9A-Za-z双第])(?:"
    + "|".join(
        [
            rf"(?:https?|ftp)://{_URLCHARS}+|www\.{_URLCHARS}+",
            r"[A-Za-z0-9._+\-]+@[A-Za-z0-9\-]+\.[A-Za-z0-9.\-]+",
            # ids: long runs mixing letters and digits (XMzgwNDI4MTY2OA==)
            r"(?<![A-Za-z0-9])(?=[A-Za-z0-9+/]*[A-Za-z])(?=[A-Za-z0-9+/]*[0-9])[A-Za-z0-9+/]{10,}={0,2}",
            # dates and periods: 2019.07.12-09.19, 2018/04~2019/03, 2018-12-24, 2018年12月
            rf"(?<![0-9.]){_YEAR}{_S}[./\-年]{_S}[0-9]{{1,2}}(?:{_S}[./\-月]{_S}[0-9]{{1,2}}{_S}[日号]?)?"
            rf"(?:{_S}{_SEP}+{_S}(?:{_YEAR}{_S}[./\-年]{_S})?[0-9]{{1,2}}(?:{_S}[./\-月]{_S}[0-9]{{1,2}})?{_S}[日号月]?)?(?![0-9])",
            rf"(?<![0-9.]){_YEAR}{_S}{_SEP}{_S}{_YEAR}(?:{_S}年)?",
            rf"(?<![0-9.]){_YEAR}{_S}(?:年|届)",
            rf"(?<![0-9.])[0-9]{{1,2}}{_S}月(?:{_S}[0-9]{{1,2}}{_S}(?:{_SEP}{_S}[0-9]{{1,2}}{_S})?[日号])?",
            r"(?<![0-9])[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?![0-9])",
            r"双\s?1[12](?![0-9])|双十[一二]|(?<![0-9.])(?:11\.11|12\.12|6\.18)(?![0-9.%])",
            r"第[ \t]*[0-9零〇一二两三四五六七八九十百千]+",
            r"(?<![0-9.])[0-9]+[ \t]*/[ \t]*[0-9]+(?![0-9.])",
            r"(?<![0-9.])[0-9]+\.[0-9]+\.[0-9]+(?:\.[0-9]+)*",
            r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])|(?<![0-9])0[0-9]{2,3}-[0-9]{7,8}(?![0-9])",
            r"(?<![0-9])400-?[0-9]{3}-?[0-9]{4}(?![0-9])",
        ]
    )
    + ")",
    re.IGNORECASE,
)
# File names (微信截图_20180926094621.png) are found by their extension, then walked back.
_FILE_EXT = re.compile(
    r"\.(?:png|jpe?g|gif|bmp|webp|tiff?|pdf|docx?|pptx?|xlsx?|mp4|mov)(?![A-Za-z])", re.I
)
_FILE_NAME_MAX = 60

_NUM = r"(?<![0-9A-Za-z_.])(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?"
# 多/余 and 个 may sit inside a magnitude: 1000多万 (≥ 1e7), 1个亿 (1e8), 一千多万, 两个亿.
_MULT = rf"(?:{_S}(?:[多余](?=个?[十百千]?[万亿]))?个?(?:万亿|[十百千]?[万亿])|{_S}千|[wWkK](?![A-Za-z]))"
_CN_DIGITS = "一二两三四五六七八九十百千"
_CN = (
    r"(?<![零〇一二两三四五六七八九十百千万亿])"
    rf"(?:(?:[{_CN_DIGITS}]+[多余]|[{_CN_DIGITS}]*)个?[万亿]+)+(?![不别要火])"
)
# Small Chinese numbers count only with a qualifier: 十余家, 一百多人, 上百家, 数十篇, 几十个.
_CN_SMALL = (
    rf"(?P<sq>上|数|几)(?P<sn>[{_CN_DIGITS}]*[十百千])"
    rf"|(?<![零〇一二两三四五六七八九十百千万亿])(?P<sn2>[{_CN_DIGITS}]*[十百千])(?=[多余])"
    # …or right after 近/约/超/逾: 近百家, 近五十个, 约二十人
    rf"|(?<=[近约超逾])(?P<sn3>[{_CN_DIGITS}]*[十百千])(?![万亿])"
)
_LOWER_PRE = tuple("不少于 不低于 超过 超出 多于 高于 大于 至少 突破 逾 超 过 破".split())  # noqa: SIM905
_APPROX_PRE = tuple("将近 接近 大约 大概 约 近".split())  # noqa: SIM905
_UPPER_PRE = tuple("不超过 不到 不足 少于 低于 最多 至多".split())  # noqa: SIM905
# single characters only where a word cannot end in them: 通过, 打破, 预约, 最近
_PRE = "|".join(p for p in (*_UPPER_PRE, *_LOWER_PRE, *_APPROX_PRE) if len(p) > 1) + (
    r"|(?<![通经越])过|(?<![打突])破|(?<![预签节制合大])约|(?<![最附接将靠])近|逾|超"
)
_UNIT = (
    r"%|个百分点|百分点|人次|人民币|RMB|元|块钱|美元|USD|倍|个(?!月|小时|半|星期|工作日|季度|百分点)"
    r"|人|次|条|篇|支|名(?!称|单|字)|位(?!于|置)|家(?!电|庭|居|具)|场|款|件|份|单(?!位|品)"
    r"|张|部(?!门|分)|户|所(?!有|以|在)|台|辆|套|项(?!目)|票|组(?!织|合)|座(?!位|谈|椅|右|标|落)|册|间(?!隔|断|接)"
)
_SUFFIX = r"\+|以上|以内|之内|以下|左右|内(?![容部地外存蒙心涵测置])"

_FIRST = "".join(sorted({p[0] for p in (*_LOWER_PRE, *_APPROX_PRE, *_UPPER_PRE)}))
_FIGURE = re.compile(
    # A figure starts with a qualifier, a digit or a Chinese numeral: skip everything else at once.
    rf"(?=[0-9{_FIRST}上数几一二两三四五六七八九十百千万亿])"
    rf"(?:(?P<pre>{_PRE}){_S})?"
    rf"(?:(?P<num>{_NUM})(?P<mult>{_MULT})?"
    rf"(?:{_S}(?P<pct>%)?{_S}{_SEP}{_S}(?P<num2>{_NUM})(?P<mult2>{_MULT})?)?"
    rf"|(?P<cnq>上|数|几)?(?P<cn>{_CN})|{_CN_SMALL})"
    rf"(?P<more>多|余)?(?:{_S}(?P<plus>\+))?(?:{_S}(?P<unit>{_UNIT}))?(?:{_S}(?P<suf>{_SUFFIX}))?"
)
_DURATION = re.compile(
    r"[ \t]*(?:多|余)?个?半?(?:年(?!轻|均)|月(?!活|均)|日(?!活|均|访)|周(?!活|均|边)|天(?!猫|然|津)"
    r"|号|星期|小时|钟头|分钟|秒|时(?!长|尚)|点(?!击|赞|评|播)|届|期|步|代|岁|季度|世纪)"
)
_GUARANTEE = r"(?:保证|保障|确保|承诺|担保)"
_GUARANTEE_AFTER = re.compile(rf"[ \t]*的?{_GUARANTEE}")
_GUARANTEE_BEFORE = re.compile(rf"{_GUARANTEE}[ \t]*(?:达到|实现|做到)?[ \t]*$")
# ROI 1:5, 投入产出比 1:5.3: a ratio, kept as its second term (value 5, unit "ratio"). Only after
# a ratio word: elsewhere "1:5" is as often a scale, a score or a time.
_RATIO = re.compile(
    r"(?:ROI|投入产出比|投产比|产出比)[^，。；;,\n0-9]{0,6}?"
    r"(?<![0-9.])(?P<r>1(?:\.0+)?[ \t]*[:：比][ \t]*(?P<b>[0-9]+(?:\.[0-9]+)?))(?![0-9.:])",
    re.IGNORECASE,
)
RATIO_UNIT = "ratio"
_RANK_BEFORE = re.compile(r"(?:前|排名|排行|排第|top|no\.?)[ \t]*$", re.IGNORECASE)
_CONNECTORS = re.compile(r"[\s:：为达是共到了约超过]*")
_UP_BEFORE = re.compile(
    r"(?:提升|提高|增长|增加|上升|上涨|增幅|涨幅|拉升|翻了?)(?:了|约|达|高达|超过?|近|平均)?[ \t]*$"
)
_DOWN_BEFORE = re.compile(
    r"(?:下降|降低|减少|下滑|下跌|缩减|缩短|降幅|跌幅|节省|节约|减)(?:了|约|达|超过?|近|平均)?[ \t]*$"
)
_UP_AFTER = re.compile(r"[ \t]*的?(?:同比|环比)?(?:增长|提升|提高|增加|上涨|增幅)")
_DOWN_AFTER = re.compile(r"[ \t]*的?(?:同比|环比)?(?:下降|降低|减少|降幅)")
_CLAUSE_END = ends(CLAUSE_END)
_SENTENCE_END = ends(SENTENCE_END)

_CURRENCY = {
    "人民币": "元",
    "RMB": "元",
    "块钱": "元",
    "USD": "美元",
    "百分点": "%",
    "个百分点": "%",
}


def parse_number(text: str) -> float | None:
    """``"3000 万"`` → 3e7, ``"10w"`` → 1e5, ``"近万"`` → 1e4, ``"5,500,000,000"`` → 5.5e9; else None."""
    m = _FIGURE.fullmatch(fold_width(text, NUMERIC).strip())
    if not m or m.group("num2"):
        return None
    return _value(m.group("num"), m.group("mult"), m.group("cn"))


def _value(num: str | None, mult: str | None, cn: str | None) -> float | None:
    try:
        if cn:
            value = chinese_value(cn)
        elif num:
            # Decimal, so that 1.1亿 is 110000000 and not 110000000.00000001
            value = float(Decimal(num.replace(",", "")) * Decimal(magnitude(mult)))
        else:
            return None
    except (ArithmeticError, ValueError):
        return None
    return value if math.isfinite(value) else None


class _Figure(NamedTuple):
    start: int
    end: int
    value: float
    unit: str
    bound: str
    upper: float | None
    bare: bool  # no +, %, magnitude or unit: kept only right after a measure word


def extract_metrics(text: str, *, base: int = 0, section: str = "") -> list[Metric]:
    """Every quantified claim in ``text``, in order; offsets are ``base`` + position in ``text``.

    Never raises on any string. Each metric's ``section`` is ``section`` (the key of the section
    ``text`` is the body of; "" when the caller assigns sections by offset).
    """
    words = vocab(templates_dir() / MEASURES_FILE)
    # Traditional → simplified too (萬 億 個 點擊 閱讀), one character for one like the width fold.
    folded = fold(fold_width(text, NUMERIC))
    ratios = _ratios(folded)
    if ratios:  # taken out before masking: "ROI 1:15" is not a time of day
        parts, last = [], 0
        for r in ratios:
            parts += [folded[last : r.start], "\x00" * (r.end - r.start)]
            last = r.end
        folded = "".join([*parts, folded[last:]])
    masked = _mask(folded)
    figures = [f for f in map(_figure, _FIGURE.finditer(masked)) if f is not None]
    if ratios:
        figures = sorted(figures + ratios)
    if not figures:
        return []
    keywords = Keywords(
        [
            Keyword(m.start(), m.end(), name, name in words.fallback)
            for m in words.regex.finditer(masked)
            if (name := words.measure_of.get(m.group("kw").lower()))
        ]
    )
    clause_ends = [m.start() for m in _CLAUSE_END.finditer(masked)]
    sentence_ends = [m.start() for m in _SENTENCE_END.finditer(masked)]
    out: list[Metric] = []
    taken = 0  # end of the last figure, or of the keyword after it that named it
    for i, fig in enumerate(figures):
        start, end = fig.start, fig.end
        lo = max(_bound_before(clause_ends, start), taken)
        nxt = figures[i + 1].start if i + 1 < len(figures) else len(masked)
        hi = min(_bound_after(clause_ends, end, len(masked)), nxt)
        before, after = keywords.before(lo, start), keywords.after(end, hi)
        if fig.bare and not _labelled(before, masked, start, fig.value):
            continue
        measure, label, taken = OTHER, "", end
        prev = out[-1] if out else None
        if chosen := _choose(before, after, masked, start, end):
            a, b = keywords.extend(chosen)
            measure, label = chosen.measure, text[a:b]
            taken = max(end, b)
        elif prev and _same_sentence(sentence_ends, prev, base, fig):
            measure, label = prev.measure, prev.label
        elif above := _line_above(masked, start, end, keywords):
            measure, label = above.measure, text[above.start : above.end]
        out.append(
            Metric(
                text=text[start:end],
                value=fig.value,
                unit=fig.unit,
                measure=measure,
                start=base + start,
                end=base + end,
                bound=fig.bound,
                upper=fig.upper,
                label=label,
                change=_change(masked, start, end),
                section=section,
            )
        )
    return out


def _ratios(folded: str) -> list[_Figure]:
    if "ROI" not in folded.upper() and "产出比" not in folded and "投产比" not in folded:
        return []
    out = []
    for m in _RATIO.finditer(folded):
        value = _value(m.group("b"), None, None)
        if value is not None:
            out.append(_Figure(m.start("r"), m.end("r"), value, RATIO_UNIT, "exact", None, False))
    return out


def _mask(folded: str) -> str:
    """Blank out (same length) what is never a result: URLs, ids, dates, ordinals, file names …"""
    masked = _MASK.sub(lambda m: "\x00" * len(m.group()), folded)
    spans: list[tuple[int, int]] = []
    for m in _FILE_EXT.finditer(masked):
        start = m.start()
        while start > max(0, m.start() - _FILE_NAME_MAX) and (
            masked[start - 1].isalnum() or masked[start - 1] in "_-"
        ):
            start -= 1
        start = max(start, spans[-1][1] if spans else 0)  # 截图_1.png图片4.png: no overlap
        if start < m.start():
            spans.append((start, m.end()))
    if not spans:
        return masked
    parts, last = [], 0
    for a, b in spans:
        parts += [masked[last:a], "\x00" * (b - a)]
        last = b
    return "".join([*parts, masked[last:]])


def _figure(m: re.Match[str]) -> _Figure | None:
    masked = m.string
    g = m.groupdict()
    cn = g["cn"] or g["sn"] or g["sn2"] or g["sn3"]
    if g["cn"] and not (g["pre"] or g["cnq"] or g["cn"][0] not in "万亿"):
        return None  # 万面, 亿级: a magnitude alone is not a number
    core_end = max(
        m.end(k) for k in ("num", "mult", "num2", "mult2", "cn", "sn", "sn2", "sn3") if g[k]
    )
    if core_end < len(masked) and masked[core_end].isascii() and masked[core_end].isalpha():
        return None  # 4G, 360PC, 17PR
    if _DURATION.match(masked, core_end):
        return None  # 24小时, 3个月, 10月
    value = _value(g["num"], g["mult"] or g["mult2"], cn)
    if value is None:
        return None
    if _GUARANTEE_AFTER.match(masked, m.end()) or _GUARANTEE_BEFORE.search(
        masked, max(0, m.start() - 6), m.start()
    ):
        return None  # 100%保证服务安全, 确保 95% 到达: a promise, not a result
    unit = g["unit"] or ""
    if (
        not cn
        and unit in ("", "名", "位")
        and _RANK_BEFORE.search(masked, max(0, m.start() - 6), m.start())
    ):
        return None  # 前3名, Top 10
    upper = _value(g["num2"], g["mult2"], None) if g["num2"] else None
    end = m.end()
    while masked[end - 1] in " \t":
        end -= 1
    return _Figure(
        start=m.start(),
        end=end,
        value=value,
        unit=_CURRENCY.get(unit, unit),
        bound=_bound(g, upper),
        upper=upper,
        bare=not (g["mult"] or g["mult2"] or cn or g["plus"] or unit or g["suf"] == "+"),
    )


def _bound(g: dict[str, str | None], upper: float | None) -> str:
    pre, suf = g["pre"] or "", g["suf"] or ""
    if upper is not None:
        return "range"
    if pre in _APPROX_PRE or suf == "左右":
        return "approx"
    if pre in _UPPER_PRE or suf in ("以内", "之内", "以下", "内"):
        return "upper"
    inner_more = any(ch in (g["mult"] or "") + (g["cn"] or "") for ch in "多余")  # 一千多万
    if pre in _LOWER_PRE or pre in ("过", "破") or g["cnq"] or g["sq"] or g["more"] or g["plus"]:
        return "lower"
    if inner_more:
        return "lower"
    return "lower" if suf in ("+", "以上") else "exact"


def _labelled(before: list[Keyword], masked: str, start: int, value: float) -> bool:
    """A bare number counts only right after a measure word (阅读数 12345), and never as a year."""
    if not before or (value.is_integer() and 1900 <= value <= 2099):
        return False
    return _CONNECTORS.fullmatch(masked, before[0].end, start) is not None


def _gap(masked: str, a: int, b: int) -> int:
    return sum(1 for ch in masked[a:b] if not ch.isspace())


def _choose(
    before: list[Keyword], after: list[Keyword], masked: str, start: int, end: int
) -> Keyword | None:
    """Specific measures before 增长; a keyword right before, right after, then farther off."""
    for fallback in (False, True):
        b = [k for k in before if k.fallback == fallback]
        a = [k for k in after if k.fallback == fallback]
        if b and _gap(masked, b[0].end, start) <= NEAR_BEFORE:
            return b[0]
        if a and _gap(masked, end, a[0].start) <= NEAR_AFTER:
            return a[0]
        if b or a:
            return b[0] if b else a[0]
    return None


def _bound_before(ends: list[int], pos: int) -> int:
    i = bisect.bisect_left(ends, pos)
    return ends[i - 1] + 1 if i else 0


def _bound_after(ends: list[int], pos: int, size: int) -> int:
    i = bisect.bisect_left(ends, pos)
    return ends[i] if i < len(ends) else size


def _same_sentence(ends: list[int], prev: Metric, base: int, fig: _Figure) -> bool:
    """An enumeration (…共2206个,其中外部业务1896个) carries on the measure of its first figure."""
    if prev.measure == OTHER or (prev.unit == "%") != (fig.unit == "%"):
        return False
    i = bisect.bisect_left(ends, prev.end - base)
    return i >= len(ends) or ends[i] >= fig.start


def _line_above(masked: str, start: int, end: int, keywords: Keywords) -> Keyword | None:
    """A figure alone on its line (a slide's big number) belongs to the line above it."""
    line_start = masked.rfind("\n", 0, start) + 1
    line_end = masked.find("\n", end)
    line_end = len(masked) if line_end < 0 else line_end
    if masked[line_start:start].strip() or masked[end:line_end].strip(" \t。.!！"):
        return None
    above_end = line_start - 1
    while above_end > 0 and not masked[masked.rfind("\n", 0, above_end) + 1 : above_end].strip():
        above_end = masked.rfind("\n", 0, above_end)
    if above_end <= 0:
        return None
    found = keywords.before(masked.rfind("\n", 0, above_end) + 1, above_end)
    specific = [k for k in found if not k.fallback]
    return specific[0] if specific else (found[0] if found else None)


def _change(masked: str, start: int, end: int) -> str:
    """increase / decrease when the figure is a change (提升 24%), "" for a level (提升至 48%)."""
    if _UP_BEFORE.search(masked, max(0, start - 8), start) or _UP_AFTER.match(masked, end):
        return "increase"
    if _DOWN_BEFORE.search(masked, max(0, start - 8), start) or _DOWN_AFTER.match(masked, end):
        return "decrease"
    return ""
