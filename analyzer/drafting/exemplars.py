"""Which similar cases' passages a section's prompt may show, and in what form.

Search always returns the *most* similar cases, however unrelated: a tea brand got a cloud-AI
contest and a car maker's marketing system. :func:`choose` keeps a candidate only when it is
really close to the brief: its embedding similarity to the section's facts must beat the
similarity of a content-free marketing paragraph (:data:`GENERIC`) by :data:`MIN_MARGIN`; a case
of the brief's own industry gets :data:`INDUSTRY_BONUS` and comes first. Measured with the
bundled e5 on the sample briefs and library: unrelated cases' sections beat the generic paragraph
by -0.01 to +0.047, passages about the same kind of campaign by +0.047 to +0.065.

A 0.5B model copies any passage it is shown, so :func:`outline` gives the prompt only the shape of
a passage (how many paragraphs, its sub-headings, how it opens), never its content; see
``bench/exemplar_forms.py`` for the measurement behind that choice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from analyzer.errors import AwardWriterError
from analyzer.library.exemplar import Exemplar

if TYPE_CHECKING:
    from analyzer.documents.document import DraftDocument

# (text, *, award, section_key, kind, k) → passages: library_exemplars(library) or
# exemplar_source(draft, library) give one.
ExemplarFn = Callable[..., Sequence[Exemplar]]

log = logging.getLogger(__name__)

MIN_MARGIN = 0.04
INDUSTRY_BONUS = 0.03
GENERIC = "本次营销活动通过线上线下多渠道传播，提升了品牌知名度和用户参与度，取得了良好的市场反馈。"
OPENING_CHARS = 14  # of the exemplar's first sentence, shown as a pattern

_INDUSTRY_SPLIT = re.compile(r"[/／、,，;；|与和及\s]+")
_LABEL = re.compile(
    r"^\s*(?:[0-9一二三四五六七八九十]+[、.．)）]\s*)?(?P<label>[^\n：:。，,]{2,12})[：:]"
)


# (texts) → similarity of each text to the query, minus that of GENERIC; None when unavailable.
Similarity = Callable[[str, Sequence[str]], list[float] | None]


@dataclass(frozen=True)
class Candidate:
    """An exemplar with how close it is to the brief."""

    exemplar: Exemplar
    score: float  # similarity margin over GENERIC (+ the industry bonus)
    same_industry: bool

    @property
    def label(self) -> str:
        return self.exemplar.label


def choose(
    query: str,
    candidates: Sequence[Exemplar],
    k: int,
    *,
    industry: str = "",
    similarity: Similarity | None = None,
) -> tuple[list[Candidate], list[Candidate]]:
    """(kept, dropped): at most ``k`` candidates close enough to ``query``, best first."""
    if not candidates or k <= 0:
        return [], []
    margins = (similarity or embedding_margin)(query, [c.text for c in candidates])
    scored = []
    for i, ex in enumerate(candidates):
        same = industries_match(industry, ex.industry)
        if margins is None:  # no embedder: only a case of the same industry is safe to show
            score = INDUSTRY_BONUS + MIN_MARGIN if same else 0.0
        else:
            score = margins[i] + (INDUSTRY_BONUS if same else 0.0)
        scored.append(Candidate(ex, score, same))
    scored.sort(key=lambda c: (not c.same_industry, -c.score))
    kept = [c for c in scored if c.score >= MIN_MARGIN][:k]
    dropped = [c for c in scored if c not in kept]
    return kept, dropped


def industries_match(a: str, b: str) -> bool:
    """``餐饮/新茶饮`` matches ``餐饮``; ``科技`` does not match ``汽车行业``."""
    parts_a = {p.removesuffix("行业") for p in _INDUSTRY_SPLIT.split(a) if len(p) >= 2}
    parts_b = {p.removesuffix("行业") for p in _INDUSTRY_SPLIT.split(b) if len(p) >= 2}
    return any(x in y or y in x for x in parts_a for y in parts_b if x and y)


def embedding_margin(query: str, texts: Sequence[str]) -> list[float] | None:
    """Cosine similarity of each text to the query with the bundled e5, minus GENERIC's."""
    try:
        from analyzer.search.embed import get_embedder

        embedder = get_embedder()
        q = embedder.embed_queries([query])[0]
        vectors = embedder.embed_passages([GENERIC, *[t[:1200] for t in texts]])
    except (ImportError, OSError, AwardWriterError) as exc:
        log.info("exemplar relevance unavailable: %s", exc)
        return None
    sims = vectors @ q
    return [float(s - sims[0]) for s in sims[1:]]


