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
