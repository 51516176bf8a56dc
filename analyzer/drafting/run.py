"""Drafting an entry section by section in the award's structure, with a local model.

    draft_entry(brief, generator, award=…)      → EntryDraft (header fields + every section)
    draft_section(brief, generator, section_key) → DraftedSection (regenerate one)

The award's sections and header fields come from :mod:`analyzer.schema`; the prompt of each
section is a Jinja2 template chosen by :func:`prompt_template` from ``templates/prompts/``, given
the brief's facts for that section and the shape of 1-3 passages from really similar cases
(:mod:`analyzer.drafting.exemplars`). A small model stays on task one section at a time, and the user can
regenerate one section.

What the model writes is checked before anyone sees it as final:

* :mod:`analyzer.drafting.guards.copyguard` drops sentences copied from an exemplar or from the prompt, and
  sentences naming an exemplar's brand; a section mostly copied is written again without
  exemplars; a brief name the model altered is put back;
* :mod:`analyzer.drafting.guards.factguard` marks every number the brief does not hold ``【待核实】``;
* a results section lists the brief's result rows (measure, value, source) itself: the model only
  writes the prose around them, so every brief figure appears and no other.

A section the brief has no facts for is not generated: it gets a 【待补充：…】 note telling the
user what to add. Every change is listed in the draft's review notes.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.documents.brief import FACT_FIELDS, LABELS, Brief, ResultRow
from analyzer.drafting.exemplars import Candidate, ExemplarLike, choose, outline
from analyzer.drafting.guards.copyguard import (
    CopyFlag,
    Source,
    check_copies,
    restore_names,
    restore_rare_chars,
)
from analyzer.drafting.guards.factguard import Allowed, Flag, allowed_values, guard
from analyzer.errors import AwardWriterError, BriefError
from analyzer.llm.base import LIST_PREFIX, Generator, Message, repeat_key
from analyzer.paths import templates_dir
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress
from analyzer.schema import AwardSchema, SectionSpec, get_award

if TYPE_CHECKING:
    import jinja2

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 320  # per section; ~250 Chinese characters with Qwen's tokenizer
SUMMARY_TOKENS = 160  # the prose of a results section (its figures are listed, not generated)
EXEMPLAR_CHARS = 240  # each exemplar passage shown in "passage" form
# How exemplars reach the prompt: "none" (listed for the user only), "outline" (their shape) or
# "passage" (a fenced excerpt). Measured with the bundled 0.5B model on the four sample briefs
# (bench/exemplar_forms.py, relevance cut off so every section had two): without exemplars its
# sections stated 72 % of their brief figures and copied nothing; with outlines 52 % (and JSON
# once); with passages 48 %, and 12 % of the text was copied from the other cases. So by default
# the model sees none; a bigger model can be given outlines (--exemplar-form).
EXEMPLAR_FORMS = ("none", "outline", "passage")
EXEMPLAR_FORM = "none"
CANDIDATES = 6  # exemplars asked of the search, before the relevance cut
TARGET_CHARS = {"overview": 200, "results": 120, "highlights": 180}
SOURCE_MISSING = "【待补充：来源】"
_TRIM_AT = "。！？!?」）)"

# (text, *, award, section_key, kind, k) → passages; analyzer.drafting.exemplars.library_exemplars(library)
# or analyzer.search.query.find_exemplars bound to a library fits.
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
    finish_reason: str = ""  # eos | max_tokens | time | repetition ("" for a placeholder)
    seconds: float = 0.0
    copies: tuple[CopyFlag, ...] = ()  # sentences dropped as copied
    notes: tuple[str, ...] = ()  # other changes: a name put back, a section rewritten …
    exemplar_form: str = EXEMPLAR_FORM  # how the exemplars reached the prompt ("none": not at all)

    def review_lines(self) -> list[str]:
        """Everything the guards changed in this section, for the user to check."""
        lines = [f.describe(self.title) for f in self.flags]
        lines += [c.describe(self.title) for c in self.copies]
        lines += [f"{self.title}：{note}" for note in self.notes]
        if self.status == "placeholder":
            lines.append(f"{self.title}：简报中没有相应信息，已留【待补充】")
        return lines


@dataclass(frozen=True)
class EntryDraft:
    """A drafted entry: header fields from the brief, then every section in the award's order."""

    award: str
    award_name: str
    title: str
    header: tuple[tuple[str, str], ...]  # (field title, value) in the award's order
    sections: tuple[DraftedSection, ...]
    notes: tuple[str, ...] = field(default=())  # problems that did not stop the draft
    missing: tuple[str, ...] = ()  # titles of sections not drafted (the run was stopped)

    @property
    def flags(self) -> tuple[Flag, ...]:
        return tuple(f for s in self.sections for f in s.flags)

    @property
    def copies(self) -> tuple[CopyFlag, ...]:
        return tuple(c for s in self.sections for c in s.copies)

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
        """Where the guards changed the text, which sections await facts, which cases were
        shown as exemplars."""
        lines = [line for s in self.sections for line in s.review_lines()]
        used = [
            f"{s.title}：参考了「{e}」的结构"
            if s.exemplar_form != "none"
            else f"{s.title}：可参考相似获奖案例「{e}」（未提供给模型，以免照抄）"
            for s in self.sections
            for e in s.exemplars
        ]
        if self.missing:
            lines.append(f"草稿未完成：{'、'.join(self.missing)} 尚未生成")
        return lines + used + list(self.notes)

    def to_markdown(self) -> str:
        out = [f"# {self.title}", ""]
        if self.missing:
            out += ["> **未完成的草稿**：生成被中断，缺少 " + "、".join(self.missing), ""]
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


