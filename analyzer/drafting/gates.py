"""Quality gates: what a section must not be before the user sees it, and how bad a try is.

Each gate is a detector of :mod:`analyzer.quality` applied to a section as drafted (after the
pipeline's repairs, before the user sees it). A *hard* failure is something a judge rejects
outright and a repair cannot mend: the prompt's or the model's words about the task, Markdown or
JSON debris, a claim or a figure the brief does not state (marked 【待核实】), a brief figure or
month given to another fact, a section cut off mid-sentence. A *soft* one makes a weaker
section: repeats, most of the prose pasted from the brief's lines as they stand, a length far
from what the award's entries run to, the model's own sub-headings. The drafter tries again while a try fails hard,
keeps the best try, and reports what still fails (see :mod:`analyzer.drafting.run`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from analyzer.documents.brief import Brief
from analyzer.kinds import OBJECTIVES, RESULTS
from analyzer.markers import VERIFY
from analyzer.quality import against_brief, text
from analyzer.quality.issues import LEAK, Issue

# How far from the typical length a section may be before it is reported (a share of it).
TOO_SHORT = 0.4
TOO_LONG = 2.5


@dataclass(frozen=True)
class Failure:
    gate: str  # leak | debris | invented | unsupported | moved | cut_off | pasted | repeat | length | headings
    hard: bool
    message: str  # for the draft's notes, in Chinese
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True)
class Verdict:
    failures: tuple[Failure, ...]

    @property
    def passed(self) -> bool:
        return not any(f.hard for f in self.failures)

    @property
    def penalty(self) -> float:
        """Lower is better: a hard failure outweighs any number of soft ones."""
        return sum(10.0 if f.hard else 1.0 for f in self.failures) + sum(
            0.1 * len(f.issues) for f in self.failures
        )

    def messages(self) -> list[str]:
        return [f.message for f in self.failures]


def evaluate(
    section_text: str,
    brief: Brief,
    *,
    kind: str,
    typical_chars: int | None = None,
    said: Sequence[str] = (),
) -> Verdict:
    """How ``section_text`` (a drafted section, repairs done) fares against every gate."""
    prose = prose_of(section_text, kind)
    failures: list[Failure] = []

    def hard(gate: str, issues: Sequence[Issue], message: str) -> None:
        if issues:
            failures.append(Failure(gate, True, message, tuple(issues)))

    def soft(gate: str, issues: Sequence[Issue], message: str) -> None:
        if issues:
            failures.append(Failure(gate, False, message, tuple(issues)))

    leaks = text.leaks(prose)
    hard("leak", leaks, f"有提示词或自我描述混入正文：{_quote(leaks)}")
    borrowed = _example_names(prose, brief)
    hard("example", borrowed, f"写进了提示词示例里的名称：{_quote(borrowed)}")
    junk = text.debris(prose)
    hard("debris", junk, f"有 Markdown/JSON 符号：{_quote(junk)}")
    invented = [i for i in text.pending(section_text) if i.text == VERIFY]
    hard("invented", invented, f"有 {len(invented)} 个简报里没有的数字（已标【待核实】）")
    claims = against_brief.unsupported_claims(prose, brief)
    hard("unsupported", claims, f"有简报没有的说法：{_quote(claims)}")
    moved = against_brief.moved_figures(prose, brief)
    hard(
        "moved",
        moved,
        "；".join(f"「{i.text}」在简报中说的是「{i.detail}」" for i in moved[:3]),
    )
    cut = text.cut_off(section_text)
    hard("cut_off", cut, f"结尾不完整：「{cut[0].text}」" if cut else "")
    pasted = against_brief.pasted_share(prose, brief)
    if kind not in (RESULTS, OBJECTIVES) and pasted > against_brief.MAX_PASTED:
        failures.append(Failure("pasted", False, f"正文 {pasted:.0%} 是照搬简报原句，没有成文"))
    before = "".join(f"{t}\n" for t in said)  # sections written before: a repeat of them counts
    again = [i for i in text.repeats(before + prose) if i.start >= len(before)]
    soft("repeat", again, f"有 {len(again)} 句重复")
    heads = text.bare_lines(prose)
    soft("headings", heads, f"有模型自拟的小标题：{_quote(heads)}")
    if typical_chars:
        n = len("".join(section_text.split()))
        if n < TOO_SHORT * typical_chars or n > TOO_LONG * typical_chars:
            failures.append(
                Failure("length", False, f"约 {n} 字，同类参赛稿这一部分通常约 {typical_chars} 字")
            )
    return Verdict(tuple(failures))


def _example_names(prose: str, brief: Brief) -> list[Issue]:
    """The worked example's made-up names (小食堂) where the brief has none of them."""
    from analyzer.drafting.prompt import example_names

    said = "".join(brief.all_text())
    return [
        Issue(LEAK, m.start(), m.end(), name, "示例")
        for name in example_names()
        if name not in said
        for m in re.finditer(re.escape(name), prose)
    ]


def prose_of(section_text: str, kind: str) -> str:
    """What the model wrote of a section: a results section's listed rows are the brief's own."""
    if kind != RESULTS:
        return section_text
    return "\n".join(line for line in section_text.split("\n") if not line.startswith("- "))


def _quote(issues: Sequence[Issue], limit: int = 3) -> str:
    shown = "、".join(f"「{i.text.strip()[:20]}」" for i in issues[:limit])
    return shown + ("等" if len(issues) > limit else "")
