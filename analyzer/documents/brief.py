"""The brief: the facts a user gives the drafter, read from a TOML or JSON file (or built by the GUI).

Every number a draft may state comes from here (see :mod:`analyzer.drafting.guards.factguard`). A file with a key
this module does not know is an error that names the key, so a typo (``objective`` for
``objectives``) never silently drops facts::

    award = "golden_mouse"          # optional when --award is given
    title = "项目名称"
    advertiser = "…"   brand = "…"   industry = "…"   category = "…"   period = "2024.03-2024.06"
    agency = "…"                    # optional; never written into an Effie entry
    background = ["…", "…"]         # facts: a string or a list of strings
    insights = ["…"]                # research / consumer insight
    objectives = ["…"]
    strategy = ["…"]
    creative = ["…"]
    execution = ["…"]
    [[results]]                     # one row per figure
    measure = "话题阅读量"  value = "3.2亿"  source = "微博话题页，2024-06-30"
    [fields]                        # any other header field of the award, by key
    scope = "全国"
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.errors import BriefError, SchemaError
from analyzer.kinds import kind
from analyzer.paths import templates_dir

if TYPE_CHECKING:
    from analyzer.schema import AwardSchema, SectionSpec

BRIEF_FILE = "brief.toml"


@dataclass(frozen=True)
class FactField:
    """One group of facts of the brief (``templates/brief.toml`` [[facts]])."""

    key: str
    label: str  # in the app's form
    prompt_label: str  # how a prompt names the group
    hint: str = ""


@dataclass(frozen=True)
class BriefSpec:
    """The brief's fields as ``templates/brief.toml`` declares them."""

    text_fields: tuple[str, ...]
    facts: tuple[FactField, ...]
    results_label: str
    results_prompt_label: str
    result_columns: tuple[tuple[str, str], ...]  # (key, label in the form)

    @property
    def fact_fields(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.facts)

    @property
    def result_keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.result_columns)

    def prompt_labels(self) -> dict[str, str]:
        return {f.key: f.prompt_label for f in self.facts} | {"results": self.results_prompt_label}


