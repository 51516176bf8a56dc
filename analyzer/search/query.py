"""Similar-case search: free text, a whole draft, or "more like this case".

Both rankings run over chunks — the vectors (FAISS) and BM25 over jieba tokens — and each is
turned into a ranking of cases (a case ranks by its best chunk). The case rankings are fused
with reciprocal rank fusion: ``score = Σ w / (RRF_K + rank)`` over the rankings, each modality
weighing the same in total. A long draft is embedded as at most ``MAX_VECTOR_PARTS``
representative passages (one per section, longest sections first), each ranking the cases with
weight ``1 / parts``; BM25 takes the whole draft as one query. ``RRF_K`` was chosen on the
quality bench with distractor cases (``bench/retrieval.py --only quality``). The hit shows the
case's best chunk (again by RRF, at chunk level) as a snippet with the matched query terms' spans.

In ``vector`` or ``bm25`` mode with a short query the score is the raw cosine / BM25 score.

Before searching, :func:`prepare_index` brings the index in line with the library (new, changed,
removed and damaged cases). A search never switches the embedding model by itself: it uses the
one that built the index. Only a caller acting on the user's explicit choice of model (the
desktop app's 设置, ``award-writer index --model``) passes ``switch_model=True`` and gets every
case re-embedded, with progress. When the index's model cannot be loaded (its folder is gone),
search falls back to BM25 with a message instead of failing.
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from analyzer.errors import IndexError_, ModelError
from analyzer.progress import CancelToken, ProgressCallback, no_progress
from analyzer.search.bm25 import term_spans, tokenize
from analyzer.search.chunking import MAX_CHARS, chunk_spans, split_sentences
from analyzer.search.index import IndexReport, SearchIndex, StoredChunk, open_index, repairing

if TYPE_CHECKING:
    from analyzer.library.store import Library
    from analyzer.search.embed import Embedder

F = TypeVar("F", bound=Callable[..., Any])
MODES = ("hybrid", "vector", "bm25")
RRF_K = 60
LONG_QUERY = 300  # characters: a longer query is a draft, searched part by part
MAX_VECTOR_PARTS = 4  # passages of a draft that are embedded (~10 ms each with the bundled e5)
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


@dataclass(frozen=True)
class Preparation:
    """What :func:`prepare_index` did before a search."""

    embedder: Embedder | None  # what the search embeds queries with (None: BM25 only)
    report: IndexReport | None  # the index update it ran (None: the index was up to date)
    switched_model: bool  # every case was re-embedded with another model
    messages: tuple[str, ...]  # repairs and warnings for the user (Chinese)


@dataclass
class _Part:
    """One query: a text (or a stored chunk for "more like this") and its lexical terms.

    ``weight`` scales its rankings in the fusion; ``vector`` None means lexical only, empty
    ``terms`` vector only."""

    vector: np.ndarray | None
    terms: list[int] | None
    tokens: list[str] = field(default_factory=list)
    term_weights: list[float] | None = None
    weight: float = 1.0


@dataclass
class _Ranked:
    case_id: int
    score: float
    chunk_id: int


def _repairing(fn: F) -> F:
    """A database damaged mid-search is set aside and the search runs again (rebuilding)."""

    @functools.wraps(fn)
    def wrapper(library: Library, *args: Any, **kwargs: Any) -> Any:
        return repairing(library, lambda: fn(library, *args, **kwargs))

    return cast(F, wrapper)


def _check(k: int, mode: str, award: str | None = None) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if award is not None:
        from analyzer.schema import get_award

        get_award(award)  # UnknownAwardError naming the known keys


def _load_index_embedder(index: SearchIndex) -> Embedder:
    from analyzer.search.embed import get_embedder

    try:
        return get_embedder(index.embedder_spec or None)
    except ModelError as exc:
        raise ModelError(
            f"{exc}（索引是用它建立的；`award-writer index --model bundled` 可改用内置模型重新嵌入）"
        ) from exc


@_repairing
def prepare_index(
    library: Library,
    embedder: Embedder | None = None,
    *,
    mode: str = "hybrid",
    switch_model: bool = False,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Preparation:
    """Bring the library's index in line before a search: embed new, changed and damaged
    cases, drop removed ones (with progress and cancel). Cheap when nothing changed.

    ``embedder``: the model to search with; None loads the one that built the index (the
    bundled one for a new index). If the index was built with another model, this raises
    :class:`IndexError_` unless ``switch_model`` (the user chose that model explicitly), in which
    case every case is re-embedded. If the index's model cannot be loaded and the index has
    chunks, the search goes on with BM25 only (``embedder`` None in the result) and a message.
    """
    index = open_index(library.home)
    index.refresh()
    messages: list[str] = []
    fallback = False
    need_model = mode != "bm25" or index.stale_cases(library, include_failed=False)
    if embedder is None and need_model:
        try:
            embedder = _load_index_embedder(index)
        except ModelError as exc:
            if index.is_empty():
                raise
            fallback = True
            messages.append(f"{exc}；本次只用关键词（BM25）检索")
    other = bool(index.embedder_name) and embedder is not None
    other = other and index.embedder_name != getattr(embedder, "name", "")
    if other and not switch_model:
        assert embedder is not None
        raise IndexError_(
            f"索引是用 {index.embedder_label} 建立的，不是 {_label(embedder)}；"
            "要改用这个模型，请运行 `award-writer index --model ...` 重新嵌入"
        )
    report = None
    stale = index.stale_cases(library, include_failed=False)
    if embedder is not None and (other or stale):
        report = index.update(library, embedder, on_progress=on_progress, cancel=cancel)
        messages += report.messages
    elif fallback and stale:
        removed = index.drop_removed(library)
        left = stale - removed
        if left:
            messages.append(f"{left} 个新增或改动的案例没有模型可嵌入，暂时搜不到")
    messages += index.messages
    index.messages.clear()
    return Preparation(None if fallback else embedder, report, other, tuple(messages))


def _label(embedder: Embedder) -> str:
    from analyzer.search.embed import embedder_label

    return embedder_label(embedder)


def _ready(
    library: Library, embedder: Embedder | None, mode: str, auto_update: bool
) -> tuple[SearchIndex, Embedder | None]:
    """The library's index (brought up to date when ``auto_update``) and the query embedder."""
    if auto_update:
        prep = prepare_index(library, embedder, mode=mode)
        index = open_index(library.home)
        index.messages.extend(prep.messages)  # for the caller to show
        return index, prep.embedder
    index = open_index(library.home)
    index.refresh()
    if embedder is None and mode != "bm25":
        try:
            embedder = _load_index_embedder(index)
        except ModelError as exc:
            if index.is_empty():
                raise
            index.messages.append(f"{exc}；本次只用关键词（BM25）检索")
    if embedder is not None and index.embedder_name and index.embedder_name != embedder.name:
        raise IndexError_(
            f"索引是用 {index.embedder_label} 建立的，不是 {_label(embedder)}；"
            "要改用这个模型，请运行 `award-writer index --model ...` 重新嵌入"
        )
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
) -> list[tuple[float, list[tuple[int, float]]]]:
    """Per part and modality: (weight, [(chunk id, score)] best first)."""
    arrays = index.arrays()
    out: list[tuple[float, list[tuple[int, float]]]] = []
    if mode in ("hybrid", "vector"):
        with_vector = [p for p in parts if p.vector is not None]
        if with_vector:
            queries = np.vstack([p.vector for p in with_vector if p.vector is not None])
            scores, ids = index.search_vectors(queries, n, allowed)
            for part, row_s, row_i in zip(with_vector, scores, ids, strict=True):
                found = [(int(i), float(s)) for s, i in zip(row_s, row_i, strict=True) if i >= 0]
                out.append((part.weight, found))
    if mode in ("hybrid", "bm25"):
        bm25 = index.bm25()
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
            out.append((part.weight, [(int(arrays.ids[i]), float(scores[i])) for i in top]))
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
            arrays.case_ids(np.array([c for c, _ in chunks], dtype=np.int64)) for _, chunks in lists
        ]
        found = {int(c) for row in cases for c in row if c >= 0}
        if len(found) >= k or n >= total:
            break
        n = min(total, n * 4)
    raw = len(lists) == 1
    case_score: dict[int, float] = defaultdict(float)
    chunk_score: dict[int, float] = defaultdict(float)
    case_of: dict[int, int] = {}
    for (weight, chunks), owners in zip(lists, cases, strict=True):
        seen: set[int] = set()
        for rank, ((chunk_id, score), owner) in enumerate(
            zip(chunks, owners.tolist(), strict=True)
        ):
            if owner < 0:
                continue
            case_of[chunk_id] = owner
            chunk_score[chunk_id] += score if raw else weight / (RRF_K + rank + 1)
            if owner not in seen:
                seen.add(owner)
                case_score[owner] += score if raw else weight / (RRF_K + len(seen))
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


