"""A draft entry as a document: new / open / save, autosave and crash recovery. Qt-free.

A :class:`DraftDocument` is a value: the award, the header fields, the brief the user filled in, the
sections in the award's order, and the exemplar passages copied from similar cases. The GUI
builds one from its widgets whenever it saves, checks or exports.

Files are JSON (``*.awdraft``), written atomically (a temporary file in the same folder, flushed,
then renamed over the old one), so a crash while saving never leaves half a file. Autosave and
crash recovery are in :mod:`analyzer.documents.autosave`.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from analyzer.atomicfile import atomic_write
from analyzer.errors import AwardWriterError, ReadError, os_reason
from analyzer.library.exemplar import Exemplar

DRAFT_SUFFIX = ".awdraft"
FORMAT = "award-writer-draft"
FORMAT_VERSION = 1


STOPPED = "stopped"  # a section whose drafting was stopped part-way: it may end mid-sentence


@dataclass(frozen=True)
class DocumentSection:
    key: str
    title: str
    text: str = ""
    state: str = ""  # "" or STOPPED; kept in the file so a reopened draft still says so


@dataclass(frozen=True)
class DraftDocument:
    award: str
    title: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # field key → value
    sections: tuple[DocumentSection, ...] = ()
    brief: dict[str, Any] = field(default_factory=dict)  # the brief form, as the drafter reads it
    exemplars: tuple[Exemplar, ...] = ()
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: float = field(default_factory=time.time)

    # ------------------------------------------------------------------ building

    @classmethod
    def new(cls, award: str = "golden_mouse", *, title: str = "") -> DraftDocument:
        """An empty draft with every section of the award, in its order."""
        from analyzer.schema import get_award

        schema = get_award(award)
        return cls(
            award=award,
            title=title,
            fields={f.key: "" for f in schema.fields},
            sections=tuple(DocumentSection(s.key, s.title) for s in schema.sections),
        )

    def with_award(self, award: str) -> DraftDocument:
        """The same draft under another award. Text moves to the section of the same key or,
        failing that, of the same shared kind; text with no home stays as an extra section at
        the end, so switching awards never loses anything typed."""
        from analyzer.schema import get_award

        if award == self.award:
            return self
        schema = get_award(award)
        old_kind = _kinds(self.award)
        old = {s.key: s for s in self.sections if s.text.strip()}
        used = {spec.key for spec in schema.sections if spec.key in old}
        sections = []
        for spec in schema.sections:
            if spec.key in old:
                text = old[spec.key].text
            else:
                same_kind = [
                    s for k, s in old.items() if k not in used and old_kind.get(k) in spec.kinds
                ]
                used.update(s.key for s in same_kind)
                text = "\n\n".join(s.text.strip() for s in same_kind)
            sections.append(DocumentSection(spec.key, spec.title, text))
        sections += [s for k, s in old.items() if k not in used]
        fields = {f.key: self.fields.get(f.key, "") for f in schema.fields}
        fields.update({k: v for k, v in self.fields.items() if v.strip() and k not in fields})
        return replace(self, award=award, fields=fields, sections=tuple(sections))

    def with_section(self, key: str, text: str) -> DraftDocument:
        if not any(s.key == key for s in self.sections):
            raise KeyError(f"draft has no section {key!r}")
        return replace(
            self,
            sections=tuple(replace(s, text=text) if s.key == key else s for s in self.sections),
        )

    def empty_sections(self) -> list[str]:
        """Keys of the award's sections that have no text yet, in the order they are written
        (what "draft everything" writes: the award's order, summaries last, see
        :func:`~analyzer.documents.brief.drafting_order`; sections kept from another award are
        not the model's)."""
        from analyzer.documents.brief import drafting_order
        from analyzer.schema import get_award

        try:
            keys = [s.key for s in drafting_order(get_award(self.award))]
        except AwardWriterError:
            return []
        texts = {s.key: s.text for s in self.sections}
        return [k for k in keys if k in texts and not texts[k].strip()]

    def section(self, key: str) -> DocumentSection | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def is_empty(self) -> bool:
        return not (
            self.title.strip()
            or any(v.strip() for v in self.fields.values())
            or any(s.text.strip() for s in self.sections)
            or any(_filled(v) for v in self.brief.values())
        )

    # ------------------------------------------------------------------ text

    def field_titles(self) -> dict[str, str]:
        """Field key → the award's title for it (广告主, 执行时间 …)."""
        from analyzer.schema import load_awards

        titles: dict[str, str] = {}
        awards = load_awards()
        for schema in sorted(awards.values(), key=lambda a: a.key != self.award):
            for f in schema.fields:
                titles.setdefault(f.key, f.title)
        return {k: titles.get(k, k) for k in self.fields}

    def render(self) -> tuple[str, dict[str, tuple[int, int]]]:
        """The draft as plain entry text, and each section body's (start, end) in it.

        Headings stand alone on their line and header fields read ``标题：值``, the way the
        parser and the checker expect an entry to look.
        """
        titles = self.field_titles()
        parts: list[str] = []
        pos = 0

        def add(piece: str) -> None:
            nonlocal pos
            parts.append(piece)
            pos += len(piece)

        if self.title.strip():
            add(self.title.strip() + "\n\n")
        filled = [(k, v.strip()) for k, v in self.fields.items() if v.strip()]
        for key, value in filled:
            add(f"{titles.get(key, key)}：{value}\n")
        if filled:
            add("\n")
        spans: dict[str, tuple[int, int]] = {}
        for s in self.sections:
            add(f"{s.title}\n")
            spans[s.key] = (pos, pos + len(s.text))
            add(s.text)
            add("\n\n")
        return "".join(parts).rstrip("\n") + "\n", spans

    def text(self) -> str:
        return self.render()[0]

    def search_text(self) -> str:
        """What the draft is about, as a query for similar cases: its title, header values, the
        brief's notes and results, and the sections' text; no headings (every entry has them,
        they match everything)."""
        parts = [self.title.strip(), *(v.strip() for v in self.fields.values())]
        for value in self.brief.values():
            if isinstance(value, str):
                parts.append(value.strip())
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        parts.append(" ".join(str(v).strip() for v in item.values()))
                    else:
                        parts.append(str(item).strip())
        parts += [s.text.strip() for s in self.sections]
        return "\n".join(p for p in parts if p)

    def to_parsed(self) -> Any:
        """The draft as the parser sees it (a ``ParsedDocument``) for the checker."""
        from analyzer.library.parse import parse_text

        return parse_text(self.text(), award=self.award, name=self.title or "草稿")

    def to_brief(self) -> Any:
        """The brief the drafter reads (``analyzer.documents.brief.Brief``): the award, title and header
        fields of the draft plus the form's notes (one fact per line) and results rows.

        Raises ``BriefError`` naming what is malformed (a result row with no value …).
        """
        from analyzer.documents.brief import FACT_FIELDS, TEXT_FIELDS, brief_from_dict

        data: dict[str, Any] = {"award": self.award, "title": self.title.strip()}
        extra: dict[str, str] = {}
        for key, value in self.fields.items():
            if not value.strip():
                continue
            if key in TEXT_FIELDS:
                data[key] = value.strip()
            else:
                extra[key] = value.strip()
        if extra:
            data["fields"] = extra
        for name in FACT_FIELDS:
            note = self.brief.get(name)
            lines = note if isinstance(note, list) else str(note or "").splitlines()
            if cleaned := [str(line).strip() for line in lines if str(line).strip()]:
                data[name] = cleaned
        rows = [
            {k: str(r.get(k, "")).strip() for k in ("measure", "value", "source")}
            for r in self.brief.get("results", []) or []
            if any(str(v).strip() for v in r.values())
        ]
        if rows:
            data["results"] = rows
        return brief_from_dict(data)

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "id": self.id,
            "created": self.created,
            "award": self.award,
            "title": self.title,
            "fields": dict(self.fields),
            "sections": [
                {
                    "key": s.key,
                    "title": s.title,
                    "text": s.text,
                    **({"state": s.state} if s.state else {}),
                }
                for s in self.sections
            ],
            "brief": self.brief,
            "exemplars": [e.to_json() for e in self.exemplars],
        }

    @classmethod
    def from_json(cls, data: Any, *, where: str = "draft") -> DraftDocument:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ReadError(where, "不是 Award Writer 草稿文件")
        if int(data.get("version", 0)) > FORMAT_VERSION:
            raise ReadError(where, "由更新版本的 Award Writer 保存，请先升级本应用")
        try:
            return cls(
                award=str(data["award"]),
                title=str(data.get("title", "")),
                fields={str(k): str(v) for k, v in dict(data.get("fields", {})).items()},
                sections=tuple(
                    DocumentSection(
                        str(s["key"]),
                        str(s.get("title", s["key"])),
                        str(s.get("text", "")),
                        STOPPED if s.get("state") == STOPPED else "",
                    )
                    for s in data.get("sections", [])
                ),
                brief=dict(data.get("brief", {})),
                exemplars=tuple(Exemplar.from_json(e) for e in data.get("exemplars", [])),
                id=str(data.get("id") or uuid.uuid4().hex),
                created=float(data.get("created", time.time())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReadError(where, f"草稿文件内容有误（字段 {exc} 缺失或格式不对）") from exc


@dataclass(frozen=True)
class DraftSpan:
    """Where a piece of a checked draft is in the draft's own section text."""

    section: str
    start: int
    end: int
    text: str


def locate_in_draft(draft: DraftDocument, start: int, end: int) -> DraftSpan | None:
    """Map a span of the checked text (``draft.to_parsed().text``, what the checker reports
    offsets in) to the section of ``draft`` it lies in and the offsets in that section's text.

    The parser tidies whitespace, so offsets do not carry over one to one; the span's text does,
    and so does its rank among the same text's occurrences before it: a phrase that appears
    twice is found where the finding is, not at its first occurrence.
    """
    parsed = draft.to_parsed()
    needle = parsed.text[start:end]
    sec = next((s for s in parsed.sections if s.start <= start and end <= s.end), None)
    own = draft.section(sec.key) if sec is not None else None
    if sec is None or own is None or not needle.strip():
        return None
    rank = _count(parsed.text[sec.start : start], needle)
    at = -1
    for _ in range(rank + 1):
        at = own.text.find(needle, at + 1)
        if at < 0:
            break
    if at < 0:  # the tidied text differs inside the span: the nearest by relative position
        body_len = max(1, sec.end - sec.start)
        at = nearest(own.text, needle, round((start - sec.start) / body_len * len(own.text)))
        if at < 0:
            return None
    return DraftSpan(own.key, at, at + len(needle), needle)


def nearest(text: str, needle: str, around: int) -> int:
    """The offset of the occurrence of ``needle`` in ``text`` closest to ``around``; -1: none."""
    best, at = -1, text.find(needle)
    while at >= 0:
        if best < 0 or abs(at - around) < abs(best - around):
            best = at
        at = text.find(needle, at + 1)
    return best


def _count(text: str, needle: str) -> int:
    n, at = 0, text.find(needle)
    while at >= 0:
        n += 1
        at = text.find(needle, at + 1)
    return n


def _filled(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple):
        return any(_filled(v) for v in value)
    if isinstance(value, dict):
        return any(_filled(v) for v in value.values())
    return value is not None


def _kinds(award: str) -> dict[str, str]:
    from analyzer.schema import get_award

    try:
        return {s.key: s.kind for s in get_award(award).sections}
    except AwardWriterError:
        return {}


def draft_from_brief(brief: Any, award: str, sections: dict[str, str]) -> DraftDocument:
    """A draft document of what ``award-writer draft`` wrote: the brief in the form (header
    fields, facts one per line, result rows) and the sections' text, so the app opens it with
    everything the command was given."""
    from analyzer.documents.brief import FACT_FIELDS
    from analyzer.schema import get_award

    draft = DraftDocument.new(award, title=brief.title)
    fields = {f.key: brief.header_value(f.key) for f in get_award(award).fields}
    form: dict[str, Any] = {n: list(getattr(brief, n)) for n in FACT_FIELDS if getattr(brief, n)}
    form["results"] = [
        {"measure": r.measure, "value": r.value, "source": r.source} for r in brief.results
    ]
    draft = replace(draft, fields=fields, brief=form)
    for key, text in sections.items():
        if any(s.key == key for s in draft.sections):
            draft = draft.with_section(key, text)
    return draft


def draft_from_parsed(doc: Any, *, award: str | None = None) -> DraftDocument:
    """A draft from any parsed entry (a Word file from a colleague, a past case)."""
    key = award or doc.award or "generic"
    draft = DraftDocument.new(key, title=doc.title)
    fields = {k: doc.fields.get(t, "") for k, t in doc.field_keys.items()}
    draft = replace(draft, fields={k: fields.get(k, v) for k, v in draft.fields.items()})
    found = {s.key: s.text.strip() for s in doc.sections}
    if doc.award != key:  # parsed under another award: map through the shared kinds
        kinds_of = _kinds(doc.award) if doc.award else {}
        by_kind: dict[str, str] = {}
        for s in doc.sections:
            by_kind.setdefault(kinds_of.get(s.key, s.kind), s.text.strip())
        own = _kinds(key)
        found = {k: by_kind.get(kind, "") for k, kind in own.items()}
        if not any(found.values()) and doc.sections:  # a reference document: keep its text
            first = draft.sections[0].key
            found = {first: "\n\n".join(s.text.strip() for s in doc.sections)}
    for s in draft.sections:
        if found.get(s.key):
            draft = draft.with_section(s.key, found[s.key])
    return draft


# ---------------------------------------------------------------------- files


def json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def save_draft(draft: DraftDocument, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(DRAFT_SUFFIX)
    atomic_write(target, json_bytes(draft.to_json()))
    return target


def load_draft(path: str | os.PathLike[str]) -> DraftDocument:
    """Open a draft file; any other supported document is parsed into a draft."""
    p = Path(path)
    if p.suffix.lower() != DRAFT_SUFFIX and p.suffix.lower() != ".json":
        from analyzer.library.parse import parse_file

        return draft_from_parsed(parse_file(p))
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReadError(p, "文件不存在") from None
    except OSError as exc:
        raise ReadError(p, f"无法读取草稿（{os_reason(exc)}）") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReadError(p, f"不是有效的草稿文件（内容已损坏：{exc}）") from exc
    return DraftDocument.from_json(data, where=str(p))
