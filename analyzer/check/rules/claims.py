"""Claims: superlatives and firsts (首创, 第一, 领跑, 唯一 …) need evidence nearby: a ranking, a
share, a certification or a source, in the claim's sentence or the one before or after it.

When the check has the brief, a claim the brief never makes is ``brief.unsupported_claim`` (an
error) and is not reported here a second time."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.check import vocab
from analyzer.check.context import CheckContext, Span
from analyzer.check.findings import Finding
from analyzer.check.registry import rule
from analyzer.quality.against_brief import unsupported_claims


def _window(
    ctx: CheckContext, sentence: Span, section_start: int, section_end: int
) -> tuple[int, int]:
    """The claim's sentence with the one before and the one after it, within the section."""
    lo, hi = sentence.start, sentence.end
    if lo - 1 > section_start and (before := ctx.sentence_at(lo - 1)) is not None:
        lo = min(lo, before.start)
    if hi + 1 < section_end and (after := ctx.sentence_at(hi + 1)) is not None:
        hi = max(hi, after.end)
    return lo, hi


@rule("claims.unsupported", "没有证据的最高级说法")
def unsupported(ctx: CheckContext) -> Iterator[Finding]:
    done: set[int] = set()
    skip: set[int] = set()  # claims brief.unsupported_claim reports: the brief never says them
    for section in ctx.doc.sections:
        if ctx.brief is not None:
            skip |= {section.start + i.start for i in unsupported_claims(section.text, ctx.brief)}
        for claim in vocab.CLAIM.finditer(ctx.text, section.start, section.end):
            if claim.start() in skip:
                continue
            sentence = ctx.sentence_at(claim.start())
            if sentence is None or sentence.start in done:
                continue
            done.add(sentence.start)
            lo, hi = _window(ctx, sentence, section.start, section.end)
            cited = ctx.cites(section) and ctx.source_within(lo, hi)
            if cited or vocab.CLAIM_EVIDENCE.search(ctx.text, lo, hi):
                continue  # a ranking, share, certification or source backs it
            yield ctx.warning(
                section.key,
                f"{ctx.title(section.key)}：「{claim.group()}」是没有证据的说法。请在这句或紧挨的一句给出依据"
                "（排名或份额及其来源、第三方认证），或删去这一说法。",
                claim.span(),
            )
