"""Find a document's section headings from their form and their words, whatever the award.

A heading is a heading phrase (:mod:`analyzer.library.vocab`: 项目背景, 营销诉求, 背景与挑战 …)
written in a heading's form:

* alone on its line, with or without a colon, in 【】, after bullets or markdown marks;
* numbered: ``一、`` ``一.`` ``(一)`` ``1.`` ``1、`` ``(1)`` ``01`` ``第一章`` ``1.1``;
* at the start of a line with a colon or a closing bracket and the text after it
  (``背景介绍:1)中国球迷…``), or run into the text with no break (``背景与挑战公益活动…``);
* in the middle of a paragraph after a sentence end, numbered (``…居高不下。 2.项目目标 8月5日…``),
  in 【】 (``…好感度提升。【执行策略】在12家…``) or with a colon (``…的优势。推广目标:1)借世界杯…``).

Which of these are sections and which are sub-labels is read from the document itself: its
headings are written either alone on their lines ("line" headings) or with their text after
them ("inline" headings); whichever form most of its headings take is its heading form, and an
unnumbered phrase in the other form is a sub-label (``策略：`` under 策略与创意,
``智能人群洞察`` under 传播执行:). A numbered phrase is a heading (``1.核心目标`` under
``一、项目分析``) A phrase right under a heading of the same kind that repeats it
(目标 → 目标及KPI概述) is a sub-label, and a short inline label (``挑战:``, ``策略：``) must not
go back to an earlier kind than the heading above it. A table of contents (headings with nothing
under them that come again further down) is not the outline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from analyzer.library.vocab import (
    MAX_PHRASE,
    Phrase,
    continues_word,
    leading_phrase,
    read_phrase,
    starts_text,
    starts_with_word,
    trailing_phrase,
)

_BULLETS = r"[\s\-*•◆●■□▪◇○>#|▶►✓·▍▌▎▏丨│┃★☆▷➤→※》◎]*"
_CN_NUM = "一二三四五六七八九十"
_UPPER_NUM = "壹贰貳叁參肆伍陆陸柒捌玖拾"
# Numbering, by level: 第一章 > 一、 > (一) > 1. > (1)
_NUMBERING = re.compile(
    _BULLETS
    + r"(?:"
    + "|".join(
        [
            rf"(?P<chapter>第[{_CN_NUM}百\d]{{1,3}}\s*(?:部分|章|节|節|篇|部份)|(?:part|section)\s*\d{{1,2}})",
            rf"(?P<cn>[{_CN_NUM}]{{1,3}}\s*[、.．,，]|[{_UPPER_NUM}]{{1,3}}\s*[、.．,，])",
            rf"(?P<paren_cn>[（(]\s*[{_CN_NUM}]{{1,3}}\s*[)）])",
            r"(?P<paren>[（(]\s*\d{1,2}\s*[)）]|\d{1,2}\s*[)）](?![\d.])|[①-⑳])",
            r"(?P<arabic>\d{1,2}(?:\.\d{1,2})+(?=[\s\u4e00-\u9fff])|\d{1,2}\s*[、.．](?![\d.])|0\d(?=\s))",
        ]
    )
    + r")?[\s:：.、]*",
    re.IGNORECASE,
)
_LEVELS = {"chapter": 1, "cn": 2, "paren_cn": 3, "arabic": 4, "paren": 5}
# A heading with its English beside it: 合作背景 Background, 创意 / Idea
_BILINGUAL = re.compile(r"^(?P<zh>.*?[\u3400-\u9fff])[\s/|｜:：\-—]*[A-Za-z][A-Za-z &/'’.\-]*$")
_OPEN = "【[「『"
_CLOSE = "】]」』)）*"
_COLON = ":："
_SENTENCE_END = "。！？；!?;"
_MID_NUMBERED = re.compile(
    rf"(?<=[{_SENTENCE_END}])\s*(?P<num>\d{{1,2}}\s*[、.．](?![\d.])|[{_CN_NUM}]{{1,3}}\s*、)\s*"
)
_MID_BRACKET = re.compile(rf"(?<=[{_SENTENCE_END}])\s*[【\[](?P<words>[^】\]\n]{{2,16}})[】\]]")
_MID_SENTENCE = re.compile(rf"(?<=[{_SENTENCE_END}])\s*")
MID_RUNIN_MIN = 6  # characters of an unnumbered phrase starting a sentence: 品牌行动背景及概述
_MID_COLON = re.compile(
    rf"(?<=[{_SENTENCE_END}{_COLON}])\s*(?P<seg>[^{_SENTENCE_END}{_COLON}，,\n]{{2,20}})[{_COLON}]"
)
_FIELD_VALUE_END = re.compile(r"[。！？；!?;，,]")
FIELD_VALUE_MAX = 40  # characters: "项目执行:通用汽车中国公司公共关系部" is a field, not a heading


@dataclass(frozen=True)
class Candidate:
    start: int  # where the heading's words start in the text
    end: int  # where they end
    body: int  # where the text under it starts
    title: str  # the words as written (numbering and brackets left out)
    phrase: Phrase
    # "line" (alone on its line) | "colon" (a colon or bracket after it) | "runin" (no break)
    # | "slide" (a slide's title glued into slide text)
    form: str
    level: int  # numbering: 0 none, 1 第一章, 2 一、, 3 (一), 4 1., 5 (1)
    line: int  # where the heading begins: its line, or its numbering in the middle of a line
    alone: bool  # nothing else on its line
    words: str = ""  # the heading phrase when the title has more (合作背景 in 合作背景 Background)

    @property
    def numbered(self) -> bool:
        return self.level > 0

    @property
    def phrase_words(self) -> str:
        return self.words or self.title

    @property
    def kind(self) -> str:
        return self.phrase.kind

    @property
    def family(self) -> str:
        """Headings alone on their line (without a colon) vs headings with their text after."""
        return "line" if self.form in ("line", "slide") else "inline"

    @property
    def weak(self) -> bool:
        """A label that reads like a heading only by a short word or a run-in (策略：, 挑战:…)."""
        return self.form == "runin" or (self.form == "colon" and len(_key(self.title)) <= 2)


def _key(text: str) -> str:
    return "".join(text.split())


def find_candidates(text: str, is_field: Callable[[str, str], bool]) -> list[Candidate]:
    """Every heading phrase of ``text`` in a heading's form, in order. ``is_field(name, value)``
    says whether a ``name: value`` line is a header field (项目执行:通用汽车公共关系部)."""
    out: list[Candidate] = []
    pos = 0
    for line in text.split("\n"):
        found = _line_start(line, pos, is_field)
        if found is not None:
            out.append(found)
        out.extend(_mid_line(line, pos, found, is_field))
        pos += len(line) + 1
    out.sort(key=lambda c: c.start)
    return out


def _line_start(line: str, pos: int, is_field: Callable[[str, str], bool]) -> Candidate | None:
    m = _NUMBERING.match(line)
    i = m.end() if m else 0
    level = next((n for g, n in _LEVELS.items() if m and m.group(g)), 0)
    bracketed = line[i : i + 1] in _OPEN and line[i : i + 1] != ""
    if bracketed:
        i += 1
    rest = line[i:]
    # alone on its line, maybe with a colon or a closing bracket, or its English beside it
    bare = rest.rstrip().rstrip(_CLOSE + " ")
    colon = bare[-1:] in _COLON
    bare = bare.rstrip(_COLON + " ").rstrip(_CLOSE + " ")
    phrase = read_phrase(bare) if bare else None
    words = ""
    if phrase is None and len(bare) <= 2 * MAX_PHRASE + 20 and (both := _BILINGUAL.match(bare)):
        words = both.group("zh").strip()
        phrase = read_phrase(words)
    if phrase is not None:
        form = "colon" if colon else "line"
        end = pos + i + len(bare)
        title = bare.strip()
        return Candidate(
            pos + i, end, pos + len(line), title, phrase, form, level, pos, True, words
        )
    # a bracket or a colon after the words, the text after it
    close = next(
        (k for k, ch in enumerate(rest[: MAX_PHRASE + 6]) if ch in _CLOSE[:4] + _COLON), -1
    )
    if close > 0:
        name = rest[:close]
        after = rest[close + 1 :].lstrip(_CLOSE + _COLON + " ")
        phrase = read_phrase(name)
        field = rest[close] in _COLON and _is_field(name, after, is_field)
        if phrase is not None and after and not field:
            end = pos + i + len(name.rstrip())
            body = pos + len(line) - len(after)
            return Candidate(pos + i, end, body, name.strip(), phrase, "colon", level, pos, False)
    # run into the text with no break: a specific (four characters or more) phrase; a numbered
    # line that goes straight on is a list item (3、营销策略实时更新优化)
    if not bracketed and not level:
        lead = leading_phrase(rest, min_chars=4)
        if lead is not None:
            n, phrase = lead
            after = rest[n:]
            glued = after[:1] not in _COLON and starts_text(after) and not continues_word(after)
            if after and glued:
                start = pos + i
                return Candidate(
                    start, start + n, start + n, rest[:n].strip(), phrase, "runin", 0, pos, False
                )
    return None


def _mid_line(
    line: str, pos: int, first: Candidate | None, is_field: Callable[[str, str], bool]
) -> list[Candidate]:
    out: list[Candidate] = []
    taken = first.body - pos if first is not None else 0
    for m in _MID_NUMBERED.finditer(line, taken):
        rest = line[m.end() :]
        lead = leading_phrase(rest, min_chars=2)
        if lead is None:
            continue
        end, phrase = lead
        after = rest[end:]
        spaced = after[:1].isspace() or after[:1] in _COLON
        if not after or not (
            spaced
            or (len(_key(rest[:end])) >= 4 and starts_text(after) and not continues_word(after))
        ):
            continue
        start = pos + m.end()
        body = start + end + (len(after) - len(after.lstrip(_COLON + " ")))
        level = 2 if m.group("num").rstrip()[-1:] == "、" and not m.group("num")[0].isdigit() else 4
        title = rest[:end].strip()
        out.append(
            Candidate(
                start, start + end, body, title, phrase, "runin", level, pos + m.start(), False
            )
        )
    for m in _MID_BRACKET.finditer(line, taken):
        # …提升品牌好感度。【执行策略】在12家图书馆…: a bracketed heading in a paragraph
        named = read_phrase(m.group("words"))
        if named is not None and line[m.end() :].strip():
            start = pos + m.start("words")
            words = m.group("words").strip()
            cand = Candidate(
                start,
                pos + m.end("words"),
                pos + m.end(),
                words,
                named,
                "colon",
                0,
                pos + m.start(),
                False,
            )
            out.append(cand)
    for m in _MID_SENTENCE.finditer(line, taken):
        # a long phrase starting a sentence and going straight on: …攻势。品牌行动背景及概述7月12日…
        rest = line[m.end() :]
        lead = leading_phrase(rest, min_chars=MID_RUNIN_MIN)
        if lead is None or any(c.start == pos + m.end() for c in out):
            continue
        end, phrase = lead
        after = rest[end:]
        if _glued_title(after):
            start = pos + m.end()
            out.append(
                Candidate(
                    start,
                    start + end,
                    start + end,
                    rest[:end],
                    phrase,
                    "runin",
                    0,
                    start,
                    False,
                )
            )
    for m in _MID_COLON.finditer(line, taken):
        seg = m.group("seg")
        tail = trailing_phrase(seg)
        if tail is None:
            continue
        at, phrase = tail
        title = seg[at:].strip()
        if at > 0 and len(_key(title)) < 4:
            continue  # 地铁环境因素影响: a word at the end of a sentence, not a heading
        after = line[m.end() :]
        if not after.strip() or _is_field(title, after, is_field):
            continue
        start = pos + m.start("seg") + at
        if any(c.start <= start < c.body for c in out):
            continue
        out.append(
            Candidate(
                start,
                start + len(seg) - at,
                pos + m.end(),
                title,
                phrase,
                "colon",
                0,
                start,
                False,
            )
        )
    return out


def _glued_title(after: str) -> bool:
    """Whether the text after a phrase shows the phrase was a title glued to it: text follows
    that neither continues the phrase (企业宣传活动) nor makes it a sentence's subject."""
    return (
        bool(after)
        and starts_text(after)
        and not continues_word(after)
        and not starts_with_word(after)
    )


