"""The desktop entry: `award-writer gui --install-desktop-entry` puts the app in the menu with its
icon and makes *.awdraft files open in it; files given to the app are all accounted for."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest


def test_install_and_uninstall_the_desktop_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from analyzer.cli import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["gui", "--install-desktop-entry"]) == 0
    entry = (tmp_path / "applications" / "award-writer.desktop").read_text(encoding="utf-8")
    fields = dict(line.split("=", 1) for line in entry.splitlines() if "=" in line)
    command = fields["Exec"].split(" ")
    assert Path(command[0]).is_absolute() and Path(command[0]).exists()
    assert command[-1] == "%f"  # one draft per started app
    assert fields["MimeType"] == "application/x-award-writer-draft;"
    assert fields["Icon"] == "award-writer"
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "award-writer.svg"
    assert icon.read_bytes().startswith(b"<svg")
    mime = ET.parse(tmp_path / "mime" / "packages" / "award-writer.xml").getroot()
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    kind = mime.find("m:mime-type", ns)
    assert kind is not None and kind.get("type") == "application/x-award-writer-draft"
    assert [g.get("pattern") for g in kind.findall("m:glob", ns)] == ["*.awdraft"]
    if shutil.which("update-mime-database"):  # the desktop's database knows the file type now
        globs = (tmp_path / "mime" / "globs2").read_text(encoding="utf-8")
        assert "application/x-award-writer-draft:*.awdraft" in globs
    assert "installed" in capsys.readouterr().out

    assert main(["gui", "--uninstall-desktop-entry"]) == 0
    assert not (tmp_path / "applications" / "award-writer.desktop").exists()
    assert not icon.exists()
    assert not (tmp_path / "mime" / "packages" / "award-writer.xml").exists()
    if shutil.which("update-mime-database"):
        assert "awdraft" not in (tmp_path / "mime" / "globs2").read_text(encoding="utf-8")


def test_exec_quotes_paths_with_spaces() -> None:
    from desktop.xdg import exec_quote

    assert exec_quote("/opt/aw/bin/award-writer-gui") == "/opt/aw/bin/award-writer-gui"
    assert exec_quote("/home/李 雷/venv/bin/python") == '"/home/李 雷/venv/bin/python"'
    assert exec_quote('/a"b') == '"/a\\\\"b"'


def test_the_entry_starts_this_installation(tmp_path: Path) -> None:
    from desktop.xdg import desktop_entry, launch_command

    command = launch_command()
    line = next(x for x in desktop_entry(command).splitlines() if x.startswith("Exec="))
    if Path(command[0]).name.startswith("award-writer-gui"):
        done = subprocess.run([command[0], "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "草稿" in done.stdout
    assert line.startswith(f"Exec={command[0]}")


def test_several_files_open_the_first_and_name_the_others(window: Any, tmp_path: Path) -> None:
    from analyzer.documents.document import DraftDocument, save_draft
    from desktop.app import open_files

    paths = [
        save_draft(DraftDocument.new("tma", title=f"草稿{i}"), tmp_path / f"d{i}.awdraft")
        for i in range(3)
    ]
    open_files(window, [str(p) for p in paths])
    assert window.current_page() is window.draft_page
    assert window.draft_page.form.title.text() == "草稿0"
    assert window.message_bar.level == "warning"
    assert "d1.awdraft" in window.message_bar.text and "d2.awdraft" in window.message_bar.text


def test_a_first_file_that_fails_keeps_its_reason(window: Any, tmp_path: Path) -> None:
    from desktop.app import open_files

    bad = tmp_path / "bad.awdraft"
    bad.write_text("{not json", encoding="utf-8")
    open_files(window, [str(bad), str(tmp_path / "second.awdraft")])
    assert window.message_bar.level == "error"
    assert "bad.awdraft" in window.message_bar.text and "second.awdraft" in window.message_bar.text
