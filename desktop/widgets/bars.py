"""A table cell that shows a share (``BAR_ROLE``, 0…1) as a bar behind its text."""

from __future__ import annotations

from typing import Any

from desktop.models import BAR_ROLE
from desktop.qt import Qt, QtCore, QtGui, QtWidgets

BAR_COLOR = "#c8e6ff"


class BarDelegate(QtWidgets.QStyledItemDelegate):
    def paint(
        self,
        painter: QtGui.QPainter,
        option: Any,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> None:
        share = index.data(BAR_ROLE)
        if isinstance(share, int | float) and share > 0:
            rect = QtCore.QRectF(option.rect).adjusted(2, 3, -2, -3)
            rect.setWidth(rect.width() * min(1.0, float(share)))
            painter.save()
            painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QtGui.QColor(BAR_COLOR))
            painter.drawRoundedRect(rect, 2, 2)
            painter.restore()
        super().paint(painter, option, index)
