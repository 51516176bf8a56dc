"""Helpers shared by the CLI's command modules: JSON output, the library, progress bars."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analyzer.library.store import Library
    from analyzer.progress import ProgressCallback


@contextmanager
def stdout_guard() -> Iterator[None]:
    """Output piped into a reader that stopped (``… --json | head``) ends the command quietly:
    no BrokenPipeError traceback, exit status 141 like other Unix tools killed by SIGPIPE."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that flush cannot fail
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        raise SystemExit(141) from None


def print_json(data: Any) -> None:
    with stdout_guard():
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")


def print_line(text: str) -> None:
    with stdout_guard():
        print(text)


def open_library(args: argparse.Namespace) -> Library:
    """The library of ``--library`` (or the default one); what it has to tell the user while
    it works (waiting for another process's import) goes to stderr."""
    from analyzer.library.store import Library

    return Library.open(getattr(args, "library", None), notify=notify)


def notify(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------- argument types
# argparse turns an ArgumentTypeError into one usage line and exit 2; a number SQLite cannot
# hold (show 99999999999999999999999) never reaches the library.

_MAX_ID = 2**63 - 1


def _integer(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what}应为整数，而不是 {text!r}") from None


def case_id(text: str) -> int:
    value = _integer(text, "案例编号")
    if not 1 <= value <= _MAX_ID:
        raise argparse.ArgumentTypeError(f"没有编号为 {text} 的案例（编号是正整数）")
    return value


def year(text: str) -> int:
    value = _integer(text, "年份")
    if not 1900 <= value <= 2999:
        raise argparse.ArgumentTypeError(f"年份 {text} 不合理（应为四位数的年份，如 2024）")
    return value


def count(limit: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = _integer(text, "数量")
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"数量应在 1 到 {limit} 之间，而不是 {text}")
        return value

    return parse


@contextmanager
def progress_bar(description: str, *, quiet: bool = False) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr (nothing when quiet or not a terminal)."""
    from analyzer.progress import Progress

    if quiet or not sys.stderr.isatty():

        def silent(_: Progress) -> None:
            pass

        yield silent
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    with Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("[dim]{task.fields[item]}", justify="left"),
        transient=True,
        console=_stderr_console(),
    ) as bar:
        task = bar.add_task(description, total=None, item="")

        def update(p: Progress) -> None:
            bar.update(task, completed=p.done, total=p.total or None, item=p.message[-60:])

        yield update


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def console() -> Any:
    """Rich output; piped into a file or a log it is 120 columns wide, not 80, so Chinese
    titles (two columns a character) are not cut to a few characters."""
    from rich.console import Console

    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(width=120) if wide else Console()