def brand_name(brief: Brief) -> str:
    """The name the draft must use for the brand: 示例茶饮, not 示例茶饮（虚构品牌）."""
    name = brief.brand or brief.advertiser or ""
    return re.sub(r"[（(][^）)]*[）)]\s*$", "", name).strip()


def build_messages(
    brief: Brief,
    schema: AwardSchema,
    section: SectionSpec,
    exemplars: Sequence[ExemplarLike] = (),
    *,
    form: str = EXEMPLAR_FORM,
) -> list[Message]:
    """The system and user messages that ask for one section."""
    if form not in EXEMPLAR_FORMS:
        raise ValueError(f"unknown exemplar form {form!r}: use {', '.join(EXEMPLAR_FORMS)}")
    if form == "none":
        exemplars = ()
    facts = brief.facts_for_kinds(section.kinds)
    groups = [{"label": LABELS.get(name, name), "lines": lines} for name, lines in facts.items()]
    if brief.period and section.kind in ("execution", "overview"):
        # Without the year the model dates "5 月" to a year of its own (2023).
        groups.insert(0, {"label": "执行时间", "lines": (f"执行时间：{brief.period}",)})
    target = min(section.max_chars or 10**6, TARGET_CHARS.get(section.kind, 240))
    context: dict[str, Any] = {
        "award": schema,
        "section": section,
        "brief": brief,
        "brand": brand_name(brief) or brief.name or "本品牌",
        "industry": brief.industry,
        "project": brief.title or brief.name or "本项目",
        "facts": groups,
        "objectives": list(brief.objectives),
        "rows": [_row_line(r, schema) for r in brief.results],
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
    return [
        {"role": "system", "content": system_template(schema.key).render(context).strip()},
        {"role": "user", "content": prompt_template(schema.key, section).render(context).strip()},
    ]


# ---------------------------------------------------------------------------- drafting


@dataclass
class _Run:
    """What every section of one draft shares."""

    brief: Brief
    generator: Generator
    schema: AwardSchema
    allowed: Allowed
    own: tuple[str, ...]  # text a draft may repeat: the brief, the award's own titles
    exemplars: ExemplarFn | None
    k: int
    max_new_tokens: int
    time_budget: float | None
    on_token: Callable[[str, str], None] | None
    cancel: CancelToken | None
    form: str
    notes: list[str]
    dropped: dict[str, None] = field(default_factory=dict)  # titles of cases cut as unrelated

    def all_notes(self) -> list[str]:
        if not self.dropped:
            return self.notes
        titles = "、".join(f"「{t}」" for t in self.dropped)
        return [*self.notes, f"与本简报相关度低、未作范例的相似案例：{titles}"]


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
    exemplar_form: str = EXEMPLAR_FORM,
) -> EntryDraft:
    """Draft every section of the award in order; ``on_token(section_key, piece)`` streams.

    ``time_budget`` is per section (seconds). Raises ``Cancelled`` when ``cancel`` is set; the
    sections finished before were already handed to ``on_section`` (and :func:`partial_entry`
    turns them into an incomplete draft).
    """
    run = _start(brief, generator, award, exemplars, k, max_new_tokens, time_budget, on_token,
                 cancel, exemplar_form)  # fmt: skip
    sections = []
    total = len(run.schema.sections)
    for i, spec in enumerate(run.schema.sections):
        if cancel is not None:
            cancel.raise_if_cancelled()
        on_progress(Progress(i, total, spec.title))
        drafted = _draft_one(run, spec)
        sections.append(drafted)
        if on_section is not None:
            on_section(drafted)
    on_progress(Progress(total, total, "完成"))
    return _entry(brief, run.schema, sections, run.all_notes())


