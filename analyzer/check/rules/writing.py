"""Writing a judge would not accept as it stands: marks still to resolve, a section cut off
mid-sentence, a sentence said again, the prompt's or the model's own words, Markdown debris.

The detectors are :mod:`analyzer.quality.text` (the drafter's quality gates use the same ones).
In a draft (``ctx.draft``) each is an error: a model left it and the entry is not ready. In an
imported entry, a text copied from a web page is often cut by the page and may carry its
captions twice, so those read as warnings, and only where the signs are plain.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import compress, repeat
from operator import itemgetter

from analyzer.check.context import CheckContext
from analyzer.check.findings import Finding, Severity
from analyzer.check.registry import rule
from analyzer.library.parsed import Section
from analyzer.markers import REVIEW_NOTES, VERIFY
from analyzer.quality.issues import Issue
from analyzer.quality.text import (
    MIN_REPEAT,
    cut_off,
    date_shape,
    debris,
    leaks,
    pending,
    repeats,
    sentence_key,
)
from analyzer.zh.numbers import figures
from analyzer.zh.segments import COMMA, ENUM_COMMA, FULL_STOP

QUOTE = 30  # characters of a sentence quoted in a message


def sections(ctx: CheckContext) -> tuple[Section, ...]:
    """The award's sections that hold text, in the award's order."""
    return ctx.filled


def short(text: str, limit: int = QUOTE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def span(section: Section, issue: Issue) -> tuple[int, int]:
    return section.start + issue.start, section.start + issue.end


@rule("draft.review_notes", "草稿的撰写说明还在文件里")
def review_notes(ctx: CheckContext) -> Iterator[Finding]:
    """An exported draft's notes to its writer ("正文 81% 是照搬简报原句…") are no entry's text:
    the parser sets them aside, and a file that still has them is not ready to send."""
    if ctx.doc.review_notes:
        n = sum(1 for line in ctx.doc.review_notes.split("\n") if line.startswith("> - "))
        yield ctx.error(
            "",
            f"文件末尾还留着草稿的「{REVIEW_NOTES}」（{n} 条）：按说明改完后，提交前请删去整段。",
        )


@rule("draft.pending_marks", "未处理的【待核实】/【待补充】标记")
def pending_marks(ctx: CheckContext) -> Iterator[Finding]:
    """A mark left in is a fact nobody checked or a gap nobody filled: never ready."""
    if "【" not in ctx.text:
        return
    for section in sections(ctx):
        title = ctx.title(section.key)
        for issue in pending(section.text):
            start, end = span(section, issue)
            if issue.text == VERIFY:
                a, b = ctx.clause_span(start)
                clause = short(ctx.text[a:b].strip() or issue.text)
                # the figure the mark is about goes with it ("2800【待核实】")
                marked = [f for f in figures(ctx.text[a:start]) if a + f.end == start]
                start = a + marked[0].start if marked else start
                message = (
                    f"{title}：「{clause}」还带着{VERIFY}标记，这里的数字或说法没有核实。"
                    f"请按实际数据改正后删去标记，或删去这句。"
                )
            else:
                what = issue.text.strip("【】").partition("：")[2].strip("。")
                if what and len(what) <= 16 and "。" not in what:
                    message = f"{title}：还缺{what}（{issue.text}）。请补上后删去这个标记。"
                else:  # the drafter's note of what is missing, a sentence or more
                    note = f"：{short(what, 50)}" if what else ""
                    message = f"{title}：还留着【待补充】标记{note}。请补上内容后删去这个标记。"
            yield ctx.error(section.key, message, (start, end))


def _plainly_cut(line: str) -> bool:
    """Whether a line stopping mid-sentence was surely cut, not a caption or a note without its
    full stop: a sentence ended before in the same line, or the cut clause runs on with commas."""
    if line[-1:] in COMMA + ENUM_COMMA:
        return True
    body = line[:-1]
    return any(c in body for c in FULL_STOP) or sum(body.count(c) for c in COMMA) >= 2


@rule("text.cut_off", "句子没写完就断了")
def cut(ctx: CheckContext) -> Iterator[Finding]:
    last = max(ctx.present.values(), key=lambda s: s.end, default=None)
    for section in sections(ctx):
        title = ctx.title(section.key)
        for issue in cut_off(section.text):
            where = span(section, issue)
            tail = short(issue.text[-QUOTE:] if len(issue.text) > QUOTE else issue.text)
            if ctx.draft:
                yield ctx.error(
                    section.key,
                    f"{title}：最后一句在「{tail}」处断了，没有写完。请把这句补完整，或删去。",
                    where,
                )
                continue
            line_start = section.text.rfind("\n", 0, issue.start) + 1
            if not _plainly_cut(section.text[line_start : issue.end].rstrip()):
                continue  # a caption or a note without its full stop
            page = "（从网页复制的文字常被截断）" if section is last else ""
            yield ctx.warning(
                section.key,
                f"{title}：正文在「{tail}」处中断，像是被截断了{page}。请补全这一段。",
                where,
            )


def _said_twice(marked: str) -> bool:
    """Whether a finished sentence comes twice, word for word, in a section's text as
    :attr:`~analyzer.check.entry.EntryText.marked` writes it: what stands before each "。"
    since the last line break is a finished sentence. Plain ``str`` calls, for the imported
    entries that say nothing twice (most sections of most entries)."""
    pieces = marked.split("。")
    pieces.pop()  # what follows the last "。" is not finished
    # each piece's last line, stripped, the long ones kept: in C, item by item
    lines = list(map(str.strip, map(_LAST, map(str.rpartition, pieces, repeat("\n")))))
    said = list(compress(lines, map(MIN_REPEAT.__le__, map(len, lines))))
    return len(set(said)) < len(said)


_LAST = itemgetter(2)


def _begins_sentence(marked: str, pos: int) -> bool:
    """Whether only white space stands between the sentence terminator before ``pos`` and it."""
    before = max(marked.rfind("\n", 0, pos), marked.rfind("。", 0, pos))
    return not marked[before + 1 : pos].strip()


def _same_sentence(a: str, b: str) -> bool:
    """Word for word, or only the dates changed (a loop), as opposed to a near repeat."""
    ka, kb = sentence_key(a), sentence_key(b)
    return ka == kb or date_shape(ka) == date_shape(kb)


@rule("text.repeats", "重复的句子")
def repeated(ctx: CheckContext) -> Iterator[Finding]:
    groups: dict[tuple[str, str], list[Issue]] = {}  # (section, first sentence) → repeats
    # No finished sentence said twice in the whole text: none is said twice in a section that
    # begins where a sentence does either (its sentences are the text's). One pass, not one
    # per section.
    anywhere = ctx.draft or _said_twice(ctx.marked)
    for section in sections(ctx):
        if ctx.draft:
            found = repeats(section.text)
        elif (anywhere or not _begins_sentence(ctx.marked, section.start)) and _said_twice(
            ctx.marked[section.start : section.end]
        ):
            # An imported entry: only a sentence said again word for word, ending with a full
            # stop (a caption under each chart is none; a summary that rephrases is forgiven).
            found = repeats(section.text, near=False, ended=True)
            found = [i for i in found if sentence_key(i.text) == sentence_key(i.detail)]
        else:
            continue  # nothing said twice: most sections of most entries
        for issue in found:
            groups.setdefault((section.key, issue.detail), []).append(issue)
    for (key, first), again in groups.items():
        section = ctx.present[key]
        exact = all(_same_sentence(i.text, first) for i in again)
        times = f"重复了 {len(again) + 1} 次" if exact else "与前文几乎一样"
        severity: Severity = "error" if ctx.draft and exact else "warning"
        yield ctx.finding(
            severity,
            key,
            f"{ctx.title(key)}：「{short(first)}」这句话{times}。请只保留一次，用省下的篇幅写别的事实。",
            span(section, again[0]),
        )


def in_sections(ctx: CheckContext, found: list[Issue]) -> Iterator[tuple[Section, Issue]]:
    """Issues a detector found in the whole text, with the award's section each is in (one
    scan of the text, not one per section; headings and header fields are in none)."""
    for issue in found:
        section = ctx.section_at(issue.start)
        if section is not None and section.key in ctx.present and issue.end <= section.end:
            yield (
                section,
                Issue(
                    issue.kind,
                    issue.start - section.start,
                    issue.end - section.start,
                    issue.text,
                    issue.detail,
                ),
            )


@rule("text.leaks", "提示词或模型的自我描述")
def leaked(ctx: CheckContext) -> Iterator[Finding]:
    for section, issue in in_sections(ctx, leaks(ctx.text)):
        what = "撰写提示词里的话" if issue.detail == "提示词" else "写作者在描述自己的文字"
        yield ctx.finding(
            "error" if ctx.draft else "warning",
            section.key,
            f"{ctx.title(section.key)}：「{short(issue.text)}」是{what}，不是案例内容，"
            "评审一眼就能看出。请删去。",
            span(section, issue),
        )


@rule("text.debris", "Markdown 或代码符号")
def markup(ctx: CheckContext) -> Iterator[Finding]:
    by_section: dict[str, list[Issue]] = {}
    for section, issue in in_sections(ctx, [] if ctx.written else debris(ctx.text)):
        by_section.setdefault(section.key, []).append(issue)
    for section in sections(ctx):
        # a draft as written: the parser drops ``**`` that an export would print
        written = ctx.written.get(section.key)
        found = debris(written) if written is not None else by_section.get(section.key, [])
        if not found:
            continue
        where = span(section, found[0]) if written is None else _located(ctx, section, found[0])
        shown = "、".join(dict.fromkeys(f"「{short(i.text, 16)}」" for i in found[:4]))
        more = f"等 {len(found)} 处" if len(found) > 4 else ""
        yield ctx.finding(
            "error" if ctx.draft else "warning",
            section.key,
            f"{ctx.title(section.key)}：有 Markdown 或代码符号{shown}{more}，参赛表格会原样显示。"
            "请删去这些符号，小标题写成普通的一行文字。",
            where,
        )


def _located(ctx: CheckContext, section: Section, issue: Issue) -> tuple[int, int]:
    """Where the words inside a piece of markup are in the checked text ("核心洞察" of
    "**核心洞察**"); the section's heading when they are not there (a stray "**")."""
    words = issue.text.strip('#*_`{}[]|<>/:- \t"')
    at = ctx.text.find(words, section.start, section.end) if words else -1
    return (at, at + len(words)) if at != -1 else ctx.heading_span(section)
