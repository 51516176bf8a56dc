"""Qt-free progress reporting and cancellation shared by every long job.

The CLI passes a rich progress bar as ``on_progress``, the GUI a Qt signal emitter; the core only
calls the callback and checks the token between steps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from analyzer.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    message: str = ""


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """Default callback: report nothing."""


class CancelToken:
    """Set from any thread; long jobs call :meth:`raise_if_cancelled` between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()
