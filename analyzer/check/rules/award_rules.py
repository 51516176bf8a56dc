"""Award rules read from the schema: no agency names where forbidden; length limits."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.check import vocab
from analyzer.check.context import CheckContext
from analyzer.check.findings import Finding
from analyzer.check.registry import rule


def _section_at(ctx: CheckContext, pos: int) -> str:
    section = ctx.section_at(pos)
    return section.key if section else ""


def _has_any(text: str, words: tuple[str, ...]) -> bool:
    """A plain substring test first: far cheaper than a regex scan of the whole entry."""
    return any(w in text for w in words)


@rule("award.agency_name", "出现代理公司名称")
def agency_name(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.schema.forbid_agency_names:
        return
    award = ctx.schema.name
    own = {v for k in ("brand", "advertiser", "company") if (v := ctx.doc.field_value(k))}
    field_names: set[str] = set()
    text = ctx.text
    fields = vocab.AGENCY_FIELD.finditer(text) if _has_any(text, vocab.AGENCY_FIELD_WORDS) else ()
    for m in fields:
        line_start = ctx.text.rfind("\n", 0, m.start()) + 1
        if not vocab.FIELD_DECOR.fullmatch(ctx.text, line_start, m.start()):
            continue  # "代理" inside a sentence, not a header line
        field_names.add(m.group("name").strip())
        yield ctx.error(
            _section_at(ctx, m.start()),
            f"{award}不允许出现代理公司：请删去「{m.group().strip()}」这一行。",
            m.span(),
        )
    voices = list(vocab.AGENCY_VOICE.finditer(text)) if _has_any(text, vocab.AGENCY_VOICES) else []
    if voices:
        first = voices[0]
        key = _section_at(ctx, first.start())
        more = f"（全文共 {len(voices)} 处）" if len(voices) > 1 else ""
        yield ctx.error(
            key,
            f"{ctx.title(key) if key else '正文'}：「{first.group()}」{more}暴露了代理公司身份，"
            f"{award}不允许出现代理公司。请改为以品牌方的口吻叙述（如「品牌」「项目团队」）。",
            first.span(),
        )
    seen: set[str] = set()
    for m in vocab.KNOWN_AGENCY.finditer(ctx.text):
        name = m.group()
        if name in seen or any(name in f for f in field_names) or any(name in o for o in own):
            continue
        seen.add(name)
        key = _section_at(ctx, m.start())
        yield ctx.error(
            key,
            f"{ctx.title(key) if key else '正文'}：出现了代理公司「{name}」，{award}不允许出现代理公司名称。"
            "请删去，或改为「代理团队」等不具名的说法。",
            m.span(),
        )
    for pattern, agency_like, words in (
        (vocab.AGENCY_COMPANY_END, True, vocab.AGENCY_COMPANY_WORDS),
        (vocab.AGENCY_TEAM_END, True, vocab.AGENCY_TEAM_WORDS),
        (vocab.COMPANY_END, False, vocab.COMPANY_WORDS),
    ):
        if not _has_any(text, words):
            continue  # no match can be there
        for m in pattern.finditer(text):
            found = _company_name(ctx, m.start(), m.end())
            if found is None:
                continue
            start, name = found
            if (
                name in seen
                or any(name in f or f in name for f in field_names)
                or any(o in name for o in own)
                or vocab.MEDIA_OWNER.search(name)
                or any(name in s or s in name for s in seen)
            ):
                continue  # the brand owner, a media owner, or already reported
            seen.add(name)
            key = _section_at(ctx, start)
            where = ctx.title(key) if key else "正文"
            if agency_like:
                yield ctx.error(
                    key,
                    f"{where}：出现了公司名「{name}」，{award}不允许出现代理公司名称。"
                    "请删去，或改为「代理团队」等不具名的说法。",
                    (start, m.end()),
                )
            else:
                yield ctx.warning(
                    key,
                    f"{where}：出现了公司名「{name}」。如果它是代理、制作或其他合作公司，"
                    f"{award}不允许出现，请删去或改为不具名的说法；如果是品牌方或媒体，可以保留。",
                    (start, m.end()),
                )


def _company_name(ctx: CheckContext, start: int, end: int) -> tuple[int, str] | None:
    """(start, name) of the company whose name ends at ``start:end``, or None when there is
    no name before the ending ("广告公司" alone is not a name)."""
    lead = vocab.AGENCY_NAME_CHARS.search(ctx.text, max(0, start - 12), start)
    if lead is None:
        return None
    begin = lead.start()
    if cut := vocab.AGENCY_NAME_BREAK.match(ctx.text, begin, start):
        begin = cut.end()
    if start - begin < 2:
        return None
    return begin, ctx.text[begin:end]


@rule("length.section_over", "章节超出字数上限")
def section_over(ctx: CheckContext) -> Iterator[Finding]:
    for spec in ctx.schema.sections:
        section = ctx.present.get(spec.key)
        if section is None or spec.max_chars is None:
            continue
        n = ctx.chars[spec.key]
        if n > spec.max_chars:
            yield ctx.error(
                spec.key,
                f"{spec.title}：{n} 字，超过{ctx.schema.name}的上限 {spec.max_chars} 字。"
                f"请删减 {n - spec.max_chars} 字以上，保留目标、关键动作与量化结果。",
                (section.start, section.end),
            )


@rule("length.total_over", "全文超出字数上限")
def total_over(ctx: CheckContext) -> Iterator[Finding]:
    limit = ctx.schema.max_total_chars
    if limit is None:
        return
    n = sum(ctx.chars.values())
    if n > limit:
        yield ctx.error(
            "",
            f"全文正文 {n} 字，超过{ctx.schema.name}的上限 {limit} 字。请删减 {n - limit} 字以上。",
        )
