"""A wheel built from pyproject.toml holds the whole app: every module and every template.

``pip install .`` (not only the editable install the Makefile uses) must give a working app; a
package left out of the list, or a template the package-data globs miss, would break it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    src = tmp_path_factory.mktemp("src")
    for name in ("analyzer", "desktop", "templates"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(src)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = out.glob("*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def test_the_wheel_holds_every_module(wheel_files: set[str]) -> None:
    modules = {
        p.relative_to(ROOT).as_posix()
        for top in ("analyzer", "desktop")
        for p in (ROOT / top).rglob("*.py")
    }
    assert modules - wheel_files == set()


def test_the_wheel_holds_every_template_and_the_desktop_entry(wheel_files: set[str]) -> None:
    templates = {
        "award_writer_templates/" + p.relative_to(ROOT / "templates").as_posix()
        for p in (ROOT / "templates").rglob("*")
        if p.is_file()
    }
    assert templates, "no templates found"
    assert templates - wheel_files == set()
    assert {"desktop/award-writer.desktop", "desktop/award-writer.svg"} <= wheel_files
