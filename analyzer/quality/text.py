"""Detectors on the text alone: what a judge sees wrong without knowing the brief.

* :func:`leaks` — words about the task instead of the case: phrases of the drafter's own prompts
  (``templates/prompts/*.j2``) and the model's meta-talk ("该段落旨在展示…", "以下是…",
  "作为一名撰稿人…", "希望以上内容…");
* :func:`debris` — Markdown and JSON syntax (``###``, ``**``, code fences, ``{"title": …``,
  tables, HTML tags);
* :func:`repeats` — a sentence said again, word for word (behind a new connective too) or nearly
  (:data:`NEAR_REPEAT` of its three-character runs said before);
* :func:`cut_off` — the text stops mid-sentence;
* :func:`claims` — superlatives and firsts (第一, 首创, 全球领先 …);
* :func:`pending` — 【待核实】 and 【待补充：…】 marks still in the text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cache, lru_cache
from itertools import product
from pathlib import Path

from analyzer.markers import PENDING
from analyzer.paths import ENV_TEMPLATES, templates_dir
from analyzer.quality.issues import CLAIM, CUT_OFF, DEBRIS, LEAK, REPEAT, Issue
from analyzer.quality.issues import PENDING as PENDING_KIND
from analyzer.zh.numbers import DATE, figures
from analyzer.zh.segments import CLOSERS, FULL_STOP, LIST_MARK, SEMICOLON, sentences
from analyzer.zh.words import one_of

# ---------------------------------------------------------------------------- leaks

# Words that make a phrase of a prompt an instruction rather than a description of a case.
_INSTRUCTION = re.compile(
    "请|不要|不得|不添加|不编造|不重复|不提|只根据|只借鉴|要点|参考|片段|正文|改写|撰写|撰稿|"
    "说明|交代|概括|突出|对照|篇幅|段落|一段|写|你是|本奖项|使用简体|怎样|如何"
)
_PROMPT_TAG = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
_PROMPT_SPLIT = re.compile(r"[\s，。：:；;、！？!?「」〔〕（）()“”\"'\-—…]+")
# The model talking about its text or to its user, not about the case: (ways it starts, what
# follows). Every branch of the pattern starts with a literal character, so ``re`` skips ahead
# to those characters (a branch opening with a group makes it try every position).
_META_FORMS = (
    (
        ("本", "该", "这", "此", "以上", "以下", "上述"),
        "(?:一)?(?:段落|段|部分|篇|节|稿件|稿|文本|文字|内容|材料)"
        "(?:主要|将|会|旨在|意在|用于|重点|围绕|介绍|描述|展示|概述|阐述|讲述|总结|说明)",
    ),
    (("以下",), "(?:是|为)(?:关于|根据|为您|按照|改写|整理|撰写|参赛)"),
    (("作为",), "(?:一名|一位|一个)?(?:AI|人工智能|语言模型|助手|撰稿人|写作助手|营销专家)"),
    (("希望",), "(?:以上|这些|这份|本|此)(?:内容|文字|回答|稿件|段落)"),
    (("如果您", "如您", "若您"), "(?:需要|还需|有)"),
    (("请",), "(?:告诉我|提供更多|您?根据实际情况)"),
    (("我", "我们"), "(?:将|会|可以)为(?:您|你)"),
    (("根据",), "(?:您|你)(?:提供|给出|给的)"),
    (("该", "这个", "本"), "(?:段落|部分)(?:的)?(?:目的|作用)"),
    (("好的", "当然", "没问题"), "[，,！!。]"),  # only at a line's start (checked where it matches)
)
_META_WORDS = [first + rest for firsts, rest in _META_FORMS for first in firsts]
_META = re.compile(one_of(_META_WORDS))
_OPENING = ("好的", "当然", "没问题")


@cache
def _prompt_phrases(root: Path) -> tuple[str, ...]:
    """The instruction phrases of the drafter's prompt templates: runs of 4+ characters between
    punctuation and template tags that carry an instruction word."""
    found: set[str] = set()
    for path in sorted((root / "prompts").rglob("*.j2")):
        literal = _PROMPT_TAG.sub("\n", path.read_text(encoding="utf-8"))
        for piece in _PROMPT_SPLIT.split(literal):
            chinese = re.search(r"[\u4e00-\u9fff]", piece)
            if len(piece) >= 4 and chinese and _INSTRUCTION.search(piece):
                found.add(piece)
    return tuple(sorted(found, key=len, reverse=True))


@cache
def _prompt_pattern(root: Path) -> re.Pattern[str]:
    """The prompt phrases as one alternation, longest first: one scan of the text finds them
    all (every phrase starts with a Chinese character, so ``re`` skips ahead)."""
    phrases = _prompt_phrases(root)
    return re.compile(one_of(re.escape(p) for p in phrases) if phrases else "(?!)")


@cache
def _prompts_in(override: str | None) -> re.Pattern[str]:
    """:func:`_prompt_pattern` of the templates folder in use (looked up once per setting of
    ``$AWARD_WRITER_TEMPLATES``: the checker calls :func:`leaks` for every entry)."""
    return _prompt_pattern(templates_dir())


@cache
def _any_leak(override: str | None) -> re.Pattern[str]:
    """The prompt phrases and the meta-talk as one alternation: one scan tells whether a text
    holds either (a match of one at some place is a match of the alternation there), and most
    texts hold neither."""
    phrases = [re.escape(p) for p in _prompt_phrases(templates_dir())]
    return re.compile(one_of(phrases + _META_WORDS))


def leaks(text: str) -> list[Issue]:
    """Prompt phrases and meta-talk in ``text``."""
    override = os.environ.get(ENV_TEMPLATES)
    if not _any_leak(override).search(text):
        return []
    out: list[Issue] = []
    taken: list[tuple[int, int]] = []
    for m in _prompts_in(override).finditer(text):
        taken.append(m.span())
        out.append(Issue(LEAK, m.start(), m.end(), m.group(), "提示词"))
    for m in _META.finditer(text):
        if m.group().startswith(_OPENING) and m.start() and text[m.start() - 1] != "\n":
            continue  # "当然，" inside a sentence is no answer to a request
        if all(m.end() <= a or m.start() >= b for a, b in taken):
            out.append(Issue(LEAK, m.start(), m.end(), m.group(), "自我描述"))
    return sorted(out, key=lambda i: i.start)


# ---------------------------------------------------------------------------- debris

# Two scans, each fast: what stands at the start of a line, and what starts with a literal
# character anywhere (a pattern mixing both makes ``re`` try every position of the text).
_DEBRIS_LINE = re.compile(
    r"^[ \t]*(?:"
    r"#{1,6}[ \t]*\S[^\n]*"  # ### 小标题
    r"|```[^\n]*"  # code fences
    r"|[\[{][ \t]*$|[\]}][ \t]*,?[ \t]*$"  # a JSON bracket alone on its line
    r"|\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$"  # |---|---|
    r"|(?:-{3,}|\*{3,}|_{3,}|={3,})[ \t]*$"  # a rule
    r")",
    re.M,
)
_DEBRIS_INLINE = re.compile(
    r"\*\*[^*\n]{0,80}\*\*|\*\*"  # **加粗**, a stray **
    r"|__(?<![A-Za-z0-9]__)[^_\n]{1,80}__"  # __加粗__
    r"|\"[^\"\n]{1,30}\"[ \t]*:[ \t]*[\"\[{0-9]"  # "title": …
    r"|</?(?i:br|p|div|span|strong|b|em|i|ul|ol|li|h[1-6]|table|tr|td)\b[^>\n]{0,40}>"
)


# _DEBRIS_LINE matches start a line and stay on it, after spaces with one of these characters:
# looking for such lines (a scan for line breaks) and trying the pattern only there finds the
# same matches far faster than trying ``^`` at every position of the text.
_DEBRIS_LEAD = re.compile(r"\n[ \t]*[#`\[\]{}|:\-*_=]")
# What every _DEBRIS_INLINE match holds: most texts hold none, and need no scan.
_INLINE_LEADS = ("**", "__", '"', "<")


def debris(text: str) -> list[Issue]:
    """Markdown, JSON and HTML syntax in ``text`` (what an award form would print literally)."""
    starts = [0, *(m.start() + 1 for m in _DEBRIS_LEAD.finditer(text))]
    lines = [m for at in starts if (m := _DEBRIS_LINE.match(text, at))]
    found = [Issue(DEBRIS, m.start(), m.end(), m.group()) for m in lines]
    if any(lead in text for lead in _INLINE_LEADS):
        for m in _DEBRIS_INLINE.finditer(text):
            if all(m.end() <= a.start() or m.start() >= a.end() for a in lines):
                found.append(Issue(DEBRIS, m.start(), m.end(), m.group()))
    return sorted(found, key=lambda i: i.start)


# ---------------------------------------------------------------------------- repeats

MIN_REPEAT = 10  # characters: shorter sentences ("效果显著。") may well recur on purpose
NEAR_REPEAT = 0.8  # share of a sentence's three-character runs said before: a near repeat
# A small model repeats a sentence behind a new connective ("此外，…" then "另一方面，…").
CONNECTIVE = re.compile(
    r"^(?:此外|另外|同时|而且|并且|因此|所以|一方面|另一方面|其次|最后|总之)[，,]?"
)
_KEY_DROP = re.compile(r"[\s，,。！？!?；;、]")


_CONNECTIVE_START = frozenset("此另同而并因所一其最总")


def sentence_key(sentence: str) -> str:
    """A sentence as compared for repeats: no connective, punctuation, spaces or pending marks
    (a repeat the fact guard marked is still a repeat)."""
    key = sentence.strip()
    if "【" in key:
        key = PENDING.sub("", key)
    if key[:1] in _CONNECTIVE_START:
        key = CONNECTIVE.sub("", key)
    return _KEY_DROP.sub("", key)


def trigrams(key: str) -> set[str]:
    return {key[i : i + 3] for i in range(len(key) - 2)}


_DIGIT = re.compile(r"\d")
_DATE_HINT = re.compile(r"(?:19|20)[0-9]{2}|[0-9一二三四五六七八九十][ \t]*[月日]")


@lru_cache(maxsize=4096)
def date_shape(key: str) -> str:
    """The key with its dates masked: a model looping on one sentence often only moves its year
    ("2025年，品牌将继续…" "2026年，品牌将继续…"); counts and percentages stay, so parallel
    sentences with their own results ("6月客流增长12%" "7月客流增长15%") are not repeats."""
    if not _DATE_HINT.search(key):
        return key  # most sentences hold no date: skip the full number scan
    out, pos = [], 0
    for fig in figures(key):
        if fig.kind == DATE:
            out += [key[pos : fig.start], "#"]
            pos = fig.end
    return "".join(out) + key[pos:] if out else key


def is_repeat(key: str, seen: set[str], said: set[str]) -> bool:
    """Whether a sentence (its :func:`sentence_key`) says again what ``seen`` (keys) and
    ``said`` (three-character runs) hold: word for word, with only its dates changed, or nearly
    when it has no figure."""
    return _repeats(key, seen, said, trigrams(key))


def _repeats(key: str, seen: set[str], said: set[str], runs: set[str] | None) -> bool:
    if len(key) < MIN_REPEAT:
        return False
    if key in seen:
        return True
    if _DIGIT.search(key):
        shape = date_shape(key)
        return shape != key and any(date_shape(k) == shape for k in seen)
    return runs is not None and len(runs & said) >= NEAR_REPEAT * len(runs)


def repeats(text: str, *, near: bool = True, ended: bool = False) -> list[Issue]:
    """Every sentence of ``text`` that says again a sentence before it (``detail``: the first
    sentence it repeats). ``near=False`` finds only the same sentences (and those with only
    their dates changed), without comparing wording: much faster on long texts. ``ended``:
    only a repeat that ends with a full stop counts (a caption or a label line said again under
    each chart of a copied page is no repeated sentence)."""
    if not near and not _may_repeat(text, ended):
        return []
    seen: dict[str, str] = {}  # key → the sentence as first written
    keys: set[str] = set()
    said: set[str] = set()
    out: list[Issue] = []
    for start, end in sentences(text):
        key = sentence_key(text[start:end])
        runs = trigrams(key) if near else None
        if _repeats(key, keys, said, runs):
            if not ended or text[start:end].rstrip(CLOSERS)[-1:] in FULL_STOP:
                out.append(Issue(REPEAT, start, end, text[start:end], _first_said(key, seen)))
            continue
        seen[key] = text[start:end].strip()
        keys.add(key)
        if runs is not None:
            said |= runs
    return out


_ROUGH_END = re.compile(r"([。！？!?；;\n]+)")
_ROUGH_DROP = re.compile(rf"[ \t\r，,、{re.escape(CLOSERS)}]+")


def _may_repeat(text: str, ended: bool = False) -> bool:
    """Whether two sentences of ``text`` could be the same (a quick pass over the whole text:
    most texts say nothing twice, and then the sentence-by-sentence pass is not needed). Two
    sentences with the same key, or with keys differing only in their dates, have the same
    rough key here: no spaces, commas or closing marks, every digit a "#". ``ended``: the
    second must end with a full stop."""
    if "【" in text:
        text = PENDING.sub("", text)
    parts = _ROUGH_END.split(_DIGIT.sub("#", _ROUGH_DROP.sub("", text)))
    seen: set[str] = set()
    for i in range(0, len(parts), 2):
        piece = parts[i]
        if piece[:1] in _CONNECTIVE_START:
            piece = CONNECTIVE.sub("", piece)
        if len(piece) < MIN_REPEAT - 3:
            continue
        if piece in seen:
            stop = parts[i + 1] if i + 1 < len(parts) else ""
            if not ended or any(c in stop for c in FULL_STOP):
                return True
        seen.add(piece)
    return False


def _first_said(key: str, seen: dict[str, str]) -> str:
    """The earlier sentence a repeat says again: the same, the same but for its dates, or the
    one sharing most of its wording."""
    if key in seen:
        return seen[key]
    shape = date_shape(key)
    for k, sentence in seen.items():
        if date_shape(k) == shape:
            return sentence
    runs = trigrams(key)
    best = max(seen, key=lambda k: len(trigrams(k) & runs), default="")
    return seen.get(best, "")


def repeated_share(text: str) -> float:
    """The share of ``text``'s sentences that are repeats."""
    n = len(sentences(text))
    return len(repeats(text)) / n if n else 0.0


