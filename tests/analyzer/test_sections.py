"""Every heading form real entries use, and header fields in their forms."""

from __future__ import annotations

import pytest

from analyzer.library.parse import parse_text
from analyzer.library.sections import parse_period, period_problem

BODY = "这是一段足够长的正文内容，用来说明本节讲了什么。"


def _keys(text: str, award: str | None = None) -> list[str]:
    return [s.key for s in parse_text(text, award=award).sections]


GM = ["background", "objectives", "strategy", "execution", "results"]


@pytest.mark.parametrize(
    "fmt",
    [
        "{h}",  # alone on a line
        "{h}：",  # trailing full-width colon
        "{h}:",  # trailing ASCII colon
        "【{h}】",  # in brackets
        "## {h}",  # markdown
        ">{h}",  # prefixed
        "- ◆ {h}",  # bullets
        "**{h}**",  # bold
    ],
)
def test_heading_forms_alone(fmt):
    titles = ["营销背景", "营销目标", "策略与创意", "执行过程/媒体表现", "营销效果与市场反馈"]
    text = "\n".join(f"{fmt.format(h=t)}\n{BODY}" for t in titles)
    assert _keys(text) == GM


def test_numbered_headings():
    text = "\n".join(
        f"{n}{t}\n{BODY}"
        for n, t in zip(
            ["一、", "二、", "三、", "四、", "五、"],
            ["营销背景", "营销目标", "策略与创意", "执行过程", "营销效果"],
            strict=True,
        )
    )
    assert _keys(text) == GM
    text = "\n".join(
        f"{i}. {t}\n{BODY}"
        for i, t in enumerate(["营销背景", "营销目标", "策略与创意", "媒体表现", "市场反馈"], 1)
    )
    assert _keys(text) == GM


def test_heading_with_text_after_colon_starts_the_section():
    doc = parse_text(f"营销背景：{BODY}\n营销目标：提升认知。\n策略与创意：{BODY}")
    assert [s.key for s in doc.sections] == ["background", "objectives", "strategy"]
    assert doc.section("objectives").text == "提升认知。"


def test_run_in_headings_without_a_break():
    text = (
        "背景与挑战公益活动地球一小时在中国已经举办多年，公众参与度逐年下降。\n"
        "洞察与策略年轻人愿意为看得见的改变行动。\n"
        "将创意付诸实践我们把熄灯变成一场线上接力。\n"
        "效果：参与人数 120 万+，同比增长 35%。"
    )
    doc = parse_text(text, award="effie")
    assert [s.key for s in doc.sections] == ["challenge", "insight", "ideas", "results"]
    assert doc.sections[0].title == "背景与挑战"
    assert doc.sections[0].text.startswith("公益活动地球一小时")


def test_run_in_example_of_the_issue_is_read_without_naming_the_award():
    text = (
        "背景与挑战公益活动地球一小时在中国已经举办多年，公众参与度逐年下降。\n"
        "洞察与策略年轻人愿意为看得见的改变行动。\n"
        "将创意付诸实践我们把熄灯变成一场线上接力。\n"
        "效果：参与人数 120 万+，同比增长 35%。"
    )
    doc = parse_text(text)
    assert doc.award == "effie"
    assert [(s.key, s.title) for s in doc.sections] == [
        ("challenge", "背景与挑战"),
        ("insight", "洞察与策略"),
        ("ideas", "将创意付诸实践"),
        ("results", "效果"),
    ]


def test_a_body_sentence_starting_with_a_section_name_is_not_a_heading():
    text = (
        f"营销背景\n{BODY}\n营销目标\n{BODY}\n策略与创意\n{BODY}\n执行过程/媒体表现\n{BODY}\n"
        f"营销效果显著，品牌声量大幅提升。\n{BODY}\n营销效果与市场反馈\n报名8000+。"
    )
    doc = parse_text(text)
    assert _keys(text) == GM
    assert doc.section("results").title == "营销效果与市场反馈"
    assert doc.section("results").text == "报名8000+。"
    assert "营销效果显著，品牌声量大幅提升。" in doc.section("execution").text


