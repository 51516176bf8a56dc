"""Qt's own dialogs speak Chinese and start where the user's files are, not where the app started."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest


def test_qt_dialog_texts_are_chinese(qapp: Any) -> None:
    from desktop.app import install_translations
    from desktop.qt import QtCore

    assert install_translations(qapp)
    assert QtCore.QCoreApplication.translate("QFileDialog", "Open") == "打开"
    assert QtCore.QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"


class SaveDialog:
    """Records where the save dialog starts; answers with the next of ``answers`` (else Cancel)."""

    def __init__(self) -> None:
        self.starts: list[Path] = []
        self.answers: list[str] = []

    def __call__(self, parent: Any, title: str, start: str, filters: str) -> tuple[str, str]:
        self.starts.append(Path(start))
        return (self.answers.pop(0) if self.answers else "", filters.split(";;")[0])


@pytest.fixture
def save_dialog(monkeypatch: pytest.MonkeyPatch) -> SaveDialog:
    from desktop.qt import QtWidgets

    dialog = SaveDialog()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", staticmethod(dialog))
    return dialog


def test_save_starts_in_the_last_folder_then_in_the_drafts_own(
    window: Any, tmp_path: Path, save_dialog: SaveDialog
) -> None:
    draft = window.draft_page
    draft.form.title.setText("城市垃圾分类 AI 挑战赛")
    # a new draft, no dialog used yet: Documents (or home), never the folder the app started in
    assert not draft.save_as()
    first = save_dialog.starts[-1]
    assert first.name == "城市垃圾分类 AI 挑战赛.awdraft"
    assert first.parent != Path(os.getcwd()) and first.parent.is_dir()
    save_dialog.answers.append(str(tmp_path / "drafts" / "挑战赛.awdraft"))
    (tmp_path / "drafts").mkdir()
    assert draft.save_as()
    # export starts beside the draft
    draft.choose_export()
    assert save_dialog.starts[-1] == tmp_path / "drafts" / "挑战赛.docx"
    # another new draft: the folder the last draft was saved in, remembered across restarts
    draft.close_document()
    draft.new_document()
    draft.save_as()
    assert save_dialog.starts[-1].parent == tmp_path / "drafts"
    from desktop.config import Store
    from desktop.dialogs import start_folder

    assert start_folder(Store(), "draft") == tmp_path / "drafts"
    assert start_folder(Store(), "import") != tmp_path / "drafts"  # one folder per dialog kind
