"""The fact guard: numbers from the brief pass in any notation, every other number is flagged."""

from __future__ import annotations

from analyzer.brief import Brief, ResultRow
from analyzer.factguard import MARK, allowed_values, figures, guard

BRIEF = Brief(
    period="2024.05-2024.08",
    background=("全国约 600 家门店",),
    results=(
        ResultRow("微博话题阅读量", "3.2亿", "微博话题页，截至 2024-08-31"),
        ResultRow("门店客流同比增长", "27%", "POS"),
        ResultRow("入户体检", "1.8万户"),
        ResultRow("排查隐患", "3,200处"),
    ),
)
ALLOWED = allowed_values(BRIEF)


def test_brief_numbers_pass_in_any_notation() -> None:
    text = "话题阅读量达32000万次，客流增长27%，入户18000户，排查3200处隐患，覆盖600家门店。"
    out, flags = guard(text, ALLOWED, section="results")
    assert out == text and flags == ()


def test_dates_of_the_brief_period_pass() -> None:
    text = "活动自2024年5月启动，于2024年8月收官。"
    assert guard(text, ALLOWED)[1] == ()


def test_invented_numbers_are_marked_and_listed() -> None:
    text = "曝光量超过1.5亿次，粉丝增长50万。\n话题阅读量3.2亿，投入三千万元。"
    out, flags = guard(text, ALLOWED, section="results")
    assert (
        out
        == f"曝光量超过1.5亿{MARK}次，粉丝增长50万{MARK}。\n话题阅读量3.2亿，投入三千万{MARK}元。"
    )
    assert [(f.section, f.text, f.action) for f in flags] == [
        ("results", "1.5亿", "marked"),
        ("results", "50万", "marked"),
        ("results", "三千万", "marked"),
    ]
    assert "粉丝增长50万" in flags[1].context
    assert "1.5亿" in flags[0].describe("营销效果") and "营销效果" in flags[0].describe("营销效果")


def test_remove_mode_deletes_the_number() -> None:
    out, flags = guard("新增会员8万人。", ALLOWED, remove=True)
    assert out == "新增会员人。" and flags[0].action == "removed"


def test_list_markers_ordinals_and_number_words_are_not_facts() -> None:
    text = "1. 第3阶段上线，三大平台同步，百度指数上涨，千万不要错过。\n2、万一下雨照常进行。"
    assert guard(text, frozenset())[1] == ()


def test_every_other_arabic_number_counts() -> None:
    found = [f.text for f in figures("覆盖12座城市，投放24小时，CTR 3.5%，10w+阅读，ＲＯＩ为４倍")]
    assert found == ["12", "24", "3.5%", "10w+", "４倍"]
