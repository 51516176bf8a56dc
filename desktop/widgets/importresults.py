"""导入结果: the per-file results of an import (imported / updated / skipped / failed and why)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from desktop.models import RecordTableModel, import_columns
from desktop.qt import QtWidgets

if TYPE_CHECKING:
    from analyzer.library.store import FileResult


def counts_text(results: list[FileResult]) -> str:
    counts = Counter(r.status for r in results)
    return "，".join(
        [
            f"已导入 {counts['imported']}",
            f"已更新 {counts['updated']}",
            f"跳过 {counts['unchanged'] + counts['duplicate']}",
            f"失败 {counts['failed']}",
        ]
    )


class ImportResults(QtWidgets.QGroupBox):
    """A table of one result per file with a summary line; hidden until an import shows it."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("导入结果", parent)
        self.model: RecordTableModel[Any] = RecordTableModel(import_columns(), self)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.summary = QtWidgets.QLabel()
        close = QtWidgets.QPushButton("关闭导入结果")
        close.clicked.connect(self.hide)
        box = QtWidgets.QVBoxLayout(self)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(close)
        box.addLayout(top)
        box.addWidget(self.table)
        self.hide()

    def show_results(self, results: list[FileResult], head: str) -> None:
        self.model.set_records(results)
        self.table.resizeColumnsToContents()
        self.summary.setText(head + counts_text(results))
        self.show()
