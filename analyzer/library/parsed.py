"""Frozen value classes passed between the layers (parser → library → search/check/draft/GUI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Metric:
    """One quantified claim, e.g. ``3000 万+`` 曝光量 → value 30,000,000, bound "lower".

    ``value`` is the normalized number; percentages keep their percent number (48% → 48.0, unit
    "%"). ``start``/``end`` are offsets into the parsed document's cleaned text.
    """

    text: str
    value: float
    unit: str
    measure: str
    start: int
    end: int
    bound: str = "exact"  # exact | lower | upper | approx | range
    upper: float | None = None  # the top of a range (91%~100%)
    label: str = ""  # the words naming what was measured, as written (曝光量, CTR, 转评赞)
    change: str = ""  # increase | decrease | "" when the figure is a level, not a change
    section: str = ""  # key of the section it sits in ("" for the preamble)

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "value": self.value,
            "unit": self.unit,
            "measure": self.measure,
            "section": self.section,
            "bound": self.bound,
            "upper": self.upper,
            "label": self.label,
            "change": self.change,
            "span": [self.start, self.end],
        }


@dataclass(frozen=True)
class Section:
    key: str
    kind: str
    title: str  # the heading as written
    text: str
    start: int  # offset of the body in the document text
    end: int

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "title": self.title, "text": self.text}


@dataclass(frozen=True)
class Heading:
    """A section heading as the document writes it: its words (numbering left out), the kind
    they name, where they are, and the section they open or sit in (``opens`` False: a
    sub-heading inside the section above, e.g. a second heading of the same kind)."""

    title: str
    kind: str
    start: int
    end: int
    section: str = ""  # key of the section it opens or sits in ("" in the preamble)
    opens: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "kind": self.kind,
            "section": self.section,
            "opens": self.opens,
        }


@dataclass(frozen=True)
class ParsedDocument:
    award: str | None  # None for a reference document (not an entry)
    is_entry: bool
    title: str
    fields: dict[str, str]  # field title (广告主, 执行时间 …) → value as written
    sections: tuple[Section, ...]
    metrics: tuple[Metric, ...]
    text: str  # the cleaned full text every offset refers to
    preamble: str = ""  # text before the first section that is not a header field
    field_keys: dict[str, str] = field(default_factory=dict)  # field key → title
    # every heading found, sub-headings too (not kept in the library: a parse-time outline)
    headings: tuple[Heading, ...] = ()
    # the review notes an exported draft ends with, set aside (not the entry's text; not kept)
    review_notes: str = ""

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def field_value(self, key: str) -> str | None:
        title = self.field_keys.get(key)
        return self.fields.get(title) if title else None

    def to_json(self) -> dict[str, Any]:
        return {
            "award": self.award,
            "is_entry": self.is_entry,
            "title": self.title,
            "fields": dict(self.fields),
            "sections": [s.to_json() for s in self.sections],
            "headings": [h.to_json() for h in self.headings],
            "metrics": [m.to_json() for m in self.metrics],
        }


def metric_from_json(d: dict[str, Any]) -> Metric:
    span = d.get("span") or [0, 0]
    return Metric(
        text=d["text"],
        value=float(d["value"]),
        unit=d.get("unit", ""),
        measure=d.get("measure", ""),
        start=int(span[0]),
        end=int(span[1]),
        bound=d.get("bound", "exact"),
        upper=d.get("upper"),
        label=d.get("label", ""),
        change=d.get("change", ""),
        section=d.get("section", ""),
    )


__all__ = ["Heading", "Metric", "ParsedDocument", "Section", "asdict", "metric_from_json"]
