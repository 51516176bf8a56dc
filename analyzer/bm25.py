"""BM25 over jieba tokens: Chinese needs lexical matching beside the vectors.

Documents are arrays of term ids; the postings are built with numpy (sort once, no Python loop
over tokens), so rebuilding for 100k chunks takes a fraction of a second and scoring a query is a
few vectorized slices.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

K1 = 1.2
B = 0.75

# Function words that carry no topic; jieba's search mode also emits them as single characters.
_STOPWORDS = """
的 了 和 与 及 等 在 是 为 对 以 将 并 或 而 也 就 都 被 把 让 从 到 由 向 于 之 其 这 那
我们 你们 他们 一个 一种 通过 进行 以及 同时 可以 没有 如何 什么 哪些 这个 那个 这些 那些
一 个 有 中 上 下 不 多 更 很 还 又 要 会 能 该 此 各 每 着 过 给
the a an of and to in for on is are with by at as
"""
STOPWORDS = frozenset(_STOPWORDS.split())
_WORD = re.compile(r"[\w\u3400-\u9fff]")
_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba() -> Any:
    global _jieba_ready
    import jieba

    with _jieba_lock:
        if not _jieba_ready:
            jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict…" banner on stderr
            logging.getLogger("jieba").setLevel(logging.WARNING)
            jieba.initialize()
            _jieba_ready = True
    return jieba


@lru_cache(maxsize=4096)
def _tokenize_cached(text: str) -> tuple[str, ...]:
    jieba = _jieba()
    out = []
    for token in jieba.cut_for_search(text):
        token = token.strip().lower()
        if token and _WORD.search(token) and token not in STOPWORDS:
            out.append(token)
    return tuple(out)


def tokenize(text: str) -> list[str]:
    """Lower-cased jieba search-mode tokens (words and their sub-words), without punctuation
    and stopwords."""
    if len(text) <= 512:
        return list(_tokenize_cached(text))
    return list(_tokenize_cached.__wrapped__(text))


def term_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Where the given terms occur in ``text`` (case-insensitive), merged where they overlap."""
    lowered = text.lower()
    spans = []
    for term in {t for t in terms if t}:
        start = lowered.find(term)
        while start >= 0:
            spans.append((start, start + len(term)))
            start = lowered.find(term, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


class BM25:
    """Okapi BM25 over documents given as int32 term-id arrays."""

    def __init__(
        self, docs: Sequence[np.ndarray], n_terms: int, *, k1: float = K1, b: float = B
    ) -> None:
        self.n_docs = len(docs)
        self.k1, self.b = k1, b
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        self.avgdl = float(lengths.mean()) if self.n_docs and lengths.sum() else 1.0
        self._norm = (k1 * (1.0 - b + b * lengths / self.avgdl)).astype(np.float32)
        if self.n_docs and lengths.sum():
            terms = np.concatenate([np.asarray(d, dtype=np.int64) for d in docs])
            doc_of = np.repeat(np.arange(self.n_docs, dtype=np.int64), lengths.astype(np.int64))
            pair = np.unique(terms * self.n_docs + doc_of, return_counts=True)
            keys, counts = pair
            term_of, self._docs = np.divmod(keys, self.n_docs)
            self._tf = counts.astype(np.float32)
            size = max(n_terms, int(term_of.max()) + 1)
            self._offsets = np.searchsorted(term_of, np.arange(size + 1)).astype(np.int64)
            df = np.diff(self._offsets).astype(np.float32)
        else:
            self._docs = np.zeros(0, dtype=np.int64)
            self._tf = np.zeros(0, dtype=np.float32)
            self._offsets = np.zeros(max(n_terms, 0) + 1, dtype=np.int64)
            df = np.zeros(max(n_terms, 0), dtype=np.float32)
        # Lucene's idf: never negative, so a term in most documents still counts a little
        self.idf = np.log1p((self.n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)

    def scores(self, query: Sequence[int], weights: Sequence[float] | None = None) -> np.ndarray:
        """BM25 score of every document (a repeated query term counts once per repetition)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for pos, term in enumerate(query):
            if term < 0 or term + 1 >= len(self._offsets):
                continue
            lo, hi = self._offsets[term], self._offsets[term + 1]
            if lo == hi:
                continue
            docs, tf = self._docs[lo:hi], self._tf[lo:hi]
            w = self.idf[term] * (1.0 if weights is None else weights[pos])
            out[docs] += w * tf * (self.k1 + 1.0) / (tf + self._norm[docs])
        return out
