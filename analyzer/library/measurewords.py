"""The measure words of ``templates/measures.toml``: which canonical measure (曝光, 阅读, 互动 …)
a keyword names, and the keywords of one text indexed for the figures around them."""

from __future__ import annotations

import bisect
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

from analyzer.errors import SchemaError
from analyzer.paths import templates_dir

MEASURES_FILE = "measures.toml"
_KW_SUFFIX = r"(?:人数|次数|总量|总数|量|数|率|值)?"


class Keyword(NamedTuple):  # a tuple: thousands per document
    start: int
    end: int
    measure: str
    fallback: bool


@dataclass(frozen=True)
class Vocab:
    measures: dict[str, tuple[str, ...]]
    regex: re.Pattern[str]
    measure_of: dict[str, str]
    fallback: frozenset[str]


def measures() -> dict[str, tuple[str, ...]]:
    """Canonical measure → its keywords, from ``templates/measures.toml`` (read once per path)."""
    return dict(vocab(templates_dir() / MEASURES_FILE).measures)


@cache
def vocab(path: Path) -> Vocab:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SchemaError(f"{path}: cannot read the measure vocabulary ({exc})") from exc
    table = data.get("measures")
    if not isinstance(table, dict) or not table:
        raise SchemaError(f"{path}: needs a [measures] table of measure = [keywords]")
    out: dict[str, tuple[str, ...]] = {}
    for name, words in table.items():
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise SchemaError(f"{path}: measure {name!r} must list keywords as strings")
        out[name] = tuple(words)
    fallback = data.get("fallback", [])
    if not isinstance(fallback, list) or not set(fallback) <= set(out):
        raise SchemaError(f"{path}: fallback must list measures of [measures], got {fallback!r}")
    measure_of = {w.lower(): name for name, words in out.items() for w in words}
    words = sorted(measure_of, key=len, reverse=True)
    alts = [
        rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])" if w.isascii() else re.escape(w) for w in words
    ]
    # A leading class of first characters lets the engine skip most positions at once.
    firsts = re.escape("".join(sorted({c for w in words for c in (w[0], w[0].upper())})))
    regex = re.compile(
        rf"(?=[{firsts}])(?P<kw>{'|'.join(alts) or '(?!)'}){_KW_SUFFIX}", re.IGNORECASE
    )
    return Vocab(out, regex, measure_of, frozenset(fallback))


class Keywords:
    """The measure keywords of one text, sorted, with the lookups the figures need."""

    def __init__(self, found: list[Keyword]) -> None:
        self.all = found
        self.starts = [k.start for k in found]
        self.by_end = {(k.measure, k.end): k for k in found}
        self.by_start = {(k.measure, k.start): k for k in found}

    def before(self, lo: int, pos: int) -> list[Keyword]:
        """Keywords inside [lo, pos), nearest first."""
        out = []
        for i in range(bisect.bisect_left(self.starts, pos) - 1, -1, -1):
            k = self.all[i]
            if k.start < lo:
                break
            if k.end <= pos:
                out.append(k)
        return out

    def after(self, pos: int, hi: int) -> list[Keyword]:
        """Keywords inside [pos, hi), nearest first."""
        out = []
        for i in range(bisect.bisect_left(self.starts, pos), len(self.all)):
            k = self.all[i]
            if k.start >= hi:
                break
            if k.end <= hi:
                out.append(k)
        return out

    def extend(self, kw: Keyword) -> tuple[int, int]:
        """Adjacent keywords of one measure form one label: 报名参赛, 同比增长, 月活用户数."""
        first = last = kw
        while (k := self.by_end.get((kw.measure, first.start))) is not None:
            first = k
        while (k := self.by_start.get((kw.measure, last.end))) is not None:
            last = k
        return first.start, last.end
