"""Drafting an entry section by section in the award's structure, with a local model.

    draft_entry(brief, generator, options)       → EntryDraft (header fields + every section)
    draft_section(brief, generator, key, options) → DraftedSection (regenerate one)

The award's sections and header fields come from :mod:`analyzer.schema`; each section's prompt
comes from :mod:`analyzer.drafting.prompt`, with the facts that section is written from. A small
model stays on task one section at a time, and the user can regenerate one section. What the
model writes goes through :data:`analyzer.drafting.pipeline.PIPELINE` before anyone sees it as
final: tidied, copies dropped, the brief's names, rows and figures put back, and every number the
brief does not hold marked 【待核实】. A section the brief has no facts for is not generated: it
gets a 【待补充：…】 note telling the user what to add. Every change is listed in the draft's
review notes.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from analyzer.documents.brief import FACT_FIELDS, Brief, check_header_fields, drafting_order
from analyzer.drafting.compose import compose_section
from analyzer.drafting.context import MostlyCopied, Note, SectionContext, Summarized
from analyzer.drafting.exemplars import Candidate, ExemplarFn, choose
from analyzer.drafting.gates import Verdict, evaluate, prose_of
from analyzer.drafting.guards.copyguard import CopyFlag, Source
from analyzer.drafting.guards.factguard import Allowed, Flag, allowed_values
from analyzer.drafting.options import DraftOptions
from analyzer.drafting.pipeline import CLEANUP, COMPOSED, REPAIRS, run_steps
from analyzer.drafting.prompt import brief_names, build_messages, header_fields, placeholder
from analyzer.drafting.result import DraftedSection, EntryDraft
from analyzer.errors import AwardWriterError, BriefError
from analyzer.kinds import RESULTS
from analyzer.library.exemplar import Exemplar
from analyzer.llm.base import Generator, Message, Sampling
from analyzer.markers import TO_ADD
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress
from analyzer.quality.text import is_repeat, sentence_key
from analyzer.schema import AwardSchema, SectionSpec, get_award

log = logging.getLogger(__name__)

SUMMARY_TOKENS = 160  # the prose of a results section (its figures are listed, not generated)
CANDIDATES = 6  # exemplars asked of the search, before the relevance cut
LOOP_REPEATS = 3  # repeated sentences in one reply after which it is stopped as a loop

__all__ = ["DraftOptions", "ExemplarFn", "draft_entry", "draft_section", "partial_entry"]


@dataclass
class _Drafting:
    """What every section of one draft shares."""

    brief: Brief
    generator: Generator
    schema: AwardSchema
    options: DraftOptions
    allowed: Allowed
    own: tuple[str, ...]  # text a draft may repeat: the brief, the award's own titles
    on_token: Callable[[str, str], None] | None
    cancel: CancelToken | None
    on_retry: Callable[[str, int, str], None] | None = None
    notes: list[str] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)  # section key → its text as it stands
    dropped: dict[str, None] = field(default_factory=dict)  # titles of cases cut as unrelated

    def all_notes(self) -> list[str]:
        if not self.dropped:
            return self.notes
        titles = "、".join(f"「{t}」" for t in self.dropped)
        return [*self.notes, f"与本简报相关度低、未作范例的相似案例：{titles}"]


def draft_entry(
    brief: Brief,
    generator: Generator,
    options: DraftOptions | None = None,
    *,
    on_section: Callable[[DraftedSection], None] | None = None,
    on_token: Callable[[str, str], None] | None = None,
    on_retry: Callable[[str, int, str], None] | None = None,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> EntryDraft:
    """Draft every section of the award in order; ``on_token(section_key, piece)`` streams.

    ``on_retry(section_key, attempt, why)`` announces a section drafted again (what streamed of
    it so far is dropped). Raises ``Cancelled`` when ``cancel`` is set; the sections finished
    before were already handed to ``on_section`` (and :func:`partial_entry` turns them into an
    incomplete draft).
    """
    run = _start(brief, generator, options or DraftOptions(), on_token, cancel, on_retry)
    sections = []
    total = len(run.schema.sections)
    for i, spec in enumerate(drafting_order(run.schema)):
        if cancel is not None:
            cancel.raise_if_cancelled()
        on_progress(Progress(i, total, spec.title))
        drafted = _draft_one(run, spec)
        sections.append(drafted)
        run.written[spec.key] = drafted.text
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
    options: DraftOptions | None = None,
    *,
    on_token: Callable[[str, str], None] | None = None,
    on_retry: Callable[[str, int, str], None] | None = None,
    cancel: CancelToken | None = None,
) -> DraftedSection:
    """Draft (or regenerate) one section; put it back with ``EntryDraft.with_section``."""
    run = _start(brief, generator, options or DraftOptions(), on_token, cancel, on_retry)
    try:
        spec = run.schema.section(section_key)
    except KeyError:
        keys = ", ".join(s.key for s in run.schema.sections)
        raise BriefError(
            f"奖项 {run.schema.key} 没有 {section_key!r} 这一部分；可选：{keys}"
        ) from None
    drafted = _draft_one(run, spec)
    return replace(drafted, notes=(*drafted.notes, *dict.fromkeys(run.all_notes())))


def _start(
    brief: Brief,
    generator: Generator,
    options: DraftOptions,
    on_token: Callable[[str, str], None] | None,
    cancel: CancelToken | None,
    on_retry: Callable[[str, int, str], None] | None = None,
) -> _Drafting:
    schema = _award(brief, options.award)
    check_header_fields(brief, schema)
    own = (
        *brief.all_text(),
        schema.name,
        schema.name_en,
        *schema.names,
        *(t for s in schema.sections for t in (s.title, *s.aliases)),
        *(t for f in schema.fields for t in (f.title, *f.aliases)),
    )
    run = _Drafting(
        brief, generator, schema, options, allowed_values(brief), own, on_token, cancel, on_retry
    )
    run.written.update(options.said)
    return run


def _entry(
    brief: Brief, schema: AwardSchema, sections: list[DraftedSection], notes: list[str]
) -> EntryDraft:
    order = {s.key: i for i, s in enumerate(schema.sections)}
    return EntryDraft(
        award=schema.key,
        award_name=schema.name,
        title=f"{brief.name or '参赛案例'}｜{schema.name}参赛稿",
        header=header_fields(brief, schema),
        sections=tuple(sorted(sections, key=lambda s: order.get(s.key, len(order)))),
        notes=tuple(dict.fromkeys(notes)),
    )


def _award(brief: Brief, award: str | None) -> AwardSchema:
    key = award or brief.award
    if not key:
        raise BriefError('简报没有指定奖项：在简报中写 award = "…"，或使用 --award KEY')
    return get_award(key)


def _context(
    run: _Drafting, spec: SectionSpec, facts: dict[str, tuple[str, ...]]
) -> SectionContext:
    brief = run.brief
    said, later = _said_before(run, spec)
    return SectionContext(
        brief=brief,
        schema=run.schema,
        spec=spec,
        facts=facts,
        fact_lists=[getattr(brief, n) for n in FACT_FIELDS],
        names=brief_names(brief),
        brief_text="\n".join(brief.all_text()),
        header=header_fields(brief, run.schema),
        allowed=run.allowed,
        own=run.own,
        said=said,
        said_later=later,
    )


def _said_before(run: _Drafting, spec: SectionSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The prose of the sections written before ``spec``, in the award's order, and the part of
    it shown after ``spec`` (a results section's rows are the brief's list, a 【待补充】 note no
    prose)."""
    order = drafting_order(run.schema)
    before = {s.key for s in order[: order.index(spec)]}
    said, later, shown_after = [], [], False
    for other in run.schema.sections:
        shown_after = shown_after or other.key == spec.key
        text = run.written.get(other.key, "").strip()
        if other.key in before and text and not text.startswith(TO_ADD):
            said.append(prose_of(text, other.kind))
            if shown_after:
                later.append(said[-1])
    return tuple(said), tuple(later)


