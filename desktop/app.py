"""Start the desktop app: ``award-writer gui`` or ``award-writer-gui`` call :func:`main`.

Only Qt and the light parts of ``analyzer`` load before the window shows; models, torch and
faiss load in workers when a page first needs them.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.mainwindow import MainWindow
    from desktop.qt import QtWidgets

log = logging.getLogger("desktop")

CJK_FONTS = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Microsoft YaHei UI",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "WenQuanYi Micro Hei",
]

_window: MainWindow | None = None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="award-writer-gui", description="Award Writer 桌面应用")
    parser.add_argument("--library", metavar="DIR", help="案例库文件夹 (library folder)")
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="草稿或文档，在“撰写”页打开（一次一份）"
    )
    return parser


def display_problem() -> str | None:
    """Why Qt could not open a window here (it would abort the process), or None."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "no display: set DISPLAY (e.g. run under Xvfb) or QT_QPA_PLATFORM=offscreen "
        "to start the desktop app"
    )


def setup_logging() -> None:
    from desktop.config import log_path

    root = logging.getLogger()
    if any(getattr(h, "_award_writer", False) for h in root.handlers):
        return
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=2, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler()
    handler._award_writer = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """An exception nobody caught (in a slot): log it, show one line, keep running."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    log.error("uncaught exception", exc_info=(kind, exc, tb))
    from desktop.workers import user_message

    if _window is not None:
        _window.session.error(user_message(exc))


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        log.error("uncaught exception in a thread", exc_info=args.exc_value)


def make_app(argv: Sequence[str] | None = None) -> QtWidgets.QApplication:
    from desktop.qt import Qt, QtGui, QtWidgets

    # Fractional scale factors (125 %, 150 %) render crisply instead of being rounded.
    QtGui.QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QtWidgets.QApplication.instance()
    if not isinstance(app, QtWidgets.QApplication):
        app = QtWidgets.QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("Award Writer")
    # Window titles read "<document> — Award Writer 奖项案例写作助手" (Qt appends this name).
    app.setApplicationDisplayName("Award Writer 奖项案例写作助手")
    app.setOrganizationName("award-writer")
    app.setDesktopFileName("award-writer")
    install_translations(app)
    font = app.font()
    have = set(QtGui.QFontDatabase.families())
    families = [f for f in CJK_FONTS if f in have]
    if families:
        font.setFamilies([font.family(), *families])
        app.setFont(font)
    return app


def install_translations(app: QtWidgets.QApplication) -> bool:
    """Qt's own texts (file dialogs, message-box buttons, the line edit's menu) in Chinese,
    from the translations PySide6 ships (``qtbase_zh_CN.qm``). False when none were found."""
    from desktop.qt import QtCore

    if getattr(app, "_award_writer_translator", None) is not None:
        return True
    folder = QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.LibraryPath.TranslationsPath)
    translator = QtCore.QTranslator(app)
    if not translator.load(
        QtCore.QLocale(QtCore.QLocale.Language.Chinese, QtCore.QLocale.Country.China),
        "qtbase",
        "_",
        folder,
    ):
        log.warning("Qt's Chinese translations not found in %s", folder)
        return False
    app.installTranslator(translator)
    app._award_writer_translator = translator  # type: ignore[attr-defined]  # kept alive
    return True


def create_window(library: str | None = None) -> MainWindow:
    global _window
    from desktop.mainwindow import MainWindow
    from desktop.session import Session

    _window = MainWindow(Session(library_override=library))
    return _window


def open_files(window: MainWindow, files: Sequence[str]) -> None:
    """Open the first file on the 撰写 page (one document at a time) and name the others."""
    if not files:
        return
    from pathlib import Path

    first, rest = Path(files[0]), [Path(f).name for f in files[1:]]
    errors: list[str] = []

    def seen(level: str, text: str) -> None:
        if level == "error":
            errors.append(text)

    window.session.message.connect(seen)
    try:
        opened = window.open_draft(first)
    finally:
        window.session.message.disconnect(seen)
    if not rest:
        return
    others = f"未打开 {'、'.join(rest)}：一次只能打开一份草稿，请用“打开…”(Ctrl+O) 逐个打开。"
    if opened:
        window.session.warn(f"已打开 {first.name}；{others}")
    else:  # one message bar: keep the reason the first file failed in the same message
        window.session.error("\n".join([*errors[-1:], others]))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    problem = display_problem()
    if problem:
        print(f"award-writer gui: {problem}", file=sys.stderr)
        return 1
    setup_logging()
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    app = make_app()
    window = create_window(args.library)
    window.show()
    open_files(window, args.files)
    code = app.exec()
    log.info("exit %s", code)
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
