"""An inline message bar at the top of the window: errors and notices without a modal dialog."""

from __future__ import annotations

from desktop.qt import Qt, QtCore, QtWidgets

STYLES = {
    "error": ("#fdecea", "#b00020", "错误"),
    "warning": ("#fff4e5", "#8a5300", "注意"),
    "info": ("#e8f4fd", "#0b4f8a", "提示"),
}


class MessageBar(QtWidgets.QFrame):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QtWidgets.QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QtWidgets.QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("关闭提示")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.level = ""
        self.hide()

    def show_message(self, level: str, text: str) -> None:
        background, color, prefix = STYLES.get(level, STYLES["info"])
        self.level = level
        self.setStyleSheet(
            f"MessageBar {{ background:{background}; border:1px solid {color}; border-radius:4px; }}"
            f" QLabel {{ color:{color}; }}"
        )
        self.label.setText(f"<b>{prefix}：</b>{_escape(text)}")
        self.show()
        # Errors stay until the user closes them; notices go away by themselves.
        if level == "error":
            self._timer.stop()
        else:
            self._timer.start(8000 if level == "info" else 15000)

    @property
    def text(self) -> str:
        return self.label.text()


def _escape(text: str) -> str:
    import html

    return html.escape(text).replace("\n", "<br>")
