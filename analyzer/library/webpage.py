"""Reading a saved web page: its declared encoding, then its article (trafilatura finds the main
content; the page's own text when it keeps nearly all of it), form tables as field lines.
"""

from __future__ import annotations

import codecs
import logging
import re
from html.parser import HTMLParser
from pathlib import Path

from analyzer.library.encoding import BOMS, decode_bytes, refuse_binary, strict_decode
from analyzer.library.fieldrow import field_row

log = logging.getLogger(__name__)


_DECLARED = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
_GB_FAMILY = {"gbk", "gb2312", "gb18030", "euc_cn", "hz", "cp936"}


def _html_text(p: Path, data: bytes) -> tuple[str, str]:
    text, encoding = None, ""
    # A BOM outranks the declaration, and so does valid UTF-8: pages saved by a browser keep
    # their old <meta charset="gbk"> (and GB18030 would decode UTF-8 bytes into nonsense).
    if not data.startswith(tuple(bom for bom, _ in BOMS)) and strict_decode(data, "utf-8") is None:
        match = _DECLARED.search(data[:4096])
        if match:
            declared = (match.group(1) or match.group(2)).decode("ascii")
            encoding = _codec_name(declared)
            text = strict_decode(data, encoding) if encoding else None
    if text is None:
        text, encoding = decode_bytes(data)
    refuse_binary(p, text)
    return html_article(text), f"html:{encoding}"


# A page whose main-content reading keeps this share of its visible text is all article (a
# saved document, a bare export): it is read whole, tables and all.
ARTICLE_SHARE = 0.97


def page_text(html: str) -> str:
    """Every visible text of a page: blocks become lines, table cells are joined by tabs."""
    extractor = _HTMLText()
    extractor.feed(html)
    extractor.close()
    return extractor.text()


def html_article(html: str) -> str:
    """The article of a saved web page, not the page: navigation, breadcrumbs, sidebars, related
    links, comments and footers go. trafilatura finds the main content; its HTML is then read
    like any page (so header-field tables become field lines). A page that is all article is read
    whole; without trafilatura (not installed), the whole page is read and the residue cleaning
    of :mod:`analyzer.library.textclean` does what it can."""
    whole = page_text(html)
    try:
        import trafilatura
    except ImportError:
        log.warning("trafilatura is not installed: web pages are read whole, with their navigation")
        return whole
    try:
        main = trafilatura.extract(
            html,
            output_format="html",
            include_tables=True,
            include_comments=False,
            include_images=False,
            include_links=False,
            favor_recall=True,
            deduplicate=False,
        )
    except Exception:  # a page the extractor chokes on is still a page
        log.debug("trafilatura failed", exc_info=True)
        return whole
    if not main:
        return whole
    article = page_text(main)
    if _chars(article) >= ARTICLE_SHARE * _chars(whole):
        return whole
    # the extractor keeps the page's title as metadata: the headline goes back on top
    headline = _headline(html)
    if headline and "".join(headline.split()) not in "".join(article.split()):
        article = f"{headline}\n{article}"
    return article


_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1\s*>", re.IGNORECASE | re.DOTALL)


def _headline(html: str) -> str:
    m = _H1.search(html)
    return page_text(m.group(1)).replace("\n", " ").strip() if m else ""


def _chars(text: str) -> int:
    return len("".join(text.split()))


def _codec_name(declared: str) -> str:
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        return ""
    return "gb18030" if name in _GB_FAMILY else name


_SKIP = {"script", "style", "head", "noscript", "template", "title"}
_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "tr", "table", "section", "article", "header", "footer", "aside", "nav", "main", "blockquote",
    "pre", "hr", "figure", "figcaption", "form", "address", "caption", "tbody", "thead",
}  # fmt: skip
_CELLS = {"td", "th"}


class _HTMLText(HTMLParser):
    """Visible text of a page: blocks become lines, table cells are joined by tabs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._skip: list[str] = []
        self._pre = 0
        self._cell_open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":  # a page that never closes <head>
            self._skip = [t for t in self._skip if t != "head"]
        elif tag in _SKIP:
            self._skip.append(tag)
        elif tag in _CELLS:
            self._out.append("\t" if self._cell_open else "")
            self._cell_open = True
        elif tag in _BLOCK:
            self._newline(tag)
        if tag == "pre":
            self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and tag in self._skip:
            while self._skip.pop() != tag:
                pass
        elif tag in _BLOCK and tag != "br":
            self._newline(tag)
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def _newline(self, tag: str) -> None:
        if tag in {"tr", "table"}:
            self._cell_open = False
        self._out.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self._out.append(data if self._pre else re.sub(r"[ \t\r\n\f]+", " ", data))

    def text(self) -> str:
        lines: list[str] = []
        for raw in "".join(self._out).split("\n"):
            line = re.sub(r" *\t *", "\t", raw).strip(" ")
            fields = field_row(line.split("\t")) if "\t" in line else []  # 广告主 | 华为
            lines.extend(fields or [line])
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
