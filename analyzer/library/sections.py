"""Find an award's section headings and header fields in cleaned entry text.

Headings as real entries write them: alone on a line, with a trailing colon, in 【】, numbered
(``一、背景与目标``, ``1.``), prefixed (``>项目调研``, ``## 营销背景``), or run into the text with no
break (``背景与挑战公益活动地球一小时在中国…``). Matching ignores spaces, the separators
``/、与及和&`` and traditional/simplified differences, so ``營銷背景`` matches ``营销背景``.
Sub-labels that are not the award's headings (``策略：``, ``创意亮点：``) stay inside their section.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

from analyzer.library.vocab import continues_word, starts_text
from analyzer.schema import AwardSchema, FieldSpec, SectionSpec
from analyzer.zh.fold import fold

_DECOR = re.compile(
    r"^(?:[\s\-*•◆●■□▪◇○>#|▶►]+|\d{1,2}\s*[、.．)）](?!\d)\s*|[（(]\s*[一二三四五六七八九十\d]{1,2}\s*[)）]\s*|"
    r"[一二三四五六七八九十]{1,3}\s*[、.．]\s*|第[一二三四五六七八九十\d]{1,3}(?:部分|章|节|篇)[、:：.\s]*|"
    r"(?i:part|section)\s*\d+[.:：\s]*)+"  # the only letters: case matters for nothing else
)
# Every character a match of _DECOR can begin with (its branches' first characters, with the
# same flags): a line starting with none of these has no decoration.
_DECOR_FIRST = re.compile(r"[\s\-*•◆●■□▪◇○>#|▶►]|\d|[（(]|[一二三四五六七八九十]|第|(?i:p|s)")
_OPENERS = "【[「『"
_IGNORABLE = set(" \t/／、·&＆与及和-—")
_DROP_IGNORABLE = str.maketrans(dict.fromkeys(_IGNORABLE))
_COLON = ":：>"
_CLOSERS = "】]」』)）*:："


@lru_cache(maxsize=8192)  # headings and names: few distinct strings, compared again and again
def _norm(text: str) -> str:
    return "".join(c for c in fold(text).lower() if c not in _IGNORABLE)


@dataclass(frozen=True)
class HeadingMatch:
    spec: SectionSpec
    title: str  # the heading as written (decorations stripped)
    body_start: int  # offset in the line where the section's text begins
    standalone: bool  # the heading is the whole line
    delimited: bool  # followed by a colon or closing bracket

    @property
    def rank(self) -> int:
        """How sure a heading this is: 0 alone on its line, 1 with a colon or bracket, 2 run-in."""
        return 0 if self.standalone else 1 if self.delimited else 2


def _match_prefix(folded: str, pos: int, alias: str) -> int | None:
    """Match ``alias`` (normalized) at ``folded[pos:]``, skipping ignorable characters; return end."""
    i = pos
    for ch in alias:
        while i < len(folded) and folded[i] in _IGNORABLE:
            i += 1
        if i >= len(folded) or folded[i] != ch:
            return None
        i += 1
    return i


class HeadingMatcher:
    """Matches lines against one award's section aliases (longest alias wins)."""

    def __init__(self, schema: AwardSchema) -> None:
        pairs = [(_norm(alias), spec) for spec in schema.sections for alias in spec.aliases]
        pairs.sort(key=lambda p: -len(p[0]))
        self._by_first: dict[str, list[tuple[str, SectionSpec]]] = {}
        for alias, spec in pairs:
            if alias:
                self._by_first.setdefault(alias[0], []).append((alias, spec))
        self._longest = max((len(a) for a, _ in pairs), default=0)
        # per character, found once: whether a decoration can begin with it, whether an alias
        # begins with it once folded (most lines begin with neither, and are no heading)
        self._decor_first: dict[str, bool] = {}
        self._alias_first: dict[str, bool] = {}
        self.beginnings: dict[str, bool] = {}  # see may_begin
        # no line longer than this can be a heading alone on its line (decoration, brackets,
        # the alias with spaces or separators inside, closers)
        self.longest_line = 3 * self._longest + 12

    def _begins_alias(self, ch: str) -> bool:
        found = self._alias_first.get(ch)
        if found is None:
            found = self._alias_first[ch] = fold(ch).lower() in self._by_first
        return found

    def _decorated(self, ch: str) -> bool:
        found = self._decor_first.get(ch)
        if found is None:
            found = self._decor_first[ch] = bool(_DECOR_FIRST.match(ch))
        return found

    def may_begin(self, ch: str) -> bool:
        """Whether a line beginning with ``ch`` can be a heading: a decoration, a bracket or one
        of the award's aliases can begin with it. :meth:`match` finds nothing in other lines.
        (:attr:`beginnings` holds the answers given so far, for callers asking line by line.)"""
        found = self.beginnings.get(ch)
        if found is None:
            found = self.beginnings[ch] = (
                self._decorated(ch) or ch in _OPENERS or self._begins_alias(ch)
            )
        return found

    def match(self, line: str) -> HeadingMatch | None:
        first = line[:1]
        decorated = self._decor_first.get(first)  # asked of every line: no call when known
        if decorated is None:
            decorated = self._decorated(first)
        decor = _DECOR.match(line) if decorated else None
        pos = decor.end() if decor else 0
        bracketed = line[pos : pos + 1] in _OPENERS
        if bracketed:
            pos += 1
        first = line[pos : pos + 1]
        begins = self._alias_first.get(first)
        if begins is None:
            begins = self._begins_alias(first)
        if not begins:
            return None  # no alias begins with this character (most lines)
        # Headings sit at the start of a line: fold only what an alias can span.
        folded = fold(line[: pos + 3 * self._longest]).lower()
        # an alias matches where the characters after pos, less the ignorable ones, begin
        # with it: a cheap test before finding where the match ends
        compact = folded[pos:].translate(_DROP_IGNORABLE)
        for alias, spec in self._by_first.get(folded[pos : pos + 1], ()):
            if not compact.startswith(alias):
                continue
            end = _match_prefix(folded, pos, alias)
            if end is None:
                continue
            rest = line[end:]
            stripped = rest.lstrip(" " + _CLOSERS)
            delimited = rest[:1] in _CLOSERS or rest.lstrip()[:1] in _COLON
            run_in = bool(rest) and not delimited and not rest[0].isspace() and not bracketed
            if run_in and (len(alias) < 4 or not starts_text(rest) or continues_word(rest)):
                continue  # only long, specific aliases may run into the text, and not mid-phrase
            title = line[pos:end].strip()
            return HeadingMatch(
                spec=spec,
                title=title,
                body_start=len(line) - len(stripped),
                standalone=not stripped,
                delimited=delimited,
            )
        return None