# ---------------------------------------------------------------------------- cut off

_ENDS = FULL_STOP + SEMICOLON + CLOSERS + "…：:%）)"
_HEADING_LIKE = 15  # a last line this short with no punctuation reads as a label or heading


def cut_off(text: str) -> list[Issue]:
    """The text's last line, when it stops mid-sentence ("…鼓励不同", "…覆盖城市，"); a short
    line without punctuation counts only after a finished sentence (alone, or after other such
    lines, it is a label or a list)."""
    body = text.rstrip()
    if not body:
        return []
    start = body.rfind("\n") + 1
    line = body[start:]
    mark = LIST_MARK.match(line)
    if mark is not None and mark.group().strip():
        return []  # a list item needs no full stop
    last = line[-1]
    if last in _ENDS or last.isdigit() or (last.isascii() and last.isalpha()):
        return []
    if last not in "，,、" and len(line) <= _HEADING_LIKE and not re.search(r"[，。,；;]", line):
        before = body[:start].rstrip().rstrip(CLOSERS)
        if not before or before[-1] not in FULL_STOP:
            return []  # a short label or heading, or one item of a list of them
        # after a finished sentence, a short last line is a sentence cut short ("…鼓励不同")
        # or a subheading with nothing under it: neither belongs at the end
    tail = max(line.rfind(c) for c in "。！？!?；;") + 1
    return [Issue(CUT_OFF, start + tail, len(body), line[tail:])]


