"""The search index of a library, in ``paths.index_dir(home)``.

Two files:

- ``index.sqlite3`` — the truth: every chunk (text, section, offsets, jieba term ids and its
  vector), a per-case status (indexed / failed and why / damaged, with the content hash it was
  built from), the vocabulary and, in ``meta``, the embedder that built it. Each case is written
  in one transaction, so an interrupted build keeps every finished case and resumes after it.
- ``vectors.faiss`` — the FAISS structure, derived from the stored vectors. It is replaced
  atomically (temp file, fsync, ``os.replace``) and checked against the SHA-256, vector count,
  dimension and generation recorded in ``meta``; when missing, stale or corrupt it is rebuilt
  from the database without re-embedding.

Damage is never fatal. A database SQLite cannot read (or an empty file, or garbled numbers in
``meta``) is set aside (``*.corrupt``) and the index starts over, keeping the embedder it was
built with; stored blobs that cannot be right (term ids beyond the vocabulary, a vector of the
wrong length or not finite) mark only their case ``damaged``, and the next update re-embeds it.
:func:`repairing` runs an operation again after setting a damaged database aside. Every repair
leaves a message (in Chinese: the desktop app shows them) in ``SearchIndex.messages``.
Changing the embedder re-embeds everything: vectors of two models never mix.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from analyzer.atomicfile import replace_file
from analyzer.errors import AwardWriterError, Cancelled, CaseNotFoundError, IndexError_
from analyzer.paths import index_dir
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress
from analyzer.search.bm25 import BM25, tokenize
from analyzer.search.chunking import HEADER_KEY, Chunk, chunk_case
from analyzer.search.vectors import FLAT_LIMIT, VectorIndex, kind_for

if TYPE_CHECKING:
    from analyzer.library.store import CaseRecord, Library
    from analyzer.search.embed import Embedder

log = logging.getLogger(__name__)
T = TypeVar("T")

INDEX_VERSION = 1  # chunking + tokenizing + layout; a change re-embeds every case
DB_NAME = "index.sqlite3"
VECTORS_NAME = "vectors.faiss"
EMBED_BATCH = 16  # chunks per embedding call: one model batch, so a cancel loses at most one
_INT_META = ("generation", "dim", "vectors_ntotal", "vectors_generation")
_EMBEDDER_META = ("embedder_name", "embedder_spec", "embedder_label", "dim")
TOMBSTONE_LIMIT = 0.2  # HNSW is rebuilt when this share of its vectors are deleted ones

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


class IndexDamaged(sqlite3.DatabaseError):
    """Index content that cannot be right (a garbled number in ``meta``): repaired like a
    database SQLite cannot read."""


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
class IndexReport:
    embedder: str
    embedder_label: str = ""
    added: int = 0
    updated: int = 0
    reembedded: int = 0  # every case, embedded again because the model changed
    removed: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    n_cases: int = 0
    n_chunks: int = 0
    kind: str = "flat"


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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def _library_marker(library: Library) -> object | None:
    """The library's cheap change marker, when it has one (``Library.generation()``)."""
    marker = getattr(library, "generation", None)
    return marker() if callable(marker) else None


