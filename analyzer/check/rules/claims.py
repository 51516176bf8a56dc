"""Claims: superlatives and firsts (首创, 第一, 领跑, 唯一 …) need evidence in the same sentence."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.check import vocab
from analyzer.check.context import CheckContext
from analyzer.check.model import Finding
from analyzer.check.registry import rule


@rule("claims.unsupported")
def unsupported(ctx: CheckContext) -> Iterator[Finding]:
    done: set[int] = set()
    for section in ctx.doc.sections:
        for claim in vocab.CLAIM.finditer(ctx.text, section.start, section.end):
            sentence = ctx.sentence_at(claim.start())
            if sentence is None or sentence.start in done:
                continue
            done.add(sentence.start)
            if ctx.metrics_within(sentence.start, sentence.end):
                continue  # a number backs it
            if ctx.source_within(sentence.start, sentence.end):
                continue  # a source backs it
            yield ctx.warning(
                section.key,
                f"{ctx.title(section.key)}：「{claim.group()}」是没有证据的说法。请在同一句给出依据"
                "（具体数字、排名及其来源、第三方认证），或删去这一说法。",
                claim.span(),
            )
