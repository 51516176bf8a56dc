"""Export a draft: Word (.docx, laid out like an award entry form), Markdown, and HTML.

The HTML is self-contained and print-ready; the desktop app turns it into PDF with Qt (the core
never imports Qt). Fact-guard marks (``【待核实】``, ``【待补充：…】``) are kept and highlighted, so
nothing unverified leaves the app unnoticed.
"""

from __future__ import annotations

import functools
import html
import io
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.atomicfile import atomic_write
from analyzer.errors import DraftError
from analyzer.markers import PENDING

if TYPE_CHECKING:
    from analyzer.documents.document import DraftDocument

# The fact guard's marks, wherever a draft is shown or written (the editor highlights them, the
# exports keep them highlighted): 【待核实】 after an unverified figure, 【待补充：…】 for a gap.


BODY_FONT = "SimSun"  # 宋体: what award forms are usually typeset in
HEADING_FONT = "SimHei"  # 黑体
LATIN_FONT = "Times New Roman"


def _title(draft: DraftDocument) -> str:
    if draft.title.strip():
        return draft.title.strip()
    from analyzer.schema import get_award

    try:
        return f"{get_award(draft.award).name}参赛作品"
    except Exception:
        return "参赛作品"


def _award_name(draft: DraftDocument) -> str:
    from analyzer.schema import get_award

    try:
        return get_award(draft.award).name
    except Exception:
        return draft.award


def _header_rows(draft: DraftDocument) -> list[tuple[str, str]]:
    titles = draft.field_titles()
    return [(titles.get(k, k), v.strip()) for k, v in draft.fields.items() if v.strip()]


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


# ---------------------------------------------------------------------- Markdown


def to_markdown(draft: DraftDocument) -> str:
    out = [f"# {_title(draft)}", ""]
    rows = _header_rows(draft)
    if rows:
        out += ["| 项目 | 内容 |", "| --- | --- |"]
        out += [f"| {k} | {v.replace('|', '／')} |" for k, v in rows]
        out.append("")
    for s in draft.sections:
        out += [f"## {s.title}", ""]
        paragraphs = _paragraphs(s.text)
        out += ["\n\n".join(paragraphs) if paragraphs else "（未填写）", ""]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------- HTML


def _html_text(text: str) -> str:
    out, pos = [], 0
    for m in PENDING.finditer(text):
        out.append(html.escape(text[pos : m.start()]))
        out.append(f'<span class="mark">{html.escape(m.group())}</span>')
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def to_html(draft: DraftDocument) -> str:
    """A print-ready page: title, the header-field table, each section with its heading."""
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{_html_text(v)}</td></tr>"
        for k, v in _header_rows(draft)
    )
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{html.escape(_title(draft))}</title>",
        "<style>",
        "body{font-family:'Noto Serif CJK SC','Source Han Serif SC','SimSun',serif;font-size:11pt;"
        "line-height:1.7;margin:2em auto;max-width:46em;color:#111}",
        "h1{font-family:'Noto Sans CJK SC','SimHei',sans-serif;text-align:center;font-size:18pt}",
        "p.award{text-align:center;color:#555;margin-top:-0.6em}",
        "h2{font-family:'Noto Sans CJK SC','SimHei',sans-serif;font-size:13pt;"
        "border-bottom:1px solid #999;padding-bottom:2px;margin-top:1.4em}",
        "table.fields{border-collapse:collapse;width:100%;margin:1em 0}",
        "table.fields th,table.fields td{border:1px solid #777;padding:4px 8px;text-align:left;"
        "vertical-align:top}",
        "table.fields th{background:#eee;width:7em;white-space:nowrap}",
        "p{text-indent:2em;margin:0.3em 0}",
        ".mark{background:#ffe066}",
        ".empty{color:#888;text-indent:0}",
        "</style></head><body>",
        f"<h1>{html.escape(_title(draft))}</h1>",
        f"<p class='award'>{html.escape(_award_name(draft))}</p>",
    ]
    if rows:
        parts.append(
            f"<table class='fields' border='1' cellspacing='0' cellpadding='4'>{rows}</table>"
        )
    for s in draft.sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        paragraphs = _paragraphs(s.text)
        if not paragraphs:
            parts.append("<p class='empty'>（未填写）</p>")
        parts += [f"<p>{_html_text(p)}</p>" for p in paragraphs]
    parts.append("</body></html>")
    return "\n".join(parts)


