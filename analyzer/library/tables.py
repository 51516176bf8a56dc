"""The library's tables, and how a parsed document becomes their rows."""

from __future__ import annotations

import sqlite3

from analyzer.library.parsed import ParsedDocument

SCHEMA_VERSION = 1
PARSER_VERSION = 3  # bump when parsing changes: unchanged files are parsed again on import

DDL = """
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


def summary_fields(doc: ParsedDocument) -> tuple[str, str, str, str, int | None]:
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


def insert_parts(db: sqlite3.Connection, case_id: int, doc: ParsedDocument) -> None:
    key_of = {title: key for key, title in doc.field_keys.items()}
    db.executemany(
        "INSERT INTO fields VALUES (?,?,?,?,?)",
        [(case_id, i, key_of.get(t, ""), t, v) for i, (t, v) in enumerate(doc.fields.items())],
    )
    db.executemany(
        "INSERT INTO sections VALUES (?,?,?,?,?,?,?,?)",
        [
            (case_id, i, s.key, s.kind, s.title, s.text, s.start, s.end)
            for i, s in enumerate(doc.sections)
        ],
    )
    db.executemany(
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
