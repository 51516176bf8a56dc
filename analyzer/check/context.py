"""What every rule reads: the entry's text (:mod:`analyzer.check.entry`), its results wherever
they are, and its objectives with the measures they name, computed once per check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from analyzer.check import vocab
from analyzer.check.entry import EntryText, Span, count_chars, once
from analyzer.check.findings import Finding, Severity
from analyzer.check.measures import (
    exact_words,
    informative,
    keywords_in,
    measure_label,
    measures_in,
    measures_of,
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

    @once
    def elsewhere(self) -> Elsewhere | None:
        """Results living at the end of another section when no results section is present."""
        if not self.results_specs or self.results_present:
            return None
        best: Elsewhere | None = None
        for section in self.doc.sections:
            spec_kinds = self.kinds_of(section.key)
            if "objectives" in spec_kinds or "results" in spec_kinds:
                continue
            middle = section.start + (section.end - section.start) // 2
            middle = max(self.text.rfind("\n", section.start, middle) + 1, section.start)
            first = -1
            found: list[Metric] = []
            for start, end, in_p in self._paragraphs_with_metrics(middle, section.end):
                if first == -1 and vocab.RESULT_CUE.search(self.text[start:end]):
                    first = start
                if first != -1:
                    found.extend(in_p)
            if first != -1 and (best is None or len(found) >= len(best.metrics)):
                best = Elsewhere(section.key, first, section.end, tuple(found))
        return best

    def _paragraphs_with_metrics(self, start: int, end: int) -> list[tuple[int, int, list[Metric]]]:
        """The paragraphs (lines) of ``text[start:end]`` that hold metrics, in order, with their
        metrics: found from the metrics, not by reading every paragraph (most hold none)."""
        text = self.text
        out: list[tuple[int, int, list[Metric]]] = []
        for m in self.metrics_within(start, end):
            if text[m.start] == "\n":
                continue  # in no paragraph
            line_start = max(text.rfind("\n", start, m.start) + 1, start)
            line_end = text.find("\n", m.start, end)
            line_end = end if line_end == -1 else line_end
            if m.end > line_end:
                continue  # runs over a line break: in no paragraph
            if out and out[-1][0] == line_start:
                out[-1][2].append(m)
            else:
                out.append((line_start, line_end, [m]))
        return out

    def kinds_of(self, key: str) -> tuple[str, ...]:
        """The kinds the award's section ``key`` speaks to (its own first)."""
        return self._kinds_by_key.get(key, ())

    @once
    def _kinds_by_key(self) -> dict[str, tuple[str, ...]]:
        kinds: dict[str, tuple[str, ...]] = {}
        for spec in self.schema.sections:
            kinds.setdefault(spec.key, spec.kinds)
        return kinds

    @once
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

    @once
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

    @once
    def objectives(self) -> list[Objective]:
        out = []
        for spec in self.schema.sections:
            section = self.present.get(spec.key)
            if section is None or "objectives" not in spec.kinds:
                continue
            dedicated = spec.kind == "objectives"
            if not dedicated and not vocab.OBJECTIVE_CUE.search(
                self.text, section.start, section.end
            ):
                continue  # no sentence of it names an objective (cue words end no sentence)
            for sentence in self.sentences_in(section):
                text = self.text[sentence.start : sentence.end]
                if not dedicated and not vocab.OBJECTIVE_CUE.search(text):
                    continue
                clauses, exact, unnamed = self._read_goal(sentence)
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

    @once
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

    def _read_goal(
        self, sentence: Span
    ) -> tuple[
        list[tuple[str, int, int]], tuple[tuple[str, int, int], ...], tuple[tuple[int, int], ...]
    ]:
        """An objective's sentence read clause by clause, once: the measures its goal-setting
        clauses name, with the clause naming each (clauses with a figure or a goal verb); the
        keywords only a result naming the same thing answers; and the goal clauses with a target
        figure but no measure named (clauses with a goal verb or an objective cue)."""
        clauses: list[tuple[str, int, int]] = []
        exact: list[tuple[str, int, int]] = []
        unnamed: list[tuple[int, int]] = []
        seen: set[str] = set()
        for clause in vocab.CLAUSE.finditer(self.text, sentence.start, sentence.end):
            text, span = clause.group(), clause.span()
            figures = self.metrics_within(*span)
            verb = vocab.GOAL_VERB.search(text)
            goal = verb or vocab.OBJECTIVE_CUE.search(text)
            if not figures and not verb and not goal:
                continue
            words = keywords_in(text)
            if figures or verb:  # a clause that sets a goal: the measures it names
                named = measures_of(words)
                named += [m.measure for m in figures if informative(m.measure)]
                for measure in named:
                    if measure not in seen:
                        seen.add(measure)
                        clauses.append((measure, *span))
            if not goal:
                continue
            for _, word in words:
                if exact_words(word) and word not in {w for w, _, _ in exact}:
                    exact.append((word, *span))
            reached = [m for m in figures if not self.is_from_value(m)]
            if (
                reached
                and not any(informative(m) for m, _ in words)
                and not any(informative(f.measure) for f in reached)
            ):
                unnamed.append(span)
        return clauses, tuple(exact), tuple(unnamed)

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
        key = (m.start, m.end)
        found = self._from_values.get(key)
        if found is None:
            before = self.text[max(0, m.start - 8) : m.start]
            found = self._from_values[key] = bool(
                any(w in before for w in vocab.FROM_WORDS)  # most figures: no 从/由 before
                and vocab.FROM_BEFORE.search(before)
                and vocab.TO_AFTER.match(self.text[m.end : m.end + 12])
            )
        return found

    def reached(self, m: Metric) -> Metric:
        """For the starting value of a change, the value it reached (the next figure in its
        clause); any other figure is itself."""
        if not self.is_from_value(m):
            return m
        _, end = self.clause_span(m.start)
        after = [n for n in self.metrics_within(m.end, end) if n.start >= m.end]
        return after[0] if after else m

    @once
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
