"""设置: values are validated, saved, and survive a restart; a new library folder is opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def test_settings_are_saved_and_loaded_again(window: Any, tmp_path: Path) -> None:
    page = window.settings_page
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    page.generator.setCurrentIndex(page.generator.findData("gguf"))
    page.generator_path.setText(str(gguf))
    page.device.setCurrentIndex(page.device.findData("cpu"))
    page.threads.setValue(2)
    assert page.apply()
    from desktop.config import Store

    saved = Store().load()
    assert (saved.generator, saved.generator_path, saved.device, saved.threads) == (
        "gguf",
        str(gguf),
        "cpu",
        2,
    )
    assert window.draft_page.model_choice.currentText() == "本地：model.gguf"


def test_a_missing_model_folder_is_refused_with_a_message(window: Any) -> None:
    page = window.settings_page
    page.embedder.setCurrentIndex(page.embedder.findData("folder"))
    page.embedder_path.setText("/no/such/folder")
    assert not page.apply()
    assert window.message_bar.level == "error"
    assert "/no/such/folder" in window.message_bar.text
    assert window.session.settings.embedder == "bundled"


def test_choosing_another_library_folder_opens_it(
    window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wait_job: Any
) -> None:
    seeds = Path(__file__).resolve().parents[2] / "corpus" / "cases"
    wait_job(window.library_page.import_paths([str(seeds / "000_1553ac701a01ae2f.txt")]))
    assert window.library_page.model.rowCount() == 1
    # With $AWARD_WRITER_HOME set the folder is fixed; without it the setting decides.
    monkeypatch.setenv("AWARD_WRITER_CONFIG", str(tmp_path / "desktop.ini"))
    monkeypatch.delenv("AWARD_WRITER_HOME")
    page = window.settings_page
    page.load()
    assert page.library_dir.isEnabled()
    page.library_dir.setText(str(tmp_path / "other"))
    assert page.apply()
    assert window.session.home == tmp_path / "other"
    assert window.library_page.model.rowCount() == 0


def test_preload_and_unload_the_model(
    window: Any, wait_job: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import desktop.generation as generation

    class Loaded:
        label = "tiny · cpu"

    def fake_load(session: Any, job: Any) -> Any:
        session.models["generator"] = Loaded()
        return session.models["generator"]

    monkeypatch.setattr(generation, "load_generator", fake_load)
    page = window.settings_page
    wait_job(page.preload_model())
    assert "已加载" in page.model_status.text() and "tiny" in page.model_status.text()
    assert page.unload_button.isEnabled() and not page.load_button.isEnabled()
    page.unload_model()
    assert "generator" not in window.session.models
    assert "未加载" in page.model_status.text()


def test_the_library_folder_cannot_change_during_an_import(
    qtbot: Any, window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wait_job: Any
) -> None:
    seeds = Path(__file__).resolve().parents[2] / "corpus" / "cases"
    folder = tmp_path / "many"
    folder.mkdir()
    text = (seeds / "000_1553ac701a01ae2f.txt").read_text(encoding="utf-8")
    for i in range(40):
        (folder / f"{i:03d}.txt").write_text(text + f"\n编号 {i}\n", encoding="utf-8")
    monkeypatch.setenv("AWARD_WRITER_CONFIG", str(tmp_path / "desktop.ini"))
    monkeypatch.delenv("AWARD_WRITER_HOME")
    page = window.settings_page
    page.library_dir.setText(str(tmp_path / "first"))
    assert page.apply()
    job = window.library_page.import_paths([str(folder)])
    assert not page.library_dir.isEnabled() and not page.library_busy_note.isHidden()
    page.library_dir.setText(str(tmp_path / "second"))
    assert not page.apply()
    assert window.message_bar.level == "error" and "案例库文件夹" in window.message_bar.text
    assert window.session.home == tmp_path / "first"
    wait_job(job)
    assert len(window.session.library) == 40  # the import was not broken
    assert page.library_dir.isEnabled() and page.library_busy_note.isHidden()


def test_generation_settings_are_locked_while_the_model_drafts(
    qtbot: Any, window: Any, fake_generator: Any
) -> None:
    fake_generator.delay = 0.05
    draft = window.draft_page
    draft.form.notes["strategy"].setPlainText("以 AI 大赛连接开发者与公众")
    draft.generate_section("strategy")
    page = window.settings_page
    assert not page.threads.isEnabled() and not page.generator.isEnabled()
    assert not page.gen_busy_note.isHidden() and not draft.model_choice.isEnabled()
    page.threads.setValue(3)
    assert not page.apply()
    assert "生成模型" in window.message_bar.text
    assert window.session.settings.threads == 0
    assert window.session.models["generator"] is fake_generator  # still there, still drafting
    qtbot.waitUntil(lambda: not draft.generating, timeout=30_000)
    assert "真实用户故事" in draft.editors["strategy"].text()  # the section was finished
    assert page.threads.isEnabled() and draft.model_choice.isEnabled()
    assert page.apply() and window.session.settings.threads == 3


def test_unloading_a_model_process_does_not_wait_on_the_gui_thread(qtbot: Any, window: Any) -> None:
    import threading
    import time

    closed: list[str] = []

    class ModelProcess:
        label = "slow to end"

        def close(self) -> None:
            time.sleep(0.3)  # a child process that takes its time to exit
            closed.append(threading.current_thread().name)

    window.session.models["generator"] = ModelProcess()
    page = window.settings_page
    page.threads.setValue(2)
    assert page.apply()
    assert "generator" not in window.session.models
    qtbot.waitUntil(lambda: bool(closed), timeout=10_000)
    assert closed != [threading.main_thread().name]


def test_the_status_bar_names_the_library_in_use(
    window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWARD_WRITER_CONFIG", str(tmp_path / "desktop.ini"))
    monkeypatch.delenv("AWARD_WRITER_HOME")
    page = window.settings_page
    page.load()
    page.library_dir.setText(str(tmp_path / "other"))
    assert page.apply()
    assert str(tmp_path / "other") in window.home_label.text()
    window.session.status.emit("已保存 x")  # a passing message does not hide it
    assert window.home_label.isVisible() or not window.isVisible()
    assert page.library_busy_note.parentWidget() is page.library_dir.parentWidget()
