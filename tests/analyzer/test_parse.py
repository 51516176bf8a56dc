"""The five seeds parse into exactly their sections and fields."""

from __future__ import annotations

import pytest

from analyzer.parse import parse_file, parse_text


def test_seed_000_golden_mouse(seeds):
    doc = parse_file(seeds["000"])
    assert doc.award == "golden_mouse" and doc.is_entry
    assert doc.title == "2019华为云 AI 大赛数字营销"
    assert doc.fields == {
        "广告主": "华为",
        "所属行业": "科技",
        "执行时间": "2019.07.12-09.19",
        "参选类别": "社会化营销类",
    }
    assert [(s.key, s.title) for s in doc.sections] == [
        ("background", "营销背景"),
        ("objectives", "营销目标"),
        ("strategy", "策略与创意"),
        ("execution", "执行过程/媒体表现"),
        ("results", "营销效果与市场反馈"),
    ]
    strategy = doc.section("strategy").text
    # sub-labels stay inside their section
    assert strategy.startswith("策略：") and "创意亮点：" in strategy
    results = doc.section("results").text
    assert results.startswith("1、吸引报名参赛队伍 8000+")
    # a sentence a PDF broke over two lines is whole again
    assert "华为云为此举办垃圾分类 AI 开发大赛" in doc.section("background").text


def test_seed_001_jinqi(seeds):
    doc = parse_file(seeds["001"])
    assert doc.award == "jinqi"
    assert doc.title == "中移互联网移动认证社会化传播案例"
    assert doc.fields == {
        "案例名称": "中移互联网移动认证社会化传播案例",
        "执行时间": "2018/04~2019/03",
        "企业名称": "中移互联网有限公司",
        "品牌名称": "移动认证",
        "代理公司": "广州圣达广告有限公司",
        "参评方向": "内容营销、公关活动",
    }
    assert [s.key for s in doc.sections] == [
        "overview",
        "research",
        "planning",
        "execution",
        "evaluation",
        "highlights",
    ]
    assert [s.title for s in doc.sections] == [
        "项目概述",
        "项目调研",
        "项目策划",
        "项目执行",
        "项目评估",
        "项目亮点",
    ]
    research = doc.section("research").text
    assert "挑战:1、国企品牌传播初期" in research  # a sub-label, not a section
    assert "微信截图_" not in doc.text and ".png" not in doc.text


def test_seed_002_golden_mouse_bullets(seeds):
    doc = parse_file(seeds["002"])
    assert doc.award == "golden_mouse"
    assert doc.title == "上汽通用智能营销中枢系统"
    assert doc.fields == {
        "广告主": "上汽通用",
        "所属行业": "汽车行业",
        "执行时间": "2019.01.01-12.01",
        "参选类别": "智能营销类",
    }
    assert [s.key for s in doc.sections] == [
        "background",
        "objectives",
        "strategy",
        "execution",
        "results",
    ]
    assert "TAUV%提升 48%" in doc.section("results").text


def test_seed_003_tma_without_results_heading(seeds):
    doc = parse_file(seeds["003"])
    assert doc.award == "tma"
    assert doc.title == "智能营销揭秘双十一电商狂欢背后的故事"
    assert doc.fields == {
        "所属行业": "电商",
        "执行时间": "2017.10.10-11.12",
        "执行范围": "全国",
        "参选类别": "技术类",
    }
    assert [s.title for s in doc.sections] == [
        "概述",
        "合作背景",
        "市场环境",
        "营销目标",
        "创意",
        "传播执行",
    ]
    # the results sit in the closing paragraphs of 传播执行, with no heading of their own
    assert "超450亿的曝光" in doc.section("execution").text
    assert doc.section("results") is None


def test_seed_004_is_a_reference_document(seeds):
    doc = parse_file(seeds["004"])
    assert doc.award is None and not doc.is_entry
    assert doc.fields == {}
    assert [s.key for s in doc.sections] == ["body"]
    assert doc.title == "AI 赋能的营销科技趋势与实践"
    assert "消費者業務增長" in doc.text  # traditional characters kept as written


def test_forced_award_overrides_the_guess(seeds):
    doc = parse_file(seeds["000"], award="generic")
    assert doc.award == "generic"
    assert {"background", "objectives", "results"} <= {s.key for s in doc.sections}


def test_json_contract(seeds):
    data = parse_file(seeds["002"]).to_json()
    assert set(data) >= {"award", "is_entry", "fields", "sections", "metrics"}
    assert set(data["sections"][0]) == {"key", "kind", "title", "text"}
    assert data["sections"][0]["kind"] == "background"


@pytest.mark.parametrize("raw", ["", " ", "\n\n", "\x00\x01", "营销背景", "：：：", "【】"])
def test_degenerate_text_does_not_crash(raw):
    doc = parse_text(raw)
    assert doc.award is None or isinstance(doc.award, str)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from(
    [
        "营销背景",
        "營銷目標",
        "策略与创意",
        "【项目评估】",
        "一、",
        "1.",
        ">",
        "：",
        ":",
        "\n",
        " ",
        "广告主：",
        "执行时间:2019.07.12-09.19",
        "3000 万+",
        "提升 24%+",
        "10w+",
        "近万",
        "同比增长157%",
        "背景与挑战",
        "效果",
        "**",
        "- ◆ ",
        "微信截图_1.png",
        "http://x.cn/a.png",
        "\x00",
        "\ufeff",
        "¥",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=40))
def test_parser_never_raises_on_any_string(parts):
    text = "".join(parts)
    doc = parse_text(text)
    for section in doc.sections:  # offsets point at the section's text
        assert doc.text[section.start : section.end] == section.text
    for metric in doc.metrics:
        assert 0 <= metric.start <= metric.end <= len(doc.text)
