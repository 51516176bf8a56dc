"""The five seeds parse into exactly their sections and fields."""

from __future__ import annotations

import pytest

from analyzer.library.parse import parse_file, parse_text
from analyzer.library.readers import read_document


def test_seed_000_golden_mouse(seeds):
    doc = parse_file(seeds["000"])
    assert doc.award == "golden_mouse" and doc.is_entry
    assert doc.title == "2019华为云 AI 大赛数字营销"
    assert doc.fields == {
        "广告主": "华为",
        "所属行业": "科技",
        "执行时间": "2019.07.12-09.19",
        "参选类别": "社会化营销类",
    }
    assert [(s.key, s.title) for s in doc.sections] == [
        ("background", "营销背景"),
        ("objectives", "营销目标"),
        ("strategy", "策略与创意"),
        ("execution", "执行过程/媒体表现"),
        ("results", "营销效果与市场反馈"),
    ]
    strategy = doc.section("strategy").text
    # sub-labels stay inside their section
    assert strategy.startswith("策略：") and "创意亮点：" in strategy
    results = doc.section("results").text
    assert results.startswith("1、吸引报名参赛队伍 8000+")
    # a sentence a PDF broke over two lines is whole again
    assert "华为云为此举办垃圾分类 AI 开发大赛" in doc.section("background").text


def test_seed_001_jinqi(seeds):
    doc = parse_file(seeds["001"])
    assert doc.award == "jinqi"
    assert doc.title == "中移互联网移动认证社会化传播案例"
    assert doc.fields == {
        "案例名称": "中移互联网移动认证社会化传播案例",
        "执行时间": "2018/04~2019/03",
        "企业名称": "中移互联网有限公司",
        "品牌名称": "移动认证",
        "代理公司": "广州圣达广告有限公司",
        "参评方向": "内容营销、公关活动",
    }
    assert [s.key for s in doc.sections] == [
        "overview",
        "research",
        "planning",
        "execution",
        "evaluation",
        "highlights",
    ]
    assert [s.title for s in doc.sections] == [
        "项目概述",
        "项目调研",
        "项目策划",
        "项目执行",
        "项目评估",
        "项目亮点",
    ]
    research = doc.section("research").text
    assert "挑战:1、国企品牌传播初期" in research  # a sub-label, not a section
    assert "微信截图_" not in doc.text and ".png" not in doc.text


def test_seed_002_golden_mouse_bullets(seeds):
    doc = parse_file(seeds["002"])
    assert doc.award == "golden_mouse"
    assert doc.title == "上汽通用智能营销中枢系统"
    assert doc.fields == {
        "广告主": "上汽通用",
        "所属行业": "汽车行业",
        "执行时间": "2019.01.01-12.01",
        "参选类别": "智能营销类",
    }
    assert [s.key for s in doc.sections] == [
        "background",
        "objectives",
        "strategy",
        "execution",
        "results",
    ]
    assert "TAUV%提升 48%" in doc.section("results").text


def test_seed_003_tma_without_results_heading(seeds):
    doc = parse_file(seeds["003"])
    assert doc.award == "tma"
    assert doc.title == "智能营销揭秘双十一电商狂欢背后的故事"
    assert doc.fields == {
        "所属行业": "电商",
        "执行时间": "2017.10.10-11.12",
        "执行范围": "全国",
        "参选类别": "技术类",
    }
    assert [s.title for s in doc.sections] == [
        "概述",
        "合作背景",
        "市场环境",
        "营销目标",
        "创意",
        "传播执行",
    ]
    # the results sit in the closing paragraphs of 传播执行, with no heading of their own
    assert "超450亿的曝光" in doc.section("execution").text
    assert doc.section("results") is None


def test_seed_004_is_a_reference_document(seeds):
    doc = parse_file(seeds["004"])
    assert doc.award is None and not doc.is_entry
    assert doc.fields == {}
    assert [s.key for s in doc.sections] == ["body"]
    assert doc.title == "AI 赋能的营销科技趋势与实践"
    assert "消費者業務增長" in doc.text  # traditional characters kept as written


def test_a_title_beside_the_award_name_is_the_cases_title():
    """``award-writer draft`` titles its Markdown "<case>｜<award>参赛稿": opened again, the case
    keeps its title; a line that is only the award's name is still no title."""
    body = "\n".join(
        f"## {t}\n{t}的内容写在这里，说明情况。" for t in ("营销背景", "营销目标", "策略与创意")
    )
    doc = parse_text(f"# “一杯夏天”城市限定季｜金鼠标数字营销大赛参赛稿\n\n{body}", name="x.md")
    assert doc.title == "“一杯夏天”城市限定季"
    doc = parse_text(f"第 11 届金鼠标数字营销大赛\n城市夏天整合营销\n\n{body}", name="x.md")
    assert doc.title == "城市夏天整合营销"


def test_forced_award_overrides_the_guess(seeds):
    doc = parse_file(seeds["000"], award="generic")
    assert doc.award == "generic"
    assert {"background", "objectives", "results"} <= {s.key for s in doc.sections}


