"""Replacing a file atomically: readers see the old file or the new one, never half of either.

The one way the project writes a file the user keeps (drafts, exports, reports, autosaves) or
one it cannot rebuild cheaply (the search index's vectors).
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from pathlib import Path

from analyzer.errors import DraftError, os_reason


def replace_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, then ``os.replace`` it over
    ``path`` and fsync the folder. On failure the temp file is removed, the old file stays and
    the ``OSError`` propagates."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp makes the file private (0600); a saved or exported file gets the mode any
        # new file of the user gets (0644 under the usual umask).
        if hasattr(os, "fchmod"):  # POSIX
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # the rename itself survives a power cut
        with contextlib.suppress(OSError):
            dfd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


@functools.cache
def _umask() -> int:
    """The process's umask, read once (reading it means setting it for an instant)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_umask()  # at import, before any thread of the app writes files


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half;
    a :class:`DraftError` naming the file when it cannot be written."""
    try:
        replace_file(path, data)
    except OSError as exc:
        raise DraftError(f"{Path(path)}：无法写入（{os_reason(exc)}）") from exc
