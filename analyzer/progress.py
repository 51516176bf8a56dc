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
    seconds_left: float | None = None  # an estimate, when the job can make one


ProgressCallback = Callable[[Progress], None]


def duration_text(seconds: float) -> str:
    """A time left for people: ``40 秒``, ``12 分钟``, ``1.5 小时``."""
    if seconds < 90:
        return f"{max(1, round(seconds))} 秒"
    if seconds < 5400:
        return f"{round(seconds / 60)} 分钟"
    return f"{seconds / 3600:.1f} 小时"


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