@cache
def _all_matchers() -> tuple[HeadingMatcher, ...]:
    from analyzer.schema import load_awards

    return tuple(HeadingMatcher(a) for a in load_awards().values())


def is_heading_line(line: str) -> bool:
    """Whether any award's schema reads ``line`` as a heading alone or with a colon/bracket.

    Run-in matches do not count: the PDF line joiner asks this of every wrapped line, and a
    wrapped line may well begin with a section's name in the middle of a sentence.
    """
    for matcher in _all_matchers():
        m = matcher.match(line)
        if m is not None and m.rank < 2:
            return True
    return False


# ---------------------------------------------------------------- header fields

FIELD_VALUE_MAX = 80  # characters: a longer "name: value" is a sentence with a colon in it
FIELD_SENTENCE = 40  # characters: a value this long with a comma or full stop is prose
_SENTENCE_MARK = re.compile(r"[，,。；;！？!?]")


@dataclass(frozen=True)
class FieldMatch:
    spec: FieldSpec | None  # the award's field; None for one only another award's form has
    name: str  # as written
    value: str
    line: int

    @property
    def title(self) -> str:
        return self.spec.title if self.spec is not None else self.name


@cache
def field_vocabulary() -> frozenset[str]:
    """Every header-field name any award's form uses (normalized): 案例名称, 广告客户公司, 申报单位 …"""
    from analyzer.schema import load_awards

    return frozenset(_norm(a) for s in load_awards().values() for f in s.fields for a in f.aliases)


@cache
def _field_names() -> re.Pattern[str]:
    from analyzer.schema import load_awards

    names = {fold(a).lower() for s in load_awards().values() for f in s.fields for a in f.aliases}
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True) if n)
    # A name starts a line (after bullets): 广告主：华为, - ◆ 所属行业：科技, 项目主体>华为,
    # 广告主 | 华为 (a table row copied as text)
    return re.compile(
        rf"[\s\-*•◆●■▪>#|]*(?P<name>{alternation})[ \t]*(?:[:：>]|[ \t]*[|｜](?!.*[|｜]))[ \t]*",
        re.IGNORECASE,
    )


@cache
def glued_field_names() -> re.Pattern[str]:
    """A header field's name and colon anywhere in a line (slide text glues them to the text)."""
    from analyzer.schema import load_awards

    names = {fold(a).lower() for s in load_awards().values() for f in s.fields for a in f.aliases}
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True) if n)
    return re.compile(rf"(?P<name>{alternation})[ \t]*[:：]", re.IGNORECASE)


