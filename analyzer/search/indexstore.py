"""The database side of a library's search index: ``index.sqlite3``, the truth.

Every chunk (text, section, offsets, jieba term ids and its vector), a per-case status (indexed /
failed and why / damaged, with the content hash it was built from), the vocabulary and, in
``meta``, the embedder that built it. A database SQLite cannot read (or an empty file, or garbled
numbers in ``meta``) is set aside (``*.corrupt``) and the index starts over, keeping the embedder
it was built with; stored blobs that cannot be right (term ids beyond the vocabulary, a vector of
the wrong length or not finite) mark only their case ``damaged``, and the next update re-embeds
it. Every repair leaves a message (in Chinese) in ``messages``.

:class:`IndexStore` reads; :mod:`analyzer.search.vectorfile` adds the FAISS file,
:mod:`analyzer.search.build` the writing, :mod:`analyzer.search.index` the shared instance.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from analyzer.errors import IndexDamaged, IndexError_
from analyzer.paths import index_dir
from analyzer.search.bm25 import BM25
from analyzer.search.chunking import HEADER_KEY

if TYPE_CHECKING:
    from analyzer.search.vectors import VectorIndex

log = logging.getLogger(__name__)
T = TypeVar("T")

INDEX_VERSION = 1  # chunking + tokenizing + layout; a change re-embeds every case
DB_NAME = "index.sqlite3"
VECTORS_NAME = "vectors.faiss"
_INT_META = ("generation", "dim", "vectors_ntotal", "vectors_generation")
_EMBEDDER_META = ("embedder_name", "embedder_spec", "embedder_label", "dim")

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    case_id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', n_chunks INTEGER NOT NULL DEFAULT 0,
    title TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '', award TEXT,
    industry TEXT NOT NULL DEFAULT '', category TEXT NOT NULL DEFAULT '', year INTEGER,
    brand TEXT NOT NULL DEFAULT '', indexed_at REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL, ordinal INTEGER NOT NULL,
    section TEXT NOT NULL, kind TEXT NOT NULL, section_title TEXT NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, terms BLOB NOT NULL, vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_case ON chunks(case_id);
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
"""


@dataclass(frozen=True)
class CaseInfo:
    """What the index keeps of a case: its status and the fields search filters on."""

    case_id: int
    sha256: str
    status: str  # indexed | failed | damaged (| pending, only in statuses(library))
    reason: str
    n_chunks: int
    title: str
    source: str
    award: str | None
    industry: str
    category: str
    year: int | None
    brand: str


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


@dataclass
class _Arrays:
    """Per-chunk columns in memory, in chunk-id order (BM25 documents use the same order)."""

    ids: np.ndarray
    case_of: np.ndarray
    section: np.ndarray
    kind: np.ndarray
    headers: frozenset[int] = frozenset()
    hashes: dict[int, str] = field(default_factory=dict)  # case id → hash (not damaged ones)
    damaged: int = 0  # cases whose stored data was found damaged (re-embedded next update)
    bm25: BM25 | None = None
    dead: np.ndarray | None = None  # ids still in an HNSW graph but no longer in the index

    def case_ids(self, chunk_ids: np.ndarray) -> np.ndarray:
        """The case of each chunk id (-1 for an id not in the index)."""
        if len(self.ids) == 0:
            return np.full(len(chunk_ids), -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.ids, chunk_ids), 0, len(self.ids) - 1)
        return np.where(self.ids[pos] == chunk_ids, self.case_of[pos], -1)


def _is_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


def _valid_terms(blob: object, n_terms: int) -> bool:
    """A terms blob as stored: int32 ids within the vocabulary (1 … n_terms - 1)."""
    if not isinstance(blob, bytes) or len(blob) % 4:
        return False
    ids = np.frombuffer(blob, dtype=np.int32)
    return not len(ids) or (int(ids.min()) >= 1 and int(ids.max()) < n_terms)


def _valid_vector(blob: object, dim: int) -> bool:
    """A vector blob as stored: ``dim`` finite float32 values."""
    if not isinstance(blob, bytes) or len(blob) != dim * 4:
        return False
    return bool(np.isfinite(np.frombuffer(blob, dtype=np.float32)).all())


