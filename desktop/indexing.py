"""Background indexing: after an import (or at start, when cases wait), the library's cases are
filed for keyword search at once and then embedded case by case, with progress and the time
left in the status bar. Searching never waits for it (``analyzer.search.prepare``).

:class:`BackgroundIndexer` starts the job (``analyzer.search.build``) in a job runner of its own
— so that a long indexing run never counts as "work in progress" that locks the settings — on
its own connection to the library, so that switching the library folder (which closes the
session's) cancels it cleanly; it starts again when the library changed while it ran.
:class:`IndexStatus` is its status-bar widget, with a pause/resume button. Closing the window
cancels the job; every finished case is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.progress import Progress, duration_text
from desktop.qt import QtCore, QtWidgets, Signal
from desktop.workers import JobRunner, gc_paused

if TYPE_CHECKING:
    from analyzer.library.store import Library
    from analyzer.search.build import IndexReport
    from desktop.session import Session
    from desktop.workers import Job

START_DELAY_MS = 3000  # the first look at the index waits until the window is up


def _chosen_spec(session: Session) -> str | None:
    s = session.settings
    return s.embedder_path or None if s.embedder == "folder" else None


def _index_has_chosen_model(session: Session, recorded: str) -> bool:
    """Whether the index was built with the model chosen in 设置 (without loading it)."""
    chosen = _chosen_spec(session)
    if chosen is None:
        return recorded in ("", "bundled")
    return bool(recorded) and Path(chosen).expanduser().resolve() == Path(recorded)


def query_embedder(session: Session, job: Job) -> Any:
    """The embedder chosen in 设置 (loaded once and shared with the search page)."""
    embedder = session.models.get("embedder")
    if embedder is None:
        with gc_paused():  # a big one-time load: no long collections while the GUI waits
            from analyzer.search.embed import get_embedder

            job.report(Progress(0, 0, "正在加载嵌入模型…"))
            embedder = get_embedder(_chosen_spec(session))
            session.models["embedder"] = embedder
    return embedder


def index_library(session: Session, home: Path, job: Job) -> IndexReport | None:
    """In a worker: bring the index of the library in ``home`` in line with it (both phases);
    None when there was nothing to do (then no model is loaded)."""
    from analyzer.library.store import Library

    with Library(home) as library:
        return _index(session, library, job)


def _index(session: Session, library: Library, job: Job) -> IndexReport | None:
    with gc_paused():
        from analyzer.search.index import open_index, repairing

        index = open_index(library.home)
        behind = repairing(library, lambda: index.stale_cases(library) or index.pending_vectors())
    injected = session.models.get("embedder")
    same = (
        injected.name == index.embedder_name
        if injected is not None
        else _index_has_chosen_model(session, index.embedder_spec)
    )
    if not behind and (same or index.is_empty()):
        return None
    with gc_paused():
        from analyzer.search.bm25 import ensure_jieba

        ensure_jieba()
    embedder = query_embedder(session, job)

    def waiting(message: str) -> None:
        job.report(Progress(0, 0, message))

    return index.update(
        library, embedder, on_progress=job.report, cancel=job.token, on_wait=waiting
    )


class BackgroundIndexer(QtCore.QObject):
    """Keeps the open library's index in line, in the background."""

    progress = Signal(object)  # Progress
    running_changed = Signal(bool)
    finished = Signal(object)  # IndexReport (or None: nothing was to do)

    def __init__(self, session: Session, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = JobRunner(self)
        self.job: Job | None = None
        self.home: Path | None = None  # the library the running job indexes
        self.paused = False
        self._again = False
        session.library_changed.connect(self.schedule)
        session.settings_changed.connect(lambda _: self.schedule())

    @property
    def running(self) -> bool:
        return self.job is not None

    def start_later(self) -> None:
        """Look at the index once the window is up (a run interrupted last time resumes)."""
        QtCore.QTimer.singleShot(START_DELAY_MS, self.schedule)

    def schedule(self) -> Job | None:
        """Start indexing now, or again after the running job when it is running."""
        if self.paused:
            return None
        if self.job is not None:
            self._again = True
            if self.home != self.session.home:  # another library folder: stop indexing the old
                self.job.cancel()
            return None
        try:
            if len(self.session.library) == 0:
                return None
        except Exception:  # the library cannot be opened: its page says why
            return None
        session = self.session
        self._again = False
        home = self.home = session.home
        job = self.runner.start("建立索引", lambda job: index_library(session, home, job))
        self.job = job
        job.signals.progress.connect(self.progress.emit)
        job.signals.finished.connect(self._finished)
        job.signals.error.connect(lambda message: session.warn(f"建立索引失败：{message}"))
        job.signals.done.connect(self._done)
        self.running_changed.emit(True)
        return job

    def pause(self) -> None:
        """Stop the job (every finished case is kept); :meth:`resume` goes on from there."""
        self.paused = True
        if self.job is not None:
            self.job.cancel()

    def resume(self) -> Job | None:
        self.paused = False
        return self.schedule()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel the job and wait for it (the window closes)."""
        return self.runner.shutdown(timeout_ms)

    def _finished(self, report: IndexReport | None) -> None:
        if report is not None:
            for message in report.messages:
                self.session.warn(message)
            self.session.status.emit(_report_text(report))
        self.finished.emit(report)

    def _done(self) -> None:
        self.job = None
        self.running_changed.emit(False)
        if self._again and not self.paused:
            self.schedule()


def _report_text(report: IndexReport) -> str:
    text = f"索引已更新：{report.n_cases} 个案例可按语义搜索"
    if report.keywords_only:
        text += f"，{report.keywords_only} 个只能按关键词搜索"
    if report.failed:
        text += f"（{len(report.failed)} 个嵌入失败，下次重试）"
    return text


class IndexStatus(QtWidgets.QWidget):
    """In the status bar while indexing runs: what it does, a progress bar, the time left."""

    def __init__(self, indexer: BackgroundIndexer, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.indexer = indexer
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 4, 0)
        self.label = QtWidgets.QLabel()
        self.label.setStyleSheet("color:#333")
        self.bar = QtWidgets.QProgressBar()
        self.bar.setFixedWidth(140)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.button = QtWidgets.QToolButton()
        self.button.setAutoRaise(True)
        self.button.clicked.connect(self._toggle)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.button)
        indexer.progress.connect(self.show_progress)
        indexer.running_changed.connect(self._running)
        self.hide()

    def _running(self, running: bool) -> None:
        if running:
            self.label.setText("正在检查搜索索引…")
            self.bar.setRange(0, 0)
            self.button.setText("暂停")
            self.button.setToolTip("暂停建立索引（已完成的案例会保留；搜索照常可用）")
            self.show()
        elif self.indexer.paused:
            self.label.setText("索引已暂停：未完成的案例只按关键词搜索")
            self.bar.hide()
            self.button.setText("继续")
            self.button.setToolTip("继续建立索引")
        else:
            self.hide()

    def show_progress(self, p: Progress) -> None:
        self.bar.show()
        if p.total <= 0:
            self.bar.setRange(0, 0)
            self.label.setText(p.message)
            return
        self.bar.setRange(0, p.total)
        self.bar.setValue(min(p.done, p.total))
        what = "关键词索引" if "关键词" in p.message else "向量索引"
        text = f"正在建立{what} {p.done}/{p.total}"
        if p.seconds_left is not None:
            text += f" · 约剩 {duration_text(p.seconds_left)}"
        self.label.setText(text)
        self.setToolTip(f"{p.message}\n搜索照常可用：尚未建立向量索引的案例按关键词搜索。")

    def _toggle(self) -> None:
        if self.indexer.paused:
            self.indexer.resume()
        else:
            self.indexer.pause()
