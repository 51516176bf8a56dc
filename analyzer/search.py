"""Similar-case search: free text, a whole draft, or "more like this case".

Both rankings run over chunks — the vectors (FAISS) and BM25 over jieba tokens — and each is
turned into a ranking of cases (a case ranks by its best chunk). The case rankings are fused
with reciprocal rank fusion: ``score = Σ 1 / (RRF_K + rank)`` over the rankings (one per
modality and per query part; a long draft is split into parts that each rank the cases). The
hit shows the case's best chunk (again by RRF, at chunk level) as a snippet with the matched
query terms' spans.

In ``vector`` or ``bm25`` mode with a short query the score is the raw cosine / BM25 score.
"""

from __future__ import annotations

import functools
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from analyzer.bm25 import term_spans, tokenize
from analyzer.chunking import MAX_CHARS, chunk_spans, split_sentences
from analyzer.errors import IndexError_, ModelError
from analyzer.index import SearchIndex, StoredChunk, open_index

if TYPE_CHECKING:
    from analyzer.embed import Embedder
    from analyzer.library import Library

F = TypeVar("F", bound=Callable[..., Any])
MODES = ("hybrid", "vector", "bm25")
RRF_K = 60
LONG_QUERY = 300  # characters: a longer query is a draft, searched part by part
MAX_PARTS = 24
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

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "title": self.title,
            "source": self.source,
            "score": round(float(self.score), 6),
            "section": self.section,
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class Exemplar:
    case_id: int
    title: str
    section_key: str
    section_title: str
    text: str


@dataclass
class _Part:
    """One query: a text (or a stored chunk for "more like this") and its lexical terms."""

    vector: np.ndarray | None
    terms: list[int]
    tokens: list[str] = field(default_factory=list)


@dataclass
class _Ranked:
    case_id: int
    score: float
    chunk_id: int


