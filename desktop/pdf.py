"""PDF export through Qt: the analyzer's print-ready HTML laid out by ``QTextDocument``.

Qt embeds the (subsetted) CJK fonts it renders with, so the PDF reads the same everywhere. Its
text layer is then corrected (:func:`analyzer.documents.export.fix_pdf_text`): Qt names each glyph by the
lowest code point the font draws with it, and CJK fonts draw 金 and the Kangxi radical ⾦ (a tab
and a space …) alike, so copied or searched text came out as radicals. Which character a glyph
really stood for is decided here, where the fonts are: the one of the document's own characters
that the same font draws with the same glyph.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.qt import QtCore, QtGui

if TYPE_CHECKING:
    from analyzer.documents.document import DraftDocument


class GlyphTwins:
    """``fix`` for :func:`analyzer.documents.export.fix_pdf_text`: a character of ``text`` drawn with the
    same glyph, by the font the PDF names."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text) - {"\n", "\u2029"})
        self._fonts: dict[str, QtGui.QRawFont | None] = {}
        self._glyphs: dict[str, dict[int, str]] = {}

    def _font(self, pdf_name: str) -> QtGui.QRawFont | None:
        """``NotoSerifCJKsc-Bold`` → the installed family of that name, as a raw font."""
        if pdf_name not in self._fonts:
            base = pdf_name.split("-", 1)[0].replace(" ", "").lower()
            family = next(
                (f for f in QtGui.QFontDatabase.families() if f.replace(" ", "").lower() == base),
                None,
            )
            raw = QtGui.QRawFont.fromFont(QtGui.QFont(family)) if family else None
            self._fonts[pdf_name] = raw if raw is not None and raw.isValid() else None
        return self._fonts[pdf_name]

    def _by_glyph(self, pdf_name: str, raw: QtGui.QRawFont) -> dict[int, str]:
        if pdf_name not in self._glyphs:
            glyphs = raw.glyphIndexesForString("".join(self.chars))
            table: dict[int, str] = {}
            if len(glyphs) == len(self.chars):
                for char, glyph in zip(self.chars, glyphs, strict=True):
                    if glyph:
                        table.setdefault(glyph, char)
            self._glyphs[pdf_name] = table
        return self._glyphs[pdf_name]

    def __call__(self, pdf_name: str, text: str) -> str | None:
        if len(text) != 1 or text in self.chars:
            return None  # drawn as itself
        raw = self._font(pdf_name)
        if raw is None:
            return None
        glyph = raw.glyphIndexesForString(text)
        if len(glyph) != 1 or not glyph[0]:
            return None
        return self._by_glyph(pdf_name, raw).get(glyph[0])


def export_pdf(draft: DraftDocument, path: str | os.PathLike[str]) -> Path:
    from analyzer.atomicfile import atomic_write
    from analyzer.documents.export import fix_pdf_text, to_html
    from analyzer.errors import DraftError

    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise DraftError(f"{target}：无法写入（{exc.strerror or exc}）") from exc
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
        data = Path(tmp).read_bytes()
        if not data:
            raise DraftError(f"{target}：PDF 未能生成（Qt 没有写出任何内容）")
        # Page numbers are drawn too: digits belong to what the PDF may contain.
        atomic_write(target, fix_pdf_text(data, GlyphTwins(doc.toPlainText() + "0123456789")))
    except OSError as exc:
        raise DraftError(f"{target}：无法写入（{exc.strerror or exc}）") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return target
