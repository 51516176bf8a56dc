"""The PDF's text layer, corrected: a PDF writer names each glyph by the lowest code point its
font draws with it, and CJK fonts draw 金 and the Kangxi radical ⾦ alike (see :func:`fix_pdf_text`).
The desktop app's PDF export (Qt) calls it with a ``fix`` that knows the fonts.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable

_HEX = re.compile(r"<([0-9A-Fa-f]+)>")
_BFRANGE = re.compile(r"(beginbfrange)(.*?)(endbfrange)", re.S)
_BFCHAR = re.compile(r"(beginbfchar)(.*?)(endbfchar)", re.S)


def _hex_text(token: str) -> str | None:
    try:
        return bytes.fromhex(token).decode("utf-16-be")
    except ValueError:
        return None


def remap_cmap(cmap: str, fix: Callable[[str], str | None]) -> tuple[str, int]:
    """``cmap`` (a ToUnicode CMap) with each destination text ``fix`` replaces; and how many."""
    changed = 0

    def dest(m: re.Match[str]) -> str:
        nonlocal changed
        text = _hex_text(m.group(1))
        new = fix(text) if text else None
        if not new or new == text:
            return m.group(0)
        changed += 1
        return "<" + new.encode("utf-16-be").hex().upper() + ">"

    def ranges(m: re.Match[str]) -> str:
        lines = []
        for line in m.group(2).splitlines():
            if "[" in line:  # <lo> <hi> [<d1> <d2> …]: one destination per code
                head, _, tail = line.partition("[")
                line = head + "[" + _HEX.sub(dest, tail)
            else:
                tokens = _HEX.findall(line)
                if len(tokens) == 3 and tokens[0] == tokens[1]:  # one code, one destination
                    start = line.rfind("<")
                    line = line[:start] + _HEX.sub(dest, line[start:])
            lines.append(line)
        return m.group(1) + "\n".join(lines) + m.group(3)

    def chars(m: re.Match[str]) -> str:
        lines = []
        for line in m.group(2).splitlines():
            start = line.rfind("<")
            if line.count("<") >= 2:  # <code> <destination>
                line = line[:start] + _HEX.sub(dest, line[start:])
            lines.append(line)
        return m.group(1) + "\n".join(lines) + m.group(3)

    cmap = _BFRANGE.sub(ranges, cmap)
    cmap = _BFCHAR.sub(chars, cmap)
    return cmap, changed


def fix_pdf_text(data: bytes, fix: Callable[[str, str], str | None]) -> bytes:
    """The PDF with its text layer (the fonts' ToUnicode maps) corrected by ``fix``.

    A PDF writer that maps each drawn glyph back to a character through the font's cmap picks
    the lowest code point of a shared glyph: CJK fonts draw 金 and the Kangxi radical ⾦ with one
    glyph, so copying or searching the PDF gave radicals. ``fix(font name, character)`` returns
    the character that was really drawn (or None to keep it); the glyphs are not touched.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    changed = 0
    seen: set[int] = set()
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            to_unicode = font.get(NameObject("/ToUnicode"))
            if to_unicode is None:
                continue
            stream = to_unicode.get_object()
            if id(stream) in seen:
                continue
            seen.add(id(stream))
            name = str(font.get("/BaseFont", "")).lstrip("/")
            name = name.split("+", 1)[-1]  # a subset's ABCDEF+ prefix
            cmap, n = remap_cmap(stream.get_data().decode("latin-1"), functools.partial(fix, name))
            if n:
                stream.set_data(cmap.encode("latin-1"))
                changed += n
    if not changed:
        return data
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
