"""The words section headings are made of, and what kind of section a heading phrase names.

The vocabulary lives in ``templates/kinds.toml`` (``[headings.<kind>] words``, plus the
modifiers, suffixes and joiners every kind shares); every award's section titles and aliases
(``templates/awards/*.toml``) are added as words of their section's kind. A phrase is a heading
phrase when it is made of these words only and each of its coordinated parts (背景 / 挑战 in
背景与挑战) ends with a kind word, optionally rounded off by a suffix (背景介绍, 执行情况):
营销诉求 → objectives, 活动策划 → strategy, 时间规划 → execution, 合作亮点 → highlights. Everything
is folded to simplified characters first, so 項目背景 reads as 项目背景.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache

from analyzer.errors import SchemaError
from analyzer.paths import templates_dir
from analyzer.zh.fold import fold

MAX_PHRASE = 14  # characters (no spaces): longer is a sentence, not a heading
_IGNORED = frozenset(" \t\u3000")

MOD, SUF, JOIN = "", "+suffix", "+join"  # token roles besides a kind name


@dataclass(frozen=True)
class Phrase:
    """A heading phrase: the kind it names first, then every kind its parts name."""

    kind: str
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    by_first: dict[str, tuple[tuple[str, str], ...]]  # first char → (word, role), longest first
    descriptions: dict[str, str]  # kind → what a section of the kind holds
    last_chars: frozenset[str]  # the last characters of the words


@cache
def lexicon() -> Lexicon:
    """The heading vocabulary of ``templates/kinds.toml`` plus every award's section aliases."""
    from analyzer.schema import kinds, load_awards

    path = templates_dir() / "kinds.toml"
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))["headings"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise SchemaError(f"{path}: no [headings] vocabulary ({exc})") from exc
    roles: dict[str, str] = {}

    def add(words: object, role: str, where: str) -> None:
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise SchemaError(f"{path} [headings] {where}: expected a list of strings")
        for word in words:
            key = _key(word)
            if key and key not in roles:
                roles[key] = role

    descriptions = {}
    for kind in kinds():
        entry = table.get(kind, {})
        add(entry.get("words", []), kind, f"{kind}.words")
        descriptions[kind] = str(entry.get("description", ""))
    add(table.get("joiners", []), JOIN, "joiners")
    add(table.get("suffixes", []), SUF, "suffixes")
    add(table.get("modifiers", []), MOD, "modifiers")
    joiners = {w for w, r in roles.items() if r == JOIN}
    for award in load_awards().values():
        for spec in award.sections:
            for alias in (spec.title, *spec.aliases):
                key = _key(alias)
                # an alias with a joiner is read part by part (背景与挑战: 背景 + 挑战)
                if key and key not in roles and not any(j in key for j in joiners):
                    roles[key] = spec.kind
    by_first: dict[str, list[tuple[str, str]]] = {}
    for word, role in roles.items():
        by_first.setdefault(word[0], []).append((word, role))
    return Lexicon(
        {c: tuple(sorted(ws, key=lambda w: -len(w[0]))) for c, ws in by_first.items()},
        descriptions,
        frozenset(w[-1] for w in roles),
    )


def _key(text: str) -> str:
    return "".join(c for c in fold(text).lower() if c not in _IGNORED)


def tokens(text: str) -> list[tuple[str, str | None]]:
    """``text`` (folded, lower case, no spaces) cut into vocabulary words, longest first; a
    character no word covers is a token of its own with role None."""
    lex = lexicon().by_first
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(text):
        for word, role in lex.get(text[i], ()):
            if text.startswith(word, i):
                out.append((word, role))
                i += len(word)
                break
        else:
            out.append((text[i], None))
            i += 1
    return out


def read_phrase(text: str) -> Phrase | None:
    """The kinds ``text`` names when it is a heading phrase (vocabulary words only, each part
    ending with a kind word and maybe a suffix), else None."""
    if len(text) > 4 * MAX_PHRASE:
        return None  # a paragraph: not worth folding
    key = _key(text)
    if not key or len(key) > MAX_PHRASE:
        return None
    return _read_key(key)


@lru_cache(maxsize=1 << 16)
def _read_key(key: str) -> Phrase | None:
    parts: list[list[tuple[str, str | None]]] = [[]]
    for word, role in tokens(key):
        if role is None:
            return None
        if role == JOIN:
            parts.append([])
        else:
            parts[-1].append((word, role))
    found: list[str] = []
    for part in parts:
        if not part:
            return None  # a joiner at either end (、营销策略, 品牌理念、) is a list, not a heading
        kinds = [role for _, role in part if role is not None and role not in (MOD, SUF)]
        if not kinds:
            return None
        last = max(i for i, (_, role) in enumerate(part) if role not in (MOD, SUF))
        if any(role != SUF for _, role in part[last + 1 :]):
            return None  # a modifier after the kind word: 执行时间 names a time, not a section
        # an overview word after another kind word only rounds it off (背景概述)
        named = [k for k in kinds if k != "overview"] or kinds
        found.append(named[-1])
    if not found:
        return None
    return Phrase(found[0], tuple(dict.fromkeys(found)))


def trailing_phrase(text: str) -> tuple[int, Phrase] | None:
    """The longest heading phrase ending ``text`` and where it starts (中国移动背景介绍 →
    背景介绍 at 4), or None."""
    if fold(text.rstrip()[-1:]).lower() not in lexicon().last_chars:
        return None  # a phrase ends with a word of the vocabulary
    start = max(0, len(text) - MAX_PHRASE - 4)
    for i in range(start, len(text)):
        if text[i] in _IGNORED:
            continue
        found = read_phrase(text[i:])
        if found is not None:
            return i, found
    return None


def leading_phrase(text: str, min_chars: int = 2) -> tuple[int, Phrase] | None:
    """The longest heading phrase starting ``text`` and where it ends, or None."""
    if not starts_with_word(text.lstrip()):
        return None  # most sentences: no heading word at their start
    window = text[: MAX_PHRASE + 4]
    folded = fold(window).lower()
    ends = [i + 1 for i, c in enumerate(folded) if c not in _IGNORED]  # after each character
    compact = "".join(folded[i - 1] for i in ends)
    for k in range(len(compact), min_chars - 1, -1):
        found = _read_key(compact[:k]) if k <= MAX_PHRASE else None
        if found is not None:
            return ends[k - 1], found
    return None


def starts_with_word(text: str) -> bool:
    """Whether ``text`` begins with a vocabulary word (a heading phrase that goes on: 企业宣传活动)."""
    head = text.lstrip(" \t\u3000")[:1]
    if not head or fold(head).lower() not in lexicon().by_first:
        return False
    key = _key(text[:8])
    return bool(key) and tokens(key)[0][1] is not None


@cache
def about_entries() -> re.Pattern[str]:
    """Words of documents about entries (``[about_entries]`` of kinds.toml), folded."""
    path = templates_dir() / "kinds.toml"
    try:
        words = tomllib.loads(path.read_text(encoding="utf-8")).get("about_entries", {})["words"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise SchemaError(f"{path}: no [about_entries] words ({exc})") from exc
    return re.compile("|".join(re.escape(fold(w)) for w in sorted(words, key=len, reverse=True)))


def kind_descriptions() -> dict[str, str]:
    return dict(lexicon().descriptions)


# ------------------------------------------------------------------ run-in headings


def starts_text(rest: str) -> bool:
    return bool(rest) and (rest[0].isalnum() or "\u4e00" <= rest[0] <= "\u9fff")


# What follows a section name when the name is part of a sentence, not a heading run into its
# text: a compound it continues (营销目标人群, 项目执行过程中) or a predicate it is the subject of
# (营销效果显著, 营销目标是…). A glued heading is followed by the section's own first words
# (背景与挑战公益活动…, 将创意付诸实践我们把…), which these do not start.
_WORD_GLUE = re.compile(
    r"(?:人群|受众|群体|用户|对象|过程|阶段|期间|周期|环节|节点|方面|层面|部分|方案|计划|体系|"
    r"模式|机制|工作|团队|人员|部门|中心|平台|渠道|内容|数据|报告|指标|能力|水平|成本|预算|"
    r"费用|情况|问题|要求|任务|分析|管理|设计|规划|制定|拆解|落地|相关|本身|之一|"
    r"显著|明显|良好|不错|突出|斐然|出色|喜人|一般|超出|超过|达到|达成|包括|包含|主要|如何|"
    r"怎样|怎么|[中上里内后前时者的地得是为在有和及或很较更都也已还将会能可要就则并而不没被"
    r"之所])"
)


def continues_word(rest: str) -> bool:
    return _WORD_GLUE.match(fold(rest[:3])) is not None