def test_a_section_name_continuing_into_a_word_is_not_a_heading():
    text = f"营销背景\n营销目标人群主要为年轻开发者，他们很活跃。\n{BODY}\n营销目标\n{BODY}\n策略与创意\n{BODY}"
    doc = parse_text(text)
    assert doc.section("background").text.startswith("营销目标人群主要为年轻开发者")
    assert doc.section("objectives").text == BODY
    text = (
        f"项目概述\n{BODY}\n项目调研\n{BODY}\n项目策划\n项目执行过程中我们坚持每周复盘。\n{BODY}\n"
        f"项目执行\n{BODY}\n项目评估\n{BODY}"
    )
    doc = parse_text(text)
    assert [s.key for s in doc.sections] == [
        "overview",
        "research",
        "planning",
        "execution",
        "evaluation",
    ]
    assert doc.section("planning").text.startswith("项目执行过程中我们坚持每周复盘。")
    assert doc.section("execution").text == BODY


@pytest.mark.parametrize(
    "sentence", ["营销目标是让更多开发者使用华为云。", "营销效果超出预期，声量大幅提升。"]
)
def test_run_in_false_positive_without_a_real_heading_later(sentence):
    # No better heading follows: the sentence must still not open a section of its own.
    text = f"营销背景随着垃圾分类政策推行，手段层出不穷。\n{sentence}\n策略与创意大赛加公益。"
    doc = parse_text(text, award="golden_mouse")
    assert sentence in doc.section("background").text


def test_a_sub_label_named_like_a_later_section_stays_in_its_section():
    text = (
        f"营销背景\n{BODY}\n营销目标\n{BODY}\n策略与创意\n执行过程：分三步走。\n创意亮点：造词。\n"
        f"执行过程/媒体表现\n媒体表现：全网曝光。\n营销效果：阶段性效果显著。\n{BODY}\n"
        f"营销效果与市场反馈\n{BODY}"
    )
    doc = parse_text(text)
    assert _keys(text) == GM
    assert doc.section("strategy").text == "执行过程：分三步走。\n创意亮点：造词。"
    assert doc.section("execution").title == "执行过程/媒体表现"
    assert (
        doc.section("execution").text == f"媒体表现：全网曝光。\n营销效果：阶段性效果显著。\n{BODY}"
    )
    assert (doc.section("results").title, doc.section("results").text) == (
        "营销效果与市场反馈",
        BODY,
    )


def test_a_short_sub_label_does_not_displace_a_longer_heading_with_text():
    text = f"策略与创意：{BODY}\n策略：\n大赛加公益。\n执行：线上线下联动。\n效果：报名 8000+。"
    doc = parse_text(text, award="generic")
    assert doc.section("strategy").title == "策略与创意"
    assert doc.section("strategy").text.startswith(BODY)


def test_entries_of_other_awards_are_generic_not_forced_into_an_award():
    doc = parse_text(
        f"金网奖参赛\n客户：某品牌\n背景\n{BODY}\n洞察\n{BODY}\n策略\n{BODY}\n执行\n{BODY}\n"
        f"效果\n{BODY}\n亮点\n{BODY}"
    )
    assert doc.award == "generic"
    assert [s.key for s in doc.sections] == [
        "background",
        "research",
        "strategy",
        "execution",
        "results",
        "highlights",
    ]
    assert doc.fields == {"广告主": "某品牌"}
    doc = parse_text(
        f"数英奖参赛作品\n项目背景\n{BODY}\n项目目标\n{BODY}\n核心创意\n{BODY}\n执行\n{BODY}\n"
        f"传播效果\n{BODY}"
    )
    assert doc.award == "generic"
    assert [(s.key, s.title) for s in doc.sections] == [
        ("background", "项目背景"),
        ("objectives", "项目目标"),
        ("strategy", "核心创意"),
        ("execution", "执行"),
        ("results", "传播效果"),
    ]


@pytest.mark.parametrize(
    "named, award",
    [
        ("金投赏参赛", "jintou"),
        ("虎啸奖参赛作品", "huxiao"),
        ("第六届中国最佳公共关系案例大赛金奖", "cipra"),
    ],
)
def test_awards_with_a_schema_are_taken_when_named(named, award):
    doc = parse_text(f"{named}\n项目背景\n{BODY}\n项目目标\n{BODY}\n核心创意\n{BODY}\n执行\n{BODY}")
    assert doc.award == award and doc.is_entry
    assert [s.title for s in doc.sections][:1] == ["项目背景"]


