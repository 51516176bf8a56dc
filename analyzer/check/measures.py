"""Which measures (曝光, 互动, 转化 …) a piece of text talks about, figures or not.

Objectives name measures without figures ("提升有效触达和转化效率"); the vocabulary is the one the
metric extractor uses (``templates/measures.toml`` via :func:`analyzer.library.measurewords.measures`). The
fallback measures (增长: 提升/增长 alone) and 其他 say nothing about *what* is measured, so they
never make an objective measurable.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache

from analyzer.paths import templates_dir
from analyzer.zh.words import one_of


@dataclass(frozen=True)
class _Matcher:
    regex: re.Pattern[str]
    measure_of: dict[str, str]  # keyword (lower case) → measure
    measures: frozenset[str]  # the informative measures
    exact: dict[str, tuple[str, ...]]  # objective keyword (lower case) → words a result must use


@cache
def _matcher() -> _Matcher:
    from analyzer.library.measurewords import MEASURES_FILE, measures
    from analyzer.library.metrics import OTHER

    try:
        data = tomllib.loads((templates_dir() / MEASURES_FILE).read_text(encoding="utf-8"))
        fallback = {str(m) for m in data.get("fallback", [])}
        exact = {
            str(k).lower(): tuple(str(w).lower() for w in v)
            for k, v in dict(data.get("exact", {})).items()
        }
    except (OSError, tomllib.TOMLDecodeError):
        fallback, exact = set(), {}
    skip = {OTHER, *fallback}
    measure_of = {
        word.lower(): name
        for name, words in measures().items()
        if name not in skip
        for word in words
    }
    # One flat alternation, longest keyword first, matched against lower-cased text: every
    # branch starts with a literal, so ``re`` skips to candidate characters (see vocab.py).
    branches = []
    for word in exact:  # an exact keyword is found even when it is not a measure keyword
        measure_of.setdefault(word, next((m for w, m in measure_of.items() if w in word), ""))
    for word in sorted(measure_of, key=len, reverse=True):
        escaped = re.escape(word)
        if word.isascii() and word[:1].isalpha():
            # whole words only ("UV" not in "UVA"); the lookbehind comes after the literal
            escaped += rf"(?<![a-z]{'.' * len(word)})(?![a-z])"
        branches.append(escaped)
    regex = re.compile(one_of(branches) if branches else "(?!)")
    return _Matcher(regex, measure_of, frozenset(v for v in measure_of.values() if v), exact)


def measures_in(text: str) -> list[str]:
    """Measures named in ``text``, each once, in order of first mention."""
    return measures_of(keywords_in(text))


def keywords_in(text: str) -> list[tuple[str, str]]:
    """(measure, keyword as matched, lower case) for every measure keyword in ``text``."""
    matcher = _matcher()
    out: list[tuple[str, str]] = []
    for keyword in matcher.regex.findall(text.lower()):
        measure = matcher.measure_of.get(keyword)
        if measure and (measure, keyword) not in out:
            out.append((measure, keyword))
    return out


def measures_of(keywords: list[tuple[str, str]]) -> list[str]:
    """The measures of :func:`keywords_in`'s keywords, each once, in order of first mention (the
    same as :func:`measures_in` of the text, without reading it again)."""
    return list(dict.fromkeys(measure for measure, _ in keywords))


def exact_words(keyword: str) -> tuple[str, ...] | None:
    """The words a result must use to answer an objective that names ``keyword`` (复购, 好感度 …),
    or None when any result of the keyword's measure answers it."""
    return _matcher().exact.get(keyword.lower())


def informative(measure: str) -> bool:
    """False for 其他 and the fallback measures (增长): they do not say *what* was measured."""
    return measure in _matcher().measures


def measure_label(measure: str) -> str:
    """How a measure is named to the user (the vocabulary's keys are already Chinese words)."""
    return measure or "其他"
