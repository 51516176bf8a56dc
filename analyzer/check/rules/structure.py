"""Structure: is it an entry, are the award's sections there, full enough, in order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from itertools import pairwise

from analyzer.check import vocab
from analyzer.check.context import CheckContext, count_chars
from analyzer.check.findings import Finding
from analyzer.check.registry import rule
from analyzer.kinds import kind
from analyzer.library.sections import HeadingMatcher, award_names, normalized
from analyzer.zh.words import one_of

UNASSIGNED_MIN_CHARS = 60  # less than this before the first heading is a title, a link, residue


@rule("document.not_entry", "不是参赛案例", references=True)
def not_entry(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.doc.is_entry:
        return
    titles = "、".join(f"「{s.title}」" for s in ctx.schema.sections if s.required)
    generic = ctx.schema.key == "generic"
    what = "参赛案例" if generic else ctx.schema.name
    then = "，或指定奖项后再检查" if generic else ""
    yield ctx.error(
        "",
        f"这不是一份参赛案例，而是参考文档（演讲、报道或资料）：没有找到{what}的章节标题"
        f"（{titles}）。它可以作为参考资料收入案例库；如果它是参赛稿，请按这些标题分章节{then}。",
    )


@rule("sections.missing", "缺少必填章节")
def missing(ctx: CheckContext) -> Iterator[Finding]:
    for spec in ctx.schema.sections:
        if not spec.required or spec.key in ctx.present:
            continue
        if ctx.elsewhere is not None and spec.kind == "results":
            continue  # reported precisely by results.no_own_section
        hint = kind(spec.kind).hint
        yield ctx.error(spec.key, f"缺少「{spec.title}」章节：请加上这一标题，{hint}。")


@rule("sections.heading_differs", "章节标题不是表上的标题")
def heading_differs(ctx: CheckContext) -> Iterator[Finding]:
    """A section found by what its heading says (营销背景 in an Effie entry is 挑战/背景/目标)
    whose heading is not one the award's form uses: judges look for the form's headings."""
    if ctx.schema.key == "generic":
        return  # an award with no form of its own: the headings stay as the entry writes them
    for spec in ctx.schema.sections:
        section = ctx.present.get(spec.key)
        if section is None or not section.title:
            continue
        if normalized(section.title) in _own_titles(spec.title, spec.aliases):
            continue
        yield ctx.warning(
            spec.key,
            f"「{section.title}」不是{ctx.schema.name}的章节标题：按内容算作「{spec.title}」。"
            f"请改用「{spec.title}」这一标题，并确认内容回答了它要求的部分，评审按表上的标题找内容。",
            ctx.heading_span(section),
        )


@rule("results.no_own_section", "效果没有自己的章节")
def no_own_section(ctx: CheckContext) -> Iterator[Finding]:
    found = ctx.elsewhere
    if found is None:
        return
    results = next((s for s in ctx.results_specs if s.required), ctx.results_specs[0])
    where = ctx.title(found.section)
    first_line = ctx.text[found.start : found.end].split("\n", 1)[0]
    quote = first_line if len(first_line) <= 30 else first_line[:29] + "…"
    yield ctx.error(
        results.key,
        f"{results.title}：效果没有自己的章节——结果数据写在「{where}」的结尾段落里（“{quote}”）。"
        f"请加上「{results.title}」标题，把这些结果移到它下面，逐项写明指标、对比基线和数据来源。",
        (found.start, found.end),
    )


@rule("sections.empty", "章节只有标题")
def empty(ctx: CheckContext) -> Iterator[Finding]:
    for spec in ctx.schema.sections:
        section = ctx.present.get(spec.key)
        if section is None or ctx.chars[spec.key] > 0:
            continue
        hint = kind(spec.kind).hint
        message = f"{spec.title}：只有标题，没有内容。请{hint}。"
        span = ctx.heading_span(section)
        yield (
            ctx.error(spec.key, message, span)
            if spec.required
            else ctx.warning(spec.key, message, span)
        )


@rule("sections.thin", "章节内容单薄")
def thin(ctx: CheckContext) -> Iterator[Finding]:
    for spec in ctx.schema.sections:
        section = ctx.present.get(spec.key)
        if section is None:
            continue
        n = ctx.chars[spec.key]
        if 0 < n < spec.min_chars:
            hint = kind(spec.kind).hint
            yield ctx.warning(
                spec.key,
                f"{spec.title}：只有 {n} 字，内容太单薄（至少 {spec.min_chars} 字）。请{hint}。",
                (section.start, section.end),
            )


@rule("sections.order", "章节顺序不对")
def order(ctx: CheckContext) -> Iterator[Finding]:
    rank = {s.key: i for i, s in enumerate(ctx.schema.sections)}
    present = [s for s in ctx.doc.sections if s.key in rank]
    keep = _longest_increasing([rank[s.key] for s in present])
    expected = "、".join(f"「{s.title}」" for s in ctx.schema.sections if s.key in ctx.present)
    for i, section in enumerate(present):
        if i in keep:
            continue
        yield ctx.warning(
            section.key,
            f"{ctx.title(section.key)}：章节顺序与{ctx.schema.name}的要求不一致。"
            f"请按 {expected} 的顺序排列，评审按这个顺序阅读。",
            ctx.heading_span(section),
        )


def _longest_increasing(values: list[int]) -> set[int]:
    """Indexes of one longest strictly increasing subsequence (the sections already in order)."""
    if all(a < b for a, b in pairwise(values)):
        return set(range(len(values)))  # all in order (most entries): the whole of it
    best = [1] * len(values)
    prev = [-1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i] and best[j] + 1 > best[i]:
                best[i], prev[i] = best[j] + 1, j
    i = max(range(len(values)), key=lambda k: (best[k], -k))
    out = set()
    while i != -1:
        out.add(i)
        i = prev[i]
    return out


@rule("sections.unassigned_text", "开头的文字不属于任何章节")
def unassigned_text(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.doc.preamble or not ctx.doc.sections:
        return
    names = _award_names()
    title = normalized(ctx.doc.title)
    leftover: list[str] = []
    for line in ctx.doc.preamble.split("\n"):
        norm = normalized(vocab.URL.sub("", line))
        if len(norm) < 6 or (
            title and (norm in title or (title in norm and len(norm) < len(title) + 10))
        ):
            continue  # residue, a link, the title
        if len(norm) <= 40 and names.search(norm):
            continue  # the award's own name ("第 11 届金鼠标数字营销大赛")
        if vocab.AGENCY_FIELD.match(line) or _looks_like_field(line):
            continue  # a header field this award does not know (checked by other rules)
        leftover.append(line)
    n = sum(count_chars(x) for x in leftover)
    if n < UNASSIGNED_MIN_CHARS:
        return
    head = ctx.doc.sections[0].start
    start = ctx.text.find(leftover[0], 0, head)
    end = ctx.text.find(leftover[-1], max(start, 0), head)
    span = (start, end + len(leftover[-1])) if start != -1 and end != -1 else None
    first = ctx.doc.sections[0]
    yield ctx.warning(
        "",
        f"开头有 {n} 字不属于任何章节（“{leftover[0][:24]}”）。评审只按章节阅读："
        f"请把这段内容放进相应章节（如「{ctx.title(first.key)}」），或删去。",
        span,
    )


def _looks_like_field(line: str) -> bool:
    for sep in ("：", ":"):
        name, found, value = line.partition(sep)
        if found and value.strip() and 0 < len(normalized(name)) <= 8:
            return True
    return False


@rule("sections.duplicate", "章节标题重复")
def duplicate(ctx: CheckContext) -> Iterator[Finding]:
    """A heading written a second time, inside another section: the parser keeps the first, so
    what follows the second one is read as part of the section above it."""
    matcher = _matcher(ctx.schema.key)
    longest, known = matcher.longest_line, matcher.beginnings
    reported: set[str] = set()
    for section in ctx.doc.sections:
        lines = ctx.text[section.start : section.end].split("\n")
        # a paragraph has no heading standing alone on it, nor has a line beginning with
        # what begins no heading: few lines are worth matching
        for i in [
            i
            for i, line in enumerate(lines)
            if len(line) <= longest and known.get(line[:1], True) and line.strip()
        ]:
            line = lines[i]
            if not matcher.may_begin(line[:1]):
                continue
            m = matcher.match(line)
            if m is None or not m.standalone:
                continue
            if m.spec.key not in ctx.present or m.spec.key in reported:
                continue
            again = m.spec.key == section.key
            if again and normalized(m.title) not in {
                normalized(section.title),
                normalized(m.spec.title),
            }:
                continue  # an alias of its own section inside it is a sub-label ("效果")
            if len(normalized(m.title)) < 4 and normalized(m.title) != normalized(m.spec.title):
                continue  # a short word alone on a line ("创意") is a sub-label, not a heading
            reported.add(m.spec.key)
            start = section.start + sum(len(x) + 1 for x in lines[:i])
            lead = len(line) - len(line.lstrip())
            here = ctx.title(section.key)
            message = (
                f"「{m.title}」这个章节标题在「{here}」里又写了一次，两段内容都算作「{here}」。"
                "请删去重复的标题，把两段合并成一段。"
                if again
                else f"「{m.title}」这个章节标题出现了两次，第二次在「{here}」里，"
                f"它后面的内容会被算进「{here}」。请把两处「{m.spec.title}」合并成一个章节。"
            )
            yield ctx.warning(section.key, message, (start + lead, start + len(line.rstrip())))


@cache
def _own_titles(title: str, aliases: tuple[str, ...]) -> frozenset[str]:
    """A section's title and aliases as headings are compared."""
    return frozenset(normalized(a) for a in (title, *aliases))


@cache
def _award_names() -> re.Pattern[str]:
    """Every name of every award, as one pattern: finds whether a line names one."""
    return re.compile(one_of(re.escape(n) for n in sorted(award_names())) or "(?!)")


@cache
def _matcher(award: str) -> HeadingMatcher:
    from analyzer.schema import get_award

    return HeadingMatcher(get_award(award))
