"""What a completeness check returns: findings, per-section status, the evidence table, a score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

Severity = Literal["error", "warning", "suggestion"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "suggestion")


@dataclass(frozen=True)
class Finding:
    """One thing a judge would miss. ``span`` is (start, end) in the parsed document's text."""

    rule: str  # English rule id, e.g. "results.no_metrics"
    severity: Severity
    section: str  # section key; "" for the document as a whole (header fields, total length)
    message: str  # Chinese, says what to add
    span: tuple[int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "section": self.section,
            "message": self.message,
            "span": list(self.span) if self.span else None,
        }


@dataclass(frozen=True)
class Eligibility:
    """The award's eligibility window for the campaign period (either end may be open)."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValueError(
                f"eligibility window ends ({self.end}) before it starts ({self.start})"
            )

    @property
    def label(self) -> str:
        return f"{self.start or '…'} 至 {self.end or '…'}"


@dataclass(frozen=True)
class SectionStatus:
    key: str
    title: str  # the award's title for the section
    required: bool
    present: bool
    chars: int  # characters of body text, spaces not counted
    metrics: int
    status: str  # ok | warning | error | missing | elsewhere | empty
    weight: float  # share of the readiness score (0 when the section does not count)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "required": self.required,
            "present": self.present,
            "chars": self.chars,
            "metrics": self.metrics,
            "status": self.status,
            "weight": round(self.weight, 1),
        }


@dataclass(frozen=True)
class EvidenceRow:
    """criterion → metric(s) → source; an empty ``metrics`` or ``sources`` is a gap to fill."""

    criterion: str
    section: str
    metrics: tuple[str, ...]
    sources: tuple[str, ...]
    span: tuple[int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "section": self.section,
            "metrics": list(self.metrics),
            "sources": list(self.sources),
            "span": list(self.span) if self.span else None,
        }


@dataclass(frozen=True)
class ScoreCap:
    """Why the score stops where it does: errors to fix first (a draft with any error scores at
    most :data:`~analyzer.check.engine.ERROR_SCORE`; one the award disqualifies for, at most
    :data:`~analyzer.check.engine.BLOCKED_SCORE`)."""

    limit: int  # the most the entry can score as it stands
    raw: int  # what its sections earn, errors and all
    reason: str  # Chinese: "有 3 个错误必须先解决：…"

    @property
    def applied(self) -> bool:
        """Whether the limit took points off (``raw`` was above it)."""
        return self.raw > self.limit

    def to_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "raw": self.raw,
            "applied": self.applied,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Report:
    award: str | None  # the schema the entry was checked against
    award_name: str
    title: str
    is_entry: bool
    score: int  # readiness 0–100 by the award's section weights
    sections: tuple[SectionStatus, ...]
    findings: tuple[Finding, ...]
    evidence: tuple[EvidenceRow, ...]
    text: str = ""  # the parsed text every span points into
    cap: ScoreCap | None = None  # set when errors keep the score down (say why)
    brief: bool = False  # the draft was checked against the brief it was written from

    @property
    def ok(self) -> bool:
        """No error-level finding: nothing a judge would reject the entry for outright."""
        return not any(f.severity == "error" for f in self.findings)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def excerpt(self, finding: Finding, limit: int = 60) -> str:
        if not finding.span:
            return ""
        start, end = finding.span
        piece = self.text[start:end].replace("\n", " ")
        return piece if len(piece) <= limit else piece[: limit - 1] + "…"

    def section_title(self, key: str) -> str:
        if not key:
            return "全文"
        return next((s.title for s in self.sections if s.key == key), key)

    def to_json(self) -> dict[str, Any]:
        return {
            "award": self.award,
            "award_name": self.award_name,
            "title": self.title,
            "is_entry": self.is_entry,
            "score": self.score,
            "score_cap": self.cap.to_json() if self.cap else None,
            "brief_checked": self.brief,
            "sections": {s.key: s.to_json() for s in self.sections},
            "findings": [f.to_json() for f in self.findings],
            "evidence": [r.to_json() for r in self.evidence],
        }