def partial_entry(
    brief: Brief, sections: Sequence[DraftedSection], *, award: str | None = None
) -> EntryDraft:
    """The sections finished before a draft was stopped, marked as an incomplete draft."""
    schema = _award(brief, award)
    done = {s.key for s in sections}
    missing = tuple(s.title for s in schema.sections if s.key not in done)
    return replace(_entry(brief, schema, list(sections), []), missing=missing)


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
    exemplar_form: str = EXEMPLAR_FORM,
) -> DraftedSection:
    """Draft (or regenerate) one section; put it back with ``EntryDraft.with_section``."""
    run = _start(brief, generator, award, exemplars, k, max_new_tokens, time_budget, on_token,
                 cancel, exemplar_form)  # fmt: skip
    try:
        spec = run.schema.section(section_key)
    except KeyError:
        keys = ", ".join(s.key for s in run.schema.sections)
        raise BriefError(
            f"奖项 {run.schema.key} 没有 {section_key!r} 这一部分；可选：{keys}"
        ) from None
    drafted = _draft_one(run, spec)
    return replace(drafted, notes=(*drafted.notes, *dict.fromkeys(run.all_notes())))


def placeholder(brief: Brief, spec: SectionSpec) -> str:
    wanted = "、".join(f"{LABELS.get(n, n)}（{n}）" for n in brief.missing_for_kinds(spec.kinds))
    return f"【待补充：简报中没有可用于「{spec.title}」的信息。请在简报中填写{wanted}，再重新生成本部分。】"


def _start(
    brief: Brief,
    generator: Generator,
    award: str | None,
    exemplars: ExemplarFn | None,
    k: int,
    max_new_tokens: int,
    time_budget: float | None,
    on_token: Callable[[str, str], None] | None,
    cancel: CancelToken | None,
    form: str,
) -> _Run:
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    schema = _award(brief, award)
    from analyzer.documents.brief import check_header_fields

    check_header_fields(brief, schema)
    own = (
        *brief.all_text(),
        schema.name,
        schema.name_en,
        *schema.names,
        *(t for s in schema.sections for t in (s.title, *s.aliases)),
        *(t for f in schema.fields for t in (f.title, *f.aliases)),
    )
    return _Run(
        brief, generator, schema, allowed_values(brief), own, exemplars, k, max_new_tokens,
        time_budget, on_token, cancel, form, [],
    )  # fmt: skip


def _entry(
    brief: Brief, schema: AwardSchema, sections: list[DraftedSection], notes: list[str]
) -> EntryDraft:
    return EntryDraft(
        award=schema.key,
        award_name=schema.name,
        title=f"{brief.name or '参赛案例'}｜{schema.name}参赛稿",
        header=header_fields(brief, schema),
        sections=tuple(sections),
        notes=tuple(dict.fromkeys(notes)),
    )


def _award(brief: Brief, award: str | None) -> AwardSchema:
    key = award or brief.award
    if not key:
        raise BriefError('简报没有指定奖项：在简报中写 award = "…"，或使用 --award KEY')
    return get_award(key)


