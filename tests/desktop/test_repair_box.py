"""设置 → 修复案例库: the check says the library is damaged, restore and salvage bring every case
back in a worker, with a result line, and keep the damaged file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).resolve().parents[2] / "corpus" / "cases"


def _damaged_library(window: Any, tmp_path: Path, wait_job: Any) -> Path:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    folder = tmp_path / "src"
    folder.mkdir()
    for i in range(40):
        (folder / f"{i:02d}.txt").write_text(f"编号{i}\n{texts[i % 5]}", encoding="utf-8")
    wait_job(window.library_page.import_paths([str(folder)]))
    assert window.library_page.model.rowCount() == 40
    window.session.close_library()  # everything in the main file, as after a restart
    db = window.session.home / "library.sqlite3"
    size = db.stat().st_size
    with db.open("r+b") as fh:
        fh.seek(size // 2 - 32 * 1024)
        fh.write(os.urandom(64 * 1024))
    return db


def test_check_then_restore_brings_every_case_back(window, tmp_path, wait_job, no_dialogs):
    _damaged_library(window, tmp_path, wait_job)
    box = window.settings_page.repair_box
    wait_job(box.check())
    assert "案例库已损坏" in box.status.text() and "从备份恢复" in box.status.text()

    wait_job(box.restore())
    assert no_dialogs  # it asked first
    assert "恢复 40 个案例" in box.status.text()
    assert window.message_bar.level == "info"
    assert window.library_page.model.rowCount() == 40
    home = window.session.home
    assert any(p.name.startswith("library.sqlite3.damaged-") for p in home.iterdir())
    wait_job(box.check())
    assert box.status.text().startswith("案例库完好，40 个案例")


def test_salvage_brings_every_case_back(window, tmp_path, wait_job):
    _damaged_library(window, tmp_path, wait_job)
    box = window.settings_page.repair_box
    wait_job(box.salvage())
    assert "抢救出" in box.status.text() and "现有 40 个案例" in box.status.text()
    assert window.library_page.model.rowCount() == 40


def test_a_repair_waits_for_other_work_to_end(window, monkeypatch):
    box = window.settings_page.repair_box
    monkeypatch.setattr(type(window.session.runner), "busy", property(lambda self: True))
    assert box.restore() is None
    assert window.message_bar.level == "error" and "后台任务" in window.message_bar.text
