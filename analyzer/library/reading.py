"""Reading the case library: lists, whole cases, the lengths its entries run to.

:class:`LibraryReader` is the reading half of :class:`analyzer.library.store.Library` (which
opens the file, guards the connection and writes); readers never wait for a writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from analyzer.errors import CaseNotFoundError
from analyzer.library.parsed import Metric, Section
from analyzer.library.records import CaseRecord, CaseSummary


class LibraryReader:
    """Queries over the library's tables (``_db`` under ``_guard()``, given by ``Library``)."""

    path: Path
    _db: sqlite3.Connection

    def _guard(self) -> AbstractContextManager[None]:
        raise NotImplementedError

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
                where.append(f"c.{column} LIKE ? ESCAPE '\\'")
                args.append(_like(value))
        if text:
            where.append(
                "(c.title LIKE ? ESCAPE '\\' OR c.brand LIKE ? ESCAPE '\\'"
                " OR c.source LIKE ? ESCAPE '\\')"
            )
            args += [_like(text)] * 3
        sql = (
            "SELECT c.id, c.title, c.source, c.award, c.is_entry, c.brand, c.industry, c.category,"
            " c.year, (SELECT COUNT(*) FROM sections s WHERE s.case_id=c.id),"
            " (SELECT COUNT(*) FROM metrics m WHERE m.case_id=c.id) FROM cases c"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY c.id"
        )
        with self._guard():
            rows = self._db.execute(sql, args).fetchall()
        return [
            CaseSummary(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6], r[7], r[8], r[9], r[10])
            for r in rows
        ]

    def get_case(self, case_id: int) -> CaseRecord:
        with self._guard():
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
        with self._guard():
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
        with self._guard():
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
        with self._guard():
            return dict(self._db.execute("SELECT id, sha256 FROM cases").fetchall())

    def __len__(self) -> int:
        with self._guard():
            return int(self._db.execute("SELECT COUNT(*) FROM cases").fetchone()[0])


def _like(value: str) -> str:
    """``value`` as a LIKE pattern that matches it anywhere, its own % and _ taken literally."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
