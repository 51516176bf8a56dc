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


MARKDOWNISH = """### 传播策略
大赛以**公益**为主线，联动开发者与市民。
- 线上：**ModelArts** 平台开放训练数据【待核实】
* 线下：深圳、上海两地工作坊
1. 预热：七夕发布悬念视频
2. 引爆：城管局联合发布

（1）这是中文的分项写法，照原样保留。
| 指标 | 数值 | 来源 |
|---|---|---|
| 曝光 | 3000 万+ | 华为云后台 |
| 参赛团队 | 500 支 | 【待补充：来源】 |
3. 复盘：发布白皮书
**小结**
"""


def markdownish() -> DraftDocument:
    return sample().with_section("strategy", MARKDOWNISH)


def debris(text: str) -> list[str]:
    """What an award form must never print: Markdown syntax taken literally."""
    found = [t for t in ("###", "**", "|---", "```") if t in text]
    found += [line for line in text.splitlines() if line.lstrip().startswith(("- ", "* "))]
    return found


def test_word_has_real_lists_bold_subheadings_and_tables_no_markdown(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(export_draft(markdownish(), tmp_path / "entry.docx")))
    body = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert debris(body + "\n" + cells) == []
    by_text = {p.text: p for p in doc.paragraphs}
    assert by_text["传播策略"].style.name == "Heading 2"
    assert by_text["小结"].style.name == "Heading 2"
    bullets = [p for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert [p.text for p in bullets] == [
        "线上：ModelArts 平台开放训练数据【待核实】",
        "线下：深圳、上海两地工作坊",
    ]
    numbered = [p for p in doc.paragraphs if p.style.name == "List Number"]
    assert [p.text for p in numbered] == [
        "预热：七夕发布悬念视频",
        "引爆：城管局联合发布",
        "复盘：发布白皮书",
    ]
    # the list after the table goes on at 3, the one before starts at 1: two numberings
    ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert ids[0] == ids[1] != ids[2]
    numbering = doc.part.numbering_part.element
    starts = {
        int(n.get(qn("w:numId"))): n.find(f"{qn('w:lvlOverride')}/{qn('w:startOverride')}")
        for n in numbering.findall(qn("w:num"))
    }
    assert starts[ids[0]].get(qn("w:val")) == "1" and starts[ids[2]].get(qn("w:val")) == "3"
    bold = [r.text for p in doc.paragraphs for r in p.runs if r.bold]
    assert "公益" in bold and "ModelArts" in bold
    assert "（1）这是中文的分项写法，照原样保留。" in by_text  # prose enumeration kept
    data = doc.tables[1]
    assert [c.text for c in data.rows[2].cells] == ["参赛团队", "500 支", "【待补充：来源】"]
    marked = [
        r.text
        for t in doc.tables
        for row in t.rows
        for c in row.cells
        for p in c.paragraphs
        for r in p.runs
        if r.font.highlight_color is not None
    ]
    assert marked == ["【待补充：来源】"]


def test_word_footer_numbers_pages_and_the_field_table_keeps_its_widths(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(export_draft(sample(), tmp_path / "entry.docx")))
    footer = doc.sections[0].footer.paragraphs[0]
    fields = [t.text.strip() for t in footer._p.iter(qn("w:instrText"))]
    assert fields == ["PAGE", "NUMPAGES"] and footer.text.startswith("第 ")
    table = doc.tables[0]._tbl
    assert table.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
    assert table.tblPr.find(qn("w:tblW")).get(qn("w:type")) == "dxa"
    grid = [int(c.get(qn("w:w"))) for c in table.tblGrid.findall(qn("w:gridCol"))]
    assert grid[0] < grid[1] and abs(sum(grid) - 16 * 567) < 10
    for row in doc.tables[0].rows:
        widths = [int(c._tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for c in row.cells]
        assert widths == grid


def test_word_sets_chinese_as_the_east_asian_language(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(export_draft(sample(), tmp_path / "entry.docx")))
    for name in ("Normal", "Heading 1", "Title", "List Bullet"):
        lang = doc.styles[name].element.rPr.find(qn("w:lang"))
        assert lang is not None and lang.get(qn("w:eastAsia")) == "zh-CN", name
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    assert defaults.find(f".//{qn('w:lang')}").get(qn("w:eastAsia")) == "zh-CN"
    theme = doc.settings.element.find(qn("w:themeFontLang"))
    assert theme is not None and theme.get(qn("w:eastAsia")) == "zh-CN"


def test_html_and_markdown_render_the_same_structure() -> None:
    page = to_html(markdownish())
    assert "<h3>传播策略</h3>" in page and "<ul><li>线上：<b>ModelArts</b>" in page
    assert "<ol><li>预热" in page and "<ol start='3'><li>复盘" in page
    assert "<table class='data'" in page and "<th>指标</th>" in page
    assert "**" not in page and "###" not in page
    md = to_markdown(markdownish())
    assert "### 传播策略\n\n大赛以**公益**为主线" in md
    assert "- 线上：**ModelArts** 平台开放训练数据【待核实】\n- 线下：" in md
    assert "| 指标 | 数值 | 来源 |\n| --- | --- | --- |\n| 曝光 |" in md
    assert "3. 复盘：发布白皮书" in md and "* 线下" not in md


def test_pending_marks_are_listed_and_an_export_can_refuse_them(tmp_path: Path) -> None:
    from analyzer.documents.export import pending_marks
    from analyzer.errors import PendingMarksError

    marks = pending_marks(markdownish())
    assert [(m.where, m.mark) for m in marks] == [
        ("策略与创意", "【待核实】"),
        ("策略与创意", "【待补充：来源】"),
        ("营销效果与市场反馈", "【待核实】"),
        ("营销效果与市场反馈", "【待补充：转化数据】"),
    ]
    assert "训练数据【待核实】" in marks[0].context
    target = tmp_path / "entry.docx"
    with pytest.raises(PendingMarksError, match="还有 4 处") as refused:
        export_draft(markdownish(), target, refuse_pending=True)
    assert len(refused.value.marks) == 4 and not target.exists()
    clean = DraftDocument.new("golden_mouse", title="干净的稿子").with_section(
        "background", "正文。"
    )
    assert export_draft(clean, target, refuse_pending=True).exists()


def test_cli_exports_lists_marks_and_refuses_when_asked(tmp_path: Path, capsys: Any) -> None:
    from docx import Document

    from analyzer.cli import main
    from analyzer.documents.document import save_draft

    draft = save_draft(markdownish(), tmp_path / "d.awdraft")
    assert main(["export", str(draft), str(tmp_path / "entry.docx")]) == 0
    err = capsys.readouterr().err
    assert "还有 4 处待核实/待补充" in err and "策略与创意：" in err and "**" not in err
    assert Document(str(tmp_path / "entry.docx")).paragraphs[0].text == "华为云 AI 垃圾分类大赛"
    code = main(["export", str(draft), str(tmp_path / "strict.docx"), "--refuse-pending"])
    err = capsys.readouterr().err
    assert code == 1 and "PendingMarksError" in err and "未导出" in err
    assert not (tmp_path / "strict.docx").exists()
    assert main(["export", str(draft), str(tmp_path / "entry.pdf")]) == 1
    assert "桌面应用" in capsys.readouterr().err
