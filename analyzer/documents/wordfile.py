"""A draft as a Word document laid out like an award entry form (python-docx).

Word's own styles carry the structure (Title, Heading 1 per section, Heading 2 inside one, List
Bullet / List Number, a table for header fields), so the navigation pane, a table of contents
and a reviewer's "styles" view all see it. Chinese is set where Word and LibreOffice look for
it: East Asian fonts (宋体 body, 黑体 headings) and the East Asian language zh-CN on the styles
(line breaking and the spell checker follow it). The header table's column widths are written
three times over (table width, grid, each cell) with a fixed layout, so LibreOffice keeps them
instead of sizing columns to their text. Every page has its number in the footer (PAGE and
NUMPAGES fields: 第 3 页 / 共 7 页).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from analyzer.documents.blocks import Block, Run, blocks, lists

if TYPE_CHECKING:
    from analyzer.documents.document import DraftDocument

BODY_FONT = "SimSun"  # 宋体: what award forms are usually typeset in
HEADING_FONT = "SimHei"  # 黑体
LATIN_FONT = "Times New Roman"
EAST_ASIA_LANG = "zh-CN"
LABEL_CM, VALUE_CM = 3.5, 12.5  # the header table's columns: 16 cm, the A4 text width
TWIPS_PER_CM = 567


def _fonts(rpr: Any, east_asia: str) -> Any:
    from docx.oxml.ns import qn

    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), east_asia)
    return fonts


def _set_lang(rpr: Any) -> None:
    from docx.oxml.ns import qn

    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), EAST_ASIA_LANG)


def _run(paragraph: Any, run: Run, size_pt: float, font: str = BODY_FONT) -> Any:
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import Pt

    out = paragraph.add_run(run.text)
    out.font.name = LATIN_FONT
    out.font.size = Pt(size_pt)
    if run.bold:
        out.bold = True
    if run.mark:
        out.font.highlight_color = WD_COLOR_INDEX.YELLOW
    _fonts(out._element.get_or_add_rPr(), font)
    return out


def _runs(
    paragraph: Any,
    runs: tuple[Run, ...],
    size_pt: float = 12,
    bold: bool = False,
    font: str = BODY_FONT,
) -> None:
    for r in runs:
        _run(paragraph, Run(r.text, r.bold or bold, r.mark), size_pt, font)


def _style(
    doc: Any,
    name: str,
    east_asia: str,
    size_pt: float,
    *,
    bold: bool = False,
    color: tuple[int, int, int] = (0, 0, 0),
) -> Any:
    """Give one of Word's built-in styles the award form's look, CJK font and language
    included. Their theme fonts would override the explicit ones, and a theme has no Chinese
    font worth the name: they are removed."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    style = doc.styles[name]
    style.font.name = LATIN_FONT
    style.font.size = Pt(size_pt)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(*color)
    rpr = style.element.get_or_add_rPr()
    fonts = _fonts(rpr, east_asia)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    _set_lang(rpr)
    color_el = rpr.find(qn("w:color"))
    if color_el is not None:  # an explicit colour, not the theme's
        for attr in ("w:themeColor", "w:themeShade", "w:themeTint"):
            color_el.attrib.pop(qn(attr), None)
    ppr = style.element.get_or_add_pPr()
    border = ppr.find(qn("w:pBdr"))
    if border is not None:  # Title's blue rule under it
        ppr.remove(border)
    return style


def _document_language(doc: Any) -> None:
    """zh-CN as the East Asian language of the defaults and of the settings' theme fonts."""
    from docx.oxml.ns import qn

    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        rpr = None if rpr_default is None else rpr_default.find(qn("w:rPr"))
        if rpr is not None:
            _set_lang(rpr)
    settings = doc.settings.element
    theme = settings.find(qn("w:themeFontLang"))
    if theme is None:
        theme = settings.makeelement(qn("w:themeFontLang"), {})
        settings.append(theme)
    theme.set(qn("w:val"), "en-US")
    theme.set(qn("w:eastAsia"), EAST_ASIA_LANG)


def _field(paragraph: Any, instruction: str, size_pt: float) -> None:
    """A field (PAGE, NUMPAGES) as Word writes one: begin, instruction, separate, result, end."""
    from docx.oxml.ns import qn

    def piece(tag: str, **attrs: str) -> None:
        run = _run(paragraph, Run(""), size_pt)
        el = run._element.makeelement(qn(tag), {qn(k): v for k, v in attrs.items()})
        if tag == "w:instrText":
            el.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            el.text = f" {instruction} "
        run._element.append(el)

    piece("w:fldChar", **{"w:fldCharType": "begin"})
    piece("w:instrText")
    piece("w:fldChar", **{"w:fldCharType": "separate"})
    _run(paragraph, Run("1"), size_pt)  # shown until the viewer updates the field
    piece("w:fldChar", **{"w:fldCharType": "end"})


def _footer(section: Any) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, Run("第 "), 9)
    _field(paragraph, "PAGE", 9)
    _run(paragraph, Run(" 页 / 共 "), 9)
    _field(paragraph, "NUMPAGES", 9)
    _run(paragraph, Run(" 页"), 9)


def _shade(cell: Any, fill: str) -> None:
    from docx.oxml.ns import qn

    tcpr = cell._element.get_or_add_tcPr()
    shd = tcpr.makeelement(
        qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): fill}
    )
    tcpr.append(shd)


