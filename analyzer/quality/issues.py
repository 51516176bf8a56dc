"""A problem a detector found: its kind, where it is, and what it is about."""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of problem (the checker's rule ids and the drafter's gate names derive from these).
LEAK = "leak"  # the prompt's or the model's own words about the task ("该段落旨在…")
DEBRIS = "debris"  # Markdown or JSON syntax (###, **, {"title": …})
REPEAT = "repeat"  # a sentence said again, word for word or nearly
CUT_OFF = "cut_off"  # the text stops mid-sentence
CLAIM = "claim"  # a superlative or a first (第一, 首创, 全球领先)
PENDING = "pending"  # a 【待核实】/【待补充】 mark left in
UNSUPPORTED = "unsupported"  # a claim the brief does not make
MOVED = "moved"  # a brief figure stated for another fact than the brief's
CHANGED_DATE = "changed_date"  # a brief date (a month, a day) given to another event
FOREIGN = "foreign"  # a figure or date the brief does not hold
FLIPPED = "flipped"  # a brief sentence said without one of its negations: the opposite
NAME = "name"  # a quoted name (活动名, 话题, 作品名) the brief does not give


@dataclass(frozen=True)
class Issue:
    kind: str
    start: int
    end: int
    text: str  # the span's text
    detail: str = ""  # what it is about: the brief's wording, the phrase leaked, the repeat …

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end
