"""Results: quantified, compared with a baseline, and sourced where the award demands it."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.check import vocab
from analyzer.check.context import CheckContext
from analyzer.check.findings import Finding
from analyzer.check.registry import rule
from analyzer.library.parsed import Metric

CHANGE_LOOKBEHIND = 10  # characters before a figure where 提升/增长 makes it a change


@rule("results.no_metrics", "效果没有量化指标")
def no_metrics(ctx: CheckContext) -> Iterator[Finding]:
    for spec in ctx.schema.sections:
        section = ctx.present.get(spec.key)
        if not spec.needs_metrics or section is None or ctx.chars[spec.key] == 0:
            continue
        if ctx.metrics_by_section.get(spec.key):
            continue
        yield ctx.error(
            spec.key,
            f"{spec.title}：没有量化指标。请补充曝光、互动或转化等具体数字及来源"
            "（如「曝光量 3000 万+，数据来源：第三方监测」）。",
            (section.start, section.end),
        )


def is_change(ctx: CheckContext, m: Metric) -> bool:
    if m.change:
        return True
    before = ctx.text[max(0, m.start - CHANGE_LOOKBEHIND) : m.start]
    return bool(vocab.CHANGE_BEFORE.search(before) or vocab.CHANGE_AFTER.match(ctx.text, m.end))


@rule("results.no_baseline", "变化幅度没有基线")
def no_baseline(ctx: CheckContext) -> Iterator[Finding]:
    for m in ctx.result_metrics:
        if not is_change(ctx, m):
            continue
        sentence = ctx.sentence_at(m.start)
        start, end = (sentence.start, sentence.end) if sentence else (m.start, m.end)
        if vocab.BASELINE.search(ctx.text, start, max(end, m.end)):
            continue
        phrase = _clause_before(ctx, max(start, m.start - CHANGE_LOOKBEHIND - 6), m)
        section = ctx.result_section(m)
        yield ctx.warning(
            section,
            f"{ctx.title(section)}：「{phrase}」是变化幅度，但没有说明和什么比、从多少到多少。"
            "请写明基线（如「同比」「较活动前」「从 2.1% 提升到 3.1%」）。",
            (m.start, m.end),
        )


def _clause_before(ctx: CheckContext, floor: int, m: Metric) -> str:
    """The words leading up to a figure within its clause ("TAUV%提升 48%")."""
    head = ctx.text[floor : m.start]
    cut = max(head.rfind(c) for c in "，,；;：:、\n")
    return (head[cut + 1 :] + ctx.text[m.start : m.end]).strip()


@rule("results.no_source", "数据没有来源")
def no_source(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.schema.sources_required:
        yield from _unsourced(ctx, [m for m in ctx.doc.metrics if not ctx.is_target(m)], "每个数字")
        return
    if ctx.schema.result_sources_required:
        yield from _unsourced(ctx, ctx.result_metrics, "每项效果数据")
        return
    # Where the award does not demand sources, one gentle note per results section (or for
    # the results written at the end of another section).
    groups = [
        (section.key, ctx.metrics_by_section.get(section.key, []))
        for section in ctx.results_present
    ]
    if ctx.elsewhere is not None:
        groups.append((ctx.result_section(ctx.elsewhere.metrics[0]), list(ctx.elsewhere.metrics)))
    for key, metrics in groups:
        if metrics and not any(ctx.source_of(m.start, m.end, m.section) for m in metrics):
            yield ctx.suggestion(
                key,
                f"{ctx.title(key)}：效果数据都没有注明来源。建议写明数据来源"
                "（如「数据来源：第三方监测」「据后台统计，截至 2019 年 9 月」），评审更信服。",
                (metrics[0].start, metrics[-1].end),
            )


def _unsourced(ctx: CheckContext, candidates: list[Metric], what: str) -> Iterator[Finding]:
    """Awards like Effie (every figure) or TopDigital (every result): one error per sentence
    whose figures do not say where they come from."""
    by_sentence: dict[tuple[int, int], list[Metric]] = {}
    for m in candidates:
        if ctx.source_of(m.start, m.end, m.section):
            continue
        sentence = ctx.sentence_at(m.start)
        key = (sentence.start, sentence.end) if sentence else (m.start, m.end)
        by_sentence.setdefault(key, []).append(m)
    for metrics in by_sentence.values():
        first = metrics[0]
        section = ctx.result_section(first)
        figures = "、".join(f"「{m.text}」" for m in metrics[:4]) + (
            "等" if len(metrics) > 4 else ""
        )
        yield ctx.error(
            section,
            f"{ctx.title(section)}：{figures}没有注明数据来源，{ctx.schema.name}要求{what}都有来源。"
            "请在同一句或紧接的一行写明来源（如「数据来源：秒针监测，截至 2019 年 9 月」）。",
            (first.start, metrics[-1].end),
        )
