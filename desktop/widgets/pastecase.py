"""粘贴案例: a case copied from a web page, pasted as text, with the page's address as its source."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.models import award_labels
from desktop.qt import Qt, QtGui, QtWidgets

HINT = (
    "把从网页复制的案例全文粘贴到这里（Ctrl+V）。\n"
    "网页的导航、面包屑、页脚等残留会自动去掉；第一行是网址时，自动作为来源。"
)


@dataclass(frozen=True)
class PastedCase:
    text: str
    source: str  # the page's address, "" to take it from the text's first line
    award: str | None  # None: the award is recognised from the text


class PasteCaseDialog(QtWidgets.QDialog):
    """The text, where it came from, and (when the user knows better) its award."""

    def __init__(self, text: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("粘贴案例")
        self.resize(720, 560)
        self.source = QtWidgets.QLineEdit()
        self.source.setPlaceholderText("来源网址（可选），如 https://www.17pr.com/news/detail/…")
        self.source.setClearButtonEnabled(True)
        self.award = QtWidgets.QComboBox()
        self.award.addItem("自动识别奖项", None)
        for key, name in award_labels().items():
            self.award.addItem(name, key)
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setPlaceholderText(HINT)
        self.text.setPlainText(text)
        self.count = QtWidgets.QLabel()
        self.count.setStyleSheet("color:#666;")
        self.text.textChanged.connect(self._update)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("导入案例库")
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        paste = QtWidgets.QPushButton("从剪贴板粘贴")
        paste.clicked.connect(self.paste_clipboard)

        form = QtWidgets.QFormLayout()
        form.addRow("来源", self.source)
        form.addRow("奖项", self.award)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(paste)
        bottom.addWidget(self.count, 1)
        bottom.addWidget(buttons)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.text, 1)
        layout.addLayout(bottom)
        self.text.setFocus(Qt.FocusReason.OtherFocusReason)
        self._update()

    def paste_clipboard(self) -> None:
        clip = QtGui.QGuiApplication.clipboard().text()
        if clip:
            self.text.setPlainText(clip)

    def _update(self) -> None:
        n = len("".join(self.text.toPlainText().split()))
        self.count.setText(f"{n} 字" if n else "还没有内容")
        self.ok.setEnabled(n > 0)

    def case(self) -> PastedCase:
        return PastedCase(
            self.text.toPlainText(), self.source.text().strip(), self.award.currentData()
        )
