"""The case library: parsed cases in SQLite, in the user's data folder.

Every case is written in one transaction, so a process killed in the middle of an import leaves
a library that opens and holds every case that finished; importing again resumes (unchanged files
are skipped by content hash, changed files replace their case in place, keeping its id).

Changes come in batches (an import, a removal) under the library's writer lock
(:mod:`analyzer.library.lock`): one writing process at a time, readers never wait. A batch
starts by checking the file (damage is found before a write, not reported as success) and ends,
when it changed something, with a checked backup (:mod:`analyzer.library.health`). Any SQLite
error that means damage becomes :class:`~analyzer.errors.LibraryDamaged`, whose message says how
to repair (``award-writer doctor``).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from analyzer.errors import AwardWriterError, CaseNotFoundError, LibraryError
from analyzer.library import health
from analyzer.library.lock import WriterLock, log_notice
from analyzer.library.parsed import ParsedDocument
from analyzer.library.reading import LibraryReader
from analyzer.library.records import CaseRecord, CaseSummary, FileResult, IngestReport
from analyzer.library.tables import (
    DDL,
    PARSER_VERSION,
    SCHEMA_VERSION,
    insert_parts,
    summary_fields,
)
from analyzer.paths import data_home, library_db
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress

__all__ = [
    "PARSER_VERSION",
    "SCHEMA_VERSION",
    "CaseRecord",
    "CaseSummary",
    "FileResult",
    "IngestReport",
    "Library",
]

_HTML_START = re.compile(r"\s*(?:<!doctype\s+html|<html\b|<head\b|<body\b)", re.IGNORECASE)


class Library(LibraryReader):
    """A SQLite library in ``home``. Safe to share between threads (one lock per library).

    ``notify`` gets the lines a user should see while the library works for them (waiting for
    another process's import, a backup that could not be made); by default they are logged.
    """

    def __init__(
        self, home: str | os.PathLike[str], *, notify: Callable[[str], None] | None = None
    ) -> None:
        self.home = Path(home)
        self.path = library_db(self.home)
        self.notify: Callable[[str], None] = notify or log_notice
        self._lock = threading.RLock()
        self._batch = threading.local()  # per thread: batch depth, whether it changed anything
        self._db = health.open_db(self.path, self._initialize)
        self._identity = _file_identity(self.path)
        self._writer = WriterLock.of(self.home / "library.lock")

    def _initialize(self, db: sqlite3.Connection) -> None:
        db.executescript(DDL)
        version = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if version is None:
            with db:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(version[0]) > SCHEMA_VERSION:
            raise LibraryError(
                f"{self.path}: 案例库由更新版本的 Award Writer 创建（格式 {version[0]}），请先升级本程序"
            )

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        *,
        notify: Callable[[str], None] | None = None,
    ) -> Library:
        return cls(data_home(home), notify=notify)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------ safety

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """The connection, for this thread alone; SQLite's damage errors become LibraryDamaged."""
        with self._lock:
            self._follow_replacement()
            try:
                yield
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    def _follow_replacement(self) -> None:
        """``doctor`` (another process, or this one) replaced the file since it was opened:
        reopen, so nothing is read from, or written into, the copy it set aside."""
        now = _file_identity(self.path)
        if now is None or now == self._identity:
            return
        self._db.close()
        self._db = health.open_db(self.path, self._initialize)
        self._identity = now

    def _error(self, exc: sqlite3.Error) -> LibraryError:
        if health.is_damage(exc):
            return health.damaged(self.path, str(exc))
        return LibraryError(f"{self.path}: 案例库读写失败（{exc}）")

    @contextmanager
    def batch(
        self,
        what: str = "写入案例库",
        *,
        cancel: CancelToken | None = None,
        notify: Callable[[str], None] | None = None,
        timeout: float | None = None,
    ) -> Iterator[None]:
        """Changes made inside are one batch: under the writer lock (another process's batch
        is waited for, ``timeout`` seconds at most, then LibraryBusyError names it), after a
        check of the file, and followed by one backup if anything changed. Batches nest; the
        outermost one of a thread checks and backs up."""
        state = self._batch
        depth = getattr(state, "depth", 0)
        hold = self._writer.hold(what, notify=notify or self.notify, cancel=cancel, timeout=timeout)
        with hold:
            if depth == 0:
                state.changed = False
                with self._guard():
                    problem = health.quick_check(self._db)
                if problem:
                    raise health.damaged(self.path, problem)
            state.depth = depth + 1
            try:
                yield
            except BaseException as exc:
                state.depth = depth
                # Cancelled or failed half-way: what was saved is backed up all the same
                # (never a damaged file, and a backup problem never hides the first error).
                if depth == 0 and state.changed and not isinstance(exc, health.LibraryDamaged):
                    with contextlib.suppress(LibraryError):
                        self._backup()
                raise
            state.depth = depth
            if depth == 0 and state.changed:
                self._backup()

    def _backup(self) -> None:
        # The batch's pages go from the WAL into the file itself first (without waiting for
        # anyone): damage there is found by every check, while garbage in a WAL only drops
        # the frames after it, silently.
        with self._guard():
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        try:
            health.make_backup(self.path)
        except OSError as exc:
            self.notify(
                f"案例库已保存，但备份失败（{exc.strerror or exc}）：{health.backups_dir(self.home)}"
            )
        except LibraryError as exc:
            if isinstance(exc, health.LibraryDamaged):
                raise
            self.notify(f"案例库已保存，但备份失败（{exc}）")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, begun IMMEDIATE: what it reads cannot change before it writes."""
        with self._guard():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.commit()
            except BaseException:
                self._db.rollback()
                raise
            self._batch.changed = True

    # ------------------------------------------------------------------ import

    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        award: str | None = None,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> IngestReport:
        """Import files and folders. Bad files are reported in the result and skipped."""
        from analyzer.library.readers import iter_document_paths

        report = IngestReport()
        files: list[Path] = []
        for p in paths:
            path = Path(p)
            if not path.exists():
                report.results.append(FileResult(str(path), "failed", message="文件或文件夹不存在"))
                continue
            files.extend(iter_document_paths([path]))
        total = len(files)

        def waiting(message: str) -> None:
            self.notify(message)
            on_progress(Progress(0, total, message))

        on_progress(Progress(0, total, "准备导入"))
        with self.batch("导入", cancel=cancel, notify=waiting):
            for done, path in enumerate(files, 1):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                report.results.append(self._ingest_one(path, award))
                on_progress(Progress(done, total, str(path)))
        return report

    def _ingest_one(self, path: Path, award: str | None) -> FileResult:
        from analyzer.library.limits import check_length
        from analyzer.library.readers import read_document

        source = str(path.resolve())
        try:
            raw = read_document(path)
            check_length(path, raw.text)
        except AwardWriterError as exc:
            return FileResult(source, "failed", message=getattr(exc, "reason", str(exc)))
        return self._ingest_read(source, raw.text, raw.sha256, raw.size, raw.encoding, award)

    def ingest_text(self, text: str, *, source: str = "", award: str | None = None) -> FileResult:
        """Import pasted text, as users collect cases from the web. ``source`` says where it came
        from; by default the URL its first line gives (``https://…``, ``SOURCE: <url>``,
        ``来源：<url>``), else ``粘贴:<hash of the text>``. The same text pasted again is
        "unchanged" (or a "duplicate" of the case that has it); a new text from the same URL
        replaces that case, keeping its id. A whole page's HTML pasted is read as its article."""
        import hashlib

        from analyzer.errors import EmptyDocumentError
        from analyzer.library.limits import check_length
        from analyzer.library.parse import source_url
        from analyzer.library.webpage import html_article

        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        url = source.strip() or source_url(text)
        name = url or f"粘贴:{digest[:12]}"
        if _HTML_START.match(text):
            text = html_article(text)
        try:
            if not text.strip():
                raise EmptyDocumentError(name, "粘贴的内容中没有文字")
            check_length(name, text)
        except AwardWriterError as exc:
            return FileResult(name, "failed", message=getattr(exc, "reason", str(exc)))
        with self.batch("导入粘贴的案例"):
            return self._ingest_read(name, text, digest, len(text.encode("utf-8")), "text", award)

    def _ingest_read(
        self, source: str, text: str, sha: str, size: int, encoding: str, award: str | None
    ) -> FileResult:
        from analyzer.library.parse import parse_text

        with self._guard():
            known = self._known(source, sha)
        if known is not None:  # unchanged or a duplicate: nothing to parse
            return known
        try:
            doc = parse_text(text, award=award, name=source)
        except AwardWriterError:
            raise
        except Exception as exc:  # a parser bug must not stop the batch
            return FileResult(source, "failed", message=f"无法解析（{exc!r}）")
        return self._store(source, sha, size, encoding, doc, dedupe=True)

    def _known(self, source: str, sha: str) -> FileResult | None:
        """The result for a file the library already has as it is (unchanged, or the same
        content under another name), else None. Asked again inside the write transaction."""
        row = self._db.execute(
            "SELECT id, sha256, parser_version FROM cases WHERE source=?", (source,)
        ).fetchone()
        if row and row[1] == sha and row[2] == PARSER_VERSION:
            return FileResult(source, "unchanged", row[0])
        if row is None:
            dup = self._db.execute(
                "SELECT id FROM cases WHERE sha256=? AND source<>?", (sha, source)
            ).fetchone()
            if dup:
                return FileResult(source, "duplicate", dup[0], f"与案例 {dup[0]} 内容相同")
        return None

    def add_parsed(self, source: str, doc: ParsedDocument, *, sha256: str = "") -> int:
        """Store an already parsed document (drafts, tests). Replaces a case with the same source.

        Takes the writer lock but makes no backup on its own: wrap many in :meth:`batch`."""
        import hashlib

        digest = sha256 or hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
        with self._writer.hold("写入案例", notify=self.notify):
            result = self._store(source, digest, len(doc.text.encode()), "utf-8", doc, dedupe=False)
        return int(result.case_id or 0)

    def _store(
        self, source: str, sha: str, size: int, encoding: str, doc: ParsedDocument, *, dedupe: bool
    ) -> FileResult:
        brand, industry, category, period, year = summary_fields(doc)
        values = (
            source,
            sha,
            size,
            encoding,
            doc.award,
            int(doc.is_entry),
            doc.title,
            brand,
            industry,
            category,
            period,
            year,
            doc.text,
            doc.preamble,
            PARSER_VERSION,
            time.time(),
        )
        with self._transaction() as db:  # one transaction per case
            # Asked again under the write lock: another process may have stored it meanwhile.
            if dedupe and (known := self._known(source, sha)) is not None:
                return known
            row = db.execute("SELECT id FROM cases WHERE source=?", (source,)).fetchone()
            if row is None:
                cur = db.execute(
                    "INSERT INTO cases (source, sha256, size, encoding, award, is_entry, title, brand,"
                    " industry, category, period, year, text, preamble, parser_version, imported_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    values,
                )
                case_id = int(cur.lastrowid or 0)
            else:
                case_id = int(row[0])
                db.execute(
                    "UPDATE cases SET source=?, sha256=?, size=?, encoding=?, award=?, is_entry=?,"
                    " title=?, brand=?, industry=?, category=?, period=?, year=?, text=?, preamble=?,"
                    " parser_version=?, imported_at=? WHERE id=?",
                    (*values, case_id),
                )
                for table in ("fields", "sections", "metrics"):
                    db.execute(f"DELETE FROM {table} WHERE case_id=?", (case_id,))
            insert_parts(db, case_id, doc)
        return FileResult(source, "updated" if row else "imported", case_id)

    # ------------------------------------------------------------------ change

    def remove(self, case_id: int) -> None:
        with self.batch("删除案例"), self._transaction() as db:
            cur = db.execute("DELETE FROM cases WHERE id=?", (case_id,))
            if cur.rowcount == 0:
                raise CaseNotFoundError(f"案例库 {self.path} 中没有编号为 {case_id} 的案例")


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
