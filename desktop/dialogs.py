"""File dialogs that start where the user expects: the document's own folder, else the folder
this kind of dialog was last used in (remembered in the settings file, one per kind), else the
Documents folder, else home — never the folder the app happened to be started from.

Kinds: ``draft`` (open and save drafts), ``export``, ``import`` (files into the library),
``check`` (a file to check), ``report`` (a check report), ``model`` (a drafting or embedding
model), ``library`` (the library folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from desktop.qt import QtCore, QtWidgets

if TYPE_CHECKING:
    from desktop.config import Store

KEY = "dialogs/last_{}"


def default_folder() -> Path:
    docs = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.DocumentsLocation
    )
    if docs and Path(docs).is_dir():
        return Path(docs)
    return Path.home()


def start_folder(store: Store, kind: str, preferred: Path | None = None) -> Path:
    """Where a dialog of ``kind`` opens: ``preferred`` (a document's folder) when it exists,
    else the last folder of this kind, else Documents or home."""
    if preferred is not None and preferred.is_dir():
        return preferred
    last = store.value(KEY.format(kind))
    if last and Path(str(last)).is_dir():
        return Path(str(last))
    return default_folder()


def remember(store: Store, kind: str, path: str | Path) -> None:
    """Remember the folder of ``path`` (a file, or a folder for folder dialogs)."""
    chosen = Path(path)
    folder = chosen if chosen.is_dir() else chosen.parent
    store.set_value(KEY.format(kind), str(folder))
    store.sync()


def open_file(
    parent: QtWidgets.QWidget,
    store: Store,
    kind: str,
    title: str,
    file_filter: str,
    preferred: Path | None = None,
) -> str:
    path, _ = QtWidgets.QFileDialog.getOpenFileName(
        parent, title, str(start_folder(store, kind, preferred)), file_filter
    )
    if path:
        remember(store, kind, path)
    return path


def open_files(
    parent: QtWidgets.QWidget, store: Store, kind: str, title: str, file_filter: str
) -> list[str]:
    paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
        parent, title, str(start_folder(store, kind)), file_filter
    )
    if paths:
        remember(store, kind, paths[0])
    return paths


def save_file(
    parent: QtWidgets.QWidget,
    store: Store,
    kind: str,
    title: str,
    name: str,
    file_filter: str,
    preferred: Path | None = None,
) -> tuple[str, str]:
    """(path, chosen filter) — ``name`` is the suggested file name in the start folder."""
    start = start_folder(store, kind, preferred) / name
    path, chosen = QtWidgets.QFileDialog.getSaveFileName(parent, title, str(start), file_filter)
    if path:
        remember(store, kind, path)
    return path, chosen


def folder(
    parent: QtWidgets.QWidget,
    store: Store,
    kind: str,
    title: str,
    current: str = "",
) -> str:
    """A folder; the dialog opens on ``current`` when it exists."""
    here = Path(current).expanduser() if current else None
    start = here if here is not None and here.is_dir() else start_folder(store, kind)
    path = QtWidgets.QFileDialog.getExistingDirectory(parent, title, str(start))
    if path:
        remember(store, kind, path)
    return path
