"""Detectors against the brief a text was written from.

* :func:`unsupported_claims` — a superlative or first the brief never makes ("全球领先" when the
  brief says nothing of the kind);
* :func:`moved_figures` — a brief figure or date stated for another fact: the draft sentence
  restates a brief statement that holds a different number of the same kind, and the number it
  uses belongs to another brief statement ("打造了 12.6万个露营地" where the brief has 新增会员
  12.6万人 and 合作营地 38个; "7月：收官期" where the brief says "8 月：收官期").

A brief statement is one clause of a fact line, or a result row (measure：value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from analyzer.documents.brief import Brief
from analyzer.quality.issues import CHANGED_DATE, MOVED, UNSUPPORTED, Issue
from analyzer.quality.text import claims
from analyzer.zh.fold import CASELESS, fold_width
from analyzer.zh.numbers import COUNT, DATE, VAGUE, Figure, figures
from analyzer.zh.segments import CLAUSE_END, ends

# Clauses end at commas and sentence ends, not at a colon: "8 月：收官期" is one statement.
_CLAUSE = ends(CLAUSE_END)
_NOT_WORDS = re.compile(r"[\s\d.,%+，。；;：:、！？!?（）()“”\"'\-~～至到]")
# A draft clause is about a brief statement when this share of its wording (character pairs) is
# the statement's; it restates the statement for sure from RESTATES.
ABOUT = 0.25
RESTATES = 0.5


@dataclass(frozen=True)
class Statement:
    """One brief statement and the numbers it holds."""

    text: str
    numbers: frozenset[tuple[str, float]]

    @cached_property
    def words(self) -> set[str]:
        return _bigrams(self.text)


def unsupported_claims(text: str, brief: Brief) -> list[Issue]:
    """Superlatives and firsts of ``text`` that no line of the brief makes."""
    said = fold_width("\n".join(brief.all_text()), CASELESS)
    return [
        Issue(UNSUPPORTED, m.start(), m.end(), m.group())
        for m in claims(text)
        if fold_width(m.group(), CASELESS) not in said
    ]


def statements(brief: Brief) -> list[Statement]:
    """The brief's statements with numbers: fact clauses and result rows."""
    out = []
    lines = [line for name in ("background", "insights", "objectives", "strategy", "creative",
                               "execution") for line in getattr(brief, name)]  # fmt: skip
    pieces = [c for line in lines for c in _clauses(line)]
    pieces += [f"{row.measure}：{row.value}" for row in brief.results]
    if brief.period:
        pieces.append(f"执行时间：{brief.period}")
    for piece in pieces:
        numbers = _numbers(piece)
        if numbers:
            out.append(Statement(piece, numbers))
    return out


def moved_figures(text: str, brief: Brief) -> list[Issue]:
    """Numbers of ``text`` that the brief holds, stated for another fact than the brief's."""
    known = statements(brief)
    names = [n for n in (brief.brand, brief.advertiser, brief.title) if n]
    out: list[Issue] = []
    pos = 0
    for clause in _clauses(text, keep_offsets=True):
        start = text.find(clause, pos)
        pos = start + len(clause)
        plain = clause
        for name in names:  # the brand's name says nothing of what a figure counts
            plain = plain.replace(name, "")
        words = _bigrams(plain)
        if len(words) < 2:
            continue
        for fig in figures(clause):
            if fig.kind == VAGUE or (fig.kind == COUNT and fig.value < 10):
                continue  # 三段, 两个: small counts say too little of what they count
            key = (fig.kind, fig.value)
            owners = [s for s in known if key in s.numbers]
            if not owners:
                continue  # not the brief's: the fact guard marks it
            about = max(known, key=lambda s: _overlap(words, s.words))
            closeness = _overlap(words, about.words)
            owner = max(owners, key=lambda s: _overlap(words, s.words))
            if fig.kind != DATE and len(words) >= 3 and _overlap(words, owner.words) == 0:
                about = owner  # a count said of something its statement never names
            elif about in owners or closeness < ABOUT:
                continue  # about the number's own statement, or about nothing in particular
            elif (
                _overlap(words, owner.words) >= min(closeness, RESTATES)
                or key in about.numbers
                or not _same_kind(about, fig)
            ):
                continue
            out.append(
                Issue(
                    CHANGED_DATE if fig.kind == DATE else MOVED,
                    start + fig.start,
                    start + fig.end,
                    fig.text.strip(),
                    detail=about.text,
                )
            )
    return out


def _clauses(text: str, *, keep_offsets: bool = False) -> list[str]:
    parts = [p for p in _CLAUSE.split(text)]
    return parts if keep_offsets else [p.strip() for p in parts if p.strip()]


def _numbers(text: str) -> frozenset[tuple[str, float]]:
    return frozenset((f.kind, f.value) for f in figures(text) if f.kind != VAGUE)


def _same_kind(statement: Statement, fig: Figure) -> bool:
    return any(kind == fig.kind for kind, _ in statement.numbers)


def _bigrams(text: str) -> set[str]:
    plain = _NOT_WORDS.sub("", text)
    return {plain[i : i + 2] for i in range(len(plain) - 1)}


def _overlap(words: set[str], other: set[str]) -> float:
    """The share of a clause's wording (character pairs) found in another."""
    return len(words & other) / len(words) if words else 0.0


__all__ = ["Statement", "moved_figures", "statements", "unsupported_claims"]
