"""A section's text as blocks for the exports: paragraphs, sub-headings, lists, tables, runs.

Section text is plain text, but what a model (or a user pasting from a chat window) writes
carries Markdown: ``### 小标题``, ``- 要点``, ``1. 步骤``, ``**加粗**``, ``| 指标 | 数值 |`` tables.
An award form must never print that syntax literally: the exports turn it into real headings,
list paragraphs, bold runs and tables (Word, PDF) or into clean Markdown. Chinese enumeration
written as text (``（1）``, ``①``, ``一、``) is prose and stays as written.

Runs also carry the pending marks (``【待核实】``, ``【待补充：…】``, :data:`analyzer.markers.PENDING`)
so every format can highlight them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyzer.markers import PENDING


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    mark: bool = False  # a pending mark: highlighted wherever the draft is shown


@dataclass(frozen=True)
class Block:
    """``kind``: paragraph | heading | bullet | number | table. A list item's ``start`` is the
    number it was written with (the first item of a list starts the list's numbering)."""

    kind: str
    runs: tuple[Run, ...] = ()
    rows: tuple[tuple[tuple[Run, ...], ...], ...] = ()  # a table's rows of cells
    start: int = 1

    @property
    def text(self) -> str:
        if self.kind == "table":
            return "\n".join(" | ".join(plain(c) for c in row) for row in self.rows)
        return plain(self.runs)


def plain(runs: tuple[Run, ...]) -> str:
    return "".join(r.text for r in runs)


_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+•·▪◦]\s+(.*)$")
_NUMBER = re.compile(r"^\s*(\d{1,3})(?:[.．)）](?!\d)|、)\s*(.+)$")
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_QUOTE = re.compile(r"^\s*>\s?")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_LINK = re.compile(r"\[([^\]\n]+)\]\((?:[^)\s]+)\)")
_CODE = re.compile(r"`([^`\n]+)`")
_STRAY = re.compile(r"\*\*|(?<![*\w])\*(?=\S)|(?<=\S)\*(?![*\w])|`")
_WHOLE_BOLD = re.compile(r"^\s*(?:\*\*(.+)\*\*|__(.+)__)\s*[:：]?\s*$")
SENTENCE_END = "。！？!?；;"
SUBHEADING_CHARS = 40


def runs(text: str) -> tuple[Run, ...]:
    """Inline text as runs: ``**bold**`` bold, pending marks marked, links as their text, and
    no stray ``*`` or backquote left."""
    text = _LINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    out: list[Run] = []
    pos = 0
    for m in _BOLD.finditer(text):
        out += _marked(text[pos : m.start()], bold=False)
        out += _marked(m.group(1) or m.group(2) or "", bold=True)
        pos = m.end()
    out += _marked(text[pos:], bold=False)
    return tuple(r for r in out if r.text)


def _marked(text: str, *, bold: bool) -> list[Run]:
    text = _STRAY.sub("", text)
    out, pos = [], 0
    for m in PENDING.finditer(text):
        out.append(Run(text[pos : m.start()], bold))
        out.append(Run(m.group(), bold, mark=True))
        pos = m.end()
    out.append(Run(text[pos:], bold))
    return out


def _cells(line: str) -> tuple[tuple[Run, ...], ...]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return tuple(runs(cell.strip()) for cell in inner.split("|"))


def _subheading(line: str) -> str | None:
    """A line that is all bold and short, with no sentence end: a sub-heading."""
    m = _WHOLE_BOLD.match(line)
    if m is None:
        return None
    title = (m.group(1) or m.group(2) or "").strip()
    if not title or len(title) > SUBHEADING_CHARS or title[-1] in SENTENCE_END or "**" in title:
        return None
    return title


def blocks(text: str) -> list[Block]:
    """The blocks of a section's text, one per line that has text (tables: one per table)."""
    out: list[Block] = []
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or _FENCE.match(line) or _RULE.match(line):
            continue
        if _TABLE_ROW.match(line):
            rows = [line]
            while i < len(lines) and _TABLE_ROW.match(lines[i]):
                rows.append(lines[i])
                i += 1
            table = [_cells(r) for r in rows if not _TABLE_RULE.match(r)]
            if table:
                width = max(len(r) for r in table)
                padded = tuple(r + ((),) * (width - len(r)) for r in table)
                out.append(Block("table", rows=padded))
            continue
        line = _QUOTE.sub("", line)
        if m := _HEADING.match(line):
            out.append(Block("heading", runs(m.group(1))))
        elif title := _subheading(line):
            out.append(Block("heading", runs(title)))
        elif m := _BULLET.match(line):
            out.append(Block("bullet", runs(m.group(1).strip())))
        elif m := _NUMBER.match(line):
            out.append(Block("number", runs(m.group(2).strip()), start=int(m.group(1))))
        else:
            out.append(Block("paragraph", runs(line.strip())))
    return [b for b in out if b.kind == "table" or plain(b.runs).strip()]


def lists(items: list[Block]) -> list[list[Block]]:
    """Consecutive blocks grouped: a run of list items of one kind is one list, anything else
    stands alone (so a numbered list interrupted by a paragraph starts again)."""
    groups: list[list[Block]] = []
    for b in items:
        if groups and b.kind in ("bullet", "number") and groups[-1][-1].kind == b.kind:
            groups[-1].append(b)
        else:
            groups.append([b])
    return groups
