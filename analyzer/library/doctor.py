"""``award-writer doctor`` and 设置 → 修复案例库: the library's health, restore, salvage.

* :func:`diagnose` checks the file (header, SQLite's integrity_check, the tables) and every
  backup, and says what to do.
* :func:`restore` puts the newest good backup (or a chosen one) in place.
* :func:`salvage` builds a new library from every case still readable in a damaged file, adds
  the cases only the newest good backup has, and puts it in place.

Neither ever deletes the file it replaces: it is moved aside beside the library as
``library.sqlite3.damaged-<time>`` (or ``.before-restore-<time>`` when it was whole), with its
``-wal``/``-shm`` files. Both hold the library's writer lock, so no import runs meanwhile; a
window or process that still has the old library open must reopen it (the app's settings page
closes its own first).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from analyzer.errors import LibraryError
from analyzer.library import health
from analyzer.library.lock import WriterLock, log_notice
from analyzer.paths import library_db

_CASE_COLUMNS = (
    "id, source, sha256, size, encoding, award, is_entry, title, brand, industry, category,"
    " period, year, text, preamble, parser_version, imported_at"
)
_PARTS = ("fields", "sections", "metrics")


@dataclass(frozen=True)
class BackupState:
    path: Path
    made: float
    cases: int | None
    problem: str | None  # None: the copy is whole

    @property
    def label(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.made))


@dataclass(frozen=True)
class Diagnosis:
    path: Path
    exists: bool
    size: int
    problem: str | None  # None: the library is whole
    cases: int | None
    backups: tuple[BackupState, ...]

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def good_backup(self) -> BackupState | None:
        return next((b for b in self.backups if b.problem is None), None)

    def advice(self) -> str:
        good = self.good_backup
        if self.ok:
            return "案例库完好，无需修复。" if self.exists else "还没有案例库：第一次导入时建立。"
        if good is None:
            return (
                "没有可用的备份。运行 award-writer doctor --salvage 抢救仍可读取的案例"
                "（损坏的文件会保留）。"
            )
        return (
            f"运行 award-writer doctor --restore 恢复 {good.label} 的备份（{good.cases} 个案例），"
            "或 --salvage 抢救损坏文件中仍可读取的案例并补上备份里才有的案例（损坏的文件都会保留）。"
        )


@dataclass(frozen=True)
class Repair:
    cases: int  # cases in the library now
    from_backup: int  # of them, taken from a backup
    unreadable: tuple[int, ...]  # case ids known to the damaged file but not recovered
    kept_aside: tuple[Path, ...]  # the replaced file (and its -wal/-shm)
    message: str


def diagnose(home: Path) -> Diagnosis:
    path = library_db(home)
    backups = tuple(_check_backup(b) for b in health.list_backups(home))
    if not path.exists():
        problem = "案例库文件不存在" if backups else None
        return Diagnosis(path, False, 0, problem, None if backups else 0, backups)
    size = path.stat().st_size
    problem, cases = _check_file(path, full=True)
    return Diagnosis(path, True, size, problem, cases, backups)


def restore(
    home: Path, backup: Path | None = None, *, notify: Callable[[str], None] | None = None
) -> Repair:
    """Put ``backup`` (default: the newest whole one) in place of the library."""
    path = library_db(home)
    lock = WriterLock.of(home / "library.lock")
    with lock.hold("恢复案例库", notify=notify or log_notice):
        if backup is not None:
            chosen = _check_backup(health.Backup(Path(backup), Path(backup).stat().st_mtime))
            if chosen.problem:
                raise LibraryError(f"{backup}: 这份备份不能用（{chosen.problem}）")
        else:
            states = [_check_backup(b) for b in health.list_backups(home)]
            good = next((s for s in states if s.problem is None), None)
            if good is None:
                raise LibraryError(
                    f"{health.backups_dir(home)}: 没有可用的备份。"
                    "可以运行 award-writer doctor --salvage 抢救仍可读取的案例"
                )
            chosen = good
        tmp = home / f".library.sqlite3.{os.getpid()}.restore"
        _copy_db(chosen.path, tmp)
        whole = path.exists() and _check_file(path, full=False)[0] is None
        aside = _swap_in(path, tmp, "before-restore" if whole else "damaged")
    kept = f"；原来的文件保存在 {aside[0]}" if aside else ""
    return Repair(
        cases=chosen.cases or 0,
        from_backup=chosen.cases or 0,
        unreadable=(),
        kept_aside=aside,
        message=f"已从 {chosen.label} 的备份恢复 {chosen.cases} 个案例{kept}。",
    )


def salvage(home: Path, *, notify: Callable[[str], None] | None = None) -> Repair:
    """Rebuild the library from what is still readable, plus what only the newest good backup
    has; the damaged file is kept aside."""
    from analyzer.library.store import Library

    path = library_db(home)
    lock = WriterLock.of(home / "library.lock")
    with lock.hold("抢救案例库", notify=notify or log_notice):
        if path.exists() and _check_file(path, full=True)[0] is None:
            raise LibraryError(f"{path}: 案例库完好，不需要抢救")
        work = home / f".salvage-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        Library(work).close()  # an empty library with the current tables
        new = sqlite3.connect(library_db(work))
        try:
            salvaged, known = _salvage_from(path, new) if path.exists() else (set(), set())
            good = next(
                (s for s in map(_check_backup, health.list_backups(home)) if s.problem is None),
                None,
            )
            added = _add_from_backup(good.path, new, salvaged) if good else set()
            new.commit()
            total = int(new.execute("SELECT COUNT(*) FROM cases").fetchone()[0])
        finally:
            new.close()
        aside = _swap_in(path, library_db(work), "damaged")
        shutil.rmtree(work, ignore_errors=True)
    lost = tuple(sorted(known - salvaged - added))
    parts = [f"抢救出 {len(salvaged)} 个案例"]
    if added and good is not None:
        parts.append(f"从 {good.label} 的备份补上 {len(added)} 个")
    if lost:
        parts.append(f"{len(lost)} 个无法读取（编号 {', '.join(map(str, lost[:20]))}）")
    kept = f"；损坏的文件保存在 {aside[0]}" if aside else ""
    message = "，".join(parts) + f"，案例库现有 {total} 个案例{kept}。"
    return Repair(total, len(added), lost, aside, message)


# ------------------------------------------------------------------------------------ checking


def _check_file(path: Path, *, full: bool) -> tuple[str | None, int | None]:
    """(problem or None, number of cases when they can be counted)."""
    problem = health.header_problem(path)
    if problem:
        return problem, None
    try:
        con = sqlite3.connect(path, timeout=30)
    except sqlite3.Error as exc:
        return str(exc), None
    try:
        found = health.quick_check(con, full=full)
        if found:
            return found, None
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"meta", "cases", *_PARTS} <= tables:
            return "不是 Award Writer 案例库（缺少数据表）", None
        return None, int(con.execute("SELECT COUNT(*) FROM cases").fetchone()[0])
    except sqlite3.Error as exc:
        return str(exc), None
    finally:
        con.close()


def _check_backup(backup: health.Backup) -> BackupState:
    problem, cases = _check_file(backup.path, full=False)
    return BackupState(backup.path, backup.made, cases, problem)


def _copy_db(src: Path, dst: Path) -> None:
    with contextlib.suppress(OSError):
        dst.unlink()
    source = sqlite3.connect(src)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        target.close()
        source.close()


def _swap_in(path: Path, new: Path, tag: str) -> tuple[Path, ...]:
    """Move the library (and its -wal/-shm) aside under ``tag``, then ``new`` into its place."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = []
    # The main file first: a process opening the library in between finds no file (and, with
    # backups there, refuses to start an empty one) rather than a -wal without its database.
    for suffix in ("", "-wal", "-shm"):
        current = Path(f"{path}{suffix}")
        if current.exists():
            target = path.with_name(f"{path.name}.{tag}-{stamp}{suffix}")
            os.replace(current, target)
            aside.append(target)
    os.replace(new, path)
    return tuple(aside)


