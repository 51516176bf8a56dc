"""One writer of a library's search index at a time, across processes and threads.

Writing the index (``award-writer index``, ``ingest --index``, the app's background indexing, a
search filing new cases for keyword search) takes ``index/write.lock`` with ``flock``: a second
writer waits for it, telling the user after a second which process holds it, or (a search) does
not wait at all and searches what is there. The lock file names its holder (pid and command);
the lock itself is the kernel's, so it goes with a process that dies. Readers never take it:
SQLite's WAL lets them read while a writer writes.

Before this lock, two writers interleaved their rows: the second read the first's half-written
vocabulary as damage (``UNIQUE constraint failed: terms.term``), set the index aside and
re-embedded every case.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from analyzer.errors import IndexBusy
from analyzer.progress import CancelToken

LOCK_NAME = "write.lock"
POLL_S = 0.2
SAY_AFTER_S = 1.0  # a writer that waits longer than this says whom it waits for

try:  # POSIX; elsewhere only the threads of one process are kept apart
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_THREADS: dict[Path, threading.Lock] = {}
_THREADS_LOCK = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    with _THREADS_LOCK:
        return _THREADS.setdefault(path, threading.Lock())


def _describe() -> str:
    command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv[:3]))
    return f"{os.getpid()} {command}".strip()


def holder(index_dir: Path) -> str:
    """Who holds the lock, as its file says (pid and command), or ""."""
    try:
        return (index_dir / LOCK_NAME).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def holder_text(index_dir: Path) -> str:
    """The holder for a message: ``进程 1234（award-writer index）``."""
    pid, _, command = holder(index_dir).partition(" ")
    if not pid:
        return "另一个任务"
    if pid == str(os.getpid()):
        return "本程序的另一个任务"
    return f"进程 {pid}（{command}）" if command else f"进程 {pid}"


class WriteLock:
    """``with WriteLock(dir).hold(...)``: the index's writer lock."""

    def __init__(self, index_dir: Path) -> None:
        self.dir = index_dir
        self.path = index_dir / LOCK_NAME
        self._threads = _thread_lock(self.path.resolve())
        self._fd: int | None = None

    def _try(self) -> bool:
        if not self._threads.acquire(blocking=False):
            return False
        if fcntl is None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            self._threads.release()
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            self._threads.release()
            return False
        with contextlib.suppress(OSError):  # the name is for messages only
            os.ftruncate(fd, 0)
            os.pwrite(fd, _describe().encode("utf-8"), 0)
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock back (after :meth:`acquire`)."""
        self._release()

    def _release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None
        self._threads.release()

    def acquire(
        self,
        *,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> bool:
        """Take the lock. Without ``wait``, False at once when another writer holds it; with
        it, wait (cancellable), calling ``on_wait`` once with a message after a second."""
        start = time.monotonic()
        said = False
        while not self._try():
            if not wait:
                return False
            if cancel is not None:
                cancel.raise_if_cancelled()
            if not said and time.monotonic() - start >= SAY_AFTER_S:
                said = True
                if on_wait is not None:
                    on_wait(f"搜索索引正由{holder_text(self.dir)}更新，等它完成后继续…")
            time.sleep(POLL_S)
        return True

    @contextlib.contextmanager
    def hold(
        self,
        *,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[None]:
        """The lock for the ``with`` block; raises :class:`IndexBusy` when not waiting and
        another writer holds it."""
        if not self.acquire(wait=wait, on_wait=on_wait, cancel=cancel):
            raise IndexBusy(f"搜索索引正由{holder_text(self.dir)}更新")
        try:
            yield
        finally:
            self._release()
