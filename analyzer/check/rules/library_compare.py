"""Compared with similar cases in the library: measures their results usually report, this one not.

The library is the user's collection of past cases. It has no way to mark a case as 获奖, so every
entry counts; reference documents and drafts (``*.awdraft`` sources) are left out. "Similar" is
the most similar entries of the same award by the search index's lexical side when the library
has an index (no model is loaded to check an entry), else the entries of the same award, narrowed
to the same category when enough share it.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzer.check.context import CheckContext
from analyzer.check.findings import Finding
from analyzer.check.measures import informative, measure_label
from analyzer.check.registry import rule
from analyzer.documents.document import DRAFT_SUFFIX

if TYPE_CHECKING:
    from analyzer.library.store import Library

log = logging.getLogger(__name__)

MIN_CASES = 2  # fewer similar cases say nothing about what is usual
USUAL_SHARE = 0.5  # a measure "usually" reported: in at least half of the similar cases
MAX_CASES = 500  # newest cases of the award read per check
SIMILAR_K = 8  # most similar cases compared when the library has a search index
NEAR_SHARE = 0.5  # of the best match's score, for a case to count as similar


@dataclass(frozen=True)
class _Case:
    id: int
    text_hash: str
    category: str
    measures: frozenset[str]  # measures its results report


# Per library: (award, fingerprint of the library's cases) → the award's cases, so checking many
# entries against one library reads it once; any import or removal changes the fingerprint.
_CACHE: weakref.WeakKeyDictionary[Library, dict[tuple[str, int], list[_Case]]] = (
    weakref.WeakKeyDictionary()
)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _award_cases(library: Library, award: str) -> list[_Case]:
    fingerprint = hash(frozenset(library.case_hashes().items()))
    key = (award, fingerprint)
    per_library = _CACHE.setdefault(library, {})
    if key not in per_library:
        for stale in [k for k in per_library if k[1] != fingerprint]:
            del per_library[stale]  # the library changed since
        cases = []
        # past entries only: a reference document or a draft saved into the library is not
        # a case to learn from (the library has no 获奖 flag, so every entry counts)
        summaries = [
            c
            for c in library.list_cases(award=award)
            if c.is_entry and not c.source.lower().endswith(DRAFT_SUFFIX)
        ]
        for summary in summaries[-MAX_CASES:]:
            case = library.get_case(summary.id)
            results = {s.key for s in case.sections if s.kind == "results"}
            measures = frozenset(
                m.measure for m in case.metrics if m.section in results and informative(m.measure)
            )
            cases.append(_Case(summary.id, _digest(case.text), case.category, measures))
        per_library[key] = cases
    return per_library[key]


def similar_case_measures(
    library: Library, award: str, category: str, exclude_text: str
) -> tuple[int, Counter[str], str]:
    """(number of similar cases, measure → cases reporting it in their results, scope label).

    Similar = the entries of the same award the search index finds most similar to the entry,
    when the library has an index; else the entries of the same award, narrowed to the same
    category when at least ``MIN_CASES`` share it. The entry itself is left out.
    """
    own = _digest(exclude_text)
    cases = [c for c in _award_cases(library, award) if c.text_hash != own]
    scope = ""
    ranked = _most_similar(library, award, exclude_text)
    by_id = {c.id: c for c in cases}
    near = [by_id[i] for i in ranked or () if i in by_id]
    if len(near) >= MIN_CASES:
        cases, scope = near, "最相似"
    elif category:
        same = [
            c for c in cases if c.category and (c.category in category or category in c.category)
        ]
        if len(same) >= MIN_CASES:
            cases, scope = same, f"参选类别为「{category}」"
    counts: Counter[str] = Counter()
    for case in cases:
        counts.update(case.measures)
    return len(cases), counts, scope


def _most_similar(library: Library, award: str, text: str) -> list[int] | None:
    """Case ids most similar to ``text`` by the index's BM25 side, or None without an index."""
    try:
        from analyzer.search.index import open_index
        from analyzer.search.query import search
    except ImportError:  # the search extra is not installed
        return None
    try:
        if open_index(library.home).is_empty():
            return None
        hits = search(
            library, text[:4000], k=SIMILAR_K, award=award, mode="bm25", auto_update=False
        )
    except Exception as exc:  # a damaged index must never stop a check
        log.info("library comparison without the index: %s", exc)
        return None
    # close matches only: a case scoring under half the best shares little with the entry
    top = max((h.score for h in hits), default=0.0)
    return [h.case_id for h in hits if top > 0 and h.score >= NEAR_SHARE * top]


@rule("library.missing_measures", "缺少同类案例常报的指标")
def missing_measures(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.library is None or not ctx.doc.is_entry or not ctx.results_specs:
        return
    category = ctx.doc.field_value("category") or ""
    n, counts, scope = similar_case_measures(ctx.library, ctx.schema.key, category, ctx.text)
    if n < MIN_CASES:
        return
    have = set(ctx.result_measures)
    usual = [
        (measure, k)
        for measure, k in counts.most_common()
        if k >= MIN_CASES and k / n >= USUAL_SHARE and measure not in have
    ]
    if not usual:
        return
    spec = next((s for s in ctx.results_specs if s.key in ctx.present), ctx.results_specs[0])
    listed = "、".join(f"{measure_label(m)}（{k}/{n}）" for m, k in usual)
    section = ctx.present.get(spec.key)
    yield ctx.suggestion(
        spec.key,
        f"{spec.title}：案例库里{scope}的 {n} 个{ctx.schema.name}案例，效果部分通常报告{listed}，"
        "本案例没有。如有这些数据，建议补充。",
        (section.start, section.end) if section else None,
    )
