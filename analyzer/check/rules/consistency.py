"""Contradictions inside the entry that a rule can see without knowing the campaign.

* ``consistency.figures``: one measure stated with two different figures ("小程序新增会员 85万"
  here, "小程序新增会员达 58万" there). Two figures are about the same thing only when the words
  before them in their clause are the same, with the same dates and setting before them in the
  sentence; a change's starting value ("从 12% 提升到 27%"), a target, a part ("其中…"), a
  bound ("超 3 亿") or an approximation never contradicts.
* ``consistency.period``: a date of the campaign's story (overview, strategy, execution) that
  lies outside the period of the header field (执行时间 2024.05-2024.08, the text says the
  campaign ran in 2023, or went on into 2025); a date of the background, a baseline or a data
  cut-off is not one, and one before the period only counts against the brief a draft was
  written from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from analyzer.check.context import CheckContext
from analyzer.check.findings import Finding
from analyzer.check.measures import informative
from analyzer.check.registry import rule
from analyzer.check.rules.writing import sections, short
from analyzer.library.parsed import Metric
from analyzer.library.sections import Period, parse_period
from analyzer.zh.dates import Date, stated_dates
from analyzer.zh.segments import LIST_MARK

# ---------------------------------------------------------------- figures

# Words in a clause that make its figure part of another, or measured against another time.
_PART_OR_OTHER_TIME = re.compile(
    "其中|分别|占|同比|环比|较|相比|对比|去年|上年|上一|此前|之前|活动前|首日|首周|单日|日均|"
    "峰值|最高|最低|平均|人均|目标|预计|计划|预期"
)
# Words before a figure that say how it is stated, not what it counts.
_STATED = re.compile(
    r"(?:达到|达成|达|突破|超过|超|逾|约|近|共计|共|总计|合计|为|是|有|获得|收获|实现|新增了|带来)+$"
)
_LEAD = re.compile(
    r"^(?:此外|另外|同时|并且|而且|最终|活动期间|活动期|本次活动|本次|此次|项目期间)[，,]?"
)
_NOT_WORDS = re.compile(r"[\s，,。；;：:、（）()“”\"'—\-]")
_CHANGE_WORDS = re.compile("同比|环比|增长|提升|提高|上涨|上升|下降|降低|减少|增加|增幅|降幅")
_SCENE_SPLIT = re.compile("[，,、]")
_DIGIT = re.compile(r"\d")
SAME_VALUE = 0.01  # figures within 1% of each other are the same figure, rounded


def _subject(ctx: CheckContext, m: Metric) -> str | None:
    """What a figure counts, as its clause names it before the figure ("小程序新增会员"), with
    the dates and plain words of the sentence's clauses before it ("6月", "在抖音"); None when
    the figure is a part, a baseline, a target or names nothing of its own."""
    a, b = ctx.clause_span(m.start)
    clause = ctx.text[a:b]
    if _PART_OR_OTHER_TIME.search(clause):
        return None
    before = LIST_MARK.sub("", ctx.text[a : m.start], count=1)
    before = _STATED.sub("", _LEAD.sub("", _NOT_WORDS.sub("", before)))
    if len(_CHANGE_WORDS.sub("", before)) < 2:
        return None  # "同比增长 157%": what grew is in another clause
    sentence = ctx.sentence_at(m.start)
    setting = ""
    if sentence is not None and sentence.start < a:
        head = ctx.text[sentence.start : a]
        # the clauses before it that state no figure of their own set the scene ("在抖音，")
        setting = "".join(c for c in _SCENE_SPLIT.split(head) if not _DIGIT.search(c) or _dates(c))
    return _NOT_WORDS.sub("", setting) + "|" + before


def _dates(text: str) -> bool:
    return next(stated_dates(text), None) is not None


def _differ(a: Metric, b: Metric) -> bool:
    return abs(a.value - b.value) > SAME_VALUE * max(abs(a.value), abs(b.value))


@rule("consistency.figures", "同一指标写了两个不同的数字")
def figures_disagree(ctx: CheckContext) -> Iterator[Finding]:
    # the same thing is named by the same words: figures with the same label, unit and measure
    # are the only ones worth reading their clauses for
    values: dict[tuple[str, str, str], set[float]] = {}
    for m in ctx.doc.metrics:
        values.setdefault((m.measure, m.unit, m.label), set()).add(m.value)
    if all(len(v) < 2 for v in values.values()):
        return  # every measure has one figure (most entries)
    first: dict[tuple[str, str, str], Metric] = {}
    reported: set[tuple[str, str, str]] = set()
    for m in sorted(ctx.doc.metrics, key=lambda m: m.start):
        if (
            len(values[(m.measure, m.unit, m.label)]) < 2  # one value: nothing to compare
            or m.section not in ctx.present
            or m.bound != "exact"
            or not informative(m.measure)
            or ctx.is_target(m)
            or ctx.is_from_value(m)
        ):
            continue
        subject = _subject(ctx, m)
        if subject is None:
            continue
        key = (m.measure, m.unit, subject)
        seen = first.setdefault(key, m)
        if seen is m or not _differ(seen, m) or key in reported:
            continue
        reported.add(key)
        where = ctx.title(seen.section)
        here = "同一节" if seen.section == m.section else f"「{where}」"
        named = short(subject.split("|")[1], 16)
        yield ctx.finding(
            "error" if ctx.draft else "warning",
            m.section,
            f"{ctx.title(m.section)}：{named}写的是「{m.text}」，{here}前面写的是「{seen.text}」。"
            "同一项指标只能有一个数字，请核对后统一。",
            (m.start, m.end),
        )


# ---------------------------------------------------------------- period

# Sections that tell the campaign itself; background, research and results speak of other times
# (the market before, a baseline, a data cut-off) as a matter of course.
STORY_KINDS = frozenset({"overview", "strategy", "execution", "highlights"})
# A date about another time than the campaign's: history, plans, baselines, data cut-offs.
_OTHER_TIME = re.compile(
    "截至|截止|此前|之前|以前|以来|早在|曾经|曾|自从|起步|成立|创立|创办|始于|诞生|将继续|计划|"
    "未来|明年|次年|去年|前年|往年|历年|同比|环比|相比|较|对比|上一|预计|预期|下一|今后|届时|"
    r"(?<=年)起|(?<=月)起"
)


AFTER, BEFORE, ASIDE = 1, -1, 2  # where a date lies from the period (ASIDE: out, side unknown)


def side(period: Period, year: int | None, month: int | None) -> int:
    """0 when the date can lie within ``period``; else BEFORE, AFTER or ASIDE."""
    (sy, sm, _), (ey, em, _) = period.start, period.end
    if year is not None and month is not None:
        return BEFORE if (year, month) < (sy, sm) else AFTER if (year, month) > (ey, em) else 0
    if year is not None:
        return BEFORE if year < sy else AFTER if year > ey else 0
    if month is None or (ey - sy) * 12 + em - sm >= 11:
        return 0  # a year or more: every month is in it
    if sy == ey:
        return BEFORE if month < sm else AFTER if month > em else 0
    return ASIDE if em < month < sm else 0  # across a new year: 11 月 to 2 月


def _outside(period: Period, dates: list[tuple[int | None, int | None]]) -> int:
    """Where a date or range lies from the period: 0 when any of it can be within."""
    sides = {side(period, y, m) for y, m in dates}
    return sides.pop() if len(sides) == 1 else 0


@rule("consistency.period", "正文日期与执行时间不符")
def period_disagrees(ctx: CheckContext) -> Iterator[Finding]:
    """A date of the story after the period has ended is a contradiction (an error in a draft,
    a warning in an imported entry). One before it started is only where the brief is the
    record of what happened (a draft written from it, and the brief does not state that date):
    people tell their history ("由2017年6月开始…") in the same sections, a model invents it."""
    fields = [f for f in ctx.schema.fields if f.type == "period"]
    value = next((v for f in fields if (v := ctx.doc.field_value(f.key))), None)
    period = parse_period(value) if value else None
    if period is None or not value:
        return  # no period, or one fields.period_malformed reports
    title = next(f.title for f in fields if ctx.doc.field_value(f.key) == value)
    brief_dates = _brief_dates(ctx, value)
    for section in sections(ctx):
        kinds = ctx.kinds_of(section.key)
        if not STORY_KINDS & set(kinds) or {"background", "results"} & set(kinds):
            continue
        if ctx.brief is None and not _may_run_late(ctx.text, section.start, section.end, period):
            continue  # only a date after the period counts, and none can be written here
        done: set[int] = set()
        for start, end, dates in stated_dates(ctx.text, section.start, section.end):
            where = _outside(period, dates)
            if not where or (ctx.brief is None and where != AFTER):
                continue
            if all(_in_brief(d, brief_dates) for d in dates):
                continue  # the brief says so
            sentence = ctx.sentence_at(start)
            if sentence is None or sentence.start in done:
                continue
            text = ctx.text[sentence.start : sentence.end]
            if _OTHER_TIME.search(text):
                continue  # history, a plan, a baseline or a data cut-off
            done.add(sentence.start)  # one date per sentence says it
            yield ctx.finding(
                "error" if ctx.draft else "warning",
                section.key,
                f"{ctx.title(section.key)}：「{short(text.strip())}」里的「{ctx.text[start:end]}」"
                f"不在{title}「{value}」之内。请核对：是{title}写错了，还是这里的日期写错了。",
                (start, end),
            )


def _may_run_late(text: str, start: int, end: int, period: Period) -> bool:
    """Whether ``text[start:end]`` can state a date after ``period``: a year from its last one
    on ("2019" of a period ending in 2019.09), or a month alone ("10 月") when the period lies
    within one year and is shorter than 11 months. Found with ``str`` searches, where reading
    every date of a section scans it for numbers; most story sections state none such."""
    (sy, sm, _), (ey, em, _) = period.start, period.end
    if sy == ey and em - sm < 11 and text.find("月", start, end) != -1:
        return True
    for century in ("19", "20"):  # the years the date reader knows
        at = text.find(century, start, end)
        while at != -1:
            year = text[at : at + 4]
            if len(year) == 4 and year[2] in _DIGITS and year[3] in _DIGITS and int(year) >= ey:
                return True
            at = text.find(century, at + 1, end)
    return False


_DIGITS = "0123456789"


def _brief_dates(ctx: CheckContext, period: str) -> set[Date]:
    """The dates the brief's facts state (the brief is the truth, even outside its period)."""
    if ctx.brief is None:
        return set()
    out: set[Date] = set()
    for line in ctx.brief.all_text():
        if line != period:
            for _, _, dates in stated_dates(line):
                out.update(dates)
    return out


def _in_brief(date: Date, known: set[Date]) -> bool:
    year, month = date
    if year is None:
        return any(m == month for _, m in known)
    if month is None:
        return any(y == year for y, _ in known)
    return date in known
