"""设置 → 修复案例库: check the library, restore the newest good backup, salvage a damaged one.

The work is :mod:`analyzer.library.doctor` run in a worker; this box only asks, starts it and
shows its one-line result. A restore or salvage replaces the library file, so it runs only when
no other job uses the library, with the session's library closed first and reopened after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop.qt import QtWidgets

if TYPE_CHECKING:
    from analyzer.library.doctor import Diagnosis, Repair
    from desktop.session import Session
    from desktop.workers import Job


def describe(found: Diagnosis) -> str:
    """The check's result in the app's words (the CLI's advice names CLI options)."""
    good = found.good_backup
    backup = f"最新的完好备份：{good.label}（{good.cases} 个案例）" if good else "没有可用的备份"
    if found.ok:
        cases = f"，{found.cases} 个案例" if found.cases is not None else ""
        return f"案例库完好{cases}。{backup}。"
    what = f"案例库已损坏（{found.problem}）。{backup}。"
    if good:
        return what + "可以“从备份恢复”，或“抢救可读的案例”（并补上备份里才有的案例）。"
    return what + "可以“抢救可读的案例”。"


class RepairBox(QtWidgets.QGroupBox):
    def __init__(self, session: Session, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("修复案例库", parent)
        self.session = session
        self.status = QtWidgets.QLabel(
            "检查案例库文件是否完好；每次导入或删除后会自动备份（保留最近 3 份）。"
            "恢复或抢救时，原来的文件会保留在案例库文件夹中，不会删除。"
        )
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color:#666")
        self.check_button = QtWidgets.QPushButton("检查")
        self.check_button.setToolTip("检查案例库文件和每份备份是否完好")
        self.check_button.clicked.connect(self.check)
        self.restore_button = QtWidgets.QPushButton("从备份恢复")
        self.restore_button.setToolTip("用最新的完好备份替换案例库（原文件保留）")
        self.restore_button.clicked.connect(self.restore)
        self.salvage_button = QtWidgets.QPushButton("抢救可读的案例")
        self.salvage_button.setToolTip(
            "从损坏的案例库中取出仍可读取的案例，补上备份里才有的，建成新的案例库（原文件保留）"
        )
        self.salvage_button.clicked.connect(self.salvage)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.check_button, self.restore_button, self.salvage_button):
            buttons.addWidget(button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.job: Job | None = None

    def _buttons(self) -> tuple[QtWidgets.QPushButton, ...]:
        return (self.check_button, self.restore_button, self.salvage_button)

    def check(self) -> Job | None:
        from analyzer.library.doctor import diagnose

        home = self.session.home
        return self._start("检查案例库", lambda job: diagnose(home), self._checked)

    def restore(self) -> Job | None:
        from analyzer.library.doctor import restore

        ask = "用最新的完好备份替换当前案例库？备份之后导入或删除的改动会撤销；原来的文件会保留。"
        return self._repair("恢复案例库", ask, restore)

    def salvage(self) -> Job | None:
        from analyzer.library.doctor import salvage

        ask = "从损坏的案例库中抢救可读的案例并建成新的案例库？原来的文件会保留。"
        return self._repair("抢救案例库", ask, salvage)

    # ------------------------------------------------------------------ internals

    def _repair(self, name: str, question: str, fn: Any) -> Job | None:
        if self.session.runner.busy:
            self.session.error(f"无法{name}：后台任务进行中，请等它完成或取消后再试。")
            return None
        answer = QtWidgets.QMessageBox.question(self, name, question)
        if answer != QtWidgets.QMessageBox.StandardButton.Yes:
            return None
        self.session.close_library()  # reopened on next use, after the file is replaced
        home = self.session.home
        return self._start(name, lambda job: fn(home), self._repaired)

    def _start(self, name: str, work: Any, done: Any) -> Job | None:
        if self.job is not None:
            return None
        for button in self._buttons():
            button.setEnabled(False)
        self.status.setText(f"正在{name}…")
        job = self.session.runner.start(name, work)
        self.job = job
        job.signals.finished.connect(done)
        job.signals.error.connect(self._failed)
        job.signals.done.connect(self._over)
        return job

    def _checked(self, found: Diagnosis) -> None:
        self.status.setText(describe(found))
        self.status.setStyleSheet("" if found.ok else "color:#b00020")

    def _repaired(self, repair: Repair) -> None:
        self.status.setText(repair.message)
        self.status.setStyleSheet("")
        self.session.library_changed.emit()
        self.session.info(repair.message)

    def _failed(self, message: str) -> None:
        self.status.setText(message)
        self.status.setStyleSheet("color:#b00020")
        self.session.error(message)

    def _over(self) -> None:
        self.job = None
        for button in self._buttons():
            button.setEnabled(True)