def outline(text: str) -> str:
    """The shape of a passage without its content: paragraphs, sub-headings, how it opens."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]
    labels = []
    body = []  # paragraphs with content (a bare "策略：" only names a block)
    for p in paragraphs:
        m = _LABEL.match(p)
        if m and p[m.end() :].strip():
            labels.append(m.group("label").strip())
        if not m or p[m.end() :].strip():
            body.append(p[m.end() :].strip() if m else p)
    first = re.split(r"[，。；：,:;]", body[0])[0] if body else ""
    # No numerals here: a number in the prompt is a number the model may write.
    parts = ["分段叙述" if len(paragraphs) > 1 else "一段写完"]
    if len(labels) >= 2:
        parts.append(f"每段以小标题开头（如「{labels[0]}」「{labels[1]}」）")
    if first and not re.search(r"[0-9０-９]", first):
        opening = first[:OPENING_CHARS] + ("……" if len(first) > OPENING_CHARS else "")
        parts.append(f"开头句式类似「{opening}」")
    return "；".join(parts)


def library_exemplars(library: Any) -> ExemplarFn:
    """``analyzer.search.query.find_exemplars`` over ``library``, each passage with its case's
    industry and names (brand, advertiser …) so the drafter can judge and guard it."""
    from analyzer.drafting.guards.copyguard import case_names
    from analyzer.search.query import find_exemplars

    def find(text: str, **kwargs: Any) -> list[Exemplar]:
        out = []
        for ex in find_exemplars(library, text, **kwargs):
            try:
                case = library.get_case(ex.case_id)
            except AwardWriterError:
                continue
            names_from = [
                v
                for k, v in (case.fields or {}).items()
                if any(w in k for w in ("广告主", "企业", "品牌", "公司", "客户"))
            ]
            names = case_names(ex.title, ex.text, [case.brand, *names_from])
            out.append(replace(ex, industry=case.industry, names=names))
        return out

    return find


def exemplar_source(draft: DraftDocument, library: Any = None) -> ExemplarFn:
    """Where the drafter takes exemplars from (an :data:`ExemplarFn`).

    The passages the user copied into the draft come first (those of the section's kind, or of
    no kind); then, when the library has a search index already, the most similar cases' same
    section. An index is never built here: drafting must not wait for it.
    """
    fallback = None
    if library is not None:
        from analyzer.search.index import open_index

        if not open_index(library.home).is_empty():
            from functools import partial

            from analyzer.search.query import find_exemplars

            fallback = partial(find_exemplars, library)

    def find(
        text: str,
        *,
        award: str | None = None,
        section_key: str | None = None,
        kind: str | None = None,
        k: int = 3,
    ) -> list[Exemplar]:
        mine: list[Exemplar] = [e for e in draft.exemplars if e.kind in ("", kind)]
        if fallback is not None and len(mine) < k:
            found = fallback(text, award=award, section_key=section_key, kind=kind, k=k)
            taken = {e.case_id for e in mine}
            mine += [e for e in found if e.case_id not in taken]
        return mine[:k]

    return find


def typical_lengths(library: Any, award: str, *, min_cases: int = 3) -> dict[str, int]:
    """Section key → how long the award's entries in the library write that section (the
    median), for sections that at least ``min_cases`` entries have; {} without a library."""
    if library is None:
        return {}
    try:
        return dict(library.section_lengths(award, min_cases=min_cases))
    except AwardWriterError:
        return {}
