"""``gui``: open the desktop app (PySide6) on a library; put it in the desktop's menu."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from analyzer.errors import AwardWriterError


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "gui", parents=[common], help="open the desktop app (案例库、相似案例、撰写、检查、设置)"
    )
    p.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="a draft (.awdraft) or document to open in 撰写 (one at a time; the app says so "
        "when given more)",
    )
    integration = p.add_mutually_exclusive_group()
    integration.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add the app to the desktop's menu with its icon, and open *.awdraft files with it "
        "(writes into $XDG_DATA_HOME, default ~/.local/share); does not start the app",
    )
    integration.add_argument(
        "--uninstall-desktop-entry",
        action="store_true",
        help="remove what --install-desktop-entry wrote",
    )
    p.set_defaults(func=cmd_gui)


def _desktop_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise AwardWriterError(
            f"the desktop app is not available ({exc}); install it with: "
            "pip install 'award-writer[gui]'"
        ) from exc


def cmd_gui(args: argparse.Namespace) -> int:
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        return _integrate(install=bool(args.install_desktop_entry))
    app = _desktop_module("desktop.app")
    argv = ["--library", args.library] if getattr(args, "library", None) else []
    argv += [str(f) for f in getattr(args, "files", None) or ()]
    return int(app.main(argv))


def _integrate(*, install: bool) -> int:
    xdg = _desktop_module("desktop.xdg")
    try:
        done = xdg.install() if install else xdg.uninstall()
    except OSError as exc:
        raise AwardWriterError(
            f"cannot write the desktop entry ({exc.filename or ''}: {exc.strerror or exc})"
        ) from exc
    verb = "installed" if install else "removed"
    for path in done.files:
        print(f"{verb} {path}")
    if not done.files:
        print("nothing to remove: no desktop entry was installed")
    for note in done.notes:
        print(f"note: {note}")
    if install:
        print(f"'Award Writer' is in the applications menu; {xdg.DRAFT_GLOB} files open in it.")
    return 0
