"""One section of the draft: heading, length against the award's limit, 生成/停止, and its editor.

The editor grows with its text (the draft reads top to bottom like the entry), highlights the
fact-guard marks (``【待核实】``, ``【待补充：…】``), and takes streamed text without moving the
user's cursor. Replacing the text (regenerate) goes through the undo stack: Ctrl+Z brings back
what was there.
"""

from __future__ import annotations

from analyzer.check.context import count_chars
from analyzer.markers import PENDING, VERIFY, count_pending
from desktop.qt import Qt, QtCore, QtGui, QtWidgets, Signal

STATUS_STYLE = "color:#0b4f8a"
STOPPED_STYLE = "color:#8a5300; font-weight:bold"
STOPPED_LABEL = "已停止（未写完）"


class MarkHighlighter(QtGui.QSyntaxHighlighter):
    def __init__(self, document: QtGui.QTextDocument) -> None:
        super().__init__(document)
        self.verify = QtGui.QTextCharFormat()
        self.verify.setBackground(QtGui.QColor("#ffd54f"))
        self.verify.setToolTip("这个数字不在简报中：请核实或删除")
        self.missing = QtGui.QTextCharFormat()
        self.missing.setBackground(QtGui.QColor("#ffccbc"))
        self.missing.setForeground(QtGui.QColor("#8a2a00"))

    def highlightBlock(self, text: str) -> None:
        for m in PENDING.finditer(text):
            fmt = self.verify if m.group() == VERIFY else self.missing
            self.setFormat(m.start(), m.end() - m.start(), fmt)


