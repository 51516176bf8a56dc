"""撰写 as a document: save / open, autosave and crash recovery, export, award switch, marks."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def fill(page: Any) -> None:
    page.form.title.setText("城市垃圾分类 AI 挑战赛")
    page.form.field_edits["advertiser"].setText("华为云")
    page.form.notes["background"].setPlainText("垃圾分类新规实施，公众分类准确率低。")
    page.form.results.add_row("曝光", "3000 万+", "平台后台")
    page.editors["background"].set_text("2019 年垃圾分类新规实施。")
    page.editors["results"].set_text("总曝光 3000 万+，转化【待核实】。")


def test_save_and_open_again(window: Any, tmp_path: Path) -> None:
    page = window.draft_page
    fill(page)
    assert page.dirty and window.isWindowModified()
    assert page.save_to(tmp_path / "entry.awdraft")
    assert not page.dirty and page.doc_label.text() == "entry.awdraft"
    page.new_document()
    assert page.editors["background"].text() == ""
    assert page.open_path(tmp_path / "entry.awdraft")
    assert page.form.title.text() == "城市垃圾分类 AI 挑战赛"
    assert page.form.field_edits["advertiser"].text() == "华为云"
    assert page.form.results.rows() == [
        {"measure": "曝光", "value": "3000 万+", "source": "平台后台"}
    ]
    assert page.editors["results"].text() == "总曝光 3000 万+，转化【待核实】。"


def test_typing_is_autosaved_and_recovered_after_a_crash(qtbot: Any, no_dialogs: Any) -> None:
    from desktop.mainwindow import MainWindow

    first = MainWindow()
    qtbot.addWidget(first)
    page = first.draft_page
    fill(page)
    page.editors["strategy"].edit.insertPlainText("手打的策略，一个字都不能丢")
    qtbot.waitUntil(lambda: bool(page.autosave.pending()), timeout=10_000)
    # The app dies: no close event, no save. A new window offers the autosaved draft.
    first.session.runner.shutdown(1000)
    first.hide()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    restored = second.draft_page
    qtbot.waitUntil(lambda: restored.banner.isVisible(), timeout=5000)
    assert "城市垃圾分类" in restored.banner.label.text()
    assert restored.restore_recovery()
    assert restored.editors["strategy"].text() == "手打的策略，一个字都不能丢"
    assert restored.form.title.text() == "城市垃圾分类 AI 挑战赛"
    assert restored.dirty and not restored.banner.isVisible()
    first.draft_page._dirty = False  # let the test's first window close quietly


def test_saving_removes_the_autosave_copy(qtbot: Any, window: Any, tmp_path: Path) -> None:
    page = window.draft_page
    fill(page)
    page.autosave_now()
    assert page.autosave.pending()
    page.save_to(tmp_path / "x.awdraft")
    assert page.autosave.pending() == []


def test_discarding_a_recovery_forgets_it(qtbot: Any, window: Any) -> None:
    from analyzer.documents.document import DraftDocument

    page = window.draft_page
    lost = DraftDocument.new("tma", title="丢失的草稿")
    page.autosave.write(lost)
    assert page.offer_recovery()
    page.discard_recovery()
    assert not page.banner.isVisible() and page.autosave.pending() == []


def test_export_word_markdown_and_pdf(window: Any, tmp_path: Path) -> None:
    page = window.draft_page
    fill(page)
    for name in ("entry.docx", "entry.md", "entry.pdf"):
        assert page.export_to(tmp_path / name), window.message_bar.text
    from docx import Document

    doc = Document(str(tmp_path / "entry.docx"))
    assert doc.paragraphs[0].text == "城市垃圾分类 AI 挑战赛"
    assert "## 营销背景" in (tmp_path / "entry.md").read_text(encoding="utf-8")
    pdf = (tmp_path / "entry.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(str(tmp_path / "entry.pdf")).pages)
    assert "营销背景" in text
    assert "待核实" in window.message_bar.text  # the user is told marks remain


def test_export_failure_is_a_message(window: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert not window.draft_page.export_to(blocker / "entry.docx")
    assert window.message_bar.level == "error" and "导出失败" in window.message_bar.text


def test_switching_award_rebuilds_sections_and_keeps_text(window: Any) -> None:
    page = window.draft_page
    fill(page)
    page.form.award.setCurrentIndex(page.form.award.findData("jinqi"))
    assert list(page.editors)[:6] == [
        "overview",
        "research",
        "planning",
        "execution",
        "evaluation",
        "highlights",
    ]
    assert page.editors["evaluation"].text() == "总曝光 3000 万+，转化【待核实】。"
    assert any(e.text() == "2019 年垃圾分类新规实施。" for e in page.editors.values())
    assert page.form.field_edits["brand"] is not None


def test_fact_guard_marks_are_visible(window: Any) -> None:
    page = window.draft_page
    editor = page.editors["results"]
    editor.set_text("曝光 5 亿【待核实】，【待补充：转化数据】")
    assert "2 处待核实/待补充" in editor.count_label.text()
    block = editor.edit.document().firstBlock()
    formats = block.layout().formats()
    colored = {block.text()[f.start : f.start + f.length] for f in formats}
    assert colored == {"【待核实】", "【待补充：转化数据】"}


def test_open_a_word_or_text_entry_as_a_new_draft(window: Any) -> None:
    seed = Path(__file__).resolve().parents[2] / "corpus" / "cases" / "000_1553ac701a01ae2f.txt"
    page = window.draft_page
    assert page.open_path(seed)
    assert page.path is None and page.dirty
    assert page.form.current_award() == "golden_mouse"
    assert all(e.text().strip() for e in page.editors.values())


def test_closing_with_unsaved_changes_asks(window: Any, no_dialogs: list[str]) -> None:
    fill(window.draft_page)
    window.close()
    assert no_dialogs == ["save"]


def test_model_choice_on_the_page_switches_the_drafting_model(window: Any, tmp_path: Path) -> None:
    folder = tmp_path / "Qwen2.5-3B-Instruct"
    folder.mkdir()
    window.session.models["generator"] = object()  # a loaded model
    settings = window.settings_page
    settings.generator.setCurrentIndex(settings.generator.findData("folder"))
    settings.generator_path.setText(str(folder))
    assert settings.apply()
    assert "generator" not in window.session.models  # the old model was let go
    choice = window.draft_page.model_choice
    assert choice.currentText() == "本地：Qwen2.5-3B-Instruct"
    choice.setCurrentIndex(0)
    choice.activated.emit(0)
    assert window.session.settings.generator == "bundled"
    assert window.session.settings.generator_path == str(folder)  # remembered for next time
    choice.activated.emit(choice.count() - 1)
    assert window.current_page() is window.settings_page


def test_pdf_text_copies_and_searches_as_the_real_characters(window: Any, tmp_path: Path) -> None:
    from pypdf import PdfReader

    page = window.draft_page
    page.form.title.setText("金鼠标数字营销大赛参赛作品")
    paragraph = (
        "2019 年垃圾分类新规实施，金鼠标大赛用户长期以来一直走在前面，"
        "见言、行、走、高、黄、鼠、龙、立、用，执行目标明确。"
    )
    page.editors["background"].set_text(paragraph)
    assert page.export_to(tmp_path / "entry.pdf"), window.message_bar.text
    text = "".join(p.extract_text() for p in PdfReader(str(tmp_path / "entry.pdf")).pages)
    assert "金鼠标数字营销大赛参赛作品" in text
    assert paragraph in text.replace("\n", "")  # lines wrap; the characters are the typed ones
    assert not [c for c in text if 0x2E80 <= ord(c) <= 0x2FDF]  # no Kangxi/CJK radicals


def test_exported_and_saved_files_are_readable_by_others_like_any_new_file(
    window: Any, tmp_path: Path
) -> None:
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    page = window.draft_page
    fill(page)
    for name in ("entry.docx", "entry.pdf"):
        assert page.export_to(tmp_path / name)
    assert page.save_to(tmp_path / "entry.awdraft")
    for name in ("entry.docx", "entry.pdf", "entry.awdraft"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~mask, name


def test_leaving_the_page_saves_what_was_just_typed(qtbot: Any, window: Any) -> None:
    from desktop.qt import QtWidgets

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.show_page(2)
    page = window.draft_page
    editor = page.editors["strategy"]
    editor.edit.setFocus()
    editor.edit.insertPlainText("刚打的字")  # typed (keyClicks takes ASCII only)
    assert QtWidgets.QApplication.focusWidget() is editor.edit
    window.show_page(0)  # focus moves to 案例库: the copy is written now, not seconds later
    [copy] = page.autosave.pending()
    assert copy.draft.section("strategy").text == "刚打的字"


def test_generated_text_is_autosaved_as_it_streams_and_when_done(
    qtbot: Any, window: Any, fake_generator: Any
) -> None:
    page = window.draft_page
    page.form.notes["strategy"].setPlainText("以 AI 大赛连接开发者与公众")
    page.editors["background"].set_text("手写的背景")
    page.autosave_now()
    fake_generator.delay = 0.15  # about ten seconds for the whole section

    def saved(key: str) -> str:
        copies = page.autosave.pending()
        return copies[0].draft.section(key).text if copies else ""

    page.generate_section("strategy")
    qtbot.waitUntil(lambda: len(saved("strategy")) >= 2, timeout=30_000)
    assert page.generating  # saved while the section was still being written
    page.stop_generation()
    qtbot.waitUntil(lambda: not page.generating, timeout=10_000)
    assert saved("strategy") == page.editors["strategy"].text()  # at once when it ended

    fake_generator.delay = 0.15
    page.generate_section("background")  # regenerating: the typed text is what a crash keeps
    qtbot.waitUntil(lambda: len(page.editors["background"].text()) >= 2, timeout=10_000)
    page.autosave_now()
    assert saved("background") == "手写的背景"
    page.stop_generation()
    qtbot.waitUntil(lambda: not page.generating, timeout=10_000)


def test_a_draft_written_by_the_command_line_opens_with_its_brief(
    window: Any, tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    """`award-writer draft BRIEF -o x.awdraft`, then the app: the form holds the brief."""
    from analyzer.cli import main

    class Canned:
        label = "fake"
        finish_reason = "eos"

        def stream(self, messages: Any, **kw: Any) -> Any:
            yield "示例茶饮在全国约 600 家门店，夏季是旺季。"

    monkeypatch.setattr("analyzer.llm.load_generator", lambda *a, **k: Canned())
    brief = Path(__file__).resolve().parents[2] / "corpus" / "briefs" / "golden_mouse.toml"
    out = tmp_path / "tea.awdraft"
    assert main(["draft", str(brief), "--no-exemplars", "--quiet", "-o", str(out)]) == 0
    page = window.draft_page
    assert page.open_path(out)
    assert page.form.title.text() == "“一杯夏天”城市限定季（示例）"
    assert page.form.field_edits["advertiser"].text() == "示例茶饮（虚构品牌）"
    assert "全国约 600 家门店" in page.form.notes["background"].toPlainText()
    assert {"measure": "活动期门店客流同比增长", "value": "27%", "source": "品牌 POS 系统"} in (
        page.form.results.rows()
    )
    assert page.editors["background"].text().startswith("示例茶饮在全国约 600 家门店")
    assert "- 微博话题阅读量：3.2亿" in page.editors["results"].text()


def test_the_case_name_is_one_field_not_a_title_and_a_header_field(window: Any) -> None:
    """金旗奖 has 案例名称 among its header fields: the form's title is that field, once."""
    page = window.draft_page
    page.form.award.setCurrentIndex(page.form.award.findData("jinqi"))
    assert "case_name" not in page.form.field_edits
    assert page.form.title_label.text() == "案例名称 *："
    page.form.title.setText("2020中国移动创客马拉松大赛")
    draft = page.current_document()
    assert draft.title == draft.fields["case_name"] == "2020中国移动创客马拉松大赛"
    labels = [
        page.form.fields_form.itemAt(r, page.form.fields_form.ItemRole.LabelRole).widget().text()
        for r in range(page.form.fields_form.rowCount())
    ]
    assert not any("案例名称" in label for label in labels)
    page.form.award.setCurrentIndex(page.form.award.findData("golden_mouse"))
    assert "case_name" not in page.current_document().fields  # not carried as a stray field
    assert page.form.title.text() == "2020中国移动创客马拉松大赛"


