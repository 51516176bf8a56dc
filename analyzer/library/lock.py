"""One writer at a time for a library, across processes: an advisory lock on ``library.lock``.

SQLite already serializes single transactions; this lock serializes whole batches (an import,
a removal, a restore), so two imports of one folder never interleave and a restore never runs
under an import. Readers do not take it (SQLite's WAL lets them read while a writer writes).

The lock is ``flock`` on POSIX and a byte-range lock on Windows: the system drops it when its
process ends, however it ends (``kill -9`` included), so there is no stale lock to clean up.
The holder writes who it is into the file, so a waiting writer can say which process it waits
for. Inside one process the lock is shared by all threads (counted, re-entrant): the app's
threads use one ``Library`` whose own lock orders their statements.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from analyzer.errors import LibraryBusyError
from analyzer.progress import CancelToken

log = logging.getLogger(__name__)

WAIT_NOTICE_SECONDS = 1.0  # a writer that waits longer than this says for whom it waits
_POLL_SECONDS = 0.1
_WINDOWS_LOCK_OFFSET = 1 << 20  # past the holder text, which waiting writers read

Notify = Callable[[str], None]


def log_notice(message: str) -> None:
    log.warning("%s", message)


_registry: dict[Path, WriterLock] = {}
_registry_mutex = threading.Lock()


class WriterLock:
    """Get one with :meth:`of`: every ``Library`` of a folder in this process shares it (two
    instances with their own ``flock`` would block each other inside one thread)."""

    @classmethod
    def of(cls, path: Path) -> WriterLock:
        key = path.resolve()
        with _registry_mutex:
            lock = _registry.get(key)
            if lock is None:
                lock = _registry[key] = cls(key)
            return lock

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mutex = threading.Lock()
        self._depth = 0
        self._fd: int | None = None

    @contextmanager
    def hold(
        self,
        what: str,
        *,
        notify: Notify = log_notice,
        cancel: CancelToken | None = None,
        timeout: float | None = None,
    ) -> Iterator[None]:
        """Hold the lock for ``what`` (shown to a writer that waits). Waits for another
        process's batch to end (saying so after a second); ``timeout`` seconds, then
        :class:`LibraryBusyError` naming the holder; a cancelled ``cancel`` stops the wait."""
        self._acquire(what, notify, cancel, timeout)
        try:
            yield
        finally:
            self._release()

    def holder(self) -> str:
        """Who holds (or last held) the lock, in words: ``进程 1234（award-writer ingest …）``."""
        try:
            info = json.loads(self.path.read_text(encoding="utf-8"))
            since = time.strftime("%H:%M:%S", time.localtime(float(info["since"])))
            return f"进程 {int(info['pid'])}（{info['what']}，{since} 开始）"
        except (OSError, ValueError, KeyError, TypeError):
            return "另一个进程"

    # ------------------------------------------------------------------ internals

    def _acquire(
        self, what: str, notify: Notify, cancel: CancelToken | None, timeout: float | None
    ) -> None:
        with self._mutex:  # other threads of this process wait here while one acquires
            if self._depth:
                self._depth += 1
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
            try:
                self._wait(fd, notify, cancel, timeout)
                _write_holder(fd, what)
            except BaseException:
                os.close(fd)
                raise
            self._fd, self._depth = fd, 1

    def _wait(
        self, fd: int, notify: Notify, cancel: CancelToken | None, timeout: float | None
    ) -> None:
        start = time.monotonic()
        told = False
        while not _try_lock(fd):
            if cancel is not None:
                cancel.raise_if_cancelled()
            waited = time.monotonic() - start
            if timeout is not None and waited >= timeout:
                raise LibraryBusyError(
                    f"{self.path.parent}: 案例库正由{self.holder()}写入，请等它完成后再试"
                )
            if waited >= WAIT_NOTICE_SECONDS and not told:
                notify(f"案例库正由{self.holder()}写入，等待它完成…")
                told = True
            time.sleep(_POLL_SECONDS)

    def _release(self) -> None:
        with self._mutex:
            self._depth -= 1
            if self._depth or self._fd is None:
                return
            fd, self._fd = self._fd, None
            try:
                _unlock(fd)
            finally:
                os.close(fd)


def _write_holder(fd: int, what: str) -> None:
    command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))
    text = json.dumps(
        {"pid": os.getpid(), "what": what, "command": command[:200], "since": time.time()},
        ensure_ascii=False,
    ).encode("utf-8")
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, text)
    except OSError:  # the note is for people; the lock works without it
        log.debug("could not write the lock holder", exc_info=True)


_unsupported_warned = False


def _lock_unsupported(exc: OSError) -> bool:
    """A file system without locks (some network shares): go on without the lock, once said.
    SQLite still keeps each transaction whole."""
    global _unsupported_warned
    import errno

    if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
        return False
    if not _unsupported_warned:
        log.warning("library lock unavailable on this file system (%s); going on without", exc)
        _unsupported_warned = True
    return True


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            return _lock_unsupported(exc)
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        with suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as exc:
            return _lock_unsupported(exc)
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
