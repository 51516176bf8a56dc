"""``award-writer``: the command line. Each area registers its own subcommands.

Start-up stays fast: subcommand modules import heavy libraries only inside their handlers.
Exit codes: 0 success, 1 an ``AwardWriterError`` (printed as ``Name: message``) or an error the
program did not foresee (one line saying to re-run with ``--debug``), 2 usage errors (and, for
``check``, an unreadable file), 130 interrupted. Every error is one line on stderr; ``--debug``
adds the traceback (and debug logging).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

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
    "analyzer.cli.doctor_cmds",
    "analyzer.cli.export_cmds",
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: 参数错误：{message}。用 --help 查看用法\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="award-writer",
        description="Award Writer: 案例库、相似案例、撰写与完整性检查 (Chinese marketing award entries).",
    )
    parser.add_argument("--version", action="version", version=f"award-writer {__version__}")
    library_help = "library folder (default: $AWARD_WRITER_HOME or the user data folder)"
    # --library goes before or after the subcommand: `award-writer --library DIR list` and
    # `award-writer list --library DIR`. The subcommand's copy has no default, so that it does
    # not overwrite a value given before the subcommand.
    parser.add_argument("--library", metavar="DIR", help=library_help)
    debug_help = "on an error, print the traceback too (and log debug messages)"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--library", metavar="DIR", default=argparse.SUPPRESS, help=library_help)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
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
    debug = bool(getattr(args, "debug", False))
    _log_to_stderr(debug)
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
        _error(f"{type(exc).__name__.rstrip('_')}: {exc}", debug)
        return getattr(exc, "exit_code", 1)
    except Exception as exc:  # a bug or a failure nobody foresaw: still one line, no traceback
        _error(_unexpected(exc), debug)
        return 1


def _unexpected(exc: Exception) -> str:
    if isinstance(exc, MemoryError):
        what = "内存不足"
    else:
        detail = " ".join(str(exc).split())[:300]
        what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return f"错误：意外的内部错误（{what}）。加上 --debug 重新运行可查看详细信息"


def _error(line: str, debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exc()
    print(line, file=sys.stderr)


class _StderrHandler(logging.StreamHandler):
    """Warnings as one line each on the current ``sys.stderr`` (a test may swap it); the
    traceback of a logged exception only with ``--debug``."""

    debug = False

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        if not self.debug and record.exc_info:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        super().emit(record)


def _log_to_stderr(debug: bool) -> None:
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
    handler.debug = debug
    handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    if debug:
        root.setLevel(logging.DEBUG)


if __name__ == "__main__":
    sys.exit(main())
