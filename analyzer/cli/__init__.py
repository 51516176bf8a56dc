"""``award-writer``: the command line. Each area registers its own subcommands.

Start-up stays fast: subcommand modules import heavy libraries only inside their handlers.
Exit codes: 0 success, 1 an ``AwardWriterError`` (printed as ``Name: message``), 2 usage errors
(and, for ``check``, an unreadable file), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from analyzer import __version__
from analyzer.errors import AwardWriterError, Cancelled

# Modules that each define ``register(subparsers, common)``; a missing one is skipped so the
# CLI keeps working while an area is being built.
_COMMAND_MODULES = (
    "analyzer.cli.library_cmds",
    "analyzer.cli.search_cmds",
    "analyzer.cli.draft_cmds",
    "analyzer.cli.check_cmds",
    "analyzer.cli.gui_cmds",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="award-writer",
        description="Award Writer: 案例库、相似案例、撰写与完整性检查 (Chinese marketing award entries).",
    )
    parser.add_argument("--version", action="version", version=f"award-writer {__version__}")
    library_help = "library folder (default: $AWARD_WRITER_HOME or the user data folder)"
    # --library goes before or after the subcommand: `award-writer --library DIR list` and
    # `award-writer list --library DIR`. The subcommand's copy has no default, so that it does
    # not overwrite a value given before the subcommand.
    parser.add_argument("--library", metavar="DIR", help=library_help)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--library", metavar="DIR", default=argparse.SUPPRESS, help=library_help)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except AwardWriterError as exc:
        print(f"{type(exc).__name__.rstrip('_')}: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)


if __name__ == "__main__":
    sys.exit(main())
