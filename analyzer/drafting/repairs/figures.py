"""Repairs of the brief's facts and figures in a section's prose.

The model clips an objective ("18-30 岁人群的认知度"), words a brief figure into another fact
("中国在全球约600家门店" for "品牌在全国约 600 家门店") or drops a figure; each is put back as the
brief words it, and noted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from analyzer.quality.against_brief import flipped_negations
from analyzer.zh.numbers import DATE, figures
from analyzer.zh.segments import CLAUSE_END, COLON, LIST_MARK

if TYPE_CHECKING:
    from analyzer.drafting.context import SectionContext


def clipped_step(text: str, ctx: SectionContext) -> tuple[str, list[str]]:
    text, whole = complete_clipped(text, ctx.fact_lists)
    return text, [f"模型截短了简报原文，已按简报补全：{'；'.join(whole)}"] if whole else []


def figure_clauses_step(text: str, ctx: SectionContext) -> tuple[str, list[str]]:
    text, reworded = restore_figure_clauses(text, ctx.fact_lists, ctx.names)
    return text, [f"「{a}」说的与简报不同，已改回简报原文「{b}」" for a, b in reworded]


def negations_step(text: str, ctx: SectionContext) -> tuple[str, list[str]]:
    """A brief sentence said without its 不/没有 (the opposite of the brief) is the brief's again."""
    flipped = flipped_negations(text, ctx.brief)
    for issue in reversed(flipped):
        text = text[: issue.start] + issue.detail + text[issue.end :]
    return text, [
        f"「{i.text}」漏掉了简报的否定，意思反了，已改回简报原文「{i.detail}」" for i in flipped
    ]


def kept_figures_step(text: str, ctx: SectionContext) -> tuple[str, list[str]]:
    text, kept = keep_figures(text, ctx.facts)
    return text, [f"模型漏写了简报里的数据，已按简报原文补上：{'；'.join(kept)}"] if kept else []


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def keep_figures(text: str, facts: dict[str, tuple[str, ...]]) -> tuple[str, list[str]]:
    """The section's text with every brief fact whose figures it left out added to its last
    paragraph as a sentence, as the brief words it (a small model drops "全国约 600 家门店" often
    enough); and those facts. A figure counts as kept when its digits appear anywhere in the
    text."""
    plain = re.sub(r"[\s,]", "", text)
    missed = []
    for line in (line.strip() for lines in facts.values() for line in lines):
        figures = _digits(line)
        if figures and any(f not in plain for f in figures) and line not in missed:
            missed.append(line)
    if not missed:
        return text, []
    appended = []
    for line in missed:
        # the fact written without its figure ("预热期：微博和小红书发布…" for "5 月：预热期，在微博
        # 和小红书发布…"): that sentence becomes the brief's, instead of saying it twice
        text, replaced = _replace_figureless(text, line)
        if not replaced:
            appended.append(line)
    body = text.rstrip()
    if appended and body and body[-1] not in "。！？!?；;":
        body += "。"
    return body + "".join(_sentence(line) for line in appended), missed


_SENTENCE_IN = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
_SAME_FACT = 0.6  # difflib ratio, the figures left out of the fact, from which it is that fact


def _replace_figureless(text: str, fact: str) -> tuple[str, bool]:
    """``text`` with its sentence that says ``fact`` without the fact's figures replaced by the
    fact as a sentence; and whether there was one."""
    from difflib import SequenceMatcher

    bare = re.sub(r"[\s\d.,%％]|[月年日]", "", _sentence(fact))
    counts = set(_digits(fact))
    best, score = None, _SAME_FACT
    for m in _SENTENCE_IN.finditer(text):
        own = [f for f in figures(m.group()) if f.kind != DATE]
        if any(d not in counts for f in own for d in _digits(f.text)):
            continue  # it has figures of its own: another fact
        # without its figures, or with the fact's counts and another date ("2024.11-2025.02，
        # 哈尔滨完成3场实测直播" for "12 月在哈尔滨完成 3 场实测直播")
        ratio = SequenceMatcher(
            None, re.sub(r"[\s\d.,%％\-]|[月年日]", "", m.group()), bare
        ).ratio()
        if ratio >= score:
            best, score = m, ratio
    if best is None:
        return text, False
    lead = best.group()[: len(best.group()) - len(best.group().lstrip())]
    return text[: best.start()] + lead + _sentence(fact) + text[best.end() :], True