def _fixed_widths(table: Any, widths_cm: tuple[float, ...]) -> None:
    """Column widths that hold in Word and LibreOffice: fixed layout, table width, grid, cells."""
    from docx.oxml.ns import qn
    from docx.shared import Cm

    table.autofit = False  # w:tblLayout w:type="fixed"
    tblpr = table._tbl.tblPr
    tblw = tblpr.find(qn("w:tblW"))
    if tblw is None:
        tblw = tblpr.makeelement(qn("w:tblW"), {})
        tblpr.append(tblw)
    tblw.set(qn("w:w"), str(round(sum(widths_cm) * TWIPS_PER_CM)))
    tblw.set(qn("w:type"), "dxa")
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)  # w:gridCol
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)  # w:tcW


def _header_table(doc: Any, rows: list[tuple[str, str]]) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT

    from analyzer.documents.blocks import runs

    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for (key, value), row in zip(rows, table.rows, strict=True):
        _shade(row.cells[0], "E7E6E6")
        _run(row.cells[0].paragraphs[0], Run(key, bold=True), 10.5, HEADING_FONT)
        _runs(row.cells[1].paragraphs[0], runs(value), 10.5)
    _fixed_widths(table, (LABEL_CM, VALUE_CM))


def _numbering(doc: Any, start: int) -> int:
    """A new numbering instance of the List Number style's list, starting at ``start``: every
    numbered list of the entry counts from its own first item, not on from the list before."""
    numbering = doc.part.numbering_part.numbering_definitions._numbering
    style_num = doc.styles["List Number"].element.pPr.numPr.numId.val
    abstract = numbering.num_having_numId(style_num).abstractNumId.val
    num = numbering.add_num(abstract)
    override = num.add_lvlOverride(ilvl=0)
    override.add_startOverride(start)
    return int(num.numId)


def _list_item(doc: Any, block: Block, num_id: int | None) -> None:
    style = "List Bullet" if block.kind == "bullet" else "List Number"
    paragraph = doc.add_paragraph(style=style)
    paragraph.paragraph_format.line_spacing = 1.5
    if num_id is not None:
        numpr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        numpr.get_or_add_ilvl().val = 0
        numpr.get_or_add_numId().val = num_id
    _runs(paragraph, block.runs)


def _table(doc: Any, block: Block) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT

    width = max(len(r) for r in block.rows)
    table = doc.add_table(rows=len(block.rows), cols=width)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, (cells, row) in enumerate(zip(block.rows, table.rows, strict=True)):
        for cell_runs, cell in zip(cells, row.cells, strict=False):
            _runs(cell.paragraphs[0], cell_runs, 10.5, bold=i == 0)
        if i == 0:
            for cell in row.cells:
                _shade(cell, "F2F2F2")
    _fixed_widths(table, tuple([(LABEL_CM + VALUE_CM) / width] * width))
    doc.add_paragraph()


def _section_body(doc: Any, text: str) -> None:
    from docx.shared import Pt, RGBColor

    parsed = blocks(text)
    if not parsed:
        p = doc.add_paragraph()
        _run(p, Run("（未填写）"), 12).font.color.rgb = RGBColor(0x88, 0x88, 0x88)
        return
    for group in lists(parsed):
        first = group[0]
        if first.kind == "heading":
            p = doc.add_paragraph(style="Heading 2")
            _runs(p, first.runs, 12, font=HEADING_FONT)
        elif first.kind == "table":
            _table(doc, first)
        elif first.kind in ("bullet", "number"):
            num_id = _numbering(doc, first.start) if first.kind == "number" else None
            for item in group:
                _list_item(doc, item, num_id)
        else:
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(24)  # two characters
            p.paragraph_format.line_spacing = 1.5
            _runs(p, first.runs)


def to_docx_bytes(
    draft: DraftDocument, title: str, award: str, rows: list[tuple[str, str]]
) -> bytes:
    """The draft as a Word document: ``title`` and ``award`` on top, header ``rows`` in a table,
    then every section under its heading."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)  # A4
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)
    doc.core_properties.title = title
    doc.core_properties.subject = award
    doc.core_properties.language = EAST_ASIA_LANG
    _document_language(doc)

    _style(doc, "Normal", BODY_FONT, 12)
    title_style = _style(doc, "Title", HEADING_FONT, 18, bold=True)
    title_style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title_style.paragraph_format.space_after = Pt(6)
    subtitle = _style(doc, "Subtitle", BODY_FONT, 10.5, color=(0x55, 0x55, 0x55))
    subtitle.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle.paragraph_format.space_after = Pt(12)
    for name, size in (("Heading 1", 14), ("Heading 2", 12)):
        heading_style = _style(doc, name, HEADING_FONT, size, bold=True)
        heading_style.paragraph_format.space_before = Pt(12)
        heading_style.paragraph_format.space_after = Pt(6)
        heading_style.paragraph_format.keep_with_next = True
    for name in ("List Bullet", "List Number", "Footer"):
        _style(doc, name, BODY_FONT, 9 if name == "Footer" else 12)
    _footer(section)

    doc.add_paragraph(title, style="Title")
    doc.add_paragraph(award, style="Subtitle")
    if rows:
        _header_table(doc, rows)
        doc.add_paragraph()
    for s in draft.sections:
        doc.add_paragraph(s.title, style="Heading 1")
        _section_body(doc, s.text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
