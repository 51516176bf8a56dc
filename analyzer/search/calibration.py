"""How strongly a search hit matches, in words a user can read: 高 / 中 / 低, and why.

The fused ranking (reciprocal rank fusion) orders the cases but its scores say nothing about
similarity: scaled to the best hit, every hit of a five-case library read 95–100 %. Nor does
the raw cosine: the bundled e5 puts every Chinese passage at 0.82–0.93 to any query.

What does separate a query's true match from unrelated cases is how far its best passage stands
above the rest of the library for *this* query: ``z = (cos − μ) / σ``, where μ and σ are the mean
and spread of the query's cosine over the library's other passages. Both come from the
library's mean passage vector and covariance (``μ = q·m``, ``σ² = qᵀΣq``), computed once per
index generation from (a sample of) the stored vectors, without the hit's own case. Being a
z-score it does not depend on the embedding model's scale, so the same thresholds serve a
bge folder as well as the bundled e5.

The thresholds were measured by ``bench/calibration.py`` on the seed cases plus the real cases
of ``../shared/realcases`` (29 cases, 61 labelled queries, the bundled e5): at ``z ≥ 3.5`` 高,
``z ≥ 2.0`` 中, true matches came out 44 % 高 / 56 % 中 / 0 % 低 and unrelated cases 0.1 % 高 /
2.8 % 中 / 97 % 低. A hit without vectors (keyword search only) is judged by the share of the
query's main terms (weighted by rarity; a word no passage has counts too) that its best passage
contains, and says so: at 40 % 高, 20 % 中, true matches came out 32 % / 40 % / 28 % (the queries
paraphrase their cases, so words alone miss more) and unrelated cases 0.1 % / 2.0 % / 98 %.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from analyzer.search.index import SearchIndex
    from analyzer.search.ranking import QueryPart

HIGH_Z = 3.5  # the best passage's cosine this many σ above the library's: 高
MEDIUM_Z = 2.0
HIGH_TERMS = 0.4  # keyword search only: share of the query's main terms in the best passage
MEDIUM_TERMS = 0.2
MAIN_TERMS = 12  # a draft's query has hundreds of terms: its rarest ones say what it is about
SAMPLE_CASES = 2000  # cases whose vectors make the library's statistics (all, up to this)
MIN_BACKGROUND = 6  # passages of other cases needed for a z-score
SHOWN_TERMS = 5

LEVELS = {"high": "高", "medium": "中", "low": "低"}
SECTION_NAMES = {"header": "标题与表头", "body": "正文", "": "导语"}


@dataclass(frozen=True)
class Evidence:
    """What a hit's match rests on: its best passage by meaning and the words it shares."""

    z: float | None  # σ above the library's passages for this query; None: no vectors
    cosine: float | None
    section: str  # key of the best passage's section
    section_title: str
    coverage: float  # share (by rarity) of the query's main terms in the best passage, 0…1
    terms: tuple[str, ...]  # terms the passage shares with the query, rarest first


@dataclass(frozen=True)
class MatchLevel:
    """A hit's match for display: level, a 0…1 strength for a bar, and the reason."""

    level: str  # high | medium | low
    label: str  # 高 | 中 | 低
    strength: float
    reason: str
    keyword_only: bool


@dataclass(frozen=True)
class _Stats:
    """Sums over the sampled passages: enough for any query's mean and variance of cosines."""

    n: int
    total: np.ndarray  # Σ v
    outer: np.ndarray  # Σ v vᵀ
    by_case: dict[int, tuple[int, np.ndarray, np.ndarray]]  # case → its n, Σ v, Σ v vᵀ


# index → ((its generation, its passages), their statistics)
_STATS: weakref.WeakKeyDictionary[Any, tuple[tuple[int, int, int], _Stats | None]] = (
    weakref.WeakKeyDictionary()
)
_STATS_LOCK = threading.Lock()


def _library_stats(index: SearchIndex) -> _Stats | None:
    # a database set aside and rebuilt starts its generations again: the size tells them apart.
    # While the background indexing adds vectors case by case, the statistics are sampled again
    # only when the embedded cases grew by a tenth (a sample of the library is what they are).
    embedded = len(index.embedded_cases())
    state = (index.generation, len(index.arrays().ids), embedded)
    with _STATS_LOCK:
        cached = _STATS.get(index)
        if cached is not None and cached[0][:2] == state[:2]:
            then = cached[0][2]
            if embedded == then or (then and abs(embedded - then) * 10 < then):
                return cached[1]
    case_ids = sorted(index.cases())
    if len(case_ids) > SAMPLE_CASES:  # a fixed sample: the same statistics every time
        picked = np.random.default_rng(0).choice(len(case_ids), SAMPLE_CASES, replace=False)
        case_ids = [case_ids[i] for i in sorted(picked)]
    n, total, outer, by_case = 0, None, None, {}
    for case_id in case_ids:
        _, vectors, _, _ = index.case_chunks(case_id)
        if not len(vectors):
            continue
        v = vectors.astype(np.float64)
        s, o = v.sum(axis=0), v.T @ v
        by_case[case_id] = (len(v), s, o)
        n += len(v)
        total = s.copy() if total is None else total + s
        outer = o.copy() if outer is None else outer + o
    stats = None if total is None or outer is None else _Stats(n, total, outer, by_case)
    with _STATS_LOCK:
        _STATS[index] = (state, stats)
    return stats


