"""Header fields: required ones present; the campaign period a real date range inside the window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from analyzer.check.context import CheckContext
from analyzer.check.findings import Finding
from analyzer.check.registry import rule
from analyzer.library.sections import Period, parse_period, period_problem

_EXAMPLES = {"period": "2019.07.12-2019.09.19"}


def field_span(ctx: CheckContext, value: str) -> tuple[int, int] | None:
    """Where a header field's line is (fields sit before the first section)."""
    head = ctx.doc.sections[0].start if ctx.doc.sections else len(ctx.text)
    at = ctx.text.find(value, 0, head)
    if at == -1:
        at = ctx.text.find(value)
    if at == -1:
        return None
    line_start = ctx.text.rfind("\n", 0, at) + 1
    return (line_start, at + len(value))


@rule("fields.missing", "缺少表头字段")
def missing(ctx: CheckContext) -> Iterator[Finding]:
    for spec in ctx.schema.fields:
        if not spec.required or ctx.doc.field_value(spec.key):
            continue
        example = _EXAMPLES.get(spec.type, "……")
        yield ctx.error(
            "",
            f"缺少表头字段「{spec.title}」：请在正文前单独一行写明，如「{spec.title}：{example}」。",
        )


_PERIOD_PROBLEMS = {
    "ongoing": "还没有结束日期（「至今」）。参评需要写明截止到哪一天，效果数据也按这个日期统计",
    "reversed": "结束日期早于开始日期，请核对",
    "no_date": "包含不存在的日期，请核对",
    "no_year": "没有年份，请写上年份",
    "malformed": "不是完整的起止日期",
}


@rule("fields.period_malformed", "执行时间写法有误")
def period_malformed(ctx: CheckContext) -> Iterator[Finding]:
    for spec in ctx.schema.fields:
        value = ctx.doc.field_value(spec.key)
        if spec.type != "period" or not value:
            continue
        problem = period_problem(value)
        if not problem:
            continue
        yield ctx.error(
            "",
            f"{spec.title}「{value}」{_PERIOD_PROBLEMS[problem]}。请写成带年份的起止日期，"
            f"如「{spec.title}：{_EXAMPLES['period']}」。",
            field_span(ctx, value),
        )


def _as_date(day: tuple[int, int, int]) -> date:
    y, m, d = day
    for dd in (d, 30, 29, 28):  # "2019.02.31" or a defaulted end day
        try:
            return date(y, m, dd)
        except ValueError:
            continue
    return date(y, m, 1)


def outside(period: Period, start: date | None, end: date | None) -> str:
    """ "" when inside; "none" when no day of it falls in the window; "partly" otherwise."""
    a, b = _as_date(period.start), _as_date(period.end)
    lo, hi = start or date.min, end or date.max
    if b < lo or a > hi:
        return "none"
    return "partly" if a < lo or b > hi else ""


@rule("fields.period_outside_window", "执行时间不在参评期内")
def period_outside_window(ctx: CheckContext) -> Iterator[Finding]:
    window = ctx.eligibility
    if window is None or (window.start is None and window.end is None):
        return
    for spec in ctx.schema.fields:
        value = ctx.doc.field_value(spec.key)
        period = parse_period(value) if spec.type == "period" and value else None
        if period is None or not value:
            continue
        where = outside(period, window.start, window.end)
        if where == "none":
            yield ctx.error(
                "",
                f"{spec.title}「{value}」完全不在参评期（{window.label}）内：这个项目不符合本届参评条件，"
                "请核对执行时间，或改报符合时间要求的奖项。",
                field_span(ctx, value),
            )
        elif where == "partly":
            yield ctx.warning(
                "",
                f"{spec.title}「{value}」有一部分在参评期（{window.label}）之外。"
                "请说明参评期内的执行与效果，效果数据只计参评期内的部分。",
                field_span(ctx, value),
            )
