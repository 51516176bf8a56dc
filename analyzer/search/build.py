"""Writing the search index: embed new and changed cases, drop removed ones, keep the rest.

Each case is written in one transaction, so an interrupted build keeps every finished case and
resumes after it. Changing the embedder re-embeds everything: vectors of two models never mix.
"""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from analyzer.errors import AwardWriterError, Cancelled, CaseNotFoundError, IndexError_
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress
from analyzer.search.bm25 import tokenize
from analyzer.search.chunking import Chunk, chunk_case
from analyzer.search.indexstore import VECTORS_NAME, CaseInfo, run_repairing
from analyzer.search.vectorfile import VectorFile
from analyzer.search.vectors import FLAT_LIMIT, kind_for

if TYPE_CHECKING:
    from analyzer.library.store import CaseRecord, Library
    from analyzer.search.embed import Embedder

log = logging.getLogger(__name__)

EMBED_BATCH = 16  # chunks per embedding call: one model batch, so a cancel loses at most one
TOMBSTONE_LIMIT = 0.2  # HNSW is rebuilt when this share of its vectors are deleted ones


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


def _library_marker(library: Library) -> object | None:
    """The library's cheap change marker, when it has one (``Library.generation()``)."""
    marker = getattr(library, "generation", None)
    return marker() if callable(marker) else None


class IndexBuilder(VectorFile):
    """The index with what brings it in line with the library."""

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
        return run_repairing(
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