def _text_parts(
    index: SearchIndex,
    text: str,
    embedder: Embedder | None,
    mode: str,
    sections: list[str] | None = None,
) -> list[_Part]:
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
        return [_Part(vector=vector, terms=index.term_ids(tokens), tokens=tokens)]
    parts = []
    if vectors is not None:
        parts = [_Part(vector=v, terms=None, weight=1.0 / len(texts)) for v in vectors]
    terms, weights = _lexical(tokenize(text))
    vocab = index.vocab()
    known = [(vocab[t], w) for t, w in zip(terms, weights, strict=True) if t in vocab]
    parts.append(
        _Part(
            vector=None,
            terms=[t for t, _ in known],
            term_weights=[w for _, w in known],
            tokens=terms,
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
    sections: list[str] | None = None,
) -> list[SearchHit]:
    """The ``k`` cases most similar to ``query`` (a phrase, a description or a whole draft;
    ``sections``: a draft's section texts, to pick the passages that get embedded).

    The index is updated first when the library changed (``auto_update``). An unknown
    ``award`` key raises :class:`~analyzer.errors.UnknownAwardError`.
    """
    _check(k, mode, award)
    index, embedder = _ready(library, embedder, mode, auto_update)
    parts = _text_parts(index, query, embedder, mode, sections)
    if not parts:
        return []
    allowed = _allowed(
        index, award=award, industry=industry, category=category, year=year, exclude=exclude
    )
    ranked = _rank(index, parts, mode, k, allowed)
    terms = sorted({t for p in parts for t in p.tokens})
    return _hits(index, ranked, lambda _chunk: terms)


def search_draft(library: Library, draft: Any, **kwargs: Any) -> list[SearchHit]:
    """Search by a draft: its text, or a parsed document (its sections' text is used)."""
    if isinstance(draft, str):
        return search(library, draft, **kwargs)
    sections = [s.text for s in getattr(draft, "sections", ())]
    text = "\n".join(sections) or str(getattr(draft, "text", ""))
    return search(library, text, sections=sections or None, **kwargs)


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
    """Cases like ``case_id`` (which is left out), from its stored chunk vectors and terms:
    up to ``MAX_PARTS`` chunk vectors (spread over its sections) and all its terms as one
    BM25 query."""
    _check(k, mode, award)
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
    by_section: dict[str, list[int]] = defaultdict(list)
    for i, chunk in enumerate(chunks):
        by_section[chunk.section].append(i)
    picked = representative([[str(i) for i in g] for g in by_section.values()], MAX_PARTS)
    parts: list[_Part] = []
    if mode != "bm25":
        parts = [_Part(vector=vectors[int(i)], terms=None, weight=1 / len(picked)) for i in picked]
    counts = Counter(int(t) for arr in terms for t in arr)
    parts.append(
        _Part(
            vector=None,
            terms=list(counts),
            term_weights=[1.0 + math.log(c) for c in counts.values()],
        )
    )
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
    parts = _text_parts(index, text, embedder, "hybrid")
    if not parts:
        return []
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
