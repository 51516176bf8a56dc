"""Drafting an entry section by section in the award's structure, with a local model.

    draft_entry(brief, generator, award=…)      → EntryDraft (header fields + every section)
    draft_section(brief, generator, section_key) → DraftedSection (regenerate one)

The award's sections and header fields come from :mod:`analyzer.schema`; the prompt of each
section is a Jinja2 template chosen by :func:`prompt_template` from ``templates/prompts/``, given
the brief's facts for that section and 1-3 exemplar passages from similar cases. A small model
stays on task one section at a time, and the user can regenerate one section.

Every generated section passes the fact guard (:mod:`analyzer.factguard`). A section the brief has
no facts for is not generated: it gets a 【待补充：…】 note telling the user what to add.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from analyzer.brief import LABELS, Brief
from analyzer.errors import AwardWriterError, BriefError
from analyzer.factguard import Flag, allowed_values, guard
from analyzer.llm.base import Generator, Message
from analyzer.paths import templates_dir
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress
from analyzer.schema import AwardSchema, SectionSpec, get_award

if TYPE_CHECKING:
    import jinja2

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 320  # per section; ~250 Chinese characters with Qwen's tokenizer
EXEMPLAR_CHARS = 240  # each exemplar passage in the prompt: longer ones cost prefill time
TARGET_CHARS = {"overview": 200, "results": 260, "highlights": 180}
_TRIM_AT = "。！？!?」）)"


class ExemplarLike(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def section_title(self) -> str: ...
    @property
    def text(self) -> str: ...


# (text, *, award, section_key, kind, k) → passages; analyzer.search.find_exemplars bound to a
# library fits: functools.partial(find_exemplars, library).
ExemplarFn = Callable[..., Sequence[ExemplarLike]]


@dataclass(frozen=True)
class DraftedSection:
    key: str
    title: str
    kind: str
    text: str
    status: str  # "generated" | "placeholder"
    flags: tuple[Flag, ...] = ()
    exemplars: tuple[str, ...] = ()  # "case title · section title" of each exemplar used
    finish_reason: str = ""  # eos | max_tokens | time ("" for a placeholder)
    seconds: float = 0.0


@dataclass(frozen=True)
class EntryDraft:
    """A drafted entry: header fields from the brief, then every section in the award's order."""

    award: str
    award_name: str
    title: str
    header: tuple[tuple[str, str], ...]  # (field title, value) in the award's order
    sections: tuple[DraftedSection, ...]
    notes: tuple[str, ...] = field(default=())  # problems that did not stop the draft

    @property
    def flags(self) -> tuple[Flag, ...]:
        return tuple(f for s in self.sections for f in s.flags)

    @property
    def placeholders(self) -> tuple[DraftedSection, ...]:
        return tuple(s for s in self.sections if s.status == "placeholder")

    def section(self, key: str) -> DraftedSection:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(f"draft has no section {key!r}")

    def with_section(self, new: DraftedSection) -> EntryDraft:
        self.section(new.key)
        return replace(self, sections=tuple(new if s.key == new.key else s for s in self.sections))

    def review_lines(self) -> list[str]:
        """Where the fact guard changed the text and which sections await facts."""
        titles = {s.key: s.title for s in self.sections}
        lines = [f.describe(titles.get(f.section, f.section)) for f in self.flags]
        lines += [f"{s.title}：简报中没有相应信息，已留【待补充】" for s in self.placeholders]
        return lines + list(self.notes)

    def to_markdown(self) -> str:
        out = [f"# {self.title}", ""]
        out += [f"- **{name}**：{value}" for name, value in self.header]
        for s in self.sections:
            out += ["", f"## {s.title}", "", s.text.strip()]
        if review := self.review_lines():
            out += ["", "---", "", "> 撰写说明（提交前删除）", ">"]
            out += [f"> - {line}" for line in review]
        return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------- prompts


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
            out.append((spec.title, f"【待补充：{spec.title}】"))
    return tuple(out)


