"""Turn a document's text into a parsed case: award, header fields, sections, metrics.

The award is taken from ``award=`` when the user names it, otherwise guessed from the structure
(which award's headings and fields the text has) and from award names stated near the top. A
document with no entry structure (a talk, a news item) is a reference document: it keeps its
text as one ``body`` section and is never forced into an award's sections.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from analyzer.errors import EntryTooLongError
from analyzer.library.parsed import Metric, ParsedDocument, Section
from analyzer.library.sections import HeadingMatcher, award_names, match_fields, normalized
from analyzer.library.textclean import clean_text, is_cjk
from analyzer.schema import AwardSchema, get_award, load_awards

HEAD_CHARS = 400  # how far from the top a stated award name counts
MIN_ENTRY_SECTIONS = 2
# Far longer than any entry (the seeds have 5,000 characters, long entries 50,000). A file this
# long is a collection or an export: parsing takes about 2 s per million characters, and
# metric-dense text more, so a 50 MB file would hold up a batch for minutes. Files are refused
# with a reason that says to split them; parse_text itself takes any length.
MAX_ENTRY_CHARS = 2_000_000


def check_length(path: str | os.PathLike[str], text: str) -> None:
    if len(text) > MAX_ENTRY_CHARS:
        raise EntryTooLongError(
            path,
            f"文本过长（约 {len(text) / 10_000:,.0f} 万字，单个案例上限"
            f" {MAX_ENTRY_CHARS // 10_000} 万字）：不像一份参赛案例，请拆分成单个案例后再导入",
        )


@dataclass(frozen=True)
class _Split:
    schema: AwardSchema
    sections: list[Section]
    preamble_end: int
    heading_lines: frozenset[int]  # offsets of the lines this schema took as headings

    def score(self, head: str, n_fields: int) -> float:
        return 2.0 * len(self.sections) + n_fields + (3.0 if self.named(head) else 0.0)

    def named(self, head: str) -> bool:
        return any(normalized(n) in head for n in self.schema.names if n)


@dataclass(frozen=True)
class _Candidate:
    offset: int  # of the heading's line
    body: int  # where the section's text begins
    key: str
    title: str
    rank: int  # 0 alone on its line, 1 with a colon/bracket, 2 run into the text
    weight: int  # normalized length of the name: 营销效果与市场反馈 outweighs 营销效果


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _split(text: str, lines: list[tuple[int, str]], schema: AwardSchema) -> _Split:
    """Where each of ``schema``'s sections starts in ``text``.

    Every line that reads as one of the award's headings is a candidate. The first candidate of
    a section is taken, and a later one replaces it when it is a surer heading form (alone on
    its line over colon/bracket over run-in) with at least as specific a name: so a body
    sentence "营销效果显著…" or a sub-label "营销效果：…" in 执行 yields to the real heading
    "营销效果与市场反馈" further down, while a sub-label "策略：" never displaces "策略与创意：…".
    """
    matcher = HeadingMatcher(schema)
    order = {s.key: i for i, s in enumerate(schema.sections)}
    field_aliases = {normalized(a) for f in schema.fields for a in f.aliases}
    chosen: dict[str, _Candidate] = {}
    last: _Candidate | None = None  # the chosen heading nearest above the current line
    for offset, line in lines:
        m = matcher.match(line)
        if m is None:
            continue
        if not m.standalone and normalized(line.split(":")[0].split("：")[0]) in field_aliases:
            continue  # a header field line, not a heading
        cand = _Candidate(
            offset, offset + m.body_start, m.spec.key, m.title, m.rank, len(normalized(m.title))
        )
        old = chosen.get(cand.key)
        if old is not None:
            if cand.rank < old.rank and cand.weight >= old.weight:
                chosen[cand.key] = cand
                last = max(chosen.values(), key=lambda c: c.offset)
            continue
        weak = m.rank == 2 or (m.rank == 1 and cand.weight <= 2)
        if weak and last is not None and order[cand.key] <= order[last.key]:
            continue  # run-in and short headings must come in the award's order
        chosen[cand.key] = last = cand
    starts = sorted(chosen.values(), key=lambda c: c.offset)
    sections = []
    for i, c in enumerate(starts):
        end = starts[i + 1].offset if i + 1 < len(starts) else len(text)
        raw = text[c.body : max(c.body, end)]
        lead = len(raw) - len(raw.lstrip())
        body_text = raw.strip()
        spec = schema.section(c.key)
        start = c.body + lead
        sections.append(
            Section(c.key, spec.kind, c.title, body_text, start, start + len(body_text))
        )
    return _Split(
        schema,
        sections,
        starts[0].offset if starts else len(text),
        frozenset(c.offset for c in starts),
    )


def _choose(splits: list[_Split], head: str, field_counts: list[int]) -> _Split:
    """The award whose headings explain the document best.

    A schema scores its sections and header fields, loses a point for every line another schema
    took as a heading and it did not (长城奖 entries are not TMA entries with three sections), and
    wins 3 when the award's name is stated near the top. An award named near the top is taken
    whenever it finds an entry's structure; the generic schema must do strictly better than
    every specific award, so that ties go to the award.
    """
    every = frozenset().union(*(s.heading_lines for s in splits))
    scored = []
    for split, n_fields in zip(splits, field_counts, strict=True):
        unexplained = len(every - split.heading_lines)
        scored.append((split.score(head, n_fields) - unexplained, split))
    named = [
        (score, s) for score, s in scored if s.named(head) and len(s.sections) >= MIN_ENTRY_SECTIONS
    ]
    # awards with the common sections only are taken when named (they would tie with others)
    pool = named or [(score, s) for score, s in scored if s.schema.guess_from_structure] or scored
    specific = [(score, s) for score, s in pool if s.schema.key != "generic"]
    generic = [(score, s) for score, s in pool if s.schema.key == "generic"]
    best_score, best = max(specific, key=lambda p: p[0]) if specific else (-1e9, None)
    for score, split in generic:
        if best is None or (score > best_score and len(split.sections) >= MIN_ENTRY_SECTIONS):
            best_score, best = score, split
    assert best is not None
    return best


_TITLE_SEP = re.compile(r"\s*[｜|]\s*")


def _title(preamble_lines: list[str], names: frozenset[str]) -> str:
    # Prefer a line with Chinese in it: slide decks break Latin award names over lines.
    with_cjk = [x for x in preamble_lines if any(is_cjk(c) for c in x)]
    for line in with_cjk + preamble_lines:
        n = normalized(line)
        if len(n) < 4 or line.startswith("http") or n.startswith("作者"):
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
    text = clean_text(raw)
    lines = _lines(text)
    head = normalized(text[:HEAD_CHARS])
    awards = load_awards()
    candidates = [forced] if forced else list(awards.values())
    splits, field_counts = [], []
    for schema in candidates:
        split = _split(text, lines, schema)
        pre = [line for off, line in lines if off < split.preamble_end]
        splits.append(split)
        field_counts.append(len(match_fields(pre, schema.fields)))
    best = _choose(splits, head, field_counts)
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
    title = fields.get(field_keys.get("case_name", ""), "") or _title(rest, award_names())
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
