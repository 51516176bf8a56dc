"""The copy guard: sentences copied from another case or from the prompt leave the draft."""

from __future__ import annotations

from analyzer.drafting.guards.copyguard import (
    MIN_RUN,
    Source,
    case_names,
    check_copies,
)
from analyzer.drafting.repairs.names import restore_names, restore_rare_chars

CASE = (
    "随着垃圾分类政策推行，各种帮助分类垃圾的手段层出不穷，瞬间引发全民议论。华为云为此举办垃圾"
    "分类 AI 开发大赛，通过创造社会价值，传递AI 开发平台普惠易用的卖点。"
)
BRIEF = ["新茶饮品类竞争加剧，夏季是全年销售旺季。", "示例茶饮在华东以外城市的认知度偏低。"]
OWN = [*BRIEF, "金鼠标数字营销大赛", "营销效果与市场反馈", "执行过程/媒体表现"]
SOURCE = Source("2019华为云 AI 大赛数字营销 · 营销背景", CASE, ("华为",))


def test_a_sentence_sharing_a_long_run_with_an_exemplar_is_dropped() -> None:
    text = "新茶饮品类竞争加剧，夏季是全年销售旺季。随着垃圾分类政策推行，各种手段层出不穷。\n示例茶饮要提升认知度。"
    check = check_copies(text, [SOURCE], OWN)
    assert check.text == "新茶饮品类竞争加剧，夏季是全年销售旺季。\n示例茶饮要提升认知度。"
    (flag,) = check.flags
    assert flag.reason == "copied" and flag.detail.startswith("随着垃圾分类政策推行")
    assert "照抄了范例「2019华为云 AI 大赛数字营销 · 营销背景」" in flag.describe("营销背景")


def test_runs_the_brief_or_the_award_holds_are_not_copies() -> None:
    case = "金鼠标数字营销大赛营销效果与市场反馈：新茶饮品类竞争加剧，夏季是全年销售旺季。"
    text = "在金鼠标数字营销大赛中，新茶饮品类竞争加剧，夏季是全年销售旺季。"
    assert check_copies(text, [Source("x", case)], OWN).flags == ()


def test_a_run_shorter_than_the_measured_minimum_is_not_a_copy() -> None:
    short = CASE[: MIN_RUN - 1]  # "随着垃圾分类政策" minus one character
    assert check_copies(f"{short}，示例茶饮也受影响。", [SOURCE], OWN).flags == ()


def test_a_sentence_naming_the_exemplar_s_brand_is_dropped() -> None:
    check = check_copies("示例茶饮学习华为的做法。示例茶饮要提升认知度。", [SOURCE], OWN)
    assert check.text == "示例茶饮要提升认知度。"
    assert [(f.reason, f.detail) for f in check.flags] == [("name", "华为")]


def test_mostly_copied_text_is_reported_as_such() -> None:
    check = check_copies(CASE, [SOURCE], OWN)
    assert check.mostly_copied and check.text == ""


def test_prompt_echoes_are_dropped_as_prompt_copies() -> None:
    prompt = Source(
        "提示词",
        "请把下面的要点改写成正文：保留要点中的所有数字，不添加要点里没有的内容。",
        kind="prompt",
    )
    check = check_copies("示例茶饮要提升认知度。保留要点中的所有数字。", [prompt], OWN)
    assert check.text == "示例茶饮要提升认知度。" and check.flags[0].reason == "prompt"
    assert not check.mostly_copied  # the prompt is not an exemplar


def test_case_names_come_from_fields_title_and_latin_product_names() -> None:
    names = case_names(
        "2019华为云 AI 大赛数字营销", "让华为云 ModelArts 成为开发者首选。", ["华为"]
    )
    assert "华为" in names and "ModelArts" in names and "AI" not in names


def test_an_altered_brand_name_is_put_back() -> None:
    brief = "示例茶饮在华东以外城市的认知度偏低。夏季是全年销售旺季。新茶饮品类竞争加剧。"
    text, notes = restore_names("样本茶饮推出夏季茶饮，成为新茶饮的代表。", ["示例茶饮"], brief)
    assert text == "示例茶饮推出夏季茶饮，成为新茶饮的代表。"
    assert notes == ["「样本茶饮」已改回简报中的「示例茶饮」"]
    # "家新茶饮" looks like an altered 示例茶饮, but 新茶饮 is the brief's own word
    same = "示例茶饮是一家新茶饮品牌。"
    assert restore_names(same, ["示例茶饮"], brief) == (same, [])


def test_a_brief_character_garbled_into_a_rare_one_is_put_back() -> None:
    brief = "- UGC 晒杯笔记：4.6万篇（来源：小红书后台数据）\n用户晒杯可领取下一杯优惠。"
    text, notes = restore_rare_chars("带动阅读量、UGC 晲杯笔记和门店客流。", brief)
    assert text == "带动阅读量、UGC 晒杯笔记和门店客流。"
    assert notes == ["「晲」已改回简报中的「晒」（UGC 晒杯笔记和）"]
    # kept: a rare character the brief itself uses, one whose neighbours the brief does not
    # hold, and one whose neighbours the brief holds around two different characters
    assert restore_rare_chars("UGC 晲杯笔记", "UGC 晲杯笔记")[1] == []
    assert restore_rare_chars("一场晲光秀", brief)[1] == []
    assert restore_rare_chars("用户晲杯", "用户晒杯，用户举杯")[1] == []
    common = "UGC 晴杯笔记"  # 晴 is a common character: a real word, not a garbled one
    assert restore_rare_chars(common, brief) == (common, [])
