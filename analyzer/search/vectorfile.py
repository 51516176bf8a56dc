"""The vector side of the search index: ``vectors.faiss``, derived from the stored vectors.

It is replaced atomically (temp file, fsync, ``os.replace``) and checked against the SHA-256 and
vector count recorded in ``meta``. Loading it then catches up with the database: vectors stored
since it was saved (a background job embeds case by case and saves the file only now and then)
are added, removed chunks dropped, so another process searching meanwhile never rebuilds an
HNSW graph. When missing or corrupt it is rebuilt from the database without re-embedding.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from analyzer.atomicfile import replace_file
from analyzer.progress import CancelToken, ProgressCallback, no_progress
from analyzer.search.indexread import IndexReader
from analyzer.search.indexstore import VECTORS_NAME, _valid_vector
from analyzer.search.vectors import VectorIndex

log = logging.getLogger(__name__)

_ID_BATCH = 900  # ids per SQL ``IN (…)``
CATCH_UP_SHARE = 0.5  # more missing than this share of the vectors: a rebuild is cheaper


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class VectorFile(IndexReader):
    """The index database plus its FAISS structure, kept in step."""

    def search_vectors(
        self, queries: np.ndarray, n: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` live chunks per query: (scores, chunk ids), -1 where fewer exist.

        HNSW keeps deleted chunks as tombstones; they are excluded inside the search (a FAISS id
        selector), so a query costs the same however many there are.
        """
        with self._lock:
            vectors = self.vectors()
            arrays = self.arrays()
            excluded = None
            if allowed is None and vectors.kind == "hnsw":
                if arrays.dead is None:
                    arrays.dead = np.setdiff1d(vectors.ids(), arrays.ids, assume_unique=True)
                excluded = arrays.dead
            return vectors.search(queries, n, allowed, excluded=excluded)

    def vectors(self) -> VectorIndex:
        """The FAISS structure, loaded and checked, or rebuilt from the stored vectors."""
        with self._lock:
            if self._vectors is None:
                self._vectors = self._load_vectors()
            return self._vectors

    def _load_vectors(self) -> VectorIndex:
        path = self.dir / VECTORS_NAME
        dim = self.dim
        if dim <= 0:
            return VectorIndex(max(dim, 1))
        if not path.exists():
            if self.n_vectors():
                self._note(f"{path.name} 不见了，已从数据库中存储的向量重建")
            return self._rebuild_vectors()
        try:
            if _file_sha256(path) != self._meta("vectors_sha256"):
                raise ValueError("校验和不符")
            vectors = VectorIndex.load(str(path), dim)
            expected = self._int_meta("vectors_ntotal", -1)
            if vectors.ntotal != expected:
                raise ValueError(f"有 {vectors.ntotal} 个向量，应为 {expected} 个")
        except Exception as exc:  # any damage: the database can always rebuild it
            self._note(f"{path.name} 已损坏（{exc}），已从数据库中存储的向量重建")
            return self._rebuild_vectors()
        return self._catch_up(vectors)

    def _catch_up(self, vectors: VectorIndex) -> VectorIndex:
        """``vectors`` as saved, plus the vectors stored since, minus chunks removed since."""
        live = np.array(
            [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE vector IS NOT NULL")],
            dtype=np.int64,
        )
        have = vectors.ids()
        missing = np.setdiff1d(live, have)
        if len(missing) > CATCH_UP_SHARE * max(len(live), 1) and len(missing) > 1000:
            log.info("vectors file far behind the database (%d missing); rebuilding", len(missing))
            return self._rebuild_vectors()
        gone = np.setdiff1d(have, live)
        if len(gone):
            vectors.remove(gone)  # flat: removed; HNSW: tombstones, skipped in every search
        dim = self.dim
        bad: set[int] = set()
        for start in range(0, len(missing), _ID_BATCH):
            part = [int(i) for i in missing[start : start + _ID_BATCH]]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                f"SELECT id, case_id, vector FROM chunks WHERE id IN ({marks})", part
            ).fetchall()
            good = [r for r in rows if _valid_vector(r[2], dim)]
            bad |= {r[1] for r in rows if not _valid_vector(r[2], dim)}
            if good:
                ids = np.array([r[0] for r in good], dtype=np.int64)
                vecs = np.frombuffer(b"".join(r[2] for r in good), dtype=np.float32)
                vectors.add(ids, vecs.reshape(-1, dim))
        if bad:
            self._vectors = vectors
            self._mark_damaged(bad, "存储的向量损坏")
        return vectors

    def _rebuild_vectors(
        self, on_progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> VectorIndex:
        dim = self.dim
        rows = self._db.execute(
            "SELECT id, case_id, vector FROM chunks WHERE vector IS NOT NULL ORDER BY id"
        ).fetchall()
        bad = {r[1] for r in rows if not _valid_vector(r[2], dim)}
        if bad:
            self._mark_damaged(bad, "存储的向量损坏")
            rows = [r for r in rows if r[1] not in bad]
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        vecs = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(-1, dim)
        out = VectorIndex.build(ids, vecs, dim=dim, on_progress=on_progress, cancel=cancel)
        self._vectors = out
        if self._arrays is not None:
            self._arrays.dead = None
        self._save_vectors()
        return out

    def _save_vectors(self) -> None:
        if self._vectors is None:
            return
        data = self._vectors.to_bytes()
        path = self.dir / VECTORS_NAME
        try:
            if path.is_dir() and not path.is_symlink():
                self._remove_vectors_file()
            replace_file(path, data)
        except OSError as exc:  # the search goes on from memory; the next run rebuilds again
            self._note(f"无法保存 {path}（{exc}）；本次使用内存中的向量")
            return
        with self._db:
            self._set_meta(vectors_sha256=_sha256(data), vectors_ntotal=self._vectors.ntotal)
        self._vectors_dirty = False