class GrowingEdit(QtWidgets.QTextEdit):
    """A plain-text editor whose height follows its content."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, *, min_lines: int = 4) -> None:
        super().__init__(parent)
        self.setAcceptRichText(False)
        self.setTabChangesFocus(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed
        )
        self._min_lines = min_lines
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._fit()

    def _fit(self, *_: object) -> None:
        line = self.fontMetrics().lineSpacing()
        content = int(self.document().size().height())
        margins = self.contentsMargins().top() + self.contentsMargins().bottom()
        height = max(content, line * self._min_lines + 8) + margins + 4
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()


class SectionEditor(QtWidgets.QFrame):
    generate_requested = Signal(str)  # section key
    stop_requested = Signal(str)
    changed = Signal()

    def __init__(
        self,
        key: str,
        title: str,
        *,
        max_chars: int | None = None,
        required: bool = False,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.key = key
        self.section_title = title
        self.max_chars = max_chars
        self.setObjectName("sectionCard")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.title_label = QtWidgets.QLabel(
            f"<b>{title}</b>" + (" <span style='color:#b00020'>*</span>" if required else "")
        )
        self.title_label.setToolTip("必填章节" if required else "")
        self.count_label = QtWidgets.QLabel()
        self.count_label.setStyleSheet("color:#666")
        self.status_label = QtWidgets.QLabel()
        self.status_label.setStyleSheet(STATUS_STYLE)
        self.status_label.linkActivated.connect(lambda _: self.set_stopped(False))
        self.generate_button = QtWidgets.QPushButton("生成")
        self.generate_button.setToolTip("用模型撰写这一节（已有内容会被替换，可 Ctrl+Z 撤销）")
        self.generate_button.clicked.connect(lambda: self.generate_requested.emit(self.key))
        self.stop_button = QtWidgets.QPushButton("停止")
        self.stop_button.setToolTip("停止生成 (Esc)")
        self.stop_button.clicked.connect(lambda: self.stop_requested.emit(self.key))
        self.stop_button.hide()
        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.title_label)
        head.addWidget(self.count_label)
        head.addStretch(1)
        head.addWidget(self.status_label)
        head.addWidget(self.generate_button)
        head.addWidget(self.stop_button)
        self.edit = GrowingEdit()
        self.edit.setPlaceholderText(f"在这里撰写“{title}”，或点击“生成”让模型起草。")
        self.highlighter = MarkHighlighter(self.edit.document())
        self.edit.textChanged.connect(self._changed)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addLayout(head)
        layout.addWidget(self.edit)
        self._streaming = False
        self._before_stream = ""
        self._stopped = False
        self._update_count()

    # -- text

    def text(self) -> str:
        return self.edit.toPlainText()

    def durable_text(self) -> str:
        """What an autosave keeps: while regenerating, the text the section had until the new
        one is complete (streamed text only when the section was empty)."""
        if self._streaming and self._before_stream.strip():
            return self._before_stream
        return self.text()

    def set_text(self, text: str, *, undoable: bool = False) -> None:
        if not undoable:
            self.edit.setPlainText(text)
            return
        cursor = QtGui.QTextCursor(self.edit.document())
        cursor.beginEditBlock()
        cursor.select(QtGui.QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()

    def append_stream(self, text: str) -> None:
        cursor = QtGui.QTextCursor(self.edit.document())
        cursor.movePosition(QtGui.QTextCursor.MoveOperation.End)
        cursor.insertText(text)

    def select(self, start: int, end: int) -> None:
        cursor = self.edit.textCursor()
        n = len(self.text())
        cursor.setPosition(max(0, min(start, n)))
        cursor.setPosition(max(0, min(end, n)), QtGui.QTextCursor.MoveMode.KeepAnchor)
        self.edit.setTextCursor(cursor)
        self.edit.setFocus()

    def marks(self) -> int:
        return count_pending(self.text())

    # -- generation state

    def begin_stream(self, status: str = "正在生成…") -> None:
        """Clear the editor for streamed text; the old text comes back with Ctrl+Z afterwards."""
        self.set_stopped(False)
        self._before_stream = self.text()
        self._streaming = True
        self.edit.setReadOnly(True)
        self.edit.document().setUndoRedoEnabled(False)
        self.edit.clear()
        self.generate_button.hide()
        self.stop_button.show()
        self.stop_button.setEnabled(True)
        self.status_label.setText(status)

    def restart_stream(self, status: str) -> None:
        """Drop what streamed so far: the section is being drafted again."""
        if self._streaming:
            self.edit.clear()
            self.status_label.setText(status)

    def end_stream(self, final: str | None = None, status: str = "") -> None:
        """Put ``final`` (or what was streamed) in the editor as one undoable replacement."""
        if not self._streaming:
            return
        text = self.text() if final is None else final
        doc = self.edit.document()
        self.edit.setPlainText(self._before_stream)  # undo is off: not recorded
        doc.setUndoRedoEnabled(True)
        self._streaming = False
        self.edit.setReadOnly(False)
        self.generate_button.show()
        self.stop_button.hide()
        self.status_label.setText(status)
        if text != self._before_stream:
            self.set_text(text, undoable=True)
        self._update_count()

    def set_status(self, status: str) -> None:
        self.status_label.setStyleSheet(STATUS_STYLE)
        self.status_label.setToolTip("")
        self.status_label.setText(status)

    @property
    def stopped(self) -> bool:
        """Drafting was stopped part-way: the text may end mid-sentence (kept in the file)."""
        return self._stopped

    def set_stopped(self, stopped: bool) -> None:
        """Mark the section as stopped part-way, or (生成完, a manual 标为完成) no longer."""
        was, self._stopped = self._stopped, stopped
        if stopped:
            self.status_label.setStyleSheet(STOPPED_STYLE)
            self.status_label.setText(f"{STOPPED_LABEL} · <a href='done'>标为完成</a>")
            self.status_label.setToolTip(
                "生成在中途停止，这一节可能没写完：重新生成，或补完后点“标为完成”。"
            )
        elif was:
            self.set_status("")
        if stopped != was:
            self.changed.emit()

    def set_generate_enabled(self, enabled: bool) -> None:
        self.generate_button.setEnabled(enabled)

    @property
    def streaming(self) -> bool:
        return self._streaming

    def _changed(self) -> None:
        if self._stopped and not self.text().strip():
            self.set_stopped(False)  # nothing left that could be unfinished
        self._update_count()
        if not self._streaming:
            self.changed.emit()

    def _update_count(self) -> None:
        n = count_chars(self.text())  # as the award and the checker count
        if self.text().strip():
            self.generate_button.setText("重新生成")
        elif not self._streaming:
            self.generate_button.setText("生成")
        marks = self.marks()
        extra = f"，{marks} 处待核实/待补充" if marks else ""
        if self.max_chars:
            over = n > self.max_chars
            color = "#b00020" if over else "#666"
            self.count_label.setStyleSheet(f"color:{color}")
            self.count_label.setText(f"{n} / {self.max_chars} 字{extra}")
        else:
            self.count_label.setStyleSheet("color:#666")
            self.count_label.setText(f"{n} 字{extra}")

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(400, super().sizeHint().height())