def test_json_contract(seeds):
    data = parse_file(seeds["002"]).to_json()
    assert set(data) == {"award", "is_entry", "title", "fields", "sections", "headings", "metrics"}
    assert set(data["sections"][0]) == {"key", "kind", "title", "text"}
    assert set(data["headings"][0]) == {"title", "kind", "section", "opens"}
    assert [h["title"] for h in data["headings"]] == [s["title"] for s in data["sections"]]
    assert data["sections"][0]["kind"] == "background"
    assert set(data["metrics"][0]) == {
        "text",
        "value",
        "unit",
        "measure",
        "section",
        "bound",
        "upper",
        "label",
        "change",
        "span",
    }


def _same_parse(a, b):
    """What a user sees of a case: award, fields, section titles, and its results."""
    assert (a.award, a.fields, a.title) == (b.award, b.fields, b.title)
    assert [(s.key, s.title) for s in a.sections] == [(s.key, s.title) for s in b.sections]

    def figures(doc):
        return sorted((m.text.replace(" ", ""), m.value, m.measure, m.section) for m in doc.metrics)

    assert figures(a) == figures(b)


def test_seed_000_in_traditional_characters_and_big5(seeds, tmp_path):
    import zhconv

    simplified = parse_file(seeds["000"])
    # zh-tw: the traditional forms Big5 can encode (zh-hant's 爲 衆 羣 are not in Big5)
    hant = zhconv.convert(seeds["000"].read_text(encoding="utf-8"), "zh-tw")
    path = tmp_path / "000_big5.txt"
    path.write_bytes(hant.encode("big5"))
    doc = parse_file(path)
    assert read_document(path).encoding == "big5"
    assert doc.award == "golden_mouse"
    assert [s.key for s in doc.sections] == [s.key for s in simplified.sections]
    assert doc.sections[0].title == "營銷背景"  # as written
    assert doc.fields["广告主"] == "華為"
    assert doc.fields["执行时间"] == "2019.07.12-09.19"
    # the results are the same numbers with the same measures as in the simplified original
    expect = [(m.value, m.measure, m.section) for m in simplified.metrics]
    assert [(m.value, m.measure, m.section) for m in doc.metrics] == expect
    exposure = next(m for m in doc.metrics if m.value == 30_000_000)
    assert exposure.text == "3000 萬+" and exposure.measure == "曝光" and exposure.bound == "lower"


def _hard_wrapped_pdf(text: str, width: int, per_page: int = 40) -> bytes:
    """The text typeset as a PDF does it: every paragraph broken every ``width`` characters
    (anywhere, even inside a number or a word), pages with a page number at the foot."""
    import io

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 10)
    row, page = 0, 1
    for para in text.split("\n"):
        for i in range(0, len(para), width):
            c.drawString(40, 800 - 16 * row, para[i : i + width])
            row += 1
            if row == per_page:
                c.drawString(290, 30, f"- {page} -")
                c.showPage()
                c.setFont("STSong-Light", 10)
                row, page = 0, page + 1
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize("seed", ["000", "001", "003"])
@pytest.mark.parametrize("width", [29, 36])
def test_hard_wrapped_multi_page_pdf_parses_like_the_text(seeds, tmp_path, seed, width):
    original = parse_file(seeds[seed])
    path = tmp_path / f"{seed}.pdf"
    path.write_bytes(_hard_wrapped_pdf(original.text, width))
    doc = parse_file(path)
    assert doc.text.count("\n") < original.text.count("\n") + 5  # the wrapped lines are joined
    _same_parse(doc, original)


@pytest.mark.parametrize("raw", ["", " ", "\n\n", "\x00\x01", "营销背景", "：：：", "【】"])
def test_degenerate_text_does_not_crash(raw):
    doc = parse_text(raw)
    assert doc.award is None or isinstance(doc.award, str)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from(
    [
        "营销背景",
        "營銷目標",
        "策略与创意",
        "【项目评估】",
        "一、",
        "1.",
        ">",
        "：",
        ":",
        "\n",
        " ",
        "广告主：",
        "执行时间:2019.07.12-09.19",
        "3000 万+",
        "提升 24%+",
        "10w+",
        "近万",
        "同比增长157%",
        "背景与挑战",
        "效果",
        "**",
        "- ◆ ",
        "微信截图_1.png",
        "http://x.cn/a.png",
        "\x00",
        "\ufeff",
        "¥",
        # the forms real pages write (headings, fields, residue)
        "(一)",
        "壹、",
        "01 ",
        "第一章 ",
        "【背景与挑战】",
        "。2.项目目标 ",
        "背景介绍:1)",
        "项目主体> ",
        "获奖类别:",
        "品牌 | ",
        "挑戰(zhàn)",
        "编辑本段回目录",
        "当前位置:首页 > 案例",
        '"/>',
        "……23.3%",
        "概况时间:",
        "营销诉求",
        "资料保存",
        "合作背景 Background",
        "评委将考察",
        "\u3000",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=40))
def test_parser_never_raises_on_any_string(parts):
    text = "".join(parts)
    doc = parse_text(text)
    for section in doc.sections:  # offsets point at the section's text
        assert doc.text[section.start : section.end] == section.text
    for metric in doc.metrics:
        assert 0 <= metric.start <= metric.end <= len(doc.text)
    for heading in doc.headings:  # the heading's words are where it says
        assert 0 <= heading.start <= heading.end <= len(doc.text)
        assert heading.title and heading.title in doc.text
