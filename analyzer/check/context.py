"""What every rule reads: the entry's text (:mod:`analyzer.check.entry`), its results wherever
they are, and its objectives with the measures they name, computed once per check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from analyzer.check import vocab
from analyzer.check.entry import EntryText, Span, count_chars
from analyzer.check.findings import Finding, Severity
from analyzer.check.measures import (
    exact_words,
    informative,
    keywords_in,
    measure_label,
    measures_in,
)
from analyzer.library.parsed import Metric
from analyzer.zh.segments import LIST_MARK

__all__ = ["CheckContext", "Elsewhere", "Objective", "Span", "count_chars"]


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


class CheckContext(EntryText):
    """One check of one entry. ``rule`` is set by the engine while each rule runs."""

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