def _sentence(fact: str) -> str:
    """A brief fact as a sentence of its own: no list mark, one full stop."""
    body = fact[LIST_MARK.match(fact).end() :].strip()  # type: ignore[union-attr]
    return re.sub(r"[。；;，,、\s]+$", "", body) + "。"


def complete_clipped(text: str, fact_lists: list[tuple[str, ...]]) -> tuple[str, list[str]]:
    """The section's text with every line that is only a clipped piece of one brief fact
    ("18-30 岁人群的认知度" for the objective "提升品牌在新进入城市中 18-30 岁人群的认知度") written
    out as the brief words it; and those facts. A piece counts when it is at least 8 characters
    and half of the fact, lacks 3 or more of its characters, and lies in no other fact."""
    facts = [(f.strip(), re.sub(r"\s", "", f).rstrip("。；;")) for fs in fact_lists for f in fs]
    lines, whole = text.split("\n"), []
    for i, line in enumerate(lines):
        mark = LIST_MARK.match(line)
        body = line[mark.end() :] if mark else line
        piece = re.sub(r"\s", "", body).rstrip("。；;")
        if len(piece) < 8:
            continue
        holders = {(f, plain) for f, plain in facts if piece in plain}
        if len(holders) != 1:
            continue
        ((fact, plain),) = holders
        if len(plain) - len(piece) >= 3 and len(piece) * 2 >= len(plain):
            lines[i] = (mark.group(0) if mark else "") + fact
            whole.append(fact)
    return "\n".join(lines), whole


_CLAUSE = re.compile(rf"[^{re.escape(CLAUSE_END + COLON)}]+")
_LEADING_LINK = re.compile(r"(?:但是?|而且?|并且?|然而|同时|因此|所以|此外|另外)[，,]?")
_SIMILAR_CLAUSE = 0.6  # difflib ratio from which a clause holding a brief figure is the brief's


def restore_figure_clauses(
    text: str, fact_lists: list[tuple[str, ...]], names: Sequence[str] = ()
) -> tuple[str, list[tuple[str, str]]]:
    """The section's text with every clause that holds a brief fact's figures but words them
    differently ("中国在全球约600家门店" for the brief's "品牌在全国约 600 家门店") put back as the
    brief words it: what a figure counts is a fact as much as the figure. A clause is taken for
    the brief's when it holds all the figures of a brief clause and reads at least 60 % alike
    (difflib); the brand's name where the brief says 品牌 is no difference. Returns the pairs
    changed."""
    from difflib import SequenceMatcher

    brief_clauses = [
        (c.strip(), re.sub(r"\s", "", c), _digits(c))
        for facts in fact_lists
        for fact in facts
        for c in _CLAUSE.findall(fact)
        if _FIGURE.search(c)
    ]
    changed: list[tuple[str, str]] = []

    def put_back(m: re.Match[str]) -> str:
        clause = m.group()
        plain = re.sub(r"\s", "", clause)
        for name in names:
            plain = plain.replace(re.sub(r"\s", "", name), "品牌")
        figures = _digits(clause)
        if len(plain) < 6 or not figures:
            return clause
        best, score = "", 0.0
        for brief_clause, brief_plain, brief_figures in brief_clauses:
            if brief_figures != figures:
                continue
            ratio = SequenceMatcher(None, plain, brief_plain).ratio()
            if ratio > score:
                best, score = brief_clause, ratio
        if not best or score >= 1.0 or score < _SIMILAR_CLAUSE:
            return clause
        if not _LEADING_LINK.match(clause.strip()):
            # the brief's "但新用户…" said without its 但: the link belongs to the brief's
            # sentence, not to the draft's, and putting it back would break the draft's
            best = _LEADING_LINK.sub("", best)
            if re.sub(r"\s", "", best) == re.sub(r"\s", "", clause):
                return clause
        if _within(re.sub(r"\s", "", best), plain):
            return clause  # the brief's clause with words added ("约有", the brand): kept
        lead = clause[: len(clause) - len(clause.lstrip())]
        changed.append((clause.strip(), best))
        return lead + best

    return _CLAUSE.sub(put_back, text), changed


def _within(short: str, long: str) -> bool:
    """Every character of ``short`` is in ``long``, in order."""
    rest = iter(long)
    return all(c in rest for c in short)


def _digits(text: str) -> tuple[str, ...]:
    return tuple(f.replace(",", "") for f in _FIGURE.findall(text))
