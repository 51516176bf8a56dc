"""``gui``: open the desktop app (PySide6) on a library."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "gui", parents=[common], help="open the desktop app (案例库、相似案例、撰写、检查、设置)"
    )
    p.add_argument(
        "files", nargs="*", metavar="FILE", help="drafts (.awdraft) or documents to open in 撰写"
    )
    p.set_defaults(func=cmd_gui)


def cmd_gui(args: argparse.Namespace) -> int:
    import importlib

    from analyzer.errors import AwardWriterError

    try:
        app = importlib.import_module("desktop.app")
    except ImportError as exc:
        raise AwardWriterError(
            f"the desktop app is not available ({exc}); install it with: "
            "pip install 'award-writer[gui]'"
        ) from exc
    argv = ["--library", args.library] if getattr(args, "library", None) else []
    argv += [str(f) for f in getattr(args, "files", None) or ()]
    return int(app.main(argv))
