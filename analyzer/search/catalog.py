"""Phase 1 of indexing: file the library's cases for keyword search — cheap, and at once.

Filing a case chunks it, tokenizes every chunk with jieba and stores chunks and terms in one
transaction: from then on BM25 finds it (~20 ms of CPU a case; embedding it takes seconds).
Its vectors come later (:mod:`analyzer.search.build`, a job of its own); a case filed again
because its file changed keeps the vectors of every passage that did not change.

The catalog follows the library: new and changed cases are filed, removed ones dropped. Never
because the library *looks* empty, though: a library that reports no case at all while the index
holds some (a library file emptied or replaced by accident) leaves the index as it is — search
shows only the library's cases either way, and ``index --rebuild`` starts over on purpose.
"""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from analyzer.errors import CaseNotFoundError
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress
from analyzer.search.bm25 import ensure_jieba, tokenize
from analyzer.search.chunking import (
    HEADER_KEY,
    Chunk,
    chunk_case,
    embedded_text,
    passage_key,
    sentence_keys,
)
from analyzer.search.indexstore import DAMAGED, FAILED, INDEXED, KEYWORDS, CaseInfo
from analyzer.search.vectorfile import VectorFile
from analyzer.search.writelock import WriteLock

if TYPE_CHECKING:
    from analyzer.library.store import CaseRecord, Library

log = logging.getLogger(__name__)

BOILERPLATE_CASES = 3  # a sentence in this many cases is boilerplate: not embedded


@dataclass
class CatalogResult:
    added: int = 0
    updated: int = 0
    removed: int = 0
    left: int = 0  # cases still to file (the time budget ran out)
    kept: int = 0  # cases the library no longer lists, kept because it lists none at all


def _library_marker(library: Library) -> object | None:
    """The library's cheap change marker, when it has one (``Library.generation()``)."""
    marker = getattr(library, "generation", None)
    return marker() if callable(marker) else None


