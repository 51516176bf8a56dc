"""What happens to a section's text between the model and the user, in order, in one place.

Every step is a small function ``(text, ctx) -> (text, notes)``: ``ctx`` is the
:class:`SectionContext` (the brief, the award's section, the facts it is written from, what the
model was shown); a note is a line for the draft's review notes (``str``), a sentence dropped as
copied (:class:`~analyzer.drafting.guards.copyguard.CopyFlag`), a figure marked 【待核实】
(:class:`~analyzer.drafting.guards.factguard.Flag`) or :class:`MostlyCopied`.

:data:`CLEANUP` turns what the model wrote into section text; the drafter judges that (copied
from an example? nothing left?) and may write the section again. :data:`REPAIRS` then put the
brief's names, words, rows and figures back, and the fact guard marks any number the brief does
not hold: it runs last, so nothing a repair wrote escapes it. Adding or moving a step is one line
below.
"""

from __future__ import annotations

from collections.abc import Sequence

from analyzer.drafting.context import MostlyCopied, Note, SectionContext, Step
from analyzer.drafting.guards.copyguard import check_copies
from analyzer.drafting.guards.factguard import guard
from analyzer.drafting.prompt import SOURCE_MISSING, row_line
from analyzer.drafting.repairs.figures import (
    clipped_step,
    figure_clauses_step,
    kept_figures_step,
    negations_step,
)
from analyzer.drafting.repairs.names import names_step, rare_chars_step
from analyzer.drafting.repairs.tidy import paragraphs_step, said_once_step, tidy_step
from analyzer.kinds import RESULTS
from analyzer.markers import to_add


def copies_step(text: str, ctx: SectionContext) -> tuple[str, list[Note]]:
    """Sentences copied from an example or from the prompt, or naming an example's case, go."""
    check = check_copies(text, ctx.sources, ctx.own, section=ctx.spec.key)
    notes: list[Note] = list(check.flags)
    if check.mostly_copied:
        notes.append(MostlyCopied(check.copied_share))
    return check.text, notes


def results_step(text: str, ctx: SectionContext) -> tuple[str, list[Note]]:
    """A results section lists the brief's result rows (measure, value, source) itself; the model
    writes only the prose around them, so every brief figure appears and no other."""
    if ctx.spec.kind != RESULTS:
        return text, []
    rows = [f"- {row_line(r, ctx.schema)}" for r in ctx.brief.results]
    notes: list[Note] = []
    if ctx.schema.sources_required:
        missing = [r.measure for r in ctx.brief.results if not r.source]
        if missing:
            notes.append(
                f"{ctx.schema.name}要求每个数据注明来源；简报 results 中「{'」「'.join(missing)}」"
                f"没有 source，已留{SOURCE_MISSING}"
            )
    parts = ["\n".join(rows)] if rows else []
    values = [r.value for r in ctx.brief.results if r.value]
    # a line restating two or more of the rows ("取得的效果：H5 参与人次：86万…") repeats the list;
    # one that ends on a colon ("…取得的效果：") is the prompt's list echoed and cut off
    prose = [
        line
        for line in text.strip().split("\n")
        if sum(v in line for v in values) < 2 and not line.rstrip().endswith(("：", ":"))
    ]
    if "\n".join(prose).strip():
        parts.append("\n".join(prose).strip())
    return "\n\n".join(parts), notes


def prose_only(step: Step) -> Step:
    """``step`` for the prose of a section that is not the results list, and not empty."""

    def run(text: str, ctx: SectionContext) -> tuple[str, Sequence[Note]]:
        if ctx.spec.kind == RESULTS or not text.strip():
            return text, []
        return step(text, ctx)

    run.__name__ = step.__name__
    return run


def empty_step(text: str, ctx: SectionContext) -> tuple[str, list[Note]]:
    """Nothing usable left: say so where the text would be."""
    if text.strip():
        return text, []
    return to_add("模型没有写出可用的内容，请重新生成本部分或自行填写。"), []


def fact_guard_step(text: str, ctx: SectionContext) -> tuple[str, list[Note]]:
    """Every number the brief does not hold is marked 【待核实】."""
    text, flags = guard(text, ctx.allowed, section=ctx.spec.key)
    return text, list(flags)


CLEANUP: tuple[Step, ...] = (
    tidy_step,  # no echoed heading, header, prompt label, Markdown or repeated sentence
    copies_step,  # nothing copied from an example or the prompt
)
REPAIRS: tuple[Step, ...] = (
    names_step,  # the brand's name as the brief spells it
    rare_chars_step,  # a brief word's character, not a rare look-alike
    results_step,  # the results section lists the brief's rows
    prose_only(clipped_step),  # a brief fact the model clipped, written out whole
    prose_only(figure_clauses_step),  # a brief figure worded into another fact, put back
    prose_only(negations_step),  # a brief sentence said without its 不/没有: the brief's again
    prose_only(kept_figures_step),  # a brief figure the model left out, added
    prose_only(said_once_step),  # nothing an earlier sentence or section said already
    empty_step,  # nothing usable: a 【待补充】 note
    prose_only(paragraphs_step),  # one-sentence lines joined into paragraphs
    fact_guard_step,  # last: any number the brief does not hold is marked
)
PIPELINE: tuple[Step, ...] = CLEANUP + REPAIRS
# A section composed from the brief (drafting/compose.py) is the brief's words already: it gets
# the results rows, nothing said before dropped, and the fact guard.
COMPOSED: tuple[Step, ...] = (results_step, prose_only(said_once_step), fact_guard_step)


def run_steps(steps: Sequence[Step], text: str, ctx: SectionContext) -> tuple[str, list[Note]]:
    """``text`` through ``steps`` in order, with every step's notes."""
    notes: list[Note] = []
    for step in steps:
        text, found = step(text, ctx)
        notes.extend(found)
    return text, notes