# ---------------------------------------------------------------------- Word


def _set_fonts(run: Any, east_asia: str, size_pt: float | None = None, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = LATIN_FONT
    run.bold = bold or None
    if size_pt:
        run.font.size = Pt(size_pt)
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), east_asia)


def _add_runs(paragraph: Any, text: str, size_pt: float = 12) -> None:
    from docx.enum.text import WD_COLOR_INDEX

    pos = 0
    for m in PENDING.finditer(text):
        if m.start() > pos:
            _set_fonts(paragraph.add_run(text[pos : m.start()]), BODY_FONT, size_pt)
        run = paragraph.add_run(m.group())
        _set_fonts(run, BODY_FONT, size_pt)
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        pos = m.end()
    if pos < len(text):
        _set_fonts(paragraph.add_run(text[pos:]), BODY_FONT, size_pt)


def _set_style(
    doc: Any,
    name: str,
    east_asia: str,
    size_pt: float,
    *,
    bold: bool = False,
    color: tuple[int, int, int] = (0, 0, 0),
) -> Any:
    """Give one of Word's built-in styles the award form's look, CJK font included.

    Word's own Title/Heading styles are used (not bold Normal paragraphs), so the navigation
    pane and a table of contents see the structure. Their theme fonts would override the
    explicit ones, and a theme has no Chinese font worth the name: they are removed.
    """
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    style = doc.styles[name]
    style.font.name = LATIN_FONT
    style.font.size = Pt(size_pt)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(*color)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    color_el = rpr.find(qn("w:color"))
    if color_el is not None:  # an explicit colour, not the theme's
        for attr in ("w:themeColor", "w:themeShade", "w:themeTint"):
            color_el.attrib.pop(qn(attr), None)
    ppr = style.element.get_or_add_pPr()
    border = ppr.find(qn("w:pBdr"))
    if border is not None:  # Title's blue rule under it
        ppr.remove(border)
    return style


def _shade(cell: Any, fill: str) -> None:
    from docx.oxml.ns import qn

    tcpr = cell._element.get_or_add_tcPr()
    shd = tcpr.makeelement(
        qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): fill}
    )
    tcpr.append(shd)