# ---------------------------------------------------------------------------- claims

_FIRST_OF = ("行业", "全球", "全国", "国内", "业内", "中国")
CLAIM_WORDS = re.compile(
    one_of(
        [
            *(p + "首" + s for p, s in product(_FIRST_OF, "创个家款次")),
            *(p + "首" for p in _FIRST_OF),
            *("首" + s for s in "创个家款"),  # 首次 alone ("首次入驻小红书") claims nothing
            "率先",
            "第一(?!时间|步|届|阶段|个小时|天|批|章|部分|季度|周|轮|波|期|次|层|条|点|类|节|则|页|眼|反应|印象|手)",
            "遥遥领先",
            "领跑",
            "唯一",
            "最大(?!化|限度|程度)",
            "领先",
            "独家",
            "史上",
            "绝无仅有",
            *(
                re.escape(w) + r"(?![0-9])"
                for w in ("No.1", "NO.1", "No1", "NO1", "No. 1", "TOP1", "Top1", "TOP 1")
            ),
        ]
    )
)


def claims(text: str, start: int = 0, end: int | None = None) -> Iterator[re.Match[str]]:
    """Superlatives and firsts in ``text[start:end]``."""
    return CLAIM_WORDS.finditer(text, start, len(text) if end is None else end)


def claim_issues(text: str) -> list[Issue]:
    return [Issue(CLAIM, m.start(), m.end(), m.group()) for m in claims(text)]


# ---------------------------------------------------------------------------- marks


def pending(text: str) -> list[Issue]:
    """【待核实】 and 【待补充：…】 marks still in the text."""
    return [Issue(PENDING_KIND, m.start(), m.end(), m.group()) for m in PENDING.finditer(text)]


# ---------------------------------------------------------------------------- headings


def bare_lines(text: str, limit: int = 8) -> list[Issue]:
    """Short lines with no punctuation and no figure inside prose ("概要", "需求", "结论"): the
    model's own sub-headings, which a drafted section does not want."""
    out = []
    pos = 0
    for line in text.split("\n"):
        plain = line.strip()
        short = 0 < len(plain) <= limit and not re.search(r"[，。！？,.!?；;：:\d]", plain)
        if short and not LIST_MARK.match(line).group().strip():  # type: ignore[union-attr]
            out.append(Issue(DEBRIS, pos, pos + len(line), plain, "小标题"))
        pos += len(line) + 1
    return out
