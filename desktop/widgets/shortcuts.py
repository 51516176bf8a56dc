"""The F1 list of keyboard shortcuts: a small window that stays until it is closed."""

from __future__ import annotations

import html

from desktop.qt import Qt, QtWidgets

SHORTCUTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("全局", (("Ctrl+1…5", "切换页面"), ("Esc", "停止生成 / 取消本页任务"), ("F1", "快捷键"))),
    (
        "案例库",
        (
            ("Ctrl+I", "导入文件"),
            ("Ctrl+Shift+I", "导入文件夹"),
            ("Ctrl+F", "筛选"),
            ("Delete", "删除所选案例"),
            ("F5", "刷新"),
        ),
    ),
    ("相似案例", (("Ctrl+Enter", "搜索"), ("Ctrl+Shift+C", "复制为范例"))),
    (
        "撰写",
        (
            ("Ctrl+N", "新建"),
            ("Ctrl+O", "打开"),
            ("Ctrl+S", "保存"),
            ("Ctrl+Shift+S", "另存为"),
            ("Ctrl+E", "导出"),
            ("Ctrl+Enter", "生成全文"),
            ("Ctrl+K", "检查此稿"),
            ("Ctrl+Shift+F", "找相似案例"),
        ),
    ),
    ("检查", (("Ctrl+R", "检查当前草稿"), ("Ctrl+O", "检查文件"), ("Ctrl+E", "导出报告"))),
    ("设置", (("Ctrl+S", "应用"),)),
)


def shortcuts_text() -> str:
    """The list as plain text, one line per page (``Ctrl+S 保存`` …)."""
    return "\n".join(
        f"{area}：" + " · ".join(f"{keys} {what}" for keys, what in items)
        for area, items in SHORTCUTS
    )


class ShortcutsDialog(QtWidgets.QDialog):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("快捷键")
        rows = []
        for area, items in SHORTCUTS:
            rows.append(
                f"<tr><td colspan='2' style='padding-top:8px'><b>{html.escape(area)}</b></td></tr>"
            )
            rows += [
                f"<tr><td style='padding:1px 18px 1px 8px; color:#0b4f8a'>{html.escape(k)}</td>"
                f"<td>{html.escape(w)}</td></tr>"
                for k, w in items
            ]
        self.label = QtWidgets.QLabel(f"<table cellspacing='0'>{''.join(rows)}</table>")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QtWidgets.QPushButton("关闭")
        close.setDefault(True)
        close.clicked.connect(self.close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)

    @property
    def text(self) -> str:
        return shortcuts_text()
