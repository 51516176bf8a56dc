"""Reading the index database for a search: per-chunk arrays, BM25, chunks and their vectors.

What is derived from the database is kept in memory and rebuilt when its ``generation`` moves
(chunks changed); the set of cases that have vectors follows ``vgeneration`` alone, so vectors
arriving case by case from the background job never rebuild BM25.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analyzer.search.bm25 import BM25
from analyzer.search.chunking import HEADER_KEY
from analyzer.search.indexstore import (
    CASE_COLUMNS,
    DAMAGED,
    INDEXED,
    CaseInfo,
    IndexStore,
    _valid_terms,
    _valid_vector,
)


@dataclass
class _Arrays:
    """Per-chunk columns in memory, in chunk-id order (BM25 documents use the same order)."""

    ids: np.ndarray
    case_of: np.ndarray
    section: np.ndarray
    kind: np.ndarray
    headers: frozenset[int] = frozenset()
    hashes: dict[int, str] = field(default_factory=dict)  # case id → hash (not damaged ones)
    damaged: int = 0  # cases whose stored data was found damaged (filed again next update)
    bm25: BM25 | None = None
    dead: np.ndarray | None = None  # ids still in an HNSW graph but no longer in the index
    embedded: frozenset[int] | None = None  # cases with vectors (None: to be read again)

    def case_ids(self, chunk_ids: np.ndarray) -> np.ndarray:
        """The case of each chunk id (-1 for an id not in the index)."""
        if len(self.ids) == 0:
            return np.full(len(chunk_ids), -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.ids, chunk_ids), 0, len(self.ids) - 1)
        return np.where(self.ids[pos] == chunk_ids, self.case_of[pos], -1)


@dataclass(frozen=True)
class StoredChunk:
    id: int
    case_id: int
    ordinal: int
    section: str
    kind: str
    section_title: str
    text: str
    start: int
    end: int


class IndexReader(IndexStore):
    """The index database with what a search reads from it."""

    def arrays(self) -> _Arrays:
        with self._lock:
            if self._arrays is None:
                rows = self._db.execute(
                    "SELECT id, case_id, section, kind FROM chunks ORDER BY id"
                ).fetchall()
                self._arrays = self._arrays_of(rows)
            return self._arrays

    def _arrays_of(self, rows: list[Any]) -> _Arrays:
        """The per-chunk arrays of ``rows`` (id, case, section, kind, …), ordered by id."""
        cases = self._db.execute("SELECT case_id, sha256, status FROM cases").fetchall()
        return _Arrays(
            ids=np.array([r[0] for r in rows], dtype=np.int64),
            case_of=np.array([r[1] for r in rows], dtype=np.int64),
            section=np.array([r[2] for r in rows], dtype=object),
            kind=np.array([r[3] for r in rows], dtype=object),
            headers=frozenset(r[0] for r in rows if r[2] == HEADER_KEY),
            hashes={c: sha for c, sha, status in cases if status != DAMAGED},
            damaged=sum(1 for *_, status in cases if status == DAMAGED),
        )

    def lexical(self) -> _Arrays:
        """The per-chunk arrays with their BM25, built together: a writer filing cases
        meanwhile cannot make them disagree (a search uses this one snapshot throughout)."""
        with self._lock:
            self.bm25()
            return self.arrays()

    def embedded_cases(self) -> frozenset[int]:
        """The cases that have vectors (the others are searched by keywords only)."""
        with self._lock:
            arrays = self.arrays()
            if arrays.embedded is None:
                rows = self._db.execute("SELECT case_id FROM cases WHERE status=?", (INDEXED,))
                arrays.embedded = frozenset(r[0] for r in rows)
            return arrays.embedded

    def bm25(self) -> BM25:
        """BM25 over the chunks, built with the per-chunk arrays from one read of the table: a
        process filing cases meanwhile cannot make them disagree (row i of one is row i of the
        other)."""
        with self._lock:
            if self._arrays is not None and self._arrays.bm25 is not None:
                return self._arrays.bm25
            n_terms = self._n_terms()
            rows = self._db.execute(
                "SELECT id, case_id, section, kind, terms FROM chunks ORDER BY id"
            ).fetchall()
            # term ids are 1..count: anything else (or a ragged blob) is damage, and BM25
            # must not size its postings by a garbled id
            bad = {r[1] for r in rows if not _valid_terms(r[4], n_terms)}
            if bad:
                self._mark_damaged(bad, "存储的分词数据损坏")
                rows = [r for r in rows if r[1] not in bad]
            arrays = self._arrays_of(rows)
            lengths = np.array([len(r[4]) // 4 for r in rows], dtype=np.int64)
            terms = np.frombuffer(b"".join(r[4] for r in rows), dtype=np.int32)
            del rows
            arrays.bm25 = BM25.from_terms(terms, lengths, n_terms)
            self._arrays = arrays
            return arrays.bm25

    def _n_terms(self) -> int:
        """The size of the term-id space: ids run from 1 to the number of terms."""
        row = self._db.execute("SELECT count(*), max(id) FROM terms").fetchone()
        return max(int(row[0]), int(row[1] or 0)) + 1

    def vocab(self) -> dict[str, int]:
        with self._lock:
            if self._vocab is None:
                self._vocab = dict(self._db.execute("SELECT term, id FROM terms").fetchall())
            return self._vocab

    def term_ids(self, tokens: list[str]) -> list[int]:
        vocab = self.vocab()
        return [vocab[t] for t in tokens if t in vocab]

    def shared_terms(self, chunk_id: int, terms: set[int], limit: int = 30) -> list[str]:
        """The rarest terms a chunk shares with ``terms`` (to highlight "more like this")."""
        with self._lock:
            row = self._db.execute("SELECT terms FROM chunks WHERE id=?", (chunk_id,)).fetchone()
            if row is None or len(row[0]) % 4:
                return []
            common = sorted(set(np.frombuffer(row[0], dtype=np.int32).tolist()) & terms)
            idf = self.bm25().idf
            common.sort(key=lambda t: -float(idf[t]) if 0 <= t < len(idf) else 0.0)
            marks = ",".join("?" * len(common[:limit]))
            return [
                r[0]
                for r in self._db.execute(
                    f"SELECT term FROM terms WHERE id IN ({marks})", common[:limit]
                )
            ]

    def case_infos(self, case_ids: list[int]) -> dict[int, CaseInfo]:
        if not case_ids:
            return {}
        marks = ",".join("?" * len(case_ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT {CASE_COLUMNS} FROM cases WHERE case_id IN ({marks})",
                [int(c) for c in case_ids],
            ).fetchall()
        return {r[0]: CaseInfo(*r) for r in rows}

    def get_chunks(self, ids: list[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = self._db.execute(
                'SELECT id, case_id, ordinal, section, kind, section_title, text, start, "end"'
                f" FROM chunks WHERE id IN ({marks})",
                [int(i) for i in ids],
            ).fetchall()
        return {r[0]: StoredChunk(*r) for r in rows}

    def case_chunks(
        self, case_id: int
    ) -> tuple[list[StoredChunk], np.ndarray, list[np.ndarray], list[int]]:
        """A case's chunks (for "more like this"): the chunks, the vectors it has, the term ids
        of every chunk, and for each vector the position of its chunk. Nothing when the stored
        data is damaged (the case is then marked to be filed again)."""
        with self._lock:
            rows = self._db.execute(
                'SELECT id, case_id, ordinal, section, kind, section_title, text, start, "end",'
                " vector, terms FROM chunks WHERE case_id=? ORDER BY ordinal",
                (case_id,),
            ).fetchall()
            dim, n_terms = self.dim, self._n_terms()
            bad = any(
                (r[9] is not None and not _valid_vector(r[9], dim))
                or not _valid_terms(r[10], n_terms)
                for r in rows
            )
            if bad:
                self._mark_damaged({case_id}, "存储的向量或分词数据损坏")
                return [], np.zeros((0, max(dim, 1)), dtype=np.float32), [], []
        with_vector = [i for i, r in enumerate(rows) if r[9] is not None]
        vecs = np.array(
            [np.frombuffer(rows[i][9], dtype=np.float32) for i in with_vector], dtype=np.float32
        ).reshape(len(with_vector), max(dim, 1))
        terms = [np.frombuffer(r[10], dtype=np.int32) for r in rows]
        return [StoredChunk(*r[:9]) for r in rows], vecs, terms, with_vector
