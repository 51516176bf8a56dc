"""Shared fixtures. Qt runs offscreen; every test gets its own library folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No timing limits in tests: hypothesis's per-example deadline fails a test when the machine is
# busy, which says nothing about the code.
settings.register_profile("award-writer", deadline=None)
settings.load_profile("award-writer")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "corpus" / "cases"


@pytest.fixture
def seeds() -> dict[str, Path]:
    """The five seed documents by their three-digit prefix ("000" … "004")."""
    return {p.name[:3]: p for p in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("AWARD_WRITER_HOME", str(home))
    return home


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "qtbot" in getattr(item, "fixturenames", ()) or "qapp" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.gui)