@dataclass(frozen=True)
class _Try:
    """One draft of a section, repaired and judged."""

    text: str
    notes: list[Note]
    copies: list[Note]
    verdict: Verdict
    finish_reason: str
    exemplars: tuple[str, ...]


def _draft_one(run: _Drafting, spec: SectionSpec) -> DraftedSection:
    start = time.perf_counter()
    facts = run.brief.facts_for_section(run.schema, spec.key)
    if not facts:
        text = placeholder(run.brief, spec)
        if run.on_token is not None:
            run.on_token(spec.key, text)
        return DraftedSection(spec.key, spec.title, spec.kind, text, "placeholder")
    found = _exemplars_for(run, spec, facts)
    ctx = _context(run, spec, facts)
    tries = [_attempt(run, ctx, found, 0)]
    first = time.perf_counter() - start
    options = run.options
    while (
        not tries[-1].verdict.passed
        and len(tries) < options.tries
        # a failing first try always gets a second; more within the time budget
        and (len(tries) < 2 or time.perf_counter() - start < first * options.retry_time)
    ):
        if run.on_retry is not None:
            why = "；".join(f.message for f in tries[-1].verdict.failures if f.hard)
            run.on_retry(spec.key, len(tries) + 1, why)
        tries.append(_attempt(run, ctx, found, len(tries)))
    best = min(tries, key=lambda t: t.verdict.penalty)
    text, notes, composed = best.text, list(best.notes), False
    failures = best.verdict.messages()
    if not best.verdict.passed:
        plain = compose_section(run.brief, run.schema, spec)
        if plain or spec.kind == RESULTS:  # a results section is its rows at the least
            text, notes = run_steps(COMPOSED, plain, ctx)
            composed = True
            tried = "；".join(m for m in failures)
            failures = [
                f"模型写了 {len(tries)} 稿都没有通过检查（{tried}），本部分已按简报组织成文，可重新生成"
            ]
    return DraftedSection(
        key=spec.key,
        title=spec.title,
        kind=spec.kind,
        text=text,
        status="generated",
        flags=tuple(n for n in notes if isinstance(n, Flag)),
        exemplars=best.exemplars,
        finish_reason=best.finish_reason,
        seconds=time.perf_counter() - start,
        copies=tuple(n for n in best.copies if isinstance(n, CopyFlag)),
        notes=tuple(n for n in notes if isinstance(n, str)),
        exemplar_form=options.exemplar_form,
        tries=len(tries),
        composed=composed,
        failures=tuple(failures),
    )


