"""Autosave and crash recovery of drafts. Qt-free.

The autosave copy of an open draft lives in ``<library home>/drafts/autosave/<draft id>.json``
(written atomically, with the process id that wrote it) and is removed when the user saves or
discards the draft. Whatever is left there at start-up was not saved because the app died:
:meth:`Autosave.pending` offers it back.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from analyzer.drafts import Draft, atomic_write, json_bytes
from analyzer.errors import AwardWriterError
from analyzer.paths import data_home


def autosave_dir(home: str | os.PathLike[str] | None = None) -> Path:
    return data_home(home) / "drafts" / "autosave"


@dataclass(frozen=True)
class Recovery:
    """An autosaved draft the app did not get to save or discard (it crashed or was killed)."""

    draft: Draft
    saved_path: str  # the file the draft belongs to ("" for a draft never saved)
    autosaved_at: float
    file: Path


class Autosave:
    """Autosave copies of open drafts in one folder; one file per draft id."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder else autosave_dir()

    def path_for(self, draft_id: str) -> Path:
        return self.folder / f"{draft_id}.json"

    def write(self, draft: Draft, saved_path: str | os.PathLike[str] | None = None) -> Path:
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
        with contextlib.suppress(FileNotFoundError):
            self.path_for(draft_id).unlink()

    def pending(self, *, include_live: bool = False) -> list[Recovery]:
        """Autosaved drafts left behind, newest first.

        A copy written by a process that is still running (another window of the app) is not
        offered unless ``include_live``; an unreadable copy is skipped and left in place.
        """
        found = []
        if not self.folder.is_dir():
            return []
        for file in self.folder.glob("*.json"):
            try:
                record = json.loads(file.read_text(encoding="utf-8"))
                pid = int(record.get("pid", 0))
                if not include_live and pid != os.getpid() and _alive(pid):
                    continue
                draft = Draft.from_json(record["draft"], where=str(file))
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