def test_a_stated_award_name_wins_over_generic_headings():
    text = f"第 11 届金鼠标数字营销大赛\n背景\n{BODY}\n目标\n{BODY}\n策略与创意\n{BODY}\n执行过程\n{BODY}"
    doc = parse_text(text)
    assert doc.award == "golden_mouse"
    assert [s.key for s in doc.sections] == ["background", "objectives", "strategy", "execution"]


def test_sub_labels_stay_inside_their_section():
    text = (
        f"营销背景\n{BODY}\n营销目标\n{BODY}\n策略与创意\n策略：\n1、大赛+公益。\n创意亮点：\n1、造词。\n"
        f"执行过程/媒体表现\n媒体落地率:95%\n营销效果与市场反馈\n{BODY}"
    )
    doc = parse_text(text)
    assert _keys(text) == GM
    assert "创意亮点：" in doc.section("strategy").text
    assert doc.section("execution").text == "媒体落地率:95%"


def test_traditional_headings_match_simplified_aliases_and_stay_as_written():
    text = (
        "廣告主：華為\n執行時間：2019.07.12-09.19\n營銷背景\n垃圾分類政策推行。\n營銷目標\n提升品牌影響力。\n"
        "策略與創意\n大賽+公益。\n執行過程/媒體表現\n線上線下聯動。\n營銷效果與市場反饋\n報名隊伍 8000+。"
    )
    doc = parse_text(text)
    assert doc.award == "golden_mouse"
    assert [s.key for s in doc.sections] == GM
    assert doc.sections[0].title == "營銷背景"
    assert doc.fields["广告主"] == "華為"
    assert doc.fields["执行时间"] == "2019.07.12-09.19"


@pytest.mark.parametrize(
    "line, value",
    [
        ("广告主：华为", "华为"),
        ("广 告 主：华为", "华为"),
        ("广告主:华为", "华为"),
        ("- ◆ 广告主：华为", "华为"),
        ("项目主体>华为", "华为"),
        ("**广告主**：华为", "华为"),
        ("广告主 | 华为", "华为"),
        ("廣告主：華為", "華為"),
        ("广告客户公司：华为", "华为"),
    ],
)
def test_header_field_forms(line, value):
    doc = parse_text(f"{line}\n营销背景\n{BODY}\n营销目标\n{BODY}", award="golden_mouse")
    assert doc.fields.get("广告主") == value


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2019.07.12-09.19", (2019, 7, 12), (2019, 9, 19)),
        ("2018/04~2019/03", (2018, 4, 1), (2019, 3, 31)),  # a month ends on its last day
        ("2017年10月10日至11月12日", (2017, 10, 10), (2017, 11, 12)),
        ("2019年7月-9月", (2019, 7, 1), (2019, 9, 30)),
        ("2024.01-2024.02", (2024, 1, 1), (2024, 2, 29)),
    ],
)
def test_periods(text, start, end):
    period = parse_period(text)
    assert period is not None and period.start == start and period.end == end


@pytest.mark.parametrize(
    "text, problem",
    [
        ("2023.06.01-至今", "ongoing"),
        ("2023.08.31-2023.06.01", "reversed"),
        ("2023.02.30-2023.03.01", "no_date"),
        ("7月-9月", "no_year"),
        ("去年夏天", "malformed"),
    ],
)
def test_why_a_period_is_not_one(text, problem):
    assert parse_period(text) is None and period_problem(text) == problem


@pytest.mark.parametrize("text", ["2019", "去年", "2019.13.01-2019.14.01", "2019.09.01-2019.08.01"])
def test_not_periods(text):
    assert parse_period(text) is None


def test_several_header_fields_on_one_line_and_names_of_other_forms_kept_as_written():
    doc = parse_text(
        f"案例名称：城市夏天  品牌：示例茶饮  获奖类别：社会化营销\n申报单位：某公司\n"
        f"营销背景\n{BODY}\n营销目标\n{BODY}",
        award="golden_mouse",
    )
    assert doc.fields["参选类别"] == "社会化营销"  # 获奖类别 is the category the entry won in
    assert doc.fields["案例名称"] == "城市夏天" and doc.fields["申报单位"] == "某公司"
    assert doc.field_value("category") == "社会化营销"
    assert doc.field_value("case_name") is None  # not a 金鼠标 field: kept, under its own name
