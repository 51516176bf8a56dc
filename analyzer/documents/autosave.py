"""Autosave and crash recovery of drafts. Qt-free.

The autosave copy of an open draft lives in ``<library home>/drafts/autosave/<draft id>.json``
(written atomically, with the process id that wrote it) and is removed when the user saves or
discards the draft. Whatever is left there at start-up was not saved because the app died:
:meth:`Autosave.pending` offers it back.

When to write is :class:`AutosaveSchedule`'s: shortly after the last change, and never later
than a maximum delay after the first unsaved one (typing without pause is saved too).
:meth:`Autosave.write_later` writes in a background thread, so a slow disk never holds up the
window; :meth:`Autosave.flush` waits for what is queued.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from analyzer.atomicfile import atomic_write
from analyzer.documents.document import DraftDocument, json_bytes
from analyzer.errors import AwardWriterError
from analyzer.paths import data_home

log = logging.getLogger(__name__)

SAVE_DELAY = 0.5  # seconds after the last change
MAX_DELAY = 3.0  # seconds after the first change not yet saved, however fast the changes come


def autosave_dir(home: str | os.PathLike[str] | None = None) -> Path:
    return data_home(home) / "drafts" / "autosave"


@dataclass(frozen=True)
class Recovery:
    """An autosaved draft the app did not get to save or discard (it crashed or was killed)."""

    draft: DraftDocument
    saved_path: str  # the file the draft belongs to ("" for a draft never saved)
    autosaved_at: float
    file: Path


class AutosaveSchedule:
    """When the next autosave is due, given when the changes came (seconds, any clock)."""

    def __init__(self, delay: float = SAVE_DELAY, max_delay: float = MAX_DELAY) -> None:
        if not 0 <= delay <= max_delay:
            raise ValueError(f"need 0 <= delay ({delay}) <= max_delay ({max_delay})")
        self.delay = delay
        self.max_delay = max_delay
        self._first: float | None = None  # the first change since the last save

    def changed(self, now: float) -> float:
        """A change at ``now``: seconds from now until the save is due."""
        if self._first is None:
            self._first = now
        return max(0.0, min(self.delay, self._first + self.max_delay - now))

    def saved(self) -> None:
        self._first = None

    @property
    def waiting(self) -> bool:
        return self._first is not None


class Autosave:
    """Autosave copies of open drafts in one folder; one file per draft id."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder else autosave_dir()
        self._lock = threading.Condition()
        self._queued: dict[str, tuple[DraftDocument, str]] = {}  # draft id → newest copy to write
        self._writing: str | None = None  # id of the draft whose copy is being written
        self._thread: threading.Thread | None = None
        self._failure: str | None = None

    # -- background writing

    def write_later(
        self, draft: DraftDocument, saved_path: str | os.PathLike[str] | None = None
    ) -> None:
        """Queue ``draft`` for writing; a newer copy of the same draft replaces a queued one."""
        with self._lock:
            self._queued[draft.id] = (draft, str(saved_path or ""))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="autosave", daemon=True)
                self._thread.start()
            self._lock.notify()

    def flush(self) -> None:
        """Write what is queued now, in this thread, after a write in progress has ended."""
        while self._write_next(block=False):
            pass
        with self._lock:
            self._lock.wait_for(lambda: self._writing is None)

    def take_failure(self) -> str | None:
        """Why the last background write failed (once), or None."""
        with self._lock:
            failure, self._failure = self._failure, None
        return failure

    def _run(self) -> None:
        while True:
            if not self._write_next(block=True):
                with self._lock:  # idle: end, unless a copy was queued just now
                    if not self._queued:
                        self._thread = None
                        return

    def _write_next(self, *, block: bool) -> bool:
        """Write one queued copy; False when there was none (after 30 s idle when blocking)."""
        with self._lock:
            # One write at a time: a copy is never overtaken by an older one of the same draft.
            self._lock.wait_for(lambda: self._writing is None)
            if block:
                self._lock.wait_for(lambda: bool(self._queued), timeout=30)
            if not self._queued or self._writing is not None:
                return bool(self._queued)
            draft_id = next(iter(self._queued))
            draft, saved_path = self._queued.pop(draft_id)
            self._writing = draft_id
        try:
            self.write(draft, saved_path)
        except AwardWriterError as exc:
            log.warning("autosave failed: %s", exc)
            with self._lock:
                self._failure = str(exc)
        finally:
            with self._lock:
                self._writing = None
                self._lock.notify_all()
        return True

    def path_for(self, draft_id: str) -> Path:
        return self.folder / f"{draft_id}.json"

    def write(self, draft: DraftDocument, saved_path: str | os.PathLike[str] | None = None) -> Path:
        path = self.path_for(draft.id)
        record = {
            "saved_path": str(saved_path or ""),
            "autosaved_at": time.time(),
            "pid": os.getpid(),
            "draft": draft.to_json(),
        }
        atomic_write(path, json_bytes(record))
        return path

    def discard(self, draft_id: str) -> None:
        """Remove the draft's copy; a copy queued or being written is not written after it."""
        with self._lock:
            self._queued.pop(draft_id, None)
            self._lock.wait_for(lambda: self._writing != draft_id)
            with contextlib.suppress(FileNotFoundError):
                self.path_for(draft_id).unlink()

    def pending(self, *, include_live: bool = False) -> list[Recovery]:
        """Autosaved drafts left behind, newest first.

        A copy written by a process that is still running (another window of the app) is not
        offered unless ``include_live``; an unreadable copy is skipped and left in place.
        """
        self.flush()
        found = []
        if not self.folder.is_dir():
            return []
        for file in self.folder.glob("*.json"):
            try:
                record = json.loads(file.read_text(encoding="utf-8"))
                pid = int(record.get("pid", 0))
                if not include_live and pid != os.getpid() and _alive(pid):
                    continue
                draft = DraftDocument.from_json(record["draft"], where=str(file))
                found.append(
                    Recovery(
                        draft=draft,
                        saved_path=str(record.get("saved_path", "")),
                        autosaved_at=float(record.get("autosaved_at", file.stat().st_mtime)),
                        file=file,
                    )
                )
            except (OSError, ValueError, KeyError, TypeError, AwardWriterError):
                continue
        return sorted(found, key=lambda r: r.autosaved_at, reverse=True)


def _alive(pid: int) -> bool:
    if pid <= 0 or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