def _draft_one(run: _Run, spec: SectionSpec) -> DraftedSection:
    start = time.perf_counter()
    brief = run.brief
    facts = brief.facts_for_kinds(spec.kinds)
    if not facts:
        text = placeholder(brief, spec)
        if run.on_token is not None:
            run.on_token(spec.key, text)
        return DraftedSection(spec.key, spec.title, spec.kind, text, "placeholder")
    found = _exemplars_for(run, spec, facts)
    cases = [c.exemplar for c in found]  # always guarded against, shown to the model or not
    shown = cases if run.form != "none" else []
    notes: list[str] = []
    written = _write(run, spec, shown, cases)
    if shown and (written.mostly_copied or not written.text.strip()):
        why = "大部分照抄了范例" if written.mostly_copied else "删去照抄的句子后没有剩下内容"
        notes.append(f"初稿{why}，已不用范例重写")
        written = _write(run, spec, [], cases)
        found = []
    text = written.text
    brief_text, names = "\n".join(brief.all_text()), _brief_names(brief)
    text, restored = restore_names(text, names, brief_text)
    notes += restored
    text, restored = restore_rare_chars(text, brief_text)
    notes += restored
    if spec.kind == "results":
        text, row_notes = _results_text(run, text)
        notes += row_notes
    elif text.strip():
        fact_lists = [getattr(brief, n) for n in FACT_FIELDS]
        text, whole = complete_clipped(text, fact_lists)
        if whole:
            notes.append(f"模型截短了简报原文，已按简报补全：{'；'.join(whole)}")
        text, reworded = restore_figure_clauses(text, fact_lists, names)
        notes += [f"「{a}」说的与简报不同，已改回简报原文「{b}」" for a, b in reworded]
        text, kept = keep_figures(text, facts)
        if kept:
            notes.append(f"模型漏写了简报里的数据，已按简报原文补上：{'；'.join(kept)}")
    if not text.strip():
        text = "【待补充：模型没有写出可用的内容，请重新生成本部分或自行填写。】"
    text, flags = guard(text, run.allowed, section=spec.key)
    return DraftedSection(
        key=spec.key,
        title=spec.title,
        kind=spec.kind,
        text=text,
        status="generated",
        flags=flags,
        exemplars=tuple(c.label for c in found),
        finish_reason=written.reason,
        seconds=time.perf_counter() - start,
        copies=written.copies,
        notes=tuple(notes),
        exemplar_form=run.form,
    )


@dataclass(frozen=True)
class _Written:
    text: str
    reason: str
    copies: tuple[CopyFlag, ...]
    mostly_copied: bool


def _write(
    run: _Run,
    spec: SectionSpec,
    exemplars: Sequence[ExemplarLike],
    guarded: Sequence[ExemplarLike] = (),
) -> _Written:
    """Generate one section's text (showing ``exemplars``), tidied, with sentences copied from
    ``guarded`` cases or from the prompt dropped."""
    messages = build_messages(run.brief, run.schema, spec, exemplars, form=run.form)
    budget = min(run.max_new_tokens, SUMMARY_TOKENS) if spec.kind == "results" else None
    pieces: list[str] = []
    for piece in run.generator.stream(
        messages,
        max_new_tokens=budget or run.max_new_tokens,
        cancel=run.cancel,
        time_budget=run.time_budget,
    ):
        pieces.append(piece)
        if run.on_token is not None:
            run.on_token(spec.key, piece)
    reason = str(getattr(run.generator, "finish_reason", ""))
    text = tidy(
        "".join(pieces),
        spec,
        cut=reason in ("max_tokens", "time", "repetition"),
        header=header_fields(run.brief, run.schema),
        prose_only=spec.kind == "results",
    )
    sources = [
        Source(f"{e.title} · {e.section_title}", e.text, tuple(getattr(e, "names", ()) or ()))
        for e in (guarded or exemplars)
    ]
    sources.append(Source("提示词", _instructions(messages, run.brief), kind="prompt"))
    check = check_copies(text, sources, run.own, section=spec.key)
    return _Written(check.text, reason, check.flags, check.mostly_copied)


def _instructions(messages: Sequence[Message], brief: Brief) -> str:
    """The prompt's own words: the brief's text cut out (a line break in its place), so that
    restating a fact the prompt listed ("- 提升品牌在新进入城市…") never counts as an echo."""
    text = "\n".join(str(m["content"]) for m in messages)
    for piece in sorted(set(brief.all_text()), key=len, reverse=True):
        if len(piece) >= 2:
            text = text.replace(piece, "\n")
    return text