def build_messages(
    brief: Brief,
    schema: AwardSchema,
    section: SectionSpec,
    exemplars: Sequence[ExemplarLike] = (),
) -> list[Message]:
    """The system and user messages that ask for one section."""
    facts = brief.facts_for_kinds(section.kinds)
    target = min(section.max_chars or 10**6, TARGET_CHARS.get(section.kind, 240))
    context: dict[str, Any] = {
        "award": schema,
        "section": section,
        "brief": brief,
        "header": [(t, v) for t, v in header_fields(brief, schema) if "【待补充" not in v],
        "facts": [
            {"label": LABELS.get(name, name), "lines": lines} for name, lines in facts.items()
        ],
        "exemplars": [
            {"title": e.title, "section_title": e.section_title, "text": _cut(e.text)}
            for e in exemplars
        ],
        "target_chars": target,
        "length": _length_hint(target),
    }
    return [
        {"role": "system", "content": system_template(schema.key).render(context).strip()},
        {"role": "user", "content": prompt_template(schema.key, section).render(context).strip()},
    ]


# ---------------------------------------------------------------------------- drafting


def draft_entry(
    brief: Brief,
    generator: Generator,
    *,
    award: str | None = None,
    exemplars: ExemplarFn | None = None,
    k: int = 2,
    max_new_tokens: int = DEFAULT_MAX_TOKENS,
    time_budget: float | None = None,
    on_section: Callable[[DraftedSection], None] | None = None,
    on_token: Callable[[str, str], None] | None = None,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> EntryDraft:
    """Draft every section of the award in order; ``on_token(section_key, piece)`` streams.

    ``time_budget`` is per section (seconds). Raises ``Cancelled`` when ``cancel`` is set; the
    sections finished before were already handed to ``on_section``.
    """
    schema = _award(brief, award)
    allowed = allowed_values(brief)
    notes: list[str] = []
    sections = []
    total = len(schema.sections)
    for i, spec in enumerate(schema.sections):
        if cancel is not None:
            cancel.raise_if_cancelled()
        on_progress(Progress(i, total, spec.title))
        drafted = _draft_one(
            brief, generator, schema, spec, allowed, exemplars, k, max_new_tokens,
            time_budget, on_token, cancel, notes,
        )  # fmt: skip
        sections.append(drafted)
        if on_section is not None:
            on_section(drafted)
    on_progress(Progress(total, total, "完成"))
    return EntryDraft(
        award=schema.key,
        award_name=schema.name,
        title=f"{brief.name or '参赛案例'}｜{schema.name}参赛稿",
        header=header_fields(brief, schema),
        sections=tuple(sections),
        notes=tuple(dict.fromkeys(notes)),
    )


def draft_section(
    brief: Brief,
    generator: Generator,
    section_key: str,
    *,
    award: str | None = None,
    exemplars: ExemplarFn | None = None,
    k: int = 2,
    max_new_tokens: int = DEFAULT_MAX_TOKENS,
    time_budget: float | None = None,
    on_token: Callable[[str, str], None] | None = None,
    cancel: CancelToken | None = None,
) -> DraftedSection:
    """Draft (or regenerate) one section; put it back with ``EntryDraft.with_section``."""
    schema = _award(brief, award)
    try:
        spec = schema.section(section_key)
    except KeyError:
        keys = ", ".join(s.key for s in schema.sections)
        raise BriefError(f"{schema.key} has no section {section_key!r}; sections: {keys}") from None
    return _draft_one(
        brief, generator, schema, spec, allowed_values(brief), exemplars, k, max_new_tokens,
        time_budget, on_token, cancel, [],
    )  # fmt: skip


def placeholder(brief: Brief, spec: SectionSpec) -> str:
    wanted = "、".join(f"{LABELS.get(n, n)}（{n}）" for n in brief.missing_for_kinds(spec.kinds))
    return f"【待补充：简报中没有可用于「{spec.title}」的信息。请在简报中填写{wanted}，再重新生成本部分。】"


def _award(brief: Brief, award: str | None) -> AwardSchema:
    key = award or brief.award
    if not key:
        raise BriefError('no award: set award = "…" in the brief or pass --award KEY')
    return get_award(key)


def _draft_one(
    brief: Brief,
    generator: Generator,
    schema: AwardSchema,
    spec: SectionSpec,
    allowed: frozenset[float],
    exemplars: ExemplarFn | None,
    k: int,
    max_new_tokens: int,
    time_budget: float | None,
    on_token: Callable[[str, str], None] | None,
    cancel: CancelToken | None,
    notes: list[str],
) -> DraftedSection:
    start = time.perf_counter()
    facts = brief.facts_for_kinds(spec.kinds)
    if not facts:
        text = placeholder(brief, spec)
        if on_token is not None:
            on_token(spec.key, text)
        return DraftedSection(spec.key, spec.title, spec.kind, text, "placeholder")
    found: Sequence[ExemplarLike] = ()
    if exemplars is not None and k > 0:
        query = "\n".join([brief.name, *[line for lines in facts.values() for line in lines]])
        try:
            found = list(
                exemplars(query, award=schema.key, section_key=spec.key, kind=spec.kind, k=k)
            )[:k]
        except AwardWriterError as exc:  # no index yet, an empty library: draft without
            log.info("no exemplars for %s: %s", spec.key, exc)
            notes.append(f"没有使用范例：{exc}")
    messages = build_messages(brief, schema, spec, found)
    pieces: list[str] = []
    for piece in generator.stream(
        messages, max_new_tokens=max_new_tokens, cancel=cancel, time_budget=time_budget
    ):
        pieces.append(piece)
        if on_token is not None:
            on_token(spec.key, piece)
    reason = str(getattr(generator, "finish_reason", ""))
    text = tidy("".join(pieces), spec, cut=reason in ("max_tokens", "time", "repetition"))
    text, flags = guard(text, allowed, section=spec.key)
    return DraftedSection(
        key=spec.key,
        title=spec.title,
        kind=spec.kind,
        text=text,
        status="generated",
        flags=flags,
        exemplars=tuple(f"{e.title} · {e.section_title}" for e in found),
        finish_reason=reason,
        seconds=time.perf_counter() - start,
    )


_MD_HEADING = re.compile(r"^\s*#+\s*")
_RULE = re.compile(r"[-*_=]{3,}")
_HEADING = re.compile(r"^\s*(?:#+\s*|【)?(?P<t>[^\n】]{1,40}?)(?:】)?\s*[:：]?\s*$")


def tidy(text: str, spec: SectionSpec, *, cut: bool = False) -> str:
    """Model output as section text: no echoed heading, no Markdown emphasis, whole sentences."""
    text = text.replace("**", "").replace("\r\n", "\n").strip()
    lines = text.split("\n")
    if lines and (m := _HEADING.match(lines[0])):
        heading = m.group("t").strip("# ").strip()
        if heading in (spec.title, *spec.aliases) or (
            lines[0].rstrip().endswith(("：", ":")) and "参赛材料" in heading
        ):
            lines = lines[1:]  # an echoed heading, or "「…」参赛材料的营销背景包括："
    kept: list[str] = []
    seen: set[str] = set()
    for line in lines:
        line = _MD_HEADING.sub("", line).rstrip()  # "### 模块一" would read as a section heading
        if _RULE.fullmatch(line.strip()):
            continue  # a Markdown rule ("---") would end the section for the parser
        key = line.strip(" \t-*>")
        if len(key) >= 6 and key in seen:
            continue  # a line the model repeated
        seen.add(key)
        kept.append(line)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    if cut:  # stopped by a budget: end at the last full sentence when there is one
        last = max(text.rfind(c) for c in _TRIM_AT)
        if last >= len(text) // 2:
            text = text[: last + 1]
    return text


def _length_hint(chars: int) -> str:
    """The length asked for, in words: a digit in the prompt is a digit the model may echo."""
    hundreds = max(1, round(chars / 100))
    return f"{'一两三四五六七八九十'[min(hundreds, 10) - 1]}百字左右"


def _cut(text: str, limit: int = EXEMPLAR_CHARS) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    last = max(text.rfind(c, 0, limit) for c in "。！？；")
    return text[: last + 1] if last > limit // 3 else text[:limit] + "…"