def read_fields(lines: Iterable[str], fields: tuple[FieldSpec, ...]) -> list[FieldMatch]:
    """Header fields among ``lines``, as real pages write them: ``广告主：华为``,
    ``执行时间:2018/04~2019/03``, ``项目主体>华为``, ``獲獎類別:專項類``, several on one line
    separated by spaces. A name of the award's own form gives that field (the first one found
    wins); a name another award's form uses is kept under its name as written."""
    by_alias = {_norm(a): f for f in fields for a in f.aliases}
    found: dict[str, FieldMatch] = {}
    pattern = _field_names()
    glued = glued_field_names()
    for number, line in enumerate(lines):
        folded = fold(line)
        first = pattern.match(folded)
        if first is None:
            continue
        # the next names follow a value, after spaces or glued to it (cleaning joins Chinese
        # separated by spaces: 品牌：抖音  类别：… reads 品牌：抖音类别：…)
        hits = [first, *glued.finditer(folded, first.end())]
        for i, m in enumerate(hits):
            stop = hits[i + 1].start() if i + 1 < len(hits) else len(line)
            value = line[m.end() : stop].strip().strip("*").strip()
            name = line[m.start("name") : m.end("name")]
            if not value or len(value) > FIELD_VALUE_MAX:
                continue
            if len(value) > FIELD_SENTENCE and _SENTENCE_MARK.search(value):
                continue  # 市场区域:全国范围…中国的乳业市场一直是群雄割据,竞争激烈…: prose
            spec = by_alias.get(_norm(name))
            key = spec.key if spec is not None else "~" + _norm(name)
            if key not in found:
                found[key] = FieldMatch(spec, name, value, number)
    return list(found.values())


def match_fields(lines: Iterable[str], fields: tuple[FieldSpec, ...]) -> list[FieldMatch]:
    """The award's own header fields among ``lines`` (see :func:`read_fields`)."""
    return [f for f in read_fields(lines, fields) if f.spec is not None]


# ---------------------------------------------------------------- periods

_DATE = (
    r"(?P<{p}y>(?:19|20)\d{{2}})?\s*[./年-]?\s*(?P<{p}m>\d{{1,2}})"
    r"(?:\s*[./月-]\s*(?P<{p}d>\d{{1,2}})\s*[日号]?|\s*月)?"
)
_SEPARATOR = r"\s*(?:-|–|—|~|～|至|到)+\s*"
_PERIOD = re.compile(r"^\s*" + _DATE.format(p="a") + _SEPARATOR + _DATE.format(p="b") + r"\s*$")
_ONGOING = re.compile(
    r"^\s*" + _DATE.format(p="a") + _SEPARATOR + r"(?:至今|今|现在|目前|今天|now)\s*$"
)


@dataclass(frozen=True)
class Period:
    start: tuple[int, int, int]  # (year, month, day); day 1 when the text gives none
    end: tuple[int, int, int]  # the month's last day when the text gives none

    @property
    def year(self) -> int:
        return self.start[0]


def parse_period(text: str) -> Period | None:
    """``2019.07.12-09.19``, ``2018/04~2019/03``, ``2017年10月10日至11月12日``, ``2019年7月-9月``
    → Period; anything else (see :func:`period_problem`) → None."""
    found = _read_period(text)
    return found if isinstance(found, Period) else None


def period_problem(text: str) -> str:
    """Why ``text`` is not a campaign period: "" (it is one), "ongoing" (…-至今), "reversed"
    (ends before it starts), "no_date" (a day that does not exist), "no_year", "malformed"."""
    found = _read_period(text)
    return "" if isinstance(found, Period) else found


def _read_period(text: str) -> Period | str:
    compact = text.replace(" ", "")
    m = _PERIOD.match(compact)
    if not m:
        ongoing = _ONGOING.match(compact)
        return "ongoing" if ongoing and ongoing["ay"] else "malformed"
    if not m["ay"]:
        return "no_year"
    if not m["by"] and not m["bd"] and m["ad"] and not compact.rstrip().endswith("月"):
        # "2019.07.12-19": the second part is a day of the same month
        return "malformed"
    ay, am = int(m["ay"]), int(m["am"])
    by = int(m["by"]) if m["by"] else ay
    bm = int(m["bm"])
    if not (1 <= am <= 12 and 1 <= bm <= 12):
        return "no_date"
    ad = int(m["ad"]) if m["ad"] else 1
    bd = int(m["bd"]) if m["bd"] else calendar.monthrange(by, bm)[1]
    try:
        start, end = date(ay, am, ad), date(by, bm, bd)
    except ValueError:
        return "no_date"
    if end < start:
        return "reversed"
    return Period((start.year, start.month, start.day), (end.year, end.month, end.day))


@cache
def award_names() -> frozenset[str]:
    """Every name an award goes by (``names`` in templates/awards/*.toml), normalized: what tells
    an award's own name line from a case's title or a model's label."""
    from analyzer.schema import load_awards

    return frozenset(normalized(n) for a in load_awards().values() for n in a.names if n)


def normalized(text: str) -> str:
    """The form headings and names are compared in (folded, no spaces/separators, lower case)."""
    return _norm(text)