def _exemplars_for(
    run: _Run, spec: SectionSpec, facts: dict[str, tuple[str, ...]]
) -> list[Candidate]:
    if run.exemplars is None or run.k <= 0:
        return []
    query = "\n".join([run.brief.name, *[line for lines in facts.values() for line in lines]])
    try:
        candidates = list(
            run.exemplars(
                query,
                award=run.schema.key,
                section_key=spec.key,
                kind=spec.kind,
                k=max(run.k, CANDIDATES),
            )
        )
    except AwardWriterError as exc:  # no index yet, an empty library: draft without
        log.info("no exemplars for %s: %s", spec.key, exc)
        run.notes.append(f"没有使用范例：{exc}")
        return []
    kept, dropped = choose(query, candidates, run.k, industry=run.brief.industry)
    run.dropped.update((c.exemplar.title, None) for c in dropped)
    return kept


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def keep_figures(text: str, facts: dict[str, tuple[str, ...]]) -> tuple[str, list[str]]:
    """The section's text with every brief fact whose figures it left out added as a line of
    its own, as the brief words it (a small model drops "全国约 600 家门店" often enough); and
    those facts. A figure counts as kept when its digits appear anywhere in the text."""
    plain = re.sub(r"[\s,]", "", text)
    missed = []
    for line in (line.strip() for lines in facts.values() for line in lines):
        figures = _digits(line)
        if figures and any(f not in plain for f in figures) and line not in missed:
            missed.append(line)
    if not missed:
        return text, []
    return text.rstrip() + "\n" + "\n".join(f"- {line}" for line in missed), missed


_LIST_MARK = re.compile(r"^(\s*(?:[-*•]|\d+[.、)）])\s*)")


def complete_clipped(text: str, fact_lists: list[tuple[str, ...]]) -> tuple[str, list[str]]:
    """The section's text with every line that is only a clipped piece of one brief fact
    ("18-30 岁人群的认知度" for the objective "提升品牌在新进入城市中 18-30 岁人群的认知度") written
    out as the brief words it; and those facts. A piece counts when it is at least 8 characters
    and half of the fact, lacks 3 or more of its characters, and lies in no other fact."""
    facts = [(f.strip(), re.sub(r"\s", "", f).rstrip("。；;")) for fs in fact_lists for f in fs]
    lines, whole = text.split("\n"), []
    for i, line in enumerate(lines):
        mark = _LIST_MARK.match(line)
        body = line[mark.end() :] if mark else line
        piece = re.sub(r"\s", "", body).rstrip("。；;")
        if len(piece) < 8:
            continue
        holders = {(f, plain) for f, plain in facts if piece in plain}
        if len(holders) != 1:
            continue
        ((fact, plain),) = holders
        if len(plain) - len(piece) >= 3 and len(piece) * 2 >= len(plain):
            lines[i] = (mark.group(1) if mark else "") + fact
            whole.append(fact)
    return "\n".join(lines), whole


_CLAUSE = re.compile(r"[^，,。；;：:！？!?\n]+")
_SIMILAR_CLAUSE = 0.6  # difflib ratio from which a clause holding a brief figure is the brief's


def restore_figure_clauses(
    text: str, fact_lists: list[tuple[str, ...]], names: Sequence[str] = ()
) -> tuple[str, list[tuple[str, str]]]:
    """The section's text with every clause that holds a brief fact's figures but words them
    differently ("中国在全球约600家门店" for the brief's "品牌在全国约 600 家门店") put back as the
    brief words it: what a figure counts is a fact as much as the figure. A clause is taken for
    the brief's when it holds all the figures of a brief clause and reads at least 60 % alike
    (difflib); the brand's name where the brief says 品牌 is no difference. Returns the pairs
    changed."""
    from difflib import SequenceMatcher

    brief_clauses = [
        (c.strip(), re.sub(r"\s", "", c), _digits(c))
        for facts in fact_lists
        for fact in facts
        for c in _CLAUSE.findall(fact)
        if _FIGURE.search(c)
    ]
    changed: list[tuple[str, str]] = []

    def put_back(m: re.Match[str]) -> str:
        clause = m.group()
        plain = re.sub(r"\s", "", clause)
        for name in names:
            plain = plain.replace(re.sub(r"\s", "", name), "品牌")
        figures = _digits(clause)
        if len(plain) < 6 or not figures:
            return clause
        best, score = "", 0.0
        for brief_clause, brief_plain, brief_figures in brief_clauses:
            if brief_figures != figures:
                continue
            ratio = SequenceMatcher(None, plain, brief_plain).ratio()
            if ratio > score:
                best, score = brief_clause, ratio
        if not best or score >= 1.0 or score < _SIMILAR_CLAUSE:
            return clause
        lead = clause[: len(clause) - len(clause.lstrip())]
        changed.append((clause.strip(), best))
        return lead + best

    return _CLAUSE.sub(put_back, text), changed


