"""The case library: parsed cases in SQLite, in the user's data folder.

Every case is written in one transaction, so a process killed in the middle of an import leaves
a library that opens and holds every case that finished; importing again resumes (unchanged files
are skipped by content hash, changed files replace their case in place, keeping its id).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.errors import AwardWriterError, CaseNotFoundError, LibraryError
from analyzer.library.parsed import Metric, ParsedDocument, Section
from analyzer.paths import data_home, library_db
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress

SCHEMA_VERSION = 1
_HTML_START = re.compile(r"\s*(?:<!doctype\s+html|<html\b|<head\b|<body\b)", re.IGNORECASE)
PARSER_VERSION = 3  # bump when parsing changes: unchanged files are parsed again on import

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    encoding TEXT NOT NULL DEFAULT '',
    award TEXT,
    is_entry INTEGER NOT NULL,
    title TEXT NOT NULL,
    brand TEXT NOT NULL DEFAULT '',
    industry TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    period TEXT NOT NULL DEFAULT '',
    year INTEGER,
    text TEXT NOT NULL,
    preamble TEXT NOT NULL DEFAULT '',
    parser_version INTEGER NOT NULL,
    imported_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_sha ON cases(sha256);
CREATE TABLE IF NOT EXISTS fields (
    case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    pos INTEGER NOT NULL, key TEXT NOT NULL, title TEXT NOT NULL, value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sections (
    case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    pos INTEGER NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL,
    text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS metrics (
    case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    pos INTEGER NOT NULL, section TEXT NOT NULL, text TEXT NOT NULL, value REAL NOT NULL,
    unit TEXT NOT NULL, measure TEXT NOT NULL, bound TEXT NOT NULL, upper REAL,
    label TEXT NOT NULL, change TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS fields_case ON fields(case_id);
CREATE INDEX IF NOT EXISTS sections_case ON sections(case_id);
CREATE INDEX IF NOT EXISTS metrics_case ON metrics(case_id);
"""


@dataclass(frozen=True)
class CaseSummary:
    id: int
    title: str
    source: str
    award: str | None
    is_entry: bool
    brand: str
    industry: str
    category: str
    year: int | None
    n_sections: int
    n_metrics: int


@dataclass(frozen=True)
class CaseRecord:
    id: int
    title: str
    source: str
    sha256: str
    award: str | None
    is_entry: bool
    fields: dict[str, str]
    sections: tuple[Section, ...]
    metrics: tuple[Metric, ...]
    text: str
    year: int | None
    industry: str
    category: str
    brand: str
    period: str = ""
    preamble: str = ""
    field_keys: dict[str, str] = field(default_factory=dict)

    def as_parsed(self) -> ParsedDocument:
        return ParsedDocument(
            award=self.award,
            is_entry=self.is_entry,
            title=self.title,
            fields=self.fields,
            sections=self.sections,
            metrics=self.metrics,
            text=self.text,
            preamble=self.preamble,
            field_keys=self.field_keys,
        )


@dataclass(frozen=True)
class FileResult:
    path: str
    status: str  # imported | updated | unchanged | duplicate | failed
    case_id: int | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]


def _summary_fields(doc: ParsedDocument) -> tuple[str, str, str, str, int | None]:
    from analyzer.library.sections import parse_period

    def first(*keys: str) -> str:
        return next((v for k in keys if (v := doc.field_value(k))), "")

    period = first("period")
    parsed = parse_period(period) if period else None
    year = parsed.year if parsed else None
    return (
        first("brand", "advertiser", "company"),
        first("industry"),
        first("category"),
        period,
        year,
    )


