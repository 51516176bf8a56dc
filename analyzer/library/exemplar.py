"""An exemplar: a passage of a library case, shown to the drafter as an example.

One value for every place a passage travels: the search finds them (``find_exemplars``), the
user copies one from 相似案例 into a draft (kept in the ``.awdraft`` file), and the drafter
judges, shows and guards against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Exemplar:
    text: str
    case_id: int | None = None
    title: str = ""  # the case's title
    section: str = ""  # the section's key in its case
    section_title: str = ""
    kind: str = ""  # the section's shared kind (background, results …); "" fits any section
    industry: str = ""  # the case's industry, when known
    names: tuple[str, ...] = ()  # names that identify the case (brand, advertiser …)

    @property
    def label(self) -> str:
        """How the draft's notes name the passage: "case title · section title"."""
        return f"{self.title} · {self.section_title}"

    @classmethod
    def from_hit(cls, hit: Any, text: str | None = None) -> Exemplar:
        """From a search hit (``analyzer.search.query.SearchHit``), optionally a passage of it."""
        kind = ""
        if hit.award:
            from analyzer.errors import AwardWriterError
            from analyzer.schema import get_award

            try:
                kind = get_award(hit.award).section(hit.section).kind
            except (AwardWriterError, KeyError):
                kind = ""
        return cls(
            text=(text if text is not None else hit.snippet).strip().strip("…"),
            case_id=hit.case_id,
            title=hit.title,
            section=hit.section,
            section_title=hit.section_title,
            kind=kind,
        )

    def to_json(self) -> dict[str, Any]:
        """As a draft file keeps it."""
        return {
            "text": self.text,
            "case_id": self.case_id,
            "case_title": self.title,
            "section": self.section,
            "section_title": self.section_title,
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exemplar:
        return cls(
            text=str(data["text"]),
            case_id=data.get("case_id"),
            title=str(data.get("case_title", "")),
            section=str(data.get("section", "")),
            section_title=str(data.get("section_title", "")),
            kind=str(data.get("kind", "")),
        )