class IndexStore:
    """The index database of one library folder, with what is derived from it in memory."""

    def __init__(self, home: str | os.PathLike[str]) -> None:
        self.dir = index_dir(Path(home))
        self.messages: list[str] = []  # repairs made while opening, for the user to read
        self._lock = threading.RLock()  # the connection and the in-memory structures
        self._update_lock = threading.Lock()  # one update at a time; searches go on meanwhile
        self._seen_generation = -1
        self._arrays: _Arrays | None = None
        self._vocab: dict[str, int] | None = None
        self._vectors: VectorIndex | None = None
        self._vectors_dirty = False
        self._embedder_meta: dict[str, str] = {}  # kept to survive a database set aside
        # the library state last found in line with the index: (library, its generation(),
        # our generation); a search skips re-checking every case's hash while it holds
        self._fresh: tuple[weakref.ref[Any], object, int] | None = None
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexError_(f"{self.dir}：无法创建索引文件夹（{exc}）") from exc
        self._db = self._connect()
        self._seen_generation = self.generation

    # ------------------------------------------------------------------ database

    def _connect(self) -> sqlite3.Connection:
        path = self.dir / DB_NAME
        try:
            if path.exists() and path.stat().st_size == 0:
                raise IndexDamaged("文件为空（0 字节）")
            return self._try_connect(path)
        except sqlite3.DatabaseError as exc:
            return self._set_aside(exc)

    def _set_aside(self, exc: Exception) -> sqlite3.Connection:
        path = self.dir / DB_NAME
        self._note(f"索引数据库 {path} 已损坏（{exc}），已移到一旁，正在重建")
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        if path.exists():
            os.replace(path, path.with_name(DB_NAME + ".corrupt"))
        self._remove_vectors_file()
        db = self._try_connect(path)
        if self._embedder_meta:  # the rebuild uses the model the user chose, not the default
            with db:
                db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)", list(self._embedder_meta.items())
                )
        return db

    def discard(self, exc: Exception) -> None:
        """The database failed mid-use: set it aside and start empty (the next update rebuilds)."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = self._set_aside(exc)
            self._arrays, self._vocab, self._vectors = None, None, None
            self._vectors_dirty = False
            self._fresh = None
            self._seen_generation = self.generation

    def _try_connect(self, path: Path) -> sqlite3.Connection:
        existed = path.exists()
        db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_DDL)
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            db.execute("SELECT count(*), sum(length(terms)), sum(length(vector)) FROM chunks")
            db.execute("SELECT count(*), max(id) FROM terms").fetchone()
            if existed and not meta:
                raise IndexDamaged("数据库里没有索引的记录")
            for key in _INT_META:
                if key in meta and not _is_int(meta[key]):
                    raise IndexDamaged(f"meta 中的 {key} 不是整数：{meta[key][:40]!r}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        if meta.get("version") not in (None, str(INDEX_VERSION)):
            self._note("索引由另一版本的 Award Writer 建立，正在重建")
            with db:
                db.execute("DELETE FROM chunks")
                db.execute("DELETE FROM cases")
                db.execute("DELETE FROM terms")
        with db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (str(INDEX_VERSION),))
        kept = {k: meta[k] for k in _EMBEDDER_META if meta.get(k)}
        if kept.get("embedder_name"):
            self._embedder_meta = kept
        return db

    def _note(self, message: str) -> None:
        # info, not warning: the caller shows ``messages`` (the CLI prints them, the GUI shows
        # them); a warning would reach the terminal a second time through logging's last resort
        log.info("%s", message)
        self.messages.append(message)

    def _meta(self, key: str, default: str = "") -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else default

    def _int_meta(self, key: str, default: int = 0) -> int:
        value = self._meta(key, str(default))
        if not _is_int(value):
            raise IndexDamaged(f"meta 中的 {key} 不是整数：{value[:40]!r}")
        return int(value)

    def _set_meta(self, **values: object) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in values.items()]
        )

    def _bump(self) -> None:
        """Inside a transaction that changed chunks: the derived structures are now stale."""
        self._seen_generation = self._int_meta("generation") + 1
        self._set_meta(generation=self._seen_generation)
        self._arrays = None

    def refresh(self) -> None:
        """Drop what another process made stale (it changed the index since we loaded it)."""
        with self._lock:
            if self.generation != self._seen_generation and not self._vectors_dirty:
                self._arrays, self._vocab, self._vectors = None, None, None
                self._seen_generation = self.generation

    @property
    def generation(self) -> int:
        with self._lock:
            return self._int_meta("generation")

    @property
    def embedder_name(self) -> str:
        with self._lock:
            return self._meta("embedder_name")

    @property
    def embedder_spec(self) -> str:
        with self._lock:
            return self._meta("embedder_spec")

    @property
    def embedder_label(self) -> str:
        with self._lock:
            return self._meta("embedder_label") or self._meta("embedder_name")

    @property
    def dim(self) -> int:
        with self._lock:
            return self._int_meta("dim")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ reading

    def cases(self) -> dict[int, CaseInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT case_id, sha256, status, reason, n_chunks, title, source, award, industry,"
                " category, year, brand FROM cases ORDER BY case_id"
            ).fetchall()
        return {r[0]: CaseInfo(*r) for r in rows}

    def n_chunks(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def is_empty(self) -> bool:
        return self.n_chunks() == 0

    def arrays(self) -> _Arrays:
        with self._lock:
            if self._arrays is None:
                rows = self._db.execute(
                    "SELECT id, case_id, section, kind FROM chunks ORDER BY id"
                ).fetchall()
                cases = self._db.execute("SELECT case_id, sha256, status FROM cases").fetchall()
                self._arrays = _Arrays(
                    ids=np.array([r[0] for r in rows], dtype=np.int64),
                    case_of=np.array([r[1] for r in rows], dtype=np.int64),
                    section=np.array([r[2] for r in rows], dtype=object),
                    kind=np.array([r[3] for r in rows], dtype=object),
                    headers=frozenset(r[0] for r in rows if r[2] == HEADER_KEY),
                    hashes={c: sha for c, sha, status in cases if status != "damaged"},
                    damaged=sum(1 for *_, status in cases if status == "damaged"),
                )
            return self._arrays

    def bm25(self) -> BM25:
        with self._lock:
            arrays = self.arrays()
            if arrays.bm25 is None:
                n_terms = self._n_terms()
                rows = self._db.execute("SELECT case_id, terms FROM chunks ORDER BY id").fetchall()
                # term ids are 1..count: anything else (or a ragged blob) is damage, and BM25
                # must not size its postings by a garbled id
                bad = {case for case, blob in rows if not _valid_terms(blob, n_terms)}
                if bad:
                    self._mark_damaged(bad, "存储的分词数据损坏")
                    arrays = self.arrays()
                    rows = [r for r in rows if r[0] not in bad]
                docs = [np.frombuffer(blob, dtype=np.int32) for _, blob in rows]
                arrays.bm25 = BM25(docs, n_terms)
            return arrays.bm25

    def _n_terms(self) -> int:
        """The size of the term-id space: ids run from 1 to the number of terms."""
        return int(self._db.execute("SELECT count(*) FROM terms").fetchone()[0]) + 1

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
                "SELECT case_id, sha256, status, reason, n_chunks, title, source, award, industry,"
                f" category, year, brand FROM cases WHERE case_id IN ({marks})",
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

    def case_chunks(self, case_id: int) -> tuple[list[StoredChunk], np.ndarray, list[np.ndarray]]:
        """A case's chunks with their stored vectors and term ids (for "more like this"); none
        when they are damaged (the case is then marked for re-embedding)."""
        with self._lock:
            rows = self._db.execute(
                'SELECT id, case_id, ordinal, section, kind, section_title, text, start, "end",'
                " vector, terms FROM chunks WHERE case_id=? ORDER BY ordinal",
                (case_id,),
            ).fetchall()
            dim, n_terms = self.dim, self._n_terms()
            if any(not _valid_vector(r[9], dim) or not _valid_terms(r[10], n_terms) for r in rows):
                self._mark_damaged({case_id}, "存储的向量或分词数据损坏")
                return [], np.zeros((0, dim), dtype=np.float32), []
        vecs = np.array([np.frombuffer(r[9], dtype=np.float32) for r in rows], dtype=np.float32)
        terms = [np.frombuffer(r[10], dtype=np.int32) for r in rows]
        return [StoredChunk(*r[:9]) for r in rows], vecs.reshape(len(rows), dim), terms

    def _mark_damaged(self, case_ids: set[int], reason: str) -> None:
        """Drop the chunks of cases whose stored data is damaged; the next update re-embeds
        them (their status says so meanwhile)."""
        self._note(f"{len(case_ids)} 个案例的{reason}，已从索引中移除，下次更新时重新嵌入")
        marks = ",".join("?" * len(case_ids))
        ids = sorted(case_ids)
        with self._db:
            chunk_ids = [
                r[0]
                for r in self._db.execute(f"SELECT id FROM chunks WHERE case_id IN ({marks})", ids)
            ]
            self._db.execute(f"DELETE FROM chunks WHERE case_id IN ({marks})", ids)
            self._db.execute(
                f"UPDATE cases SET status='damaged', reason=?, n_chunks=0 WHERE case_id IN ({marks})",
                [reason, *ids],
            )
            self._bump()
        if self._vectors is not None:
            self._vectors.remove(np.array(chunk_ids, dtype=np.int64))
            self._vectors_dirty = True

    # ------------------------------------------------------------------ vectors file

    def _remove_vectors_file(self) -> None:
        path = self.dir / VECTORS_NAME
        if path.is_dir() and not path.is_symlink():  # not ours to delete: set it aside
            aside = path.with_name(f"{VECTORS_NAME}.corrupt")
            with contextlib.suppress(OSError):
                os.replace(path, aside)
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            path.unlink()


def run_repairing(store: IndexStore, operation: Callable[[], T]) -> T:
    """Run ``operation``; if the database turns out damaged (SQLite cannot read it, or
    :class:`IndexDamaged`), set it aside and run it once more on a fresh index."""
    try:
        return operation()
    except sqlite3.DatabaseError as exc:
        store.discard(exc)
    try:
        return operation()
    except sqlite3.DatabaseError as exc:  # damaged again at once: not something a rebuild fixes
        raise IndexError_(f"{store.dir / DB_NAME}：索引数据库无法使用（{exc}）") from exc
