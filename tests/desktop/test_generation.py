"""撰写 with a model: stream a section, stop it, regenerate with undo, the fact guard's marks."""

from __future__ import annotations

from typing import Any

from analyzer.errors import ModelError


def brief(page: Any) -> None:
    page.window().show_page(2)
    page.form.title.setText("城市垃圾分类 AI 挑战赛")
    page.form.field_edits["advertiser"].setText("华为云")
    page.form.notes["background"].setPlainText("垃圾分类新规实施\n公众分类准确率低")
    page.form.notes["strategy"].setPlainText("以 AI 大赛连接开发者与公众")
    page.form.results.add_row("曝光", "3000 万+", "平台后台")


def test_a_section_streams_in_and_passes_the_fact_guard(
    window: Any, fake_generator: Any, wait_job: Any
) -> None:
    page = window.draft_page
    brief(page)
    streamed: list[str] = []
    page.generation.streamed.connect(lambda key, text: streamed.append(key))
    page.generate_section("results")
    wait_job(page.generation._job)
    text = page.editors["results"].text()
    assert "3000 万+" in text and "真实用户故事" in text
    assert "【待核实】" not in text
    assert streamed and set(streamed) == {"results"}
    assert page.editors["results"].status_label.text() == "完成"
    assert page.dirty
    prompt = "".join(m["content"] for m in fake_generator.calls[0])
    assert "3000 万+" in prompt and "平台后台" in prompt


def test_a_section_with_numbers_the_brief_lacks_is_redone_then_written_from_the_brief(
    window: Any, fake_generator: Any, wait_job: Any
) -> None:
    """888 万 is not in the brief: every try is dropped as it fails, the user sees why, and the
    section ends written from the brief's facts, with no invented number."""
    fake_generator.text = "总曝光 3000 万+，另有 888 万次互动。"
    page = window.draft_page
    brief(page)
    restarts: list[str] = []
    page.generation.restarted.connect(lambda key, why: restarts.append(why))
    page.generate_section("results")
    wait_job(page.generation._job)
    text = page.editors["results"].text()
    assert "- 曝光：3000 万+（来源：平台后台）" in text and "888" not in text
    assert len(restarts) >= 1 and "简报里没有的数字" in restarts[0]
    assert "已按简报组织成文" in page.editors["results"].status_label.text()


def test_stop_keeps_what_was_written_so_far(qtbot: Any, window: Any, fake_generator: Any) -> None:
    fake_generator.delay = 0.05
    page = window.draft_page
    brief(page)
    page.generate_section("strategy")
    editor = page.editors["strategy"]
    qtbot.waitUntil(lambda: len(editor.text()) >= 3, timeout=10_000)
    assert editor.edit.isReadOnly() and editor.stop_button.isVisible()
    page.stop_action.trigger()
    qtbot.waitUntil(lambda: not page.generating, timeout=10_000)
    partial = editor.text()
    assert 3 <= len(partial) < len(fake_generator.text)
    assert not editor.edit.isReadOnly() and "已停止（未写完）" in editor.status_label.text()
    assert page.generate_action.isEnabled()


def test_a_stopped_section_still_says_so_after_reopening(
    qtbot: Any, window: Any, fake_generator: Any, tmp_path: Any
) -> None:
    """It used to lose its 已停止 label on reopening and look finished."""
    fake_generator.delay = 0.05
    page = window.draft_page
    brief(page)
    page.generate_section("strategy")
    editor = page.editors["strategy"]
    qtbot.waitUntil(lambda: len(editor.text()) >= 3, timeout=10_000)
    page.stop_generation()
    qtbot.waitUntil(lambda: not page.generating, timeout=10_000)
    assert editor.stopped
    assert page.save_to(tmp_path / "stopped.awdraft")
    page.close_document()
    page.new_document()
    assert not page.editors["strategy"].stopped
    assert page.open_path(tmp_path / "stopped.awdraft")
    reopened = page.editors["strategy"]
    assert reopened.stopped and "已停止（未写完）" in reopened.status_label.text()
    assert reopened.text() == editor.text() or reopened.text()
    assert not page.editors["background"].stopped
    # finished by hand: 标为完成 clears it, and that is saved too
    reopened.status_label.linkActivated.emit("done")
    assert not reopened.stopped and page.dirty
    assert page.current_document().section("strategy").state == ""


