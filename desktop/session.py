"""What every page shares: the settings, the open library, the job runner, loaded models.

Pages talk to ``analyzer`` through the objects held here and announce changes through its
signals (a page that imports cases emits ``library_changed``; the others refresh).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.config import AppSettings, Store
from desktop.qt import QtCore, Signal
from desktop.workers import JobRunner

if TYPE_CHECKING:
    from analyzer.library import Library

log = logging.getLogger(__name__)


class Session(QtCore.QObject):
    library_changed = Signal()  # cases were added or removed, or another library was opened
    settings_changed = Signal(object)  # AppSettings
    status = Signal(str)  # a short line for the status bar
    message = Signal(str, str)  # level (error | warning | info), text: shown in the message bar

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
            from analyzer.library import Library

            self._library = Library(self.home)
        return self._library

    def apply_settings(self, settings: AppSettings) -> None:
        """Save and use new settings; models they no longer name are dropped."""
        old, old_home = self.settings, self.home
        self.settings = settings
        self.store.save(settings)
        if (old.embedder, old.embedder_path) != (settings.embedder, settings.embedder_path):
            self.models.pop("embedder", None)
        generation = ("generator", "generator_path", "device", "threads")
        if any(getattr(old, f) != getattr(settings, f) for f in generation):
            self.unload_generator()
        if self.home != old_home:
            self.close_library()
            self.library_changed.emit()
        self.settings_changed.emit(settings)

    def unload_generator(self) -> None:
        """Forget the drafting model (a real one is freed; an injected fake is just dropped)."""
        gen = self.models.pop("generator", None)
        if gen is None:
            return
        close = getattr(gen, "close", None)
        if callable(close):  # a model process: ending it frees all of its memory
            close()
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
