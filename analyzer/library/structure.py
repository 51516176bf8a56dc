"""From a document's headings to an award's sections: which award, which section each heading
opens, and whether the document is an entry at all.

* **Award**: one the document names near its top or in a header field (``2014金旗奖候选案例``,
  ``2022年艾菲奖专项类银奖``, ``获奖情况:第六届中国最佳公共关系案例大赛…``) when it has a schema;
  else the award whose own section titles the headings are (营销效果与市场反馈 is 金鼠标's, 合作背景
  TMA's), when at least two are and they say more than the generic titles; else ``generic``.
* **Sections**: a heading opens the award's section it names (an alias), else the award's section
  of its kind (``背景介绍`` opens 营销背景); a first heading of a kind the award has no section for
  opens its first section (``项目背景`` in a 金旗奖 entry opens 项目概述); a heading of a section
  already open, or of a kind the award has no section for, stays inside the section above as a
  sub-heading, so an award's sections are never split or reordered.
* **Entry or not**: headings of two kinds with text under them, one of them saying what the case
  did (目标, 策略, 执行, 效果 …), or one heading with header fields (a cut-off entry) or a heading
  that names the case's own parts (案例背景, 项目背景). News,
  interviews, commentary, judging rules and talks may name a section word or two, but not as the
  headings of their text; and when they do (judging rules headed 一、背景与目标, a course on
  writing entries), the text under the headings speaks of judges, scoring and teaching
  (``[about_entries]`` of kinds.toml), which an entry's does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from analyzer.library.outline import Candidate
from analyzer.library.parsed import Heading, Section
from analyzer.library.sections import normalized
from analyzer.library.vocab import about_entries
from analyzer.schema import AwardSchema, SectionSpec
from analyzer.zh.fold import fold

MIN_BODY_CHARS = 4  # under a heading, less is a list of headings (a table of contents), not text
MIN_ENTRY_CHARS = 20  # the text under all headings of an entry
STRUCTURE_MIN_HEADINGS = 2  # an award is guessed from its own titles only when two or more match
CASE_WORDS = ("案例", "项目")  # a heading that names the case's own parts: 案例背景, 项目背景
# What a case did (not the situation it started from): an entry without header fields says it
DOING = frozenset({"objectives", "strategy", "execution", "results", "highlights"})


@dataclass(frozen=True)
class Assembly:
    sections: tuple[Section, ...]
    headings: tuple[Heading, ...]
    preamble_end: int  # where the first section's heading line starts


def stated_award(head: str, awards: Iterable[AwardSchema]) -> AwardSchema | None:
    """The award ``head`` (the top of the document and its award fields) names first."""
    flat = normalized(head.replace("\n", ""))
    best: tuple[int, int, AwardSchema] | None = None
    for schema in awards:
        for name in schema.names:
            n = normalized(name)
            at = flat.find(n) if n else -1
            if at != -1 and (best is None or (at, -len(n)) < (best[0], -best[1])):
                best = (at, len(n), schema)
    return best[2] if best else None


def award_by_structure(
    titles: list[str], field_names: list[str], awards: list[AwardSchema]
) -> AwardSchema | None:
    """The award whose own section titles (and header fields) the document uses, when they are
    specific to it; None when the titles are the common ones (they go to ``generic``).

    Each heading that is an alias of an award counts 1/n for it, n the number of awards that
    have the alias (营销效果与市场反馈 counts 1 for 金鼠标, 项目背景 a fifth for each of five); each
    header field name half that. The best award must have two headings or more that no other
    award guessed this way uses (营销目标 is everybody's, 营销效果与市场反馈 金鼠标's), and score more
    ``generic``'s at least (a tie goes to the award).
    """
    aliases, fields = _owners(tuple(awards))
    score = {s.key: 0.0 for s in awards}
    # titles no other award taken by its structure uses (those taken only when named do not count)
    own = {s.key: 0 for s in awards}
    guessable = {s.key for s in awards if s.guess_from_structure and s.key != "generic"}
    for title in titles:
        owners = aliases.get(normalized(title), set())
        for key in owners:
            score[key] += 1 / len(owners)
        guessed = owners & guessable
        if len(guessed) == 1:
            own[next(iter(guessed))] += 1
    for name in field_names:
        owners = fields.get(normalized(name), set())
        for key in owners:
            score[key] += 0.5 / len(owners)
    pool = [
        s
        for s in awards
        if s.key != "generic" and s.guess_from_structure and own[s.key] >= STRUCTURE_MIN_HEADINGS
    ]
    if not pool:
        return None
    best = max(pool, key=lambda s: score[s.key])
    return best if score[best.key] >= score.get("generic", 0.0) else None


def over_fields(
    heads: list[Candidate], text: str, count_fields: Callable[[list[str]], int]
) -> list[Candidate]:
    """``heads`` without those whose text is header fields: a site's category label above the
    title and the form (``品牌洞察`` / 案例名称:… / 执行时间:…) is not a section. An overview
    heading may hold them (a slide 概况 with 时间: and 市场区域:)."""
    out = []
    for i, c in enumerate(heads):
        end = heads[i + 1].line if i + 1 < len(heads) else len(text)
        if c.kind != "overview" and count_fields(text[c.body : end].split("\n")) >= 2:
            continue
        out.append(c)
    return out


@cache
def _owners(awards: tuple[AwardSchema, ...]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Normalized section alias → the awards that have it; the same for header-field names."""
    aliases: dict[str, set[str]] = {}
    fields: dict[str, set[str]] = {}
    for schema in awards:
        for spec in schema.sections:
            for alias in (spec.title, *spec.aliases):
                aliases.setdefault(normalized(alias), set()).add(schema.key)
        for f in schema.fields:
            for alias in f.aliases:
                fields.setdefault(normalized(alias), set()).add(schema.key)
    return aliases, fields


