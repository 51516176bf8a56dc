"""The copy guard: a draft says what the brief says, never what another case or the prompt said.

A 0.5B model given an exemplar passage copies it wholesale: with a sample library, 308 of the 335
characters of a tea brand's 营销背景 came from a cloud-AI contest's entry. After generation this
module finds every run of :data:`MIN_RUN` or more characters (whitespace ignored) that the draft
shares with an exemplar or with the prompt's own instructions but not with the brief or the award's
schema (its name, section and field titles), and every name of an exemplar case (its brand,
advertiser, the names in its title) that the brief does not use. Each sentence holding one is
dropped and reported as a :class:`CopyFlag`, so the draft lists it for the user.

:data:`MIN_RUN` was measured: drafts written without exemplars share at most 7 characters with the
sample library once the award's own titles are set aside, while copied sentences share 20-160.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

MIN_RUN = 8  # characters, whitespace ignored
MOSTLY_COPIED = 0.3  # share of a section's characters in copied runs: regenerate without exemplars

_SPACE = re.compile(r"\s+")
_SENTENCE = re.compile(r"[^。！？；!?\n]*(?:[。！？；!?]+[」”’）)]*|\n|$)")
# Latin words that are product or company names (ModelArts, HUAWEI), not marketing acronyms.
_LATIN_NAME = re.compile(
    r"(?<![A-Za-z])(?:[A-Z][a-z]+[A-Z][A-Za-z]*|[A-Z]{4,}|[A-Z][a-z]{3,})(?![A-Za-z])"
)
_NAME_FLAGS = ("nr", "nt", "nz", "ns", "nrt", "nrfg")
_GENERIC_LATIN = frozenset({"CTR", "KOL", "KOC", "UGC", "PGC", "DAU", "MAU", "SaaS", "APP"})


@dataclass(frozen=True)
class Source:
    """Text the draft must not copy: an exemplar passage (with its case's names) or the prompt."""

    label: str  # "case title · section title", or "提示词"
    text: str
    names: tuple[str, ...] = ()
    kind: str = "exemplar"  # "exemplar" | "prompt"


@dataclass(frozen=True)
class CopyFlag:
    """A sentence the guard dropped, and why."""

    section: str
    sentence: str
    source: str  # the Source label
    reason: str  # "copied" | "name" | "prompt"
    detail: str  # the copied run or the name

    def describe(self, section_title: str = "") -> str:
        where = section_title or self.section
        if self.reason == "name":
            why = f"出现范例案例的名称「{self.detail}」（{self.source}）"
        elif self.reason == "prompt":
            why = f"照抄了提示词「{_short(self.detail)}」"
        else:
            why = f"照抄了范例「{self.source}」的「{_short(self.detail)}」"
        return f"{where}：已删去一句，因为它{why}：{_short(self.sentence, 50)}"


@dataclass(frozen=True)
class CopyCheck:
    text: str  # the text with the offending sentences dropped
    flags: tuple[CopyFlag, ...]
    copied_share: float  # share of the original's characters in runs copied from an exemplar

    @property
    def mostly_copied(self) -> bool:
        return self.copied_share >= MOSTLY_COPIED


def check_copies(
    text: str,
    sources: Sequence[Source],
    own: Iterable[str],
    *,
    section: str = "",
    min_run: int = MIN_RUN,
) -> CopyCheck:
    """Drop every sentence of ``text`` that copies a source; ``own`` is text it may repeat
    (the brief, the award's titles)."""
    own_norm = _norm("\n".join(own))
    own_grams = _grams(own_norm, min_run)
    norm, where = _normalized(text)
    owner: list[int] = [-1] * len(norm)  # source index covering each character
    for si, source in enumerate(sources):
        grams = _grams(_norm(source.text), min_run) - own_grams
        if not grams:
            continue
        for i in range(len(norm) - min_run + 1):
            if norm[i : i + min_run] in grams:
                for j in range(i, i + min_run):
                    if owner[j] < 0:
                        owner[j] = si
    copied_exemplar = sum(1 for o in owner if o >= 0 and sources[o].kind == "exemplar")
    share = copied_exemplar / len(norm) if norm else 0.0
    covered_at = [-1] * len(text)
    for ni, o in enumerate(owner):
        if o >= 0:
            covered_at[where[ni]] = o
    names = [
        (name, si)
        for si, source in enumerate(sources)
        for name in source.names
        if len(name) >= 2 and name not in own_norm
    ]
    kept: list[str] = []
    flags: list[CopyFlag] = []
    pos = 0
    for m in _SENTENCE.finditer(text):
        sentence = m.group()
        if not sentence:
            if m.end() >= len(text):
                break
            continue
        start, end = m.start(), m.end()
        pos = end
        hit = _first_run(text, covered_at, start, end)
        name = next(((n, si) for n, si in names if n in _norm(sentence)), None)
        if hit is not None:
            si, run = hit
            src = sources[si]
            reason = "prompt" if src.kind == "prompt" else "copied"
            flags.append(CopyFlag(section, sentence.strip(), src.label, reason, run))
        elif name is not None:
            flags.append(
                CopyFlag(section, sentence.strip(), sources[name[1]].label, "name", name[0])
            )
        else:
            kept.append(sentence)
            continue
        if sentence.endswith("\n"):
            kept.append("\n")  # keep the paragraph break
    kept.append(text[pos:])
    cleaned = re.sub(r"\n{3,}", "\n\n", "".join(kept))
    cleaned = "\n".join(line.rstrip() for line in cleaned.split("\n")).strip()
    return CopyCheck(cleaned, tuple(flags), share)


def case_names(title: str, text: str = "", fields: Iterable[str] = ()) -> tuple[str, ...]:
    """Names that identify an exemplar's case: its header fields (brand, advertiser …), the
    proper nouns of its title, product names in Latin letters and organizations in its text."""
    names: list[str] = [f.strip() for f in fields if f and len(f.strip()) >= 2]
    for word, flag in _pos(title):
        if flag in _NAME_FLAGS and len(word) >= 2:
            names.append(word)
    for source in (title, text):
        names += [w for w in _LATIN_NAME.findall(source) if w not in _GENERIC_LATIN]
    for word, flag in _pos(text[:1500]):
        if flag == "nt" and len(word) >= 4:  # 中国移动; shorter ones are often common words
            names.append(word)
    return tuple(dict.fromkeys(names))


def _pos(text: str) -> list[tuple[str, str]]:
    if not text.strip():
        return []
    return list(_pos_cached(text))


@cache
def _pos_cached(text: str) -> tuple[tuple[str, str], ...]:
    import jieba.posseg as pseg

    from analyzer.search.bm25 import ensure_jieba

    ensure_jieba()  # the dictionary, loaded in slices
    return tuple((p.word, p.flag) for p in pseg.cut(text))


def _norm(text: str) -> str:
    return _SPACE.sub("", text)


def _normalized(text: str) -> tuple[str, list[int]]:
    """``text`` without whitespace, and the original index of each remaining character."""
    where = [i for i, ch in enumerate(text) if not ch.isspace()]
    return "".join(text[i] for i in where), where


def _grams(text: str, n: int) -> set[str]:
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def _first_run(text: str, covered_at: list[int], start: int, end: int) -> tuple[int, str] | None:
    """The first copied run inside ``text[start:end]``: (source index, the run as written).

    A run must hold half of :data:`MIN_RUN` characters that are no punctuation inside this
    sentence: a copied run that starts right after it only covers its full stop."""
    i = start
    while i < end:
        if covered_at[i] >= 0:
            si = covered_at[i]
            j = i
            while j < end and (covered_at[j] == si or text[j].isspace()):
                j += 1
            run = text[i:j].strip()
            if sum(ch.isalnum() for ch in run) * 2 >= MIN_RUN:
                return si, run
            i = j
            continue
        i += 1
    return None


def _short(text: str, limit: int = 24) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