def _digits(text: str) -> tuple[str, ...]:
    return tuple(f.replace(",", "") for f in _FIGURE.findall(text))


def _results_text(run: _Run, prose: str) -> tuple[str, list[str]]:
    """The brief's result rows as a list, then the model's prose around them."""
    rows = [f"- {_row_line(r, run.schema)}" for r in run.brief.results]
    notes = []
    if run.schema.sources_required:
        missing = [r.measure for r in run.brief.results if not r.source]
        if missing:
            notes.append(
                f"{run.schema.name}要求每个数据注明来源；简报 results 中「{'」「'.join(missing)}」"
                f"没有 source，已留{SOURCE_MISSING}"
            )
    parts = ["\n".join(rows)] if rows else []
    if prose.strip():
        parts.append(prose.strip())
    return "\n\n".join(parts), notes


def _row_line(row: ResultRow, schema: AwardSchema) -> str:
    source = row.source or (SOURCE_MISSING if schema.sources_required else "")
    return f"{row.measure}：{row.value}" + (f"（来源：{source}）" if source else "")


def _brief_names(brief: Brief) -> list[str]:
    names = [brand_name(brief), re.sub(r"[（(][^）)]*[）)]\s*$", "", brief.advertiser).strip()]
    return [n for n in names if n]


# ---------------------------------------------------------------------------- tidying

_MD_HEADING = re.compile(r"^\s*#+\s*")
_RULE = re.compile(r"[-*_=]{3,}")
_HEADING = re.compile(r"^\s*(?:#+\s*|【)?(?P<t>[^\n】]{1,40}?)(?:】)?\s*[:：]?\s*$")
_PROMPT_LABELS = ("可用事实", "简报提供的事实", "关于「", "项目：", "品牌：", "范例")


def tidy(
    text: str,
    spec: SectionSpec,
    *,
    cut: bool = False,
    header: Sequence[tuple[str, str]] = (),
    prose_only: bool = False,
) -> str:
    """Model output as section text: no echoed heading, header or prompt label, no Markdown
    emphasis, no repeated paragraph (numbered or not), whole sentences. ``prose_only`` also drops
    list items (a results section lists the brief's figures itself)."""
    text = text.replace("**", "").replace("\r\n", "\n").strip()
    lines = text.split("\n")
    if lines and (m := _HEADING.match(lines[0])):
        heading = m.group("t").strip("# ").strip()
        if (
            heading in (spec.title, *spec.aliases)
            or (lines[0].rstrip().endswith(("：", ":")) and "参赛材料" in heading)
            or _like_title(heading, spec)
        ):
            lines = lines[1:]  # an echoed heading, "「…」参赛材料的营销背景包括：", "资源背景"
    if lines:
        lines[0] = _without_title_label(lines[0], spec)
        if not lines[0].strip():
            lines = lines[1:]
    kept: list[str] = []
    seen: set[str] = set()
    for line in lines:
        line = _MD_HEADING.sub("", line).rstrip()  # "### 模块一" would read as a section heading
        if _RULE.fullmatch(line.strip()):
            continue  # a Markdown rule ("---") would end the section for the parser
        if _echoes_header(line, header) or line.strip().startswith(_PROMPT_LABELS):
            continue
        if prose_only and line.strip() and not _is_prose(line):
            continue  # a list of its own, or a bare label ("微博话题阅读量"): not prose
        key = repeat_key(line)
        if len(key) >= 6 and key in seen:
            continue  # a paragraph the model repeated, perhaps under a new number
        seen.add(key)
        kept.append(line)
    kept = _without_repeated_sentences(kept)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    if cut:  # stopped by a budget: end at the last full sentence when there is one
        last = max(text.rfind(c) for c in _TRIM_AT)
        if last >= len(text) // 2:
            text = text[: last + 1]
    return text