def test_progress_counts_the_runs_sections_not_the_model_loading_steps(
    qtbot: Any, window: Any, fake_generator: Any, monkeypatch: Any
) -> None:
    """A 6-section award read "2/4" (loading steps) while its first section sat at 0 字."""
    import desktop.generation as generation
    from analyzer.progress import Progress

    page = window.draft_page
    brief(page)
    page.form.award.setCurrentIndex(page.form.award.findData("jinqi"))
    keys = page.current_document().empty_sections()
    assert len(keys) == 6
    load = generation.load_generator

    def loading(session: Any, job: Any) -> Any:
        job.report(Progress(2, 4, "正在加载生成模型"))
        import time

        time.sleep(0.3)
        return load(session, job)

    monkeypatch.setattr(generation, "load_generator", loading)
    seen: list[tuple[str, str]] = []
    bar = page.job_bar
    bar.bar.valueChanged.connect(lambda _: seen.append((bar.bar.format(), bar.label.text())))
    page.generate_all()
    first = page.editors[keys[0]]
    qtbot.waitUntil(lambda: "加载" in bar.label.text(), timeout=10_000)
    assert bar.bar.format() == "第 1/6 节" and bar.bar.value() == 0
    assert "2/4" in bar.label.text() and "2/4" not in bar.bar.format()
    assert first.status_label.text() == "准备中…"
    assert page.editors[keys[1]].status_label.text() == "等待生成"
    qtbot.waitUntil(lambda: bar.bar.format() == "第 2/6 节", timeout=30_000)
    assert bar.bar.value() == 1 and first.text()
    page.stop_generation()
    qtbot.waitUntil(lambda: not page.generating, timeout=10_000)
    assert all(page.editors[k].status_label.text() != "等待生成" for k in keys)


def test_regenerate_replaces_the_text_and_undo_brings_it_back(
    window: Any, fake_generator: Any, wait_job: Any
) -> None:
    page = window.draft_page
    brief(page)
    editor = page.editors["background"]
    editor.set_text("我手写的背景。")
    page.generate_section("background")
    wait_job(page.generation._job)
    assert editor.text() != "我手写的背景。"
    editor.edit.undo()
    assert editor.text() == "我手写的背景。"


def test_generate_all_fills_only_empty_sections_in_order(
    window: Any, fake_generator: Any, qtbot: Any
) -> None:
    page = window.draft_page
    brief(page)
    page.editors["objectives"].set_text("手写的目标")
    order: list[str] = []
    page.generation.section_done.connect(lambda key, text, status: order.append(key))
    page.generate_all()
    qtbot.waitUntil(lambda: not page.generating, timeout=30_000)
    assert order == ["background", "strategy", "execution", "results"]
    assert page.editors["objectives"].text() == "手写的目标"
    assert "【待补充" in page.editors["execution"].text()  # no execution facts in the brief


def test_a_model_error_is_a_message(window: Any, wait_job: Any, monkeypatch: Any) -> None:
    import desktop.generation as generation

    def broken(session: Any, job: Any) -> Any:
        raise ModelError("model folder /models/qwen is incomplete: config.json is missing")

    monkeypatch.setattr(generation, "load_generator", broken)
    page = window.draft_page
    brief(page)
    page.generate_section("background")
    wait_job(page.generation._job)
    assert window.message_bar.level == "error"
    assert "config.json is missing" in window.message_bar.text
    assert not page.generating and page.editors["background"].generate_button.isEnabled()


def test_closing_the_window_while_generating_cancels(
    qtbot: Any, window: Any, fake_generator: Any
) -> None:
    fake_generator.delay = 0.05
    page = window.draft_page
    brief(page)
    page.generate_section("strategy")
    qtbot.waitUntil(lambda: len(page.editors["strategy"].text()) > 0, timeout=10_000)
    page._dirty = False
    assert window.close()
    assert not window.session.runner.busy


