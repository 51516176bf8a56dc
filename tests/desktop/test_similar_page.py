"""相似案例: search by a description or the draft, open a hit, copy a passage into the draft."""

from __future__ import annotations

from typing import Any


def test_search_lists_cases_with_level_section_and_highlighted_snippet(
    imported: Any, wait_job: Any
) -> None:
    from desktop.qt import Qt

    page = imported.similar_page
    page.query.setPlainText("华为云垃圾分类 AI 开发大赛，环保公益")
    wait_job(page.start_search())
    hits = page.model.records()
    assert hits and "华为" in hits[0].title
    assert all(h.score > 0 for h in hits)
    assert page.proxy.index(0, 3).data()  # 匹配章节 is shown
    # A level a user can read, not a share of the best hit: the match 高, unrelated cases 低.
    levels = [page.proxy.index(r, 0).data() for r in range(page.proxy.rowCount())]
    assert levels[0] == "高" and levels.count("高") == 1
    assert set(levels[1:]) <= {"中", "低"} and "低" in levels
    tip = page.proxy.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "共同词" in tip and "垃圾" in tip
    detail = page.detail.toPlainText()
    assert "匹配度 高" in detail and "共同词" in detail
    html = page.detail.toHtml()
    assert "background-color:#c8e6ff" in html  # matched terms highlighted
    assert "找到" in page.status.text()


def test_changing_a_filter_searches_again_and_levels_stay_absolute(
    imported: Any, qtbot: Any
) -> None:
    """Before, a filter change did nothing until 搜索, and the best remaining hit read 100 %."""
    page = imported.similar_page
    page.query.setPlainText("华为云垃圾分类 AI 开发大赛")
    page.start_search()
    qtbot.waitUntil(lambda: not page.searching and page.model.rowCount() > 0, timeout=60_000)
    before = {h.case_id: page.proxy.index(r, 0).data() for r, h in enumerate(page.model.records())}
    page.award.setCurrentIndex(page.award.findData("jinqi"))
    qtbot.waitUntil(lambda: page.searching, timeout=5_000)  # no 搜索 needed
    qtbot.waitUntil(lambda: not page.searching, timeout=60_000)
    hits = page.model.records()
    assert hits and {h.award for h in hits} == {"jinqi"}
    for r, h in enumerate(hits):
        assert page.proxy.index(r, 0).data() == before[h.case_id] == "低"
    page.industry.setText("汽车")  # typing: one search after the pause, not one per key
    qtbot.waitUntil(lambda: page.searching, timeout=5_000)
    qtbot.waitUntil(lambda: not page.searching, timeout=60_000)
    assert page.model.rowCount() == 0 and "放宽筛选条件" in page.status.text()


def test_a_failed_search_does_not_leave_a_loading_line(
    imported: Any, wait_job: Any, monkeypatch: Any
) -> None:
    from analyzer.errors import ModelError

    page = imported.similar_page

    def broken(texts: list[str]) -> Any:
        raise ModelError("模型文件损坏")

    monkeypatch.setattr(imported.session.models["embedder"], "embed_queries", broken)
    page.query.setPlainText("垃圾分类")
    wait_job(page.start_search())
    assert "搜索失败" in imported.message_bar.text and "模型文件损坏" in imported.message_bar.text
    assert "正在" not in page.status.text() and "搜索失败" in page.status.text()


def test_filters_narrow_the_results(imported: Any, wait_job: Any) -> None:
    page = imported.similar_page
    page.query.setPlainText("营销")
    page.award.setCurrentIndex(page.award.findData("golden_mouse"))
    wait_job(page.start_search())
    assert {h.award for h in page.model.records()} == {"golden_mouse"}


