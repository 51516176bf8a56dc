"""Is the library file whole? Opening it safely, telling damage from an empty library, backups.

* A new library is built beside its final name and linked into place whole, so a
  ``library.sqlite3`` of 0 bytes (or one without SQLite's header) is never a library being
  created: it is damage, and it is never opened as an empty library (whose next search would
  empty the search index).
* Every open checks the header and size; ``PRAGMA quick_check`` runs on open while the file is
  small enough for it to be cheap, and before every batch of changes, so damage is found before
  a write, not reported as success.
* After a batch that changed the library, a copy is made with SQLite's online backup API into
  ``backups/`` (the newest :data:`KEEP_BACKUPS` are kept). A copy is checked before it joins the
  rotation, so every backup kept is a good one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from analyzer.errors import LibraryDamaged, LibraryError

HEADER = b"SQLite format 3\x00"
QUICK_CHECK_ON_OPEN_BYTES = 64 << 20  # ~3,500 cases; quick_check reads them in ~0.2 s
KEEP_BACKUPS = 3
BACKUP_FOLDER = "backups"
_REPAIR_HINT = "运行 award-writer doctor（或在应用的 设置 → 修复案例库）从备份恢复或抢救可读的案例"


def backups_dir(home: Path) -> Path:
    return home / BACKUP_FOLDER


def damaged(path: Path, why: str) -> LibraryDamaged:
    return LibraryDamaged(f"{path}: 案例库已损坏（{why}）。{_REPAIR_HINT}")


def header_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a library, from its size and header alone (None: it may be)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        return f"无法读取：{exc.strerror or exc}"
    if size == 0:
        return "文件是空的（0 字节），不是空案例库"
    if not head.startswith(HEADER):
        return "不是 SQLite 数据库文件（文件头不对）"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1) or size < page or size % page:
        return f"文件被截断或改动过（{size} 字节，页大小 {page}）"
    return None


def quick_check(con: sqlite3.Connection, *, full: bool = False) -> str | None:
    """SQLite's quick_check (``full``: integrity_check, which also compares the indexes): None
    when it finds nothing, else a one-line summary of what it found."""
    pragma = "integrity_check" if full else "quick_check"
    try:
        rows = con.execute(f"PRAGMA {pragma}(20)").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    lines = [
        line.strip()
        for r in rows
        if r and r[0] != "ok"
        for line in str(r[0]).splitlines()
        if line.strip() and not line.startswith("***")
    ]
    if not lines:
        return None
    more = f"等 {len(lines)} 处" if len(lines) > 1 else ""
    return f"SQLite 检查发现损坏{more}：{lines[0]}"


_CORRUPT, _NOTADB = 11, 26  # SQLite's primary result codes for a damaged file


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether an SQLite error means the file is damaged (not busy, full or read-only)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_CORRUPT, _NOTADB)
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def open_db(path: Path, initialize: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """Open the library at ``path`` (created whole when missing); raises LibraryDamaged for a
    file that is not a whole library and LibraryError when it cannot be opened at all."""
    home = path.parent
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LibraryError(f"{home}: 无法创建案例库文件夹（{exc.strerror or exc}）") from exc
    if not path.exists():
        kept = list_backups(home)
        if kept:
            raise LibraryDamaged(
                f"{path}: 案例库文件不见了，但 {backups_dir(home)} 里有 {len(kept)} 份备份。"
                f"运行 award-writer doctor --restore 恢复最新的备份；若确实要从空案例库开始，"
                f"请先移走 {BACKUP_FOLDER} 文件夹"
            )
        _create(path, initialize)
    problem = header_problem(path)
    if problem:
        raise damaged(path, problem)
    try:
        con = sqlite3.connect(path, check_same_thread=False, timeout=30)
    except sqlite3.Error as exc:
        raise LibraryError(f"{path}: 无法打开案例库（{exc}）") from exc
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA synchronous=NORMAL")
        if path.stat().st_size <= QUICK_CHECK_ON_OPEN_BYTES and (found := quick_check(con)):
            raise damaged(path, found)
        initialize(con)
    except LibraryError:
        con.close()
        raise
    except sqlite3.Error as exc:
        con.close()
        if is_damage(exc):
            raise damaged(path, str(exc)) from exc
        raise LibraryError(f"{path}: 无法打开案例库（{exc}）") from exc
    return con


def _create(path: Path, initialize: Callable[[sqlite3.Connection], None]) -> None:
    """Build an empty library beside ``path`` and link it into place whole. Another process
    creating the same library at the same moment wins or loses the link; either way one whole
    file ends up there."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        con = sqlite3.connect(tmp)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            initialize(con)
        finally:
            con.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError:  # no hard links here (some network shares, FAT)
            if not path.exists():
                os.replace(tmp, path)
    except sqlite3.Error as exc:
        raise LibraryError(f"{path}: 无法创建案例库（{exc}）") from exc
    except OSError as exc:
        raise LibraryError(f"{path}: 无法创建案例库（{exc.strerror or exc}）") from exc
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with contextlib.suppress(OSError):
                leftover.unlink()


# -------------------------------------------------------------------------------------- backups


@dataclass(frozen=True)
class Backup:
    path: Path
    made: float  # seconds since the epoch

    @property
    def label(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.made))


def list_backups(home: Path) -> list[Backup]:
    """The backups of the library in ``home``, newest first."""
    folder = backups_dir(home)
    try:
        names = sorted((p for p in folder.glob("library-*.sqlite3") if p.is_file()), reverse=True)
    except OSError:
        return []
    out = []
    for p in names:
        with contextlib.suppress(OSError):
            out.append(Backup(p, p.stat().st_mtime))
    return out


def make_backup(path: Path) -> Backup:
    """Copy the library at ``path`` into its backups folder (online: writers may go on) and
    drop the oldest beyond :data:`KEEP_BACKUPS`. Raises LibraryDamaged when the copy fails its
    check (the library itself is damaged; the good backups are kept)."""
    home = path.parent
    folder = backups_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now * 1000) % 1000:03d}"
    tmp = folder / f".library-{stamp}.{os.getpid()}.tmp"
    final = folder / f"library-{stamp}.sqlite3"
    try:
        src = sqlite3.connect(path, timeout=30)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
            problem = quick_check(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
            src.close()
        if problem:
            raise damaged(path, problem)
        os.replace(tmp, final)
    except sqlite3.DatabaseError as exc:
        if is_damage(exc):
            raise damaged(path, str(exc)) from exc
        raise LibraryError(f"{path}: 无法备份案例库（{exc}）") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    for old in list_backups(home)[KEEP_BACKUPS:]:
        with contextlib.suppress(OSError):
            old.path.unlink()
    return Backup(final, now)
