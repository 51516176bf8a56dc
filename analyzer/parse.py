"""Turn a document's text into a parsed case: award, header fields, sections, metrics.

The award is taken from ``award=`` when the user names it, otherwise guessed from the structure
(which award's headings and fields the text has) and from award names stated near the top. A
document with no entry structure (a talk, a news item) is a reference document: it keeps its
text as one ``body`` section and is never forced into an award's sections.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from analyzer.models import Metric, ParsedDocument, Section
from analyzer.schema import AwardSchema, get_award, load_awards
from analyzer.sections import HeadingMatcher, match_fields, normalized
from analyzer.textclean import clean_text, is_cjk

HEAD_CHARS = 400  # how far from the top a stated award name counts
MIN_ENTRY_SECTIONS = 2


@dataclass(frozen=True)
class _Split:
    schema: AwardSchema
    sections: list[Section]
    preamble_end: int

    def score(self, head: str, n_fields: int) -> float:
        named = any(normalized(n) in head for n in self.schema.names if n)
        return 2.0 * len(self.sections) + n_fields + (3.0 if named else 0.0)


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _split(text: str, lines: list[tuple[int, str]], schema: AwardSchema) -> _Split:
    matcher = HeadingMatcher(schema)
    order = {s.key: i for i, s in enumerate(schema.sections)}
    starts: list[tuple[int, int, str, str]] = []  # (heading offset, body offset, key, title)
    seen: set[str] = set()
    field_aliases = {normalized(a) for f in schema.fields for a in f.aliases}
    for offset, line in lines:
        m = matcher.match(line)
        if m is None or m.spec.key in seen:
            continue
        if not m.standalone and normalized(line.split(":")[0].split("：")[0]) in field_aliases:
            continue  # a header field line, not a heading
        current = order[starts[-1][2]] if starts else -1
        short = len(normalized(m.title)) <= 2
        if not m.standalone and (not m.delimited or short) and order[m.spec.key] <= current:
            continue  # run-in headings must come in the award's order
        seen.add(m.spec.key)
        starts.append((offset, offset + m.body_start, m.spec.key, m.title))
    sections = []
    for i, (_, body, key, title) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        raw = text[body:end]
        lead = len(raw) - len(raw.lstrip())
        body_text = raw.strip()
        spec = schema.section(key)
        sections.append(
            Section(key, spec.kind, title, body_text, body + lead, body + lead + len(body_text))
        )
    return _Split(schema, sections, starts[0][0] if starts else len(text))


def _title(preamble_lines: list[str], names: set[str]) -> str:
    # Prefer a line with Chinese in it: slide decks break Latin award names over lines.
    with_cjk = [x for x in preamble_lines if any(is_cjk(c) for c in x)]
    for line in with_cjk + preamble_lines:
        n = normalized(line)
        if len(n) < 4 or line.startswith("http") or n.startswith("作者"):
            continue
        if any(name in n for name in names) and len(n) <= 40:
            continue  # the award's own name line ("第 11 届金鼠标数字营销大赛")
        return line.strip(" -*#【】")
    return ""


def parse_text(raw: str, *, award: str | None = None, name: str = "") -> ParsedDocument:
    """Parse one document's text. Never raises on any string (a bad award key does)."""
    forced = get_award(award) if award else None
    text = clean_text(raw)
    lines = _lines(text)
    head = normalized(text[:HEAD_CHARS])
    awards = load_awards()
    candidates = [forced] if forced else list(awards.values())
    best: _Split | None = None
    best_score = -1.0
    for schema in candidates:
        split = _split(text, lines, schema)
        pre = [line for off, line in lines if off < split.preamble_end]
        score = split.score(head, len(match_fields(pre, schema.fields)))
        if (
            schema.key == "generic"
            and best is not None
            and len(best.sections) >= MIN_ENTRY_SECTIONS
        ):
            continue  # generic only when no specific award fits
        if score > best_score:
            best, best_score = split, score
    assert best is not None
    is_entry = len(best.sections) >= (1 if forced else MIN_ENTRY_SECTIONS)
    schema = best.schema
    if not is_entry:
        sections = [Section("body", "overview", "", text, 0, len(text))] if text else []
        preamble_end = 0
    else:
        sections, preamble_end = best.sections, best.preamble_end
    pre_lines = [
        line for off, line in lines if off < max(preamble_end, HEAD_CHARS if not is_entry else 0)
    ]
    found = match_fields(pre_lines, schema.fields) if (is_entry or forced) else []
    field_line_numbers = {f.line for f in found}
    fields = {f.spec.title: f.value for f in found}
    field_keys = {f.spec.key: f.spec.title for f in found}
    rest = [line for i, line in enumerate(pre_lines) if i not in field_line_numbers]
    all_names = {normalized(n) for a in awards.values() for n in a.names if n}
    title = fields.get(field_keys.get("case_name", ""), "") or _title(rest, all_names)
    if not title:
        title = Path(name).stem if name else (text[:30] if text else "")
    metrics = _metrics(sections)
    return ParsedDocument(
        award=schema.key if is_entry else None,
        is_entry=is_entry,
        title=title,
        fields=fields,
        sections=tuple(sections),
        metrics=tuple(metrics),
        text=text,
        preamble="\n".join(rest) if is_entry else "",
        field_keys=field_keys,
    )


def _metrics(sections: list[Section]) -> list[Metric]:
    from dataclasses import replace

    from analyzer.metrics import extract_metrics

    out: list[Metric] = []
    for section in sections:
        out.extend(
            replace(m, section=section.key)
            for m in extract_metrics(section.text, base=section.start)
        )
    return out


def parse_file(path: str | os.PathLike[str], *, award: str | None = None) -> ParsedDocument:
    """Read (any supported format and encoding) and parse one file; raises ReadError subclasses."""
    from analyzer.readers import read_document

    doc = read_document(path)
    return parse_text(doc.text, award=award, name=str(path))
