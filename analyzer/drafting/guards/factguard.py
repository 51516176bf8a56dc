"""The fact guard: every number in a generated draft must come from the brief.

A small model copies figures from the exemplars and invents plausible ones ("曝光量超 1 亿",
"覆盖十余个城市", "近万名用户"). The guard finds every number in the generated text with
:func:`analyzer.zh.numbers.figures` (its value and its kind: a date part, a percentage, a rank,
a vague magnitude, a count …) and compares it with the numbers found the same way in the brief.
A number is allowed only when the brief holds the same value *of the same kind*: the ``8`` of
the brief's "2024.05-2024.08" allows "8月", never "覆盖8个城市"; ``27%`` never allows "增长27倍".
Vague magnitudes (近万, 数百万, 千万级, 破亿) pass only when the brief says the same words.
Anything else is marked ``【待核实】`` (or removed), and each place is reported as a :class:`Flag`.

Stricter than metric extraction on purpose: a result figure, a date, a count of cities — every
number counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from analyzer.documents.brief import Brief
from analyzer.markers import VERIFY as MARK
from analyzer.quality.against_brief import brief_numbers
from analyzer.zh.numbers import VAGUE, Figure, figures, vague_key

__all__ = ["MARK", "Allowed", "Flag", "allowed_values", "figures", "guard", "unmarked_foreign"]


@dataclass(frozen=True)
class Allowed:
    """The numbers a draft may state: (kind, value) pairs and the brief's vague wordings."""

    values: frozenset[tuple[str, float]] = frozenset()
    vague: frozenset[str] = frozenset()
    any_kind: frozenset[float] = frozenset()  # values allowed whatever their kind

    def permits(self, fig: Figure) -> bool:
        if fig.kind == VAGUE:
            return vague_key(fig.text) in self.vague
        if any(_close(fig.value, v) for v in self.any_kind):
            return True
        return any(k == fig.kind and _close(fig.value, v) for k, v in self.values)

    def __iter__(self):  # the plain values, for callers that only compare numbers
        return iter(sorted({v for _, v in self.values} | set(self.any_kind)))


@dataclass(frozen=True)
class Flag:
    """A number the brief does not contain, and what the guard did with it."""

    section: str  # section key
    text: str  # the number as generated
    value: float
    action: str  # "marked" | "removed"
    context: str  # the sentence around it, after the change

    def describe(self, section_title: str = "") -> str:
        verb = f"已标记{MARK}" if self.action == "marked" else "已删除"
        return (
            f"{section_title or self.section}：「{self.text}」不在简报中，{verb}（{self.context}）"
        )


def allowed_values(brief: Brief) -> Allowed:
    """The numbers a draft may state: every number in the brief, with its kind."""
    return Allowed(*brief_numbers(brief))


def guard(
    text: str, allowed: Allowed | Iterable[float], *, section: str = "", remove: bool = False
) -> tuple[str, tuple[Flag, ...]]:
    """``text`` with every number not in ``allowed`` marked (or removed), and where it did so.

    ``allowed`` is what :func:`allowed_values` returns; plain numbers are allowed in any kind.
    """
    if not isinstance(allowed, Allowed):
        allowed = Allowed(any_kind=frozenset(float(v) for v in allowed))
    pieces: list[str] = []
    spots: list[tuple[Figure, int]] = []  # figure, offset of its end in the new text
    pos = 0
    for fig in figures(text):
        if fig.start < pos or allowed.permits(fig):
            continue
        if text.startswith(MARK, fig.end):
            continue  # marked already (a section guarded twice)
        pieces.append(text[pos : fig.start])
        if not remove:
            pieces.append(text[fig.start : fig.end] + MARK)
        pos = fig.end
        spots.append((fig, sum(map(len, pieces))))
    pieces.append(text[pos:])
    result = "".join(pieces)
    flags = tuple(
        Flag(
            section=section,
            text=fig.text.strip(),
            value=fig.value,
            action="removed" if remove else "marked",
            context=_sentence(result, end),
        )
        for fig, end in spots
    )
    return result, flags


def unmarked_foreign(text: str, allowed: Allowed) -> list[Figure]:
    """Numbers of ``text`` the brief does not hold and nobody marked (should be none)."""
    return [f for f in figures(text) if not allowed.permits(f) and not text.startswith(MARK, f.end)]


# ---------------------------------------------------------------------------- helpers


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _sentence(text: str, at: int) -> str:
    start = max(text.rfind(c, 0, max(0, at - 1)) for c in "。！？；\n") + 1
    ends = [i for c in "。！？；\n" if (i := text.find(c, at)) != -1]
    end = min(ends) if ends else len(text)
    snippet = text[start:end].strip()
    return (
        snippet if len(snippet) <= 60 else "…" + text[max(start, at - 40) : at + 15].strip() + "…"
    )
