from __future__ import annotations

from analyzer.library.textclean import clean_text
from analyzer.zh.fold import fold


def test_stray_spaces_inside_chinese_words_go_latin_spacing_stays():
    assert clean_text("广 告 主：华为 云 AI 大赛") == "广告主：华为云 AI 大赛"


def test_image_names_and_page_residue_go():
    raw = "项目调研:\n微信截图_20180926094621.png\n正文一段。\n图片5.png\n- 3 -\n第 2 页\n5.png\n结束。"
    assert clean_text(raw) == "项目调研:\n正文一段。\n结束。"


def test_full_width_digits_become_ascii():
    assert clean_text("曝光量３０００万＋，提升２４％") == "曝光量3000万+，提升24%"


def test_hard_wrapped_pdf_lines_are_joined_but_headings_are_not():
    line = "这是一行被排版软件在固定宽度处折断的正文内容，它没有句末标点所以"
    raw = "\n\n".join(
        [line + "还没有", "说完。", "营销目标", line + "还在", "继续说。"] + [line + "。"] * 6
    )
    out = clean_text(raw).split("\n")
    assert out[0] == line + "还没有说完。"
    assert out[1] == "营销目标"
    assert out[2] == line + "还在继续说。"


def test_fold_keeps_length():
    assert fold("營銷背景") == "营销背景"
    assert len(fold("廣告主：華為")) == len("廣告主：華為")


# A page of hard-wrapped PDF text: every full line is 30 characters, no sentence ends at a break.
FULL = "这是一行被排版软件在固定宽度处折断的正文内容它还没有句末标点"  # 30 characters
assert len(FULL) == 30


def _wrapped(*lines: str) -> str:
    return "\n".join([*lines, *[FULL[:-1] + "。"] * 6])


def test_digits_broken_over_a_line_are_one_number_again():
    out = clean_text(_wrapped(FULL[:-5] + "转发数57", "206次，点赞数25042次。"))
    assert out.split("\n")[0] == FULL[:-5] + "转发数57206次，点赞数25042次。"


def test_latin_words_broken_over_a_line_keep_their_space_and_decimals_none():
    out = clean_text(
        _wrapped(
            FULL[:-7] + "华为云 ModelArts", "平台成为首选。", FULL[:-4] + "占比11", ".5%，其余。"
        )
    )
    lines = out.split("\n")
    assert lines[0] == FULL[:-7] + "华为云 ModelArts平台成为首选。"
    assert lines[1] == FULL[:-4] + "占比11.5%，其余。"


def test_a_heading_ending_in_a_colon_is_not_glued_to_the_paragraph_before():
    out = clean_text(_wrapped(FULL, "传播执行:", FULL, "营销效果：曝光 3000 万+。"))
    assert out.split("\n")[:4] == [FULL, "传播执行:", FULL, "营销效果：曝光 3000 万+。"]


def test_header_field_lines_stay_one_per_line():
    out = clean_text(
        _wrapped(
            FULL,
            "所属行业：科技",
            FULL,
            "执行时间：2019.07.12-09.19",
            FULL,
            "参选类别：社会化营销类",
        )
    )
    assert out.split("\n")[:6] == [
        FULL,
        "所属行业：科技",
        FULL,
        "执行时间：2019.07.12-09.19",
        FULL,
        "参选类别：社会化营销类",
    ]


def test_a_heading_of_any_award_is_not_glued_even_when_long():
    out = clean_text(
        _wrapped(
            FULL,
            "营销效果与市场反馈",
            FULL,
            "【项目评估】项目整体达成了客户所指定的传播目标，获得好评。",
        )
    )
    assert out.split("\n")[:4] == [
        FULL,
        "营销效果与市场反馈",
        FULL,
        "【项目评估】项目整体达成了客户所指定的传播目标，获得好评。",
    ]


def test_a_line_starting_with_a_comma_continues_the_one_before():
    out = clean_text(_wrapped(FULL[:-10] + "已接入27家(Top5接入2家)", "，另有19家正在调测。"))
    assert out.split("\n")[0] == FULL[:-10] + "已接入27家(Top5接入2家)，另有19家正在调测。"


def test_a_long_hard_wrapped_text_is_one_paragraph():
    # joining builds the paragraph from pieces: 20,000 wrapped lines are as quick as 20
    out = clean_text("\n".join([FULL] * 20_000 + ["结束。"]))
    assert out == FULL * 20_000 + "结束。"


def test_web_page_residue_goes_and_the_text_stays():
    raw = "\n".join(
        [
            '——宜昌“納涼公交”現象級傳播事件的經驗與啟示"/>',
            "最新资讯_行业动态_综合新闻_热门推荐_精选专题_今日头条_更多资讯",
            "艾菲新闻 当前位置:首页 > 艾菲新闻",
            "鐵甲工程機械網> 工程機械資訊> 行業 > 江南最美路",
            "上传人:风*** 文档编号:64759006 上传时间:2022-03-22 格式:DOC 页数:6 大小:53KB",
            "公关技能竞赛策划书_第1页",
            "第1页 / 共6页",
            "已阅读5页,还剩6页未读 继续免费阅读",
            "发布时间：2023-10-12   来源：某营销周刊   浏览：1204",
            "/ 01 /",
            "第一章 案例背景编辑本段回目录",
            "挑戰(zhàn)、背景及目標(biāo)",
            "結果……………………………………………..30%",
            "效果：销量增长46%（数据来源：电商后台），搜索指数提升72%（数据来源：百度指数）。",
            "- END -",
        ]
    )
    assert clean_text(raw).split("\n") == [
        "第一章案例背景",
        "挑戰、背景及目標",
        "結果…30%",
        "效果：销量增长46%（数据来源：电商后台），搜索指数提升72%（数据来源：百度指数）。",
    ]


def test_a_title_that_looks_like_markup_is_text_not_residue():
    assert clean_text("<script>alert(1)</script> 城市瓶") == "<script>alert(1)</script> 城市瓶"
