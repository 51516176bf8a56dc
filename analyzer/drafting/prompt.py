"""The prompt of one section: Jinja2 templates from ``templates/prompts/``, given the brief's facts.

:func:`prompt_template` picks ``prompts/<award>/<section>.j2``, else ``prompts/<kind>.j2``, else
``prompts/section.j2``; :func:`build_messages` fills it with the facts the section is written
from (``kinds.toml`` [brief_fields]) and, when asked, the shape of similar cases' passages.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.documents.brief import LABELS, Brief, ResultRow
from analyzer.drafting.exemplars import outline
from analyzer.drafting.result import EXEMPLAR_FORM, EXEMPLAR_FORMS
from analyzer.errors import SchemaError
from analyzer.kinds import RESULTS, kind
from analyzer.library.exemplar import Exemplar
from analyzer.llm.base import Message
from analyzer.markers import to_add
from analyzer.paths import templates_dir
from analyzer.schema import AwardSchema, SectionSpec
from analyzer.zh.segments import LIST_MARK

if TYPE_CHECKING:
    import jinja2

EXEMPLAR_CHARS = 240  # each exemplar passage shown in "passage" form
EXAMPLE_FILE = "example.toml"
SOURCE_MISSING = to_add("来源")


@cache
def _environment(root: Path) -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # prompts are plain text, never HTML
    )


def prompt_template(award: str, section: SectionSpec) -> jinja2.Template:
    """``prompts/<award>/<section>.j2`` → ``prompts/<kind>.j2`` → ``prompts/section.j2``."""
    return _environment(templates_dir() / "prompts").select_template(
        [f"{award}/{section.key}.j2", f"{section.kind}.j2", "section.j2"]
    )


def system_template(award: str) -> jinja2.Template:
    return _environment(templates_dir() / "prompts").select_template(
        [f"{award}/system.j2", "system.j2"]
    )


def header_fields(brief: Brief, schema: AwardSchema) -> tuple[tuple[str, str], ...]:
    """The award's header fields filled from the brief; a required one left empty says so."""
    out = []
    for spec in schema.fields:
        if spec.key == "agency" and schema.forbid_agency_names:
            continue
        value = brief.header_value(spec.key)
        if value:
            out.append((spec.title, value))
        elif spec.required:
            out.append((spec.title, to_add(spec.title)))
    return tuple(out)


def brand_name(brief: Brief) -> str:
    """The name the draft must use for the brand: 示例茶饮, not 示例茶饮（虚构品牌）."""
    name = brief.brand or brief.advertiser or ""
    return re.sub(r"[（(][^）)]*[）)]\s*$", "", name).strip()


def build_messages(
    brief: Brief,
    schema: AwardSchema,
    section: SectionSpec,
    exemplars: Sequence[Exemplar] = (),
    *,
    form: str = EXEMPLAR_FORM,
    opening: bool = False,
) -> list[Message]:
    """The messages that ask for one section: the system's, a worked example exchange
    (``templates/prompts/example.toml``), the request; with ``opening`` the reply begun with the
    first point's opening words (:func:`reply_opening`) for a model that continues a reply."""
    if form not in EXEMPLAR_FORMS:
        raise ValueError(f"unknown exemplar form {form!r}: use {', '.join(EXEMPLAR_FORMS)}")
    if form == "none":
        exemplars = ()
    facts = brief.facts_for_section(schema, section.key)
    groups = [{"label": LABELS.get(name, name), "lines": lines} for name, lines in facts.items()]
    if brief.period and section.kind in ("execution", "overview"):
        # Without the year the model dates "5 月" to a year of its own (2023).
        groups.insert(0, {"label": "执行时间", "lines": (f"执行时间：{brief.period}",)})
    target = min(section.max_chars or 10**6, kind(section.kind).target_chars)
    context: dict[str, Any] = {
        "award": schema,
        "section": section,
        "brief": brief,
        "brand": brand_name(brief) or brief.name or "本品牌",
        "industry": brief.industry,
        "project": brief.title or brief.name or "本项目",
        "facts": groups,
        "objectives": list(brief.objectives),
        "rows": [row_line(r, schema) for r in brief.results],
        "exemplars": [
            {
                "title": e.title,
                "section_title": e.section_title,
                "text": _cut(e.text),
                "outline": outline(e.text),
            }
            for e in exemplars
        ],
        "form": form,
        "length": _length_hint(target),
    }
    example = _example(templates_dir() / "prompts" / EXAMPLE_FILE)
    messages: list[Message] = [
        {"role": "system", "content": system_template(schema.key).render(context).strip()},
        {"role": "user", "content": example["user"]},
        {"role": "assistant", "content": example["reply"]},
        {"role": "user", "content": prompt_template(schema.key, section).render(context).strip()},
    ]
    start = reply_opening(brief, schema, section) if opening else ""
    if start:
        messages.append({"role": "assistant", "content": start})
    return messages


