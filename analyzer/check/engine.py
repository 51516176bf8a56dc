"""Run the registered rules over one entry and build the report (score, sections, evidence)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from analyzer.check.context import CheckContext
from analyzer.check.findings import (
    Eligibility,
    EvidenceRow,
    Finding,
    Report,
    ScoreCap,
    SectionStatus,
)
from analyzer.check.registry import RuleSpec, rule_title, rules_for
from analyzer.library.parsed import Metric, ParsedDocument
from analyzer.schema import AwardSchema, get_award

if TYPE_CHECKING:
    from analyzer.documents.brief import Brief
    from analyzer.documents.document import DraftDocument
    from analyzer.library.store import Library

# How much one finding takes from its section's share of the score (a section scores 0..1).
SECTION_PENALTY = {"error": 0.5, "warning": 0.15, "suggestion": 0.0}
# Points off the total for findings about the entry as a whole (header fields, length, agency).
DOCUMENT_PENALTY = {"error": 5.0, "warning": 1.0, "suggestion": 0.0}
ELSEWHERE_CREDIT = 0.25  # results that exist but sit under another heading
_SEVERITY_RANK = {"error": 0, "warning": 1, "suggestion": 2}
EVIDENCE_METRICS = 8  # metrics listed per evidence row
# Findings for which an award disqualifies an entry outright (an agency named where forbidden,
# a campaign run entirely outside the eligibility window): the score cannot pass half.
BLOCKING = frozenset({"award.agency_name", "fields.period_outside_window"})
BLOCKED_SCORE = 50
# An entry with any error-level finding is not ready to submit: whatever its sections earn, the
# score stays at or below this until the errors are fixed.
ERROR_SCORE = 70
MAX_PER_RULE = 30  # findings of one rule listed; the rest are summed up in one more


def check_document(
    doc: ParsedDocument,
    *,
    schema: AwardSchema | None = None,
    library: Library | None = None,
    eligibility: Eligibility | None = None,
    rules: list[RuleSpec] | None = None,
    brief: Brief | None = None,
    draft: bool = False,
    written: dict[str, str] | None = None,
) -> Report:
    """Check a parsed entry against its award (``schema``, else the award it was parsed as).

    When ``schema`` names another award than the one ``doc`` was parsed as, the text is parsed
    again as that award, so sections are those the award defines. ``library`` enables the
    comparison with similar cases; ``eligibility`` the campaign-period window; ``rules``
    replaces the registered rules (tests, tools that run one family). ``draft``: the entry is a
    draft written in the app (what a model leaves behind is an error); ``brief``: the brief it
    was written from (every figure, date and name is checked against it); ``written``: the
    draft's section texts as written, before the parser cleaned them.
    """
    if schema is None:
        schema = get_award(doc.award or "generic")
    elif schema.key != doc.award:
        from analyzer.library.parse import parse_text

        doc = parse_text(doc.text, award=schema.key, name=doc.title)
    ctx = CheckContext(
        doc,
        schema,
        library=library,
        eligibility=eligibility,
        brief=brief,
        draft=draft,
        written=written,
    )
    findings: list[Finding] = []
    unlisted: dict[str, int] = {}  # rule → findings summed up in its last one
    for spec in rules if rules is not None else rules_for(schema.key, entry=doc.is_entry):
        if not doc.is_entry and not spec.references:
            continue
        ctx.rule = spec.id
        found = list(spec.function(ctx))
        if len(found) > MAX_PER_RULE:
            rest = len(found) - MAX_PER_RULE
            unlisted[spec.id] = rest - 1  # the summing-up finding counts as one
            found = found[:MAX_PER_RULE]
            last = found[-1]
            found.append(
                Finding(
                    spec.id,
                    last.severity,
                    last.section,
                    f"同类问题还有 {rest} 处没有逐条列出（规则 {spec.id}）。请先改正上面列出的，再检查一次。",
                    (last.span[1], last.span[1]) if last.span else None,
                )
            )
        findings.extend(found)
    rank = {s.key: i for i, s in enumerate(schema.sections)}
    findings.sort(
        key=lambda f: (
            rank.get(f.section, -1) if f.section else -2,
            _SEVERITY_RANK[f.severity],
            f.span[0] if f.span else -1,
        )
    )
    weights = _weights(schema)
    statuses = _statuses(ctx, findings, weights)
    raw = _score(ctx, findings, statuses, weights)
    cap = _cap(ctx, findings, raw, unlisted)
    return Report(
        award=schema.key,
        award_name=schema.name,
        title=doc.title,
        is_entry=doc.is_entry,
        score=min(raw, cap.limit) if cap else raw,
        sections=statuses,
        findings=tuple(findings),
        evidence=_evidence(ctx) if doc.is_entry else (),
        text=doc.text,
        cap=cap,
        brief=ctx.brief is not None,
    )


def check_draft(
    draft: DraftDocument,
    *,
    schema: AwardSchema | None = None,
    library: Library | None = None,
    eligibility: Eligibility | None = None,
) -> Report:
    """Check a draft document (the 撰写 page's, or a saved ``.awdraft``) as a draft, against the
    brief it carries when that brief holds any facts."""
    return check_document(
        draft.to_parsed(),
        schema=schema or get_award(draft.award),
        library=library,
        eligibility=eligibility,
        brief=draft_brief(draft),
        draft=True,
        written={s.key: s.text for s in draft.sections},
    )


def draft_brief(draft: DraftDocument) -> Brief | None:
    """The brief a draft was written from, or None when its form holds no facts (or a result
    row the brief cannot read: the brief rules then stay silent rather than guess)."""
    from analyzer.documents.brief import FACT_FIELDS
    from analyzer.errors import AwardWriterError

    try:
        brief = draft.to_brief()
    except AwardWriterError:
        return None
    if brief.results or any(getattr(brief, name) for name in FACT_FIELDS):
        return brief
    return None


def check_file(
    path: str | os.PathLike[str],
    award: str | None = None,
    *,
    library: Library | None = None,
    eligibility: Eligibility | None = None,
    max_total_chars: int | None = None,
    max_section_chars: dict[str, int] | None = None,
    brief: Brief | None = None,
) -> Report:
    """Read, parse and check one file (a document, or a draft saved by the app as
    ``.awdraft``); raises ReadError subclasses when it cannot be read.

    A ``.awdraft`` is checked as a draft against the brief it carries; ``brief`` checks any
    other file as a draft written from that brief (an exported Markdown or Word draft).

    ``max_total_chars`` / ``max_section_chars`` (section key → limit) set length limits the
    award's schema does not carry (this year's rules, a client's brief); a section key the award
    does not have is a ValueError.
    """
    from analyzer.documents.document import DRAFT_SUFFIX, load_draft
    from analyzer.library.parse import parse_file

    schema = get_award(award) if award else None
    if os.fspath(path).lower().endswith(DRAFT_SUFFIX):
        draft = load_draft(path)
        schema = schema or get_award(draft.award)
        if max_total_chars or max_section_chars:
            schema = with_limits(schema, max_total_chars, max_section_chars or {})
        return check_draft(draft, schema=schema, library=library, eligibility=eligibility)
    if brief is not None and not award and brief.award:
        schema = get_award(brief.award)  # the award the draft was written for
    doc = parse_file(path, award=schema.key if schema else None)
    if max_total_chars or max_section_chars:
        schema = with_limits(
            schema or get_award(doc.award or "generic"), max_total_chars, max_section_chars or {}
        )
    return check_document(
        doc,
        schema=schema,
        library=library,
        eligibility=eligibility,
        brief=brief,
        draft=brief is not None,
    )


def with_limits(schema: AwardSchema, total: int | None, sections: dict[str, int]) -> AwardSchema:
    """The schema with these length limits (characters, spaces not counted) in force."""
    import dataclasses

    keys = {s.key for s in schema.sections}
    if unknown := sorted(set(sections) - keys):
        raise ValueError(
            f"{schema.name}没有章节 {', '.join(unknown)}（可用：{', '.join(s.key for s in schema.sections)}）"
        )
    specs = tuple(
        dataclasses.replace(s, max_chars=sections[s.key]) if s.key in sections else s
        for s in schema.sections
    )
    return dataclasses.replace(
        schema, sections=specs, max_total_chars=total or schema.max_total_chars
    )


# ---------------------------------------------------------------- score and status


def _weights(schema: AwardSchema) -> dict[str, float]:
    """The award's section weights; equal weights over required sections when it gives none."""
    given = {s.key: float(s.weight) for s in schema.sections if s.weight}
    if given:
        return given
    counted = [s for s in schema.sections if s.required] or list(schema.sections)
    return {s.key: 1.0 for s in counted}


def _statuses(
    ctx: CheckContext, findings: list[Finding], weights: dict[str, float]
) -> tuple[SectionStatus, ...]:
    total = sum(weights.values()) or 1.0
    # the award's own figures (Effie 23.3 / 30) when they are percentages already
    scale = 1.0 if abs(total - 100.0) <= 1.0 else 100.0 / total
    worst: dict[str, str] = {}
    for f in findings:
        if f.section and f.severity != "suggestion" and worst.get(f.section) != "error":
            worst[f.section] = f.severity
    out = []
    elsewhere = ctx.elsewhere
    for spec in ctx.schema.sections:
        section = ctx.present.get(spec.key)
        if section is None:
            if elsewhere is not None and spec.kind == "results":
                status, metrics = "elsewhere", len(elsewhere.metrics)
            else:
                status, metrics = ("missing" if spec.required else "absent"), 0
            chars = 0
        else:
            chars = ctx.chars[spec.key]
            metrics = len(ctx.metrics_by_section.get(spec.key, []))
            status = "empty" if chars == 0 else worst.get(spec.key, "ok")
        out.append(
            SectionStatus(
                key=spec.key,
                title=spec.title,
                required=spec.required,
                present=section is not None,
                chars=chars,
                metrics=metrics,
                status=status if ctx.doc.is_entry else ("missing" if spec.required else "absent"),
                weight=scale * weights.get(spec.key, 0.0),
            )
        )
    return tuple(out)


def _score(
    ctx: CheckContext,
    findings: list[Finding],
    statuses: tuple[SectionStatus, ...],
    weights: dict[str, float],
) -> int:
    if not ctx.doc.is_entry:
        return 0
    quality: dict[str, float] = {}
    for s in statuses:
        if s.status == "elsewhere":
            quality[s.key] = ELSEWHERE_CREDIT
        elif not s.present:
            quality[s.key] = 0.0
        else:
            quality[s.key] = 1.0
    penalty = 0.0
    for f in findings:
        if not f.section:
            penalty += DOCUMENT_PENALTY[f.severity]
        elif f.section in ctx.present and f.section in weights:
            quality[f.section] = max(0.0, quality[f.section] - SECTION_PENALTY[f.severity])
    total = sum(weights.values()) or 1.0
    value = 100.0 * sum(w * quality.get(k, 0.0) for k, w in weights.items()) / total - penalty
    return max(0, min(100, round(value)))


def _cap(
    ctx: CheckContext, findings: list[Finding], raw: int, unlisted: dict[str, int]
) -> ScoreCap | None:
    """The ceiling errors put on the score, and why: the errors to fix first, by rule."""
    errors = [f for f in findings if f.severity == "error"]
    if not ctx.doc.is_entry or not errors:
        return None
    blocking = [f for f in errors if f.rule in BLOCKING]
    limit = BLOCKED_SCORE if blocking else ERROR_SCORE
    by_rule: dict[str, list[Finding]] = {}
    for f in blocking + [f for f in errors if f.rule not in BLOCKING]:
        by_rule.setdefault(f.rule, []).append(f)
    parts = []
    for rule_id, group in by_rule.items():
        where = "、".join(
            dict.fromkeys(ctx.title(f.section) if f.section else "全文" for f in group)
        )
        parts.append(f"{rule_title(rule_id)} {len(group) + unlisted.get(rule_id, 0)} 处（{where}）")
    n = len(errors) + sum(unlisted.get(r, 0) for r in by_rule)
    head = "评奖规则会直接否决，" if blocking else ""
    reason = f"{head}有 {n} 个错误必须先解决：{'；'.join(parts)}。解决之前最高 {limit} 分。"
    return ScoreCap(limit=limit, raw=raw, reason=reason)


# ---------------------------------------------------------------- evidence table


def _row(
    ctx: CheckContext,
    criterion: str,
    section: str,
    metrics: list[Metric],
    span: tuple[int, int] | None,
) -> EvidenceRow:
    shown = metrics[:EVIDENCE_METRICS]
    return EvidenceRow(
        criterion=criterion,
        section=section,
        metrics=tuple(m.text for m in shown),
        sources=tuple(ctx.source_text(ctx.source_of(m.start, m.end, m.section)) for m in shown),
        span=span,
    )


def _evidence(ctx: CheckContext) -> tuple[EvidenceRow, ...]:
    rows: list[EvidenceRow] = []
    results = ctx.result_metrics
    for objective in ctx.objectives:
        # the goal clauses say what the objective is; the whole sentence when it has none
        goal = "；".join(dict.fromkeys(ctx.clause_text(a, b) for _, a, b in objective.clauses))
        text = goal or objective.text
        text = text if len(text) <= 40 else text[:39] + "…"
        if not objective.measures:
            rows.append(
                EvidenceRow(
                    f"目标：{text}（未量化）",
                    objective.section,
                    (),
                    (),
                    (objective.start, objective.end),
                )
            )
            continue
        matched = [
            m for m in results if m.measure in objective.measures and not ctx.is_from_value(m)
        ]
        for measure in objective.measures:
            m = ctx.result_measures.get(measure)
            if m is not None and m not in matched:
                matched.append(m)
        rows.append(
            _row(ctx, f"目标：{text}", objective.section, matched, (objective.start, objective.end))
        )
    if not ctx.objectives:
        key = next((s.key for s in ctx.schema.sections if "objectives" in s.kinds), "")
        if key:
            rows.append(EvidenceRow("目标（未写明）", key, (), (), None))
    for spec in ctx.schema.sections:
        if not spec.needs_metrics:
            continue
        section = ctx.present.get(spec.key)
        if section is not None:
            metrics = ctx.metrics_by_section.get(spec.key, [])
            rows.append(
                _row(
                    ctx, f"{spec.title}：量化结果", spec.key, metrics, (section.start, section.end)
                )
            )
        elif ctx.elsewhere is not None and spec.kind == "results":
            e = ctx.elsewhere
            rows.append(
                _row(
                    ctx,
                    f"{spec.title}：量化结果（写在「{ctx.title(e.section)}」里）",
                    spec.key,
                    list(e.metrics),
                    (e.start, e.end),
                )
            )
        else:
            rows.append(EvidenceRow(f"{spec.title}：量化结果（缺少章节）", spec.key, (), (), None))
    if ctx.schema.sources_required:
        for spec in ctx.schema.sections:
            # facts the entry reports; the targets it sets are in the objective rows
            metrics = [m for m in ctx.metrics_by_section.get(spec.key, []) if not ctx.is_target(m)]
            if spec.needs_metrics or not metrics:
                continue
            section = ctx.present[spec.key]
            rows.append(
                _row(
                    ctx, f"{spec.title}：文中数据", spec.key, metrics, (section.start, section.end)
                )
            )
    return tuple(rows)
