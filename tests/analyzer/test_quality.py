"""The detectors a judge's eye is built from: leaks, debris, repeats, cut-off text, claims and
figures the brief states for another fact."""

from __future__ import annotations

from analyzer.documents.brief import brief_from_dict
from analyzer.quality.against_brief import (
    foreign_figures,
    moved_figures,
    unknown_names,
    unsupported_claims,
)
from analyzer.quality.text import bare_lines, cut_off, debris, leaks, pending, repeats

BRIEF = brief_from_dict(
    {
        "award": "effie",
        "brand": "山野营地",
        "period": "2024.04-2024.09",
        "execution": ["4 月：在 6 个城市的门店上线新手站。", "7 月：推出会员专享的夜间观星营。"],
        "results": [
            {"measure": "新增会员", "value": "12.6万人", "source": "会员系统"},
            {"measure": "合作营地数量", "value": "38个", "source": "合作协议"},
        ],
    }
)


def test_the_model_talking_about_its_text_or_echoing_the_prompt_is_a_leak() -> None:
    found = leaks("该段落旨在展示品牌策略。连贯的段落：品牌推出新手站。以下是根据要点改写的内容。")
    assert [i.text for i in found] == ["该段落旨在", "连贯的段落", "以下是根据"]
    assert not leaks("本案例以新手站为核心，三个月内覆盖 6 个城市。以下三点是关键：")


def test_markdown_and_json_syntax_is_debris_but_plain_lists_are_not() -> None:
    text = '### 策略\n**核心洞察**是新手缺把握。\n{"title": "效果", "content": [\n]\n---'
    assert {i.text for i in debris(text)} >= {"### 策略", "**核心洞察**", '"title": "', "---"}
    assert not debris("- 新手站：装备租赁、搭建教学。\n1. 第一阶段：预热。")


def test_a_sentence_said_again_nearly_or_behind_a_connective_is_a_repeat() -> None:
    text = (
        "中国品牌面临巨大的市场挑战和竞争压力。此外，中国品牌面临巨大的市场挑战和竞争压力。"
        "品牌面临着巨大的市场挑战和竞争压力。新手站在六个城市上线。"
    )
    assert len(repeats(text)) == 2
    assert not repeats("会员增长 12.6 万人。会员复购率提升到 31%。")


def test_a_section_stopping_mid_sentence_is_cut_off_a_list_or_heading_is_not() -> None:
    assert cut_off("活动带动了门店客流。\n鼓励不同城市的用户晒出自己的夏天，")[0].text.startswith(
        "鼓励"
    )
    assert cut_off("活动带动了门店客流，小程序点单也随之增长，鼓励不同")
    assert not cut_off("活动带动了门店客流。")
    assert not cut_off("活动带动了门店客流。\n- 新增会员 12.6 万人")
    assert not cut_off("营销目标")


def test_pending_marks_and_the_model_s_own_subheadings_are_found() -> None:
    assert [i.text for i in pending("覆盖 9【待核实】个城市。【待补充：来源】")] == [
        "【待核实】",
        "【待补充：来源】",
    ]
    assert [i.text for i in bare_lines("概要\n品牌做了很多事情。\n结论")] == ["概要", "结论"]


def test_a_claim_the_brief_never_makes_is_unsupported() -> None:
    found = unsupported_claims("山野营地是全球领先的露营品牌，行业首创新手站。", BRIEF)
    assert [i.text for i in found] == ["领先", "行业首创"]


def test_a_brief_figure_said_of_another_fact_is_moved() -> None:
    moved = moved_figures("山野营地打造了12.6万个露营地，覆盖38个城市。", BRIEF)
    assert [(i.text, i.detail) for i in moved] == [
        ("12.6万", "新增会员：12.6万人"),
        ("38", "合作营地数量：38个"),
    ]
    assert not moved_figures("新增会员12.6万人，与38个营地合作。", BRIEF)


def test_a_brief_month_given_to_another_stage_is_moved() -> None:
    moved = moved_figures("4 月：推出会员专享的夜间观星营。", BRIEF)
    assert [(i.text, i.detail) for i in moved] == [("4", "7 月：推出会员专享的夜间观星营")]
    assert not moved_figures("7 月：推出会员专享的夜间观星营。", BRIEF)


def test_a_loop_that_only_moves_its_year_or_its_mark_is_a_repeat() -> None:
    loop = "".join(
        f"{y}【待核实】年，品牌将继续把安全用电知识送进社区。" for y in (2025, 2026, 2027)
    )
    found = repeats(loop)
    assert len(found) == 2 and found[0].detail.startswith("2025")
    marked = "品牌在 12 座城市推出限定杯。品牌在 12【待核实】座城市推出限定杯。"
    assert len(repeats(marked)) == 1
    # parallel sentences with their own results are not a loop
    assert not repeats("6月，门店客流同比增长12%。7月，门店客流同比增长15%。")


def test_a_short_last_line_after_a_finished_sentence_is_cut_off() -> None:
    assert [i.text for i in cut_off("活动带动了门店客流。\n鼓励不同")] == ["鼓励不同"]
    assert not cut_off("提升认知度\n拉动客流")  # a list of short lines


def test_figures_the_brief_does_not_hold_and_the_fact_they_change() -> None:
    found = foreign_figures("10 月：推出会员专享的夜间观星营，新增会员 15万人。", BRIEF)
    assert [(i.text, i.detail) for i in found] == [
        ("10", "7 月：推出会员专享的夜间观星营"),
        ("15万", "新增会员：12.6万人"),
    ]
    assert [i.detail for i in foreign_figures("营地里新建了 20 个淋浴间。", BRIEF)] == [""]
    assert not foreign_figures("新增会员 12.6 万人，合作营地 38 个；12【待核实】座城市。", BRIEF)


def test_a_thousands_comma_does_not_split_a_figure() -> None:
    brief = brief_from_dict({"results": [{"measure": "排查隐患", "value": "3,200处"}]})
    assert not foreign_figures("排查隐患 3,200处。", brief)
    assert not moved_figures("排查隐患 3,200处。", brief)


def test_a_quoted_name_the_brief_spells_otherwise_or_never_gives() -> None:
    brief = brief_from_dict({"creative": ["发起“晒出你的城市夏天”话题。"]})
    found = unknown_names("发起“晒出你的城市之夏”话题和#夏日狂欢节#，“晒出你的城市夏天”。", brief)
    assert [(i.text, i.detail) for i in found] == [
        ("“晒出你的城市之夏”", "晒出你的城市夏天"),
        ("#夏日狂欢节#", ""),
    ]


def test_two_brief_facts_joined_by_a_colon_keep_their_own_figures() -> None:
    brief = brief_from_dict(
        {
            "strategy": ["线上、线下、小程序三段联动。"],
            "creative": ["为 12 座城市各推出一款限定杯。"],
        }
    )
    assert not moved_figures("小程序三段联动：为 12 座城市各推出一款限定杯。", brief)


def test_a_garbled_brand_in_quotes_is_a_changed_name_a_quoted_figure_or_note_is_none() -> None:
    brief = brief_from_dict({"brand": "口袋健身房"})
    found = unknown_names(
        "「古日健身房」上线打卡。「12」不在简报中。【待补充：「市场环境」的信息】", brief
    )
    assert [(i.text, i.detail) for i in found] == [("「古日健身房」", "口袋健身房")]
