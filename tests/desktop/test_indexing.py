"""Background indexing after an import: progress in the status bar, searching meanwhile."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from conftest import FakeEmbedder

SEEDS = Path(__file__).resolve().parents[2] / "corpus" / "cases"


class GatedEmbedder(FakeEmbedder):
    """Embeds the first batch, then waits at the next one until ``release`` is set."""

    def __init__(self) -> None:
        self.calls = 0
        self.inside = threading.Event()
        self.release = threading.Event()

    def embed_passages(self, texts: list[str], on_progress: Any = None, cancel: Any = None) -> Any:
        self.calls += 1
        if self.calls > 1:
            self.inside.set()
            while not self.release.wait(0.05):
                if cancel is not None:
                    cancel.raise_if_cancelled()
        return super().embed_passages(texts)


def test_an_import_indexes_in_the_background_while_search_works(
    window: Any, qtbot: Any, wait_job: Any
) -> None:
    emb = GatedEmbedder()
    window.session.models["embedder"] = emb
    wait_job(window.library_page.import_paths([str(SEEDS)]))
    assert window.indexer.running, "the import starts the indexing job"
    status = window.index_status
    qtbot.waitUntil(emb.inside.is_set, timeout=60_000)
    # (the keyword phase's 5/5 may still be on show when the embedder is reached)
    qtbot.waitUntil(
        lambda: "正在建立向量索引" in status.label.text() and status.bar.value() > 0,
        timeout=60_000,
    )
    assert status.isVisible()
    assert "/5" in status.label.text() and status.bar.value() < 5

    page = window.similar_page
    page.query.setPlainText("营销 数据 用户")  # words every case has
    wait_job(page.start_search())
    hits = page.model.records()
    assert len(hits) == 5 and {h.keywords_only for h in hits} == {True, False}
    assert "部分结果来自关键词检索" in page.status.text()
    assert window.indexer.running, "the search did not wait for the indexing"

    emb.release.set()
    wait_job(window.indexer.job)
    assert "索引已更新：5 个案例" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not window.indexer.running, timeout=60_000)  # a look at start-up
    assert not status.isVisible()
    wait_job(page.start_search())
    assert not any(h.keywords_only for h in page.model.records())
    assert "关键词" not in page.status.text()


def test_pausing_keeps_what_is_done_and_resuming_finishes(
    window: Any, qtbot: Any, wait_job: Any
) -> None:
    from analyzer.search.index import open_index

    emb = GatedEmbedder()
    window.session.models["embedder"] = emb
    wait_job(window.library_page.import_paths([str(SEEDS)]))
    qtbot.waitUntil(emb.inside.is_set, timeout=60_000)
    status = window.index_status
    job = window.indexer.job
    status.button.click()  # 暂停
    wait_job(job)
    assert window.indexer.paused and status.isVisible() and "暂停" in status.label.text()
    statuses = {s.status for s in open_index(window.session.home).statuses()}
    assert statuses == {"indexed", "keywords"}, "finished cases are kept, the others searchable"
    emb.release.set()
    status.button.click()  # 继续
    wait_job(window.indexer.job)
    assert {s.status for s in open_index(window.session.home).statuses()} == {"indexed"}
    qtbot.waitUntil(lambda: not window.indexer.running, timeout=60_000)
    assert not status.isVisible()