class Library:
    """A SQLite library in ``home``. Safe to share between threads (one lock per library)."""

    def __init__(self, home: str | os.PathLike[str]) -> None:
        self.home = Path(home)
        self.path = library_db(self.home)
        self._lock = threading.RLock()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_DDL)
            version = self._db.execute(
                "SELECT value FROM meta WHERE key='schema_version'"
            ).fetchone()
            if version is None:
                with self._db:
                    self._db.execute(
                        "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                    )
            elif int(version[0]) > SCHEMA_VERSION:
                raise LibraryError(
                    f"{self.path}: 案例库由更新版本的 Award Writer 创建（格式 {version[0]}），请先升级本程序"
                )
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"{self.path}: 无法打开案例库（{exc}）") from exc
        except OSError as exc:
            raise LibraryError(f"{self.home}: 无法创建案例库文件夹（{exc}）") from exc

    @classmethod
    def open(cls, home: str | os.PathLike[str] | None = None) -> Library:
        return cls(data_home(home))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

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
        on_progress(Progress(0, total, "准备导入"))
        for done, path in enumerate(files, 1):
            if cancel is not None:
                cancel.raise_if_cancelled()
            report.results.append(self._ingest_one(path, award))
            on_progress(Progress(done, total, str(path)))
        return report

    def _ingest_one(self, path: Path, award: str | None) -> FileResult:
        from analyzer.library.parse import check_length
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
        from analyzer.library.parse import check_length, source_url
        from analyzer.library.readers import html_article

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
        return self._ingest_read(name, text, digest, len(text.encode("utf-8")), "text", award)

    def _ingest_read(
        self, source: str, text: str, sha: str, size: int, encoding: str, award: str | None
    ) -> FileResult:
        from analyzer.library.parse import parse_text

        with self._lock:
            row = self._db.execute(
                "SELECT id, sha256, parser_version FROM cases WHERE source=?", (source,)
            ).fetchone()
            if row and row[1] == sha and row[2] == PARSER_VERSION:
                return FileResult(source, "unchanged", row[0])
            if row is None:
                dup = self._db.execute(
                    "SELECT id, source FROM cases WHERE sha256=?", (sha,)
                ).fetchone()
                if dup:
                    return FileResult(source, "duplicate", dup[0], f"与案例 {dup[0]} 内容相同")
        try:
            doc = parse_text(text, award=award, name=source)
        except AwardWriterError:
            raise
        except Exception as exc:  # a parser bug must not stop the batch
            return FileResult(source, "failed", message=f"无法解析（{exc!r}）")
        case_id = self._store(source, sha, size, encoding, doc, row[0] if row else None)
        return FileResult(source, "updated" if row else "imported", case_id)

    def add_parsed(self, source: str, doc: ParsedDocument, *, sha256: str = "") -> int:
        """Store an already parsed document (drafts, tests). Replaces a case with the same source."""
        import hashlib

        with self._lock:
            row = self._db.execute("SELECT id FROM cases WHERE source=?", (source,)).fetchone()
        digest = sha256 or hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
        return self._store(
            source, digest, len(doc.text.encode()), "utf-8", doc, row[0] if row else None
        )

    def _store(
        self,
        source: str,
        sha: str,
        size: int,
        encoding: str,
        doc: ParsedDocument,
        case_id: int | None,
    ) -> int:
        brand, industry, category, period, year = _summary_fields(doc)
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
        with self._lock, self._db:  # one transaction per case
            if case_id is None:
                cur = self._db.execute(
                    "INSERT INTO cases (source, sha256, size, encoding, award, is_entry, title, brand,"
                    " industry, category, period, year, text, preamble, parser_version, imported_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    values,
                )
                case_id = int(cur.lastrowid or 0)
            else:
                self._db.execute(
                    "UPDATE cases SET source=?, sha256=?, size=?, encoding=?, award=?, is_entry=?,"
                    " title=?, brand=?, industry=?, category=?, period=?, year=?, text=?, preamble=?,"
                    " parser_version=?, imported_at=? WHERE id=?",
                    (*values, case_id),
                )
                for table in ("fields", "sections", "metrics"):
                    self._db.execute(f"DELETE FROM {table} WHERE case_id=?", (case_id,))
            key_of = {title: key for key, title in doc.field_keys.items()}
            self._db.executemany(
                "INSERT INTO fields VALUES (?,?,?,?,?)",
                [
                    (case_id, i, key_of.get(t, ""), t, v)
                    for i, (t, v) in enumerate(doc.fields.items())
                ],
            )
            self._db.executemany(
                "INSERT INTO sections VALUES (?,?,?,?,?,?,?,?)",
                [
                    (case_id, i, s.key, s.kind, s.title, s.text, s.start, s.end)
                    for i, s in enumerate(doc.sections)
                ],
            )
            self._db.executemany(
                "INSERT INTO metrics VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        case_id,
                        i,
                        m.section,
                        m.text,
                        m.value,
                        m.unit,
                        m.measure,
                        m.bound,
                        m.upper,
                        m.label,
                        m.change,
                        m.start,
                        m.end,
                    )
                    for i, m in enumerate(doc.metrics)
                ],
            )
        return case_id

    # ------------------------------------------------------------------ read

    def list_cases(
        self,
        *,
        award: str | None = None,
        industry: str | None = None,
        category: str | None = None,
        year: int | None = None,
        text: str | None = None,
    ) -> list[CaseSummary]:
        where, args = [], []
        for column, value in (("award", award), ("year", year)):
            if value is not None:
                where.append(f"c.{column}=?")
                args.append(value)
        for column, value in (("industry", industry), ("category", category)):
            if value:
                where.append(f"c.{column} LIKE ?")
                args.append(f"%{value}%")
        if text:
            where.append("(c.title LIKE ? OR c.brand LIKE ? OR c.source LIKE ?)")
            args += [f"%{text}%"] * 3
        sql = (
            "SELECT c.id, c.title, c.source, c.award, c.is_entry, c.brand, c.industry, c.category,"
            " c.year, (SELECT COUNT(*) FROM sections s WHERE s.case_id=c.id),"
            " (SELECT COUNT(*) FROM metrics m WHERE m.case_id=c.id) FROM cases c"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY c.id"
        )
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [
            CaseSummary(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6], r[7], r[8], r[9], r[10])
            for r in rows
        ]

    def get_case(self, case_id: int) -> CaseRecord:
        with self._lock:
            row = self._db.execute(
                "SELECT id, title, source, sha256, award, is_entry, text, year, industry, category,"
                " brand, period, preamble FROM cases WHERE id=?",
                (case_id,),
            ).fetchone()
            if row is None:
                raise CaseNotFoundError(f"案例库 {self.path} 中没有编号为 {case_id} 的案例")
            fields = self._db.execute(
                "SELECT key, title, value FROM fields WHERE case_id=? ORDER BY pos", (case_id,)
            ).fetchall()
            sections = self._db.execute(
                'SELECT key, kind, title, text, start, "end" FROM sections WHERE case_id=? ORDER BY pos',
                (case_id,),
            ).fetchall()
            metrics = self._db.execute(
                'SELECT text, value, unit, measure, start, "end", bound, upper, label, change, section'
                " FROM metrics WHERE case_id=? ORDER BY pos",
                (case_id,),
            ).fetchall()
        return CaseRecord(
            id=row[0],
            title=row[1],
            source=row[2],
            sha256=row[3],
            award=row[4],
            is_entry=bool(row[5]),
            text=row[6],
            year=row[7],
            industry=row[8],
            category=row[9],
            brand=row[10],
            period=row[11],
            preamble=row[12],
            fields={t: v for _, t, v in fields},
            field_keys={k: t for k, t, _ in fields if k},
            sections=tuple(Section(*s) for s in sections),
            metrics=tuple(Metric(*m) for m in metrics),
        )

    def iter_cases(self) -> Iterator[CaseRecord]:
        with self._lock:
            ids = [r[0] for r in self._db.execute("SELECT id FROM cases ORDER BY id")]
        for case_id in ids:
            try:
                yield self.get_case(case_id)
            except CaseNotFoundError:
                continue  # removed meanwhile

    def section_lengths(self, award: str, *, min_cases: int = 3) -> dict[str, int]:
        """Section key → the median length in characters of that section in the library's
        entries of ``award`` (what the award's entries run to), for the sections that at least
        ``min_cases`` entries have."""
        with self._lock:
            rows = self._db.execute(
                "SELECT s.key, length(s.text) FROM sections s JOIN cases c ON c.id = s.case_id"
                " WHERE c.award = ? AND c.is_entry = 1",
                (award,),
            ).fetchall()
        found: dict[str, list[int]] = {}
        for key, n in rows:
            found.setdefault(str(key), []).append(int(n))
        return {k: sorted(ns)[len(ns) // 2] for k, ns in found.items() if len(ns) >= min_cases}

    def case_hashes(self) -> dict[int, str]:
        with self._lock:
            return dict(self._db.execute("SELECT id, sha256 FROM cases").fetchall())

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM cases").fetchone()[0])

    # ------------------------------------------------------------------ change

    def remove(self, case_id: int) -> None:
        with self._lock, self._db:
            cur = self._db.execute("DELETE FROM cases WHERE id=?", (case_id,))
        if cur.rowcount == 0:
            raise CaseNotFoundError(f"案例库 {self.path} 中没有编号为 {case_id} 的案例")