def to_docx_bytes(draft: DraftDocument) -> bytes:
    """The draft as a Word document laid out like an entry form."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)  # A4
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)
    doc.core_properties.title = _title(draft)
    doc.core_properties.subject = _award_name(draft)

    _set_style(doc, "Normal", BODY_FONT, 12)
    title_style = _set_style(doc, "Title", HEADING_FONT, 18, bold=True)
    title_style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title_style.paragraph_format.space_after = Pt(6)
    subtitle = _set_style(doc, "Subtitle", BODY_FONT, 10.5, color=(0x55, 0x55, 0x55))
    subtitle.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle.paragraph_format.space_after = Pt(12)
    for name, size in (("Heading 1", 14), ("Heading 2", 12)):
        heading_style = _set_style(doc, name, HEADING_FONT, size, bold=True)
        heading_style.paragraph_format.space_before = Pt(12)
        heading_style.paragraph_format.space_after = Pt(6)
        heading_style.paragraph_format.keep_with_next = True

    doc.add_paragraph(_title(draft), style="Title")
    doc.add_paragraph(_award_name(draft), style="Subtitle")

    rows = _header_rows(draft)
    if rows:
        table = doc.add_table(rows=len(rows), cols=2)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for (key, value), row in zip(rows, table.rows, strict=True):
            row.cells[0].width, row.cells[1].width = Cm(3.5), Cm(12.5)
            _shade(row.cells[0], "E7E6E6")
            _set_fonts(row.cells[0].paragraphs[0].add_run(key), HEADING_FONT, 10.5, bold=True)
            _add_runs(row.cells[1].paragraphs[0], value, 10.5)
        doc.add_paragraph()

    for s in draft.sections:
        doc.add_paragraph(s.title, style="Heading 1")
        paragraphs = _paragraphs(s.text)
        if not paragraphs:
            p = doc.add_paragraph()
            run = p.add_run("（未填写）")
            _set_fonts(run, BODY_FONT, 12)
            run.font.color.rgb = RGBColor(0x88, 0x88, 0x88)
        for text in paragraphs:
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(24)  # two characters
            p.paragraph_format.line_spacing = 1.5
            _add_runs(p, text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------- PDF text layer

_HEX = re.compile(r"<([0-9A-Fa-f]+)>")
_BFRANGE = re.compile(r"(beginbfrange)(.*?)(endbfrange)", re.S)
_BFCHAR = re.compile(r"(beginbfchar)(.*?)(endbfchar)", re.S)


def _hex_text(token: str) -> str | None:
    try:
        return bytes.fromhex(token).decode("utf-16-be")
    except ValueError:
        return None


def remap_cmap(cmap: str, fix: Callable[[str], str | None]) -> tuple[str, int]:
    """``cmap`` (a ToUnicode CMap) with each destination text ``fix`` replaces; and how many."""
    changed = 0

    def dest(m: re.Match[str]) -> str:
        nonlocal changed
        text = _hex_text(m.group(1))
        new = fix(text) if text else None
        if not new or new == text:
            return m.group(0)
        changed += 1
        return "<" + new.encode("utf-16-be").hex().upper() + ">"

    def ranges(m: re.Match[str]) -> str:
        lines = []
        for line in m.group(2).splitlines():
            if "[" in line:  # <lo> <hi> [<d1> <d2> …]: one destination per code
                head, _, tail = line.partition("[")
                line = head + "[" + _HEX.sub(dest, tail)
            else:
                tokens = _HEX.findall(line)
                if len(tokens) == 3 and tokens[0] == tokens[1]:  # one code, one destination
                    start = line.rfind("<")
                    line = line[:start] + _HEX.sub(dest, line[start:])
            lines.append(line)
        return m.group(1) + "\n".join(lines) + m.group(3)

    def chars(m: re.Match[str]) -> str:
        lines = []
        for line in m.group(2).splitlines():
            start = line.rfind("<")
            if line.count("<") >= 2:  # <code> <destination>
                line = line[:start] + _HEX.sub(dest, line[start:])
            lines.append(line)
        return m.group(1) + "\n".join(lines) + m.group(3)

    cmap = _BFRANGE.sub(ranges, cmap)
    cmap = _BFCHAR.sub(chars, cmap)
    return cmap, changed


def fix_pdf_text(data: bytes, fix: Callable[[str, str], str | None]) -> bytes:
    """The PDF with its text layer (the fonts' ToUnicode maps) corrected by ``fix``.

    A PDF writer that maps each drawn glyph back to a character through the font's cmap picks
    the lowest code point of a shared glyph: CJK fonts draw 金 and the Kangxi radical ⾦ with one
    glyph, so copying or searching the PDF gave radicals. ``fix(font name, character)`` returns
    the character that was really drawn (or None to keep it); the glyphs are not touched.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    changed = 0
    seen: set[int] = set()
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            to_unicode = font.get(NameObject("/ToUnicode"))
            if to_unicode is None:
                continue
            stream = to_unicode.get_object()
            if id(stream) in seen:
                continue
            seen.add(id(stream))
            name = str(font.get("/BaseFont", "")).lstrip("/")
            name = name.split("+", 1)[-1]  # a subset's ABCDEF+ prefix
            cmap, n = remap_cmap(stream.get_data().decode("latin-1"), functools.partial(fix, name))
            if n:
                stream.set_data(cmap.encode("latin-1"))
                changed += n
    if not changed:
        return data
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ---------------------------------------------------------------------- files

FORMATS = {".docx": "Word", ".md": "Markdown", ".html": "HTML"}


def export_draft(draft: DraftDocument, path: str | os.PathLike[str]) -> Path:
    """Write the draft in the format its suffix names (.docx, .md, .html); atomic."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".docx":
        data = to_docx_bytes(draft)
    elif suffix in (".md", ".markdown"):
        data = to_markdown(draft).encode("utf-8")
    elif suffix in (".html", ".htm"):
        data = to_html(draft).encode("utf-8")
    else:
        raise DraftError(
            f"{target}：不支持导出为 {suffix or '没有扩展名的文件'}，请用 .docx、.md 或 .html"
        )
    atomic_write(target, data)
    return target
