"""The app on a Linux desktop (XDG): in the applications menu, with its icon, opening ``*.awdraft``.

``award-writer gui --install-desktop-entry`` writes three files into the user's data folder
(``$XDG_DATA_HOME``, by default ``~/.local/share``):

* ``applications/award-writer.desktop`` — the menu entry, starting this installation's app;
* ``icons/hicolor/scalable/apps/award-writer.svg`` — its icon;
* ``mime/packages/award-writer.xml`` — the file type ``application/x-award-writer-draft``
  (``*.awdraft``), so file managers open drafts with the app,

then refreshes the desktop's caches with ``update-mime-database`` and ``update-desktop-database``
where they are installed. ``--uninstall-desktop-entry`` removes the
files again. Qt-free: it runs without a display.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

APP_ID = "award-writer"
MIME_TYPE = "application/x-award-writer-draft"
DRAFT_GLOB = "*.awdraft"
_HERE = Path(__file__).resolve().parent

MIME_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{MIME_TYPE}">
    <comment>Award Writer draft</comment>
    <comment xml:lang="zh_CN">奖项案例草稿</comment>
    <sub-class-of type="application/json"/>
    <icon name="{APP_ID}"/>
    <glob pattern="{DRAFT_GLOB}"/>
  </mime-type>
</mime-info>
"""


@dataclass(frozen=True)
class Integration:
    """What was written or removed, and what the desktop's cache tools said."""

    files: tuple[Path, ...]
    notes: tuple[str, ...] = ()


def data_home() -> Path:
    env = os.environ.get("XDG_DATA_HOME", "").strip()
    return Path(env) if env and Path(env).is_absolute() else Path.home() / ".local" / "share"


def target_files(base: Path | None = None) -> dict[str, Path]:
    base = base or data_home()
    return {
        "desktop": base / "applications" / f"{APP_ID}.desktop",
        "icon": base / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
        "mime": base / "mime" / "packages" / f"{APP_ID}.xml",
    }


def launch_command() -> list[str]:
    """How the menu starts this installation: its ``award-writer-gui`` script, else ``-m``."""
    bindir = Path(sys.executable).parent  # not resolved: a venv's bin/, not the base Python's
    for name in ("award-writer-gui", "award-writer-gui.exe"):
        script = bindir / name
        if script.is_file():
            return [str(script)]
    return [sys.executable, "-m", "desktop.app"]


def exec_quote(arg: str) -> str:
    """One argument of a desktop entry's ``Exec`` key (quoting rules of the XDG spec)."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    if arg and not (set(arg) & reserved):
        return arg
    inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    # The value is also a desktop-entry string, where a backslash is written twice.
    return '"' + inner.replace("\\", "\\\\") + '"'


def desktop_entry(command: list[str]) -> str:
    """The bundled entry with ``Exec`` naming ``command``.

    ``%f``: one draft per started app (it holds one document at a time); a desktop opening
    several drafts at once starts the app once for each of them.
    """
    lines = []
    for line in (_HERE / f"{APP_ID}.desktop").read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + " ".join(exec_quote(a) for a in command) + " %f"
        elif line.startswith("TryExec="):
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def install(base: Path | None = None) -> Integration:
    files = target_files(base)
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    _write(files["desktop"], desktop_entry(launch_command()).encode("utf-8"))
    _write(files["icon"], (_HERE / f"{APP_ID}.svg").read_bytes())
    _write(files["mime"], MIME_XML.encode("utf-8"))
    return Integration(tuple(files.values()), _refresh(files))


def uninstall(base: Path | None = None) -> Integration:
    files = target_files(base)
    removed = []
    for path in files.values():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return Integration(tuple(removed), _refresh(files))


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _refresh(files: dict[str, Path]) -> tuple[str, ...]:
    """Rebuild the caches the desktop reads; a missing tool is a note, never an error."""
    mime_root = files["mime"].parent.parent
    # No icon cache is written: a user's icon folder normally has none, and desktops look
    # icons up there directly.
    commands = [
        ["update-mime-database", str(mime_root)],
        ["update-desktop-database", str(files["desktop"].parent)],
    ]
    notes = []
    for cmd in commands:
        if shutil.which(cmd[0]) is None:
            notes.append(f"{cmd[0]} is not installed (it only refreshes a cache; nothing to do)")
            continue
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            notes.append(f"{cmd[0]} failed: {(done.stderr or done.stdout).strip()[:200]}")
    return tuple(notes)
