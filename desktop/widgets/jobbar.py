"""A progress bar with a label and a 取消 button, attached to one running :class:`Job` at a time."""

from __future__ import annotations

from analyzer.progress import Progress
from desktop.qt import QtWidgets
from desktop.workers import Job


class JobBar(QtWidgets.QWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QtWidgets.QLabel()
        self.label.setMinimumWidth(120)
        self.bar = QtWidgets.QProgressBar()
        self.bar.setTextVisible(True)
        self.cancel_button = QtWidgets.QPushButton("取消")
        self.cancel_button.setToolTip("取消正在进行的任务 (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.label, 2)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.cancel_button)
        self.job: Job | None = None
        self.step: tuple[int, int] | None = None
        self.hide()

    def attach(self, job: Job, title: str, step: tuple[int, int] | None = None) -> None:
        """Follow ``job``. ``step`` (n, of): the job is the n-th of a run of that many (a
        section of a draft): the bar counts the run, the job's own progress goes in the label."""
        self.job = job
        self.step = step
        self.title = title
        self.label.setText(title)
        self.label.setToolTip(title)
        if step is None:
            self.bar.setRange(0, 0)  # busy until the first progress report
        else:
            n, of = step
            self.bar.setRange(0, of)
            self.bar.setValue(n - 1)  # the sections before this one are done
            self.bar.setFormat(f"第 {n}/{of} 节")
        self.cancel_button.setEnabled(True)
        job.signals.progress.connect(self.show_progress)
        job.signals.done.connect(self._detach)
        self.show()

    def show_progress(self, p: Progress) -> None:
        if self.step is not None:  # a step of a run: its own progress is words, not the bar
            counted = f"（{p.done}/{p.total}）" if p.total > 0 and p.done < p.total else ""
            text = f"{p.message}{counted}" if p.message else self.title
            self.label.setToolTip(text)
            self.label.setText(text[:48])
            return
        if p.total > 0:
            self.bar.setRange(0, p.total)
            self.bar.setValue(min(p.done, p.total))
            self.bar.setFormat(f"{p.done}/{p.total}")
        if p.message:
            name = p.message.replace("\\", "/").rsplit("/", 1)[-1]
            self.label.setToolTip(p.message)
            self.label.setText(name[:40])

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText("正在取消…")

    def _detach(self) -> None:
        self.job = None
        self.hide()

    @property
    def running(self) -> bool:
        return self.job is not None
