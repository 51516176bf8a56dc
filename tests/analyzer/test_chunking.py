"""Chunks a hit can name: whole sentences, one section each, never a stray character."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.library.parse import parse_file
from analyzer.library.parsed import Section
from analyzer.search.chunking import (
    BASELINE,
    DEFAULT,
    HEADER_KEY,
    chunk_case,
    chunk_spans,
    embedded_text,
    passage_key,
    sentence_keys,
    split_sentences,
)

SEEDS = sorted((Path(__file__).resolve().parents[2] / "corpus" / "cases").glob("*.txt"))
ENDS = "。！？；!?;\n"


class _Case:
    def __init__(self, text: str, sections: tuple[Section, ...], fields: dict[str, str]) -> None:
        self.title, self.text, self.sections, self.fields = "测试案例", text, sections, fields


def _one_section(body: str, fields: dict[str, str] | None = None) -> _Case:
    text = "营销背景\n" + body
    return _Case(
        text, (Section("background", "background", "营销背景", body, 5, len(text)),), fields or {}
    )


def test_a_short_section_is_one_chunk_pointing_into_the_case_text():
    case = _one_section("华为云举办垃圾分类 AI 开发大赛。面向全社会。")
    (chunk,) = chunk_case(case, 7)
    assert chunk.case_id == 7 and chunk.section == "background" and chunk.kind == "background"
    assert chunk.section_title == "营销背景"
    assert case.text[chunk.start : chunk.end] == chunk.text == case.sections[0].text


def test_a_long_section_splits_at_sentence_ends_with_overlap():
    sentences = [f"第{i}句讲的是活动的第{i}个执行细节，内容足够长一些。" for i in range(40)]
    case = _one_section("".join(sentences))
    chunks = chunk_case(case, 1, max_chars=120, overlap=40)
    assert len(chunks) > 5
    for c in chunks:
        assert len(c.text) <= 120
        assert c.text[-1] in ENDS, f"ends mid-sentence: {c.text[-10:]!r}"
        assert c.text.startswith("第"), f"starts mid-sentence: {c.text[:10]!r}"
        assert case.text[c.start : c.end] == c.text
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end, "consecutive chunks should share a sentence"
        assert b.start > a.start
    covered = "".join(c.text for c in chunks)
    assert all(s in covered for s in sentences)


def test_one_sentence_over_the_limit_is_cut_at_commas_first():
    body = "，".join(f"子句{i:02d}有十个字符" for i in range(30)) + "。"
    chunks = chunk_spans(body, max_chars=60, overlap=10)
    assert len(chunks) > 1
    for s, e in chunks[:-1]:
        assert e - s <= 60
        assert body[e - 1] == "，", "a cut inside an over-long sentence falls on a comma"
    assert body[chunks[-1][1] - 1] == "。"


def test_no_chunk_of_one_character():
    assert chunk_spans("好") == []
    assert chunk_spans("。\n\n。") == []
    for s, e in chunk_spans("好。\n" + "长" * 30 + "。\n的", max_chars=20, overlap=5):
        assert e - s > 1


def test_header_chunk_holds_title_and_fields():
    case = _one_section("一句话说明背景。", {"广告主": "华为", "所属行业": "科技"})
    head, body = chunk_case(case, 3)
    assert head.section == HEADER_KEY and "广告主：华为" in head.text and "测试案例" in head.text
    assert body.section == "background" and body.ordinal == 1


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_seed_chunks_cover_every_section_and_point_into_the_text(path):
    doc = parse_file(path)
    chunks = chunk_case(doc, 1)
    assert {c.section for c in chunks} >= {s.key for s in doc.sections if len(s.text) > 1}
    for c in chunks:
        assert len(c.text) >= 2
        if c.section != HEADER_KEY:
            assert doc.text[c.start : c.end] == c.text
            assert len(c.text) <= 400


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="营销活动数据用户品牌传播，、 ab1", min_size=0, max_size=90),
            st.sampled_from([*"。！？；\n", "。”"]),
        ),
        min_size=1,
        max_size=25,
    ),
    st.integers(min_value=20, max_value=200),
)
def test_chunks_never_end_mid_sentence_unless_the_sentence_is_too_long(pieces, max_chars):
    text = "".join(body + end for body, end in pieces)
    overlap = max_chars // 4
    sentence_spans = split_sentences(text)
    ends = {e for _, e in sentence_spans}
    too_long = [(s, e) for s, e in sentence_spans if e - s > max_chars]
    for s, e in chunk_spans(text, max_chars=max_chars, overlap=overlap):
        assert text[s:e].strip() == text[s:e]
        assert len(text[s:e]) >= 2
        inside_long = any(ls <= s < le or ls < e <= le for ls, le in too_long)
        if not inside_long:
            assert e in ends, f"chunk ends mid-sentence: {text[s:e]!r}"
            assert e - s <= max_chars


def test_the_index_embeds_the_lead_of_each_section_and_files_the_rest_for_keywords():
    sentences = [f"第{i}句讲的是活动的第{i}个执行细节，内容足够长一些。" for i in range(40)]
    case = _one_section("".join(sentences), {"广告主": "华为"})
    case.title = "标题" * 100  # a parser took a paragraph for the title
    head, *body = chunk_case(case, 1)
    assert head.vector_text == head.text and len(head.text) < 250
    assert len(body) > DEFAULT.section_cap and all(len(c.text) <= DEFAULT.max_chars for c in body)
    assert [bool(c.vector_text) for c in body] == [True, True] + [False] * (len(body) - 2)
    assert all(a.end <= b.start for a, b in itertools.pairwise(body)), "no overlap"
    assert body[0].vector_text == body[0].text, "the title is not embedded with every chunk"
    assert body[0].indexed_text.startswith("标题标题") and len(body[0].context) < 60
    old = chunk_case(case, 1, policy=BASELINE)
    assert all(c.vector_text.startswith(c.context) for c in old[1:])


def test_sentences_found_in_many_cases_are_not_embedded():
    template = "本案例由参赛单位提交，内容经授权后发布。"
    case = _one_section(template + "华为云举办垃圾分类 AI 开发大赛，面向全社会征集方案。")
    (chunk,) = chunk_case(case, 1)
    common = frozenset(sentence_keys(_one_section(template)).tolist())
    assert (
        embedded_text(chunk.text, common) == "华为云举办垃圾分类 AI 开发大赛，面向全社会征集方案。"
    )
    assert embedded_text(template, common) == "", "nothing left worth a vector"
    assert embedded_text(chunk.text, frozenset()) == chunk.text
    assert passage_key("同一段文字") == passage_key("同一段文字") != passage_key("另一段文字")