def test_open_case_and_copy_exemplar_into_the_draft(imported: Any, wait_job: Any) -> None:
    page = imported.similar_page
    page.query.setPlainText("垃圾分类 AI 大赛")
    wait_job(page.start_search())
    hit = page.current_hit()
    page.copy_exemplar()
    [exemplar] = imported.draft_page.form.exemplars()
    assert exemplar.case_id == hit.case_id and exemplar.text
    assert imported.draft_page.dirty
    page.open_current_case()
    assert imported.current_page() is imported.library_page
    assert imported.library_page.view.case.id == hit.case_id


def test_use_current_draft_as_query(imported: Any, wait_job: Any) -> None:
    draft = imported.draft_page
    draft.editors["background"].set_text(
        "垃圾分类是城市治理的难题，我们举办 AI 开发者大赛号召公众参与环保。"
    )
    draft.search_requested.emit()
    assert imported.current_page() is imported.similar_page
    wait_job(imported.similar_page._job)
    assert "垃圾分类" in imported.similar_page.query.toPlainText()
    assert imported.similar_page.model.rowCount() > 0


def test_empty_query_is_a_message_not_a_search(imported: Any) -> None:
    page = imported.similar_page
    assert page.start_search() is None
    assert "请先输入" in imported.message_bar.text


def test_an_empty_library_says_what_to_do(window: Any) -> None:
    page = window.similar_page
    page.query.setPlainText("垃圾分类")
    assert page.start_search() is None
    assert "案例库是空的" in window.message_bar.text


def test_a_removed_case_is_not_found_any_more(imported: Any, wait_job: Any) -> None:
    page = imported.similar_page
    page.query.setPlainText("垃圾分类 AI 大赛")
    wait_job(page.start_search())
    first = page.model.records()[0].case_id
    imported.library_page.remove_cases([first])
    wait_job(page.start_search())
    assert first not in {h.case_id for h in page.model.records()}


def test_a_second_search_replaces_the_running_one(imported: Any, qtbot: Any) -> None:
    page = imported.similar_page
    page.query.setPlainText("营销")
    page.award.setCurrentIndex(page.award.findData("tma"))
    first = page.start_search()
    assert first is not None
    page.award.setCurrentIndex(page.award.findData("golden_mouse"))
    assert page.start_search() is None  # queued behind the first, which is being stopped
    assert "随后开始新的搜索" in page.status.text()
    qtbot.waitUntil(lambda: not page.searching, timeout=60_000)
    hits = page.model.records()
    assert hits and {h.award for h in hits} == {"golden_mouse"}
    assert "找到" in page.status.text()


def test_using_an_empty_draft_says_so_instead_of_searching_its_headings(imported: Any) -> None:
    imported.draft_page.search_requested.emit()
    assert imported.similar_page._job is None
    assert "当前草稿还是空的" in imported.message_bar.text


def test_a_reference_document_hit_names_its_section_in_chinese(imported: Any) -> None:
    from analyzer.search.query import SearchHit

    page = imported.similar_page
    case = next(c for c in imported.session.library.list_cases() if not c.award)
    for title in ("", "body"):  # no title, or the key standing in for one
        hit = SearchHit(case.id, case.title, case.source, 0.03, "body", title, "营销科技", [], None)
        page.show_results([hit])
        assert page.proxy.index(0, 3).data() == "正文"
        assert "匹配章节：正文" in page.detail.toPlainText()
        assert page.proxy.index(0, 0).data() == "低（词）"  # nothing to compare: said so


def test_a_damaged_index_is_rebuilt_and_the_user_told(imported: Any, wait_job: Any) -> None:
    from analyzer.paths import index_dir
    from analyzer.search import index
    from analyzer.search.index import DB_NAME

    page = imported.similar_page
    page.query.setPlainText("垃圾分类 AI 大赛")
    wait_job(page.start_search())
    for opened in list(index._OPEN.values()):  # as after a restart of the app
        opened.close()
    db = index_dir(imported.session.home) / DB_NAME
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    db.write_bytes(b"not a database" * 100)
    wait_job(page.start_search())
    assert "华为" in page.model.records()[0].title  # found again, from the rebuilt index
    assert "已损坏" in imported.message_bar.text and DB_NAME in imported.message_bar.text
