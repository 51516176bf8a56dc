"""The fact guard: numbers from the brief pass in any notation, every other number is flagged."""

from __future__ import annotations

from analyzer.documents.brief import Brief, ResultRow
from analyzer.drafting.guards.factguard import MARK, allowed_values, figures, guard

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


GOLDEN = Brief(
    period="2024.05-2024.08",
    background=("品牌在全国约 600 家门店，其中约一半开业不足两年。",),
    creative=("为 12 座城市各推出一款城市限定杯。",),
    execution=("5 月：预热期。", "6-7 月：爆发期。", "8 月：收官期。"),
    results=(ResultRow("门店客流同比增长", "27%", "POS，截至 2024-08-31"),),
)
GOLDEN_ALLOWED = allowed_values(GOLDEN)


def flagged(text: str, allowed=GOLDEN_ALLOWED) -> list[str]:
    return [f.text for f in guard(text, allowed)[1]]


def test_vague_magnitudes_are_numbers_too() -> None:
    text = "获取近万个图片信息，上万名用户参与，曝光数百万，百万级曝光，千万级流量，曝光破亿，覆盖十余个城市。"
    assert flagged(text) == ["近万", "上万", "数百万", "百万级", "千万级", "破亿", "十余"]


def test_the_brief_s_own_vague_wording_passes() -> None:
    brief = Brief(background=("吸引近万名居民参与。",))
    assert flagged("活动吸引近万名居民参与。", allowed_values(brief)) == []


def test_chinese_counts_without_a_magnitude_are_numbers() -> None:
    text = "覆盖五个城市，举办二十场活动，会员增长三成，转化率提升一倍，为十二座城市推出限定杯。"
    assert flagged(text) == ["五", "二十", "三成", "一倍"]  # 十二座 is the brief's 12 座


def test_ranks_count_and_ordinals_do_not() -> None:
    text = "位列榜单第1名，品类TOP1，行业No.1，排名第三；第3阶段上线。"
    out, flags = guard(text, GOLDEN_ALLOWED)
    assert [f.text for f in flags] == ["第1名", "TOP1", "No.1", "排名第三"]
    assert "第1名【待核实】" in out and "第3阶段上线" in out


def test_a_date_part_of_the_brief_allows_a_date_not_a_count() -> None:
    assert flagged("5月预热，6-7月爆发，8月收官，截至2024年8月31日。") == []
    assert flagged("门店客流增长5倍，覆盖8个城市，连续7天霸榜，覆盖31个城市。") == [
        "5倍",
        "8",
        "7",
        "31",
    ]
    assert flagged("客流增长27倍。") == ["27倍"]  # 27 is a percentage in the brief
    assert flagged("客流增长27个百分点。") == ["27个百分点"]


def test_the_mark_follows_the_whole_number() -> None:
    out, _ = guard("阅读量十万+，转发10w+。", GOLDEN_ALLOWED)
    assert out == f"阅读量十万+{MARK}，转发10w+{MARK}。"


def test_list_markers_stay_exempt_and_words_with_numerals_are_not_numbers() -> None:
    text = "1. 预热\n2、爆发\n推出一款新品，三大平台同步，一二线城市，十分重要。"
    assert flagged(text) == []
