"""Split a case into retrieval chunks that follow its sections, and say which get a vector.

A section short enough stays one chunk. A long one is cut at Chinese sentence ends (。！？；,
their ASCII forms, and line breaks), packing whole sentences up to ``max_chars`` and, when the
policy asks for ``overlap``, repeating the last sentence(s) of a chunk, up to ``overlap``
characters, at the start of the next. A chunk ends mid-sentence only when one sentence alone is
longer than ``max_chars``; it is then cut at commas, and at ``max_chars`` only if a clause is
still too long. No chunk is shorter than two characters. Offsets are into the case's full text,
so a hit can be shown in place.

Every chunk is searched by BM25 (its text with a short context: the case title and section
title). Embedding is what costs (time grows with the tokens embedded), so the index embeds less
than it searches (:data:`DEFAULT`, chosen on ``bench/indexing.py``'s labelled queries): no
overlap (it re-embedded a fifth of every long section), no context (the title repeated in every
chunk, whole lines of page residue when a parser took them for the title; vectors were no
better with it), and only the first ``section_cap`` chunks of a section — its tail is found by
BM25. Sentences that recur in several cases (page residue, a template's instructions) are left
out of what is embedded (:func:`embedded_text`), and identical passages are embedded once.
:data:`BASELINE` is the pipeline before (every chunk, 400/80 with context), kept for the bench.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from analyzer.library.parsed import Section
from analyzer.zh.segments import COLON, COMMA, ENUM_COMMA
from analyzer.zh.segments import sentences as split_sentences

MAX_CHARS = 300  # ~200 e5 tokens: one topic; shorter passages also cost less per token
OVERLAP = 0
MIN_CHARS = 2
HEADER_KEY = "header"
TITLE_CHARS = 40  # of the case title in a chunk's context (a parser may take a paragraph for it)
MIN_EMBED_CHARS = 8  # meaningful characters a passage needs, boilerplate removed, to be embedded

_CLAUSE_MARKS = re.escape(COMMA + ENUM_COMMA + COLON)
_CLAUSE_RE = re.compile(rf"[^{_CLAUSE_MARKS}]*(?:[{_CLAUSE_MARKS}]+|$)")
_MEANINGFUL = re.compile(r"[\w\u3400-\u9fff]")


@dataclass(frozen=True)
class ChunkPolicy:
    """How cases are cut into chunks and which chunks are embedded."""

    name: str
    max_chars: int
    overlap: int
    embed_context: bool  # the context line is embedded with each chunk
    section_cap: int | None  # chunks of a section that get a vector (None: all)


DEFAULT = ChunkPolicy("sections-300x2", MAX_CHARS, OVERLAP, embed_context=False, section_cap=2)
BASELINE = ChunkPolicy("baseline-400/80", 400, 80, embed_context=True, section_cap=None)


@dataclass(frozen=True)
class Chunk:
    case_id: int
    ordinal: int  # position in the case
    section: str  # section key ("header" for the title + header fields chunk)
    kind: str
    section_title: str
    text: str
    start: int  # offsets into the case text
    end: int
    context: str = ""  # case title · section title, prepended when tokenizing (BM25)
    embed: bool = True  # gets a vector (False: found by BM25 only)
    embed_context: bool = False  # the context is embedded too (the baseline policy)

    @property
    def indexed_text(self) -> str:
        """What BM25 indexes: the context line and the text."""
        return f"{self.context}\n{self.text}" if self.context else self.text

    @property
    def vector_text(self) -> str:
        """What is embedded (before boilerplate is taken out), "" when nothing is."""
        if not self.embed:
            return ""
        return self.indexed_text if self.embed_context else self.text


class CaseLike(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def fields(self) -> dict[str, str]: ...
    @property
    def sections(self) -> tuple[Section, ...]: ...


def _meaningful(text: str) -> int:
    return len(_MEANINGFUL.findall(text))


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """One over-long sentence → clauses (at commas) → hard cuts; a tiny tail joins its neighbour."""
    pieces: list[tuple[int, int]] = []
    for m in _CLAUSE_RE.finditer(text, start, end):
        s, e = _strip_span(text, m.start(), min(m.end(), end))
        if e <= s:
            continue
        while e - s > max_chars:
            cut = _strip_span(text, s, s + max_chars)
            if cut[1] > cut[0]:
                pieces.append(cut)
            s = _strip_span(text, s + max_chars, e)[0]
        if e > s:
            pieces.append((s, e))
    merged: list[tuple[int, int]] = []
    for s, e in pieces:  # pack clauses back together up to the limit
        if merged and e - merged[-1][0] <= max_chars:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    if len(merged) > 1 and _meaningful(text[merged[-1][0] : merged[-1][1]]) < MIN_CHARS:
        merged[-2:] = [(merged[-2][0], merged[-1][1])]
    return merged


def chunk_spans(
    text: str, *, max_chars: int = MAX_CHARS, overlap: int = OVERLAP
) -> list[tuple[int, int]]:
    """Spans of the chunks of one section's text (offsets into ``text``)."""
    if max_chars < 2 * MIN_CHARS:
        raise ValueError(f"max_chars must be at least {2 * MIN_CHARS}, got {max_chars}")
    if not 0 <= overlap < max_chars:
        raise ValueError(f"overlap must be in [0, max_chars), got {overlap}")
    units: list[tuple[int, int]] = []
    for s, e in split_sentences(text):
        units.extend(_split_long(text, s, e, max_chars) if e - s > max_chars else [(s, e)])
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= max_chars:
            j += 1
        chunks.append((units[i][0], units[j][1]))
        if j + 1 >= len(units):
            break
        nxt = j + 1  # next chunk starts after this one unless trailing sentences fit the overlap
        for back in range(j, i, -1):
            if units[j][1] - units[back][0] > overlap:
                break
            if units[j + 1][1] - units[back][0] <= max_chars:
                nxt = back
        i = nxt
    return [(s, e) for s, e in chunks if _meaningful(text[s:e]) >= MIN_CHARS]


