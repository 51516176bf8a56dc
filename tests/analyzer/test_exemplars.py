"""Exemplar choice: only really similar cases, own industry first; outlines carry no content."""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.drafting.exemplars import choose, industries_match, outline

QUERY = (
    "“一杯夏天”城市限定季\n新茶饮品类竞争加剧，夏季是全年销售旺季，各品牌集中推出季节限定产品。\n"
    "示例茶饮在华东以外城市的认知度偏低，年轻消费者对品牌缺乏记忆点。"
)
TEA = (
    "奶茶行业进入存量竞争，各品牌夏季纷纷推出季节限定饮品。某茶饮品牌门店集中在一线城市，"
    "在下沉市场知名度不高，年轻消费者对品牌印象模糊。"
)
CLOUD = (
    "随着垃圾分类政策推行，各种帮助分类垃圾的手段层出不穷，瞬间引发全民议论。华为云为此举办垃圾"
    "分类 AI 开发大赛，通过创造社会价值，传递AI 开发平台普惠易用的卖点。"
)
CAR = "该系统是基于上汽通用营销数字化战略升级的定制化需求打造而成，提供定制化的流量优化算法与逻辑。"


@dataclass(frozen=True)
class Passage:
    title: str
    section_title: str
    text: str
    industry: str = ""


def test_only_a_really_similar_case_is_kept() -> None:  # the bundled e5 embedder, for real
    cloud = Passage("华为云 AI 大赛", "营销背景", CLOUD, "科技")
    car = Passage("上汽通用智能营销中枢", "营销背景", CAR, "汽车行业")
    tea = Passage("另一家茶饮的夏季活动", "营销背景", TEA)
    kept, dropped = choose(QUERY, [cloud, car, tea], k=2, industry="餐饮/新茶饮")
    assert [c.exemplar for c in kept] == [tea]
    assert {c.exemplar for c in dropped} == {cloud, car}


def test_a_case_of_the_brief_s_industry_comes_first() -> None:
    same = Passage("同行业", "营销背景", TEA, "餐饮")
    other = Passage("别的行业", "营销背景", TEA, "")
    kept, _ = choose(
        QUERY, [other, same], k=2, industry="餐饮/新茶饮", similarity=lambda q, t: [0.05, 0.05]
    )
    assert [c.exemplar for c in kept] == [same, other]


def test_without_an_embedder_only_the_same_industry_is_trusted() -> None:
    same = Passage("同行业", "营销背景", TEA, "餐饮")
    other = Passage("别的行业", "营销背景", TEA, "科技")
    kept, _ = choose(
        QUERY, [other, same], k=2, industry="餐饮/新茶饮", similarity=lambda q, t: None
    )
    assert [c.exemplar for c in kept] == [same]


def test_industries_match_by_their_parts() -> None:
    assert industries_match("餐饮/新茶饮", "餐饮")
    assert industries_match("汽车", "汽车行业")
    assert not industries_match("科技", "汽车行业") and not industries_match("", "科技")


def test_an_outline_shows_the_shape_without_numbers_or_content() -> None:
    text = "策略：\n1、大赛+公益：在赛事流程设置上，为普通民众创造机会。\n2、多渠道引爆：在多社媒平台宣传。"
    shape = outline(text)
    assert "分段叙述" in shape and "「大赛+公益」「多渠道引爆」" in shape
    assert "普通民众" not in shape and not any(ch.isdigit() for ch in shape)
