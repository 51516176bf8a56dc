"""The search index of a library, in ``paths.index_dir(home)``.

Two files:

- ``index.sqlite3`` — the truth: every chunk (text, section, offsets, jieba term ids and its
  vector), a per-case status (indexed / failed and why, with the content hash it was built
  from), the vocabulary and, in ``meta``, the embedder that built it. Each case is written in
  one transaction, so an interrupted build keeps every finished case and resumes after it.
- ``vectors.faiss`` — the FAISS structure, derived from the stored vectors. It is replaced
  atomically (temp file, fsync, ``os.replace``) and checked against the SHA-256, vector count,
  dimension and generation recorded in ``meta``; when missing, stale or corrupt it is rebuilt
  from the database without re-embedding.

A database that cannot be read is set aside (``*.corrupt``) and the index starts over; the
message says so. Changing the embedder re-embeds everything: vectors of two models never mix.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from analyzer.bm25 import BM25, tokenize
from analyzer.chunking import HEADER_KEY, Chunk, chunk_case
from analyzer.errors import AwardWriterError, Cancelled, CaseNotFoundError, IndexError_
from analyzer.paths import index_dir
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress
from analyzer.vectors import FLAT_LIMIT, VectorIndex, kind_for

if TYPE_CHECKING:
    from analyzer.embed import Embedder
    from analyzer.library import CaseRecord, Library

log = logging.getLogger(__name__)

INDEX_VERSION = 1  # chunking + tokenizing + layout; a change re-embeds every case
DB_NAME = "index.sqlite3"
VECTORS_NAME = "vectors.faiss"
EMBED_BATCH = 32  # chunks per embedding call
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


@dataclass(frozen=True)
class CaseInfo:
    """What the index keeps of a case: its status and the fields search filters on."""

    case_id: int
    sha256: str
    status: str  # indexed | failed
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
    added: int = 0
    updated: int = 0
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
    hashes: dict[int, str] = field(default_factory=dict)  # case id → content hash indexed
    bm25: BM25 | None = None

    def case_ids(self, chunk_ids: np.ndarray) -> np.ndarray:
        """The case of each chunk id (-1 for an id not in the index)."""
        if len(self.ids) == 0:
            return np.full(len(chunk_ids), -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.ids, chunk_ids), 0, len(self.ids) - 1)
        return np.where(self.ids[pos] == chunk_ids, self.case_of[pos], -1)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temp file, fsync, then ``os.replace``: readers see the old file or the new one."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    if os.name == "posix":
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexError_(f"{self.dir}: cannot create the index folder ({exc})") from exc
        self._db = self._connect()
        self._seen_generation = self.generation

    # ------------------------------------------------------------------ database

    def _connect(self) -> sqlite3.Connection:
        path = self.dir / DB_NAME
        try:
            return self._try_connect(path)
        except sqlite3.DatabaseError as exc:
            return self._set_aside(exc)

    def _set_aside(self, exc: Exception) -> sqlite3.Connection:
        path = self.dir / DB_NAME
        self._note(f"{path}: index database unreadable ({exc}); set aside, rebuilding")
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        if path.exists():
            os.replace(path, path.with_name(DB_NAME + ".corrupt"))
        (self.dir / VECTORS_NAME).unlink(missing_ok=True)
        return self._try_connect(path)

    def discard(self, exc: Exception) -> None:
        """The database failed mid-use: set it aside and start empty (the next update rebuilds)."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = self._set_aside(exc)
            self._arrays, self._vocab, self._vectors = None, None, None
            self._vectors_dirty = False
            self._seen_generation = self.generation

    def _try_connect(self, path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_DDL)
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            db.execute("SELECT count(*), sum(length(terms)) FROM chunks").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        if meta.get("version") not in (None, str(INDEX_VERSION)):
            self._note("the index was made by another version of Award Writer; rebuilding")
            with db:
                db.execute("DELETE FROM chunks")
                db.execute("DELETE FROM cases")
                db.execute("DELETE FROM terms")
        with db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (str(INDEX_VERSION),))
        return db

    def _note(self, message: str) -> None:
        log.warning("%s", message)
        self.messages.append(message)

    def _meta(self, key: str, default: str = "") -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else default

    def _set_meta(self, **values: object) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in values.items()]
        )

    def _bump(self) -> None:
        """Inside a transaction that changed chunks: the derived structures are now stale."""
        self._seen_generation = int(self._meta("generation", "0")) + 1
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
        return int(self._meta("generation", "0"))

    @property
    def embedder_name(self) -> str:
        return self._meta("embedder_name")

    @property
    def embedder_spec(self) -> str:
        return self._meta("embedder_spec")

    @property
    def dim(self) -> int:
        return int(self._meta("dim", "0"))

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

    def statuses(self) -> list[CaseInfo]:
        return list(self.cases().values())

    def n_chunks(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def is_empty(self) -> bool:
        return self.n_chunks() == 0

    def stale_cases(self, library: Library, *, include_failed: bool = True) -> int:
        """How many cases of the library are new, changed or removed since indexing (and, with
        ``include_failed``, failed last time)."""
        hashes = library.case_hashes()
        if not include_failed and hashes == self.arrays().hashes:
            return 0  # the common case, checked before every search: no per-case work
        known = self.cases()
        todo = 0
        for cid, sha in hashes.items():
            info = known.get(cid)
            if info is None or info.sha256 != sha or (include_failed and info.status != "indexed"):
                todo += 1
        return todo + sum(1 for cid in known if cid not in hashes)

    def arrays(self) -> _Arrays:
        with self._lock:
            if self._arrays is None:
                rows = self._db.execute(
                    "SELECT id, case_id, section, kind FROM chunks ORDER BY id"
                ).fetchall()
                self._arrays = _Arrays(
                    ids=np.array([r[0] for r in rows], dtype=np.int64),
                    case_of=np.array([r[1] for r in rows], dtype=np.int64),
                    section=np.array([r[2] for r in rows], dtype=object),
                    kind=np.array([r[3] for r in rows], dtype=object),
                    headers=frozenset(r[0] for r in rows if r[2] == HEADER_KEY),
                    hashes=dict(self._db.execute("SELECT case_id, sha256 FROM cases")),
                )
            return self._arrays

    def bm25(self) -> BM25:
        with self._lock:
            arrays = self.arrays()
            if arrays.bm25 is None:
                docs = [
                    np.frombuffer(r[0], dtype=np.int32)
                    for r in self._db.execute("SELECT terms FROM chunks ORDER BY id")
                ]
                arrays.bm25 = BM25(docs, len(self.vocab()))
            return arrays.bm25

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
        """Top ``n`` live chunks per query: (scores, chunk ids), -1 where fewer exist."""
        with self._lock:
            vectors = self.vectors()
            live = self.arrays().ids
            dead = vectors.ntotal - len(live)
            scores, ids = vectors.search(queries, n + max(dead, 0), allowed)
        if dead > 0 and ids.size:  # HNSW keeps deleted chunks as tombstones
            pos = np.clip(np.searchsorted(live, ids), 0, max(len(live) - 1, 0))
            ok = (live[pos] == ids) if len(live) else np.zeros_like(ids, dtype=bool)
            ids = np.where(ok, ids, -1)
            scores = np.where(ok, scores, -np.inf)
            order = np.argsort(-scores, axis=1, kind="stable")[:, :n]
            ids = np.take_along_axis(ids, order, axis=1)
            scores = np.take_along_axis(scores, order, axis=1)
        return scores, ids

    def shared_terms(self, chunk_id: int, terms: set[int], limit: int = 30) -> list[str]:
        """The rarest terms a chunk shares with ``terms`` (to highlight "more like this")."""
        with self._lock:
            row = self._db.execute("SELECT terms FROM chunks WHERE id=?", (chunk_id,)).fetchone()
            if row is None:
                return []
            common = sorted(set(np.frombuffer(row[0], dtype=np.int32).tolist()) & terms)
            idf = self.bm25().idf
            common.sort(key=lambda t: -float(idf[t]) if t < len(idf) else 0.0)
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
        """A case's chunks with their stored vectors and term ids (for "more like this")."""
        with self._lock:
            rows = self._db.execute(
                'SELECT id, case_id, ordinal, section, kind, section_title, text, start, "end",'
                " vector, terms FROM chunks WHERE case_id=? ORDER BY ordinal",
                (case_id,),
            ).fetchall()
        dim = self.dim
        vecs = np.zeros((len(rows), dim), dtype=np.float32)
        for i, r in enumerate(rows):
            vecs[i] = np.frombuffer(r[9], dtype=np.float32)
        terms = [np.frombuffer(r[10], dtype=np.int32) for r in rows]
        return [StoredChunk(*r[:9]) for r in rows], vecs, terms

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
                self._note(f"{path.name} is missing; rebuilt from the stored vectors")
            return self._rebuild_vectors()
        if self._meta("vectors_generation") != str(self.generation):
            log.info("vectors file older than the database (interrupted update); rebuilding it")
            return self._rebuild_vectors()
        try:
            data = path.read_bytes()
            if _sha256(data) != self._meta("vectors_sha256"):
                raise ValueError("checksum mismatch")
            vectors = VectorIndex.from_bytes(data, dim)
            if vectors.ntotal != int(self._meta("vectors_ntotal", "-1")) or vectors.ntotal < n_live:
                raise ValueError(f"holds {vectors.ntotal} vectors, expected {n_live}")
        except Exception as exc:  # any damage: the database can always rebuild it
            self._note(f"{path.name} is damaged ({exc}); rebuilt from the stored vectors")
            return self._rebuild_vectors()
        return vectors

    def _rebuild_vectors(
        self, on_progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> VectorIndex:
        dim = self.dim
        rows = self._db.execute("SELECT id, case_id, vector FROM chunks ORDER BY id").fetchall()
        bad = {r[1] for r in rows if len(r[2]) != dim * 4}
        if bad:
            self._note(
                f"stored vectors of {len(bad)} case(s) are damaged; they will be re-embedded"
            )
            with self._db:
                for case_id in bad:
                    self._db.execute("DELETE FROM chunks WHERE case_id=?", (case_id,))
                    self._db.execute(
                        "UPDATE cases SET status='failed', reason='stored vectors damaged',"
                        " n_chunks=0 WHERE case_id=?",
                        (case_id,),
                    )
                self._bump()
            rows = [r for r in rows if r[1] not in bad]
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        vecs = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(-1, dim)
        out = VectorIndex.build(ids, vecs, dim=dim, on_progress=on_progress, cancel=cancel)
        self._vectors = out
        self._save_vectors()
        return out

    def _save_vectors(self) -> None:
        if self._vectors is None:
            return
        data = self._vectors.to_bytes()
        atomic_write(self.dir / VECTORS_NAME, data)
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
        try:
            return self._update(library, embedder, on_progress, cancel, rebuild)
        except sqlite3.DatabaseError as exc:  # damaged under us: start over once
            self.discard(exc)
            return self._update(library, embedder, on_progress, cancel, rebuild)

    def _update(
        self,
        library: Library,
        embedder: Embedder,
        on_progress: ProgressCallback,
        cancel: CancelToken | None,
        rebuild: bool,
    ) -> IndexReport:
        from analyzer.embed import embedder_spec

        with self._update_lock:
            with self._lock:
                report = IndexReport(embedder=embedder.name, messages=list(self.messages))
                self.messages.clear()
                old = self.embedder_name
                if rebuild or (old and (old != embedder.name or self.dim != embedder.dim)):
                    if old and old != embedder.name:
                        report.messages.append(
                            f"the index was built with {old}; re-embedding every case with "
                            f"{embedder.name}"
                        )
                    self._clear()
                with self._db:
                    self._set_meta(
                        embedder_name=embedder.name,
                        embedder_spec=embedder_spec(embedder),
                        dim=embedder.dim,
                    )
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
            on_progress(Progress(0, len(todo), "索引"))
            try:
                self._embed_cases(library, embedder, todo, known, report, on_progress, cancel)
            finally:
                with self._lock:
                    self._finish(report)
            return report

    def _clear(self) -> None:
        with self._db:
            self._db.execute("DELETE FROM chunks")
            self._db.execute("DELETE FROM cases")
            self._db.execute("DELETE FROM terms")
            self._bump()
        self._vocab = None
        self._vectors = None
        (self.dir / VECTORS_NAME).unlink(missing_ok=True)

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
            on_progress(Progress(done, len(todo), batch[-1][0].title))
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
                self._store_failed(case, "no text to index", report)
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
                raise IndexError_(f"the embedder returned vectors of shape {vecs.shape}")
        except (Cancelled, KeyboardInterrupt):
            raise
        except Exception as exc:
            if len(batch) > 1:  # find the case that fails; the others still get indexed
                for item in batch:
                    self._embed_batch([item], embedder, known, report, cancel)
                return
            reason = str(exc) if isinstance(exc, AwardWriterError) else repr(exc)
            self._store_failed(batch[0][0], f"embedding failed: {reason}", report)
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
        log.warning("case %s (%s) not indexed: %s", case.id, case.title, reason)
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
                    f"{n_live} chunks: switching the vector index to {wanted}"
                    f" (exact search up to {FLAT_LIMIT})"
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
    from analyzer.embed import get_embedder

    index = open_index(library.home)
    if embedder is None:
        embedder = get_embedder(index.embedder_spec or None)
    return index.update(library, embedder, on_progress=on_progress, cancel=cancel, rebuild=rebuild)
