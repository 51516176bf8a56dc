"""What the library hands out: case summaries and records, and the report of an import."""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.library.parsed import Metric, ParsedDocument, Section


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
