"""The vector side of the index: FAISS inner product over unit vectors, keyed by chunk id.

Exact (``IndexFlatIP``) while the collection is small enough to scan in a couple of
milliseconds, HNSW beyond ``FLAT_LIMIT`` vectors (``bench/retrieval.py`` measured where the
exact scan passes ~2 ms on 2 cores). HNSW cannot delete: removed ids stay in the graph as
tombstones that the caller passes as ``excluded`` (a FAISS id selector skips them inside the
graph walk, so they cost nothing per query), and the graph is rebuilt from the stored vectors
once they pile up.

Queries on the flat index are scored with BLAS (numpy) over FAISS's own storage, no copy: on 2
cores FAISS's own scan was 2x slower for one query, and its batched search fought numpy's BLAS
threads for the cores. FAISS keeps the vectors, the ids and the file format.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress

FLAT_LIMIT = 50_000
HNSW_M = 48  # at 1M M=32 lost 0.07 recall@10 at equal ef (bench/retrieval.py)
HNSW_EF_CONSTRUCTION = 80
EXACT_SUBSET = 20_000  # a filter leaving fewer vectors than this is searched exactly
_BLOCK = 64  # queries scored at once on the flat index (bounds the score matrix)
_ADD_BATCH = 20_000


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - a broken install
        from analyzer.errors import IndexError_

        raise IndexError_("search needs faiss-cpu (pip install 'award-writer[search]')") from exc
    return faiss


def kind_for(n: int) -> str:
    return "flat" if n <= FLAT_LIMIT else "hnsw"


def ef_search_for(n: int) -> int:
    """HNSW search breadth for a top-10 query (a search asking for more hits walks at least
    that many). bench/retrieval.py, recall@10 with 96: on synthetic libraries whose
    neighbourhoods match real e5 passages 0.999 at 100k (p50 0.7 ms) and 0.966 at 1M (1.4 ms);
    on structureless Gaussian vectors (a worst case, LID 2.5x the real one) 0.95 at 100k."""
    return 96 if n <= 2_000_000 else 128


class VectorIndex:
    def __init__(self, dim: int, kind: str = "flat", *, index: Any = None) -> None:
        if kind not in {"flat", "hnsw"}:
            raise ValueError(f"kind must be 'flat' or 'hnsw', got {kind!r}")
        faiss = _faiss()
        self.dim, self.kind = dim, kind
        if index is None:
            if kind == "flat":
                base = faiss.IndexFlatIP(dim)
            else:
                base = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
                base.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index = faiss.IndexIDMap2(base)
        self._index = index
        self.ef_search: int | None = None  # None: ef_search_for(ntotal)
        self._views: tuple[np.ndarray, np.ndarray] | None = None
        self._not: tuple[np.ndarray, Any, Any] | None = None  # excluded ids → their selector

    # ------------------------------------------------------------------ build & change

    @classmethod
    def build(
        cls,
        ids: np.ndarray,
        vectors: np.ndarray,
        *,
        dim: int,
        kind: str | None = None,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> VectorIndex:
        out = cls(dim, kind or kind_for(len(ids)))
        total = len(ids)
        for start in range(0, total, _ADD_BATCH):
            if cancel is not None:
                cancel.raise_if_cancelled()
            out.add(ids[start : start + _ADD_BATCH], vectors[start : start + _ADD_BATCH])
            on_progress(Progress(min(start + _ADD_BATCH, total), total, f"{out.kind} index"))
        return out

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vecs = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        self._index.add_with_ids(vecs, np.ascontiguousarray(ids, dtype=np.int64))
        self._views = None

    def remove(self, ids: np.ndarray) -> int:
        """Remove ids from a flat index; returns 0 for HNSW (they become tombstones)."""
        if self.kind != "flat" or len(ids) == 0:
            return 0
        self._views = None
        return int(self._index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64)))

    def ids(self) -> np.ndarray:
        return _faiss().vector_to_array(self._index.id_map).astype(np.int64)

    # ------------------------------------------------------------------ search

    def _flat_views(self) -> tuple[np.ndarray, np.ndarray]:
        if self._views is None:
            faiss = _faiss()
            flat = faiss.downcast_index(self._index.index)
            n = self.ntotal
            xb = faiss.rev_swig_ptr(flat.get_xb(), n * self.dim).reshape(n, self.dim)
            self._views = (xb, self.ids())
        return self._views

    def _exclusion(self, excluded: np.ndarray) -> Any:
        """A selector of every id but ``excluded``, kept while the same array is passed."""
        if self._not is None or self._not[0] is not excluded:
            faiss = _faiss()
            batch = faiss.IDSelectorBatch(np.ascontiguousarray(excluded, dtype=np.int64))
            self._not = (excluded, batch, faiss.IDSelectorNot(batch))  # batch must outlive it
        return self._not[2]

    def search(
        self,
        queries: np.ndarray,
        n: int,
        allowed: np.ndarray | None = None,
        *,
        excluded: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` (scores, ids) per query row, best first; ids are -1 where fewer exist.

        ``allowed``: chunk ids a filter keeps (None = all). ``excluded``: ids never to return
        (HNSW tombstones), used when nothing is ``allowed``-filtered.
        """
        if excluded is not None and not len(excluded):
            excluded = None
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        n = max(1, min(n, self.ntotal))
        if self.ntotal == 0 or len(q) == 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        if allowed is not None and len(allowed) == 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        if self.kind == "flat":
            xb, ids = self._flat_views()
            mask = None if allowed is None else np.isin(ids, allowed)
            if excluded is not None:
                keep = ~np.isin(ids, excluded)
                mask = keep if mask is None else mask & keep
            if len(q) == 1:  # one query: matrix × vector (gemv), as the numpy baseline scores
                return _top_n((xb @ q[0])[None, :], ids, n, mask)
            parts = [
                _top_n(q[s : s + _BLOCK] @ xb.T, ids, n, mask) for s in range(0, len(q), _BLOCK)
            ]
            return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])
        if allowed is not None and len(allowed) <= EXACT_SUBSET:
            # a narrow filter: HNSW would walk most of the graph; score the subset exactly
            live = np.ascontiguousarray(allowed, dtype=np.int64)
            vecs = self._index.reconstruct_batch(live)
            return _top_n(q @ vecs.T, live, n, None)
        faiss = _faiss()
        params = None
        if self.kind == "hnsw":
            ef = self.ef_search or ef_search_for(self.ntotal)
            params = faiss.SearchParametersHNSW(efSearch=max(ef, n))
        sel = None
        if allowed is not None:
            sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        elif excluded is not None:
            sel = self._exclusion(excluded)
        if sel is not None:
            if params is None:
                params = faiss.SearchParameters(sel=sel)
            else:
                params.sel = sel
        if (
            len(q) == 1
        ):  # one query gains nothing from threads; waking them costs ms on a busy machine
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                return self._index.search(q, n, params=params)
            finally:
                faiss.omp_set_num_threads(threads)
        return self._index.search(q, n, params=params)

    # ------------------------------------------------------------------ persistence

    def to_bytes(self) -> bytes:
        return bytes(_faiss().serialize_index(self._index))

    @classmethod
    def from_bytes(cls, data: bytes, dim: int) -> VectorIndex:
        faiss = _faiss()
        return cls._checked(faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8)), dim)

    @classmethod
    def load(cls, path: str, dim: int) -> VectorIndex:
        """From a file, without holding its bytes and the index in memory at once."""
        return cls._checked(_faiss().read_index(path), dim)

    @classmethod
    def _checked(cls, index: Any, dim: int) -> VectorIndex:
        faiss = _faiss()
        if int(index.d) != dim:
            raise ValueError(f"vectors have {index.d} dimensions, expected {dim}")
        if not isinstance(index, faiss.IndexIDMap2):
            raise ValueError(f"not an id-mapped index ({type(index).__name__})")
        # keep the deserialized wrapper itself: it owns the C++ object (a downcast would not)
        base = faiss.downcast_index(index.index)
        kind = "hnsw" if isinstance(base, faiss.IndexHNSW) else "flat"
        return cls(dim, kind, index=index)


def _top_n(
    scores: np.ndarray, ids: np.ndarray, n: int, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    if mask is not None:
        scores = np.where(mask[None, :], scores, -np.inf)
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    top = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-top, axis=1, kind="stable")
    part = np.take_along_axis(part, order, axis=1)
    top = np.take_along_axis(top, order, axis=1).astype(np.float32)
    out_ids = ids[part]
    out_ids[~np.isfinite(top)] = -1
    return top, out_ids
