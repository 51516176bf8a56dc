"""A draft against the brief it was written from: every figure, date and name the brief's.

These rules run only when the check has the brief (a ``.awdraft``, or the 撰写 page's draft with
its form filled in). The detectors are :mod:`analyzer.quality.against_brief`:

* a brief figure or month stated for another fact (``brief.moved_figure``, error);
* a figure the brief does not hold where the clause restates a brief fact with another number
  (``brief.changed_figure``, error: "9月：收官期" for the brief's "8 月：收官期"), or anywhere
  else (``brief.unknown_figure``, warning: it may be true, but nobody has it on record);
* a brief sentence said without one of its negations, the opposite of the brief
  (``brief.flipped``, error: "书是缺的，而是…" for "最缺的不是书，而是…");
* a quoted name the brief spells otherwise (``brief.changed_name``, error) or never gives
  (``brief.unknown_name``, warning);
* a superlative the brief never makes (``brief.unsupported_claim``, error: a judge asks for the
  proof, and the brief has none);
* a prose section that is mostly the brief's points strung together as they stand
  (``brief.pasted``, warning: facts right, but nobody wrote the section).
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.check.context import CheckContext
from analyzer.check.findings import Finding
from analyzer.check.registry import rule
from analyzer.check.rules.writing import sections, short, span
from analyzer.kinds import OBJECTIVES, RESULTS
from analyzer.quality.against_brief import (
    MAX_PASTED,
    flipped_negations,
    foreign_figures,
    moved_figures,
    pasted_share,
    unknown_names,
    unsupported_claims,
)


def _clause(ctx: CheckContext, start: int) -> str:
    a, b = ctx.clause_span(start)
    return short(ctx.text[a:b].strip())


@rule("brief.moved_figure", "简报的数字写到了别的事上")
def moved(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.brief is None:
        return
    for section in sections(ctx):
        for issue in moved_figures(section.text, ctx.brief):
            start, end = span(section, issue)
            yield ctx.error(
                section.key,
                f"{ctx.title(section.key)}：「{_clause(ctx, start)}」里的「{issue.text}」在简报中"
                f"说的是另一件事；这件事简报写的是「{issue.detail}」。请按简报改正。",
                (start, end),
            )


@rule("brief.changed_figure", "与简报不符的数字或日期")
def changed(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.brief is None:
        return
    for section in sections(ctx):
        for issue in foreign_figures(section.text, ctx.brief):
            if not issue.detail:
                continue  # brief.unknown_figure
            start, end = span(section, issue)
            yield ctx.error(
                section.key,
                f"{ctx.title(section.key)}：「{_clause(ctx, start)}」里的「{issue.text}」与简报不符，"
                f"简报写的是「{issue.detail}」。请按简报改正。",
                (start, end),
            )


@rule("brief.unknown_figure", "简报里没有的数字")
def unknown(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.brief is None:
        return
    for section in sections(ctx):
        for issue in foreign_figures(section.text, ctx.brief):
            if issue.detail:
                continue  # brief.changed_figure
            start, end = span(section, issue)
            yield ctx.warning(
                section.key,
                f"{ctx.title(section.key)}：「{_clause(ctx, start)}」里的「{issue.text}」不在简报中。"
                "如果属实，请把它和来源补进简报；否则请改正或删去。",
                (start, end),
            )


@rule("brief.flipped", "与简报意思相反的句子")
def flipped(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.brief is None:
        return
    for section in sections(ctx):
        for issue in flipped_negations(section.text, ctx.brief):
            yield ctx.error(
                section.key,
                f"{ctx.title(section.key)}：「{short(issue.text)}」少了简报里的否定，意思与简报相反；"
                f"简报写的是「{short(issue.detail)}」。请按简报改正。",
                span(section, issue),
            )


@rule("brief.changed_name", "与简报不符的名称")
def changed_name(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.brief is None:
        return
    for section in sections(ctx):
        for issue in unknown_names(section.text, ctx.brief):
            if issue.detail:
                yield ctx.error(
                    section.key,
                    f"{ctx.title(section.key)}：{issue.text}与简报写法不同，简报写的是"
                    f"“{issue.detail}”。名称请与简报一致。",
                    span(section, issue),
                )


@rule("brief.unknown_name", "简报里没有的名称")
def unknown_name(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.brief is None:
        return
    for section in sections(ctx):
        for issue in unknown_names(section.text, ctx.brief):
            if not issue.detail:
                yield ctx.warning(
                    section.key,
                    f"{ctx.title(section.key)}：简报里没有{issue.text}。如果它是活动、话题或作品的名称，"
                    "请核对；如果只是强调，可以去掉引号。",
                    span(section, issue),
                )


@rule("brief.unsupported_claim", "简报没有依据的最高级说法")
def unsupported_claim(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.brief is None:
        return
    for section in sections(ctx):
        for issue in unsupported_claims(section.text, ctx.brief):
            yield ctx.error(
                section.key,
                f"{ctx.title(section.key)}：「{issue.text}」是简报里没有的说法，评审会要求证据。"
                "请删去；如果属实，先在简报里写明依据（排名、份额或认证及其来源）。",
                span(section, issue),
            )


@rule("brief.pasted", "正文大多照搬简报原句")
def pasted(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.brief is None:
        return
    for section in sections(ctx):
        if section.kind in (RESULTS, OBJECTIVES):
            continue  # results list the brief's rows, objectives state the brief's goals
        share = pasted_share(section.text, ctx.brief)
        if share > MAX_PASTED:
            yield ctx.warning(
                section.key,
                f"{ctx.title(section.key)}：正文 {share:.0%} 是简报要点的原句，读来是要点的罗列，"
                "还没有写成参赛稿。请用自己的话把它们连成段落，事实和数字保持不变。",
            )
