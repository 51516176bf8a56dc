"""Errors and notices without a modal dialog: a card floating at the bottom of the page area.

It floats over the page instead of taking a place in the layout: a notice that appeared above
the page pushed everything down ~45 px and back when it went, moving buttons under the cursor.
Notices go away by themselves (not while the pointer is on them); errors stay until closed.
"""

from __future__ import annotations

from desktop.qt import Qt, QtCore, QtGui, QtWidgets

STYLES = {
    "error": ("#fdecea", "#b00020", "错误"),
    "warning": ("#fff4e5", "#8a5300", "注意"),
    "info": ("#e8f4fd", "#0b4f8a", "提示"),
}
MARGIN = 8
MAX_WIDTH = 760
SHOWN_MS = {"info": 8000, "warning": 15000}


class MessageBar(QtWidgets.QFrame):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
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
        shadow = QtWidgets.QGraphicsDropShadowEffect(self)
        shadow.setBlurRadius(14)
        shadow.setOffset(0, 2)
        shadow.setColor(QtGui.QColor(0, 0, 0, 70))
        self.setGraphicsEffect(shadow)
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._expire)
        self.level = ""
        if parent is not None:
            parent.installEventFilter(self)
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
        self.raise_()
        self._place()
        # Errors stay until the user closes them; notices go away by themselves.
        if level in SHOWN_MS:
            self._timer.start(SHOWN_MS[level])
        else:
            self._timer.stop()

    @property
    def text(self) -> str:
        return self.label.text()

    def _place(self) -> None:
        """At the bottom of the page area, as wide as its text needs (up to MAX_WIDTH)."""
        area = self.parentWidget()
        if area is None:
            return
        width = max(120, min(area.width() - 2 * MARGIN, MAX_WIDTH))
        layout = self.layout()
        height = (
            layout.totalHeightForWidth(width)
            if layout is not None and layout.hasHeightForWidth()
            else self.sizeHint().height()
        )
        self.setGeometry(MARGIN, max(0, area.height() - height - MARGIN), width, height)

    def _expire(self) -> None:
        if self.underMouse():  # being read: wait
            self._timer.start(2000)
        else:
            self.hide()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        resized = event.type() == QtCore.QEvent.Type.Resize
        if resized and watched is self.parentWidget() and self.isVisible():
            self._place()
        return False


def _escape(text: str) -> str:
    import html

    return html.escape(text).replace("\n", "<br>")
