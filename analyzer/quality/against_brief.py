"""Detectors against the brief a text was written from.

* :func:`unsupported_claims` — a superlative or first the brief never makes ("全球领先" when the
  brief says nothing of the kind);
* :func:`moved_figures` — a brief figure or date stated for another fact: the draft sentence
  restates a brief statement that holds a different number of the same kind, and the number it
  uses belongs to another brief statement ("打造了 12.6万个露营地" where the brief has 新增会员
  12.6万人 and 合作营地 38个; "7月：收官期" where the brief says "8 月：收官期");
* :func:`foreign_figures` — a figure or date the brief does not hold at all (the same value of
  the same kind, as the fact guard compares them), with the brief statement it changes when the
  clause restates one ("9月：收官期" where the brief says "8 月：收官期");
* :func:`flipped_negations` — a sentence that rewords a brief sentence without one of its
  negations, so it says the opposite ("车主怕的是续航变短" for "车主怕的不是续航变短，而是…");
* :func:`pasted_share` — how much of a text is the brief's points copied as they stand (a
  draft that strings the brief's lines together has not been written);
* :func:`unknown_names` — a quoted name (“…”, 「…」, 《…》, #话题#) the brief never gives, with the
  brief's name it changes when one is close (“晒出你的城市之夏” for “晒出你的城市夏天”).

A brief statement is one clause of a fact line, or a result row (measure：value).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

from analyzer.documents.brief import Brief
from analyzer.markers import PENDING
from analyzer.quality.issues import (
    CHANGED_DATE,
    FLIPPED,
    FOREIGN,
    MOVED,
    NAME,
    UNSUPPORTED,
    Issue,
)
from analyzer.quality.text import claims
from analyzer.zh.fold import CASELESS, fold_width
from analyzer.zh.numbers import COUNT, DATE, VAGUE, Figure, figures, vague_key
from analyzer.zh.segments import CLAUSE_END, LIST_MARK, ends

# Clauses end at commas and sentence ends, not at a colon: "8 月：收官期" is one statement.
# A comma between digits groups thousands (3,200处): it ends no clause.
_CLAUSE = re.compile(rf"{ends(CLAUSE_END).pattern}(?<!\d,(?=\d{{3}}))")
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
                or _own_piece(clause, fig, owner)
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


def foreign_figures(text: str, brief: Brief) -> list[Issue]:
    """Numbers of ``text`` the brief does not hold, the same value of the same kind (vague
    magnitudes by their words). One marked 【待核实】 is left to the mark. ``detail``: the brief
    statement the clause restates with another number of that kind (a changed figure or month),
    or "" when it restates none (a figure added since)."""
    values, vague = brief_numbers(brief)
    known = statements(brief)
    out: list[Issue] = []
    pos = 0
    for clause in _clauses(text, keep_offsets=True):
        start = text.find(clause, pos)
        pos = start + len(clause)
        words: set[str] | None = None
        for fig in figures(clause):
            if fig.kind == VAGUE:
                if vague_key(fig.text) in vague:
                    continue
            elif any(k == fig.kind and math.isclose(v, fig.value, rel_tol=1e-6) for k, v in values):
                continue
            if PENDING.match(clause, fig.end) or PENDING.match(clause.replace(" ", ""), fig.end):
                continue  # marked already: the mark is the finding
            if words is None:
                words = _bigrams(clause)
            changed = [
                s for s in known if _same_kind(s, fig) and _overlap(words, s.words) >= RESTATES
            ]
            best = max(changed, key=lambda s: _overlap(words, s.words), default=None)
            out.append(
                Issue(
                    FOREIGN,
                    start + fig.start,
                    start + fig.end,
                    fig.text.strip(),
                    detail=best.text if best else "",
                )
            )
    return out


def brief_numbers(brief: Brief) -> tuple[frozenset[tuple[str, float]], frozenset[str]]:
    """Every number of the brief as (kind, value), and its vague magnitudes' words."""
    values: set[tuple[str, float]] = set()
    vague: set[str] = set()
    for line in brief.all_text():
        for fig in figures(line):
            if fig.kind == VAGUE:
                vague.add(vague_key(fig.text))
            else:
                values.add((fig.kind, fig.value))
    return frozenset(values), frozenset(vague)


# A name as a text quotes it: “一杯夏天”, 「城市杯」, 《电工师傅上门体检》, #晒出你的城市夏天#.
_QUOTED = re.compile(
    r"“([^“”\n]{2,16})”|「([^「」\n]{2,16})」|《([^《》\n]{2,16})》|#([^#\s]{2,16})#"
)
# Not a name: a sentence or clause quoted, a figure, a list item or a heading path (挑战/背景/目标).
_NOT_A_NAME = re.compile(
    r"[。！？；!?;，,：:“”「」/]|^[\s\d.,%+\-～~至到年月日万亿个]*$|^[\s\-*•·]"
)
SAME_NAME = 0.5  # share of the longer name's character pairs both have: the same name, changed