_SENTENCE_MARK = re.compile(r"[。！？；，,;!?]")
_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]*")
# A small model repeats a sentence behind a new connective ("此外，…" then "另一方面，…").
_CONNECTIVE = re.compile(
    r"^(?:此外|另外|同时|而且|并且|因此|所以|一方面|另一方面|其次|最后|总之)[，,]?"
)
_MIN_REPEAT = 10  # characters: shorter sentences ("效果显著。") may well recur on purpose
_NEAR_REPEAT = 0.8  # share of a sentence's three-character runs said before: a near repeat


def _without_title_label(line: str, spec: SectionSpec) -> str:
    """The first line without the section's title as a label ("营销效果与市场反馈：通过…" →
    "通过…"); "" when what follows the label is only an award's name ("策略与创意：金鼠标数字营销大赛")."""
    plain = line.replace("**", "").strip()
    for title in (spec.title, *spec.aliases):
        for colon in ("：", ":"):
            if plain.startswith(title + colon):
                rest = plain[len(title) + 1 :].strip()
                return "" if not rest or _is_award_name(rest) else rest
    return line


def _is_award_name(text: str) -> bool:
    from analyzer.library.sections import award_names, normalized

    return normalized(text.strip("：: 。")) in award_names()


def _without_repeated_sentences(lines: list[str]) -> list[str]:
    """Drop every sentence that says again a sentence before it: word for word (behind a new
    connective or not), or near enough that :data:`_NEAR_REPEAT` of its three-character runs
    were all said before ("中国品牌面临着巨大的市场挑战…" after "…中国品牌面临巨大的市场挑战…").
    A sentence with a number is never dropped as a near repeat; a line left empty goes, and so
    does a subheading ("品牌面临的挑战") left with nothing under it."""
    seen: set[str] = set()
    said: set[str] = set()  # three-character runs of the sentences kept so far
    out: list[str] = []
    orphan: list[str] | None = None  # a subheading whose paragraph went, with the blank lines
    for line in lines:
        if not line.strip():
            out.append(line)  # paragraph breaks stay
            continue
        kept = []
        for m in _SENTENCE.finditer(line):
            sentence = m.group()
            key = re.sub(r"[\s，,。！？!?；;、]", "", _CONNECTIVE.sub("", sentence.strip()))
            runs = {key[i : i + 3] for i in range(len(key) - 2)}
            if len(key) >= _MIN_REPEAT and (
                key in seen
                or (not re.search(r"\d", key) and len(runs & said) >= _NEAR_REPEAT * len(runs))
            ):
                continue
            seen.add(key)
            said |= runs
            kept.append(sentence)
        text = "".join(kept).rstrip()
        if not text:  # the whole paragraph was said before: its subheading waits for a body
            end = len(out)
            while end and not out[end - 1].strip():
                end -= 1
            if orphan is None and end and _bare_heading(out[end - 1]):
                orphan = out[end - 1 :]
                del out[end - 1 :]
            continue
        if orphan is not None:
            if not _bare_heading(text):
                out.extend(orphan)
            orphan = None
        out.append(text)
    return out


def _bare_heading(line: str) -> bool:
    """A short line without sentence marks or figures: a subheading ("行业处境")."""
    plain = line.strip()
    return 0 < len(plain) <= 12 and not _SENTENCE_MARK.search(plain) and not re.search(r"\d", plain)


def _is_prose(line: str) -> bool:
    marker = LIST_PREFIX.match(line.lstrip())
    return (marker is None or marker.end() == 0) and _SENTENCE_MARK.search(line) is not None


def _like_title(heading: str, spec: SectionSpec) -> bool:
    """A short first line with no punctuation that shares two characters with the section's
    title reads as the model's own version of the heading ("资源背景" for 营销背景)."""
    if len(heading) > 12 or _SENTENCE_MARK.search(heading):
        return False
    return len(set(heading) & set(spec.title)) >= 2


def _echoes_header(line: str, header: Sequence[tuple[str, str]]) -> bool:
    """ "广告主：示例茶饮（虚构品牌）。所属行业：餐饮/新茶饮。": the prompt's header, echoed."""
    rest = re.sub(r"\s+", "", LIST_PREFIX.sub("", line))
    if not rest:
        return False
    hits = 0
    for title, value in header:
        compact = re.sub(r"\s+", "", value)
        for sep in ("：", ":"):
            pair = f"{title}{sep}{compact}"
            if pair in rest:
                rest = rest.replace(pair, "")
                hits += 1
    return hits > 0 and len(re.sub(r"[。，,.；;、\s]", "", rest)) < 6


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