def test_exemplars_of_another_awards_case_are_set_aside_when_the_award_changes(
    window: Any, wait_job: Any
) -> None:
    from analyzer.library.exemplar import Exemplar

    seeds = Path(__file__).resolve().parents[2] / "corpus" / "cases"
    wait_job(window.library_page.import_paths([str(seeds)]))
    cases = {c.award: c for c in window.session.library.list_cases()}
    page = window.draft_page
    golden = Exemplar("大赛+公益的策略段落。", cases["golden_mouse"].id, "华为云", "strategy")
    reference = Exemplar("营销科技趋势。", cases[None].id, "AI 赋能", "body")
    page.add_exemplar(golden)
    page.add_exemplar(reference)
    page.form.award.setCurrentIndex(page.form.award.findData("jinqi"))
    assert page.form.exemplars() == [reference]  # a reference document serves any award
    assert "已移除 1 条" in window.message_bar.text and "金鼠标" in window.message_bar.text
    page.form.award.setCurrentIndex(page.form.award.findData("golden_mouse"))
    assert set(page.form.exemplars()) == {golden, reference}  # back with its award


def test_results_rows_show_whole_and_the_table_grows_with_them(window: Any) -> None:
    from desktop.qt import QtCore

    table = window.draft_page.form.results.table
    before = table.height()
    long_source = "微博话题页数据（2019 年 10 月 31 日截图，含转发与评论）"
    window.draft_page.form.results.add_row("社交媒体话题阅读量", "1.2 亿次", long_source)
    for n in range(3):
        window.draft_page.form.results.add_row(f"参与市民{n}", "10 万+", "主办方统计")
    assert table.height() > before
    assert table.verticalScrollBar().maximum() == 0  # nothing hidden below
    last = table.visualRect(table.model().index(3, 0))
    assert table.viewport().rect().contains(last)
    assert table.textElideMode() == QtCore.Qt.TextElideMode.ElideNone and table.wordWrap()