# ------------------------------------------------------------------------------------ salvage


def _case_ids(con: sqlite3.Connection) -> set[int]:
    """Every case id that can still be found: a scan of the table and of its index (each runs
    until it hits damage), then a probe of each id up to the largest seen anywhere."""
    ids: set[int] = set()
    known: set[int] = set()  # ids the other tables refer to: probed like the rest
    for table in _PARTS:
        with contextlib.suppress(sqlite3.Error):
            known.update(int(r[0]) for r in con.execute(f"SELECT DISTINCT case_id FROM {table}"))
    for sql in ("SELECT id FROM cases ORDER BY id", "SELECT id FROM cases INDEXED BY cases_sha"):
        with contextlib.suppress(sqlite3.Error):
            for (case_id,) in con.execute(sql):
                ids.add(int(case_id))
    top = max(ids | known, default=0)
    with contextlib.suppress(sqlite3.Error, TypeError):
        top = max(top, int(con.execute("SELECT max(id) FROM cases").fetchone()[0]))
    for case_id in range(1, top + 1):
        if case_id not in ids:
            with contextlib.suppress(sqlite3.Error):
                if con.execute("SELECT 1 FROM cases WHERE id=?", (case_id,)).fetchone():
                    ids.add(case_id)
    return ids | known


def _salvage_from(path: Path, new: sqlite3.Connection) -> tuple[set[int], set[int]]:
    """Copy every readable case of the damaged file into ``new``: (ids copied, ids seen)."""
    try:
        old = sqlite3.connect(path, timeout=30)
    except sqlite3.Error:
        return set(), set()
    copied: set[int] = set()
    try:
        known = _case_ids(old)
        for case_id in sorted(known):
            try:
                row = old.execute(
                    f"SELECT {_CASE_COLUMNS} FROM cases WHERE id=?", (case_id,)
                ).fetchone()
            except sqlite3.Error:
                continue
            if row is None:
                continue
            _insert_case(new, row, _parts(old, case_id))
            copied.add(case_id)
    finally:
        old.close()
    return copied, known


