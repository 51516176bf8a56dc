"""PDF export through Qt: the analyzer's print-ready HTML laid out by ``QTextDocument``.

Qt embeds the (subsetted) CJK fonts it renders with, so the PDF reads the same everywhere.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.qt import QtCore, QtGui

if TYPE_CHECKING:
    from analyzer.drafts import Draft


def export_pdf(draft: Draft, path: str | os.PathLike[str]) -> Path:
    from analyzer.drafts import DraftError
    from analyzer.export import to_html

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        writer = QtGui.QPdfWriter(tmp)
        writer.setPageSize(QtGui.QPageSize(QtGui.QPageSize.PageSizeId.A4))
        writer.setPageMargins(QtCore.QMarginsF(20, 20, 20, 20), QtGui.QPageLayout.Unit.Millimeter)
        writer.setResolution(300)
        writer.setTitle(draft.title or "草稿")
        writer.setCreator("Award Writer")
        doc = QtGui.QTextDocument()
        doc.setDocumentMargin(0)
        font = QtGui.QFont()
        font.setPointSizeF(11)
        doc.setDefaultFont(font)
        doc.setHtml(to_html(draft))
        doc.print_(writer)
        del writer  # flushes and closes the file
        if Path(tmp).stat().st_size == 0:
            raise DraftError(f"{target}: the PDF could not be written")
        os.replace(tmp, target)
    except OSError as exc:
        raise DraftError(f"{target}: cannot write ({exc.strerror or exc})") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return target
