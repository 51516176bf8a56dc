"""Every path the app uses is decided here, once."""

from __future__ import annotations

import os
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