def unknown_names(text: str, brief: Brief) -> list[Issue]:
    """Quoted names of ``text`` that the brief never gives (spaces and width aside). ``detail``:
    the brief's name (a quoted one, the brand's, the advertiser's, the title) this one changes
    when most of their wording is shared (“古日健身房” for 口袋健身房), else ""."""
    said = _plain("\n".join(brief.all_text()))
    theirs = {
        name: _bigrams(name)
        for line in brief.all_text()
        for m in _QUOTED.finditer(line)
        if (name := next(g for g in m.groups() if g))
    }
    theirs.update({n: _bigrams(n) for n in (brief.brand, brief.advertiser, brief.title) if n})
    marks = [m.span() for m in PENDING.finditer(text)]  # the drafter's notes are no names
    out = []
    for m in _QUOTED.finditer(text):
        name = next(g for g in m.groups() if g)
        if _NOT_A_NAME.search(name) or _plain(name) in said:
            continue
        if any(a <= m.start() < b for a, b in marks):
            continue
        words = _bigrams(name)
        close = max(theirs, key=lambda n: len(words & theirs[n]), default="")
        shared = len(words & theirs[close]) if close else 0
        same = shared >= 2 and shared >= SAME_NAME * max(len(words), len(theirs[close]))
        out.append(Issue(NAME, m.start(), m.end(), m.group(), detail=close if same else ""))
    return out


# Words that turn a statement round. A sentence that follows a brief sentence closely but has
# fewer of them says the opposite.
_NEGATION = re.compile(r"不|没|未|无|非|别|勿")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
SAME_SENTENCE = 0.6  # difflib ratio from which a sentence is the brief's sentence reworded


def flipped_negations(text: str, brief: Brief) -> list[Issue]:
    """Every sentence of ``text`` that rewords a brief sentence with fewer negations than it
    (``detail``: the brief's sentence, as a sentence of its own)."""
    from difflib import SequenceMatcher

    negated = [
        (sentence, plain, len(_NEGATION.findall(plain)))
        for sentence in _brief_sentences(brief)
        if _NEGATION.search(plain := re.sub(r"\s", "", sentence))
    ]
    out: list[Issue] = []
    if not negated:
        return out
    for m in _SENTENCE.finditer(text):
        plain = re.sub(r"\s", "", m.group())
        count = len(_NEGATION.findall(plain))
        for sentence, brief_plain, brief_count in negated:
            if count < brief_count and (
                SequenceMatcher(None, plain, brief_plain).ratio() >= SAME_SENTENCE
            ):
                start = m.start() + len(m.group()) - len(m.group().lstrip())
                out.append(Issue(FLIPPED, start, m.end(), m.group().strip(), sentence))
                break
    return out


def _brief_sentences(brief: Brief) -> list[str]:
    """The brief's fact lines cut into sentences, each ending on its full stop."""
    out = []
    for line in brief.all_text():
        for m in _SENTENCE.finditer(line.strip().lstrip("-•* ")):
            body = re.sub(r"[。；;，,、\s]+$", "", m.group())
            if body:
                out.append(body + "。")
    return out


# The share of a prose section's characters that may be the brief's points as they stand.
MAX_PASTED = 0.3
COPIED_RUN = 12  # characters in a row taken from the brief that make a copied passage


def pasted_share(prose: str, brief: Brief) -> float:
    """The share of the prose's characters that stand in passages of ``COPIED_RUN`` or more
    characters copied word for word from the brief's points, however they are joined (a line,
    a sentence, several points run into one paragraph). Names and figures are shorter: quoting
    them is not copying."""
    facts = [_point(line) for name in ("background", "insights", "objectives", "strategy",
             "creative", "execution") for line in getattr(brief, name)]  # fmt: skip
    runs = {f[i : i + COPIED_RUN] for f in facts for i in range(len(f) - COPIED_RUN + 1)}
    plain = "".join(_point(line) for line in prose.split("\n"))
    if not plain:
        return 0.0
    covered = [False] * len(plain)
    for i in range(len(plain) - COPIED_RUN + 1):
        if plain[i : i + COPIED_RUN] in runs:
            covered[i : i + COPIED_RUN] = [True] * COPIED_RUN
    return sum(covered) / len(plain)


def _point(line: str) -> str:
    body = line[LIST_MARK.match(line).end() :]  # type: ignore[union-attr]  # always matches
    return re.sub(r"[\s。；;，,]", "", body)


def _plain(text: str) -> str:
    return "".join(fold_width(PENDING.sub("", text), CASELESS).split())


def _own_piece(clause: str, fig: Figure, owner: Statement) -> bool:
    """Whether the piece of the clause holding the number (between colons) restates the
    number's own statement: "小程序点单三段联动：为 12 座城市…" joins two brief facts with a
    colon, and its 三 is said of its own one ("8 月：收官期" is one statement, its piece "8 月"
    names nothing)."""
    start = max(clause.rfind(c, 0, fig.start) for c in "：:") + 1
    ends = [i for c in "：:" if (i := clause.find(c, fig.end)) != -1]
    words = _bigrams(clause[start : min(ends, default=len(clause))])
    return len(words) >= 2 and _overlap(words, owner.words) >= RESTATES


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


__all__ = [
    "Statement",
    "brief_numbers",
    "foreign_figures",
    "moved_figures",
    "statements",
    "unknown_names",
    "unsupported_claims",
]
