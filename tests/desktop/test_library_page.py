"""案例库: import the corpus with per-file results, filter and sort the table, read a case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SEEDS = Path(__file__).resolve().parents[2] / "corpus" / "cases"


@pytest.fixture
def import_corpus(window: Any, wait_job: Any) -> Any:
    def run(paths: list[str] | None = None) -> Any:
        page = window.library_page
        wait_job(page.import_paths(paths or [str(SEEDS)]))
        return page

    return run


def test_import_folder_fills_the_table_and_reports_each_file(
    qtbot: Any, window: Any, import_corpus: Any
) -> None:
    page = import_corpus()
    assert page.model.rowCount() == 5
    results = page.results_model.records()
    assert len(results) == 5 and {r.status for r in results} == {"imported"}
    assert page.results_box.isVisible()
    assert "已导入 5" in page.results_summary.text()
    assert page.count_label.text() == "5 个案例"


def test_bad_files_are_reported_and_the_rest_imported(
    qtbot: Any, window: Any, import_corpus: Any, wait_job: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "slides.pptx"
    bad.write_bytes(b"PK\x03\x04 not really")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    page = import_corpus([str(SEEDS / "000_1553ac701a01ae2f.txt"), str(bad), str(empty)])
    by_name = {Path(r.path).name: r for r in page.results_model.records()}
    assert by_name["000_1553ac701a01ae2f.txt"].status == "imported"
    assert by_name["slides.pptx"].status == "failed" and "PDF" in by_name["slides.pptx"].message
    assert by_name["empty.txt"].status == "failed"
    assert window.message_bar.isVisible() and "2 个文件未能导入" in window.message_bar.text
    # Importing again skips what is unchanged.
    import_corpus([str(SEEDS / "000_1553ac701a01ae2f.txt")])
    assert [r.status for r in page.results_model.records()] == ["unchanged"]


def test_filters_and_case_view_with_highlighted_metrics(
    qtbot: Any, window: Any, import_corpus: Any
) -> None:
    page = import_corpus()
    page.award_filter.setCurrentIndex(page.award_filter.findData("golden_mouse"))
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=3000)
    page.award_filter.setCurrentIndex(0)
    page.text_filter.setText("华为")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=3000)
    page.table.selectRow(0)
    html = page.view.toHtml()
    assert "营销背景" in html and "广告主" in html
    assert "background-color:#ffe9a8" in html  # metrics marked in the text
    assert page.view.case is not None and page.view.case.metrics


def test_table_sorts_by_number_of_metrics(qtbot: Any, window: Any, import_corpus: Any) -> None:
    page = import_corpus()
    column = [c.header for c in page.model.columns].index("指标")
    page.table.sortByColumn(
        column, page.table.horizontalHeader().sortIndicatorOrder().DescendingOrder
    )
    counts = [int(page.proxy.index(r, column).data()) for r in range(page.proxy.rowCount())]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0


def test_remove_a_case(window: Any, import_corpus: Any, no_dialogs: list[str]) -> None:
    page = import_corpus()
    page.table.selectRow(0)
    page.remove_selected()
    assert page.model.rowCount() == 4
    assert any("删除" in q or "1 个案例" in q for q in no_dialogs)


def test_dropping_files_imports_them(window: Any, wait_job: Any) -> None:
    from desktop.qt import QtCore, QtGui

    page = window.library_page
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(SEEDS / "002_a53a9a3b271d87af.txt"))])
    pos = QtCore.QPointF(10, 10)
    buttons, mods = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier
    enter = QtGui.QDragEnterEvent(
        pos.toPoint(), QtCore.Qt.DropAction.CopyAction, mime, buttons, mods
    )
    page.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QtGui.QDropEvent(pos, QtCore.Qt.DropAction.CopyAction, mime, buttons, mods)
    page.dropEvent(drop)
    wait_job(page._import_job)
    assert page.model.rowCount() == 1


def test_cancel_import_keeps_finished_files(
    qtbot: Any, window: Any, import_corpus: Any, wait_job: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    text = (SEEDS / "000_1553ac701a01ae2f.txt").read_text(encoding="utf-8")
    for i in range(200):
        (folder / f"{i:03d}.txt").write_text(text + f"\n编号 {i}\n", encoding="utf-8")
    page = window.library_page
    job = page.import_paths([str(folder)])
    qtbot.waitUntil(lambda: job.progress is not None and job.progress.done >= 1, timeout=30_000)
    page.cancel_import()
    wait_job(job)
    n = len(window.session.library)
    assert 1 <= n < 200
    assert page.model.rowCount() == n
    assert "取消" in window.message_bar.text
    # What finished is listed, file by file, with what was left undone.
    results = page.results_model.records()
    assert len(results) == n and {r.status for r in results} == {"imported"}
    assert page.results_box.isVisible()
    assert f"已导入 {n}" in page.results_summary.text()
    assert f"{200 - n} 个文件未处理" in page.results_summary.text()


def test_the_table_fills_while_a_long_import_runs(
    qtbot: Any, window: Any, wait_job: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    text = (SEEDS / "000_1553ac701a01ae2f.txt").read_text(encoding="utf-8")
    for i in range(300):
        (folder / f"{i:03d}.txt").write_text(text + f"\n编号 {i}\n", encoding="utf-8")
    page = window.library_page
    job = page.import_paths([str(folder)])
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=60_000)
    assert page.importing  # cases show up before the import is over
    assert page.table_stack.currentWidget() is page.table  # not "案例库还是空的"
    assert page.results_model.rowCount() > 0 and "正在导入" in page.results_summary.text()
    page.cancel_import()
    wait_job(job)


PASTED = (
    "https://www.17pr.com/news/detail/136934.html\n"
    "品牌洞察\n2014金旗奖候选案例:天风证券“我是球探”世界杯营销案例\n"
    "  事件名称:天风证券“我是球探”世界杯营销案例\n  执行时间:2014年6月28日至2014年7月31日\n"
    "  企业名称:天风证券股份有限公司\n  项目背景:\n"
    "  天风证券展开本次世界杯营销活动,主要从品牌传播及目标受众契合两个方面考虑。\n"
    "  项目调研:\n  通过对天风内部进行访谈,了解潜在客户对于天风证券的品牌认知。\n"
)


def test_a_pasted_case_is_imported_and_shown(qtbot: Any, window: Any, wait_job: Any) -> None:
    from desktop.widgets.pastecase import PastedCase

    page = window.library_page
    wait_job(page.paste_case(PastedCase(PASTED, "", None)))
    assert page.model.rowCount() == 1
    [result] = page.results_model.records()
    assert (result.status, result.path) == (
        "imported",
        "https://www.17pr.com/news/detail/136934.html",
    )
    qtbot.waitUntil(lambda: page.view.case is not None, timeout=3000)
    case = page.view.case
    assert case.award == "jinqi" and [s.title for s in case.sections] == ["项目背景", "项目调研"]
    assert "项目背景" in page.view.toHtml()
    # the same text again is one case, not two
    wait_job(page.paste_case(PastedCase(PASTED, "", None)))
    assert page.model.rowCount() == 1 and page.results_model.records()[0].status == "unchanged"


def test_the_paste_dialog_takes_text_a_source_and_an_award(qtbot: Any) -> None:
    from desktop.widgets.pastecase import PasteCaseDialog

    dialog = PasteCaseDialog()
    qtbot.addWidget(dialog)
    assert not dialog.ok.isEnabled()  # nothing to import yet
    dialog.text.setPlainText("项目背景\n正文。")
    dialog.source.setText(" https://example.com/case ")
    dialog.award.setCurrentIndex(dialog.award.findData("cipra"))
    assert dialog.ok.isEnabled() and "字" in dialog.count.text()
    case = dialog.case()
    assert (case.text, case.source, case.award) == (
        "项目背景\n正文。",
        "https://example.com/case",
        "cipra",
    )


def test_text_dropped_from_a_browser_opens_the_paste_dialog(window: Any, monkeypatch: Any) -> None:
    from desktop.qt import QtCore, QtGui

    page = window.library_page
    opened: list[tuple[str, str]] = []
    monkeypatch.setattr(
        page, "choose_paste", lambda text="", source="": opened.append((text, source))
    )
    mime = QtCore.QMimeData()
    mime.setText("项目背景\n正文。")
    mime.setUrls([QtCore.QUrl("https://example.com/case/1")])
    pos = QtCore.QPointF(10, 10)
    buttons, mods = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier
    enter = QtGui.QDragEnterEvent(
        pos.toPoint(), QtCore.Qt.DropAction.CopyAction, mime, buttons, mods
    )
    page.dragEnterEvent(enter)
    assert enter.isAccepted()
    page.dropEvent(QtGui.QDropEvent(pos, QtCore.Qt.DropAction.CopyAction, mime, buttons, mods))
    assert opened == [("项目背景\n正文。", "https://example.com/case/1")]