def _repairing(fn: F) -> F:
    """A database damaged mid-search is set aside and the search runs again (rebuilding)."""

    @functools.wraps(fn)
    def wrapper(library: Library, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(library, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            open_index(library.home).discard(exc)
            return fn(library, *args, **kwargs)

    return cast(F, wrapper)


def _check(k: int, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def _ready(
    library: Library, embedder: Embedder | None, mode: str, auto_update: bool
) -> tuple[SearchIndex, Embedder | None]:
    """The library's index, brought up to date when cases were added, changed or removed."""
    from analyzer.embed import get_embedder

    index = open_index(library.home)
    index.refresh()
    stale = auto_update and index.stale_cases(library, include_failed=False) > 0
    if embedder is None and (mode != "bm25" or stale):
        try:
            embedder = get_embedder(index.embedder_spec or None)
        except ModelError as exc:
            raise ModelError(
                f"{exc} (the index was built with it; `award-writer index --model bundled` "
                "re-embeds with the bundled model)"
            ) from exc
    # a search never switches models behind the user's back: that is `award-writer index`'s job
    if embedder is not None and index.embedder_name and index.embedder_name != embedder.name:
        raise IndexError_(
            f"the index was built with {index.embedder_name}, not {embedder.name}; "
            "run `award-writer index --model ...` to re-embed with the model you want"
        )
    if stale and embedder is not None:
        index.update(library, embedder)
    return index, embedder


def _allowed(
    index: SearchIndex,
    *,
    award: str | None = None,
    industry: str | None = None,
    category: str | None = None,
    year: int | None = None,
    exclude: tuple[int, ...] = (),
    sections: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
) -> np.ndarray | None:
    """Chunk ids the filters keep, or None when nothing is filtered."""
    if not any((award, industry, category, year is not None, exclude, sections, kinds)):
        return None
    keep = {
        c.case_id
        for c in index.cases().values()
        if (award is None or c.award == award)
        and (not industry or industry in c.industry)
        and (not category or category in c.category)
        and (year is None or c.year == year)
        and c.case_id not in exclude
    }
    arrays = index.arrays()
    mask = np.isin(arrays.case_of, np.fromiter(keep, dtype=np.int64, count=len(keep)))
    if sections:
        mask &= np.isin(arrays.section, np.array(sections, dtype=object))
    if kinds:
        mask &= np.isin(arrays.kind, np.array(kinds, dtype=object))
    return arrays.ids[mask]


def _chunk_lists(
    index: SearchIndex, parts: list[_Part], mode: str, n: int, allowed: np.ndarray | None
) -> list[list[tuple[int, float]]]:
    """Per part and modality: (chunk id, score), best first."""
    arrays = index.arrays()
    out: list[list[tuple[int, float]]] = []
    if mode in ("hybrid", "vector"):
        queries = [p.vector for p in parts if p.vector is not None]
        if queries:
            scores, ids = index.search_vectors(np.vstack(queries), n, allowed)
            for row_s, row_i in zip(scores, ids, strict=True):
                out.append(
                    [(int(i), float(s)) for s, i in zip(row_s, row_i, strict=True) if i >= 0]
                )
    if mode in ("hybrid", "bm25"):
        bm25 = index.bm25()
        mask = None if allowed is None else np.isin(arrays.ids, allowed)
        for part in parts:
            scores = bm25.scores(part.terms)
            if mask is not None:
                scores = np.where(mask, scores, 0.0)
            hits = np.flatnonzero(scores > 0)
            if len(hits) > n:  # common terms match most chunks: select before sorting
                hits = hits[np.argpartition(-scores[hits], n - 1)[:n]]
            top = hits[np.argsort(-scores[hits], kind="stable")]
            out.append([(int(arrays.ids[i]), float(scores[i])) for i in top])
    return out


def _rank(
    index: SearchIndex, parts: list[_Part], mode: str, k: int, allowed: np.ndarray | None
) -> list[_Ranked]:
    arrays = index.arrays()
    total = len(arrays.ids) if allowed is None else len(allowed)
    if total == 0 or not parts:
        return []
    n = min(total, max(20 * k, 200))
    while True:
        lists = _chunk_lists(index, parts, mode, n, allowed)
        cases = [
            arrays.case_ids(np.array([c for c, _ in chunks], dtype=np.int64)) for chunks in lists
        ]
        found = {int(c) for row in cases for c in row if c >= 0}
        if len(found) >= k or n >= total:
            break
        n = min(total, n * 4)
    raw = len(lists) == 1
    case_score: dict[int, float] = defaultdict(float)
    chunk_score: dict[int, float] = defaultdict(float)
    case_of: dict[int, int] = {}
    for chunks, owners in zip(lists, cases, strict=True):
        seen: set[int] = set()
        for rank, ((chunk_id, score), owner) in enumerate(
            zip(chunks, owners.tolist(), strict=True)
        ):
            if owner < 0:
                continue
            case_of[chunk_id] = owner
            chunk_score[chunk_id] += score if raw else 1.0 / (RRF_K + rank + 1)
            if owner not in seen:
                seen.add(owner)
                case_score[owner] += score if raw else 1.0 / (RRF_K + len(seen))
    best: dict[int, tuple[bool, float, int]] = {}
    for chunk_id, score in chunk_score.items():
        # the header chunk (title + fields) makes a poor snippet: any section chunk goes first
        key = (chunk_id not in arrays.headers, score, -chunk_id)
        owner = case_of[chunk_id]
        if owner not in best or key > best[owner]:
            best[owner] = key
    ranked = sorted(case_score.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return [_Ranked(c, s, -best[c][2]) for c, s in ranked]


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


def _hits(index: SearchIndex, ranked: list[_Ranked], terms_for: Any) -> list[SearchHit]:
    chunks = index.get_chunks([r.chunk_id for r in ranked])
    cases = index.case_infos([r.case_id for r in ranked])
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
            )
        )
    return out


def query_parts(text: str) -> list[str]:
    """A short query as is; a draft as its sentence-aligned pieces (at most ``MAX_PARTS``)."""
    text = text.strip()
    if len(text) <= LONG_QUERY:
        return [text] if text else []
    parts = [text[s:e] for s, e in chunk_spans(text, max_chars=MAX_CHARS, overlap=0)]
    if len(parts) > MAX_PARTS:
        step = len(parts) / MAX_PARTS
        parts = [parts[int(i * step)] for i in range(MAX_PARTS)]
    return parts


def _text_parts(
    index: SearchIndex, texts: list[str], embedder: Embedder | None, mode: str
) -> list[_Part]:
    vectors = embedder.embed_queries(texts) if embedder is not None and mode != "bm25" else None
    parts = []
    for i, text in enumerate(texts):
        tokens = tokenize(text)
        parts.append(
            _Part(
                vector=None if vectors is None else vectors[i],
                terms=index.term_ids(tokens),
                tokens=tokens,
            )
        )
    return parts


@_repairing
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
) -> list[SearchHit]:
    """The ``k`` cases most similar to ``query`` (a phrase, a description or a whole draft).

    The index is updated first when the library changed (``auto_update``).
    """
    _check(k, mode)
    index, embedder = _ready(library, embedder, mode, auto_update)
    texts = query_parts(query)
    if not texts:
        return []
    parts = _text_parts(index, texts, embedder, mode)
    allowed = _allowed(
        index, award=award, industry=industry, category=category, year=year, exclude=exclude
    )
    ranked = _rank(index, parts, mode, k, allowed)
    terms = sorted({t for p in parts for t in p.tokens})
    return _hits(index, ranked, lambda _chunk: terms)


def search_draft(library: Library, draft: Any, **kwargs: Any) -> list[SearchHit]:
    """Search by a draft: its text, or a parsed document (its sections' text is used)."""
    if isinstance(draft, str):
        text = draft
    else:
        sections = getattr(draft, "sections", ())
        text = "\n".join(s.text for s in sections) or str(getattr(draft, "text", ""))
    return search(library, text, **kwargs)


@_repairing
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
    """Cases like ``case_id`` (which is left out), from its stored chunk vectors and terms."""
    _check(k, mode)
    index, embedder = _ready(library, embedder, mode, auto_update)
    chunks, vectors, terms = index.case_chunks(case_id)
    if not chunks:  # not indexed (failed, or no text): fall back to embedding its text
        case = library.get_case(case_id)
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
    if len(chunks) > MAX_PARTS:
        pick = np.linspace(0, len(chunks) - 1, MAX_PARTS).astype(int)
        vectors = vectors[pick]
        terms = [terms[i] for i in pick]
    parts = [
        _Part(vector=vectors[i] if mode != "bm25" else None, terms=terms[i].tolist())
        for i in range(len(terms))
    ]
    allowed = _allowed(
        index, award=award, industry=industry, category=category, year=year, exclude=(case_id,)
    )
    ranked = _rank(index, parts, mode, k, allowed)
    source_terms = {int(t) for arr in terms for t in arr}
    return _hits(index, ranked, lambda chunk: index.shared_terms(chunk.id, source_terms))


def _cut(text: str, limit: int) -> str:
    """``text`` up to ``limit`` characters, ending at a sentence end when there is one."""
    if len(text) <= limit:
        return text
    ends = [e for _, e in split_sentences(text) if e <= limit]
    return text[: ends[-1]] if ends and ends[-1] > limit // 3 else text[:limit] + "…"


@_repairing
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
    _check(k, "hybrid")
    kinds: tuple[str, ...] = (kind,) if kind else ()
    if not kinds and award and section_key:
        from analyzer.schema import get_award

        try:  # the section's own kind and the kinds it also covers
            kinds = get_award(award).section(section_key).kinds
        except KeyError:
            kinds = ()
    index, embedder = _ready(library, embedder, "hybrid", True)
    texts = query_parts(text)
    if not texts:
        return []
    parts = _text_parts(index, texts, embedder, "hybrid")
    ranked: list[_Ranked] = []
    rounds: list[dict[str, Any]] = []
    if award and section_key:
        rounds.append({"award": award, "sections": (section_key,)})
    if kinds:
        rounds.append({"kinds": kinds})
    if not rounds:
        rounds.append({})
    for filters in rounds:
        taken = tuple(r.case_id for r in ranked)
        allowed = _allowed(index, exclude=taken, **filters)
        ranked += _rank(index, parts, "hybrid", k - len(ranked), allowed)
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
                r.case_id,
                case.title,
                chunk.section,
                chunk.section_title,
                _cut(body, EXEMPLAR_CHARS),
            )
        )
    return out