class IndexCatalog(VectorFile):
    """The index with what files the library's cases for keyword search."""

    def writer(self) -> WriteLock:
        """The index's writer lock (one writer at a time, across processes)."""
        return WriteLock(self.dir)

    # ------------------------------------------------------------------ what is to do

    def statuses(self, library: Library | None = None) -> list[CaseInfo]:
        """Each case's index status. With the library, its cases not filed yet (new, or
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

    def stale_cases(self, library: Library) -> int:
        """How many cases are to be filed or dropped for the index to follow the library (new,
        changed, removed or damaged ones). Remembered with the library's change marker
        (``Library.generation()``) and our generation: while neither moved, no case is looked
        at again."""
        marker = _library_marker(library)
        if marker is not None and self._fresh is not None:
            ref, seen, generation = self._fresh
            if ref() is library and seen == marker and generation == self.generation:
                return 0
        hashes = library.case_hashes()
        arrays = self.arrays()
        if not arrays.damaged and hashes == arrays.hashes:
            if marker is not None:
                self._fresh = (weakref.ref(library), marker, self.generation)
            return 0  # the common case: no per-case work
        known = self.cases()
        return len(self._todo(hashes, known)) + len(self._gone(hashes, known))

    @staticmethod
    def _todo(hashes: dict[int, str], known: dict[int, CaseInfo]) -> list[int]:
        return [
            cid
            for cid, sha in sorted(hashes.items())
            if cid not in known or known[cid].sha256 != sha or known[cid].status == DAMAGED
        ]

    @staticmethod
    def _gone(hashes: dict[int, str], known: dict[int, CaseInfo]) -> list[int]:
        return [cid for cid in known if cid not in hashes]

    def pending_vectors(self) -> int:
        """Cases filed for keyword search whose vectors are still to come (or failed)."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM cases WHERE status IN (?, ?)", (KEYWORDS, FAILED)
            ).fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ filing

    def catalog(
        self,
        library: Library,
        *,
        budget_s: float | None = None,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> CatalogResult:
        """File new and changed cases, drop removed ones. Call it holding :meth:`writer`.

        ``budget_s``: stop filing after this many seconds, not counting jieba's loading (a
        search files what it can and says how many are ``left``)."""
        result = CatalogResult()
        hashes = library.case_hashes()
        known = self.cases()
        gone = self._gone(hashes, known)
        if gone and not hashes:
            result.kept = len(gone)  # asking a library that lists nothing: keep, never guess
            log.info("library lists no case; %d indexed cases kept", len(gone))
        elif gone:
            self._delete_cases(gone)
            result.removed = len(gone)
        todo = self._todo(hashes, known)
        if not todo:
            return result
        ensure_jieba()
        start = time.monotonic()
        common = self.common_sentences()
        on_progress(Progress(0, len(todo), "正在建立关键词索引"))
        for done, case_id in enumerate(todo):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if budget_s is not None and time.monotonic() - start > budget_s:
                result.left = len(todo) - done
                break
            try:
                case = library.get_case(case_id)
            except CaseNotFoundError:  # removed while we were filing
                continue
            self.file_case(case, common)
            if case_id in known:
                result.updated += 1
            else:
                result.added += 1
            on_progress(Progress(done + 1, len(todo), f"关键词索引：{case.title}"))
        return result

    def common_sentences(self) -> frozenset[int]:
        """Keys of the sentences found in ``BOILERPLATE_CASES`` or more filed cases."""
        with self._lock:
            blobs = [r[0] for r in self._db.execute("SELECT sentences FROM cases")]
        keys = [np.frombuffer(b, dtype=np.int64) for b in blobs if b and len(b) % 8 == 0]
        if not keys:
            return frozenset()
        values, counts = np.unique(np.concatenate(keys), return_counts=True)
        return frozenset(values[counts >= BOILERPLATE_CASES].tolist())

    def file_case(self, case: CaseRecord, common: frozenset[int] = frozenset()) -> None:
        """Chunk and tokenize one case and store it (one transaction); the vectors of its
        passages that were embedded before are kept."""
        chunks = chunk_case(case, case.id)
        tokens = [tokenize(c.indexed_text) for c in chunks]
        texts = [_vector_text(c, common) for c in chunks]
        sentences = sentence_keys(case).tobytes()
        with self._lock:
            old_ids, new_ids, reused = self._write_case(case, chunks, tokens, texts, sentences)
            if self._vectors is not None:
                self._vectors.remove(np.array(old_ids, dtype=np.int64))
                if reused:
                    ids = np.array([new_ids[i] for i in reused], dtype=np.int64)
                    vecs = np.vstack([reused[i] for i in reused])
                    self._vectors.add(ids, vecs)
                self._vectors_dirty = True

    def _write_case(
        self,
        case: CaseRecord,
        chunks: list[Chunk],
        tokens: list[list[str]],
        texts: list[str],
        sentences: bytes,
    ) -> tuple[list[int], list[int], dict[int, np.ndarray]]:
        dim = self.dim
        new_ids: list[int] = []
        reused: dict[int, np.ndarray] = {}
        try:
            with self._db:  # one transaction per case: an interruption never leaves half a case
                rows = self._db.execute(
                    "SELECT id, vkey, vector FROM chunks WHERE case_id=?", (case.id,)
                ).fetchall()
                old_ids = [r[0] for r in rows]
                kept = {r[1]: r[2] for r in rows if r[2] is not None and len(r[2]) == dim * 4}
                self._db.execute("DELETE FROM chunks WHERE case_id=?", (case.id,))
                for n, (chunk, toks, text) in enumerate(zip(chunks, tokens, texts, strict=True)):
                    vkey = passage_key(text) if text else None
                    vector = kept.get(vkey) if vkey else None
                    cur = self._db.execute(
                        "INSERT INTO chunks (case_id, ordinal, section, kind, section_title,"
                        ' text, start, "end", terms, embed, vkey, vector)'
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            case.id,
                            chunk.ordinal,
                            chunk.section,
                            chunk.kind,
                            chunk.section_title,
                            chunk.text,
                            chunk.start,
                            chunk.end,
                            self._intern(toks).tobytes(),
                            int(bool(text)),
                            vkey,
                            vector,
                        ),
                    )
                    new_ids.append(int(cur.lastrowid or 0))
                    if vector is not None:
                        reused[n] = np.frombuffer(vector, dtype=np.float32)
                wanted = sum(1 for t in texts if t)
                if not chunks:
                    status, reason = FAILED, "没有可索引的文字"
                else:
                    status, reason = (INDEXED if len(reused) == wanted else KEYWORDS), ""
                self._upsert_case(case, status, reason, len(chunks), sentences)
                self._bump()
        except BaseException:
            self._vocab = None  # the transaction rolled back the new terms
            raise
        return old_ids, new_ids, reused

    def _intern(self, tokens: list[str]) -> np.ndarray:
        vocab = self.vocab()
        ids = []
        for token in tokens:
            term = vocab.get(token)
            if term is None:
                # OR IGNORE: a term another writer added since our vocabulary was read is its
                # row to keep, not damage
                self._db.execute("INSERT OR IGNORE INTO terms(term) VALUES (?)", (token,))
                row = self._db.execute("SELECT id FROM terms WHERE term=?", (token,)).fetchone()
                term = vocab[token] = int(row[0])
            ids.append(term)
        return np.array(ids, dtype=np.int32)

    def _upsert_case(
        self, case: CaseRecord, status: str, reason: str, n_chunks: int, sentences: bytes
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO cases VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                sentences,
            ),
        )

    def _delete_cases(self, case_ids: list[int]) -> None:
        marks = ",".join("?" * len(case_ids))
        with self._lock:
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
            if self._vectors is not None:
                self._vectors.remove(np.array(ids, dtype=np.int64))
                self._vectors_dirty = True

    def _clear(self) -> None:
        """Forget every case (``index --rebuild``)."""
        with self._lock:
            with self._db:
                for table in ("chunks", "cases", "terms"):
                    self._db.execute(f"DELETE FROM {table}")
                self._bump()
            self._vocab = None
            self._vectors = None
            self._remove_vectors_file()

    def _clear_vectors(self) -> None:
        """Another model: every vector goes, every case keeps its chunks and terms."""
        with self._lock:
            with self._db:
                self._db.execute("UPDATE chunks SET vector=NULL")
                self._db.execute(
                    "UPDATE cases SET status=?, reason='' WHERE status IN (?, ?)",
                    (KEYWORDS, INDEXED, FAILED),
                )
                self._db.execute(
                    "DELETE FROM meta WHERE key IN ('vectors_sha256', 'vectors_ntotal')"
                )
                self._bump()
            self._vectors = None
            self._remove_vectors_file()


def _vector_text(chunk: Chunk, common: frozenset[int]) -> str:
    """What is embedded for ``chunk`` ("" when nothing): the header keeps every field line."""
    if not chunk.embed:
        return ""
    return embedded_text(chunk.vector_text, frozenset() if chunk.section == HEADER_KEY else common)
