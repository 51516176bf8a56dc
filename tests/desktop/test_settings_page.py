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


@pytest.fixture
def free_library(window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The settings page with the library folder a setting (no $AWARD_WRITER_HOME)."""
    monkeypatch.setenv("AWARD_WRITER_CONFIG", str(tmp_path / "desktop.ini"))
    monkeypatch.delenv("AWARD_WRITER_HOME")
    page = window.settings_page
    page.load()
    return page


def choose(path_edit: Any, path: Path | str) -> None:
    """Type a path as a user would: the field checks it once typing pauses."""
    path_edit.setText(str(path))
    path_edit.changed.emit(str(path))


def test_a_file_is_refused_as_library_folder_in_place_and_the_old_one_kept(
    window: Any, free_library: Any, tmp_path: Path
) -> None:
    page = free_library
    home = window.session.home
    pdf = tmp_path / "entry.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    choose(page.library_dir, pdf)
    assert page.library_check.isVisibleTo(page) and page.library_check.is_error
    assert (
        "是一个文件" in page.library_check.text()
        and "仍使用原来的案例库" in page.library_check.text()
    )
    assert not page.apply_button.isEnabled()
    assert not page.apply()  # nothing fails later with "[Errno 17] File exists"
    assert window.session.home == home and window.session.settings.library_dir == ""
    choose(page.library_dir, pdf / "sub")  # a folder under a file cannot be made either
    assert page.library_check.is_error and "是文件" in page.library_check.text()


def test_a_folder_of_other_files_is_refused_and_a_subfolder_offered(
    window: Any, free_library: Any, tmp_path: Path
) -> None:
    page = free_library
    documents = tmp_path / "我的文档"
    documents.mkdir()
    (documents / "报价单.xlsx").write_bytes(b"x")
    choose(page.library_dir, documents)
    assert page.library_check.is_error and "不是案例库" in page.library_check.text()
    assert page.subfolder_button.isVisibleTo(page)
    page.subfolder_button.click()
    assert page.library_dir.text() == str(documents / "案例库")
    assert not page.library_check.is_error and "应用后新建" in page.library_check.text()
    assert page.apply_button.isEnabled() and page.apply()
    assert window.session.home == documents / "案例库"
    assert (documents / "报价单.xlsx").exists() and len(window.session.library) == 0


def test_an_existing_library_folder_is_accepted_as_one(
    window: Any, free_library: Any, tmp_path: Path
) -> None:
    from analyzer.library.store import Library

    Library(tmp_path / "old").close()
    choose(free_library.library_dir, tmp_path / "old")
    assert not free_library.library_check.is_error
    assert "已有案例库" in free_library.library_check.text()


def build_tiny_embedder(folder: Path) -> Path:
    """A sentence-transformers model of a few hundred parameters: real files, real loading."""
    import warnings

    from transformers import BertConfig, BertModel, BertTokenizerFast

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sentence_transformers import SentenceTransformer, models

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"营销案例检索测试"]
    hf = folder.parent / f"{folder.name}-hf"
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(hf)
    BertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)}).save_pretrained(hf)
    transformer = models.Transformer(str(hf), max_seq_length=64)
    SentenceTransformer(modules=[transformer, models.Pooling(8, "mean")]).save(str(folder))
    return folder


def test_an_embedding_folder_that_is_no_model_is_refused_after_loading_it(
    window: Any, tmp_path: Path, wait_job: Any
) -> None:
    page = window.settings_page
    folder = tmp_path / "下载"
    folder.mkdir()
    (folder / "readme.txt").write_text("不是模型", encoding="utf-8")
    page.embedder.setCurrentIndex(page.embedder.findData("folder"))
    choose(page.embedder_path, folder)
    assert page.embedder_check.level == "busy" and not page.apply_button.isEnabled()
    wait_job(page._embed_job)
    assert page.embedder_check.is_error
    assert "无法使用这个文件夹" in page.embedder_check.text()
    assert "仍使用原来的嵌入模型" in page.embedder_check.text()
    assert not page.apply()
    assert window.session.settings.embedder == "bundled"  # search does not hang on it later


def test_a_real_embedding_folder_is_loaded_then_accepted_and_used(
    window: Any, tmp_path: Path, wait_job: Any
) -> None:
    page = window.settings_page
    model = build_tiny_embedder(tmp_path / "tiny-embedder")
    page.embedder.setCurrentIndex(page.embedder.findData("folder"))
    choose(page.embedder_path, model)
    wait_job(page._embed_job)
    assert page.embedder_check.level == "ok" and "可以使用" in page.embedder_check.text()
    assert "向量维度 8" in page.embedder_check.text()
    assert page.apply_button.isEnabled() and page.apply()
    assert window.session.settings.embedder_path == str(model)
    assert window.session.models["embedder"].dim == 8  # loaded once, kept for searching
