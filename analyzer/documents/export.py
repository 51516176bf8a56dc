"""Export a draft: Word (.docx, laid out like an award entry form), Markdown, and HTML.

The HTML is self-contained and print-ready; the desktop app turns it into PDF with Qt (the core
never imports Qt). Section text is read as blocks (:mod:`analyzer.documents.blocks`): Markdown a
model or a paste left in it becomes real headings, lists, bold and tables, never literal ``###``,
``**`` or ``- ``. Pending marks (``【待核实】``, ``【待补充：…】``) stay, highlighted, so nothing
unverified leaves unnoticed: :func:`pending_marks` lists them, and ``refuse_pending`` makes an
export refuse while any is left.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.atomicfile import atomic_write
from analyzer.documents.blocks import Block, Run, blocks, lists
from analyzer.documents.pdftext import fix_pdf_text, remap_cmap
from analyzer.documents.wordfile import BODY_FONT, HEADING_FONT, LATIN_FONT
from analyzer.errors import DraftError, PendingMarksError
from analyzer.markers import PENDING

if TYPE_CHECKING:
    from analyzer.documents.document import DraftDocument

__all__ = [
    "BODY_FONT",
    "FORMATS",
    "HEADING_FONT",
    "LATIN_FONT",
    "PendingMark",
    "PendingMarksError",
    "export_draft",
    "fix_pdf_text",
    "pending_marks",
    "remap_cmap",
    "to_docx_bytes",
    "to_html",
    "to_markdown",
]

CONTEXT = 12  # characters shown on each side of a pending mark


@dataclass(frozen=True)
class PendingMark:
    where: str  # the section's title, or the header field's
    mark: str  # 【待核实】, 【待补充：…】
    context: str  # the text around it, with the mark


def pending_marks(draft: DraftDocument) -> list[PendingMark]:
    """Every 【待核实】/【待补充】 left in the draft's header fields and sections, in order."""
    out: list[PendingMark] = []
    titles = draft.field_titles()
    places = [(titles.get(k, k), v) for k, v in draft.fields.items()]
    # the text as the export shows it (no Markdown), so the context reads like the file
    places += [(s.title, "\n".join(b.text for b in blocks(s.text))) for s in draft.sections]
    for where, text in places:
        for m in PENDING.finditer(text):
            start, end = max(0, m.start() - CONTEXT), min(len(text), m.end() + CONTEXT)
            context = " ".join(text[start:end].split())
            prefix = "…" if start else ""
            suffix = "…" if end < len(text) else ""
            out.append(PendingMark(where, m.group(), f"{prefix}{context}{suffix}"))
    return out


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


# ---------------------------------------------------------------------- Markdown


def _md_runs(runs: tuple[Run, ...]) -> str:
    return "".join(f"**{r.text}**" if r.bold and r.text.strip() else r.text for r in runs)


def _md_block(group: list[Block]) -> str:
    first = group[0]
    if first.kind == "heading":
        return f"### {_md_runs(first.runs)}"
    if first.kind == "bullet":
        return "\n".join(f"- {_md_runs(b.runs)}" for b in group)
    if first.kind == "number":
        return "\n".join(f"{first.start + i}. {_md_runs(b.runs)}" for i, b in enumerate(group))
    if first.kind == "table":
        rows = [
            "| " + " | ".join(_md_runs(c).replace("|", "／") for c in row) + " |"
            for row in first.rows
        ]
        rule = "| " + " | ".join("---" for _ in first.rows[0]) + " |"
        return "\n".join([rows[0], rule, *rows[1:]])
    return _md_runs(first.runs)


def to_markdown(draft: DraftDocument) -> str:
    out = [f"# {_title(draft)}", ""]
    rows = _header_rows(draft)
    if rows:
        out += ["| 项目 | 内容 |", "| --- | --- |"]
        out += [f"| {k} | {v.replace('|', '／')} |" for k, v in rows]
        out.append("")
    for s in draft.sections:
        out += [f"## {s.title}", ""]
        groups = lists(blocks(s.text))
        out += ["\n\n".join(_md_block(g) for g in groups) if groups else "（未填写）", ""]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------- HTML


def _html_runs(runs: tuple[Run, ...]) -> str:
    out = []
    for r in runs:
        text = html.escape(r.text)
        if r.mark:
            text = f'<span class="mark">{text}</span>'
        out.append(f"<b>{text}</b>" if r.bold else text)
    return "".join(out)


