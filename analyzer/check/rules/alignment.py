"""Objectives ↔ results: each measurable objective is answered by a result on the same measure,
and each headline result answers an objective."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.check.context import CheckContext
from analyzer.check.findings import Finding
from analyzer.check.measures import informative, keywords_in, measure_label
from analyzer.check.registry import rule


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@rule("alignment.objectives_not_measurable", "目标不可衡量")
def objectives_not_measurable(ctx: CheckContext) -> Iterator[Finding]:
    specs = [s for s in ctx.schema.sections if "objectives" in s.kinds and s.key in ctx.present]
    if not specs or any(o.measures for o in ctx.objectives) or not ctx.results_specs:
        return
    spec = specs[0]
    section = ctx.present[spec.key]
    if not section.text.strip():
        return  # sections.empty says it
    what = "没有写明目标" if not ctx.objectives else "目标没有落到可衡量的指标上"
    yield ctx.warning(
        spec.key,
        f"{spec.title}：{what}。请写明要提升哪项指标（如曝光、互动、转化、销量、知名度）"
        "及目标值，效果部分再逐项对应回答。",
        (section.start, section.end),
    )


@rule("alignment.objective_unmatched", "目标没有对应的效果")
def objective_unmatched(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.result_metrics:
        return  # no results at all: results.no_metrics / sections.missing say so
    for objective in ctx.objectives:
        # a precise keyword (复购率, 好感度) is answered only by a result naming it
        missed = [(w, a, b) for w, a, b in objective.exact if not ctx.answers_exact(w)]
        for word, a, b in missed:
            start, end = ctx.unmarked(a, b)
            clause = ctx.text[start:end]
            yield ctx.warning(
                objective.section,
                f"{ctx.title(objective.section)}：目标“{_short(clause)}”要求{word}，"
                f"但效果部分没有{word}的数据（其他指标不能代替）。请补上{word}的结果，或修改目标。",
                (start, end),
            )
        if not objective.measures:
            continue  # nothing to answer: the results' measures need not be read
        exact_measures = {
            ctx_measure for w, _, _ in missed for ctx_measure, word in keywords_in(w) if word == w
        }
        answered = ctx.result_measures
        unanswered = objective.measures - answered.keys() - exact_measures
        if not unanswered:
            continue
        names = ctx.measure_names(unanswered)
        first = next(m for m, _, _ in objective.clauses if m in unanswered)
        start, end = ctx.unmarked(*objective.clause_of(first))
        clause = ctx.text[start:end]
        met = objective.measures & answered.keys()
        if met:  # say which part is answered, so the user sees what is left
            what = (
                f"涉及{ctx.measure_names(objective.measures)}：效果里有{ctx.measure_names(met)}"
                f"的数据，但没有{names}的数据。请在效果里补上{names}的结果"
            )
        else:
            what = f"涉及{names}，但效果部分没有对应的{names}数据。请在效果里补上这项指标的结果"
        yield ctx.warning(
            objective.section,
            f"{ctx.title(objective.section)}：目标“{_short(clause)}”{what}，或修改目标。",
            (start, end),
        )


@rule("alignment.result_unmatched", "效果没有对应的目标")
def result_unmatched(ctx: CheckContext) -> Iterator[Finding]:
    targeted = {m for o in ctx.objectives for m in o.measures}
    if not targeted:
        return  # alignment.objectives_not_measurable covers it
    seen: set[str] = set()
    for m in ctx.result_metrics:
        if not informative(m.measure) or m.measure in targeted or m.measure in seen:
            continue
        seen.add(m.measure)
        name = measure_label(m.measure)
        section = ctx.result_section(m)
        yield ctx.suggestion(
            section,
            f"{ctx.title(section)}：结果「{m.text}」（{name}）没有对应任何营销目标。"
            f"如果{name}是本次的目标之一，请在目标里写明；否则说明它如何支撑已写明的目标。",
            (m.start, m.end),
        )


@rule("alignment.objective_unclear", "目标值没有写明指标")
def objective_unclear(ctx: CheckContext) -> Iterator[Finding]:
    for objective in ctx.objectives:
        for a, b in objective.unnamed:
            start, end = ctx.unmarked(a, b)
            clause = ctx.text[start:end]
            yield ctx.warning(
                objective.section,
                f"{ctx.title(objective.section)}：目标“{_short(clause)}”有目标值，但没有写明是哪项指标"
                "（曝光、互动、销量、知名度、市场份额……），无法与效果对应。请写明指标名称。",
                (start, end),
            )