def header_text(title: str, fields: dict[str, str]) -> str:
    lines = [title] if title else []
    lines += [f"{name}：{value}" for name, value in fields.items() if value]
    return "\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def context_line(title: str, section_title: str) -> str:
    return f"{_shorten(title, TITLE_CHARS)} · {section_title}"


def chunk_case(
    case: CaseLike,
    case_id: int,
    *,
    policy: ChunkPolicy = DEFAULT,
    max_chars: int | None = None,
    overlap: int | None = None,
) -> list[Chunk]:
    """The chunks of one case: a header chunk (title + header fields) when it has fields, then
    its sections in order. ``max_chars``/``overlap`` override the policy's."""
    max_chars = policy.max_chars if max_chars is None else max_chars
    overlap = policy.overlap if overlap is None else overlap
    out: list[Chunk] = []
    first_start = min((s.start for s in case.sections), default=0)
    if case.fields:
        head = header_text(_shorten(case.title, 2 * TITLE_CHARS), case.fields)
        if _meaningful(head) >= MIN_CHARS:
            out.append(Chunk(case_id, 0, HEADER_KEY, HEADER_KEY, "基本信息", head, 0, first_start))
    for section in case.sections:
        body = section.text  # its body sits at section.start in the case text
        name = section.title or section.key
        context = (
            f"{case.title} · {name}" if policy.embed_context else context_line(case.title, name)
        )
        spans = chunk_spans(body, max_chars=max_chars, overlap=overlap)
        for n, (s, e) in enumerate(spans):
            out.append(
                Chunk(
                    case_id=case_id,
                    ordinal=len(out),
                    section=section.key,
                    kind=section.kind,
                    section_title=section.title or section.key,
                    text=body[s:e],
                    start=section.start + s,
                    end=section.start + e,
                    context=context,
                    embed=policy.section_cap is None or n < policy.section_cap,
                    embed_context=policy.embed_context,
                )
            )
    return out


def sentence_keys(case: CaseLike) -> np.ndarray:
    """64-bit keys of the distinct sentences of a case's sections (to count, across the
    library, the cases a sentence recurs in)."""
    keys = {
        _key(section.text[s:e])
        for section in case.sections
        for s, e in split_sentences(section.text)
        if _meaningful(section.text[s:e]) >= MIN_CHARS
    }
    return np.array(sorted(keys), dtype=np.int64)


def _key(sentence: str) -> int:
    digest = hashlib.blake2b(sentence.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def embedded_text(text: str, common: frozenset[int] | set[int]) -> str:
    """``text`` without the sentences in ``common`` (boilerplate: keys of sentences that recur
    in several cases); "" when too little is left to be worth a vector."""
    if common:
        kept = [text[s:e] for s, e in split_sentences(text) if _key(text[s:e]) not in common]
        if len(kept) < len(split_sentences(text)):
            text = "".join(kept)
    return text if _meaningful(text) >= MIN_EMBED_CHARS else ""


def passage_key(text: str) -> str:
    """The key of an embedded passage: identical passages share one vector."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()