def test_at_800_by_600_the_model_choice_and_form_hold(window: Any, qtbot: Any) -> None:
    from desktop.qt import QtWidgets

    window.resize(800, 600)
    window.show_page(2)
    page = window.draft_page
    qtbot.waitUntil(lambda: window.width() <= 800)
    choice = page.model_choice
    assert choice.isVisible() and choice.width() >= 120  # not collapsed to "»"
    assert page.toolbar.findChild(QtWidgets.QComboBox) is None
    visible = [a for a in page.toolbar.actions() if a.isVisible() and a.text()]
    extension = page.toolbar.findChild(QtWidgets.QToolButton, "qt_toolbar_ext_button")
    assert extension is None or not extension.isVisible(), [a.text() for a in visible]
    form_scroll = page.form.parentWidget().parentWidget()
    assert not form_scroll.horizontalScrollBar().isVisible()


def test_pdf_and_word_exports_carry_no_markdown(window: Any, tmp_path: Path) -> None:
    from docx import Document
    from pypdf import PdfReader

    page = window.draft_page
    fill(page)
    page.editors["strategy"].set_text(
        "### 传播策略\n大赛以**公益**为主线。\n- 线上：平台开放数据【待核实】\n- 线下：两地工作坊\n"
        "1. 预热：七夕发布视频\n2. 引爆：联合发布\n| 指标 | 数值 |\n|---|---|\n| 曝光 | 3000 万+ |"
    )
    assert page.export_to(tmp_path / "entry.pdf") and page.export_to(tmp_path / "entry.docx")
    text = "".join(p.extract_text() for p in PdfReader(str(tmp_path / "entry.pdf")).pages)
    flat = "".join(text.split())  # runs and lines come out as separate lines
    assert (
        "传播策略" in flat and "大赛以公益为主线" in flat and "线上：平台开放数据【待核实】" in flat
    )
    assert "预热：七夕发布视频" in flat and "曝光" in flat and "3000万+" in flat
    assert "**" not in text and "###" not in text and "|" not in text
    assert not [line for line in text.splitlines() if line.lstrip().startswith("- ")]
    doc = Document(str(tmp_path / "entry.docx"))
    words = "\n".join(p.text for p in doc.paragraphs)
    assert "**" not in words and "###" not in words
    assert [p.style.name for p in doc.paragraphs if p.text.startswith("线")] == ["List Bullet"] * 2


def test_export_lists_the_marks_left_and_can_be_cancelled(
    window: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from desktop.pages.draft import DraftPage
    from desktop.qt import QtWidgets

    page = window.draft_page
    fill(page)  # 转化【待核实】 in the results
    target = tmp_path / "entry.docx"
    monkeypatch.setattr(
        QtWidgets.QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(target), ""))
    )
    asked: list[Any] = []

    def answer(self: Any, marks: Any) -> bool:
        asked.append(marks)
        return False  # 取消

    monkeypatch.setattr(DraftPage, "confirm_pending", answer)
    page.choose_export()
    [marks] = asked
    assert [(m.where, m.mark) for m in marks] == [("营销效果与市场反馈", "【待核实】")]
    assert "3000 万+，转化【待核实】" in marks[0].context
    assert not target.exists()
    monkeypatch.setattr(DraftPage, "confirm_pending", lambda self, marks: True)  # 仍然导出
    page.choose_export()
    assert target.exists() and "待核实" in window.message_bar.text