# Text pasted from slides has lost its line breaks: each slide's title is glued between the
# text of two slides (…促进销售市场挑战只有少数的品牌…), and its fields too (概况时间:2006年7月…
# 市场区域:全国…). Titles are read out of such a paragraph only when nothing else is a heading
# and the paragraph carries header fields glued in like this.
SLIDE_MIN_CHARS = 300  # a paragraph this long with no line break
SLIDE_HEAD = 300  # its header fields are in its first characters
_FUNCTION = frozenset("的之了对和与及在为将把被是有让向从以于")


def slide_titles(text: str, field_names: re.Pattern[str]) -> list[Candidate]:
    """Heading phrases glued into a paragraph of slide text (see above); ``field_names``
    finds a header field's name and colon anywhere in a line."""
    out: list[Candidate] = []
    pos = 0
    for line in text.split("\n"):
        if len(line) >= SLIDE_MIN_CHARS and len(field_names.findall(line[:SLIDE_HEAD])) >= 2:
            out.extend(_glued(line, pos, field_names))
        pos += len(line) + 1
    return out


def _glued(line: str, pos: int, field_names: re.Pattern[str]) -> list[Candidate]:
    out = []
    i = 0
    while i < len(line):
        if i > 0 and (line[i - 1] in _FUNCTION or starts_with_word(line[i - 1 : i + 1])):
            i += 1
            continue
        lead = leading_phrase(line[i:], min_chars=2)
        if lead is None:
            i += 1
            continue
        end, phrase = lead
        after = line[i + end :]
        field = field_names.match(after)
        long_enough = len(_key(line[i : i + end])) >= 4
        if (long_enough and _glued_title(after)) or (field is not None and field.start() == 0):
            start = pos + i
            out.append(
                Candidate(
                    start,
                    start + end,
                    start + end,
                    line[i : i + end],
                    phrase,
                    "slide",
                    0,
                    start,
                    False,
                )
            )
        i += end
    return out


