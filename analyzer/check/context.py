"""What every rule reads: the parsed entry, its award schema, and facts computed once per check.

Rules never re-parse or re-scan what another rule already found: sentences, paragraphs, the
results (wherever they are), the objectives and their measures are cached properties here.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from analyzer.check import vocab
from analyzer.check.findings import Eligibility, Finding, Severity
from analyzer.check.measures import (
    exact_words,
    informative,
    keywords_in,
    measure_label,
    measures_in,
)
from analyzer.library.parsed import Metric, ParsedDocument, Section
from analyzer.schema import AwardSchema, SectionSpec
from analyzer.zh.segments import CLAUSE_END, LIST_MARK, SENTENCE_END, ends

if TYPE_CHECKING:
    from analyzer.library.store import Library

_CLAUSE_END = ends(CLAUSE_END, "）)")
_CLAUSE_START = re.compile(rf"[^{re.escape(CLAUSE_END)}（(]*$")
_SENTENCE_END = ends(SENTENCE_END)
_LINE = re.compile(r"[^\n]*")


def count_chars(text: str) -> int:
    """Characters as award forms count them: spaces and line breaks do not count."""
    return len("".join(text.split()))


class Span(NamedTuple):
    start: int
    end: int
    section: str


@dataclass(frozen=True)
class Objective:
    text: str
    start: int
    end: int
    section: str
    measures: frozenset[str]
    clauses: tuple[tuple[str, int, int], ...] = ()  # (measure, start, end) of the clause naming it
    # keywords only a result naming the same thing answers (复购, 好感度): (keyword, start, end)
    exact: tuple[tuple[str, int, int], ...] = ()
    # goal clauses with a target figure but no measure named ("提升到 15%"): (start, end)
    unnamed: tuple[tuple[int, int], ...] = ()

    def clause_of(self, measure: str) -> tuple[int, int]:
        return next(((a, b) for m, a, b in self.clauses if m == measure), (self.start, self.end))


@dataclass(frozen=True)
class Elsewhere:
    """Results written inside another section, with no results heading of their own."""

    section: str  # the key of the section that holds them
    start: int
    end: int
    metrics: tuple[Metric, ...]


class CheckContext:
    """One check of one entry. ``rule`` is set by the engine while each rule runs."""

    def __init__(
        self,
        doc: ParsedDocument,
        schema: AwardSchema,
        *,
        library: Library | None = None,
        eligibility: Eligibility | None = None,
    ) -> None:
        self.doc = doc
        self.schema = schema
        self.library = library
        self.eligibility = eligibility
        self.text = doc.text
        self.rule = ""
        # several rules ask about the same figures: answers are kept for the whole check
        self._sentences: dict[int, Span | None] = {}
        self._sources: dict[tuple[int, int, str], tuple[int, int] | None] = {}

    # ------------------------------------------------------------------ findings

    def finding(
        self, severity: Severity, section: str, message: str, span: tuple[int, int] | None = None
    ) -> Finding:
        return Finding(self.rule, severity, section, message, span)

    def error(self, section: str, message: str, span: tuple[int, int] | None = None) -> Finding:
        return self.finding("error", section, message, span)

    def warning(self, section: str, message: str, span: tuple[int, int] | None = None) -> Finding:
        return self.finding("warning", section, message, span)

    def suggestion(
        self, section: str, message: str, span: tuple[int, int] | None = None
    ) -> Finding:
        return self.finding("suggestion", section, message, span)

    # ------------------------------------------------------------------ sections

    @cached_property
    def present(self) -> dict[str, Section]:
        keys = {s.key for s in self.schema.sections}
        return {s.key: s for s in self.doc.sections if s.key in keys}

    def title(self, key: str) -> str:
        """The award's own title for a section ("营销效果与市场反馈"), or the key."""
        for spec in self.schema.sections:
            if spec.key == key:
                return spec.title
        return key

    @cached_property
    def chars(self) -> dict[str, int]:
        return {key: count_chars(s.text) for key, s in self.present.items()}

    @cached_property
    def metrics_by_section(self) -> dict[str, list[Metric]]:
        out: dict[str, list[Metric]] = defaultdict(list)
        for m in self.doc.metrics:
            out[m.section].append(m)
        return out

    @cached_property
    def results_specs(self) -> list[SectionSpec]:
        return [s for s in self.schema.sections if s.kind == "results"]

    @cached_property
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

    @cached_property
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
        if pos in self._sentences:
            return self._sentences[pos]
        found = self._sentence_at(pos)
        self._sentences[pos] = found
        return found

    def _sentence_at(self, pos: int) -> Span | None:
        section = self.section_at(pos)
        if section is None:
            return None
        ends = self._sentence_ends
        i = bisect.bisect_left(ends, pos)  # first terminator at or after pos
        start = ends[i - 1] + 1 if i > 0 else 0
        start = max(start, section.start)
        text = self.text
        while start < pos and text[start].isspace():
            start += 1
        if i < len(ends) and ends[i] < section.end:
            end = ends[i]
            if text[end] != "\n":
                while end < section.end and text[end] in SENTENCE_END and text[end] != "\n":
                    end += 1  # keep "。" / "！？" with the sentence
        else:
            end = section.end
        return Span(start, max(end, pos), section.key)

    @cached_property
    def _sentence_ends(self) -> list[int]:
        """Offsets of every sentence terminator (。！？；and line breaks), found in one pass."""
        return [m.start() for m in _SENTENCE_END.finditer(self.text)]

    def paragraph_at(self, pos: int) -> Span | None:
        """The line (paragraph) around ``pos``, within its section."""
        section = self.section_at(pos)
        if section is None:
            return None
        start = max(self.text.rfind("\n", section.start, pos) + 1, section.start)
        end = self.text.find("\n", pos, section.end)
        return Span(start, section.end if end == -1 else end, section.key)

    @cached_property
    def _metric_starts(self) -> list[int]:
        return [m.start for m in self._metrics_sorted]

    @cached_property
    def _metrics_sorted(self) -> list[Metric]:
        return sorted(self.doc.metrics, key=lambda m: m.start)

    def metrics_within(self, start: int, end: int) -> list[Metric]:
        i = bisect.bisect_left(self._metric_starts, start)
        out = []
        for m in self._metrics_sorted[i:]:
            if m.start >= end:
                break
            if m.end <= end:
                out.append(m)
        return out

    # ------------------------------------------------------------------ sources

    @cached_property
    def _section_notes(self) -> dict[str, tuple[int, int]]:
        """Sections with a line sourcing all their figures (以上数据来源：…)."""
        out: dict[str, tuple[int, int]] = {}
        text = self.text
        for section in self.doc.sections:
            for anchor in vocab.NOTE_ANCHOR.finditer(text, section.start, section.end):
                line_start = max(text.rfind("\n", section.start, anchor.start()) + 1, section.start)
                line_end = text.find("\n", anchor.end(), section.end)
                line_end = section.end if line_end == -1 else line_end
                if vocab.SECTION_SOURCE_NOTE.match(text, line_start, line_end):
                    out[section.key] = (line_start, line_end)
                    break
        return out

    @cached_property
    def source_cues(self) -> list[tuple[int, int]]:
        """Every place the text names a source (来源, 据…统计, 第三方, 截至 …), in order."""
        return [m.span() for m in vocab.SOURCE.finditer(self.text)]

    def source_within(self, start: int, end: int) -> tuple[int, int] | None:
        cues = self.source_cues
        i = bisect.bisect_left(cues, (start, -1))
        return cues[i] if i < len(cues) and cues[i][1] <= end else None

    def source_of(self, start: int, end: int, section: str) -> tuple[int, int] | None:
        """Where the source of the figure at ``start:end`` is given, or None when it is not."""
        key = (start, end, section)
        if key not in self._sources:
            self._sources[key] = self._source_of(start, end, section)
        return self._sources[key]

    def _source_of(self, start: int, end: int, section: str) -> tuple[int, int] | None:
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

    # ------------------------------------------------------------------ results

    @cached_property
    def elsewhere(self) -> Elsewhere | None:
        """Results living at the end of another section when no results section is present."""
        if not self.results_specs or self.results_present:
            return None
        best: Elsewhere | None = None
        for section in self.doc.sections:
            spec_kinds = self._kinds(section.key)
            if "objectives" in spec_kinds or "results" in spec_kinds:
                continue
            middle = section.start + (section.end - section.start) // 2
            middle = max(self.text.rfind("\n", section.start, middle) + 1, section.start)
            first = -1
            found: list[Metric] = []
            for p in vocab.PARAGRAPH.finditer(self.text, middle, section.end):
                in_p = self.metrics_within(*p.span())
                if first == -1 and in_p and vocab.RESULT_CUE.search(p.group()):
                    first = p.start()
                if first != -1:
                    found.extend(in_p)
            if first != -1 and (best is None or len(found) >= len(best.metrics)):
                best = Elsewhere(section.key, first, section.end, tuple(found))
        return best

    def _kinds(self, key: str) -> tuple[str, ...]:
        for spec in self.schema.sections:
            if spec.key == key:
                return spec.kinds
        return ()

    @cached_property
    def result_metrics(self) -> list[Metric]:
        """The metrics a judge reads as results: the results sections', or those found elsewhere."""
        if self.elsewhere is not None:
            return list(self.elsewhere.metrics)
        return [m for s in self.results_present for m in self.metrics_by_section.get(s.key, [])]

    def result_section(self, m: Metric) -> str:
        """The section a result is reported under: the results section when it sits elsewhere."""
        if self.elsewhere is not None and m in self.elsewhere.metrics:
            return next(
                (s.key for s in self.results_specs if s.required), self.results_specs[0].key
            )
        return m.section

    @cached_property
    def result_measures(self) -> dict[str, Metric]:
        """Measure → the first result metric reporting it (measures named beside a figure count)."""
        out: dict[str, Metric] = {}
        # the value reached, not where a change started ("从 12% 提升到 27%" reports 27%)
        ranked = sorted(self.result_metrics, key=self.is_from_value)
        for m in ranked:
            if informative(m.measure) and m.measure not in out:
                out[m.measure] = self.reached(m)
        seen: set[int] = set()
        for m in ranked:
            sentence = self.sentence_at(m.start)
            if sentence is None or sentence.start in seen:
                continue
            seen.add(sentence.start)
            for measure in measures_in(self.text[sentence.start : sentence.end]):
                out.setdefault(measure, m)
        return out

    # ------------------------------------------------------------------ objectives

    @cached_property
    def objectives(self) -> list[Objective]:
        out = []
        for spec in self.schema.sections:
            section = self.present.get(spec.key)
            if section is None or "objectives" not in spec.kinds:
                continue
            dedicated = spec.kind == "objectives"
            for sentence in self.sentences_in(section):
                text = self.text[sentence.start : sentence.end]
                if not dedicated and not vocab.OBJECTIVE_CUE.search(text):
                    continue
                clauses = self._goal_clauses(sentence)
                exact, unnamed = self._exact_and_unnamed(sentence)
                out.append(
                    Objective(
                        LIST_MARK.sub("", text, count=1).strip(),
                        sentence.start,
                        sentence.end,
                        spec.key,
                        frozenset(m for m, _, _ in clauses),
                        tuple(clauses),
                        exact,
                        unnamed,
                    )
                )
        return out

    def _exact_and_unnamed(
        self, sentence: Span
    ) -> tuple[tuple[tuple[str, int, int], ...], tuple[tuple[int, int], ...]]:
        exact: list[tuple[str, int, int]] = []
        unnamed: list[tuple[int, int]] = []
        for clause in vocab.CLAUSE.finditer(self.text, sentence.start, sentence.end):
            goal = vocab.GOAL_VERB.search(clause.group()) or vocab.OBJECTIVE_CUE.search(
                clause.group()
            )
            if not goal:
                continue
            words = keywords_in(clause.group())
            for _, word in words:
                if exact_words(word) and word not in {w for w, _, _ in exact}:
                    exact.append((word, *clause.span()))
            figures = [m for m in self.metrics_within(*clause.span()) if not self.is_from_value(m)]
            if (
                figures
                and not any(informative(m) for m, _ in words)
                and not any(informative(f.measure) for f in figures)
            ):
                unnamed.append(clause.span())
        return tuple(exact), tuple(unnamed)

    @cached_property
    def result_text(self) -> str:
        """The sentences holding the results, lower case: what an exact keyword is looked for in."""
        seen: dict[int, str] = {}
        for m in self.result_metrics:
            sentence = self.sentence_at(m.start)
            if sentence is not None and sentence.start not in seen:
                seen[sentence.start] = self.text[sentence.start : sentence.end]
        return "\n".join(seen.values()).lower()

    def answers_exact(self, keyword: str) -> bool:
        words = exact_words(keyword) or (keyword,)
        return any(w in self.result_text for w in words)

    def _goal_clauses(self, sentence: Span) -> list[tuple[str, int, int]]:
        """(measure, clause start, clause end) for measures named in goal-setting clauses."""
        out: list[tuple[str, int, int]] = []
        seen: set[str] = set()
        for clause in vocab.CLAUSE.finditer(self.text, sentence.start, sentence.end):
            figures = self.metrics_within(*clause.span())
            if not figures and not vocab.GOAL_VERB.search(clause.group()):
                continue
            named = measures_in(clause.group())
            named += [m.measure for m in figures if informative(m.measure)]
            for measure in named:
                if measure not in seen:
                    seen.add(measure)
                    out.append((measure, *clause.span()))
        return out

    def unmarked(self, start: int, end: int) -> tuple[int, int]:
        """The span without the list mark ("- ", "1、") and white space around it."""
        m = LIST_MARK.match(self.text[start:end])  # anchored at ^: match the slice
        start += m.end() if m else 0
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return start, end

    def clause_text(self, start: int, end: int) -> str:
        """The clause as a message quotes it: without a list mark before it."""
        a, b = self.unmarked(start, end)
        return self.text[a:b]

    def clause_span(self, pos: int) -> tuple[int, int]:
        """The clause (between commas, 、 and sentence ends) around ``pos``."""
        sentence = self.sentence_at(pos)
        lo, hi = (sentence.start, sentence.end) if sentence else (0, len(self.text))
        for clause in vocab.CLAUSE.finditer(self.text, lo, hi):
            if clause.start() <= pos < clause.end():
                return clause.span()
        return (pos, pos)

    def is_from_value(self, m: Metric) -> bool:
        """The starting value of a change ("从 12% 提升到 27%"): a baseline, not the result."""
        before = self.text[max(0, m.start - 8) : m.start]
        after = self.text[m.end : m.end + 12]
        return bool(vocab.FROM_BEFORE.search(before) and vocab.TO_AFTER.match(after))

    def reached(self, m: Metric) -> Metric:
        """For the starting value of a change, the value it reached (the next figure in its
        clause); any other figure is itself."""
        if not self.is_from_value(m):
            return m
        _, end = self.clause_span(m.start)
        after = [n for n in self.metrics_within(m.end, end) if n.start >= m.end]
        return after[0] if after else m

    @cached_property
    def targets(self) -> frozenset[tuple[int, int]]:
        """Spans of the figures an objective sets ("提升到 25%", "曝光达到 1 亿次"), as opposed to
        facts stated in the same sentence ("知名度只有 12%"), which still need their source."""
        out = set()
        for objective in self.objectives:
            for m in self.metrics_within(objective.start, max(objective.end, objective.start)):
                if self.is_from_value(m):
                    continue
                a, b = self.clause_span(m.start)
                clause = self.text[a:b]
                if vocab.GOAL_VERB.search(clause) or vocab.OBJECTIVE_CUE.search(clause):
                    out.add((m.start, m.end))
        return frozenset(out)

    def is_target(self, m: Metric) -> bool:
        return (m.start, m.end) in self.targets

    def measure_names(self, measures: Iterable[str]) -> str:
        return "、".join(sorted({measure_label(m) for m in measures}))