def _parts(con: sqlite3.Connection, case_id: int) -> dict[str, list[tuple[object, ...]]] | None:
    """A case's fields, sections and metrics, or None when any of them cannot be read."""
    try:
        return {
            t: con.execute(f"SELECT * FROM {t} WHERE case_id=? ORDER BY pos", (case_id,)).fetchall()
            for t in _PARTS
        }
    except sqlite3.Error:
        return None


def _insert_case(
    new: sqlite3.Connection,
    row: tuple[object, ...],
    parts: dict[str, list[tuple[object, ...]]] | None,
) -> None:
    marks = ",".join("?" * len(row))
    new.execute(f"INSERT INTO cases ({_CASE_COLUMNS}) VALUES ({marks})", row)
    if parts is not None:
        for table, rows in parts.items():
            if rows:
                width = ",".join("?" * len(rows[0]))
                new.executemany(f"INSERT INTO {table} VALUES ({width})", rows)
        return
    # Its sections or metrics are unreadable: its text is not, so they are parsed again.
    from analyzer.library.parse import parse_text
    from analyzer.library.tables import insert_parts

    case_id, text, award = row[0], str(row[13]), row[5]
    doc = parse_text(text, award=str(award) if award else None)
    insert_parts(new, int(str(case_id)), doc)


def _add_from_backup(backup: Path, new: sqlite3.Connection, have: set[int]) -> set[int]:
    """Cases of the backup the salvaged library lacks (by id, and no case of the same file)."""
    sources = {r[0] for r in new.execute("SELECT source FROM cases")}
    old = sqlite3.connect(backup)
    added: set[int] = set()
    try:
        for row in old.execute(f"SELECT {_CASE_COLUMNS} FROM cases ORDER BY id").fetchall():
            if row[0] in have or row[1] in sources:
                continue
            _insert_case(new, row, _parts(old, int(row[0])))
            added.add(int(row[0]))
    finally:
        old.close()
    return added
