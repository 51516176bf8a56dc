"""匹配度 a user can read: a case's own words match 高, unrelated cases 低, and each level says why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from search_fakes import FakeEmbedder, case_id_of, seeded

from analyzer.library.store import Library
from analyzer.search.calibration import HIGH_Z, MEDIUM_Z, Evidence, judge
from analyzer.search.index import open_index
from analyzer.search.query import more_like, search


@pytest.fixture
def seeded_library(tmp_path: Path) -> Iterator[Library]:
    yield from seeded(tmp_path)


@pytest.fixture
def emb(seeded_library: Library) -> FakeEmbedder:
    fake = FakeEmbedder()
    open_index(seeded_library.home).update(seeded_library, fake)
    return fake


def evidence(z: float | None, coverage: float = 0.5, terms: tuple[str, ...] = ()) -> Evidence:
    return Evidence(z, 0.9, "strategy", "策略与创意", coverage, terms)


def test_levels_follow_the_measured_thresholds_and_name_the_section_and_terms() -> None:
    assert judge(evidence(HIGH_Z)).label == "高"
    assert judge(evidence(HIGH_Z - 0.01)).label == "中"
    assert judge(evidence(MEDIUM_Z)).label == "中"
    assert judge(evidence(MEDIUM_Z - 0.01)).label == "低"
    high = judge(evidence(4.2, terms=("垃圾分类", "大赛")))
    assert "「策略与创意」" in high.reason and "垃圾分类、大赛" in high.reason
    assert not high.keyword_only and 0 < judge(evidence(1.0)).strength < high.strength <= 1
    assert "没有共同的关键词" in judge(evidence(4.2)).reason


def test_a_hit_without_vectors_is_judged_by_its_words_and_says_so() -> None:
    level = judge(evidence(None, coverage=0.75, terms=("开发者",)))
    assert level.label == "高" and level.keyword_only
    assert level.reason.startswith("仅按关键词判断") and "75%" in level.reason
    assert judge(evidence(None, coverage=0.1)).label == "低"
    assert judge(None).label == "低"


def test_the_case_a_query_describes_is_high_and_the_others_low(seeded_library, emb) -> None:
    hits = search(seeded_library, "华为云垃圾分类 AI 开发大赛", k=5, embedder=emb)
    assert hits[0].case_id == case_id_of(seeded_library, "000")
    levels = [judge(h.evidence) for h in hits]
    assert levels[0].label == "高" and "垃圾" in levels[0].reason
    assert [lv.label for lv in levels[1:]] == ["低"] * (len(hits) - 1)
    # the ranking is still the fusion's: scores best first
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_filter_does_not_make_the_remaining_hits_strong(seeded_library, emb) -> None:
    """Before, the best remaining hit always read 100 %: a level does not depend on the others."""
    query = "华为云垃圾分类 AI 开发大赛"
    unfiltered = {
        h.case_id: judge(h.evidence).label for h in search(seeded_library, query, k=5, embedder=emb)
    }
    filtered = search(seeded_library, query, k=5, embedder=emb, award="golden_mouse")
    huawei = case_id_of(seeded_library, "000")
    others = [h for h in filtered if h.case_id != huawei]
    assert others and all(judge(h.evidence).label == unfiltered[h.case_id] for h in others)
    assert all(judge(h.evidence).label == "低" for h in others)


def test_keyword_search_levels_count_words_the_library_never_saw(seeded_library, emb) -> None:
    """白酒 and 礼盒 are in no case: a case sharing only 品牌/电商 is not a strong match."""
    hits = search(seeded_library, "白酒品牌春节礼盒的电商促销", k=5, mode="bm25", embedder=emb)
    assert hits and all(h.evidence is not None and h.evidence.z is None for h in hits)
    assert all(judge(h.evidence).keyword_only for h in hits)
    assert all(judge(h.evidence).label != "高" for h in hits)
    own = search(seeded_library, "移动认证 开发者 社会化传播", k=3, mode="bm25", embedder=emb)
    assert judge(own[0].evidence).label == "高"


def test_more_like_this_hits_carry_levels(seeded_library, emb) -> None:
    hits = more_like(seeded_library, case_id_of(seeded_library, "000"), embedder=emb)
    assert hits and all(h.evidence is not None and h.evidence.z is not None for h in hits)


def test_levels_follow_the_library_as_it_changes(seeded_library, emb, tmp_path) -> None:
    """The library's statistics are measured again when its index changes."""
    query = "华为云垃圾分类 AI 开发大赛"
    before = search(seeded_library, query, k=1, embedder=emb)[0].evidence
    twin = tmp_path / "twin.txt"
    source = Path(seeded_library.get_case(case_id_of(seeded_library, "000")).source)
    twin.write_text(source.read_text(encoding="utf-8") + "\n附：同一案例的另一份稿件。", "utf-8")
    seeded_library.ingest([twin])
    open_index(seeded_library.home).update(seeded_library, emb)
    after = search(seeded_library, query, k=1, embedder=emb)[0].evidence
    assert before is not None and after is not None and before.z is not None
    # a near copy of the case is now in the background of the other: it stands out less
    assert after.z is not None and after.z < before.z
