from __future__ import annotations

from analyzer.textclean import clean_text, fold


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
