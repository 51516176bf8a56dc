"""The database side of a library's search index: ``index.sqlite3``, the truth.

Every chunk (text, section, offsets, jieba term ids and, once embedded, its vector), a per-case
status, the vocabulary and, in ``meta``, the embedder that built it. A case goes through two
phases (:mod:`analyzer.search.catalog`, :mod:`analyzer.search.build`):

* ``keywords``: chunked and tokenized — searchable by BM25 at once, its vectors pending;
* ``indexed``: every chunk meant to have a vector has one;
* ``failed``: the model failed on it (searchable by keywords; the next ``index`` retries);
* ``damaged``: its stored data could not be right; filed again by the next update.

``generation`` in ``meta`` moves when chunks change (BM25 and the per-chunk arrays are rebuilt),
``vgeneration`` when only vectors were added (another process then catches its vectors up
without rebuilding BM25).

Damage is repaired, never guessed: a database SQLite cannot read (or an empty file, or garbled
numbers in ``meta``) is set aside (``*.corrupt``) and the index starts over, keeping the
embedder it was built with; but an error that is not damage (a database locked by another
writer, a constraint, a closed library) is reported as it is, and an error whose cause is
unclear is set aside only when SQLite's own ``quick_check`` of the index file fails. Stored
blobs that cannot be right (term ids beyond the vocabulary, a vector of the wrong length or not
finite) mark only their case ``damaged``. Every repair leaves a message (in Chinese) in
``messages``. Reading helpers are in :mod:`analyzer.search.indexread`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from analyzer.errors import IndexDamaged, IndexError_
from analyzer.paths import index_dir

if TYPE_CHECKING:
    from analyzer.search.indexread import _Arrays
    from analyzer.search.vectors import VectorIndex

log = logging.getLogger(__name__)
T = TypeVar("T")

INDEX_VERSION = 2  # chunking + tokenizing + layout; a change files every case again
DB_NAME = "index.sqlite3"
VECTORS_NAME = "vectors.faiss"
KEYWORDS, INDEXED, FAILED, DAMAGED = "keywords", "indexed", "failed", "damaged"
_INT_META = ("generation", "vgeneration", "dim", "vectors_ntotal")
_EMBEDDER_META = ("embedder_name", "embedder_spec", "embedder_label", "dim")
_DAMAGE_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_TABLES = ("meta", "cases", "chunks", "terms")

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    case_id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', n_chunks INTEGER NOT NULL DEFAULT 0,
    title TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '', award TEXT,
    industry TEXT NOT NULL DEFAULT '', category TEXT NOT NULL DEFAULT '', year INTEGER,
    brand TEXT NOT NULL DEFAULT '', indexed_at REAL NOT NULL DEFAULT 0,
    sentences BLOB NOT NULL DEFAULT x''
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL, ordinal INTEGER NOT NULL,
    section TEXT NOT NULL, kind TEXT NOT NULL, section_title TEXT NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, terms BLOB NOT NULL,
    embed INTEGER NOT NULL DEFAULT 1, vkey TEXT, vector BLOB
);
CREATE INDEX IF NOT EXISTS chunks_case ON chunks(case_id);
CREATE INDEX IF NOT EXISTS chunks_vkey ON chunks(vkey) WHERE vkey IS NOT NULL;
CREATE INDEX IF NOT EXISTS chunks_embedded ON chunks(case_id) WHERE vector IS NOT NULL;
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
"""
CASE_COLUMNS = (
    "case_id, sha256, status, reason, n_chunks, title, source, award, industry, category, year,"
    " brand"
)