class StuckGenerator:
    """A model that never produces a token: it waits until it is stopped (or fails at once)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.finish_reason = ""
        self.waiting = False

    def stream(self, prompt_messages: Any, *, max_new_tokens: int, **kw: Any) -> Any:
        import time

        from analyzer.errors import Cancelled

        if self.error is not None:
            raise self.error
        cancel = kw.get("cancel")
        self.waiting = True
        while not (cancel is not None and cancel.cancelled):
            time.sleep(0.01)
        raise Cancelled()
        yield ""  # a generator, like a real model's stream


def test_stopping_before_the_first_token_keeps_the_section(qtbot: Any, window: Any) -> None:
    page = window.draft_page
    brief(page)
    gen = StuckGenerator()
    window.session.models["generator"] = gen
    editor = page.editors["background"]
    editor.edit.insertPlainText("我手写的背景，还没保存。")
    page.generate_section("background")
    qtbot.waitUntil(lambda: gen.waiting, timeout=10_000)
    page.stop_action.trigger()
    qtbot.waitUntil(lambda: not window.session.runner.busy, timeout=10_000)
    assert editor.text() == "我手写的背景，还没保存。"
    assert editor.status_label.text() == "已停止"
    assert editor.edit.document().isUndoAvailable()  # the typing can still be undone
    editor.edit.undo()
    assert editor.text() == ""


def test_a_model_error_before_any_text_keeps_the_section(window: Any, wait_job: Any) -> None:
    page = window.draft_page
    brief(page)
    window.session.models["generator"] = StuckGenerator(ModelError("模型文件损坏"))
    editor = page.editors["strategy"]
    editor.set_text("已经写好的策略。")
    page.generate_section("strategy")
    wait_job(page.generation._job)
    assert editor.text() == "已经写好的策略。"
    assert editor.status_label.text() == "出错" and "模型文件损坏" in window.message_bar.text


def test_opening_another_draft_while_generating_keeps_it_clean(
    qtbot: Any, window: Any, fake_generator: Any, tmp_path: Any
) -> None:
    from dataclasses import replace

    from analyzer.documents.document import DraftDocument, save_draft

    other = DraftDocument.new("golden_mouse", title="另一份草稿").with_section(
        "background", "另一份的背景。"
    )
    other = replace(other, brief={"strategy": "以 AI 大赛连接开发者与公众"})
    path = save_draft(other, tmp_path / "other.awdraft")
    fake_generator.delay = 0.05
    page = window.draft_page
    brief(page)
    page.generate_section("background")
    qtbot.waitUntil(lambda: len(page.editors["background"].text()) >= 2, timeout=10_000)
    page._dirty = False  # answer "discard" for the first document
    assert page.open_path(path)
    # Generating in the new document right away starts once the old job has ended.
    assert page.generate_section("strategy") is not False
    assert page.generating
    qtbot.waitUntil(lambda: not window.session.runner.busy, timeout=30_000)
    assert page.editors["background"].text() == "另一份的背景。"
    assert "真实用户故事" in page.editors["strategy"].text()
    assert page.form.title.text() == "另一份草稿"


def test_switching_award_while_generating_sends_nothing_to_the_new_sections(
    qtbot: Any, window: Any, fake_generator: Any
) -> None:
    fake_generator.delay = 0.05
    page = window.draft_page
    brief(page)
    page.generate_section("strategy")
    qtbot.waitUntil(lambda: len(page.editors["strategy"].text()) >= 2, timeout=10_000)
    page.form.award.setCurrentIndex(page.form.award.findData("generic"))  # has "strategy" too
    kept = {k: e.text() for k, e in page.editors.items()}
    qtbot.waitUntil(lambda: not window.session.runner.busy, timeout=30_000)
    assert {k: e.text() for k, e in page.editors.items()} == kept
    assert not page.generating and page.generate_action.isEnabled()


def test_draft_everything_writes_the_summaries_last(
    qtbot: Any, window: Any, fake_generator: Any
) -> None:
    """An overview sums up the body, so it is written once the body stands (shown first still)."""
    page = window.draft_page
    brief(page)
    page.form.award.setCurrentIndex(page.form.award.findData("generic"))
    page.generate_all()
    qtbot.waitUntil(lambda: not page.generating, timeout=20_000)
    asked = [str(call[-1]["content"]) for call in fake_generator.calls]
    assert len(asked) >= 3
    assert "「概述」部分" in asked[-2] and "「亮点」部分" in asked[-1]
    assert not any("「概述」部分" in a for a in asked[:-2])
    assert page.editors["overview"].text().strip()


def test_a_regenerated_section_does_not_say_again_what_another_section_says(
    window: Any, fake_generator: Any, wait_job: Any
) -> None:
    page = window.draft_page
    brief(page)
    said = "垃圾分类新规实施之后，公众的分类准确率仍然很低。"
    page.editors["background"].set_text(said, undoable=True)
    fake_generator.text = said + "我们以 AI 大赛连接开发者与公众，让更多人参与进来。"
    page.generate_section("strategy")
    wait_job(page.generation._job)
    text = page.editors["strategy"].text()
    assert "AI 大赛" in text
    assert "准确率仍然很低" not in text
