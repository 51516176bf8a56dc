"""Exports: Word laid out like an entry form, Markdown, print-ready HTML; marks stay visible."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from analyzer.documents.document import DraftDocument
from analyzer.documents.export import export_draft, to_html, to_markdown


def sample() -> DraftDocument:
    d = DraftDocument.new("golden_mouse", title="华为云 AI 垃圾分类大赛")
    d = replace(d, fields={**d.fields, "advertiser": "华为", "category": "社会化营销类"})
    d = d.with_section("background", "第一段。\n第二段。")
    return d.with_section("results", "曝光 3000 万【待核实】，转化【待补充：转化数据】。")


def test_docx_has_title_field_table_and_section_headings(tmp_path: Path) -> None:
    from docx import Document

    path = export_draft(sample(), tmp_path / "entry.docx")
    doc = Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "华为云 AI 垃圾分类大赛"
    assert "营销背景" in texts and "营销效果与市场反馈" in texts
    assert texts.index("第一段。") == texts.index("营销背景") + 1
    table = doc.tables[0]
    assert [(r.cells[0].text, r.cells[1].text) for r in table.rows] == [
        ("广告主", "华为"),
        ("参选类别", "社会化营销类"),
    ]
    marked = [r for p in doc.paragraphs for r in p.runs if r.font.highlight_color is not None]
    assert [r.text for r in marked] == ["【待核实】", "【待补充：转化数据】"]
    body = next(p for p in doc.paragraphs if p.text == "第一段。")
    rpr = body.runs[0]._element.rPr
    assert rpr is not None and rpr.rFonts is not None
    assert rpr.rFonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")


def test_docx_structure_uses_words_title_and_heading_styles(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(export_draft(sample(), tmp_path / "entry.docx")))

    def style(p: Any) -> str:
        return p.style.name if p.style is not None else ""

    styles = {p.text: style(p) for p in doc.paragraphs if p.text}
    assert styles["华为云 AI 垃圾分类大赛"] == "Title"  # what the navigation pane and a TOC see
    headings = [p.text for p in doc.paragraphs if style(p) == "Heading 1"]
    assert headings == [s.title for s in sample().sections]
    for name, font in (("Title", "SimHei"), ("Heading 1", "SimHei"), ("Normal", "SimSun")):
        fonts = doc.styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == font  # Chinese headings in 黑体, body in 宋体
        assert fonts.get(qn("w:eastAsiaTheme")) is None  # no theme font overriding it
    assert doc.styles["Heading 1"].font.color.rgb == (0, 0, 0)
    assert len(doc.tables) == 1  # the header-field table stays


def test_markdown_keeps_structure_and_paragraphs() -> None:
    md = to_markdown(sample())
    assert md.startswith("# 华为云 AI 垃圾分类大赛\n")
    assert "| 广告主 | 华为 |" in md
    assert "## 营销背景\n\n第一段。\n\n第二段。" in md
    assert "## 营销目标\n\n（未填写）" in md


def test_html_highlights_fact_guard_marks() -> None:
    page = to_html(sample())
    assert '<span class="mark">【待核实】</span>' in page
    assert "<h2>营销效果与市场反馈</h2>" in page


def test_unknown_format_is_refused_up_front(tmp_path: Path) -> None:
    from analyzer.errors import DraftError

    with pytest.raises(DraftError, match=r"\.odt"):
        export_draft(sample(), tmp_path / "entry.odt")


def test_a_pdf_text_map_is_corrected_in_both_cmap_forms() -> None:
    from analyzer.documents.export import remap_cmap

    cmap = (
        "2 beginbfchar\n<0003> <2FA6>\n<0004> <9F20>\nendbfchar\n"
        "2 beginbfrange\n<0000> <0000> <0009>\n<0001> <0002> [<2F24> <8D5B>]\nendbfrange\n"
    )
    real = {"\u2fa6": "金", "\u2f24": "大", "\t": " "}
    fixed, n = remap_cmap(cmap, real.get)
    assert n == 3
    assert "<0003> <91D1>" in fixed and "<0004> <9F20>" in fixed  # 金; 鼠 untouched
    assert "<0000> <0000> <0020>" in fixed
    assert "[<5927> <8D5B>]" in fixed  # 大 赛
