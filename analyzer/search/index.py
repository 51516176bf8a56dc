"""The search index of a library, in ``paths.index_dir(home)``.

Two files, each with its module: ``index.sqlite3``, the truth (:mod:`analyzer.search.indexstore`,
read by :mod:`analyzer.search.indexread`), and ``vectors.faiss``, derived from it
(:mod:`analyzer.search.vectorfile`). Cases enter in two phases: filed for keyword search at once
(:mod:`analyzer.search.catalog`), embedded case by case by a job of its own
(:mod:`analyzer.search.build`); one writer at a time (:mod:`analyzer.search.writelock`), readers
never wait. Damage is never fatal: :func:`repairing` runs an operation again after setting a
damaged database aside, and every repair leaves a message in ``SearchIndex.messages`` (the
desktop app shows them).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from analyzer.progress import CancelToken, ProgressCallback, no_progress
from analyzer.search.build import IndexBuilder, IndexReport
from analyzer.search.indexread import StoredChunk
from analyzer.search.indexstore import DB_NAME, VECTORS_NAME, CaseInfo, run_repairing

if TYPE_CHECKING:
    from analyzer.library.store import Library
    from analyzer.search.embed import Embedder

T = TypeVar("T")

__all__ = [
    "DB_NAME",
    "VECTORS_NAME",
    "CaseInfo",
    "IndexReport",
    "SearchIndex",
    "StoredChunk",
    "open_index",
    "repairing",
    "update",
]


class SearchIndex(IndexBuilder):
    """One library's index. Thread-safe; use :func:`open_index` to share one per folder."""

    def close(self) -> None:
        super().close()
        with _OPEN_LOCK:
            for key, value in list(_OPEN.items()):
                if value is self:
                    del _OPEN[key]


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
    ``IndexDamaged``), set it aside and run it once more on a fresh index. ``index`` is the
    index or the library whose index it is."""
    target = index if isinstance(index, SearchIndex) else open_index(index.home)
    return run_repairing(target, operation)


def update(
    library: Library,
    embedder: Embedder | None = None,
    *,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    rebuild: bool = False,
    on_wait: Callable[[str], None] | None = None,
) -> IndexReport:
    """Build or update the library's index (both phases). Without an embedder, the one that
    built the index is used (the bundled one for a new index)."""
    from analyzer.search.embed import get_embedder

    index = open_index(library.home)
    if embedder is None:
        embedder = get_embedder(repairing(index, lambda: index.embedder_spec) or None)
    return index.update(
        library, embedder, on_progress=on_progress, cancel=cancel, rebuild=rebuild, on_wait=on_wait
    )
