"""Model output as section text: no echoed heading, header or prompt label, no Markdown,
no repeated paragraph or sentence, whole sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from analyzer.documents.brief import SUMMARY_KINDS
from analyzer.drafting.context import Summarized
from analyzer.kinds import OBJECTIVES, RESULTS
from analyzer.llm.base import repeat_key
from analyzer.quality.text import MIN_REPEAT, NEAR_REPEAT, is_repeat, sentence_key, trigrams
from analyzer.schema import SectionSpec
from analyzer.zh.segments import COMMA, FULL_STOP, LIST_MARK, SEMICOLON, ends

if TYPE_CHECKING:
    from analyzer.drafting.context import Note, SectionContext

_TRIM_AT = "。！？!?」）)"
_DIGIT = re.compile(r"\d")


def paragraphs_step(text: str, ctx: SectionContext) -> tuple[str, list[str]]:
    """Short sentences on lines of their own joined into paragraphs (after the repairs, which
    read the model's lines one by one). Objectives stay one per line, as entries list them."""
    if ctx.spec.kind == OBJECTIVES:
        return text, []
    return "\n".join(_paragraphs(text.split("\n"))), []


def tidy_step(text: str, ctx: SectionContext) -> tuple[str, list[str]]:
    """:func:`tidy` as a pipeline step: a results section keeps only prose (its figures are
    listed from the brief), a section stopped by a budget ends at its last whole sentence."""
    tidied = tidy(
        text,
        ctx.spec,
        cut=ctx.finish_reason in ("max_tokens", "time", "repetition"),
        header=ctx.header,
        prose_only=ctx.spec.kind == RESULTS,
    )
    return tidied, []


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


_SENTENCE_MARK = ends(FULL_STOP, SEMICOLON, COMMA)
_SENTENCE = re.compile(rf"[^{FULL_STOP}]+[{FULL_STOP}]*")


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
    from analyzer.library.sections import award_names, normalized  # the parser's own forms

    return normalized(text.strip("：: 。")) in award_names()


def said_once_step(text: str, ctx: SectionContext) -> tuple[str, list[Note]]:
    """Nothing said twice in the draft: a sentence that this section or a section written
    before it (``ctx.said``) says already goes, after the repairs put the brief's facts back. A
    section all of whose sentences were said before keeps them (the repeat gate reports it)."""
    if not ctx.said:
        return text, []
    kept = _said_once(text, ctx)
    if ctx.spec.kind in SUMMARY_KINDS and len(kept) * 2 < len(text.strip()):
        # a summary that mostly said the body again: sum it up from the brief's own fields
        from analyzer.drafting.compose import compose_section

        summary = _said_once(compose_section(ctx.brief, ctx.schema, ctx.spec), ctx)
        if len(summary) > len(kept):
            why = "模型写的句子大多与正文重复，已按简报重新概括"
            return summary, [Summarized(why)]
    return (kept, []) if kept else (text, [])


def _said_once(text: str, ctx: SectionContext) -> str:
    lines = _without_repeated_sentences(text.split("\n"), before=ctx.said, later=ctx.said_later)
    return "\n".join(lines).strip()


class _Later:
    """The sentences of sections shown after this one but written before it (the body under an
    overview written last): read in order, none may become a near repeat of this one's."""

    def __init__(self, texts: Sequence[str]) -> None:
        # per sentence that is no repeat yet: its runs not said before it, and how many of them
        # said here would make it one
        self.items: list[tuple[set[str], float]] = []
        said: set[str] = set()
        for line in (line for t in texts for line in t.split("\n")):
            for m in _SENTENCE.finditer(line):
                key = sentence_key(m.group())
                runs = trigrams(key)
                need = NEAR_REPEAT * len(runs) - len(runs & said)
                if len(key) >= MIN_REPEAT and not _DIGIT.search(key) and need > 0:
                    self.items.append((runs - said, need))
                said |= runs

    def spoiled_by(self, here: set[str]) -> bool:
        return any(len(fresh & here) >= need for fresh, need in self.items)


def _without_repeated_sentences(
    lines: list[str], before: Sequence[str] = (), later: Sequence[str] = ()
) -> list[str]:
    """Drop every sentence that says again a sentence before it (:func:`analyzer.quality.text.
    is_repeat`): word for word (behind a new connective or not), or near enough that most of
    its three-character runs were all said before ("中国品牌面临着巨大的市场挑战…" after "…中国品牌面临巨大的市场挑战…").
    A sentence with a number is never dropped as a near repeat; a line left empty goes, and so
    does a subheading ("品牌面临的挑战") left with nothing under it. ``before``: text said
    before these lines (other sections), whose sentences count as said; ``later``: the part of
    it shown after these lines, none of whose sentences may come to repeat a kept one."""
    seen: set[str] = set()
    said: set[str] = set()  # three-character runs of the sentences kept so far
    after = _Later(later) if later else None
    here: set[str] = set()  # three-character runs of the sentences kept of these lines
    for m in (m for t in before for line in t.split("\n") for m in _SENTENCE.finditer(line)):
        seen.add(key := sentence_key(m.group()))
        said |= trigrams(key)
    out: list[str] = []
    orphan: list[str] | None = None  # a subheading whose paragraph went, with the blank lines
    for line in lines:
        if not line.strip():
            out.append(line)  # paragraph breaks stay
            continue
        kept = []
        for m in _SENTENCE.finditer(line):
            sentence = m.group()
            key = sentence_key(sentence)
            if is_repeat(key, seen, said):
                continue
            runs = trigrams(key)
            if after is not None and after.spoiled_by(here | runs):
                continue
            seen.add(key)
            said |= runs
            here |= runs
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


_SHORT_LINE = 80  # characters: a line this short that is one sentence is not a paragraph


def _paragraphs(lines: list[str]) -> list[str]:
    """Short sentences the model put on lines of their own, one after another, joined into one
    paragraph: a section of one-sentence lines reads as the brief's list, not as an entry."""
    out: list[str] = []
    for line in lines:
        if (
            out
            and _is_prose(line)
            and _is_prose(out[-1])
            and len(line.strip()) <= _SHORT_LINE
            and out[-1].rstrip().endswith(tuple(FULL_STOP))
        ):
            out[-1] = out[-1].rstrip() + line.strip()
        else:
            out.append(line)
    return out


def _bare_heading(line: str) -> bool:
    """A short line without sentence marks or figures: a subheading ("行业处境")."""
    plain = line.strip()
    return 0 < len(plain) <= 12 and not _SENTENCE_MARK.search(plain) and not re.search(r"\d", plain)


def _is_prose(line: str) -> bool:
    marker = LIST_MARK.match(line.lstrip())
    return (marker is None or marker.end() == 0) and _SENTENCE_MARK.search(line) is not None


def _like_title(heading: str, spec: SectionSpec) -> bool:
    """A short first line with no punctuation that shares two characters with the section's
    title reads as the model's own version of the heading ("资源背景" for 营销背景)."""
    if len(heading) > 12 or _SENTENCE_MARK.search(heading):
        return False
    return len(set(heading) & set(spec.title)) >= 2


def _echoes_header(line: str, header: Sequence[tuple[str, str]]) -> bool:
    """ "广告主：示例茶饮（虚构品牌）。所属行业：餐饮/新茶饮。": the prompt's header, echoed."""
    rest = re.sub(r"\s+", "", LIST_MARK.sub("", line))
    if not rest:
        return False
    if any(rest.strip("。，,.；;、") == re.sub(r"\s+", "", v) for _, v in header if v):
        return True  # a header field's value alone on a line ("2024.04-2024.09")
    hits = 0
    for title, value in header:
        compact = re.sub(r"\s+", "", value)
        for sep in ("：", ":"):
            pair = f"{title}{sep}{compact}"
            if pair in rest:
                rest = rest.replace(pair, "")
                hits += 1
    return hits > 0 and len(re.sub(r"[。，,.；;、\s]", "", rest)) < 6