@dataclass(frozen=True)
class CaseInfo:
    """What the index keeps of a case: its status and the fields search filters on."""

    case_id: int
    sha256: str
    status: str  # keywords | indexed | failed | damaged (| pending, only in statuses(library))
    reason: str
    n_chunks: int
    title: str
    source: str
    award: str | None
    industry: str
    category: str
    year: int | None
    brand: str

    @property
    def has_vectors(self) -> bool:
        return self.status == INDEXED


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
        self._seen_generation = -1
        self._seen_vgeneration = -1
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
        self._seen_generation, self._seen_vgeneration = self.generation, self.vgeneration

    # ------------------------------------------------------------------ database

    def _connect(self) -> sqlite3.Connection:
        path = self.dir / DB_NAME
        try:
            if path.exists() and path.stat().st_size == 0:
                raise IndexDamaged("文件为空（0 字节）")
            return self._try_connect(path)
        except sqlite3.DatabaseError as exc:
            if not isinstance(exc, IndexDamaged) and not self._fails_check(path, exc):
                raise IndexError_(f"{path}：索引数据库暂时无法打开（{exc}）") from exc
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

    def is_damage(self, exc: sqlite3.DatabaseError) -> bool:
        """Whether ``exc`` means the index database is damaged. A locked database, a
        constraint, a closed connection are not; when unsure, SQLite checks the file."""
        if isinstance(exc, IndexDamaged):
            return True
        return self._fails_check(self.dir / DB_NAME, exc)

    @staticmethod
    def _fails_check(path: Path, exc: sqlite3.DatabaseError) -> bool:
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF not in _DAMAGE_CODES:
            return False  # busy/locked, constraint, misuse: the file is fine
        if isinstance(exc, sqlite3.ProgrammingError | sqlite3.InterfaceError):
            return False
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        except sqlite3.Error:
            return True
        try:
            ok = db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            return not ok or not set(_TABLES) <= names
        except sqlite3.OperationalError as check_exc:  # busy: a writer, not damage
            return (getattr(check_exc, "sqlite_errorcode", 0) or 0) & 0xFF in _DAMAGE_CODES
        except sqlite3.Error:
            return True
        finally:
            db.close()

    def discard(self, exc: Exception) -> None:
        """The database failed mid-use: set it aside and start empty (the next update rebuilds)."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = self._set_aside(exc)
            self._arrays, self._vocab, self._vectors = None, None, None
            self._vectors_dirty = False
            self._fresh = None
            self._seen_generation, self._seen_vgeneration = self.generation, self.vgeneration

    def _try_connect(self, path: Path) -> sqlite3.Connection:
        existed = path.exists()
        db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if existed and not meta:
                raise IndexDamaged("数据库里没有索引的记录")
            if meta.get("version") not in (None, str(INDEX_VERSION)):
                self._note("索引由另一版本的 Award Writer 建立，正在重新建立")
                with db:  # another layout: the old tables go, the embedder choice stays
                    for table in ("chunks", "cases", "terms"):
                        db.execute(f"DROP TABLE IF EXISTS {table}")
                    db.execute("DELETE FROM meta WHERE key NOT IN (?, ?, ?, ?)", _EMBEDDER_META)
                meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            db.executescript(_DDL)
            db.execute("SELECT count(*), sum(length(terms)), sum(length(vector)) FROM chunks")
            db.execute("SELECT count(*), max(id) FROM terms").fetchone()
            for key in _INT_META:
                if key in meta and not _is_int(meta[key]):
                    raise IndexDamaged(f"meta 中的 {key} 不是整数：{meta[key][:40]!r}")
        except sqlite3.DatabaseError:
            db.close()
            raise
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

    def _bump_vectors(self) -> None:
        """Inside a transaction that only added vectors (BM25 and the arrays still hold)."""
        self._seen_vgeneration = self._int_meta("vgeneration") + 1
        self._set_meta(vgeneration=self._seen_vgeneration)
        if self._arrays is not None:
            self._arrays.embedded = None

    def refresh(self) -> None:
        """Drop what another process made stale (it changed the index since we loaded it)."""
        with self._lock:
            generation, vgeneration = self.generation, self.vgeneration
            if generation != self._seen_generation and not self._vectors_dirty:
                self._arrays, self._vocab, self._vectors = None, None, None
                self._seen_generation, self._seen_vgeneration = generation, vgeneration
            elif vgeneration != self._seen_vgeneration and not self._vectors_dirty:
                self._catch_up_vectors()
                self._seen_vgeneration = vgeneration

    def _catch_up_vectors(self) -> None:
        """Another process added vectors (its chunks are the ones we know): add them too."""
        if self._arrays is not None:
            self._arrays.embedded = None
        self._vectors = None  # loaded again with the file and what came after it

    @property
    def generation(self) -> int:
        with self._lock:
            return self._int_meta("generation")

    @property
    def vgeneration(self) -> int:
        with self._lock:
            return self._int_meta("vgeneration")

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

    # ------------------------------------------------------------------ counts

    def cases(self) -> dict[int, CaseInfo]:
        with self._lock:
            rows = self._db.execute(f"SELECT {CASE_COLUMNS} FROM cases ORDER BY case_id").fetchall()
        return {r[0]: CaseInfo(*r) for r in rows}

    def n_chunks(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def n_vectors(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM chunks WHERE vector IS NOT NULL")
            return int(row.fetchone()[0])

    def is_empty(self) -> bool:
        return self.n_chunks() == 0

    def _mark_damaged(self, case_ids: set[int], reason: str) -> None:
        """Drop the chunks of cases whose stored data is damaged; the next update files them
        again (their status says so meanwhile)."""
        self._note(f"{len(case_ids)} 个案例的{reason}，已从索引中移除，下次更新时重新建立")
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
    """Run ``operation``; if the index database turns out damaged (SQLite cannot read it, or
    :class:`IndexDamaged`), set it aside and run it once more on a fresh index. Any other
    database error (locked by a writer, a library that cannot be read …) is reported as it
    is: nothing is set aside for it."""
    try:
        return operation()
    except sqlite3.DatabaseError as exc:
        if not store.is_damage(exc):
            raise IndexError_(f"数据库出错（{exc}）；索引未作改动，请稍后再试") from exc
        store.discard(exc)
    try:
        return operation()
    except sqlite3.DatabaseError as exc:  # damaged again at once: not something a rebuild fixes
        raise IndexError_(f"{store.dir / DB_NAME}：索引数据库无法使用（{exc}）") from exc