def _is_field(name: str, value: str, is_field: Callable[[str, str], bool]) -> bool:
    value = value.strip()
    if len(value) > FIELD_VALUE_MAX or _FIELD_VALUE_END.search(value):
        return False
    return is_field(name, value)


# ------------------------------------------------------------------------------ the outline


def outline(cands: list[Candidate], text: str, order: dict[str, int]) -> list[Candidate]:
    """The document's headings among its candidates (see the module's docstring): sub-labels
    in the other form, repeats right under their heading and short labels that step back to an
    earlier kind (``order``: kind → its place in an entry) are left out."""
    cands = _without_contents(cands, text)
    lines = sum(1 for c in cands if c.family == "line")
    inline = len(cands) - lines
    if lines != inline:
        family = "line" if lines > inline else "inline"
    else:
        family = cands[0].family if cands else "line"
    out: list[Candidate] = []
    for c in cands:
        if not c.numbered and c.family != family:
            continue
        last = out[-1] if out else None
        if last is not None:
            between = text[last.body : c.line].strip()
            if not between and c.kind == last.kind and _repeats(c.title, last.title):
                continue  # 目标 / 目标及KPI概述: the second only says the first again
            if c.kind == last.kind and c.level > last.level:
                continue  # (二)主要发现 under 一、项目调研: a point of the section, not a section
            if c.weak and order.get(c.kind, 0) < order.get(last.kind, 0):
                continue  # 挑战:1、… inside 项目调研: a label, not a step back
        out.append(c)
    return out


def _without_contents(cands: list[Candidate], text: str) -> list[Candidate]:
    """Leave out a table of contents: a heading with nothing under it whose title comes again
    further down as a heading (目录 / 壹、营销背景 / 贰、营销目标 … then the sections)."""
    from analyzer.library.sections import normalized

    out = []
    for i, c in enumerate(cands):
        nxt = cands[i + 1].line if i + 1 < len(cands) else len(text)
        empty = not text[c.body : nxt].strip()
        title = normalized(c.title)
        if empty and any(normalized(d.title) == title for d in cands[i + 1 :]):
            continue
        out.append(c)
    return out


def _repeats(a: str, b: str) -> bool:
    from analyzer.library.sections import normalized

    x, y = normalized(a), normalized(b)
    return bool(x) and bool(y) and (x in y or y in x)
