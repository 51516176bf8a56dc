"""案例库: import files and folders or paste a case copied from the web, browse and filter the
cases, read one with its metrics."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.progress import Progress
from desktop.models import RECORD_ROLE, RecordTableModel, award_labels, case_columns, sorting_proxy
from desktop.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from desktop.widgets.caseview import CaseView
from desktop.widgets.importresults import ImportResults, counts_text
from desktop.widgets.jobbar import JobBar
from desktop.widgets.pastecase import PasteCaseDialog, PastedCase

if TYPE_CHECKING:
    from analyzer.library.store import CaseSummary, FileResult, IngestReport
    from desktop.session import Session
    from desktop.workers import Job

DOCUMENT_FILTER = "文档 (*.txt *.md *.markdown *.docx *.pdf *.html *.htm);;所有文件 (*)"
IMPORT_REFRESH_MS = 1000  # results and the table follow a running import at this pace


class LibraryPage(QtWidgets.QWidget):
    title = "案例库"
    import_finished = Signal(object)  # IngestReport
    case_opened = Signal(int)

    def __init__(self, session: Session, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setAcceptDrops(True)
        self._import_job: Job | None = None

        # -- actions
        self.import_files_action = QtGui.QAction("导入文件…", self)
        self.import_files_action.setShortcut(QtGui.QKeySequence("Ctrl+I"))
        self.import_files_action.triggered.connect(self.choose_files)
        self.import_folder_action = QtGui.QAction("导入文件夹…", self)
        self.import_folder_action.setShortcut(QtGui.QKeySequence("Ctrl+Shift+I"))
        self.import_folder_action.triggered.connect(self.choose_folder)
        self.paste_action = QtGui.QAction("粘贴案例…", self)
        self.paste_action.setShortcut(QtGui.QKeySequence("Ctrl+Shift+V"))
        self.paste_action.setToolTip("把从网页复制的案例文字粘贴进案例库（第一行的网址作为来源）")
        self.paste_action.triggered.connect(self.choose_paste)
        self.remove_action = QtGui.QAction("删除所选案例", self)
        self.remove_action.setShortcut(QtGui.QKeySequence.StandardKey.Delete)
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.remove_action.triggered.connect(self.remove_selected)
        self.refresh_action = QtGui.QAction("刷新", self)
        self.refresh_action.setShortcut(QtGui.QKeySequence.StandardKey.Refresh)
        self.refresh_action.triggered.connect(self.refresh)
        importing = (self.import_files_action, self.import_folder_action, self.paste_action)
        for action in (*importing, self.refresh_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        self.addAction(self.remove_action)

        toolbar = QtWidgets.QToolBar()
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (*importing, self.remove_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.refresh_action)

        # -- filters
        self.award_filter = QtWidgets.QComboBox()
        self.award_filter.addItem("全部奖项", None)
        for key, name in award_labels().items():
            self.award_filter.addItem(name, key)
        self.industry_filter = QtWidgets.QLineEdit()
        self.industry_filter.setPlaceholderText("行业")
        self.year_filter = QtWidgets.QComboBox()
        self.year_filter.addItem("全部年份", None)
        self.text_filter = QtWidgets.QLineEdit()
        self.text_filter.setPlaceholderText("按标题、品牌或文件名筛选 (Ctrl+F)")
        self.text_filter.setClearButtonEnabled(True)
        find = QtGui.QShortcut(QtGui.QKeySequence.StandardKey.Find, self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self.text_filter.setFocus)
        self._filter_timer = QtCore.QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(200)
        self._filter_timer.timeout.connect(self.refresh)
        for edit in (self.industry_filter, self.text_filter):
            edit.textChanged.connect(self._filter_timer.start)
        for combo in (self.award_filter, self.year_filter):
            combo.currentIndexChanged.connect(self._filter_timer.start)
        filters = QtWidgets.QHBoxLayout()
        filters.addWidget(self.award_filter)
        filters.addWidget(self.industry_filter)
        filters.addWidget(self.year_filter)
        filters.addWidget(self.text_filter, 2)
        self.count_label = QtWidgets.QLabel()
        filters.addWidget(self.count_label)

        # -- table and case view
        self.model: RecordTableModel[CaseSummary] = RecordTableModel(case_columns(), self)
        self.proxy = sorting_proxy(self.model, self)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QtWidgets.QHeaderView.ResizeMode.Stretch
        )
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view = CaseView()
        self.empty_hint = QtWidgets.QLabel(
            "案例库还是空的。\n点击“导入文件…”或“导入文件夹…”，或把文件、文件夹拖到这里；\n"
            "从网页复制的案例，点击“粘贴案例…”（Ctrl+Shift+V）粘贴进来。"
        )
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setStyleSheet("color:#666; font-size:15px;")
        self.table_stack = QtWidgets.QStackedWidget()
        self.table_stack.addWidget(self.table)
        self.table_stack.addWidget(self.empty_hint)
        self.splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("library")
        self.splitter.addWidget(self.table_stack)
        self.splitter.addWidget(self.view)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        # -- import progress and per-file results
        self.job_bar = JobBar()
        self.results_box = ImportResults()
        self.results_model = self.results_box.model
        self.results_summary = self.results_box.summary

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(toolbar)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.job_bar)
        layout.addWidget(self.results_box)

        session.library_changed.connect(self.refresh)
        self._import_results: list[FileResult] = []
        self._import_shown = 0
        self._import_total = 0
        self._import_timer = QtCore.QTimer(self)
        self._import_timer.setInterval(IMPORT_REFRESH_MS)
        self._import_timer.timeout.connect(self._import_tick)

    def focus_widget(self) -> QtWidgets.QWidget:
        """Where the keyboard focus goes when the page is shown."""
        return self.table if self.table_stack.currentWidget() is self.table else self.text_filter

    # ------------------------------------------------------------------ listing

    def refresh(self) -> None:
        try:
            lib = self.session.library
            year = self.year_filter.currentData()
            cases = lib.list_cases(
                award=self.award_filter.currentData(),
                industry=self.industry_filter.text().strip() or None,
                year=year,
                text=self.text_filter.text().strip() or None,
            )
            all_years = sorted({c.year for c in lib.list_cases() if c.year}, reverse=True)
            total = len(lib)
        except Exception as exc:  # the library could not be read: say so, keep the page
            from desktop.workers import user_message

            self.session.error(f"无法读取案例库：{user_message(exc)}")
            return
        current = self.current_case_id()
        self.model.set_records(cases)
        self._update_years(all_years)
        shown = len(cases)
        self.count_label.setText(
            f"{shown} / {total} 个案例" if shown != total else f"{total} 个案例"
        )
        self.table_stack.setCurrentWidget(self.table if total else self.empty_hint)
        self.table.resizeColumnsToContents()
        for column in range(1, 5):  # award, brand, industry, category: elided past a width
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 110))
        self.table.horizontalHeader().setSectionResizeMode(
            0, QtWidgets.QHeaderView.ResizeMode.Stretch
        )
        if current is not None and not self.select_case(current):
            self.view.show_placeholder()

    def _update_years(self, years: list[int]) -> None:
        have = [self.year_filter.itemData(i) for i in range(1, self.year_filter.count())]
        if have == years:
            return
        chosen = self.year_filter.currentData()
        self.year_filter.blockSignals(True)
        self.year_filter.clear()
        self.year_filter.addItem("全部年份", None)
        for y in years:
            self.year_filter.addItem(str(y), y)
        i = self.year_filter.findData(chosen)
        self.year_filter.setCurrentIndex(max(i, 0))
        self.year_filter.blockSignals(False)

    def current_case_id(self) -> int | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return int(index.data(RECORD_ROLE).id)

    def selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return [int(i.data(RECORD_ROLE).id) for i in rows]

    def select_case(self, case_id: int) -> bool:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(RECORD_ROLE).id == case_id:
                self.table.setCurrentIndex(index)
                self.table.scrollTo(index)
                return True
        return False

    def open_case(self, case_id: int) -> None:
        """Show a case (from another page): clear filters that hide it, then select it."""
        if not self.select_case(case_id):
            for edit in (self.industry_filter, self.text_filter):
                edit.clear()
            self.award_filter.setCurrentIndex(0)
            self.year_filter.setCurrentIndex(0)
            self.refresh()
            if not self.select_case(case_id):
                self.session.error(f"案例 {case_id} 不在案例库中（可能已被删除）")

    def _current_changed(self, current: Any, _previous: Any) -> None:
        if not current.isValid():
            self.view.show_placeholder()
            return
        summary = current.data(RECORD_ROLE)
        try:
            case = self.session.library.get_case(summary.id)
        except Exception as exc:
            from desktop.workers import user_message

            self.session.error(user_message(exc))
            return
        self.view.show_case(case)
        self.case_opened.emit(case.id)

    # ------------------------------------------------------------------ import

    def choose_files(self) -> None:
        from desktop import dialogs

        paths = dialogs.open_files(self, self.session.store, "import", "导入文件", DOCUMENT_FILTER)
        if paths:
            self.import_paths(paths)

    def choose_folder(self) -> None:
        from desktop import dialogs

        path = dialogs.folder(self, self.session.store, "import", "导入文件夹")
        if path:
            self.import_paths([path])

    def choose_paste(self, text: str = "", source: str = "") -> None:
        dialog = PasteCaseDialog(text, self)
        if source:
            dialog.source.setText(source)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.paste_case(dialog.case())

    def paste_case(self, case: PastedCase) -> Job | None:
        """Import pasted text as a case (in a worker: reading a pasted page and parsing it)."""
        library = self._library_for_import()
        if library is None:
            return None
        results: list[FileResult] = []

        def work(job: Job) -> IngestReport:
            from analyzer.library.store import IngestReport

            job.report(Progress(0, 1, "粘贴的案例"))
            results.append(library.ingest_text(case.text, source=case.source, award=case.award))
            job.report(Progress(1, 1, results[-1].path))
            return IngestReport(list(results))

        job = self._start_import(work, results)
        job.signals.finished.connect(self._show_pasted)
        return job

    def _show_pasted(self, report: IngestReport) -> None:
        done = [r for r in report.results if r.case_id is not None]
        if done:
            self.open_case(done[0].case_id)  # type: ignore[arg-type]

    def _library_for_import(self) -> Any:
        if self._import_job is not None:
            self.session.warn("正在导入，请等当前导入完成或取消后再试。")
            return None
        try:
            return self.session.library
        except Exception as exc:
            from desktop.workers import user_message

            self.session.error(user_message(exc))
            return None

    def import_paths(self, paths: list[str]) -> Job | None:
        library = self._library_for_import()
        if library is None:
            return None

        # Filled by the worker, one result per file as it goes (list.append is atomic): the
        # page shows what finished even when the import is cancelled half-way.
        results: list[FileResult] = []

        def work(job: Job) -> IngestReport:
            from analyzer.library.readers import iter_document_paths
            from analyzer.library.store import IngestReport

            missing = [p for p in paths if not Path(p).exists()]
            files = [
                *map(Path, missing),
                *iter_document_paths(p for p in paths if p not in missing),
            ]
            job.report(Progress(0, len(files), "准备导入"))

            def waiting(message: str) -> None:  # another process is importing
                job.report(Progress(0, len(files), message))

            # One batch: one check before and one backup after, not one per file.
            with library.batch("导入", cancel=job.token, notify=waiting):
                for done, path in enumerate(files, 1):
                    if job.token.cancelled:
                        break
                    results.extend(library.ingest([path]).results)
                    job.report(Progress(done, len(files), str(path)))
            return IngestReport(list(results))

        return self._start_import(work, results)

    def _start_import(self, work: Any, results: list[FileResult]) -> Job:
        job = self.session.runner.start("导入", work)
        self._import_job = job
        self._import_results = results
        self._import_shown = 0
        self._import_total = 0
        self.results_model.set_records([])
        self.job_bar.attach(job, "正在导入…")
        self._set_importing(True)
        job.signals.progress.connect(self._import_progress)
        job.signals.finished.connect(self._import_done)
        job.signals.error.connect(self.session.error)
        job.signals.cancelled.connect(self._import_cancelled)
        job.signals.done.connect(self._import_over)
        self._import_timer.start()
        return job

    def _set_importing(self, busy: bool) -> None:
        for action in (
            self.import_files_action,
            self.import_folder_action,
            self.paste_action,
            self.remove_action,
        ):
            action.setEnabled(not busy)

    def _import_progress(self, p: Progress) -> None:
        self._import_total = p.total

    def _import_tick(self) -> None:
        """While importing, at the timer's pace (never per file): new results, new cases."""
        results = list(self._import_results)
        if len(results) == self._import_shown:
            return
        new = results[self._import_shown :]
        self._import_shown = len(results)
        for r in new:
            self.results_model.append(r)
        self.results_summary.setText(
            f"正在导入：已处理 {len(results)}/{self._import_total or '?'} 个文件；"
            + counts_text(results)
        )
        self.results_box.show()
        if any(r.status in ("imported", "updated") for r in new):
            self.refresh()

    def _import_over(self) -> None:
        self._import_timer.stop()
        self._import_job = None
        self._set_importing(False)
        self.session.library_changed.emit()

    def _show_results(self, results: list[FileResult], head: str) -> None:
        self._import_shown = len(results)
        self.results_box.show_results(results, head)

    def _import_cancelled(self) -> None:
        results = list(self._import_results)
        left = max(0, self._import_total - len(results))
        self._show_results(results, f"导入已取消（{left} 个文件未处理）：")
        self.session.info(
            f"导入已取消：已处理的 {len(results)} 个文件都已保存，另有 {left} 个文件未导入。"
        )

    def _import_done(self, report: IngestReport) -> None:
        self._show_results(report.results, "")
        self.import_finished.emit(report)
        failed = report.count("failed")
        if failed:
            self.session.warn(f"{failed} 个文件未能导入，原因见“导入结果”。")
        else:
            self.session.info("导入完成：" + counts_text(report.results))

    @property
    def importing(self) -> bool:
        return self._import_job is not None

    def cancel_import(self) -> None:
        if self._import_job is not None:
            self.job_bar.cancel()

    # ------------------------------------------------------------------ remove

    def remove_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        answer = QtWidgets.QMessageBox.question(
            self, "删除案例", f"从案例库中删除所选的 {len(ids)} 个案例？原文件不会被删除。"
        )
        if answer != QtWidgets.QMessageBox.StandardButton.Yes:
            return
        self.remove_cases(ids)

    def remove_cases(self, ids: list[int]) -> None:
        try:
            library = self.session.library
            # On the GUI thread: if another process is writing, say so instead of waiting.
            with library.batch("删除案例", timeout=1.0):
                for case_id in ids:
                    library.remove(case_id)
        except Exception as exc:
            from desktop.workers import user_message

            self.session.error(user_message(exc))
        self.session.library_changed.emit()

    # ------------------------------------------------------------------ drag and drop

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        data = event.mimeData()
        if (data.hasUrls() and any(u.isLocalFile() for u in data.urls())) or data.hasText():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        data = event.mimeData()
        paths = [u.toLocalFile() for u in data.urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.import_paths([str(Path(p)) for p in paths])
        elif data.hasText():
            # text dragged from a browser: a case to paste, the page's address as its source
            event.acceptProposedAction()
            web = [u.toString() for u in data.urls() if u.scheme() in ("http", "https")]
            text = data.text()
            self.choose_paste(text if text.strip() not in web else "", web[0] if web else "")
