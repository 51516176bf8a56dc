"""Heading phrases: made of the vocabulary of kinds.toml, classified by their last kind word."""

from __future__ import annotations

import pytest

from analyzer.library.vocab import leading_phrase, read_phrase, trailing_phrase


@pytest.mark.parametrize(
    "title, kind",
    [
        ("营销诉求", "objectives"),
        ("活动策划", "strategy"),
        ("时间规划", "execution"),  # the longer word wins over 规划 (strategy)
        ("合作亮点", "highlights"),
        ("资料保存", "results"),
        ("传播策略", "strategy"),  # the last kind word decides
        ("传播效果", "results"),
        ("背景介绍", "background"),  # a suffix rounds it off
        ("品牌行动背景及概述", "background"),  # an overview word after another is no kind
        ("挑戰、背景及目標", "background"),  # traditional, coordinated
        ("目標及KPI概述", "objectives"),
        ("將創意付諸實踐", "execution"),  # an award's own title
        ("第一阶段", None),
    ],
)
def test_kinds_of_heading_phrases(title, kind):
    phrase = read_phrase(title)
    assert (phrase.kind if phrase else None) == kind


@pytest.mark.parametrize(
    "text",
    [
        "执行时间",  # a modifier after the kind word: a field's name
        "天风证券作为金融行业新锐代表的品牌传播需要",  # a sentence
        "评论功能一直是传播重点",
        "、营销策略",  # a list item, not a heading
        "品牌理念、",
        "营销趋势洞见",  # 趋势: not a heading word
    ],
)
def test_phrases_that_are_not_headings(text):
    assert read_phrase(text) is None


def test_the_phrase_at_the_end_or_the_start_of_a_run_of_text():
    assert trailing_phrase("中国移动背景介绍") == (4, read_phrase("背景介绍"))
    found = leading_phrase("背景与挑战公益活动地球一小时", min_chars=4)
    assert found is not None and found[0] == 5
    assert leading_phrase("项目目标 8月5日") == (4, read_phrase("项目目标"))
