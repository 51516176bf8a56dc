"""Errors and notices without a modal dialog: a card floating over the status bar.

It floats instead of taking a place in the layout: a notice that appeared above the page pushed
everything down ~45 px and back when it went, moving buttons under the cursor. It lies over the
status bar's left part (where passing messages go anyway), from the page's left edge to the
permanent widgets on the right, so a one-line message covers nothing a user clicks; a longer one
grows upwards over the bottom of the page. Notices go away by themselves (not while the pointer
is on them); errors stay until closed.
"""

from __future__ import annotations

from collections.abc import Callable

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
    """``area()`` gives where it may lie: a rectangle in the parent's coordinates whose bottom
    it sits on and whose width it takes (default: the bottom of the parent)."""

    def __init__(
        self,
        parent: QtWidgets.QWidget | None = None,
        area: Callable[[], QtCore.QRect] | None = None,
    ) -> None:
        super().__init__(parent)
        self.area = area
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 1, 3, 1)  # one line is as tall as the status bar
        self.label = QtWidgets.QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QtWidgets.QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("关闭提示")
        close.setFixedSize(18, 18)
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
        """On the bottom of its area, as wide as the area (a long text grows upwards)."""
        parent = self.parentWidget()
        if parent is None:
            return
        if self.area is not None:
            area = self.area()
        else:
            area = parent.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        width = max(120, area.width())
        layout = self.layout()
        height = (
            layout.totalHeightForWidth(width)
            if layout is not None and layout.hasHeightForWidth()
            else self.sizeHint().height()
        )
        height = max(height, area.height())
        self.setGeometry(area.left(), max(0, area.bottom() + 1 - height), width, height)

    def _expire(self) -> None:
        if self.underMouse():  # being read: wait
            self._timer.start(2000)
        else:
            self.hide()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        resized = event.type() == QtCore.QEvent.Type.Resize
        if resized and watched is self.parentWidget() and self.isVisible():
            QtCore.QTimer.singleShot(0, self._place)  # after the parent's layout followed
        return False


def _escape(text: str) -> str:
    import html

    return html.escape(text).replace("\n", "<br>")
