"""A read-only view of one case: header fields, sections, and its metrics highlighted in the text."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import TYPE_CHECKING

from desktop.models import award_label, section_label
from desktop.qt import QtWidgets

if TYPE_CHECKING:
    from analyzer.library.store import CaseRecord

MARK = "background-color:#ffe9a8;"
HIT_MARK = "background-color:#c8e6ff;"


def highlighted(
    text: str,
    spans: Iterable[tuple[int, int]],
    style: str = MARK,
    tip: dict[int, str] | None = None,
) -> str:
    """``text`` as HTML with ``spans`` (offsets into it) wrapped in a coloured span."""
    out, pos = [], 0
    for start, end in sorted(spans):
        start, end = max(start, pos), min(end, len(text))
        if end <= start:
            continue
        out.append(html.escape(text[pos:start]))
        title = f' title="{html.escape(tip[start])}"' if tip and start in tip else ""
        out.append(f'<span style="{style}"{title}>{html.escape(text[start:end])}</span>')
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def case_html(case: CaseRecord) -> str:
    parts = [f"<h2>{html.escape(case.title)}</h2>"]
    meta = [award_label(case.award) if case.is_entry else "参考文档（非参赛案例）"]
    meta += [v for v in (case.brand, case.industry, case.category) if v]
    if case.year:
        meta.append(str(case.year))
    parts.append(
        f'<p style="color:#555">{html.escape(" · ".join(meta))}<br>'
        f'<span style="color:#888">{html.escape(case.source)}</span></p>'
    )
    if case.fields:
        rows = "".join(
            f"<tr><td style='padding:2px 12px 2px 0;color:#555'>{html.escape(k)}</td>"
            f"<td>{html.escape(v)}</td></tr>"
            for k, v in case.fields.items()
        )
        parts.append(f"<table>{rows}</table>")
    if case.preamble.strip() and case.is_entry:
        parts.append(f'<p style="color:#555">{html.escape(case.preamble.strip())}</p>')
    for s in case.sections:
        spans = [
            (m.start - s.start, m.end - s.start)
            for m in case.metrics
            if s.start <= m.start and m.end <= s.end
        ]
        tips = {
            m.start - s.start: f"{m.measure or '指标'}：{m.value:,.6g}{m.unit}"
            for m in case.metrics
            if s.start <= m.start and m.end <= s.end
        }
        body = case.text[s.start : s.end]
        n = len(spans)
        badge = f" <span style='color:#888;font-size:small'>（{n} 个指标）</span>" if n else ""
        parts.append(f"<h3>{html.escape(section_label(s.key, s.title))}{badge}</h3>")
        parts.append(f"<p>{highlighted(body.strip(chr(10)), spans, tip=tips)}</p>")
    if case.metrics:
        rows = "".join(
            f"<tr><td>{html.escape(m.text)}</td><td align='right'>{m.value:,.6g}{html.escape(m.unit)}</td>"
            f"<td>{html.escape(m.measure)}</td><td>{html.escape(_section_title(case, m.section))}</td></tr>"
            for m in case.metrics
        )
        parts.append(
            "<h3>指标</h3><table cellspacing='0' cellpadding='3' border='1' style='border-color:#ddd'>"
            "<tr><th>原文</th><th>数值</th><th>度量</th><th>章节</th></tr>" + rows + "</table>"
        )
    return "".join(parts)


def _section_title(case: CaseRecord, key: str) -> str:
    title = next((s.title for s in case.sections if s.key == key), "")
    return section_label(key, title)


class CaseView(QtWidgets.QTextBrowser):
    """Shows a case; empty state says what to do."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(False)
        self.case: CaseRecord | None = None
        self.show_placeholder()

    def show_placeholder(
        self, text: str = "在左侧表格中选择一个案例查看其章节、字段与指标。"
    ) -> None:
        self.case = None
        self.setHtml(f"<p style='color:#777'>{html.escape(text)}</p>")

    def show_case(self, case: CaseRecord) -> None:
        self.case = case
        self.setHtml(case_html(case))
