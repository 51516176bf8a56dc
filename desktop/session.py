"""What every page shares: the settings, the open library, the job runner, loaded models.

Pages talk to ``analyzer`` through the objects held here and announce changes through its
signals (a page that imports cases emits ``library_changed``; the others refresh).
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.config import AppSettings, Store
from desktop.qt import QtCore, Signal
from desktop.workers import JobRunner

if TYPE_CHECKING:
    from analyzer.library.store import Library
    from desktop.workers import Job

GENERATION_FIELDS = (
    "generator",
    "generator_path",
    "device",
    "threads",
    "engine",
    "server_url",
    "server_model",
    "server_key",
    "server_key_name",
)

log = logging.getLogger(__name__)


class Session(QtCore.QObject):
    library_changed = Signal()  # cases were added or removed, or another library was opened
    settings_changed = Signal(object)  # AppSettings
    status = Signal(str)  # a short line for the status bar
    message = Signal(str, str)  # level (error | warning | info), text: shown in the message bar
    model_busy_changed = Signal(bool)  # a job loads or uses the drafting model

    def __init__(
        self,
        store: Store | None = None,
        *,
        library_override: str | None = None,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store or Store()
        self.settings: AppSettings = self.store.load()
        self.library_override = library_override
        self.runner = JobRunner(self)
        self._library: Library | None = None
        # Loaded models, keyed by what they were loaded from; filled by workers on demand.
        self.models: dict[str, Any] = {}
        self._model_jobs: list[Job] = []

    def error(self, text: str) -> None:
        log.warning("shown to the user: %s", text)
        self.message.emit("error", text)

    def warn(self, text: str) -> None:
        self.message.emit("warning", text)

    def info(self, text: str) -> None:
        self.message.emit("info", text)

    @property
    def home(self) -> Path:
        return self.settings.library_home(self.library_override)

    @property
    def library(self) -> Library:
        """The open library (opened on first use; raises ``LibraryError``)."""
        if self._library is None:
            from analyzer.library.store import Library

            self._library = Library(self.home)
        return self._library

    # ------------------------------------------------------------------ model jobs

    def track_model_job(self, job: Job) -> None:
        """``job`` loads or uses the drafting model until it is done (see :attr:`model_busy`)."""
        self._model_jobs.append(job)
        job.signals.done.connect(lambda: self._model_job_done(job))
        if len(self._model_jobs) == 1:
            self.model_busy_changed.emit(True)

    def _model_job_done(self, job: Job) -> None:
        if job in self._model_jobs:
            self._model_jobs.remove(job)
            if not self._model_jobs:
                self.model_busy_changed.emit(False)

    @property
    def model_busy(self) -> bool:
        return bool(self._model_jobs)

    # ------------------------------------------------------------------ settings

    def settings_conflict(self, settings: AppSettings) -> str | None:
        """Why ``settings`` cannot be applied now (work in progress uses what they change)."""
        old = self.settings
        if any(getattr(old, f) != getattr(settings, f) for f in GENERATION_FIELDS) and (
            self.model_busy
        ):
            return "正在加载或使用生成模型：请先停止生成或等它结束，再更改生成模型设置。"
        if settings.library_home(self.library_override) != self.home and self.runner.busy:
            names = "、".join(dict.fromkeys(j.name.split(" ", 1)[0] for j in self.runner.jobs))
            return f"正在{names}：请等它完成或取消后，再更换案例库文件夹。"
        return None

    def apply_settings(self, settings: AppSettings) -> bool:
        """Save and use new settings; models they no longer name are dropped.

        Refused (False, with a message) while a job uses what they change: a worker inside the
        library or the model must never see it closed under its feet.
        """
        conflict = self.settings_conflict(settings)
        if conflict:
            self.error(f"设置未应用：{conflict}")
            return False
        old, old_home = self.settings, self.home
        self.settings = settings
        self.store.save(settings)
        if (old.embedder, old.embedder_path) != (settings.embedder, settings.embedder_path):
            self.models.pop("embedder", None)
        if any(getattr(old, f) != getattr(settings, f) for f in GENERATION_FIELDS):
            self.unload_generator(wait=False)
        if self.home != old_home:
            self.close_library()
            self.library_changed.emit()
        self.settings_changed.emit(settings)
        return True

    def unload_generator(self, *, wait: bool = True) -> None:
        """Forget the drafting model (a real one is freed; an injected fake is just dropped).

        Ending a model process waits for it (up to seconds): with ``wait=False`` that happens
        in a background thread, so the window does not freeze.
        """
        gen = self.models.pop("generator", None)
        if gen is None:
            return
        close = getattr(gen, "close", None)
        if callable(close):  # a model process: ending it frees all of its memory
            if wait:
                close()
            else:
                threading.Thread(target=close, name="unload-model", daemon=True).start()
        elif "analyzer.llm" in sys.modules:
            from analyzer.llm import unload

            unload()

    def close_library(self) -> None:
        if self._library is not None:
            self._library.close()
            self._library = None

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel running jobs, wait for them, close the library."""
        ok = self.runner.shutdown(timeout_ms)
        if ok:  # a thread still inside the library must not see it closed under its feet
            self.close_library()
        self.unload_generator()
        return ok