class SearchIndex:
    """One library's index. Thread-safe; use :func:`open_index` to share one per folder."""

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
        with _OPEN_LOCK:
            for key, value in list(_OPEN.items()):
                if value is self:
                    del _OPEN[key]

    # ------------------------------------------------------------------ reading

    def cases(self) -> dict[int, CaseInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT case_id, sha256, status, reason, n_chunks, title, source, award, industry,"
                " category, year, brand FROM cases ORDER BY case_id"
            ).fetchall()
        return {r[0]: CaseInfo(*r) for r in rows}

    def statuses(self, library: Library | None = None) -> list[CaseInfo]:
        """Each case's index status. With the library, its cases not indexed yet (new, or
        changed since) are listed too, as ``pending``."""
        known = self.cases()
        if library is None:
            return list(known.values())
        hashes = library.case_hashes()
        out = [info for cid, info in known.items() if cid in hashes and info.sha256 == hashes[cid]]
        for summary in library.list_cases():
            info = known.get(summary.id)
            if info is not None and info.sha256 == hashes.get(summary.id):
                continue
            reason = "尚未建立索引" if info is None else "内容已改变，待重新索引"
            out.append(
                CaseInfo(
                    summary.id,
                    hashes.get(summary.id, ""),
                    "pending",
                    reason,
                    0,
                    summary.title,
                    summary.source,
                    summary.award,
                    summary.industry,
                    summary.category,
                    summary.year,
                    summary.brand,
                )
            )
        return sorted(out, key=lambda i: i.case_id)

    def n_chunks(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def is_empty(self) -> bool:
        return self.n_chunks() == 0

    def stale_cases(self, library: Library, *, include_failed: bool = True) -> int:
        """How many cases of the library are new, changed, removed or damaged since indexing
        (and, with ``include_failed``, failed last time).

        Without ``include_failed`` (the check before every search) the answer is remembered
        with the library's change marker (``Library.generation()``) and the index generation:
        while neither moved, no case is looked at again.
        """
        marker = _library_marker(library)
        if not include_failed and marker is not None and self._fresh is not None:
            ref, seen, generation = self._fresh
            if ref() is library and seen == marker and generation == self.generation:
                return 0
        hashes = library.case_hashes()
        arrays = self.arrays()
        if not include_failed and not arrays.damaged and hashes == arrays.hashes:
            if marker is not None:
                self._fresh = (weakref.ref(library), marker, self.generation)
            return 0  # the common case: no per-case work
        known = self.cases()
        todo = 0
        for cid, sha in hashes.items():
            info = known.get(cid)
            if (
                info is None
                or info.sha256 != sha
                or info.status == "damaged"
                or (include_failed and info.status != "indexed")
            ):
                todo += 1
        return todo + sum(1 for cid in known if cid not in hashes)

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
            if allowed is None and vectors.ntotal > len(arrays.ids):
                if arrays.dead is None:
                    arrays.dead = np.setdiff1d(vectors.ids(), arrays.ids, assume_unique=True)
                excluded = arrays.dead
            return vectors.search(queries, n, allowed, excluded=excluded)

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

    def vectors(self) -> VectorIndex:
        """The FAISS structure, loaded and checked, or rebuilt from the stored vectors."""
        with self._lock:
            if self._vectors is None:
                self._vectors = self._load_vectors()
            return self._vectors

    def _load_vectors(self) -> VectorIndex:
        path = self.dir / VECTORS_NAME
        n_live, dim = self.n_chunks(), self.dim
        if dim <= 0:
            return VectorIndex(max(dim, 1))
        if not path.exists():
            if n_live:
                self._note(f"{path.name} 不见了，已从数据库中存储的向量重建")
            return self._rebuild_vectors()
        if self._meta("vectors_generation") != str(self.generation):
            log.info("vectors file older than the database (interrupted update); rebuilding it")
            return self._rebuild_vectors()
        try:
            data = path.read_bytes()
            if _sha256(data) != self._meta("vectors_sha256"):
                raise ValueError("校验和不符")
            vectors = VectorIndex.from_bytes(data, dim)
            if vectors.ntotal != self._int_meta("vectors_ntotal", -1) or vectors.ntotal < n_live:
                raise ValueError(f"有 {vectors.ntotal} 个向量，应为 {n_live} 个")
        except Exception as exc:  # any damage: the database can always rebuild it
            self._note(f"{path.name} 已损坏（{exc}），已从数据库中存储的向量重建")
            return self._rebuild_vectors()
        return vectors

    def _rebuild_vectors(
        self, on_progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> VectorIndex:
        dim = self.dim
        rows = self._db.execute("SELECT id, case_id, vector FROM chunks ORDER BY id").fetchall()
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

    def _remove_vectors_file(self) -> None:
        path = self.dir / VECTORS_NAME
        if path.is_dir() and not path.is_symlink():  # not ours to delete: set it aside
            aside = path.with_name(f"{VECTORS_NAME}.corrupt")
            with contextlib.suppress(OSError):
                os.replace(path, aside)
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            path.unlink()

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
            self._set_meta(
                vectors_sha256=_sha256(data),
                vectors_ntotal=self._vectors.ntotal,
                vectors_generation=self.generation,
            )
        self._vectors_dirty = False

    # ------------------------------------------------------------------ update

    def update(
        self,
        library: Library,
        embedder: Embedder,
        *,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        rebuild: bool = False,
    ) -> IndexReport:
        """Bring the index in line with the library: embed new and changed cases, drop removed
        ones, retry failed ones; the rest keep their vectors."""
        return repairing(
            self, lambda: self._update(library, embedder, on_progress, cancel, rebuild)
        )

    def _update(
        self,
        library: Library,
        embedder: Embedder,
        on_progress: ProgressCallback,
        cancel: CancelToken | None,
        rebuild: bool,
    ) -> IndexReport:
        from analyzer.search.embed import embedder_label, embedder_spec

        with self._update_lock:
            with self._lock:
                label = embedder_label(embedder)
                report = IndexReport(
                    embedder=embedder.name, embedder_label=label, messages=list(self.messages)
                )
                self.messages.clear()
                old, old_label = self.embedder_name, self.embedder_label
                switched = bool(old) and (old != embedder.name or self.dim != embedder.dim)
                prior: set[int] = set()
                if rebuild or switched:
                    prior = set(self.cases())
                    if switched:
                        report.messages.append(
                            f"索引原由 {old_label} 建立；正在用 {label} 重新嵌入全部案例"
                        )
                    self._clear()
                self._embedder_meta = {
                    "embedder_name": embedder.name,
                    "embedder_spec": embedder_spec(embedder),
                    "embedder_label": label,
                    "dim": str(embedder.dim),
                }
                with self._db:
                    self._set_meta(**self._embedder_meta)
                self.refresh()
                known = self.cases()
                hashes = library.case_hashes()
                gone = [cid for cid in known if cid not in hashes]
                if gone:
                    self._delete_cases(gone)
                    report.removed = len(gone)
            todo = [
                cid
                for cid, sha in sorted(hashes.items())
                if cid not in known or (known[cid].sha256, known[cid].status) != (sha, "indexed")
            ]
            report.unchanged = len(hashes) - len(todo)
            on_progress(Progress(0, len(todo), "正在建立索引"))
            try:
                self._embed_cases(library, embedder, todo, known, report, on_progress, cancel)
            finally:
                with self._lock:
                    self._finish(report)
            if prior:  # cases indexed before the model changed were embedded again, not "added"
                indexed = {c.case_id for c in self.statuses() if c.status == "indexed"}
                report.reembedded = min(len(prior & indexed), report.added)
                report.added -= report.reembedded
            return report

    def _clear(self) -> None:
        with self._db:
            self._db.execute("DELETE FROM chunks")
            self._db.execute("DELETE FROM cases")
            self._db.execute("DELETE FROM terms")
            self._bump()
        self._vocab = None
        self._vectors = None
        self._remove_vectors_file()

    def drop_removed(self, library: Library) -> int:
        """Remove the cases the library no longer has (needs no model); how many there were."""
        with self._update_lock, self._lock:
            hashes = library.case_hashes()
            gone = [cid for cid in self.cases() if cid not in hashes]
            if gone:
                self._delete_cases(gone)
                self._save_vectors()
            return len(gone)

    def _delete_cases(self, case_ids: list[int]) -> None:
        vectors = self.vectors()
        marks = ",".join("?" * len(case_ids))
        with self._db:
            ids = [
                r[0]
                for r in self._db.execute(
                    f"SELECT id FROM chunks WHERE case_id IN ({marks})", case_ids
                )
            ]
            self._db.execute(f"DELETE FROM chunks WHERE case_id IN ({marks})", case_ids)
            self._db.execute(f"DELETE FROM cases WHERE case_id IN ({marks})", case_ids)
            self._bump()
        vectors.remove(np.array(ids, dtype=np.int64))
        self._vectors_dirty = True

    def _embed_cases(
        self,
        library: Library,
        embedder: Embedder,
        todo: list[int],
        known: dict[int, CaseInfo],
        report: IndexReport,
        on_progress: ProgressCallback,
        cancel: CancelToken | None,
    ) -> None:
        batch: list[tuple[CaseRecord, list[Chunk]]] = []
        done = 0

        def flush() -> None:
            nonlocal done
            self._embed_batch(batch, embedder, known, report, cancel)
            done += len(batch)
            on_progress(Progress(done, len(todo), f"已索引：{batch[-1][0].title}"))
            batch.clear()

        for case_id in todo:
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                case = library.get_case(case_id)
            except CaseNotFoundError:  # removed while we were indexing
                done += 1
                continue
            chunks = chunk_case(case, case_id)
            if not chunks:
                self._store_failed(case, "没有可索引的文字", report)
                done += 1
                continue
            batch.append((case, chunks))
            if sum(len(c) for _, c in batch) >= EMBED_BATCH:
                flush()
        if batch:
            flush()

    def _embed_batch(
        self,
        batch: list[tuple[CaseRecord, list[Chunk]]],
        embedder: Embedder,
        known: dict[int, CaseInfo],
        report: IndexReport,
        cancel: CancelToken | None,
    ) -> None:
        texts = [c.indexed_text for _, chunks in batch for c in chunks]
        try:
            vecs = embedder.embed_passages(texts, cancel=cancel)
            vecs = np.asarray(vecs, dtype=np.float32)
            if vecs.shape != (len(texts), embedder.dim) or not np.isfinite(vecs).all():
                raise IndexError_(f"嵌入模型返回的向量形状不对：{vecs.shape}")
        except (Cancelled, KeyboardInterrupt):
            raise
        except Exception as exc:
            if len(batch) > 1:  # find the case that fails; the others still get indexed
                for item in batch:
                    self._embed_batch([item], embedder, known, report, cancel)
                return
            reason = str(exc) if isinstance(exc, AwardWriterError) else repr(exc)
            self._store_failed(batch[0][0], f"嵌入失败：{reason}", report)
            return
        pos = 0
        for case, chunks in batch:
            self._store_case(case, chunks, vecs[pos : pos + len(chunks)])
            pos += len(chunks)
            if case.id in known:
                report.updated += 1
            else:
                report.added += 1

    def _intern(self, tokens: list[str]) -> np.ndarray:
        vocab = self.vocab()
        ids = []
        for token in tokens:
            term = vocab.get(token)
            if term is None:
                cur = self._db.execute("INSERT INTO terms(term) VALUES (?)", (token,))
                term = vocab[token] = int(cur.lastrowid or 0)
            ids.append(term)
        return np.array(ids, dtype=np.int32)

    def _store_case(self, case: CaseRecord, chunks: list[Chunk], vecs: np.ndarray) -> None:
        tokens = [tokenize(chunk.indexed_text) for chunk in chunks]
        with self._lock:
            vectors = self.vectors()
            try:
                old, new_ids = self._write_case(case, chunks, vecs, tokens)
            except BaseException:
                self._vocab = None  # the transaction rolled back the new terms
                raise
            vectors.remove(np.array(old, dtype=np.int64))
            vectors.add(np.array(new_ids, dtype=np.int64), vecs)
            self._vectors_dirty = True

    def _write_case(
        self, case: CaseRecord, chunks: list[Chunk], vecs: np.ndarray, tokens: list[list[str]]
    ) -> tuple[list[int], list[int]]:
        new_ids = []
        with self._db:  # one transaction per case: an interruption never leaves half a case
            old = [
                r[0] for r in self._db.execute("SELECT id FROM chunks WHERE case_id=?", (case.id,))
            ]
            self._db.execute("DELETE FROM chunks WHERE case_id=?", (case.id,))
            for chunk, vec, toks in zip(chunks, vecs, tokens, strict=True):
                terms = self._intern(toks)
                cur = self._db.execute(
                    "INSERT INTO chunks (case_id, ordinal, section, kind, section_title, text,"
                    ' start, "end", terms, vector) VALUES (?,?,?,?,?,?,?,?,?,?)',
                    (
                        case.id,
                        chunk.ordinal,
                        chunk.section,
                        chunk.kind,
                        chunk.section_title,
                        chunk.text,
                        chunk.start,
                        chunk.end,
                        terms.tobytes(),
                        np.ascontiguousarray(vec, dtype=np.float32).tobytes(),
                    ),
                )
                new_ids.append(int(cur.lastrowid or 0))
            self._upsert_case(case, "indexed", "", len(chunks))
            self._bump()
        return old, new_ids

    def _store_failed(self, case: CaseRecord, reason: str, report: IndexReport) -> None:
        log.info("case %s (%s) not indexed: %s", case.id, case.title, reason)
        report.failed.append((case.id, reason))
        with self._lock:
            vectors = self.vectors()
            with self._db:
                old = [
                    r[0]
                    for r in self._db.execute("SELECT id FROM chunks WHERE case_id=?", (case.id,))
                ]
                self._db.execute("DELETE FROM chunks WHERE case_id=?", (case.id,))
                self._upsert_case(case, "failed", reason, 0)
                self._bump()
            vectors.remove(np.array(old, dtype=np.int64))
            self._vectors_dirty = True

    def _upsert_case(self, case: CaseRecord, status: str, reason: str, n_chunks: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO cases VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                case.id,
                case.sha256,
                status,
                reason,
                n_chunks,
                case.title,
                case.source,
                case.award,
                case.industry,
                case.category,
                case.year,
                case.brand,
                time.time(),
            ),
        )

    def _finish(self, report: IndexReport) -> None:
        """Pick flat or HNSW for the new size, drop tombstones, save the vectors file."""
        vectors = self.vectors()
        n_live = self.n_chunks()
        wanted = kind_for(n_live)
        tombstones = vectors.ntotal - n_live
        if wanted != vectors.kind or (
            vectors.kind == "hnsw" and tombstones > TOMBSTONE_LIMIT * max(n_live, 1)
        ):
            if wanted != vectors.kind:
                report.messages.append(
                    f"{n_live} 个片段：向量索引改用 {wanted}（{FLAT_LIMIT} 个以内用精确检索）"
                )
            self._rebuild_vectors()
        elif self._vectors_dirty or not (self.dir / VECTORS_NAME).exists():
            self._save_vectors()
        report.n_chunks = n_live
        report.n_cases = sum(1 for c in self.cases().values() if c.status == "indexed")
        report.kind = self.vectors().kind


_OPEN: dict[Path, SearchIndex] = {}
_OPEN_LOCK = threading.Lock()


def open_index(home: str | os.PathLike[str]) -> SearchIndex:
    """The shared index of a library folder (opened once per process)."""
    key = Path(home).expanduser().resolve()
    with _OPEN_LOCK:
        index = _OPEN.get(key)
        if index is None:
            index = _OPEN[key] = SearchIndex(key)
        return index


def repairing(index: SearchIndex | Library, operation: Callable[[], T]) -> T:
    """Run ``operation``; if the index database turns out damaged (SQLite cannot read it, or
    :class:`IndexDamaged`), set it aside and run it once more on a fresh index. ``index`` is the
    index or the library whose index it is."""
    target = index if isinstance(index, SearchIndex) else open_index(index.home)
    try:
        return operation()
    except sqlite3.DatabaseError as exc:
        target.discard(exc)
    try:
        return operation()
    except sqlite3.DatabaseError as exc:  # damaged again at once: not something a rebuild fixes
        raise IndexError_(f"{target.dir / DB_NAME}：索引数据库无法使用（{exc}）") from exc


def update(
    library: Library,
    embedder: Embedder | None = None,
    *,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    rebuild: bool = False,
) -> IndexReport:
    """Build or update the library's index. Without an embedder, the one that built the index
    is used (the bundled one for a new index)."""
    from analyzer.search.embed import get_embedder

    index = open_index(library.home)
    if embedder is None:
        embedder = get_embedder(index.embedder_spec or None)
    return index.update(library, embedder, on_progress=on_progress, cancel=cancel, rebuild=rebuild)