@cache
def brief_spec(root: Path | None = None) -> BriefSpec:
    path = (root or templates_dir()) / BRIEF_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        results = data["results"]
        return BriefSpec(
            text_fields=tuple(str(k) for k in data["text_fields"]),
            facts=tuple(
                FactField(
                    f["key"], f["label"], f.get("prompt_label", f["label"]), f.get("hint", "")
                )
                for f in data["facts"]
            ),
            results_label=str(results["label"]),
            results_prompt_label=str(results.get("prompt_label", results["label"])),
            result_columns=tuple((str(k), str(label)) for k, label in results["columns"]),
        )
    except (OSError, KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise SchemaError(f"{path}: {exc}") from exc


_SPEC = brief_spec()
TEXT_FIELDS = _SPEC.text_fields
FACT_FIELDS = _SPEC.fact_fields
RESULT_KEYS = _SPEC.result_keys
LABELS = _SPEC.prompt_labels()


@dataclass(frozen=True)
class ResultRow:
    measure: str
    value: str
    source: str = ""

    def line(self) -> str:
        src = f"（来源：{self.source}）" if self.source else ""
        return f"{self.measure}：{self.value}{src}"


@dataclass(frozen=True)
class Brief:
    award: str = ""
    title: str = ""
    category: str = ""
    advertiser: str = ""
    brand: str = ""
    industry: str = ""
    period: str = ""
    agency: str = ""
    background: tuple[str, ...] = ()
    insights: tuple[str, ...] = ()
    objectives: tuple[str, ...] = ()
    strategy: tuple[str, ...] = ()
    creative: tuple[str, ...] = ()
    execution: tuple[str, ...] = ()
    results: tuple[ResultRow, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------------ reading

    def facts(self, name: str) -> tuple[str, ...]:
        """The fact lines of one brief field (``results`` as ``measure：value（来源：…）``)."""
        if name == "results":
            return tuple(r.line() for r in self.results)
        value = getattr(self, name)
        return tuple(value)

    def facts_for_kinds(self, kinds: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        """Brief field → its facts, for every field a section of these kinds is written from."""
        out: dict[str, tuple[str, ...]] = {}
        for kind_key in kinds:
            for name in kind(kind_key).brief_fields:
                if name not in out and (lines := self.facts(name)):
                    out[name] = lines
        return out

    def facts_for_section(self, schema: AwardSchema, key: str) -> dict[str, tuple[str, ...]]:
        """Brief field → its facts, for the award's section ``key``: each field is written up
        once, in the first section whose own kind draws on it (else the first that covers it),
        so a judge does not read the same point in two sections. Summary sections (overview,
        highlights) sum up what the others say and draw on every field of their kinds."""
        spec = schema.section(key)
        facts = self.facts_for_kinds(spec.kinds)
        if spec.kind in SUMMARY_KINDS:
            most = kind(spec.kind).brief_lines
            return {name: lines[:most] if most else lines for name, lines in facts.items()}
        return {name: lines for name, lines in facts.items() if _owner(schema, name) == key}

    def missing_for_kinds(self, kinds: tuple[str, ...]) -> tuple[str, ...]:
        """The brief fields that, filled in, would give a section of these kinds something to say."""
        names: list[str] = []
        for kind_key in kinds:
            names += [n for n in kind(kind_key).brief_fields if n not in names]
        return tuple(names)

    def header_value(self, key: str) -> str:
        """The value of an award's header field (advertiser, brand, case_name …), or ""."""
        if value := self.fields.get(key, ""):
            return value
        aliases = {
            "advertiser": ("advertiser", "brand"),
            "company": ("advertiser", "brand"),
            "brand": ("brand", "advertiser"),
            "case_name": ("title",),
            "title": ("title",),
        }
        for name in aliases.get(key, (key,)):
            if name in TEXT_FIELDS and (value := getattr(self, name)):
                return str(value)
        return ""

    def all_text(self) -> list[str]:
        """Every string in the brief (the fact guard's source of allowed numbers)."""
        out = [getattr(self, n) for n in TEXT_FIELDS]
        for name in FACT_FIELDS:
            out += list(getattr(self, name))
        for row in self.results:
            out += [row.measure, row.value, row.source]
        out += list(self.fields.values())
        return [s for s in out if s]

    @property
    def name(self) -> str:
        return self.title or self.brand or self.advertiser


# ---------------------------------------------------------------------------- loading


def load_brief(path: str | Path) -> Brief:
    """Read a brief from a ``.toml`` or ``.json`` file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BriefError(f"简报 {path} 无法读取：{exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise BriefError(f"简报 {path} 不是 UTF-8 文本（{exc}）") from exc
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise BriefError(f"简报 {path} 格式有误：{exc}") from exc
    except RecursionError as exc:  # [[[[…]]]] thousands deep: no brief looks like that
        raise BriefError(f"简报 {path} 格式有误：列表或表嵌套得太深") from exc
    try:
        return brief_from_dict(data)
    except BriefError as exc:
        raise BriefError(f"简报 {path}：{exc}") from exc


def brief_from_dict(data: Any) -> Brief:
    """Validate a mapping (a parsed file, the GUI form) into a Brief.

    Every problem is reported at once, at every level (top-level keys, result rows, ``[fields]``
    keys checked against the award's header fields when the brief names its award), so a user
    fixes the file in one go."""
    if not isinstance(data, Mapping):
        raise BriefError(f"简报必须是一张字段表，实际是{_kind(data)}")
    problems: list[str] = []
    known = {f.name for f in fields(Brief)}
    if unknown := [str(k) for k in data if k not in known]:
        problems.append(f"未知字段 {_names(unknown)}（可用字段：{', '.join(sorted(known))}）")
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name in data:
            _collect(problems, values, name, lambda n=name: _text(data[n], n))
    for name in FACT_FIELDS:
        if name in data:
            _collect(problems, values, name, lambda n=name: _lines(data[n], n))
    if "results" in data:
        values["results"] = _results(data["results"], problems)
    if "fields" in data:
        extra = data["fields"]
        if not isinstance(extra, Mapping):
            problems.append(f"字段 'fields' 必须是「键 = 文本」的表，实际是{_kind(extra)}")
        else:
            out = {}
            for k, v in extra.items():
                try:
                    out[str(k)] = _text(v, f"fields.{k}")
                except BriefError as exc:
                    problems.append(str(exc))
            values["fields"] = out
            award = data.get("award")
            if isinstance(award, str) and award.strip():
                problems += _field_problems(out, award.strip())
    if problems:
        raise BriefError("；".join(problems))
    return Brief(**values)


def check_header_fields(brief: Brief, schema: Any) -> None:
    """Raise a BriefError naming every ``[fields]`` key that is no header field of ``schema``
    (an ``analyzer.schema.AwardSchema``): ``advertizer`` would otherwise be silently dropped."""
    if problems := _field_problems(dict(brief.fields), schema):
        raise BriefError("；".join(problems))


def _field_problems(extra: Mapping[str, str], award: Any) -> list[str]:
    if not extra:
        return []
    if isinstance(award, str):
        from analyzer.errors import UnknownAwardError
        from analyzer.schema import get_award

        try:
            award = get_award(award)
        except UnknownAwardError:
            return []  # an unknown award is reported where the award is used
    keys = {f.key for f in award.fields}
    bad = [k for k in extra if k not in keys]
    if not bad:
        return []
    listing = "、".join(f"{f.key}（{f.title}）" for f in award.fields)
    return [f"[fields] 中的未知字段 {_names(bad)}：{award.name}的表头字段是 {listing}"]


def _collect(problems: list[str], values: dict[str, Any], name: str, read: Any) -> None:
    try:
        values[name] = read()
    except BriefError as exc:
        problems.append(str(exc))


def brief_to_dict(brief: Brief) -> dict[str, Any]:
    """The inverse of :func:`brief_from_dict` (for the GUI form and JSON files)."""
    out: dict[str, Any] = {n: getattr(brief, n) for n in TEXT_FIELDS if getattr(brief, n)}
    out.update({n: list(getattr(brief, n)) for n in FACT_FIELDS if getattr(brief, n)})
    if brief.results:
        out["results"] = [
            {"measure": r.measure, "value": r.value, "source": r.source} for r in brief.results
        ]
    if brief.fields:
        out["fields"] = dict(brief.fields)
    return out


def _names(keys: list[str]) -> str:
    return "、".join(repr(k) for k in keys)


def _kind(value: Any) -> str:
    return {str: "文本", list: "列表", dict: "表", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _text(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BriefError(f"字段 {name!r} 必须是文本，实际是{_kind(value)}")
    return str(value).strip()


def _lines(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise BriefError(f"字段 {name!r} 必须是文本或文本列表，实际是{_kind(value)}")
    out = []
    problems: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            problems.append(f"字段 {name}[{i}] 必须是文本，实际是{_kind(item)}")
        elif item.strip():
            out.append(item.strip())
    if problems:
        raise BriefError("；".join(problems))
    return tuple(out)


def _results(value: Any, problems: list[str]) -> tuple[ResultRow, ...]:
    if not isinstance(value, list):
        problems.append(
            f"字段 'results' 必须是结果行（measure、value、source）的列表，实际是{_kind(value)}"
        )
        return ()
    rows = []
    for i, row in enumerate(value):
        where = f"results[{i}]"
        if not isinstance(row, Mapping):
            problems.append(f"字段 {where} 必须是一张表（measure、value、source）")
            continue
        if unknown := [str(k) for k in row if k not in RESULT_KEYS]:
            problems.append(
                f"{where} 中的未知字段 {_names(unknown)}（结果行只有 measure、value、source）"
            )
        ok = True
        for key in ("measure", "value"):
            if key not in row or not str(row[key]).strip():
                problems.append(f"字段 {where}.{key} 缺失")
                ok = False
        texts = {}
        for key in RESULT_KEYS:
            try:
                texts[key] = _text(row.get(key, ""), f"{where}.{key}")
            except BriefError as exc:
                problems.append(str(exc))
                ok = False
        if ok:
            rows.append(ResultRow(texts["measure"], texts["value"], texts["source"]))
    return tuple(rows)


SUMMARY_KINDS = ("overview", "highlights")  # they sum up the other sections


def drafting_order(schema: AwardSchema) -> list[SectionSpec]:
    """The award's sections in the order they are written: summaries (overview, highlights)
    last, as a writer writes an executive summary once the body stands, so they can say what
    the body says without saying it again sentence for sentence."""
    body = [s for s in schema.sections if s.kind not in SUMMARY_KINDS]
    return body + [s for s in schema.sections if s.kind in SUMMARY_KINDS]


def _owner(schema: AwardSchema, field_name: str) -> str | None:
    """The section of ``schema`` that writes up a brief field (see ``facts_for_section``)."""
    sections = [s for s in schema.sections if s.kind not in SUMMARY_KINDS]
    for spec in sections:
        if field_name in kind(spec.kind).brief_fields:
            return spec.key
    for spec in sections:
        if any(field_name in kind(k).brief_fields for k in spec.kinds):
            return spec.key
    return None