def _z_scores(stats: _Stats | None, case_id: int, queries: np.ndarray, sims: np.ndarray) -> Any:
    """``sims`` (passages × queries) as z-scores against the library without ``case_id``."""
    if stats is None:
        return None
    n, total, outer = stats.n, stats.total, stats.outer
    if case_id in stats.by_case:
        own_n, own_total, own_outer = stats.by_case[case_id]
        n, total, outer = n - own_n, total - own_total, outer - own_outer
    if n < MIN_BACKGROUND:
        return None
    q = queries.astype(np.float64)
    mean = q @ (total / n)
    var = np.einsum("ij,jk,ik->i", q, outer / n, q) - mean**2
    return (sims - mean) / np.sqrt(np.maximum(var, 1e-8))


def _main_terms(index: SearchIndex, parts: list[QueryPart]) -> tuple[list[int], np.ndarray]:
    """The query's most telling terms (rarity × weight) and their weights. A word of the query
    that no passage of the library has is the rarest of all: it counts, as id -1, and no
    passage can contain it."""
    idf = index.bm25().idf
    vocab = index.vocab()
    unseen = float(idf.max()) if len(idf) else 1.0
    weight: dict[int, float] = {}
    missing: dict[str, float] = {}
    for part in parts:
        ws = part.term_weights or [1.0] * len(part.terms or [])
        for term, w in zip(part.terms or [], ws, strict=True):
            if 0 <= term < len(idf):
                weight[term] = max(weight.get(term, 0.0), float(idf[term]) * w)
        for token in part.tokens:
            if token not in vocab:
                missing[token] = unseen
    pairs = sorted([*weight.items(), *((-1, w) for w in missing.values())], key=lambda p: -p[1])
    pairs = pairs[:MAIN_TERMS]
    return [t for t, _ in pairs], np.array([w for _, w in pairs], dtype=np.float64)


def evidence(
    index: SearchIndex, parts: list[QueryPart], case_ids: list[int]
) -> dict[int, Evidence]:
    """Each case's evidence for the query made of ``parts``."""
    vectors = [p.vector for p in parts if p.vector is not None]
    queries = np.vstack(vectors).astype(np.float32) if vectors else None
    stats = _library_stats(index) if queries is not None else None
    terms, weights = _main_terms(index, parts)
    wanted = set(terms) - {-1}
    out: dict[int, Evidence] = {}
    for case_id in case_ids:
        chunks, chunk_vectors, chunk_terms, with_vector = index.case_chunks(case_id)
        if not chunks:
            continue
        coverage = np.zeros(len(chunks))
        if terms and weights.sum() > 0:
            for i, arr in enumerate(chunk_terms):
                present = set(arr.tolist()) & wanted
                coverage[i] = sum(w for t, w in zip(terms, weights, strict=True) if t in present)
            coverage /= weights.sum()
        z = cosine = None
        best = int(np.argmax(coverage))
        if queries is not None and len(chunk_vectors):
            sims = chunk_vectors @ queries.T
            scores = _z_scores(stats, case_id, queries, sims)
            if scores is not None:
                row = int(np.unravel_index(int(np.argmax(scores)), scores.shape)[0])
                z = float(scores.max())
            else:
                row = int(np.unravel_index(int(np.argmax(sims)), sims.shape)[0])
            best = with_vector[row]  # the vector's chunk (a case's tails have no vectors)
            cosine = float(sims.max())
        chunk = chunks[best]
        shared = index.shared_terms(chunk.id, wanted, limit=3 * SHOWN_TERMS) if wanted else []
        words = [t for t in shared if len(t) > 1] or shared  # 云, 的: not what tells the match
        out[case_id] = Evidence(
            z=z,
            cosine=cosine,
            section=chunk.section,
            section_title=chunk.section_title,
            coverage=float(coverage[best]),
            terms=tuple(words[:SHOWN_TERMS]),
        )
    return out


def attach(index: SearchIndex, parts: list[QueryPart], hits: list[Any]) -> list[Any]:
    """``hits`` (``SearchHit``) with their :class:`Evidence`; the order is the ranking's."""
    found = evidence(index, parts, [h.case_id for h in hits])
    return [replace(h, evidence=found.get(h.case_id)) for h in hits]


def _section_name(e: Evidence) -> str:
    if e.section_title and e.section_title != e.section:
        return e.section_title
    return SECTION_NAMES.get(e.section, e.section_title or e.section)


def judge(e: Evidence | None) -> MatchLevel:
    """The level a user sees for a hit, with the reason in Chinese."""
    if e is None:
        return MatchLevel("low", LEVELS["low"], 0.0, "没有可比较的段落", keyword_only=True)
    words = f"；共同词：{'、'.join(e.terms)}" if e.terms else "；没有共同的关键词"
    where = f"「{_section_name(e)}」"
    if e.z is not None:
        level = "high" if e.z >= HIGH_Z else "medium" if e.z >= MEDIUM_Z else "low"
        meaning = {
            "high": "意思与查询非常接近，远高于案例库中的一般段落",
            "medium": "意思与查询部分接近，高于案例库中的一般段落",
            "low": "与查询的相似度和案例库中的一般段落差不多",
        }[level]
        strength = min(1.0, max(0.0, e.z / 5.0))
        return MatchLevel(level, LEVELS[level], strength, f"{where}{meaning}{words}", False)
    level = (
        "high" if e.coverage >= HIGH_TERMS else "medium" if e.coverage >= MEDIUM_TERMS else "low"
    )
    share = f"含查询主要词语的 {math.floor(e.coverage * 100 + 0.5)}%"
    return MatchLevel(
        level,
        LEVELS[level],
        min(1.0, e.coverage),
        f"仅按关键词判断（没有向量）：{where}{share}{words}",
        True,
    )
