"""The text of the entry under check, and what every rule reads of it, computed once.

Sections, sentences, paragraphs, metrics by position and the sources cited for them are cached
here, so no rule re-scans what another rule already found. :class:`~analyzer.check.context.
CheckContext` adds the results and objectives a judge compares.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, overload

from analyzer.check import vocab
from analyzer.check.findings import Eligibility
from analyzer.library.parsed import Metric, ParsedDocument, Section
from analyzer.schema import AwardSchema, SectionSpec
from analyzer.zh.segments import CLAUSE_END, FULL_STOP, SEMICOLON, SENTENCE_END, ends

if TYPE_CHECKING:
    from analyzer.documents.brief import Brief
    from analyzer.library.store import Library

_CLAUSE_END = ends(CLAUSE_END, "）)")
_CLAUSE_START = re.compile(rf"[^{re.escape(CLAUSE_END)}（(]*$")
_FINISHED_MARKS = FULL_STOP.replace("。", "")
_UNKNOWN = object()
_LINE = re.compile(r"[^\n]*")


T = TypeVar("T")


class once(Generic[T]):
    """A property computed on first use and kept in the instance: ``functools.cached_property``
    without its lock (Python 3.11 takes one on every first use, and a check reads a dozen such
    properties of every entry; one check runs in one thread)."""

    def __init__(self, function: Callable[[Any], T]) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> once[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | once[T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.function(instance)
        return value


def count_chars(text: str) -> int:
    """Characters as award forms count them: spaces and line breaks do not count."""
    return len("".join(text.split()))


class Span(NamedTuple):
    start: int
    end: int
    section: str


class EntryText:
    """One entry as the checker reads it: its parsed document, award schema and text.

    ``draft``: the entry is a draft being written in the app (or saved by it), so what a model
    leaves behind (a cut-off sentence, a loop, the prompt's words) is an error, not a page's
    residue; ``brief``: the brief it was written from, when there is one with facts in it (the
    brief rules run only then); ``written``: a draft's sections as the user wrote them (section
    key → text), where the parser's cleaning took away what an export would print (``**``).
    """

    def __init__(
        self,
        doc: ParsedDocument,
        schema: AwardSchema,
        *,
        library: Library | None = None,
        eligibility: Eligibility | None = None,
        brief: Brief | None = None,
        draft: bool = False,
        written: Mapping[str, str] | None = None,
    ) -> None:
        self.doc = doc
        self.schema = schema
        self.library = library
        self.eligibility = eligibility
        self.brief = brief
        self.draft = draft or brief is not None
        self.written = dict(written or {})
        self.text = doc.text
        self.rule = ""
        # several rules ask about the same figures: answers are kept for the whole check
        self._sentences: dict[int, Span | None] = {}
        self._sources: dict[tuple[int, int, str], tuple[int, int] | None] = {}
        self._from_values: dict[tuple[int, int], bool] = {}  # see CheckContext.is_from_value
        self._cues: dict[int, list[tuple[int, int]]] = {}  # line start → source cues
        self._citing: dict[int, bool] = {}  # section start → see cites

    # ------------------------------------------------------------------ sections

    @once
    def present(self) -> dict[str, Section]:
        keys = {s.key for s in self.schema.sections}
        return {s.key: s for s in self.doc.sections if s.key in keys}

    def title(self, key: str) -> str:
        """The award's own title for a section ("营销效果与市场反馈"), or the key."""
        return self._titles.get(key, key)

    @once
    def _titles(self) -> dict[str, str]:
        titles: dict[str, str] = {}
        for spec in self.schema.sections:
            titles.setdefault(spec.key, spec.title)
        return titles

    @once
    def filled(self) -> tuple[Section, ...]:
        """The award's sections that hold text, in the award's order."""
        present = self.present
        return tuple(
            section
            for spec in self.schema.sections
            if (section := present.get(spec.key)) is not None and section.text.strip()
        )

    @once
    def chars(self) -> dict[str, int]:
        return {key: count_chars(s.text) for key, s in self.present.items()}

    @once
    def metrics_by_section(self) -> dict[str, list[Metric]]:
        out: dict[str, list[Metric]] = defaultdict(list)
        for m in self.doc.metrics:
            out[m.section].append(m)
        return out

    @once
    def results_specs(self) -> list[SectionSpec]:
        return [s for s in self.schema.sections if s.kind == "results"]

    @once
    def results_present(self) -> list[Section]:
        return [self.present[s.key] for s in self.results_specs if s.key in self.present]

    def heading_span(self, section: Section) -> tuple[int, int]:
        """The heading's span: on the body's first line when run into it ("背景：…"), else the
        nearest line above that holds the title; the body's first line when neither is found."""
        text = self.text
        line_start = text.rfind("\n", 0, section.start) + 1
        if section.title and line_start < section.start:
            return (line_start, section.start)
        if section.title:
            want = "".join(section.title.split())
            end = line_start - 1  # the line break before the body
            for _ in range(3):  # the heading, maybe with blank lines between
                if end < 0:
                    break
                start = text.rfind("\n", 0, end) + 1
                line = text[start:end]
                if want and want in "".join(line.split()):
                    lead = len(line) - len(line.lstrip())
                    return (start + lead, start + len(line.rstrip()))
                if line.strip():
                    break
                end = start - 1
        nl = text.find("\n", section.start, section.end)
        return (section.start, nl if nl != -1 else section.end)

    # ------------------------------------------------------------------ sentences

    @once
    def _section_starts(self) -> list[int]:
        return [s.start for s in self.doc.sections]

    def section_at(self, pos: int) -> Section | None:
        """The section whose body holds ``pos`` (None in the preamble)."""
        i = bisect.bisect_right(self._section_starts, pos) - 1
        if i >= 0 and pos <= self.doc.sections[i].end:
            return self.doc.sections[i]
        return None

    def sentences_in(self, section: Section) -> Iterator[Span]:
        for m in vocab.SENTENCE.finditer(self.text, section.start, section.end):
            yield Span(m.start(), m.end(), section.key)

    def sentence_at(self, pos: int) -> Span | None:
        """The sentence (up to 。！？；or a line break) around ``pos``, within its section.

        Found on demand: most checks look at a handful of positions, not at every sentence.
        """
        found = self._sentences.get(pos, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._sentences[pos] = self._sentence_at(pos)
        return found  # type: ignore[return-value]

    def _sentence_at(self, pos: int) -> Span | None:
        section = self.section_at(pos)
        if section is None:
            return None
        # The terminators either side of pos, in the marked text where each is "。" or a line
        # break: the line around pos, then the last "。" before pos and the first after it in
        # that line (four ``str`` searches, no scan of the text for nine characters).
        marked = self.marked
        line_start = marked.rfind("\n", 0, pos) + 1
        before = marked.rfind("。", line_start, pos)
        start = (before if before != -1 else line_start - 1) + 1
        if start < section.start:
            start = section.start
        text = self.text
        while start < pos and text[start].isspace():
            start += 1
        line_end = marked.find("\n", pos)
        end = marked.find("。", pos, len(marked) if line_end == -1 else line_end)
        if end == -1:
            end = line_end  # -1: no terminator after pos
        if end != -1 and end < section.end:
            if text[end] != "\n":
                while end < section.end and text[end] in SENTENCE_END and text[end] != "\n":
                    end += 1  # keep "。" / "！？" with the sentence
        else:
            end = section.end
        return Span(start, end if end > pos else pos, section.key)

    @once
    def marked(self) -> str:
        """The text with each sentence terminator made one of two marks: "。" where a finished
        sentence ends (。！？!?), a line break where an unfinished one does (；; and line
        breaks). Same length and offsets, so rules find sentences with ``str`` methods, many
        times cheaper than a pattern scanning the text for nine characters."""
        text = self.text
        for mark in _FINISHED_MARKS:
            if mark in text:
                text = text.replace(mark, "。")
        for mark in SEMICOLON:
            if mark in text:
                text = text.replace(mark, "\n")
        return text

    def paragraph_at(self, pos: int) -> Span | None:
        """The line (paragraph) around ``pos``, within its section."""
        section = self.section_at(pos)
        if section is None:
            return None
        start = max(self.text.rfind("\n", section.start, pos) + 1, section.start)
        end = self.text.find("\n", pos, section.end)
        return Span(start, section.end if end == -1 else end, section.key)

    @once
    def _metric_starts(self) -> list[int]:
        return [m.start for m in self._metrics_sorted]

    @once
    def _metrics_sorted(self) -> list[Metric]:
        return sorted(self.doc.metrics, key=lambda m: m.start)

    def metrics_within(self, start: int, end: int) -> list[Metric]:
        starts = self._metric_starts
        i = bisect.bisect_left(starts, start)
        j = bisect.bisect_left(starts, end, i)  # the first metric starting at or after end
        return [m for m in self._metrics_sorted[i:j] if m.end <= end]

    # ------------------------------------------------------------------ sources

    @once
    def _section_notes(self) -> dict[str, tuple[int, int]]:
        """Sections with a line sourcing all their figures (以上数据来源：…)."""
        out: dict[str, tuple[int, int]] = {}
        text = self.text
        for section in self.doc.sections:
            if not any(text.find(w, section.start, section.end) != -1 for w in vocab.NOTE_WORDS):
                continue  # most sections name no source (a ``str`` search is cheap)
            for anchor in vocab.NOTE_ANCHOR.finditer(text, section.start, section.end):
                line_start = max(text.rfind("\n", section.start, anchor.start()) + 1, section.start)
                line_end = text.find("\n", anchor.end(), section.end)
                line_end = section.end if line_end == -1 else line_end
                if vocab.SECTION_SOURCE_NOTE.match(text, line_start, line_end):
                    out[section.key] = (line_start, line_end)
                    break
        return out

    def source_cues(self, line_start: int) -> list[tuple[int, int]]:
        """The places the line at ``line_start`` names a source (来源, 据…统计, 第三方 …), in
        order. No cue runs over a line break, so a line's cues are those a scan of the whole
        text finds in it; lines are read when asked about (most lines never are)."""
        cues = self._cues.get(line_start)
        if cues is None:
            end = self.text.find("\n", line_start)
            end = len(self.text) if end == -1 else end
            cues = [m.span() for m in vocab.SOURCE.finditer(self.text, line_start, end)]
            self._cues[line_start] = cues
        return cues

    def source_within(self, start: int, end: int) -> tuple[int, int] | None:
        """The first source cue at or after ``start``, when it ends by ``end``."""
        text = self.text
        line = text.rfind("\n", 0, start) + 1  # the line holding start, then the next ones
        while line < end:
            for cue in self.source_cues(line):
                if cue[0] >= start:
                    return cue if cue[1] <= end else None
            line = text.find("\n", line) + 1
            if line == 0:
                break  # the last line
        return None

    def source_of(self, start: int, end: int, section: str) -> tuple[int, int] | None:
        """Where the source of the figure at ``start:end`` is given, or None when it is not."""
        key = (start, end, section)
        if key not in self._sources:
            self._sources[key] = self._source_of(start, end, section)
        return self._sources[key]

    def cites(self, section: Section) -> bool:
        """Whether a section names a source anywhere in it (a cue, or a note's 来源/来自/出自):
        in one that does not, no figure has its source in its sentence, line or the line
        after, and no claim in its window (one scan of the section, not one per figure)."""
        found = self._citing.get(section.start)
        if found is None:
            text, start, end = self.text, section.start, section.end
            found = self._citing[start] = bool(
                vocab.SOURCE.search(text, start, end)
                or any(text.find(w, start, end) != -1 for w in vocab.NOTE_WORDS)
            )
        return found

    def _source_of(self, start: int, end: int, section: str) -> tuple[int, int] | None:
        host = self.section_at(start)
        if host is not None and end <= host.end and not self.cites(host):
            return self._section_notes.get(section)
        sentence = self.sentence_at(start)
        if sentence is not None and (
            cue := self.source_within(sentence.start, max(sentence.end, end))
        ):
            return cue
        p = self.paragraph_at(start)
        if p is not None:
            if cue := self.source_within(p.start, p.end):
                return cue
            nxt = _LINE.match(self.text, p.end + 1, self.doc.sections[-1].end)
            if (
                nxt
                and p.end < len(self.text)
                and vocab.SECTION_SOURCE_NOTE.match(self.text, nxt.start(), nxt.end())
            ):
                sec = self.section_at(nxt.start())
                if sec is not None and sec.key == p.section:
                    return nxt.span()
        return self._section_notes.get(section)

    def source_text(self, span: tuple[int, int] | None, limit: int = 30) -> str:
        """The source as written: the clause holding its cue ("数据来源：秒针监测")."""
        if not span:
            return ""
        start, end = span
        head = _CLAUSE_START.search(self.text, max(0, start - 12), start)
        if head:
            start = head.start()
        tail = _CLAUSE_END.search(self.text, end)
        stop = tail.start() if tail else len(self.text)
        piece = self.text[start:stop].strip()
        return piece if len(piece) <= limit else piece[: limit - 1] + "…"