def reply_opening(brief: Brief, schema: AwardSchema, section: SectionSpec) -> str:
    """How the reply begins: the opening words of the section's first point, up to its first
    comma or colon ("近郊露营在一二线城市快速升温，"). A small model given that continues in prose,
    from the brief's own subject, instead of starting a list or a heading; "" for a results
    section (its prose ties the listed figures to the objectives)."""
    if section.kind == RESULTS:
        return ""
    facts = [
        line for lines in brief.facts_for_section(schema, section.key).values() for line in lines
    ]
    if not facts:
        return ""
    first = facts[0][LIST_MARK.match(facts[0]).end() :]  # type: ignore[union-attr]
    cut = re.search(r"[，,：:]", first)
    return first[: cut.end()] if cut and cut.end() <= 24 else ""


@cache
def _example(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return {
            "user": str(data["user"]).strip(),
            "reply": str(data["reply"]).strip(),
            "names": "\n".join(str(n) for n in data.get("names", ())),
        }
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise SchemaError(f"{path}: {exc}") from exc


def example_names() -> tuple[str, ...]:
    """The made-up case's names in the worked example: in a draft they come from the example."""
    names = _example(templates_dir() / "prompts" / EXAMPLE_FILE)["names"]
    return tuple(n for n in names.split("\n") if n)


def placeholder(brief: Brief, spec: SectionSpec) -> str:
    """What stands in a section the brief has no facts for: what to add to the brief."""
    names = brief.missing_for_kinds(spec.kinds)
    empty = [n for n in names if not brief.facts(n)] or list(
        names
    )  # the filled ones went elsewhere
    wanted = "、".join(f"{LABELS.get(n, n)}（{n}）" for n in empty)
    return to_add(
        f"简报中没有可用于「{spec.title}」的信息。请在简报中填写{wanted}，再重新生成本部分。"
    )


def row_line(row: ResultRow, schema: AwardSchema) -> str:
    """A result row as a draft states it: ``measure：value（来源：…）``."""
    source = row.source or (SOURCE_MISSING if schema.sources_required else "")
    return f"{row.measure}：{row.value}" + (f"（来源：{source}）" if source else "")


def brief_names(brief: Brief) -> list[str]:
    """The brand's and the advertiser's names as the draft must spell them."""
    names = [brand_name(brief), re.sub(r"[（(][^）)]*[）)]\s*$", "", brief.advertiser).strip()]
    return [n for n in names if n]


def _length_hint(chars: int) -> str:
    """The length asked for, in words without a numeral: a numeral in the prompt is a numeral
    the model may echo ("两百字左右" ended up in drafts)."""
    if chars <= 150:
        return "写得简短，一段即可"
    if chars <= 220:
        return "篇幅简短"
    return "篇幅适中"


def _cut(text: str, limit: int = EXEMPLAR_CHARS) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    last = max(text.rfind(c, 0, limit) for c in "。！？；")
    return text[: last + 1] if last > limit // 3 else text[:limit] + "…"
