"""The main window: a page list on the left (案例库 / 相似案例 / 撰写 / 检查 / 设置), the page on the right.

It wires the pages to each other (open a case from a search hit, send the draft to the checker),
remembers its size and the last page, and on close cancels running work and waits for it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.config import Store
from desktop.indexing import BackgroundIndexer, IndexStatus
from desktop.pages.check import CheckPage
from desktop.pages.draft import DraftPage
from desktop.pages.library import LibraryPage
from desktop.pages.settings import SettingsPage
from desktop.pages.similar import SimilarPage
from desktop.qt import Qt, QtCore, QtGui, QtWidgets
from desktop.session import Session
from desktop.widgets.messagebar import MessageBar
from desktop.widgets.shortcuts import ShortcutsDialog

if TYPE_CHECKING:
    from analyzer.documents.document import DraftSpan

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1200, 780)


class MainWindow(QtWidgets.QMainWindow):
    def __init__(self, session: Session | None = None, *, store: Store | None = None) -> None:
        super().__init__()
        self.session = session or Session(store)
        self.store = self.session.store
        self.setWindowTitle("未命名草稿[*]")  # the document's name; Qt adds the app's
        self.setWindowIcon(_app_icon())

        self.library_page = LibraryPage(self.session)
        self.similar_page = SimilarPage(self.session)
        self.draft_page = DraftPage(self.session)
        self.check_page = CheckPage(self.session)
        self.settings_page = SettingsPage(self.session)
        self.pages: list[QtWidgets.QWidget] = [
            self.library_page,
            self.similar_page,
            self.draft_page,
            self.check_page,
            self.settings_page,
        ]

        self.nav = QtWidgets.QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QtWidgets.QStackedWidget()
        for i, page in enumerate(self.pages, 1):
            item = QtWidgets.QListWidgetItem(f"{page.title}")  # type: ignore[attr-defined]
            item.setToolTip(f"{page.title} (Ctrl+{i})")  # type: ignore[attr-defined]
            self.nav.addItem(item)
            self.stack.addWidget(page)
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(f"Ctrl+{i}"), self)
            shortcut.activated.connect(lambda i=i: self.show_page(i - 1))
        self.nav.setFixedWidth(self.nav.sizeHintForColumn(0) + 48)
        self.nav.setStyleSheet(
            "#nav { background:#f3f4f6; font-size:15px; padding-top:8px; }"
            " #nav::item { padding:10px 14px; }"
            " #nav::item:selected { background:#dbe7ff; color:#123; border-left:3px solid #2962ff; }"
        )
        self.nav.currentRowChanged.connect(self._page_changed)
        self._last_focus: dict[int, QtWidgets.QWidget] = {}

        right = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(right)
        column.setContentsMargins(8, 8, 8, 4)
        column.addWidget(self.stack, 1)
        # floats over the status bar: showing or hiding a message moves nothing
        self.message_bar = MessageBar(self, area=self._message_area)
        self.session.message.connect(self.message_bar.show_message)
        central = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(right, 1)
        self.setCentralWidget(central)
        # Background indexing: its progress and time left, while it runs.
        self.indexer = BackgroundIndexer(self.session, self)
        self.index_status = IndexStatus(self.indexer)
        self.statusBar().addPermanentWidget(self.index_status)
        # Where the library is, always visible (passing messages appear on the left).
        self.home_label = QtWidgets.QLabel()
        self.home_label.setStyleSheet("color:#555; padding:0 8px")
        self.statusBar().addPermanentWidget(self.home_label)
        self._show_home()
        self.session.library_changed.connect(self._show_home)
        self.session.status.connect(lambda text: self.statusBar().showMessage(text, 10_000))

        help_action = QtGui.QAction("快捷键", self)
        help_action.setShortcut(QtGui.QKeySequence.StandardKey.HelpContents)
        help_action.triggered.connect(self.show_shortcuts)
        self.addAction(help_action)
        # Esc cancels what the current page runs, and stops drafting from any page. Enabled only
        # while something runs, so that otherwise Esc reaches the widgets as usual.
        self.cancel_action = QtGui.QAction("停止/取消", self)
        self.cancel_action.setShortcut(QtGui.QKeySequence(Qt.Key.Key_Escape))
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.cancel_action.setEnabled(False)
        self.cancel_action.triggered.connect(self.cancel_current_work)
        self.addAction(self.cancel_action)
        self.session.runner.busy_changed.connect(self.cancel_action.setEnabled)
        quit_action = QtGui.QAction("退出", self)
        quit_action.setShortcut(QtGui.QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.addAction(quit_action)

        self.shortcuts_dialog: ShortcutsDialog | None = None
        self._wire_pages()
        self._update_title()
        self._restore_state()
        QtCore.QTimer.singleShot(0, self._after_show)

    # ------------------------------------------------------------------ pages

    def _wire_pages(self) -> None:
        self.similar_page.open_case_requested.connect(self.open_case)
        self.similar_page.exemplar_requested.connect(self.draft_page.add_exemplar)
        self.similar_page.draft_text_provider = self.draft_page.draft_text
        self.draft_page.check_requested.connect(self.check_draft)
        self.draft_page.document_changed.connect(self._update_title)
        self.check_page.draft_provider = self.draft_page.current_document
        self.check_page.locate_in_draft.connect(self._locate_in_draft)
        self.draft_page.search_requested.connect(self._search_like_draft)
        self.draft_page.settings_requested.connect(
            lambda: self.show_page(self.pages.index(self.settings_page))
        )
        self.session.settings_changed.connect(lambda _: self.settings_page.load())

    def _message_area(self) -> QtCore.QRect:
        """The status bar from the page's left edge to its permanent widgets (the library's
        path …), or to its end when they take more than half of it (window coordinates)."""
        bar = self.statusBar()
        top_left = bar.mapTo(self, QtCore.QPoint(0, 0))
        left = self.stack.mapTo(self, QtCore.QPoint(0, 0)).x()
        end = top_left.x() + bar.width() - 8
        right = end
        for widget in bar.findChildren(
            QtWidgets.QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
        ):
            if widget.isVisible() and not isinstance(widget, QtWidgets.QSizeGrip):
                x = widget.mapTo(self, QtCore.QPoint(0, 0)).x()
                if x > left:
                    right = min(right, x - 8)
        if right - left < (end - left) / 2:
            right = end
        return QtCore.QRect(left, top_left.y() + 1, right - left, bar.height() - 2)

    def _show_home(self) -> None:
        self.home_label.setText(f"案例库：{self.session.home}　　F1 查看快捷键")

    def show_shortcuts(self) -> None:
        """The shortcut list in its own small window: it stays until closed."""
        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self)
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()
        self.shortcuts_dialog.activateWindow()

    def _update_title(self) -> None:
        page = self.draft_page
        name = page.path.name if page.path else (page.form.title.text().strip() or "未命名草稿")
        self.setWindowFilePath(str(page.path) if page.path else "")
        self.setWindowTitle(f"{name}[*]")
        self.setWindowModified(page.dirty)

    def show_page(self, index: int) -> None:
        self.nav.setCurrentRow(index)

    def _page_changed(self, index: int) -> None:
        """Show the page and move the keyboard focus into it: its shortcuts (Ctrl+I, Ctrl+S …)
        act on the page that has the focus, whichever way the page was chosen."""
        old = self.stack.currentIndex()
        focused = QtWidgets.QApplication.focusWidget()
        if focused is not None and old >= 0 and self.pages[old].isAncestorOf(focused):
            self._last_focus[old] = focused
        self.stack.setCurrentIndex(index)
        if not 0 <= index < len(self.pages):
            return
        page = self.pages[index]
        target = self._last_focus.get(index)
        if target is None or not target.isVisibleTo(page) or not target.isEnabled():
            target = _first_focusable(page)
        (target or page).setFocus(Qt.FocusReason.OtherFocusReason)

    def cancel_current_work(self) -> None:
        page = self.current_page()
        bar = getattr(page, "job_bar", None)
        if page is not self.draft_page and bar is not None and bar.running:
            bar.cancel()
        elif self.draft_page.generating:
            self.draft_page.stop_generation()

    def current_page(self) -> QtWidgets.QWidget:
        return self.pages[self.stack.currentIndex()]

    def open_case(self, case_id: int) -> None:
        self.show_page(self.pages.index(self.library_page))
        self.library_page.open_case(case_id)

    def check_draft(self) -> None:
        self.show_page(self.pages.index(self.check_page))
        self.check_page.check_current_draft()

    def _locate_in_draft(self, where: DraftSpan) -> None:
        self.show_page(self.pages.index(self.draft_page))
        self.draft_page.select_span(where)

    def _search_like_draft(self) -> None:
        self.show_page(self.pages.index(self.similar_page))
        self.similar_page.use_draft()

    def open_draft(self, path: Path) -> bool:
        self.show_page(self.pages.index(self.draft_page))
        return self.draft_page.open_path(path)

    def _after_show(self) -> None:
        self.library_page.refresh()
        self.indexer.start_later()  # cases left unindexed last time (or imported by the CLI)
        if self.draft_page.offer_recovery():  # after a crash, what was typed comes first
            self.show_page(self.pages.index(self.draft_page))

    # ------------------------------------------------------------------ state

    def _restore_state(self) -> None:
        geometry = self.store.value("window/geometry")
        if isinstance(geometry, QtCore.QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(*_fitting_size())
        for name, splitter in self._splitters().items():
            state = self.store.value(f"window/splitter_{name}")
            if isinstance(state, QtCore.QByteArray):
                splitter.restoreState(state)
        try:
            page = int(self.store.value("window/page", 0))
        except (TypeError, ValueError):
            page = 0
        self.show_page(page if 0 <= page < len(self.pages) else 0)

    def save_state(self) -> None:
        self.store.set_value("window/geometry", self.saveGeometry())
        self.store.set_value("window/page", self.stack.currentIndex())
        for name, splitter in self._splitters().items():
            self.store.set_value(f"window/splitter_{name}", splitter.saveState())
        self.store.sync()

    def _splitters(self) -> dict[str, QtWidgets.QSplitter]:
        out = {}
        for page in self.pages:
            for splitter in page.findChildren(QtWidgets.QSplitter):
                if splitter.objectName():
                    out[splitter.objectName()] = splitter
        return out

    # ------------------------------------------------------------------ close

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.draft_page.maybe_save():
            event.ignore()
            return
        self.save_state()
        if self.indexer.running:
            self.statusBar().showMessage("正在停止建立索引（已完成的案例会保留）…")
        self.indexer.shutdown()
        if self.session.runner.busy:
            self.statusBar().showMessage("正在取消后台任务…")
            QtWidgets.QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.session.shutdown()
            finally:
                QtWidgets.QApplication.restoreOverrideCursor()
        else:
            self.session.shutdown()
        self.draft_page.close_document()
        event.accept()


def _first_focusable(page: QtWidgets.QWidget) -> QtWidgets.QWidget | None:
    """The page's first widget in tab order that takes the keyboard focus."""
    preferred = getattr(page, "focus_widget", None)
    if callable(preferred):
        widget = preferred()
        if widget is not None and widget.isVisibleTo(page) and widget.isEnabled():
            return widget
    widget = page.nextInFocusChain()
    while widget is not None and widget is not page:
        if (
            page.isAncestorOf(widget)
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and widget.isVisibleTo(page)
            and widget.isEnabled()
        ):
            return widget
        widget = widget.nextInFocusChain()
    return None


def _fitting_size() -> tuple[int, int]:
    screen = QtGui.QGuiApplication.primaryScreen()
    if screen is None:
        return DEFAULT_SIZE
    avail = screen.availableGeometry()
    return min(DEFAULT_SIZE[0], int(avail.width() * 0.9)), min(
        DEFAULT_SIZE[1], int(avail.height() * 0.9)
    )


def _app_icon() -> QtGui.QIcon:
    path = Path(__file__).with_name("award-writer.svg")
    return QtGui.QIcon(str(path)) if path.exists() else QtGui.QIcon()
