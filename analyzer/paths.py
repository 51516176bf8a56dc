"""Every path the app uses is decided here, once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_HOME = "AWARD_WRITER_HOME"
ENV_TEMPLATES = "AWARD_WRITER_TEMPLATES"

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def templates_dir() -> Path:
    """Award schemas and prompt templates: ``templates/`` of the checkout, or the copy a wheel
    installs as the package ``award_writer_templates`` (``$AWARD_WRITER_TEMPLATES`` overrides)."""
    override = os.environ.get(ENV_TEMPLATES)
    if override:
        return Path(override)
    local = PROJECT_ROOT / "templates"
    if (local / "awards").is_dir():
        return local
    import importlib.util

    spec = importlib.util.find_spec("award_writer_templates")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return local


def corpus_dir() -> Path:
    return PROJECT_ROOT / "corpus"


def data_home(override: str | os.PathLike[str] | None = None) -> Path:
    """The user's data folder: ``--library DIR`` > ``$AWARD_WRITER_HOME`` > platformdirs."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("award-writer", appauthor=False))


def library_db(home: Path) -> Path:
    return home / "library.sqlite3"


def index_dir(home: Path) -> Path:
    return home / "index"


def cache_dir() -> Path:
    """Files the app derives and can always make again (``$AWARD_WRITER_CACHE`` overrides)."""
    env = os.environ.get("AWARD_WRITER_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("award-writer", appauthor=False))


def models_dir(home: Path | None = None) -> Path:
    """Converted/assembled models live in the user's cache, shared by every library."""
    env = os.environ.get("AWARD_WRITER_MODELS")
    if env:
        return Path(env).expanduser()
    return cache_dir() / "models"


LIBRARY_MARKS = ("library.sqlite3", "backups")  # what a library folder has (its file, backups)


@dataclass(frozen=True)
class FolderCheck:
    """Whether a folder can hold a library, for a user choosing one (设置, ``--library``)."""

    path: Path
    problem: str = ""  # why it cannot (Chinese, names the path); "" when it can
    kind: str = ""  # relative | file | unwritable | not_library | ""
    note: str = ""  # what choosing it does, when it can (Chinese)

    @property
    def ok(self) -> bool:
        return not self.problem


def check_library_folder(path: str | os.PathLike[str]) -> FolderCheck:
    """Can ``path`` hold a library? A library folder, an empty folder or a folder that can be
    made is fine; a file, a place the user cannot write, or a folder of other files is not (a
    library put among someone's documents would mix its files with theirs)."""
    folder = Path(path).expanduser()
    if not folder.is_absolute():
        return FolderCheck(
            folder, f"请填写完整的路径（如 /home/…/案例库），而不是“{path}”", "relative"
        )
    if folder.exists() and not folder.is_dir():
        return FolderCheck(
            folder, f"{folder} 是一个文件，不是文件夹：请选择或新建一个文件夹", "file"
        )
    if not folder.exists():
        parent = next((p for p in folder.parents if p.exists()), None)
        if parent is None or not parent.is_dir():
            return FolderCheck(
                folder, f"无法新建 {folder}：路径中的 {parent} 是文件，不是文件夹", "file"
            )
        if not os.access(parent, os.W_OK | os.X_OK):
            return FolderCheck(
                folder, f"无法新建 {folder}：没有在 {parent} 中写入的权限", "unwritable"
            )
        return FolderCheck(folder, note="文件夹还不存在：应用后新建，并在其中建立案例库。")
    if not os.access(folder, os.W_OK | os.X_OK):
        return FolderCheck(
            folder, f"没有在 {folder} 中写入的权限：请选择另一个文件夹", "unwritable"
        )
    try:
        entries = [e for e in os.listdir(folder) if not e.startswith(".")]
    except OSError as exc:
        return FolderCheck(folder, f"无法读取 {folder}（{exc.strerror or exc}）", "unwritable")
    if any(mark in entries for mark in LIBRARY_MARKS):
        return FolderCheck(folder, note="这里已有案例库：应用后打开它。")
    if entries:
        return FolderCheck(
            folder,
            f"{folder} 中已有其他文件，不是案例库：请选择空文件夹，或在其中新建一个子文件夹",
            "not_library",
        )
    return FolderCheck(folder, note="空文件夹：应用后在其中建立案例库。")
