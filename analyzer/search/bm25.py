"""BM25 over jieba tokens: Chinese needs lexical matching beside the vectors.

Documents are arrays of term ids; the postings are built with numpy (sort once, no Python loop
over tokens), so rebuilding for 100k chunks takes a fraction of a second and scoring a query is a
few vectorized slices.
"""

from __future__ import annotations

import itertools
import logging
import marshal
import re
import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.atomicfile import replace_file
from analyzer.paths import cache_dir

log = logging.getLogger(__name__)

K1 = 1.2
B = 0.75
DICT_SLICE = 8192  # dictionary words loaded per step (a few ms each with the GIL held)
DICT_FORMAT = 1

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


def ensure_jieba() -> Any:
    """jieba with its dictionary loaded (see :func:`_load_dictionary`); the module."""
    global _jieba_ready
    import jieba

    with _jieba_lock:
        if not _jieba_ready:
            jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict…" banner on stderr
            logging.getLogger("jieba").setLevel(logging.WARNING)
            _load_dictionary(jieba.dt)
            _jieba_ready = True
    return jieba


def _load_dictionary(dt: Any) -> None:
    """Load jieba's default prefix dictionary in slices of ``DICT_SLICE`` words.

    jieba's own cache is one ``marshal.load`` of ~600k entries: 0.2-0.5 s in which no other
    thread of the process runs (the desktop's GUI thread froze for that long during the first
    search). Slices keep every step that holds the GIL to a few milliseconds. The sliced copy
    is made once, from jieba's dictionary file (plain Python, which lets other threads run),
    into the app's cache; a damaged copy is made again.
    """
    import jieba

    if dt.initialized or dt.dictionary != jieba.DEFAULT_DICT:
        dt.check_initialized()  # a custom dictionary: jieba's own way
        return
    path = cache_dir() / f"jieba-{jieba.__version__}-{DICT_FORMAT}.dict"
    loaded = _read_slices(path)
    if loaded is None:
        with dt.get_dict_file() as fh:
            freq, total = _prefix_dict(fh)
        try:
            replace_file(path, _slices(freq, total))
        except OSError as exc:  # a read-only cache: slower next time, nothing else
            log.info("cannot cache jieba's dictionary in %s: %s", path, exc)
    else:
        freq, total = loaded
    with dt.lock:
        dt.FREQ, dt.total = freq, total
        dt.initialized = True


def _prefix_dict(lines: Any) -> tuple[dict[str, int], int]:
    """jieba's ``gen_pfdict`` (word → frequency, every prefix of a word → 0 when not a word
    itself, and the total), handing the GIL over every ``DICT_SLICE`` lines."""
    freq: dict[str, int] = {}
    total = 0
    for n, raw in enumerate(lines, 1):
        word, count = raw.strip().decode("utf-8").split(" ")[:2]
        freq[word] = int(count)
        total += int(count)
        for end in range(1, len(word)):
            freq.setdefault(word[:end], 0)
        if n % DICT_SLICE == 0:
            time.sleep(0)
    return freq, total


def _slices(freq: dict[str, int], total: int) -> bytes:
    words = iter(freq)
    parts = [marshal.dumps((DICT_FORMAT, total, len(freq)))]
    for _ in range(0, len(freq), DICT_SLICE):
        parts.append(marshal.dumps({w: freq[w] for w in itertools.islice(words, DICT_SLICE)}))
        time.sleep(0)
    return b"".join(parts)


def _read_slices(path: Path) -> tuple[dict[str, int], int] | None:
    try:
        with open(path, "rb") as fh:
            version, total, n = marshal.load(fh)
            if version != DICT_FORMAT:
                return None
            freq: dict[str, int] = {}
            while len(freq) < n:
                part = marshal.load(fh)
                if not isinstance(part, dict) or not part:
                    return None
                freq.update(part)
                time.sleep(0)  # hand the GIL over: without it the GUI thread waited 0.2 s
    except (OSError, EOFError, ValueError, TypeError) as exc:
        if path.exists():
            log.info("jieba's cached dictionary %s is damaged (%s): building it again", path, exc)
        return None
    return (freq, int(total)) if len(freq) == n else None


@lru_cache(maxsize=4096)
def _tokenize_cached(text: str) -> tuple[str, ...]:
    jieba = ensure_jieba()
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
    """Okapi BM25 over documents given as int32 term-id arrays.

    The postings are built by one stable sort of the term ids (documents stay in order within
    a term) with int32 throughout: 131k chunks (10k cases) peak at ~0.3 GB where an int64
    ``np.unique`` over (term, document) keys took 0.8 GB.
    """

    def __init__(
        self, docs: Sequence[np.ndarray], n_terms: int, *, k1: float = K1, b: float = B
    ) -> None:
        lengths = np.array([len(d) for d in docs], dtype=np.int64)
        terms = (
            np.concatenate([np.asarray(d, dtype=np.int32) for d in docs])
            if len(docs) and lengths.sum()
            else np.zeros(0, dtype=np.int32)
        )
        self._build(terms, lengths, n_terms, k1, b)

    @classmethod
    def from_terms(
        cls, terms: np.ndarray, lengths: np.ndarray, n_terms: int, *, k1: float = K1, b: float = B
    ) -> BM25:
        """From every document's term ids laid end to end, and each document's length."""
        out = cls.__new__(cls)
        out._build(np.asarray(terms, dtype=np.int32), np.asarray(lengths, np.int64), n_terms, k1, b)
        return out

    def _build(
        self, terms: np.ndarray, lengths: np.ndarray, n_terms: int, k1: float, b: float
    ) -> None:
        self.n_docs = len(lengths)
        self.k1, self.b = k1, b
        total = int(lengths.sum()) if self.n_docs else 0
        self.avgdl = total / self.n_docs if total else 1.0
        self._norm = (k1 * (1.0 - b + b * lengths / self.avgdl)).astype(np.float32)
        size = max(n_terms, int(terms.max()) + 1 if total else 0, 0)
        if total:
            order = np.argsort(terms, kind="stable")
            by_term = terms[order]
            doc_of = np.repeat(np.arange(self.n_docs, dtype=np.int32), lengths)[order]
            del order
            first = np.ones(len(by_term), dtype=bool)  # the first posting of a (term, document)
            first[1:] = (by_term[1:] != by_term[:-1]) | (doc_of[1:] != doc_of[:-1])
            starts = np.flatnonzero(first)
            self._docs = doc_of[starts]
            self._tf = np.diff(np.append(starts, len(by_term))).astype(np.float32)
            self._offsets = np.searchsorted(by_term[starts], np.arange(size + 1)).astype(np.int64)
            df = np.diff(self._offsets).astype(np.float32)
        else:
            self._docs = np.zeros(0, dtype=np.int32)
            self._tf = np.zeros(0, dtype=np.float32)
            self._offsets = np.zeros(size + 1, dtype=np.int64)
            df = np.zeros(size, dtype=np.float32)
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