def _attempt(run: _Drafting, ctx: SectionContext, found: list[Candidate], attempt: int) -> _Try:
    """Draft try ``attempt`` of a section: write, clean up, repair, judge."""
    spec = ctx.spec
    cases = [c.exemplar for c in found]  # always guarded against, shown to the model or not
    shown = cases if run.options.exemplar_form != "none" else []
    sampling = run.options.sampling(attempt)
    text, ctx, cleanup = _write(run, ctx, shown, cases, sampling)
    notes: list[Note] = []
    copied = any(isinstance(n, MostlyCopied) for n in cleanup)
    if shown and (copied or not text.strip()):
        why = "大部分照抄了范例" if copied else "删去照抄的句子后没有剩下内容"
        notes.append(f"初稿{why}，已不用范例重写")
        text, ctx, cleanup = _write(run, ctx, [], cases, sampling)
        found = []
    text, repairs = run_steps(REPAIRS, text, ctx)
    for i in reversed(range(len(repairs))):
        if isinstance(note := repairs[i], Summarized):  # what the repairs before it mended is gone
            repairs = [note.message, *repairs[i + 1 :]]
            break
    notes += repairs
    verdict = evaluate(
        text,
        run.brief,
        kind=spec.kind,
        typical_chars=run.options.typical_chars.get(spec.key),
        said=ctx.said,
    )
    return _Try(text, notes, cleanup, verdict, ctx.finish_reason, tuple(c.label for c in found))


