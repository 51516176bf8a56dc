"""Getting a library's index ready for a search.

Before searching, :func:`prepare_index` brings the index in line with the library (new, changed,
removed and damaged cases). A search never switches the embedding model by itself: it uses the
one that built the index. Only a caller acting on the user's explicit choice of model (the
desktop app's 设置, ``award-writer index --model``) passes ``switch_model=True`` and gets every
case re-embedded, with progress. When the index's model cannot be loaded (its folder is gone),
search falls back to BM25 with a message instead of failing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from analyzer.errors import IndexError_, ModelError
from analyzer.progress import CancelToken, ProgressCallback, no_progress
from analyzer.search.index import IndexReport, SearchIndex, open_index, repairing

if TYPE_CHECKING:
    from analyzer.library.store import Library
    from analyzer.search.embed import Embedder

F = TypeVar("F", bound=Callable[..., Any])
MODES = ("hybrid", "vector", "bm25")


@dataclass(frozen=True)
class Preparation:
    """What :func:`prepare_index` did before a search."""

    embedder: Embedder | None  # what the search embeds queries with (None: BM25 only)
    report: IndexReport | None  # the index update it ran (None: the index was up to date)
    switched_model: bool  # every case was re-embedded with another model
    messages: tuple[str, ...]  # repairs and warnings for the user (Chinese)


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


@retry_on_damage
def prepare_index(
    library: Library,
    embedder: Embedder | None = None,
    *,
    mode: str = "hybrid",
    switch_model: bool = False,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Preparation:
    """Bring the library's index in line before a search: embed new, changed and damaged
    cases, drop removed ones (with progress and cancel). Cheap when nothing changed.

    ``embedder``: the model to search with; None loads the one that built the index (the
    bundled one for a new index). If the index was built with another model, this raises
    :class:`IndexError_` unless ``switch_model`` (the user chose that model explicitly), in which
    case every case is re-embedded. If the index's model cannot be loaded and the index has
    chunks, the search goes on with BM25 only (``embedder`` None in the result) and a message.
    """
    index = open_index(library.home)
    index.refresh()
    messages: list[str] = []
    fallback = False
    need_model = mode != "bm25" or index.stale_cases(library, include_failed=False)
    if embedder is None and need_model:
        try:
            embedder = _load_index_embedder(index)
        except ModelError as exc:
            if index.is_empty():
                raise
            fallback = True
            messages.append(f"{exc}；本次只用关键词（BM25）检索")
    other = bool(index.embedder_name) and embedder is not None
    other = other and index.embedder_name != getattr(embedder, "name", "")
    if other and not switch_model:
        assert embedder is not None
        raise IndexError_(
            f"索引是用 {index.embedder_label} 建立的，不是 {_label(embedder)}；"
            "要改用这个模型，请运行 `award-writer index --model ...` 重新嵌入"
        )
    report = None
    stale = index.stale_cases(library, include_failed=False)
    if embedder is not None and (other or stale):
        report = index.update(library, embedder, on_progress=on_progress, cancel=cancel)
        messages += report.messages
    elif fallback and stale:
        removed = index.drop_removed(library)
        left = stale - removed
        if left:
            messages.append(f"{left} 个新增或改动的案例没有模型可嵌入，暂时搜不到")
    messages += index.messages
    index.messages.clear()
    return Preparation(None if fallback else embedder, report, other, tuple(messages))


def _label(embedder: Embedder) -> str:
    from analyzer.search.embed import embedder_label

    return embedder_label(embedder)


def ready_index(
    library: Library, embedder: Embedder | None, mode: str, auto_update: bool
) -> tuple[SearchIndex, Embedder | None]:
    """The library's index (brought up to date when ``auto_update``) and the query embedder."""
    if auto_update:
        prep = prepare_index(library, embedder, mode=mode)
        index = open_index(library.home)
        index.messages.extend(prep.messages)  # for the caller to show
        return index, prep.embedder
    index = open_index(library.home)
    index.refresh()
    if embedder is None and mode != "bm25":
        try:
            embedder = _load_index_embedder(index)
        except ModelError as exc:
            if index.is_empty():
                raise
            index.messages.append(f"{exc}；本次只用关键词（BM25）检索")
    if embedder is not None and index.embedder_name and index.embedder_name != embedder.name:
        raise IndexError_(
            f"索引是用 {index.embedder_label} 建立的，不是 {_label(embedder)}；"
            "要改用这个模型，请运行 `award-writer index --model ...` 重新嵌入"
        )
    return index, embedder
