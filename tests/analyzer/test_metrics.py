"""Quantified results found in entry text: the figures a user sees listed under each case."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.errors import SchemaError
from analyzer.library.measurewords import measures
from analyzer.library.metrics import extract_metrics, parse_number
from analyzer.library.textclean import clean_text


def one(text: str):
    found = extract_metrics(text)
    assert len(found) == 1, [(m.text, m.measure) for m in found]
    return found[0]


# text, figure as written, value, unit, bound, measure
FIGURES = [
    ("整体 Campaign 曝光量 3000 万+，", "3000 万+", 30_000_000, "", "lower", "曝光"),
    ("平均阅读量 10w+", "10w+", 100_000, "", "lower", "阅读"),
    ("平均阅读量 10W+", "10W+", 100_000, "", "lower", "阅读"),
    ("新增粉丝 10k", "10k", 10_000, "", "exact", "粉丝"),
    ("获取到近万个图片信息", "近万个", 10_000, "个", "approx", "参与"),
    ("官方微博收获上万转发", "上万", 10_000, "", "lower", "互动"),
    ("大赛微博话题阅读量过百万", "过百万", 1_000_000, "", "lower", "阅读"),
    ("话题阅读量超百万", "超百万", 1_000_000, "", "lower", "阅读"),
    ("现已对接超过 20+ 主流媒体", "超过 20+", 20, "", "lower", "媒体"),
    ("吸引报名参赛队伍 8000+，", "8000+", 8000, "", "lower", "参与"),
    ("带来超5.5亿的点击", "超5.5亿", 5.5e8, "", "lower", "点击"),
    ("5.5亿流量转化", "5.5亿", 5.5e8, "", "exact", "转化"),
    ("带来超450亿的曝光", "超450亿", 4.5e10, "", "lower", "曝光"),
    ("月活用户数超5.4亿", "超5.4亿", 5.4e8, "", "lower", "用户"),
    ("两个视频获得 100 万+曝光量", "100 万+", 1_000_000, "", "lower", "曝光"),
    ("H5 的 PV 超过10 万+。", "超过10 万+", 100_000, "", "lower", "阅读"),
    ("官博收获超过上万转评赞", "超过上万", 10_000, "", "lower", "互动"),
    ("360覆盖全国98%的网民", "98%", 98.0, "%", "exact", "覆盖"),
    ("CPL 实际完成率 114%，", "114%", 114.0, "%", "exact", "转化"),
    ("在CSDN专栏我们一共引流74957人。", "74957人", 74957, "人", "exact", "参与"),
    ("获得有效阅读数47847141次", "47847141次", 47_847_141, "次", "exact", "阅读"),
    ("评论数4952次", "4952次", 4952, "次", "exact", "互动"),
    ("曝光频次 7 次内 UV 占比高", "7 次内", 7, "次", "upper", "频次"),
    ("发布相关推送近 10 条，", "近 10 条", 10, "条", "approx", "媒体"),
    ("累计观看 500万人次", "500万人次", 5_000_000, "人次", "exact", "阅读"),
    ("月收入高于5000人民币", "高于5000人民币", 5000, "元", "lower", "其他"),
    ("销售额 1.2亿元", "1.2亿元", 1.2e8, "元", "exact", "销量"),
    ("投放预算 200 万元", "200 万元", 2_000_000, "元", "exact", "其他"),
    ("平均客单价80元", "80元", 80, "元", "exact", "销量"),
    ("1000多人参与", "1000多人", 1000, "人", "lower", "参与"),
    ("阅读数 12345", "12345", 12345, "", "exact", "阅读"),
    ("曝光量３０００万＋", "３０００万＋", 30_000_000, "", "lower", "曝光"),
    # traditional characters: kept as written, read as their simplified forms
    ("整體曝光量 3000 萬+", "3000 萬+", 30_000_000, "", "lower", "曝光"),
    ("帶來超5.5億的點擊", "超5.5億", 5.5e8, "", "lower", "点击"),
    ("官方微博收穫上萬轉發", "上萬", 10_000, "", "lower", "互动"),
    ("獲取到近萬個圖片信息", "近萬個", 10_000, "个", "approx", "参与"),
    ("話題閱讀量 10w+", "10w+", 100_000, "", "lower", "阅读"),
    ("兩千萬曝光", "兩千萬", 20_000_000, "", "exact", "曝光"),
    # magnitudes with 个 and 多/余 inside, small numbers with a qualifier
    ("1个亿曝光", "1个亿", 1e8, "", "exact", "曝光"),
    ("两个亿曝光", "两个亿", 2e8, "", "exact", "曝光"),
    ("一千多万阅读", "一千多万", 10_000_000, "", "lower", "阅读"),
    ("视频播放1000多万次", "1000多万次", 10_000_000, "次", "lower", "阅读"),
    ("十余家媒体报道", "十余家", 10, "家", "lower", "媒体"),
    ("上百家媒体报道", "上百家", 100, "家", "lower", "媒体"),
    ("一百多人参与", "一百多人", 100, "人", "lower", "参与"),
]


@pytest.mark.parametrize(("text", "written", "value", "unit", "bound", "measure"), FIGURES)
def test_figures_are_normalized(text, written, value, unit, bound, measure):
    m = one(text)
    assert (m.text, m.value, m.unit, m.bound, m.measure) == (written, value, unit, bound, measure)
    assert text[m.start : m.end] == m.text


# text, value, bound, measure, change, label
PERCENTAGES = [
    ("CTR 平均提升 24%+。", 24.0, "lower", "点击", "increase", "CTR"),
    ("提升 24%+", 24.0, "lower", "增长", "increase", "提升"),
    ("同比增长157%", 157.0, "exact", "增长", "increase", "同比增长"),
    ("OTT 端平均频次下降 17%", 17.0, "exact", "频次", "decrease", "频次"),
    ("TAUV%提升 48%", 48.0, "exact", "覆盖", "increase", "TAUV%"),
    ("助力各大电商达成超50%的同比增长", 50.0, "lower", "增长", "increase", "同比增长"),
    ("占有率提升至 48%", 48.0, "exact", "份额", "", "占有率"),  # a level reached, not a change
]


@pytest.mark.parametrize(("text", "value", "bound", "measure", "change", "label"), PERCENTAGES)
def test_percentages_keep_their_percent_number_and_say_which_way(
    text, value, bound, measure, change, label
):
    m = one(text)
    assert (m.value, m.unit, m.bound, m.measure, m.change, m.label) == (
        value,
        "%",
        bound,
        measure,
        change,
        label,
    )


def test_range_and_its_neighbour_in_one_clause():
    low, rng = extract_metrics("曝光频次 7 次内 UV 占比 91%~100%；")
    assert (low.value, low.bound, low.measure) == (7, "upper", "频次")
    assert (rng.text, rng.value, rng.upper, rng.unit, rng.bound) == (
        "91%~100%",
        91,
        100,
        "%",
        "range",
    )
    assert rng.measure == "覆盖" and rng.label == "UV"


def test_more_specific_measure_beats_growth_in_the_same_clause():
    m = one("月活用户数同比增长 157%")
    assert (m.measure, m.change, m.label) == ("用户", "increase", "月活用户数")


def test_items_separated_by_dunhao_each_get_their_own_measure():
    found = extract_metrics("评论4952次、转发57206次、点赞25042次")
    assert [(m.value, m.label) for m in found] == [(4952, "评论"), (57206, "转发"), (25042, "点赞")]
    shared = one("收获上万转发、评论及点赞")
    assert (shared.measure, shared.label) == ("互动", "转发")


def test_figure_before_and_after_its_label_in_one_clause():
    a, b = extract_metrics("3000万曝光 50万点击")
    assert (a.measure, b.measure) == ("曝光", "点击")


def test_an_enumeration_carries_on_the_measure_of_its_first_figure():
    found = extract_metrics("移动认证已接入内外部也为共2206个,其中外部业务1896个,内部业务310个。")
    assert [(m.value, m.measure) for m in found] == [(2206, "用户"), (1896, "用户"), (310, "用户")]


def test_a_slide_number_alone_on_its_line_belongs_to_the_line_above():
    m = extract_metrics("共为合作伙伴带来超5.5亿的点击\n5,500,000,000+\n不完全统计")[-1]
    assert (m.text, m.value, m.bound, m.measure) == ("5,500,000,000+", 5.5e9, "lower", "点击")


def test_offsets_count_from_base_and_section_is_left_to_the_caller():
    (m,) = extract_metrics("曝光量 3000 万+", base=100)
    assert (m.start, m.end, m.section) == (104, 111, "")


NOT_METRICS = [
    "执行时间：2019.07.12-09.19",
    "执行时间:2018/04~2019/03",
    "曝光 2018年12月",
    "双十一周期提前至10月20日开始",
    "设定周期(9月12日—10月27日)中",
    "执行时间：2017.10.10-11.12",
    "作者:17PR 2018-12-24 16:31:28",
    "在11.11之前曝光",
    "双十一当天",
    "双11曝光",
    "2019华为云 AI 大赛",
    "2017年用户",
    "自2009年第一届天猫购物节以来",
    "第 11 届金鼠标数字营销大赛",
    "1、大赛+公益",
    "(1).发现:信息",
    "第一步,覆盖",
    "① 从用户来说",
    "在为期一个半月的CSDN专栏",
    "提供24小时的舆论监控",
    "为期一年",
    "视频链接：https://v.qq.com/x/page/i09090v7gwg.html",
    "https://v.youku.com/v_show/id_XMzgwNDI4MTY2OA==.html?spm=a2hzp.8244740.0.0",
    "曝光 XMzgwNDI4MTY2OA==",
    "微信截图_20180926094621.png",
    "微信截图_20180921105942.png图片4.png",
    "H5 曝光",
    "使用4G网络访问",
    "5G用户",
    "Top200业务",
    "Top5",
    "B端用户 C端用户",
    "AI 点击",
    "PDB+PD 资源",
    "OTT 端",
    "咨询报名 13812345678",
    "阅读电话 010-12345678",
    "在双十一的第一个小时用户就完成了1/5的下单",
    "前3名",
    "千万不要错过",
    "千人千面",
    "对每日亿级流量进行实时呈现",
    "奶粉 3000",  # a bare number with no unit or measure word
    "360行为链大数据",
    "数据：项目流程持续安全运转，100%保证服务安全。",  # a promise, not a result (seed 002)
    "确保 95% 的到达率",
    "十多年的积累",
    "几十年如一日",
    "差不多万事俱备",
    "男女比例 1:1",
    "10:30 开播",
]


@pytest.mark.parametrize("text", NOT_METRICS)
def test_dates_ordinals_urls_names_and_bare_numbers_are_not_metrics(text):
    assert extract_metrics(text) == []


@pytest.mark.parametrize(
    ("text", "written", "value"),
    [("ROI 1:5", "1:5", 5), ("ROI 达 1:5.3", "1:5.3", 5.3), ("投资回报 ROI 为1：12", "1：12", 12)],
)
def test_roi_is_a_ratio_kept_as_its_second_term(text, written, value):
    m = one(text)
    assert (m.text, m.value, m.unit, m.measure, m.bound) == (
        written,
        value,
        "ratio",
        "转化",
        "exact",
    )


def test_issue_forms_stay_normalized_in_traditional_text():
    text = (
        "整體曝光量 3000 萬+，話題閱讀量 10w+，收穫上萬轉發，獲取到近萬個圖片，帶來超5.5億的點擊。"
    )
    found = [(m.text, m.value, m.measure) for m in extract_metrics(text)]
    assert found == [
        ("3000 萬+", 3e7, "曝光"),
        ("10w+", 1e5, "阅读"),
        ("上萬", 1e4, "互动"),
        ("近萬個", 1e4, "参与"),
        ("超5.5億", 5.5e8, "点击"),
    ]


def test_masking_keeps_offsets_after_glued_file_names():
    (m,) = extract_metrics("微信截图_20180921105942.png图片4.png 曝光 3000万")
    assert (m.text, m.value, m.measure) == ("3000万", 3e7, "曝光")


def test_only_the_real_figure_comes_out_next_to_names():
    assert [m.text for m in extract_metrics("Top200业务已接入27家(Top5接入2家)")] == ["27家", "2家"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3000 万", 3e7),
        ("10w", 1e5),
        ("5.5亿", 5.5e8),
        ("5,500,000,000", 5.5e9),
        ("近万", 1e4),
        ("上万", 1e4),
        ("百万", 1e6),
        ("1.1亿", 1.1e8),
        ("３０００万", 3e7),
        ("3千万", 3e7),
        ("一亿五千万", 1.5e8),
        ("10k", 1e4),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "abc", "曝光", "91%~100%"])
def test_parse_number_says_none_for_non_numbers(text):
    assert parse_number(text) is None


def test_measures_vocabulary_has_the_canonical_measures():
    vocab = measures()
    assert set(vocab) >= {
        "曝光",
        "阅读",
        "点击",
        "转化",
        "参与",
        "互动",
        "销量",
        "增长",
        "认知",
        "用户",
        "粉丝",
        "覆盖",
        "频次",
        "媒体",
        "其他",
    }
    assert "CTR" in vocab["点击"] and "CPL" in vocab["转化"] and "TAUV" in vocab["覆盖"]


def test_a_team_can_add_its_own_keywords(tmp_path, monkeypatch):
    (tmp_path / "measures.toml").write_text(
        'fallback = []\n[measures]\n"下载" = ["安装包"]\n"其他" = []\n', encoding="utf-8"
    )
    monkeypatch.setenv("AWARD_WRITER_TEMPLATES", str(tmp_path))
    assert one("安装包 5 万").measure == "下载"
    assert measures() == {"下载": ("安装包",), "其他": ()}


def test_a_broken_vocabulary_names_the_file(tmp_path, monkeypatch):
    (tmp_path / "measures.toml").write_text("[measures]\n曝光 = ", encoding="utf-8")
    monkeypatch.setenv("AWARD_WRITER_TEMPLATES", str(tmp_path))
    with pytest.raises(SchemaError, match=r"measures\.toml"):
        extract_metrics("曝光 5 万")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(text):
    for m in extract_metrics(text, base=7):
        assert text[m.start - 7 : m.end - 7] == m.text


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet="0123456789,.%+~-万亿千百十近上超过约内个次人元wk曝光阅读同比增长提升 \n：第年月日/、"
    )
)
def test_never_raises_on_number_like_text(text):
    for m in extract_metrics(text):
        assert text[m.start : m.end] == m.text and m.value == m.value  # not NaN


# What the seeds' results paragraphs must yield: (figure as written, value, measure).
SEED_RESULTS: dict[str, list[tuple[str, float, str]]] = {
    "000": [
        ("8000+", 8000, "参与"),
        ("近万个", 1e4, "参与"),
        ("3000 万+", 3e7, "曝光"),
        ("100 万+", 1e6, "曝光"),
        ("超过10 万+", 1e5, "阅读"),
    ],
    "001": [
        ("74957人", 74957, "参与"),
        ("47847141次", 47847141, "阅读"),
        ("4952次", 4952, "互动"),
        ("57206次", 57206, "互动"),
        ("25042次", 25042, "互动"),
        ("2206个", 2206, "用户"),
        ("超5.4亿", 5.4e8, "用户"),
        ("157%", 157, "增长"),
        ("超1.1亿", 1.1e8, "用户"),
        ("120%", 120, "增长"),
        ("超5.8亿", 5.8e8, "用户"),
        ("241%", 241, "增长"),
    ],
    "002": [
        ("超过 20+", 20, "媒体"),
        ("48%", 48, "覆盖"),
        ("17%", 17, "频次"),
        ("7 次内", 7, "频次"),
        ("91%~100%", 91, "覆盖"),
        ("114%", 114, "转化"),
        ("24%+", 24, "点击"),
    ],
    "003": [
        ("98%", 98, "覆盖"),
        ("超450亿", 4.5e10, "曝光"),
        ("5.5亿", 5.5e8, "转化"),
        ("超50%", 50, "增长"),
        ("超5.5亿", 5.5e8, "点击"),
        ("5,500,000,000+", 5.5e9, "点击"),
        ("80万+", 8e5, "其他"),
    ],
}


@pytest.mark.parametrize("seed", sorted(SEED_RESULTS))
def test_seed_results_come_out_with_their_measures(seeds, seed):
    text = clean_text(seeds[seed].read_text(encoding="utf-8"))
    found = {(m.text, m.value, m.measure) for m in extract_metrics(text)}
    missing = [r for r in SEED_RESULTS[seed] if r not in found]
    assert not missing


@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "004"])
def test_no_date_year_ordinal_or_url_comes_out_of_a_seed(seeds, seed):
    raw = seeds[seed].read_text(encoding="utf-8")
    for text in (raw, clean_text(raw)):
        for m in extract_metrics(text):
            assert not (m.unit == "" and m.value.is_integer() and 1900 <= m.value <= 2099), m
            assert not any(ch in m.text for ch in "年月日届第/:"), m
            assert m.measure, m


def test_small_chinese_numbers_after_a_qualifier_and_more_units():
    from analyzer.library.metrics import extract_metrics

    found = {
        m.text: (m.value, m.bound)
        for m in extract_metrics(
            "报道的媒体近百家，每年近五十个奖项，颁出27座金奖，建成书屋58间，募集图书12.6万册，近十年来。"
        )
    }
    assert found == {
        "近百家": (100.0, "approx"),
        "近五十个": (50.0, "approx"),
        "27座": (27.0, "exact"),
        "58间": (58.0, "exact"),
        "12.6万册": (126000.0, "exact"),
    }
