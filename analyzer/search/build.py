"""Phase 2 of indexing: embed what the catalog filed, case by case, as a job of its own.

:meth:`IndexBuilder.update` holds the index's writer lock (a second writer waits, saying for whom)
and brings the index in line with the library: it files new and changed cases for keyword search
first (:mod:`analyzer.search.catalog`, seconds for hundreds), then embeds the passages meant to
have vectors, oldest case first, in batches of about ``BATCH_CHARS``. Each case's vectors are
written in one transaction, and from then on vector search finds it: the cases become
searchable one by one, and an interrupted run resumes after the last case it finished. Between
batches the library is looked at again: cases imported meanwhile are filed at once.

A passage already embedded (the same text in another case, or a case filed again after its file
changed) is not embedded again: its vector is reused. Changing the embedder clears every vector
(the chunks stay): vectors of two models never mix. The model runs with as many threads as
there are free cores when the job starts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from analyzer.errors import AwardWriterError, Cancelled, IndexError_
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress
from analyzer.search.catalog import CatalogResult, IndexCatalog, _library_marker
from analyzer.search.chunking import HEADER_KEY, embedded_text, passage_key
from analyzer.search.indexstore import FAILED, INDEXED, KEYWORDS, VECTORS_NAME, run_repairing
from analyzer.search.vectors import FLAT_LIMIT, kind_for

if TYPE_CHECKING:
    from analyzer.library.store import Library
    from analyzer.search.embed import Embedder

log = logging.getLogger(__name__)

BATCH_CHARS = 2500  # characters per embedding call (~1 case): progress and cancel at that pace
TOMBSTONE_LIMIT = 0.2  # HNSW is rebuilt when this share of its vectors are deleted ones
SAVE_EVERY_S = 120.0  # the vectors file is saved this often during a long run
LIBRARY_LOOK_S = 2.0  # how often a run looks for cases imported meanwhile (100k cases: 0.1 s)
_ID_BATCH = 900


@dataclass
class IndexReport:
    embedder: str
    embedder_label: str = ""
    added: int = 0  # cases filed for the first time
    updated: int = 0  # cases filed again (their file changed)
    reembedded: int = 0  # cases embedded again because the model changed
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0  # cases that got their vectors in this run
    reused: int = 0  # passages whose vector was reused instead of embedded
    passages: int = 0  # passages embedded
    failed: list[tuple[int, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    n_cases: int = 0  # cases with vectors
    keywords_only: int = 0  # filed cases without vectors (failed, or the run was stopped)
    n_chunks: int = 0
    n_vectors: int = 0
    kind: str = "flat"
    seconds: float = 0.0


@dataclass
class _Todo:
    case_id: int
    title: str
    rows: list[tuple[int, str]]  # (chunk id, text to embed)


class _Eta:
    """Seconds left, from the characters embedded so far and those still to come."""

    def __init__(self, total_chars: int) -> None:
        self.left = total_chars
        self.done = 0
        self.start = time.monotonic()

    def step(self, chars: int) -> float | None:
        self.left = max(0, self.left - chars)
        self.done += chars
        spent = time.monotonic() - self.start
        if self.done < BATCH_CHARS or spent < 1.0:
            return None  # too early to say
        return self.left * spent / self.done


class IndexBuilder(IndexCatalog):
    """The index with what brings it in line with the library."""

    def update(
        self,
        library: Library,
        embedder: Embedder,
        *,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        rebuild: bool = False,
        on_wait: Callable[[str], None] | None = None,
        threads: int | None = None,
    ) -> IndexReport:
        """File new and changed cases, drop removed ones, embed what has no vectors yet (and
        retry failed cases). Waits for another writer (``on_wait`` hears whom for)."""
        with self.writer().hold(on_wait=on_wait, cancel=cancel):
            self.refresh()
            return run_repairing(
                self, lambda: self._update(library, embedder, on_progress, cancel, rebuild, threads)
            )

    def _update(
        self,
        library: Library,
        embedder: Embedder,
        on_progress: ProgressCallback,
        cancel: CancelToken | None,
        rebuild: bool,
        threads: int | None,
    ) -> IndexReport:
        from analyzer.search.embed import embedder_label, embedder_spec, use_threads

        started = time.monotonic()
        label = embedder_label(embedder)
        report = IndexReport(embedder=embedder.name, embedder_label=label)
        report.messages += self.messages
        self.messages.clear()
        old, old_label = self.embedder_name, self.embedder_label
        switched = bool(old) and (old != embedder.name or self.dim != embedder.dim)
        prior = set(self.cases()) if rebuild else set()
        if rebuild:
            self._clear()
        elif switched:
            report.messages.append(f"索引原由 {old_label} 建立；正在用 {label} 重新嵌入全部案例")
            self._clear_vectors()
        with self._lock, self._db:
            self._embedder_meta = {
                "embedder_name": embedder.name,
                "embedder_spec": embedder_spec(embedder),
                "embedder_label": label,
                "dim": str(embedder.dim),
            }
            self._set_meta(**self._embedder_meta)
        filed = self.catalog(library, on_progress=on_progress, cancel=cancel)
        self._count(report, filed)
        hashes = library.case_hashes()
        report.unchanged = len(hashes) - report.added - report.updated
        if prior:  # filed again on purpose, not new
            report.reembedded = len(prior & hashes.keys())
            report.added -= report.reembedded
        use_threads(embedder, threads)
        try:
            self._embed_pending(library, embedder, report, on_progress, cancel)
        finally:
            self._finish(report)
            report.seconds = time.monotonic() - started
        if switched and not rebuild:
            report.reembedded, report.unchanged = report.embedded, 0
        return report

    @staticmethod
    def _count(report: IndexReport, filed: CatalogResult) -> None:
        report.added += filed.added
        report.updated += filed.updated
        report.removed += filed.removed
        if filed.kept:
            report.messages.append(
                f"案例库中没有任何案例：索引保留原有的 {filed.kept} 个案例，未删除"
                "（若确实清空了案例库，运行 `award-writer index --rebuild`）"
            )

    # ------------------------------------------------------------------ embedding

    def _pending(self) -> list[tuple[int, str]]:
        with self._lock:
            return self._db.execute(
                "SELECT case_id, title FROM cases WHERE status IN (?, ?) ORDER BY case_id",
                (KEYWORDS, FAILED),
            ).fetchall()

    def _pending_chars(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT sum(length(text)) FROM chunks WHERE embed=1 AND vector IS NULL"
            ).fetchone()
        return int(row[0] or 0)

    def _gather(self, case_id: int, title: str, common: frozenset[int]) -> _Todo:
        """A case's passages still to embed, boilerplate taken out (the index's policy,
        ``chunking.DEFAULT``, embeds a chunk's text without its context line)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, section, text FROM chunks"
                " WHERE case_id=? AND embed=1 AND vector IS NULL ORDER BY ordinal",
                (case_id,),
            ).fetchall()
        todo = []
        for chunk_id, section, text in rows:
            todo.append((chunk_id, embedded_text(text, common if section != HEADER_KEY else set())))
        return _Todo(case_id, title, todo)

    def _embed_pending(
        self,
        library: Library,
        embedder: Embedder,
        report: IndexReport,
        on_progress: ProgressCallback,
        cancel: CancelToken | None,
    ) -> None:
        pending = self._pending()
        if not pending:
            return
        common = self.common_sentences()
        eta = _Eta(self._pending_chars())
        attempted: set[int] = set()
        marker = (_library_marker(library), library.case_hashes())
        last_save = last_look = time.monotonic()
        on_progress(Progress(0, len(pending), "正在建立向量索引"))
        queue = list(pending)
        while queue:
            if cancel is not None:
                cancel.raise_if_cancelled()
            batch: list[_Todo] = []
            chars = 0
            while queue and chars < BATCH_CHARS:
                item = self._gather(*queue.pop(0), common)
                batch.append(item)
                chars += sum(len(t) for _, t in item.rows)
            attempted |= {item.case_id for item in batch}
            self._embed_batch(batch, embedder, report, cancel)
            seconds_left = eta.step(chars)
            total = len(attempted) + len(queue)
            message = f"已建立索引：{batch[-1].title}"
            on_progress(Progress(len(attempted), total, message, seconds_left))
            if time.monotonic() - last_save > SAVE_EVERY_S:
                self._save_vectors()
                last_save = time.monotonic()
            if queue and time.monotonic() - last_look < LIBRARY_LOOK_S:
                continue
            last_look = time.monotonic()
            now = (_library_marker(library), library.case_hashes())
            if now != marker:  # imported (or removed) while we embed: file them at once
                marker = now
                self._count(report, self.catalog(library, cancel=cancel))
                queue = [p for p in self._pending() if p[0] not in attempted]
                eta.left = self._pending_chars()

    def _embed_batch(
        self,
        batch: list[_Todo],
        embedder: Embedder,
        report: IndexReport,
        cancel: CancelToken | None,
    ) -> None:
        keys = {cid: passage_key(text) for item in batch for cid, text in item.rows if text}
        known = self._stored_vectors(set(keys.values()))
        texts = list(
            dict.fromkeys(
                text for item in batch for cid, text in item.rows if text and keys[cid] not in known
            )
        )
        try:
            vecs = embedder.embed_passages(texts, cancel=cancel) if texts else None
            if vecs is not None:
                vecs = np.asarray(vecs, dtype=np.float32)
                if vecs.shape != (len(texts), embedder.dim) or not np.isfinite(vecs).all():
                    raise IndexError_(f"嵌入模型返回的向量形状不对：{vecs.shape}")
        except (Cancelled, KeyboardInterrupt):
            raise
        except Exception as exc:
            if len(batch) > 1:  # find the case that fails; the others still get their vectors
                for item in batch:
                    self._embed_batch([item], embedder, report, cancel)
                return
            reason = str(exc) if isinstance(exc, AwardWriterError) else repr(exc)
            self._store_failed(batch[0], f"嵌入失败：{reason}", report)
            return
        fresh = {passage_key(t): vecs[i] for i, t in enumerate(texts)} if vecs is not None else {}
        report.passages += len(texts)
        for item in batch:
            rows: list[tuple[int, str | None, np.ndarray | None]] = []
            for chunk_id, text in item.rows:
                if not text:
                    rows.append((chunk_id, None, None))
                    continue
                key = keys[chunk_id]
                if key in known:
                    report.reused += 1
                rows.append((chunk_id, key, known.get(key, fresh.get(key))))
            self._store_vectors(item.case_id, rows)
            report.embedded += 1

    def _stored_vectors(self, keys: set[str]) -> dict[str, np.ndarray]:
        """Vectors already stored for these passage keys (the same text embedded before)."""
        out: dict[str, np.ndarray] = {}
        wanted = sorted(keys)
        dim = self.dim
        with self._lock:
            for start in range(0, len(wanted), _ID_BATCH):
                part = wanted[start : start + _ID_BATCH]
                marks = ",".join("?" * len(part))
                for key, blob in self._db.execute(
                    f"SELECT vkey, vector FROM chunks WHERE vkey IN ({marks})"
                    " AND vector IS NOT NULL",
                    part,
                ):
                    if len(blob) == dim * 4:
                        out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def _store_vectors(
        self, case_id: int, rows: list[tuple[int, str | None, np.ndarray | None]]
    ) -> None:
        """One case's vectors in one transaction: from now on vector search finds it."""
        with self._lock:
            vectors = self.vectors()
            with self._db:
                self._db.executemany(
                    "UPDATE chunks SET embed=?, vkey=?, vector=? WHERE id=?",
                    [
                        (
                            int(vec is not None),
                            key,
                            None
                            if vec is None
                            else np.ascontiguousarray(vec, np.float32).tobytes(),
                            chunk_id,
                        )
                        for chunk_id, key, vec in rows
                    ],
                )
                self._db.execute(
                    "UPDATE cases SET status=?, reason='', indexed_at=? WHERE case_id=?",
                    (INDEXED, time.time(), case_id),
                )
                self._bump_vectors()
            done = [(i, v) for i, _, v in rows if v is not None]
            if done:
                vectors.add(
                    np.array([i for i, _ in done], dtype=np.int64), np.vstack([v for _, v in done])
                )
                self._vectors_dirty = True

    def _store_failed(self, item: _Todo, reason: str, report: IndexReport) -> None:
        log.info("case %s (%s) not embedded: %s", item.case_id, item.title, reason)
        report.failed.append((item.case_id, reason))
        with self._lock, self._db:
            self._db.execute(
                "UPDATE cases SET status=?, reason=? WHERE case_id=?",
                (FAILED, reason, item.case_id),
            )
            self._bump_vectors()

    def _finish(self, report: IndexReport) -> None:
        """Pick flat or HNSW for the new size, drop tombstones, save the vectors file."""
        with self._lock:
            vectors = self.vectors()
            n_live = self.n_vectors()
            wanted = kind_for(n_live)
            tombstones = vectors.ntotal - n_live
            if wanted != vectors.kind or (
                vectors.kind == "hnsw" and tombstones > TOMBSTONE_LIMIT * max(n_live, 1)
            ):
                if wanted != vectors.kind:
                    report.messages.append(
                        f"{n_live} 个向量：向量索引改用 {wanted}（{FLAT_LIMIT} 个以内用精确检索）"
                    )
                self._rebuild_vectors()
            elif self._vectors_dirty or not (self.dir / VECTORS_NAME).exists():
                self._save_vectors()
            cases = self.cases().values()
            report.n_chunks = self.n_chunks()
            report.n_vectors = n_live
            report.n_cases = sum(1 for c in cases if c.status == INDEXED)
            report.keywords_only = sum(1 for c in cases if c.status in (KEYWORDS, FAILED))
            report.kind = self.vectors().kind
