"""Long work off the GUI thread: a :class:`Job` (a ``QRunnable``) and the :class:`JobRunner`.

A job runs one plain function from ``analyzer`` in a thread-pool thread. The function gets the job
itself and uses three things from it, all Qt-free and safe from any thread:

* ``job.report`` — the ``on_progress`` callback (``analyzer.progress.Progress``);
* ``job.token`` — the ``CancelToken`` the core checks between steps;
* ``job.post(text)`` — streamed text (generated tokens).

The worker thread never touches a widget and never emits a signal. The runner's timer, on the
GUI thread, drains what the jobs left (latest progress, streamed text, outcome) and emits the
job's signals in that order: the UI redraws at the timer's pace, not on every token, and a job's
``finished`` always comes after its last streamed text.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from analyzer.errors import AwardWriterError, Cancelled
from analyzer.progress import CancelToken, Progress
from desktop.qt import QtCore, Signal

log = logging.getLogger(__name__)


WORKER_NICE = 10  # pool threads yield the CPU to the GUI thread when both want it


def _lower_priority() -> None:
    """Make the current pool thread nicer than the GUI thread (Linux: niceness is per thread;
    threads a model library starts from here inherit it). Best effort, never an error."""
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < WORKER_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, WORKER_NICE)
    except OSError:
        pass


_gc_lock = threading.Lock()
_gc_pauses = 0


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run a big one-time load (a tokenizer dictionary, a model) without cyclic collections.

    Loading creates hundreds of thousands of long-lived objects; each full collection over them
    holds the GIL for 100–200 ms, which freezes the GUI thread. Collection is paused meanwhile
    and what the load kept is then frozen out of later collections (``gc.freeze``).
    """
    global _gc_pauses
    with _gc_lock:
        _gc_pauses += 1
        gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0:
                gc.freeze()
                gc.enable()


class JobSignals(QtCore.QObject):
    progress = Signal(object)  # Progress, at most once per tick
    streamed = Signal(str)  # text posted since the last tick
    finished = Signal(object)  # the function's return value
    error = Signal(str)  # a message for the user, never a traceback
    cancelled = Signal()
    done = Signal()  # after finished, error or cancelled


def user_message(exc: BaseException) -> str:
    """What the user reads for an exception: the analyzer's own message, or a short summary."""
    if isinstance(exc, AwardWriterError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "内存不足：请关闭其他程序，或在设置中换用更小的模型。"
    if isinstance(exc, OSError):
        from analyzer.errors import os_reason

        where = f"{exc.filename}：" if exc.filename else ""
        return f"文件或系统错误：{where}{os_reason(exc)}"
    detail = str(exc).strip().rstrip("。.")  # one full stop, not "database.。"
    return f"内部错误（{type(exc).__name__}{'：' + detail if detail else ''}）。详情已写入日志。"


class Job(QtCore.QRunnable):
    """One call of ``fn(job)`` in a pool thread; see the module docstring."""

    def __init__(self, name: str, fn: Callable[[Job], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the runner owns it until its signals have been emitted
        self.name = name
        self.fn = fn
        self.token = CancelToken()
        self.signals = JobSignals()
        self.started_at = time.monotonic()
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._progress_new = False
        self._chunks: list[str] = []
        self._outcome: tuple[str, Any] | None = None

    # -- called from the worker thread ----------------------------------------------------------

    def report(self, progress: Progress) -> None:
        with self._lock:
            self._progress = progress
            self._progress_new = True

    def post(self, text: str) -> None:
        with self._lock:
            self._chunks.append(text)

    def run(self) -> None:
        _lower_priority()
        try:
            value = self.fn(self)
        except Cancelled:
            outcome: tuple[str, Any] = ("cancelled", None)
        except BaseException as exc:  # shown as a message; the app keeps running
            if not isinstance(exc, AwardWriterError):
                log.exception("job %s failed", self.name)
            outcome = ("cancelled", None) if self.token.cancelled else ("error", user_message(exc))
        else:
            outcome = ("cancelled", None) if self.token.cancelled else ("finished", value)
        with self._lock:
            self._outcome = outcome

    # -- called from the GUI thread -------------------------------------------------------------

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def progress(self) -> Progress | None:
        with self._lock:
            return self._progress

    @property
    def is_done(self) -> bool:
        with self._lock:
            return self._outcome is not None

    def _drain(self) -> tuple[Progress | None, str, tuple[str, Any] | None]:
        with self._lock:
            progress = self._progress if self._progress_new else None
            self._progress_new = False
            text = "".join(self._chunks)
            self._chunks.clear()
            return progress, text, self._outcome

    def _emit(self) -> bool:
        """Emit what the worker left since the last tick; True once the job is over."""
        progress, text, outcome = self._drain()
        if progress is not None:
            self.signals.progress.emit(progress)
        if text:
            self.signals.streamed.emit(text)
        if outcome is None:
            return False
        kind, value = outcome
        if kind == "finished":
            self.signals.finished.emit(value)
        elif kind == "error":
            self.signals.error.emit(value)
        else:
            self.signals.cancelled.emit()
        self.signals.done.emit()
        return True


class JobRunner(QtCore.QObject):
    """Starts jobs, keeps them alive until their signals are out, cancels them all on close."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QtCore.QObject | None = None, *, interval_ms: int = 40) -> None:
        super().__init__(parent)
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(4)
        self._jobs: list[Job] = []
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._closed = False

    def start(self, name: str, fn: Callable[[Job], Any]) -> Job:
        if self._closed:
            raise RuntimeError("the job runner is shut down")
        job = Job(name, fn)
        self._jobs.append(job)
        self._pool.start(job)
        if not self._timer.isActive():
            self._timer.start()
            self.busy_changed.emit(True)
        return job

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs)

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def cancel_all(self) -> None:
        for job in self._jobs:
            job.cancel()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Process the jobs' signals until none is left (tests, benchmarks); False on timeout."""
        deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        app = QtCore.QCoreApplication.instance()
        while self._jobs:
            if deadline is not None and time.monotonic() > deadline:
                return False
            if app is not None:
                app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
            self._tick()
            time.sleep(0.005)
        return True

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel every job and wait for the threads; no signal is emitted any more."""
        self._closed = True
        self.cancel_all()
        self._timer.stop()
        ok = self._pool.waitForDone(timeout_ms)
        if not ok:
            log.warning(
                "jobs still running after %d ms: %s", timeout_ms, [j.name for j in self._jobs]
            )
        self._jobs.clear()
        return ok

    def _tick(self) -> None:
        for job in list(self._jobs):
            try:
                over = job._emit()
            except Exception:  # a slot raised: log it, never lose the job's outcome loop
                log.exception("a slot of job %s raised", job.name)
                over = job.is_done
            if over and job in self._jobs:
                self._jobs.remove(job)
        if not self._jobs and self._timer.isActive():
            self._timer.stop()
            self.busy_changed.emit(False)
