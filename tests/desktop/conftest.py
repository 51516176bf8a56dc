"""Fixtures for the desktop tests: a main window on the test's own library, no modal dialogs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")


@pytest.fixture
def no_dialogs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Answer every question box with "discard"/"yes" and record what was asked."""
    from desktop.pages.draft import DraftPage
    from desktop.qt import QtWidgets

    asked: list[str] = []

    def ask_save(self: Any) -> Any:
        asked.append("save")
        return QtWidgets.QMessageBox.StandardButton.Discard

    def question(*args: Any, **kwargs: Any) -> Any:
        asked.append(str(args[2] if len(args) > 2 else ""))
        return QtWidgets.QMessageBox.StandardButton.Yes

    def confirm_pending(self: Any, marks: Any) -> bool:
        asked.append(f"pending:{len(marks)}")
        return True

    monkeypatch.setattr(DraftPage, "ask_save", ask_save)
    monkeypatch.setattr(DraftPage, "confirm_pending", confirm_pending)
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", staticmethod(question))
    return asked


@pytest.fixture
def window(qtbot: Any, no_dialogs: list[str]) -> Iterator[Any]:
    from desktop.mainwindow import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


@pytest.fixture
def wait_job(qtbot: Any) -> Any:
    """``wait_job(job)``: wait until the job is over and its signals were emitted.

    Call it right after starting the job: the runner emits on the GUI thread, so nothing is
    missed before the wait begins.
    """

    def wait(job: Any, timeout: int = 60_000) -> None:
        if job is None:
            raise AssertionError("no job was started")
        qtbot.waitSignal(job.signals.done, timeout=timeout).wait()

    return wait


class FakeEmbedder:
    """Char-bigram hashing: fast and deterministic; similar Chinese text gets similar vectors
    (256 buckets: with fewer, unrelated cases collide enough to look alike)."""

    name = "fake-bigrams-256"
    dim = 256
    spec = "fake"

    def _embed(self, texts: list[str]) -> Any:
        import itertools
        import zlib

        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for a, b in itertools.pairwise(text):
                out[i, zlib.crc32((a + b).encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms

    def embed_queries(self, texts: list[str]) -> Any:
        return self._embed(texts)

    def embed_passages(self, texts: list[str], on_progress: Any = None, cancel: Any = None) -> Any:
        return self._embed(texts)


@pytest.fixture
def imported(window: Any, wait_job: Any) -> Any:
    """The window with the five seed cases imported and a fake embedder for search."""
    from pathlib import Path

    seeds = Path(__file__).resolve().parents[2] / "corpus" / "cases"
    window.session.models["embedder"] = FakeEmbedder()
    wait_job(window.library_page.import_paths([str(seeds)]))
    if window.indexer.job is not None:  # the background indexing the import started
        wait_job(window.indexer.job, timeout=300_000)
    return window


class FakeGenerator:
    """The drafter's ``Generator`` protocol: canned Chinese text in pieces, cancellable at each."""

    def __init__(self, text: str = "", *, delay: float = 0.0, pieces: int = 0) -> None:
        self.text = text or "我们以真实用户故事为核心，联动社区与媒体，让更多公众参与进来。"
        self.delay = delay
        self.pieces = pieces or len(self.text)
        self.calls: list[Any] = []
        self.finish_reason = ""

    def stream(
        self,
        prompt_messages: Any,
        *,
        max_new_tokens: int,
        cancel: Any = None,
        time_budget: Any = None,
        sampling: Any = None,
    ) -> Any:
        import time

        from analyzer.errors import Cancelled

        self.calls.append(prompt_messages)
        size = max(1, len(self.text) // self.pieces)
        for start in range(0, len(self.text), size):
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            if self.delay:
                time.sleep(self.delay)
            yield self.text[start : start + size]
        self.finish_reason = "eos"


@pytest.fixture
def fake_generator(window: Any) -> FakeGenerator:
    gen = FakeGenerator()
    window.session.models["generator"] = gen
    return gen