def _write(
    run: _Drafting,
    ctx: SectionContext,
    shown: Sequence[Exemplar],
    guarded: Sequence[Exemplar],
    sampling: Sampling | None = None,
) -> tuple[str, SectionContext, list[Note]]:
    """Generate one section's text (showing ``shown``) and clean it up (:data:`CLEANUP`),
    guarding against copies of ``guarded`` cases and of the prompt."""
    spec = ctx.spec
    opening = run.options.open_reply and bool(getattr(run.generator, "continues_reply", False))
    messages = build_messages(
        run.brief, run.schema, spec, shown, form=run.options.exemplar_form, opening=opening
    )
    limit = run.options.max_new_tokens
    budget = min(limit, SUMMARY_TOKENS) if spec.kind == RESULTS else limit
    pieces: list[str] = []
    if messages[-1]["role"] == "assistant":  # the reply's beginning: the model continues it
        pieces.append(str(messages[-1]["content"]))
        if run.on_token is not None:
            run.on_token(spec.key, pieces[0])
    extra = {"sampling": sampling} if sampling is not None else {}
    loop = _LoopWatch()
    looping = False
    for piece in run.generator.stream(
        messages,
        max_new_tokens=budget,
        cancel=run.cancel,
        time_budget=run.options.time_budget,
        **extra,
    ):
        pieces.append(piece)
        if run.on_token is not None:
            run.on_token(spec.key, piece)
        if loop.feed(piece):  # the model says the same sentence again and again: stop it
            looping = True
            break
    sources = [Source(e.label, e.text, e.names) for e in (guarded or shown)]
    sources.append(Source("提示词", _instructions(messages, run.brief), kind="prompt"))
    reason = "repetition" if looping else str(getattr(run.generator, "finish_reason", ""))
    ctx = replace(ctx, sources=tuple(sources), finish_reason=reason)
    text, notes = run_steps(CLEANUP, "".join(pieces), ctx)
    return text, ctx, notes


class _LoopWatch:
    """Watches a reply as it streams for a loop: :data:`LOOP_REPEATS` sentences that each say a
    sentence before them again (word for word, or with only a date changed: "9 月开始露营新手站…",
    "10 月开始露营新手站…"). A small model caught so would spend the whole budget on it."""

    def __init__(self) -> None:
        self.tail = ""
        self.seen: set[str] = set()
        self.repeats = 0

    def feed(self, piece: str) -> bool:
        self.tail += piece
        *done, self.tail = re.split(r"(?<=[。！？!?；;\n])", self.tail)
        for sentence in done:
            key = sentence_key(sentence)
            if is_repeat(key, self.seen, set()):
                self.repeats += 1
            self.seen.add(key)
        return self.repeats >= LOOP_REPEATS


def _instructions(messages: Sequence[Message], brief: Brief) -> str:
    """The prompt's own words: the brief's text cut out (a line break in its place), so that
    restating a fact the prompt listed ("- 提升品牌在新进入城市…") never counts as an echo."""
    text = "\n".join(str(m["content"]) for m in messages)
    for piece in sorted(set(brief.all_text()), key=len, reverse=True):
        if len(piece) >= 2:
            text = text.replace(piece, "\n")
    return text


def _exemplars_for(
    run: _Drafting, spec: SectionSpec, facts: dict[str, tuple[str, ...]]
) -> list[Candidate]:
    find, k = run.options.exemplars, run.options.k
    if find is None or k <= 0:
        return []
    query = "\n".join([run.brief.name, *[line for lines in facts.values() for line in lines]])
    try:
        candidates = list(
            find(
                query,
                award=run.schema.key,
                section_key=spec.key,
                kind=spec.kind,
                k=max(k, CANDIDATES),
            )
        )
    except AwardWriterError as exc:  # no index yet, an empty library: draft without
        log.info("no exemplars for %s: %s", spec.key, exc)
        run.notes.append(f"没有使用范例：{exc}")
        return []
    kept, dropped = choose(query, candidates, k, industry=run.brief.industry)
    run.dropped.update((c.exemplar.title, None) for c in dropped)
    return kept
