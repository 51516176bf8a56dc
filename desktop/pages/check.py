"""检查: run the completeness checker on the current draft or any file and show its report.

Findings are grouped by section and severity; clicking one selects its text in the document
view (double-clicking a finding about the current draft selects it in the 撰写 page). The score,
per-section status and the evidence table come from the report as they are; when errors hold
the score down, a banner under it says which (the report's ``cap``). The current draft is
checked as a draft, against the brief in its form.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.models import award_labels
from desktop.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from desktop.widgets.jobbar import JobBar

if TYPE_CHECKING:
    from analyzer.check import Finding, Report
    from analyzer.documents.document import DraftDocument
    from desktop.session import Session
    from desktop.workers import Job

SEVERITY = {
    "error": ("错误", "#b00020"),
    "warning": ("警告", "#8a5300"),
    "suggestion": ("建议", "#0b4f8a"),
}
STATUS = {
    "ok": ("完整", "#1b5e20"),
    "warning": ("需改进", "#8a5300"),
    "error": ("有问题", "#b00020"),
    "missing": ("缺少", "#b00020"),
    "absent": ("未写（可选）", "#666666"),
    "elsewhere": ("写在别的章节", "#8a5300"),
    "empty": ("只有标题", "#b00020"),
}
FINDING_ROLE = Qt.ItemDataRole.UserRole + 10
FILE_FILTER = "文档 (*.awdraft *.docx *.md *.txt *.pdf *.html *.htm);;所有文件 (*)"
REPORT_FILTERS = {"HTML 报告 (*.html)": ".html", "Markdown (*.md)": ".md", "JSON (*.json)": ".json"}


def _readonly_table(headers: list[str]) -> QtWidgets.QTableWidget:
    table = QtWidgets.QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(True)
    return table


class _ColumnFitter(QtCore.QObject):
    """Keeps a table's columns inside its width: the ``capped`` ones get their content's width
    up to a share of the view (their text wraps beyond), the stretching one takes the rest; rows
    grow to the wrapped text. Refitted whenever the view is resized."""

    def __init__(self, table: QtWidgets.QTableWidget, *, capped: dict[int, float]) -> None:
        super().__init__(table)
        self.table = table
        self.capped = capped
        table.viewport().installEventFilter(self)

    def fit(self) -> None:
        table, width = self.table, self.table.viewport().width()
        header = table.horizontalHeader()
        for col, share in self.capped.items():
            header.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.Interactive)
            wanted = max(table.sizeHintForColumn(col), header.sectionSizeHint(col))
            table.setColumnWidth(col, min(wanted, max(60, int(width * share))))
        table.resizeRowsToContents()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Resize:
            QtCore.QTimer.singleShot(0, self.fit)  # after the header has taken the new width
        return False


def _cell(text: str, color: str | None = None, tip: str = "") -> QtWidgets.QTableWidgetItem:
    item = QtWidgets.QTableWidgetItem(text)
    if color:
        item.setForeground(QtGui.QBrush(QtGui.QColor(color)))
    if tip:
        item.setToolTip(tip)
    return item


class CheckPage(QtWidgets.QWidget):
    title = "检查"
    locate_in_draft = Signal(
        object
    )  # analyzer.documents.document.DraftSpan: where a finding is in the draft
    report_ready = Signal(object)  # Report

    def __init__(self, session: Session, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.draft_provider: Callable[[], DraftDocument] | None = None
        self.report: Report | None = None
        self.checked_draft = False  # the report is about the 撰写 page's draft
        self._checked: DraftDocument | None = None  # that draft, as it was checked
        self._job: Job | None = None

        self.check_draft_action = self._action("检查当前草稿", self.check_current_draft, "Ctrl+R")
        self.check_file_action = self._action("检查文件…", self.choose_file, "Ctrl+O")
        self.export_action = self._action("导出报告…", self.choose_export, "Ctrl+E")
        self.export_action.setEnabled(False)
        self.award = QtWidgets.QComboBox()
        self.award.addItem("按文档识别奖项", None)
        for key, name in award_labels().items():
            self.award.addItem(name, key)
        self.award.setToolTip("按哪个奖项的要求检查")
        toolbar = QtWidgets.QToolBar()
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addAction(self.check_draft_action)
        toolbar.addAction(self.check_file_action)
        toolbar.addSeparator()
        toolbar.addWidget(QtWidgets.QLabel(" 奖项："))
        toolbar.addWidget(self.award)
        toolbar.addSeparator()
        toolbar.addAction(self.export_action)

        self.score_label = QtWidgets.QLabel()
        self.score_label.setStyleSheet("font-size:26px; font-weight:bold;")
        self.summary_label = QtWidgets.QLabel("检查当前草稿或任意文件，看看评委会发现哪些缺漏。")
        self.summary_label.setWordWrap(True)
        summary = QtWidgets.QHBoxLayout()
        summary.addWidget(self.score_label)
        summary.addWidget(self.summary_label, 1)
        self.cap_label = QtWidgets.QLabel()  # why the score stops where it does
        self.cap_label.setWordWrap(True)
        self.cap_label.setStyleSheet(
            "background:#fdecea; color:#8a1c1c; padding:6px; border:1px solid #f5c2c0;"
        )
        self.cap_label.hide()

        self.findings = QtWidgets.QTreeWidget()
        self.findings.setHeaderLabels(["问题", "规则"])
        self.findings.setWordWrap(True)
        self.findings.setUniformRowHeights(False)
        self.findings.header().setStretchLastSection(False)
        self.findings.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.findings.currentItemChanged.connect(self._finding_selected)
        self.findings.itemDoubleClicked.connect(self._finding_activated)

        self.finding_detail = QtWidgets.QLabel()
        self.finding_detail.setWordWrap(True)
        self.finding_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.finding_detail.setStyleSheet("background:#f7f7f7; padding:6px; border:1px solid #ddd;")
        self.finding_detail.hide()
        findings_box = QtWidgets.QWidget()
        findings_layout = QtWidgets.QVBoxLayout(findings_box)
        findings_layout.setContentsMargins(0, 0, 0, 0)
        findings_layout.addWidget(self.findings, 1)
        findings_layout.addWidget(self.finding_detail)

        self.document = QtWidgets.QPlainTextEdit()
        self.document.setReadOnly(True)
        self.document.setPlaceholderText("被检查的文本会显示在这里；点击左侧的问题可定位到原文。")
        self.sections = _readonly_table(["章节", "必填", "状态", "字数", "指标", "权重"])
        self.evidence = _readonly_table(["评审维度", "章节", "指标", "来源"])
        # Long criteria wrap in the column that stretches; 指标 and 来源 stay in view.
        self.evidence.horizontalHeader().setStretchLastSection(False)
        self.evidence.horizontalHeader().setSectionResizeMode(
            0, QtWidgets.QHeaderView.ResizeMode.Stretch
        )
        self.evidence.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.evidence.setTextElideMode(Qt.TextElideMode.ElideNone)
        self._evidence_fit = _ColumnFitter(self.evidence, capped={1: 0.22, 2: 0.26, 3: 0.22})
        tabs = QtWidgets.QTabWidget()
        tabs.addTab(self.document, "原文")
        tabs.addTab(self.sections, "章节状态")
        tabs.addTab(self.evidence, "证据表")
        self.tabs = tabs

        self.splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("check")
        self.splitter.addWidget(findings_box)
        self.splitter.addWidget(tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.job_bar = JobBar()

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(toolbar)
        layout.addLayout(summary)
        layout.addWidget(self.cap_label)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.job_bar)

    def focus_widget(self) -> QtWidgets.QWidget:
        """Where the keyboard focus goes when the page is shown."""
        return self.findings

    def _action(self, text: str, slot: Any, shortcut: str) -> QtGui.QAction:
        action = QtGui.QAction(text, self)
        action.setShortcut(QtGui.QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(f"{text} ({shortcut})")
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    # ------------------------------------------------------------------ running

    def check_current_draft(self) -> Job | None:
        if self.draft_provider is None:
            return None
        draft = self.draft_provider()
        award = self.award.currentData() or draft.award
        library = self._library()

        def work(job: Job) -> Report:
            from analyzer.check import check_draft
            from analyzer.schema import get_award

            return check_draft(draft, schema=get_award(award), library=library)

        return self._start(work, "正在检查草稿…", draft=draft)

    def choose_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "检查文件", "", FILE_FILTER)
        if path:
            self.check_path(Path(path))

    def check_path(self, path: Path) -> Job | None:
        award = self.award.currentData()
        library = self._library()

        def work(job: Job) -> Report:
            from analyzer.check import check_file

            return check_file(path, award, library=library)

        return self._start(work, f"正在检查 {path.name}…", draft=None)

    def _library(self) -> Any:
        try:
            return self.session.library
        except Exception:
            return None  # the check runs without the comparison with similar cases

    def _start(
        self, work: Callable[[Job], Report], title: str, *, draft: DraftDocument | None
    ) -> Job | None:
        if self._job is not None:
            self.session.warn("正在检查，请稍候。")
            return None
        job = self.session.runner.start("检查", work)
        self._job = job
        self.job_bar.attach(job, title)
        job.signals.finished.connect(lambda report: self.show_report(report, draft=draft))
        job.signals.error.connect(lambda message: self.session.error(f"检查失败：{message}"))
        job.signals.done.connect(self._done)
        for action in (self.check_draft_action, self.check_file_action):
            action.setEnabled(False)
        return job

    def _done(self) -> None:
        self._job = None
        for action in (self.check_draft_action, self.check_file_action):
            action.setEnabled(True)

    # ------------------------------------------------------------------ showing

    def show_report(self, report: Report, *, draft: DraftDocument | None = None) -> None:
        """Show ``report``; ``draft``: the 撰写 page's draft it is about (findings locate in it)."""
        self.report = report
        self._checked = draft
        self.checked_draft = draft is not None
        self.export_action.setEnabled(True)
        counts = {s: report.count(s) for s in SEVERITY}  # type: ignore[arg-type]
        if report.is_entry:
            color = (
                "#1b5e20" if report.score >= 80 else "#8a5300" if report.score >= 50 else "#b00020"
            )
            self.score_label.setText(f"<span style='color:{color}'>{report.score} 分</span>")
        else:
            self.score_label.setText("—")
        verdict = "没有会被直接否决的问题。" if report.ok else "有必须修改的错误。"
        if not report.is_entry:
            verdict = "这不是一份参赛案例（没有奖项要求的章节结构）。"
        against = " · 已对照简报核对数字、日期和名称" if report.brief else ""
        self.summary_label.setText(
            f"<b>{html.escape(report.title or '（无标题）')}</b> · 按 {report.award_name} 检查"
            f"{against}<br>错误 {counts['error']} · 警告 {counts['warning']} · "
            f"建议 {counts['suggestion']}　{verdict}"
        )
        self.cap_label.setText(report.cap.reason if report.cap else "")
        self.cap_label.setVisible(report.cap is not None)
        self.document.setPlainText(report.text)
        self._fill_findings(report)
        self._fill_sections(report)
        self._fill_evidence(report)
        self.report_ready.emit(report)

    def _fill_findings(self, report: Report) -> None:
        self.findings.clear()
        self.finding_detail.hide()
        groups: dict[str, QtWidgets.QTreeWidgetItem] = {}
        severity_items: dict[tuple[str, str], QtWidgets.QTreeWidgetItem] = {}
        for f in report.findings:
            group = groups.get(f.section)
            if group is None:
                group = QtWidgets.QTreeWidgetItem([report.section_title(f.section), ""])
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                self.findings.addTopLevelItem(group)
                groups[f.section] = group
            sev = severity_items.get((f.section, f.severity))
            if sev is None:
                label, color = SEVERITY[f.severity]
                sev = QtWidgets.QTreeWidgetItem(group, [label, ""])
                sev.setForeground(0, QtGui.QBrush(QtGui.QColor(color)))
                severity_items[(f.section, f.severity)] = sev
            item = QtWidgets.QTreeWidgetItem(sev, [f.message, f.rule])
            item.setData(0, FINDING_ROLE, f)
            excerpt = report.excerpt(f)
            item.setToolTip(0, f"{f.message}\n原文：{excerpt}" if excerpt else f.message)
        for (_section, severity), sev in severity_items.items():
            sev.setText(0, f"{SEVERITY[severity][0]}（{sev.childCount()}）")
        for group in groups.values():
            n = sum(len(_children(group.child(i))) for i in range(group.childCount()))
            group.setText(0, f"{group.text(0)}（{n}）")
        if not report.findings:
            QtWidgets.QTreeWidgetItem(self.findings, ["没有发现问题。", ""])
        self.findings.expandAll()
        self.findings.resizeColumnToContents(1)

    def _fill_sections(self, report: Report) -> None:
        self.sections.setRowCount(0)
        for s in report.sections:
            row = self.sections.rowCount()
            self.sections.insertRow(row)
            label, color = STATUS.get(s.status, (s.status, None))
            values = [
                _cell(s.title),
                _cell("是" if s.required else ""),
                _cell(label, color),
                _cell(str(s.chars)),
                _cell(str(s.metrics)),
                _cell(f"{s.weight:.1f}%"),
            ]
            for col, item in enumerate(values):
                self.sections.setItem(row, col, item)
        self.sections.resizeColumnsToContents()

    def _fill_evidence(self, report: Report) -> None:
        self.evidence.setRowCount(0)
        for r in report.evidence:
            row = self.evidence.rowCount()
            self.evidence.insertRow(row)
            missing = "#b00020"
            metrics = "、".join(r.metrics)
            sources = "、".join(s for s in r.sources if s)
            values = [
                _cell(r.criterion, tip=r.criterion),
                _cell(report.section_title(r.section)),
                _cell(metrics or "（无）", None if metrics else missing),
                _cell(sources or "（无来源）", None if sources else missing),
            ]
            for col, item in enumerate(values):
                self.evidence.setItem(row, col, item)
        self._evidence_fit.fit()

    # ------------------------------------------------------------------ findings ↔ text

    def _finding_selected(self, item: QtWidgets.QTreeWidgetItem | None, _previous: Any) -> None:
        finding = item.data(0, FINDING_ROLE) if item is not None else None
        if finding is not None:
            self.select_finding(finding)

    def select_finding(self, finding: Finding) -> None:
        label, color = SEVERITY[finding.severity]
        excerpt = self.report.excerpt(finding) if self.report is not None else ""
        where = (
            f"<br><span style='color:#555'>原文：{html.escape(excerpt)}</span>" if excerpt else ""
        )
        hint = (
            "<br><span style='color:#777'>双击可在撰写页中定位。</span>"
            if self.checked_draft
            else ""
        )
        self.finding_detail.setText(
            f"<b style='color:{color}'>{label}</b>　{html.escape(finding.message)}{where}{hint}"
        )
        self.finding_detail.show()
        if not finding.span:
            return
        start, end = finding.span
        n = len(self.document.toPlainText())
        cursor = self.document.textCursor()
        cursor.setPosition(max(0, min(start, n)))
        cursor.setPosition(max(0, min(end, n)), QtGui.QTextCursor.MoveMode.KeepAnchor)
        self.document.setTextCursor(cursor)
        self.document.centerCursor()
        self.tabs.setCurrentWidget(self.document)

    def _finding_activated(self, item: QtWidgets.QTreeWidgetItem, _column: int) -> None:
        finding = item.data(0, FINDING_ROLE)
        if finding is None or self.report is None or self._checked is None:
            return
        from analyzer.documents.document import DraftSpan, locate_in_draft

        where = locate_in_draft(self._checked, *finding.span) if finding.span else None
        self.locate_in_draft.emit(where or DraftSpan(finding.section, 0, 0, ""))

    # ------------------------------------------------------------------ export

    def choose_export(self) -> None:
        if self.report is None:
            return
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            self,
            "导出检查报告",
            f"{self.report.title or '检查报告'}.html",
            ";;".join(REPORT_FILTERS),
        )
        if path:
            suffix = Path(path).suffix.lower() or REPORT_FILTERS.get(chosen, ".html")
            self.export_report(Path(path).with_suffix(suffix))

    def export_report(self, path: Path) -> bool:
        if self.report is None:
            return False
        from analyzer.atomicfile import atomic_write
        from analyzer.check.render import to_html, to_json, to_markdown

        render = {".md": to_markdown, ".json": to_json}.get(path.suffix.lower(), to_html)
        try:
            atomic_write(path, render(self.report).encode("utf-8"))
        except Exception as exc:
            from desktop.workers import user_message

            self.session.error(f"导出失败：{user_message(exc)}")
            return False
        self.session.info(f"已导出检查报告 {path}")
        return True


def _children(item: QtWidgets.QTreeWidgetItem | None) -> list[QtWidgets.QTreeWidgetItem]:
    if item is None:
        return []
    return [c for i in range(item.childCount()) if (c := item.child(i)) is not None]