def _html_block(group: list[Block]) -> str:
    first = group[0]
    if first.kind == "heading":
        return f"<h3>{_html_runs(first.runs)}</h3>"
    if first.kind in ("bullet", "number"):
        tag = "ul" if first.kind == "bullet" else "ol"
        start = f" start='{first.start}'" if first.kind == "number" and first.start != 1 else ""
        items = "".join(f"<li>{_html_runs(b.runs)}</li>" for b in group)
        return f"<{tag}{start}>{items}</{tag}>"
    if first.kind == "table":
        head, *body = first.rows
        cells = "".join(f"<th>{_html_runs(c)}</th>" for c in head)
        rows = "".join(
            "<tr>" + "".join(f"<td>{_html_runs(c)}</td>" for c in row) + "</tr>" for row in body
        )
        return (
            f"<table class='data' width='100%' border='1' cellspacing='0' cellpadding='4'>"
            f"<tr>{cells}</tr>{rows}</table>"
        )
    return f"<p>{_html_runs(first.runs)}</p>"


def to_html(draft: DraftDocument) -> str:
    """A print-ready page: title, the header-field table, each section with its heading."""
    from analyzer.documents.blocks import runs

    rows = "".join(
        f"<tr><th width='22%'>{html.escape(k)}</th><td>{_html_runs(runs(v))}</td></tr>"
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
        "h3{font-family:'Noto Sans CJK SC','SimHei',sans-serif;font-size:11.5pt;margin:0.8em 0 0.3em}",
        "table.fields,table.data{border-collapse:collapse;width:100%;margin:1em 0}",
        "table.fields th,table.fields td,table.data th,table.data td{border:1px solid #777;"
        "padding:4px 8px;text-align:left;vertical-align:top}",
        "table.fields th{background:#eee;width:7em;white-space:nowrap}",
        "table.data th{background:#f2f2f2}",
        "p{text-indent:2em;margin:0.3em 0}",
        "li{margin:0.15em 0}",
        ".mark{background:#ffe066}",
        ".empty{color:#888;text-indent:0}",
        "</style></head><body>",
        f"<h1>{html.escape(_title(draft))}</h1>",
        f"<p class='award'>{html.escape(_award_name(draft))}</p>",
    ]
    if rows:
        parts.append(
            "<table class='fields' width='100%' border='1' cellspacing='0' cellpadding='4'>"
            f"{rows}</table>"
        )
    for s in draft.sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        groups = lists(blocks(s.text))
        if not groups:
            parts.append("<p class='empty'>（未填写）</p>")
        parts += [_html_block(g) for g in groups]
    parts.append("</body></html>")
    return "\n".join(parts)


# ---------------------------------------------------------------------- Word


def to_docx_bytes(draft: DraftDocument) -> bytes:
    """The draft as a Word document laid out like an entry form (:mod:`.wordfile`)."""
    from analyzer.documents import wordfile

    return wordfile.to_docx_bytes(draft, _title(draft), _award_name(draft), _header_rows(draft))


# ---------------------------------------------------------------------- files

FORMATS = {".docx": "Word", ".md": "Markdown", ".html": "HTML"}


def export_draft(
    draft: DraftDocument, path: str | os.PathLike[str], *, refuse_pending: bool = False
) -> Path:
    """Write the draft in the format its suffix names (.docx, .md, .html); atomic.

    With ``refuse_pending``, a draft that still has 【待核实】/【待补充】 marks is not written:
    :class:`PendingMarksError` lists them."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".docx", ".md", ".markdown", ".html", ".htm"):
        raise DraftError(
            f"{target}：不支持导出为 {suffix or '没有扩展名的文件'}，请用 .docx、.md 或 .html"
        )
    if refuse_pending and (marks := pending_marks(draft)):
        where = "、".join(dict.fromkeys(m.where for m in marks))
        raise PendingMarksError(
            f"{target}：未导出，还有 {len(marks)} 处待核实/待补充（{where}）", list(marks)
        )
    if suffix == ".docx":
        data = to_docx_bytes(draft)
    elif suffix in (".md", ".markdown"):
        data = to_markdown(draft).encode("utf-8")
    else:
        data = to_html(draft).encode("utf-8")
    atomic_write(target, data)
    return target
