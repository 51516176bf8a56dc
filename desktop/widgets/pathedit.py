"""A path field of the 设置 page: a line edit with 浏览…, and a note under it for what the
path is or why it cannot be used (in place, not only in the message bar)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.qt import QtCore, QtGui, QtWidgets, Signal

if TYPE_CHECKING:
    from desktop.config import Store

NOTE_STYLES = {
    "error": "color:#b00020",
    "ok": "color:#1b5e20",
    "busy": "color:#0b4f8a",
    "note": "color:#666",
}


class PathEdit(QtWidgets.QWidget):
    """A line edit with a 浏览… button that picks a folder or a file (the dialog starts at the
    path shown, else where this kind of dialog was last used)."""

    changed = Signal(str)  # the path, a moment after typing stops or when 浏览… picked one

    def __init__(
        self,
        *,
        folder: bool = True,
        file_filter: str = "",
        store: Store | None = None,
        kind: str = "model",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.folder = folder
        self.file_filter = file_filter
        self.store = store
        self.kind = kind
        self.edit = QtWidgets.QLineEdit()
        self.edit.setClearButtonEnabled(True)
        self.button = QtWidgets.QPushButton("浏览…")
        self.button.clicked.connect(self.browse)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)
        self._pause = QtCore.QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(600)
        self._pause.timeout.connect(lambda: self.changed.emit(self.text()))
        self.edit.textEdited.connect(lambda _: self._pause.start())
        self.edit.editingFinished.connect(self._finished)

    def _finished(self) -> None:
        if self._pause.isActive():
            self._pause.stop()
            self.changed.emit(self.text())

    def browse(self) -> None:
        from pathlib import Path

        from desktop import dialogs
        from desktop.config import Store

        store = self.store or Store()
        current = self.text()
        if self.folder:
            path = dialogs.folder(self, store, self.kind, "选择文件夹", current)
        else:
            here = Path(current).expanduser().parent if current else None
            path = dialogs.open_file(
                self, store, self.kind, "选择文件", self.file_filter, preferred=here
            )
        if path:
            self.setText(path)
            self.changed.emit(path)

    def text(self) -> str:
        return self.edit.text().strip()

    def setText(self, text: str) -> None:
        self._pause.stop()
        self.edit.setText(text)


class FieldNote(QtWidgets.QLabel):
    """The line under a field: an error in red, a confirmation in green, a note in grey."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.level = ""
        self.hide()

    def sizeHint(self) -> QtCore.QSize:
        # QLabel guesses a wrapped text's size at a narrow width (a long note came out five
        # lines tall in a form row); the width it has is what counts
        hint = super().sizeHint()
        if self.width() > 50:
            return QtCore.QSize(hint.width(), self.heightForWidth(self.width()))
        return hint

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self.updateGeometry()

    def show_note(self, level: str, text: str) -> None:
        self.level = level if text else ""
        self.setStyleSheet(NOTE_STYLES.get(level, NOTE_STYLES["note"]))
        self.setText(text)
        self.setVisible(bool(text))

    def clear_note(self) -> None:
        self.show_note("", "")

    @property
    def is_error(self) -> bool:
        return self.level == "error"
