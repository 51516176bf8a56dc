"""Turn a document's text into a parsed case: award, header fields, sections, metrics.

The award is taken from ``award=`` when the user names it, otherwise guessed from the structure
(which award's headings and fields the text has) and from award names stated near the top. A
document with no entry structure (a talk, a news item) is a reference document: it keeps its
text as one ``body`` section and is never forced into an award's sections.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

from analyzer.library.limits import check_length
from analyzer.library.outline import find_candidates, outline, slide_titles
from analyzer.library.parsed import Metric, ParsedDocument, Section
from analyzer.library.sections import (
    award_names,
    field_vocabulary,
    glued_field_names,
    normalized,
    read_fields,
)
from analyzer.library.structure import (
    assemble,
    award_by_structure,
    is_entry,
    over_fields,
    stated_award,
)
from analyzer.library.textclean import clean_text
from analyzer.markers import split_review_notes
from analyzer.schema import get_award, kinds, load_awards
from analyzer.zh.fold import is_cjk

HEAD_CHARS = 400  # how far from the top a stated award name counts
OVERVIEW_FIELD_LINES = 8  # lines at the top of an overview section read for header fields


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


_TITLE_SEP = re.compile(r"\s*[｜|]\s*")
# A line that only gives where the text was copied from: a URL, or "SOURCE: …", "来源：…"
_URL_LINE = re.compile(
    r"^\s*(?:(?:source|url|link|来源|來源|原文链接|原文鏈接|原文|链接|鏈接|出处|出處|网址|網址)\s*[:：]\s*)?"
    r"(?:https?://|www\.)\S*\s*$",
    re.IGNORECASE,
)


def source_url(text: str) -> str:
    """The address a pasted or saved text says it came from (its first non-empty line, when that
    line is only a URL or ``SOURCE: <url>`` / ``来源：<url>``), else ""."""
    for line in text.splitlines():
        if line.strip():
            m = _URL_LINE.match(line)
            if not m:
                return ""
            return re.search(r"(?:https?://|www\.)\S*", line).group(0)  # type: ignore[union-attr]
    return ""


def _title(preamble_lines: list[str], names: frozenset[str]) -> str:
    # Prefer a line with Chinese in it: slide decks break Latin award names over lines.
    with_cjk = [x for x in preamble_lines if any(is_cjk(c) for c in x)]
    for line in with_cjk + preamble_lines:
        n = normalized(line)
        if len(n) < 4 or _URL_LINE.match(line) or n.startswith("作者"):
            continue
        if any(name in n for name in names) and len(n) <= 40:
            # the award's own name line ("第 11 届金鼠标数字营销大赛"), unless it names the case
            # beside the award ("城市限定季｜金鼠标数字营销大赛参赛稿", as drafts are titled)
            own = [
                p
                for p in _TITLE_SEP.split(line.strip(" -*#【】"))
                if len(normalized(p)) >= 4 and not any(name in normalized(p) for name in names)
            ]
            if own:
                return own[0].strip(" -*#【】")
            continue
        return line.strip(" -*#【】")
    return ""


def parse_text(raw: str, *, award: str | None = None, name: str = "") -> ParsedDocument:
    """Parse one document's text. Never raises on any string (a bad award key does)."""
    forced = get_award(award) if award else None
    raw, notes = split_review_notes(raw)  # an exported draft's notes to its writer
    text = clean_text(raw)
    awards = load_awards()
    vocabulary = field_vocabulary()
    cands = find_candidates(text, lambda n, v: normalized(n) in vocabulary)
    order = {k: i for i, k in enumerate(kinds())}
    heads = outline(cands, text, order)
    if len(heads) < 2 and (slides := slide_titles(text, glued_field_names())):
        at = {c.start for c in slides}
        both = [*slides, *(c for c in cands if c.start not in at)]
        heads = outline(sorted(both, key=lambda c: c.start), text, order)
    heads = over_fields(heads, text, lambda part: len({f.line for f in read_fields(part, ())}))
    lines = _lines(text)
    first = heads[0].line if heads else 0
    header = text[:first].split("\n") if first else []
    if forced is not None:
        schema = forced
    else:
        named_in = text[:HEAD_CHARS] + "\n" + "\n".join(header)
        stated = stated_award(named_in, [a for a in awards.values() if a.key != "generic"])
        found_names = [f.name for f in read_fields(header, ())]
        schema = (
            stated
            or award_by_structure(
                [c.phrase_words for c in heads], found_names, list(awards.values())
            )
            or awards["generic"]
        )
    built = assemble(text, heads, schema)
    # the header: what stands before the first section's heading (a heading may start mid-line)
    head_lines = text[: built.preamble_end].split("\n") if built.preamble_end else []
    found = read_fields(head_lines, schema.fields)
    # an award the user names takes any section found; a guess needs an entry's structure
    entry = bool(built.sections) if forced is not None else is_entry(built, heads, len(found))
    pre_lines = head_lines if entry else [line for off, line in lines if off < HEAD_CHARS]
    if not entry:
        sections: tuple[Section, ...] = (
            (Section("body", "overview", "", text, 0, len(text)),) if text else ()
        )
        found = read_fields(pre_lines, schema.fields) if forced else []
    else:
        sections = built.sections
        if sections and sections[0].kind == "overview":
            # an overview may hold the basic facts as fields (概况 / 时间：… / 市场区域：…)
            known = {f.spec.key if f.spec else f.name for f in found}
            lines_in = sections[0].text.split("\n")[:OVERVIEW_FIELD_LINES]
            found += [
                replace(f, line=-1)
                for f in read_fields(lines_in, schema.fields)
                if (f.spec.key if f.spec else f.name) not in known
            ]
    field_line_numbers = {f.line for f in found}
    fields = {f.title: f.value for f in found}
    field_keys = {f.spec.key: f.spec.title for f in found if f.spec is not None}
    rest = [line for i, line in enumerate(pre_lines) if i not in field_line_numbers]
    if rest and source_url(rest[0]):
        rest = rest[1:]  # where the text was copied from is its source, not its preamble
    title = fields.get(field_keys.get("case_name", ""), "") or _title(rest, award_names())
    if not title:
        title = Path(name).stem if name else (text[:30] if text else "")
    metrics = _metrics(list(sections))
    return ParsedDocument(
        award=schema.key if entry else None,
        is_entry=entry,
        title=title,
        fields=fields,
        sections=sections,
        metrics=tuple(metrics),
        text=text,
        preamble="\n".join(rest) if entry else "",
        field_keys=field_keys,
        headings=built.headings if entry else (),
        review_notes=notes,
    )


def _metrics(sections: list[Section]) -> list[Metric]:
    from analyzer.library.metrics import extract_metrics

    out: list[Metric] = []
    for section in sections:
        out.extend(extract_metrics(section.text, base=section.start, section=section.key))
    return out


def parse_file(path: str | os.PathLike[str], *, award: str | None = None) -> ParsedDocument:
    """Read (any supported format and encoding) and parse one file; raises ReadError subclasses
    (EntryTooLongError for a file of more than ``MAX_ENTRY_CHARS`` characters)."""
    from analyzer.library.readers import read_document

    doc = read_document(path)
    check_length(path, doc.text)
    return parse_text(doc.text, award=award, name=str(path))