@cache
def _own_titles(schema: AwardSchema) -> dict[str, SectionSpec]:
    return {
        normalized(a): spec
        for spec in reversed(schema.sections)
        for a in (spec.title, *spec.aliases)
    }


def _section_for(c: Candidate, schema: AwardSchema, first: bool) -> SectionSpec | None:
    own = _own_titles(schema).get(normalized(c.phrase_words))
    if own is not None:
        return own
    for kind in c.phrase.kinds:
        for spec in schema.sections:
            if spec.kind == kind:
                return spec
        for spec in schema.sections:
            if kind in spec.kinds:
                return spec
    # What comes before the award's first section belongs to it: 17PR's 金旗奖 cases open with
    # 项目背景 or 项目目标 where the form's first part is 项目概述.
    return schema.sections[0] if first and schema.sections else None


def assemble(text: str, heads: list[Candidate], schema: AwardSchema) -> Assembly:
    """The award's sections opened by ``heads`` (see the module's docstring)."""
    opened: list[tuple[Candidate, SectionSpec]] = []
    marks: list[tuple[Candidate, str, bool]] = []
    for c in heads:
        spec = _section_for(c, schema, first=not opened)
        if spec is None or any(s.key == spec.key for _, s in opened):
            marks.append((c, opened[-1][1].key if opened else "", False))
            continue
        opened.append((c, spec))
        marks.append((c, spec.key, True))
    sections = []
    for i, (c, spec) in enumerate(opened):
        end = opened[i + 1][0].line if i + 1 < len(opened) else len(text)
        raw = text[c.body : max(c.body, end)]
        lead = len(raw) - len(raw.lstrip())
        body = raw.strip()
        start = c.body + lead
        sections.append(Section(spec.key, spec.kind, c.title, body, start, start + len(body)))
    headings = tuple(
        Heading(c.title, c.kind, c.start, c.end, key, opens) for c, key, opens in marks
    )
    return Assembly(tuple(sections), headings, opened[0][0].line if opened else len(text))


def _defines(section: Section) -> bool:
    """Whether the text under a heading explains the heading's own word (洞察是…, 策略要回答…,
    背景不是公司介绍): a course or a guide, not an entry reporting its case."""
    head = fold(section.title).strip()
    text = fold(section.text)
    return bool(head) and text.startswith(head) and text[len(head) : len(head) + 1] in _DEFINING


_DEFINING = frozenset("是要应就必需指即不")


def is_entry(assembly: Assembly, heads: list[Candidate], n_fields: int) -> bool:
    """Headings of two kinds with text under them, or one with header fields or naming the
    case's own parts, unless the text under them is about entries (see the module's
    docstring)."""
    with_text = [s for s in assembly.sections if len("".join(s.text.split())) >= MIN_BODY_CHARS]
    about = about_entries()
    speaking = [s for s in with_text if about.search(fold(s.text)) or _defines(s)]
    if with_text and len(speaking) * 2 >= len(with_text) and len(speaking) >= 2:
        return False  # 评委将考察… under 一、背景与目标: judging rules, a course, not an entry
    if sum(len("".join(s.text.split())) for s in assembly.sections) < MIN_ENTRY_CHARS:
        return False
    kinds = {c.kind for c in heads}
    if not with_text:
        return False
    own = any(normalized(c.phrase_words).startswith(CASE_WORDS) for c in heads)
    if n_fields < 2 and not own and not kinds & DOING:
        return False  # 市场背景 / 消费者洞察 / 趋势分析: a report on a market, not a case
    return n_fields >= 2 or own or (len(kinds) >= 2 and len(with_text) >= 2)
