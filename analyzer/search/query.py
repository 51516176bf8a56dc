"""Similar-case search: free text, a whole draft, or "more like this case".

The index is made ready by :mod:`analyzer.search.prepare` (never waiting for embeddings),
cases are ranked by :mod:`analyzer.search.ranking`; a hit shows the case's best chunk (again by
RRF, at chunk level) as a snippet with the matched query terms' spans, and says when its case
was found by keywords only (its vectors were not there yet).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analyzer.library.exemplar import Exemplar
from analyzer.search.bm25 import term_spans
from analyzer.search.calibration import Evidence, attach
from analyzer.search.index import SearchIndex, StoredChunk
from analyzer.search.prepare import (
    MODES,
    Preparation,
    check_query,
    prepare_index,
    ready_index,
    retry_on_damage,
)
from analyzer.search.ranking import (
    LONG_QUERY,
    MAX_VECTOR_PARTS,
    RRF_K,
    QueryPart,
    RankedCase,
    allowed_chunks,
    query_parts,
    rank_cases,
    representative,
    text_parts,
)
from analyzer.zh.segments import sentences as split_sentences

if TYPE_CHECKING:
    from analyzer.library.store import Library
    from analyzer.search.embed import Embedder

__all__ = [
    "LONG_QUERY",
    "MAX_VECTOR_PARTS",
    "MODES",
    "RRF_K",
    "Exemplar",
    "Preparation",
    "SearchHit",
    "find_exemplars",
    "more_like",
    "prepare_index",
    "query_parts",
    "search",
    "search_draft",
]

MAX_PARTS = 24  # stored chunks of a case that query for "more like this"
SNIPPET_CHARS = 160
LEAD = 20  # characters of context before the first highlighted term
EXEMPLAR_CHARS = 1200


@dataclass(frozen=True)
class SearchHit:
    case_id: int
    title: str
    source: str
    score: float
    section: str  # key of the best-matching section
    section_title: str
    snippet: str
    highlights: list[tuple[int, int]]  # spans of matched query terms in ``snippet``
    award: str | None
    evidence: Evidence | None = None  # what the match rests on (analyzer.search.calibration)
    keywords_only: bool = False  # found by BM25 alone: the case had no vectors yet

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "title": self.title,
            "source": self.source,
            "score": round(float(self.score), 6),
            "section": self.section,
            "snippet": self.snippet,
            "keywords_only": self.keywords_only,
        }


def _snippet(text: str, terms: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """A window of the chunk around the densest run of matched terms, with their spans."""
    long_terms = [t for t in terms if len(t) > 1] or terms
    spans = term_spans(text, long_terms)
    if len(text) <= SNIPPET_CHARS:
        return text, spans
    start = 0
    if spans:
        # the window (starting a little before a match) that holds the most matches
        best, best_count, j = 0, 0, 0
        for i, (s, _) in enumerate(spans):
            j = max(j, i)
            while j < len(spans) and spans[j][1] <= s + SNIPPET_CHARS - LEAD:
                j += 1
            if j - i > best_count:
                best, best_count = i, j - i
        start = max(0, spans[best][0] - LEAD)
        # begin at a sentence start when one is close before
        boundary = max(text.rfind(mark, max(0, start - 40), start) for mark in "。！？；\n")
        if boundary >= 0:
            start = boundary + 1
        start = min(start, max(0, len(text) - SNIPPET_CHARS))
    end = min(len(text), start + SNIPPET_CHARS)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = [(s + shift, e + shift) for s, e in spans if s >= start and e <= end]
    return prefix + text[start:end] + suffix, inside


def _hits(
    index: SearchIndex, ranked: list[RankedCase], terms_for: Any, vectors: bool
) -> list[SearchHit]:
    """``vectors``: the search asked for vectors (a hit of a case without any is marked as
    found by keywords only)."""
    chunks = index.get_chunks([r.chunk_id for r in ranked])
    cases = index.case_infos([r.case_id for r in ranked])
    embedded = index.embedded_cases() if vectors else frozenset()
    out = []
    for r in ranked:
        chunk: StoredChunk | None = chunks.get(r.chunk_id)
        info = cases.get(r.case_id)
        if chunk is None or info is None:  # changed under us by another process
            continue
        snippet, spans = _snippet(chunk.text, terms_for(chunk))
        out.append(
            SearchHit(
                case_id=r.case_id,
                title=info.title,
                source=info.source,
                score=r.score,
                section=chunk.section,
                section_title=chunk.section_title,
                snippet=snippet,
                highlights=spans,
                award=info.award,
                keywords_only=vectors and r.case_id not in embedded,
            )
        )
    return out


@retry_on_damage
def search(
    library: Library,
    query: str,
    *,
    k: int = 10,
    award: str | None = None,
    industry: str | None = None,
    category: str | None = None,
    year: int | None = None,
    mode: str = "hybrid",
    embedder: Embedder | None = None,
    exclude: tuple[int, ...] = (),
    auto_update: bool = True,
    sections: list[str] | None = None,
) -> list[SearchHit]:
    """The ``k`` cases most similar to ``query`` (a phrase, a description or a whole draft;
    ``sections``: a draft's section texts, to pick the passages that get embedded).

    New and changed cases are filed for keyword search first (``auto_update``, seconds at
    most); a case without vectors yet is found by keywords (its hit says so). An unknown
    ``award`` key raises :class:`~analyzer.errors.UnknownAwardError`.
    """
    check_query(k, mode, award)
    index, prep = ready_index(library, embedder, mode, auto_update)
    embedder = prep.embedder
    parts = text_parts(index, query, embedder, mode, sections)
    if not parts:
        return []
    allowed = allowed_chunks(
        index,
        award=award,
        industry=industry,
        category=category,
        year=year,
        exclude=(*exclude, *prep.hidden),
    )
    ranked = rank_cases(index, parts, mode, k, allowed)
    terms = sorted({t for p in parts for t in p.tokens})
    return attach(index, parts, _hits(index, ranked, lambda _chunk: terms, mode != "bm25"))


def search_draft(library: Library, draft: Any, **kwargs: Any) -> list[SearchHit]:
    """Search by a draft: its text, or a parsed document (its sections' text is used)."""
    if isinstance(draft, str):
        return search(library, draft, **kwargs)
    sections = [s.text for s in getattr(draft, "sections", ())]
    text = "\n".join(sections) or str(getattr(draft, "text", ""))
    return search(library, text, sections=sections or None, **kwargs)


@retry_on_damage
def more_like(
    library: Library,
    case_id: int,
    *,
    k: int = 10,
    award: str | None = None,
    industry: str | None = None,
    category: str | None = None,
    year: int | None = None,
    mode: str = "hybrid",
    embedder: Embedder | None = None,
    auto_update: bool = True,
) -> list[SearchHit]:
    """Cases like ``case_id`` (which is left out), from its stored chunk vectors and terms:
    up to ``MAX_PARTS`` chunk vectors (spread over its sections) and all its terms as one
    BM25 query. A case id the library does not have raises
    :class:`~analyzer.errors.CaseNotFoundError` before any work."""
    check_query(k, mode, award)
    case = library.get_case(case_id)
    index, prep = ready_index(library, embedder, mode, auto_update)
    embedder = prep.embedder
    chunks, vectors, terms, with_vector = index.case_chunks(case_id)
    if not chunks:  # not filed yet (or no text): search by its text instead
        return search(
            library,
            case.text,
            k=k,
            award=award,
            industry=industry,
            category=category,
            year=year,
            mode=mode,
            embedder=embedder,
            exclude=(case_id,),
            auto_update=False,
        )
    by_section: dict[str, list[int]] = defaultdict(list)
    for row, i in enumerate(with_vector):
        by_section[chunks[i].section].append(row)
    picked = representative([[str(i) for i in g] for g in by_section.values()], MAX_PARTS)
    parts: list[QueryPart] = []
    use_vectors = mode != "bm25" and embedder is not None and bool(picked)
    if use_vectors:
        parts = [
            QueryPart(vector=vectors[int(i)], terms=None, weight=1 / len(picked)) for i in picked
        ]
    counts = Counter(int(t) for arr in terms for t in arr)
    parts.append(
        QueryPart(
            vector=None,
            terms=list(counts),
            term_weights=[1.0 + math.log(c) for c in counts.values()],
        )
    )
    allowed = allowed_chunks(
        index,
        award=award,
        industry=industry,
        category=category,
        year=year,
        exclude=(case_id, *prep.hidden),
    )
    ranked = rank_cases(index, parts, mode, k, allowed)
    source_terms = {int(t) for arr in terms for t in arr}
    hits = _hits(
        index, ranked, lambda chunk: index.shared_terms(chunk.id, source_terms), mode != "bm25"
    )
    return attach(index, parts, hits)


def _cut(text: str, limit: int) -> str:
    """``text`` up to ``limit`` characters, ending at a sentence end when there is one."""
    if len(text) <= limit:
        return text
    ends = [e for _, e in split_sentences(text) if e <= limit]
    return text[: ends[-1]] if ends and ends[-1] > limit // 3 else text[:limit] + "…"


@retry_on_damage
def find_exemplars(
    library: Library,
    text: str,
    *,
    award: str | None = None,
    section_key: str | None = None,
    kind: str | None = None,
    k: int = 3,
    embedder: Embedder | None = None,
) -> list[Exemplar]:
    """Passages of one section from the cases most similar to ``text``, one per case.

    Cases of the same award with the same section key come first; then other cases' sections
    of the same kind. Each exemplar is that section's text (cut at a sentence end).
    """
    check_query(k, "hybrid")
    kinds: tuple[str, ...] = (kind,) if kind else ()
    if not kinds and award and section_key:
        from analyzer.schema import get_award

        try:  # the section's own kind and the kinds it also covers
            kinds = get_award(award).section(section_key).kinds
        except KeyError:
            kinds = ()
    index, prep = ready_index(library, embedder, "hybrid", True)
    parts = text_parts(index, text, prep.embedder, "hybrid")
    if not parts:
        return []
    ranked: list[RankedCase] = []
    rounds: list[dict[str, Any]] = []
    if award and section_key:
        rounds.append({"award": award, "sections": (section_key,)})
    if kinds:
        rounds.append({"kinds": kinds})
    if not rounds:
        rounds.append({})
    for filters in rounds:
        taken = tuple(r.case_id for r in ranked)
        allowed = allowed_chunks(index, exclude=(*taken, *prep.hidden), **filters)
        ranked += rank_cases(index, parts, "hybrid", k - len(ranked), allowed)
        if len(ranked) >= k:
            break
    chunks = index.get_chunks([r.chunk_id for r in ranked])
    out = []
    for r in ranked[:k]:
        chunk = chunks.get(r.chunk_id)
        if chunk is None:
            continue
        case = library.get_case(r.case_id)
        section = next((s for s in case.sections if s.key == chunk.section), None)
        body = section.text if section is not None else chunk.text
        out.append(
            Exemplar(
                text=_cut(body, EXEMPLAR_CHARS),
                case_id=r.case_id,
                title=case.title,
                section=chunk.section,
                section_title=chunk.section_title,
                kind=chunk.kind,
            )
        )
    return out
