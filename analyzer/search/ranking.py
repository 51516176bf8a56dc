"""Ranking a library's cases for a query: chunks by vectors and BM25, fused per case.

Both rankings run over chunks — the vectors (FAISS) and BM25 over jieba tokens — and each is
turned into a ranking of cases (a case ranks by its best chunk). The case rankings are fused
with reciprocal rank fusion: ``score = Σ w / (RRF_K + rank)`` over the rankings, each modality
weighing the same in total. A long draft is embedded as at most ``MAX_VECTOR_PARTS``
representative passages (one per section, longest sections first), each ranking the cases with
weight ``1 / parts``; BM25 takes the whole draft as one query. ``RRF_K`` was chosen on the
quality bench with distractor cases (``bench/retrieval.py --only quality``).

A case still waiting for its vectors (filed for keyword search, its embedding job not there
yet) has no vector rank; in hybrid mode its BM25 rank stands in for it (its BM25 contribution
counts for both modalities), so a library half embedded ranks its cases by what each has rather
than pushing the unembedded ones down for what they lack.

In ``vector`` or ``bm25`` mode with a short query the score is the raw cosine / BM25 score.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from analyzer.search.bm25 import tokenize
from analyzer.search.chunking import MAX_CHARS, chunk_spans
from analyzer.search.index import SearchIndex
from analyzer.search.indexread import _Arrays

if TYPE_CHECKING:
    from analyzer.search.embed import Embedder

RRF_K = 60
LONG_QUERY = 300  # characters: a longer query is a draft, searched part by part
MAX_VECTOR_PARTS = 4  # passages of a draft that are embedded (~10 ms each with the bundled e5)


@dataclass
class QueryPart:
    """One query: a text (or a stored chunk for "more like this") and its lexical terms.

    ``weight`` scales its rankings in the fusion; ``vector`` None means lexical only, empty
    ``terms`` vector only."""

    vector: np.ndarray | None
    terms: list[int] | None
    tokens: list[str] = field(default_factory=list)
    term_weights: list[float] | None = None
    weight: float = 1.0


@dataclass
class RankedCase:
    case_id: int
    score: float
    chunk_id: int


def allowed_chunks(
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
    index: SearchIndex,
    arrays: _Arrays,
    parts: list[QueryPart],
    mode: str,
    n: int,
    allowed: np.ndarray | None,
) -> list[tuple[float, list[tuple[int, float]], bool]]:
    """Per part and modality: (weight, [(chunk id, score)] best first, is it the vectors')."""
    out: list[tuple[float, list[tuple[int, float]], bool]] = []
    if mode in ("hybrid", "vector"):
        with_vector = [p for p in parts if p.vector is not None]
        if with_vector:
            queries = np.vstack([p.vector for p in with_vector if p.vector is not None])
            scores, ids = index.search_vectors(queries, n, allowed)
            for part, row_s, row_i in zip(with_vector, scores, ids, strict=True):
                found = [(int(i), float(s)) for s, i in zip(row_s, row_i, strict=True) if i >= 0]
                out.append((part.weight, found, True))
    if mode in ("hybrid", "bm25"):
        bm25 = arrays.bm25
        assert bm25 is not None  # index.lexical() built it
        mask = None if allowed is None else np.isin(arrays.ids, allowed)
        for part in parts:
            if part.terms is None:
                continue
            scores = bm25.scores(part.terms, part.term_weights)
            if mask is not None:
                scores = np.where(mask, scores, 0.0)
            hits = np.flatnonzero(scores > 0)
            if len(hits) > n:  # common terms match most chunks: select before sorting
                hits = hits[np.argpartition(-scores[hits], n - 1)[:n]]
            top = hits[np.argsort(-scores[hits], kind="stable")]
            found = [(int(arrays.ids[i]), float(scores[i])) for i in top]
            out.append((part.weight, found, False))
    return out


def rank_cases(
    index: SearchIndex, parts: list[QueryPart], mode: str, k: int, allowed: np.ndarray | None
) -> list[RankedCase]:
    arrays = index.lexical()
    total = len(arrays.ids) if allowed is None else len(allowed)
    if total == 0 or not parts:
        return []
    n = min(total, max(20 * k, 200))
    while True:
        lists = _chunk_lists(index, arrays, parts, mode, n, allowed)
        cases = [
            arrays.case_ids(np.array([c for c, _ in chunks], dtype=np.int64))
            for _, chunks, _ in lists
        ]
        found = {int(c) for row in cases for c in row if c >= 0}
        if len(found) >= k or n >= total:
            break
        n = min(total, n * 4)
    raw = len(lists) == 1
    vector_weight = sum(w for w, _, is_vector in lists if is_vector)
    lexical_weight = sum(w for w, _, is_vector in lists if not is_vector)
    # a case without vectors: its BM25 rank stands in for the vector rank it cannot have
    stand_in = 1.0 + vector_weight / lexical_weight if vector_weight and lexical_weight else 1.0
    embedded = index.embedded_cases() if stand_in > 1.0 else frozenset()
    case_score: dict[int, float] = defaultdict(float)
    chunk_score: dict[int, float] = defaultdict(float)
    case_of: dict[int, int] = {}
    for (weight, chunks, is_vector), owners in zip(lists, cases, strict=True):
        seen: set[int] = set()
        for rank, ((chunk_id, score), owner) in enumerate(
            zip(chunks, owners.tolist(), strict=True)
        ):
            if owner < 0:
                continue
            w = weight if is_vector or owner in embedded or stand_in == 1.0 else weight * stand_in
            case_of[chunk_id] = owner
            chunk_score[chunk_id] += score if raw else w / (RRF_K + rank + 1)
            if owner not in seen:
                seen.add(owner)
                case_score[owner] += score if raw else w / (RRF_K + len(seen))
    best: dict[int, tuple[bool, float, int]] = {}
    for chunk_id, score in chunk_score.items():
        # the header chunk (title + fields) makes a poor snippet: any section chunk goes first
        key = (chunk_id not in arrays.headers, score, -chunk_id)
        owner = case_of[chunk_id]
        if owner not in best or key > best[owner]:
            best[owner] = key
    # a tie (ranks swapped between the two modalities) goes to the case one passage of which
    # both found; sums are rounded so that the order of additions cannot decide it
    ranked = sorted(case_score.items(), key=lambda kv: (-round(kv[1], 12), -best[kv[0]][1], kv[0]))[
        :k
    ]
    return [RankedCase(c, s, -best[c][2]) for c, s in ranked]


def _sections_of(text: str) -> list[str]:
    """A free-text draft's blocks, split at lines an award schema reads as headings."""
    from analyzer.library.sections import is_heading_line

    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip() and len(line) <= 40 and is_heading_line(line.strip()):
            blocks.append([])
        blocks[-1].append(line)
    return [b for b in ("\n".join(lines).strip() for lines in blocks) if b]


def representative(groups: list[list[str]], limit: int) -> list[str]:
    """Up to ``limit`` passages that cover the groups (sections): each group's first passage,
    longest group first, then each group's next one, and so on."""
    order = sorted(range(len(groups)), key=lambda i: -sum(len(t) for t in groups[i]))
    out: list[str] = []
    depth = 0
    while len(out) < limit and any(depth < len(g) for g in groups):
        for i in order:
            if depth < len(groups[i]) and len(out) < limit:
                out.append(groups[i][depth])
        depth += 1
    return out


def query_parts(text: str, sections: list[str] | None = None) -> list[str]:
    """The passages of a query that get embedded: a short query as is; a draft as at most
    ``MAX_VECTOR_PARTS`` sentence-aligned passages, one per section (its own ``sections``, or
    blocks between heading lines) before a second from any."""
    text = text.strip()
    if len(text) <= LONG_QUERY:
        return [text] if text else []
    blocks = [b.strip() for b in sections or [] if b.strip()] or _sections_of(text)
    groups = [
        [block[s:e] for s, e in chunk_spans(block, max_chars=MAX_CHARS, overlap=0)]
        for block in blocks
    ]
    return representative([g for g in groups if g], MAX_VECTOR_PARTS)


def _lexical(tokens: list[str]) -> tuple[list[str], list[float]]:
    """A long text as one BM25 query: each term once, weighted 1 + log(count)."""
    counts = Counter(tokens)
    return list(counts), [1.0 + math.log(c) for c in counts.values()]


def text_parts(
    index: SearchIndex,
    text: str,
    embedder: Embedder | None,
    mode: str,
    sections: list[str] | None = None,
) -> list[QueryPart]:
    """The query parts of ``text``: one part for a short query; for a draft, the embedded
    passages (vector only, sharing one weight) and the whole text for BM25."""
    texts = query_parts(text, sections)
    if not texts:
        return []
    use_vectors = embedder is not None and mode != "bm25"
    vectors = embedder.embed_queries(texts) if use_vectors and embedder is not None else None
    if len(texts) == 1 and len(text.strip()) <= LONG_QUERY:
        tokens = tokenize(texts[0])
        vector = None if vectors is None else vectors[0]
        return [QueryPart(vector=vector, terms=index.term_ids(tokens), tokens=tokens)]
    parts = []
    if vectors is not None:
        parts = [QueryPart(vector=v, terms=None, weight=1.0 / len(texts)) for v in vectors]
    terms, weights = _lexical(tokenize(text))
    vocab = index.vocab()
    known = [(vocab[t], w) for t, w in zip(terms, weights, strict=True) if t in vocab]
    parts.append(
        QueryPart(
            vector=None,
            terms=[t for t, _ in known],
            term_weights=[w for _, w in known],
            tokens=terms,
        )
    )
    return parts
