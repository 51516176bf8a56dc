"""Getting a library's index ready for a search — without ever waiting for embeddings.

A search never embeds cases: embedding is a job of its own (``award-writer index``,
``ingest --index``, the app's background indexing). Before searching, :func:`prepare_index`
files cases the index does not know yet for keyword search (:mod:`analyzer.search.catalog`),
for at most ``CATALOG_BUDGET_S`` seconds and only when no other writer holds the index (it never
waits for one). Then the search fuses the vectors of the cases that have them with BM25 over
every filed case, and says how many cases were searched by keywords only and how many were not
searched at all (filed later). A search never switches the embedding model by itself: it uses
the one that built the index, and when that model cannot be loaded it falls back to BM25 with a
message instead of failing.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from analyzer.errors import IndexError_, ModelError
from analyzer.progress import CancelToken, ProgressCallback, no_progress
from analyzer.search.index import SearchIndex, open_index, repairing
from analyzer.search.indexstore import DAMAGED, INDEXED
from analyzer.search.writelock import holder_text

if TYPE_CHECKING:
    from analyzer.library.store import Library
    from analyzer.search.embed import Embedder

F = TypeVar("F", bound=Callable[..., Any])
MODES = ("hybrid", "vector", "bm25")
CATALOG_BUDGET_S = 3.0  # a search files new cases for at most this long (~150 cases)
WAIT_POLL_S = 0.1


@dataclass(frozen=True)
class Preparation:
    """What :func:`prepare_index` found and did before a search."""

    embedder: Embedder | None  # what the search embeds queries with (None: BM25 only)
    messages: tuple[str, ...]  # repairs and warnings for the user (Chinese)
    filed: int = 0  # cases filed for keyword search just now
    keywords_only: int = 0  # cases searched by keywords only (vectors pending or failed)
    left_out: int = 0  # cases of the library not searched (not filed yet)
    hidden: frozenset[int] = field(default_factory=frozenset)  # index cases the library lacks

    @property
    def complete(self) -> bool:
        return not self.keywords_only and not self.left_out

    @property
    def note(self) -> str:
        """What the search covered, when not everything by every means ("" then)."""
        parts = []
        if self.keywords_only:
            parts.append(
                f"{self.keywords_only} 个案例的向量索引尚未建立，这些案例只按关键词（BM25）搜索"
            )
        if self.left_out:
            parts.append(f"另有 {self.left_out} 个案例尚未建立索引，本次没有搜索它们")
        return "；".join(parts)


def retry_on_damage(fn: F) -> F:
    """A database damaged mid-search is set aside and the search runs again (rebuilding)."""

    @functools.wraps(fn)
    def wrapper(library: Library, *args: Any, **kwargs: Any) -> Any:
        return repairing(library, lambda: fn(library, *args, **kwargs))

    return cast(F, wrapper)


def check_query(k: int, mode: str, award: str | None = None) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if award is not None:
        from analyzer.schema import get_award

        get_award(award)  # UnknownAwardError naming the known keys


def _load_index_embedder(index: SearchIndex) -> Embedder:
    from analyzer.search.embed import get_embedder

    try:
        return get_embedder(index.embedder_spec or None)
    except ModelError as exc:
        raise ModelError(
            f"{exc}（索引是用它建立的；`award-writer index --model bundled` 可改用内置模型重新嵌入）"
        ) from exc


def _label(embedder: Embedder) -> str:
    from analyzer.search.embed import embedder_label

    return embedder_label(embedder)


def _file_new_cases(
    index: SearchIndex,
    library: Library,
    budget_s: float,
    on_progress: ProgressCallback,
    cancel: CancelToken | None,
) -> tuple[int, list[str]]:
    """File what the library has and the index lacks. When another writer is at work (it files
    new cases first, then between its batches), give it the time budget to file them."""
    lock = index.writer()
    if not lock.acquire(wait=False):
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            if cancel is not None:
                cancel.raise_if_cancelled()
            time.sleep(WAIT_POLL_S)
            index.refresh()
            if not index.stale_cases(library):
                return 0, []
        return 0, [f"搜索索引正由{holder_text(index.dir)}更新；本次搜索其中已建立的部分"]
    try:
        index.refresh()
        result = index.catalog(library, budget_s=budget_s, on_progress=on_progress, cancel=cancel)
    finally:
        lock.release()
    messages = []
    if result.kept:
        messages.append(f"案例库中没有任何案例：索引保留原有的 {result.kept} 个案例，未删除")
    return result.added + result.updated, messages


def _coverage(index: SearchIndex, library: Library) -> tuple[int, int, frozenset[int]]:
    """(cases searched by keywords only, cases not searched, index cases the library lacks)."""
    hashes = library.case_hashes()
    arrays = index.arrays()
    if not arrays.damaged and hashes == arrays.hashes:
        return len(hashes) - len(index.embedded_cases() & hashes.keys()), 0, frozenset()
    known = index.cases()
    filed = {
        cid
        for cid, sha in hashes.items()
        if cid in known and known[cid].sha256 == sha and known[cid].status != DAMAGED
    }
    words = sum(1 for cid in filed if known[cid].status != INDEXED)
    return words, len(hashes) - len(filed), frozenset(c for c in known if c not in hashes)


@retry_on_damage
def prepare_index(
    library: Library,
    embedder: Embedder | None = None,
    *,
    mode: str = "hybrid",
    switch_model: bool = False,
    file_new: bool = True,
    budget_s: float = CATALOG_BUDGET_S,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Preparation:
    """Make the library's index ready for a search, in seconds at most: file new and changed
    cases for keyword search (``file_new``, within ``budget_s``), pick the query embedder.

    ``embedder``: the model to search with; None loads the one that built the index, and only
    when the index has vectors (a query needs no model before). If the index was built with
    another model, this raises :class:`IndexError_` unless ``switch_model`` (the user chose that
    model; the index job re-embeds with it): the search then runs on keywords meanwhile.
    """
    index = open_index(library.home)
    index.refresh()
    messages: list[str] = []
    filed = 0
    if file_new and index.stale_cases(library):
        filed, said = _file_new_cases(index, library, budget_s, on_progress, cancel)
        messages += said
    words, left, hidden = _coverage(index, library)
    query_embedder = None
    if mode != "bm25" and index.embedded_cases():  # (counting vectors reads every blob)
        if embedder is None:
            try:
                query_embedder = _load_index_embedder(index)
            except ModelError as exc:
                messages.append(f"{exc}；本次只用关键词（BM25）检索")
                words = len(library.case_hashes()) - left
        elif index.embedder_name and index.embedder_name != embedder.name:
            if not switch_model:
                raise IndexError_(
                    f"索引是用 {index.embedder_label} 建立的，不是 {_label(embedder)}；"
                    "要改用这个模型，请运行 `award-writer index --model ...` 重新嵌入"
                )
            messages.append(f"向量索引由 {index.embedder_label} 建立，将用 {_label(embedder)} 重建")
            words = len(library.case_hashes()) - left
        else:
            query_embedder = embedder
    if mode == "bm25":
        words = 0  # keywords were asked for: nothing is missing
    messages += index.messages
    index.messages.clear()
    return Preparation(query_embedder, tuple(dict.fromkeys(messages)), filed, words, left, hidden)


def ready_index(
    library: Library, embedder: Embedder | None, mode: str, auto_update: bool
) -> tuple[SearchIndex, Preparation]:
    """The library's index and its preparation (``auto_update``: new cases filed first); its
    repair messages are left in ``index.messages`` for the caller to show (what the search
    covered is ``prep.note``)."""
    prep = prepare_index(library, embedder, mode=mode, file_new=auto_update)
    index = open_index(library.home)
    index.messages.extend(prep.messages)
    return index, prep
