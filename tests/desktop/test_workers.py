"""Jobs run off the GUI thread, report progress, stream text, cancel, and turn errors into messages."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from analyzer.errors import ReadError
from analyzer.progress import Progress


@pytest.fixture
def runner(qapp: Any) -> Any:
    from desktop.workers import JobRunner

    r = JobRunner(interval_ms=10)
    yield r
    r.shutdown(5000)


def test_result_streamed_text_and_progress_arrive_in_order(qtbot: Any, runner: Any) -> None:
    seen: list[Any] = []

    def work(job: Any) -> str:
        assert threading.current_thread() is not threading.main_thread()
        for i in range(3):
            job.post(f"字{i}")
            job.report(Progress(i + 1, 3, "step"))
            time.sleep(0.02)
        return "done"

    job = runner.start("test", work)
    job.signals.streamed.connect(lambda t: seen.append(("text", t)))
    job.signals.progress.connect(lambda p: seen.append(("progress", p.done)))
    job.signals.finished.connect(lambda v: seen.append(("finished", v)))
    with qtbot.waitSignal(job.signals.done, timeout=5000):
        pass
    assert "".join(t for k, t in seen if k == "text") == "字0字1字2"
    assert seen[-1] == ("finished", "done")
    assert ("progress", 3) in seen
    assert not runner.busy


def test_cancel_stops_between_steps(qtbot: Any, runner: Any) -> None:
    steps: list[int] = []

    def work(job: Any) -> None:
        for i in range(1000):
            job.token.raise_if_cancelled()
            steps.append(i)
            time.sleep(0.005)

    job = runner.start("long", work)
    cancelled: list[bool] = []
    job.signals.cancelled.connect(lambda: cancelled.append(True))
    qtbot.waitUntil(lambda: len(steps) > 3, timeout=5000)
    job.cancel()
    with qtbot.waitSignal(job.signals.done, timeout=5000):
        pass
    assert cancelled == [True]
    assert len(steps) < 1000


def test_errors_become_messages_not_tracebacks(qtbot: Any, runner: Any) -> None:
    def bad_file(job: Any) -> None:
        raise ReadError("/tmp/x.docx", "not a Word file")

    def bug(job: Any) -> None:
        raise ZeroDivisionError("division by zero")

    messages: list[str] = []
    for fn in (bad_file, bug):
        job = runner.start(fn.__name__, fn)
        job.signals.error.connect(messages.append)
        with qtbot.waitSignal(job.signals.done, timeout=5000):
            pass
    assert messages[0] == "/tmp/x.docx: not a Word file"
    assert "ZeroDivisionError" in messages[1] and "Traceback" not in messages[1]


def test_shutdown_cancels_and_waits(qapp: Any) -> None:
    from desktop.workers import JobRunner

    runner = JobRunner()
    finished = threading.Event()

    def work(job: Any) -> None:
        while not job.token.cancelled:
            time.sleep(0.01)
        finished.set()

    runner.start("forever", work)
    time.sleep(0.05)
    assert runner.shutdown(5000)
    assert finished.is_set()
    assert not runner.busy


def test_messages_for_unexpected_errors_are_chinese_and_end_once() -> None:
    import errno

    from desktop.workers import user_message

    missing = FileNotFoundError(errno.ENOENT, "No such file or directory", "/x/方案.docx")
    assert user_message(missing) == "文件或系统错误：/x/方案.docx：文件或文件夹不存在"
    text = user_message(RuntimeError("Cannot operate on a closed database."))
    assert "。。" not in text and ".。" not in text and text.endswith("详情已写入日志。")
