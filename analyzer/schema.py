"""Award schemas: read once from ``templates/awards/*.toml``, the single source of truth.

The parser, the checker, the drafter and the GUI all ask this module which sections and fields an
award has; nothing else hard-codes an award's structure.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from analyzer.errors import SchemaError, UnknownAwardError
from analyzer.kinds import kinds, load_kinds
from analyzer.paths import templates_dir


@dataclass(frozen=True)
class FieldSpec:
    key: str
    title: str
    aliases: tuple[str, ...]
    required: bool = False
    type: str = "text"  # "text" | "period"


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    kind: str
    aliases: tuple[str, ...]
    required: bool = False
    needs_metrics: bool = False
    max_chars: int | None = None
    min_chars: int = 40
    weight: float | None = None
    covers: tuple[str, ...] = ()

    @cached_property  # asked of every section by most rules of every check
    def kinds(self) -> tuple[str, ...]:
        """Every shared kind this section speaks to (its own first)."""
        return (self.kind, *[k for k in self.covers if k != self.kind])


@dataclass(frozen=True)
class AwardSchema:
    key: str
    name: str
    name_en: str
    names: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    sections: tuple[SectionSpec, ...]
    forbid_agency_names: bool = False
    sources_required: bool = False  # every figure, in any section, cites its source (Effie)
    result_sources_required: bool = False  # every result figure does (TopDigital)
    max_total_chars: int | None = None
    # False for awards whose sections are the common ones (generic-like): a document is taken
    # for one of them only when it names the award near its top (or --award says so).
    guess_from_structure: bool = True
    source: Path = field(default=Path(), compare=False)

    def section(self, key: str) -> SectionSpec:
        for spec in self.sections:
            if spec.key == key:
                return spec
        raise KeyError(f"{self.key} has no section {key!r}")

    def field_spec(self, key: str) -> FieldSpec:
        for spec in self.fields:
            if spec.key == key:
                return spec
        raise KeyError(f"{self.key} has no field {key!r}")

    def sections_of_kind(self, kind: str) -> list[SectionSpec]:
        return [s for s in self.sections if kind in s.kinds]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.name_en})" if self.name_en != self.name else self.name


def _tuple(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SchemaError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def _load_file(path: Path, kinds: dict[str, str]) -> AwardSchema:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{path}: {exc}") from exc
    try:
        fields = tuple(
            FieldSpec(
                key=f["key"],
                title=f["title"],
                aliases=_tuple(f.get("aliases", [f["title"]]), f"{path} field {f['key']}"),
                required=bool(f.get("required", False)),
                type=f.get("type", "text"),
            )
            for f in data.get("fields", [])
        )
        sections = []
        for s in data["sections"]:
            where = f"{path} section {s['key']}"
            if s["kind"] not in kinds:
                raise SchemaError(f"{where}: unknown kind {s['kind']!r} (see kinds.toml)")
            covers = _tuple(s.get("covers", []), where)
            if bad := [k for k in covers if k not in kinds]:
                raise SchemaError(f"{where}: unknown kinds in covers: {bad}")
            sections.append(
                SectionSpec(
                    key=s["key"],
                    title=s["title"],
                    kind=s["kind"],
                    aliases=_tuple(s.get("aliases", [s["title"]]), where),
                    required=bool(s.get("required", False)),
                    needs_metrics=bool(s.get("needs_metrics", False)),
                    max_chars=s.get("max_chars"),
                    min_chars=int(
                        s.get("min_chars", load_kinds(path.parent.parent)[s["kind"]].min_chars)
                    ),
                    weight=s.get("weight"),
                    covers=covers,
                )
            )
        return AwardSchema(
            key=data["key"],
            name=data["name"],
            name_en=data.get("name_en", data["name"]),
            names=_tuple(data.get("names", []), f"{path} names"),
            fields=fields,
            sections=tuple(sections),
            forbid_agency_names=bool(data.get("forbid_agency_names", False)),
            sources_required=bool(data.get("sources_required", False)),
            result_sources_required=bool(data.get("result_sources_required", False)),
            max_total_chars=data.get("max_total_chars"),
            guess_from_structure=bool(data.get("guess_from_structure", True)),
            source=path,
        )
    except KeyError as exc:
        raise SchemaError(f"{path}: missing key {exc}") from exc


@cache
def load_awards(root: Path | None = None) -> dict[str, AwardSchema]:
    """Every award schema, keyed by award key; ``generic`` always last."""
    root = root or templates_dir()
    files = sorted((root / "awards").glob("*.toml"))
    if not files:
        raise SchemaError(f"no award schemas in {root / 'awards'}")
    found = [_load_file(p, kinds(root)) for p in files]
    found.sort(key=lambda a: a.key == "generic")
    return {a.key: a for a in found}


def get_award(key: str) -> AwardSchema:
    awards = load_awards()
    try:
        return awards[key]
    except KeyError:
        raise UnknownAwardError(f"没有这个奖项：{key!r}（可用：{', '.join(awards)}）") from None
