"""Read a past award entry from any supported file into plain text.

Formats: plain text and markdown (any common Chinese encoding), .docx, .pdf and .html. The text
comes back as extracted, not cleaned: :mod:`analyzer.library.textclean` does that. Every failure is a
:class:`~analyzer.errors.ReadError` (or subclass) naming the file and saying why in plain words;
no third-party exception escapes :func:`read_document`.
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from analyzer.errors import EmptyDocumentError, ReadError, UnsupportedFormatError
from analyzer.library import limits

log = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".docx", ".pdf"}

# Document types users keep entries in that cannot be read: found in a folder they are reported
# (with what to do) instead of skipped in silence. Anything else in a folder is not a document.
_SAVE_AS_DOCX = "请在 Word 或 WPS 中另存为 .docx 后再导入"
_EXPORT_PDF = "请导出为 PDF 后再导入"
_HINTS = {
    ".doc": f"不支持旧版 Word .doc 文件，{_SAVE_AS_DOCX}",
    ".wps": f"不支持 WPS .wps 文件，{_SAVE_AS_DOCX}",
    ".rtf": f"不支持 .rtf 文件，{_SAVE_AS_DOCX}",
    ".odt": f"不支持 .odt 文件，{_SAVE_AS_DOCX}",
    ".pages": f"不支持 Pages 文稿，{_EXPORT_PDF}或 .docx",
    ".ppt": f"不支持幻灯片文件，{_EXPORT_PDF}",
    ".pptx": f"不支持幻灯片文件，{_EXPORT_PDF}",
    ".dps": f"不支持幻灯片文件，{_EXPORT_PDF}",
    ".key": f"不支持 Keynote 幻灯片，{_EXPORT_PDF}",
    ".odp": f"不支持幻灯片文件，{_EXPORT_PDF}",
    ".xls": f"不支持表格文件，{_EXPORT_PDF}，或把案例正文存为 .docx",
    ".xlsx": f"不支持表格文件，{_EXPORT_PDF}，或把案例正文存为 .docx",
    ".et": f"不支持表格文件，{_EXPORT_PDF}，或把案例正文存为 .docx",
    ".numbers": f"不支持表格文件，{_EXPORT_PDF}",
    ".zip": "压缩包需要先解压，再导入解压出的文件夹",
    ".rar": "压缩包需要先解压，再导入解压出的文件夹",
    ".7z": "压缩包需要先解压，再导入解压出的文件夹",
}
_IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic"}
)
_HINTS.update(
    {s: "图片中的文字无法读取，请导入包含文字的 .docx 或 PDF 文件" for s in _IMAGE_SUFFIXES}
)
KNOWN_UNSUPPORTED = frozenset(_HINTS)
# Files the system or an editor leaves in folders: never reported.
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "icon\r"})

# Most frequent Chinese characters in general text (about the top 500) plus the vocabulary of
# marketing entries. Their traditional forms are added at run time. Used only to choose between
# GB18030 and Big5 when the same bytes decode under both.
_COMMON_ZH = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过"
    "发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前"
    "开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重"
    "并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常"
    "先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报"
    "才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼"
    "书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术"
    "领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失"
    "转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技"
    "际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显"
    "营销广告品牌传播用户数据平台活动媒体创意策略效果市场目标背景执行互联网案例项目内容社交视频微信博"
    "直播曝光点击转化增长流量粉丝消费者年轻智能技术产品服务行业类别时间名称企代理奖超过亿万次提升"
)


@dataclass(frozen=True)
class RawDocument:
    path: Path
    text: str  # decoded text, as extracted (not cleaned)
    encoding: str  # "utf-8", "gb18030", "big5", "utf-16-le", ..., "docx", "pdf", "html:<enc>"
    sha256: str  # of the file's bytes
    size: int  # bytes


def read_document(
    path: str | os.PathLike[str], *, max_bytes: int = limits.MAX_FILE_BYTES
) -> RawDocument:
    """Read one file into text; raises ReadError (or a subclass) naming the file and why."""
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if not p.exists():
            raise ReadError(p, "文件不存在")
        if p.is_dir():
            raise ReadError(p, "这是文件夹，不是文件")
        if suffix not in SUPPORTED_SUFFIXES:
            raise UnsupportedFormatError(p, _unsupported_reason(suffix))
        data, digest = limits.read_regular_file(p, max_bytes)
        if not data:
            raise EmptyDocumentError(p, "空文件")
        if suffix == ".docx":
            limits.check_docx(p, data)
            text, encoding = _docx_text(p, data), "docx"
        elif suffix == ".pdf":
            text, encoding = _pdf_text(p, data), "pdf"
        elif suffix in HTML_SUFFIXES:
            limits.check_html_size(p, len(data))
            text, encoding = _html_text(p, data)
        else:
            text, encoding = decode_bytes(data)
            _refuse_binary(p, text)
    except ReadError:
        raise
    except Exception as exc:  # third-party or OS trouble we did not foresee: still name the file
        raise ReadError(p, f"无法读取（{type(exc).__name__}: {exc}）") from exc
    if not text.strip():
        raise EmptyDocumentError(p, "文件中没有文字")
    return RawDocument(path=p, text=text, encoding=encoding, sha256=digest, size=len(data))


def iter_document_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Yield the files to read: folders are walked (recursive, sorted, no hidden files or
    folders, no Office lock files ``~$…``, no system files such as ``Thumbs.db``). Inside a folder
    the supported files are yielded and so are documents of a known unsupported type (.doc,
    .pptx, images …), so that reading them tells the user why and what to do; other files are
    not documents and are left alone. A path given explicitly as a file is yielded as is,
    whatever its suffix."""
    seen: set[Path] = set()
    for given in paths:
        root = Path(given)
        found = [root] if not root.is_dir() else _walk(root)
        for p in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                yield p


def _walk(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith((".", "~$")) or name.lower() in _JUNK_NAMES:
                continue
            if Path(name).suffix.lower() in SUPPORTED_SUFFIXES | KNOWN_UNSUPPORTED:
                out.append(Path(dirpath) / name)
    return sorted(out, key=lambda q: q.relative_to(root).parts)


def _unsupported_reason(suffix: str) -> str:
    supported = "、".join(sorted(SUPPORTED_SUFFIXES))
    if suffix in _HINTS:
        return _HINTS[suffix]
    kind = f" {suffix} 文件" if suffix else "没有扩展名的文件"
    return f"不支持的文件类型：无法读取{kind}（支持 {supported}）"


# ------------------------------------------------------------------------------------ encodings

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BAD_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f\ufffd]")
_SAMPLE = 200_000  # characters looked at by the statistical checks


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode bytes of unknown encoding; returns (text, encoding name). Never raises.

    Order: BOM, UTF-16 without BOM (NULs at alternating positions), strict UTF-8, GB18030 vs
    Big5 (scored by common characters), charset_normalizer, and UTF-8 with replacement last.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            start = 0 if name == "utf-8-sig" else len(bom)
            text = _strict(data[start:], name)
            if text is not None:
                return text, name
            break
    # Before UTF-8: ASCII-heavy UTF-16 is valid UTF-8 too (NUL is a valid UTF-8 byte).
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    if b"\x00" in data:  # NULs but not UTF-16: binary; the caller decides what to do with it
        return data.decode("utf-8", errors="replace"), "utf-8"
    chinese = _gb_or_big5(data)
    if chinese is not None and chinese[2]:
        return chinese[0], chinese[1]
    guessed = _charset_normalizer(data)
    if guessed is not None:
        return guessed
    if chinese is not None:
        return chinese[0], chinese[1]
    return data.decode("utf-8", errors="replace"), "utf-8"


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    # ASCII (newlines, digits, spaces) in UTF-16 puts NULs on one side only.
    if max(even, odd) < max(2, len(data) // 200) or min(even, odd) * 10 > max(even, odd):
        return None
    name = "utf-16-le" if odd > even else "utf-16-be"
    text = _strict(data, name)
    if text is None or _bad_share(text) > 0.05:
        return None
    return text, name


def _gb_or_big5(data: bytes) -> tuple[str, str, bool] | None:
    """The better of GB18030 and Big5: (text, encoding, looks like real Chinese)."""
    candidates = []
    gb = _strict(data, "gb18030")
    if gb is not None:
        candidates.append((_common_score(gb), gb, "gb18030"))
    for name in ("big5", "cp950"):  # cp950: Windows' Big5, a few more characters
        big5 = _strict(data, name)
        if big5 is not None:
            candidates.append((_common_score(big5), big5, name))
            break
    if not candidates:
        return None
    # max() keeps the first of equal scores: GB18030 wins ties (mainland files are the norm).
    (hits, han), text, name = max(candidates, key=lambda c: c[0][0])
    return text, name, han == 0 or hits >= 0.2 * han


@cache
def _common_chars() -> frozenset[str]:
    import zhconv

    chars = set(_COMMON_ZH)
    for ch in _COMMON_ZH:
        for variant in ("zh-hant", "zh-tw", "zh-hk"):
            chars.update(zhconv.convert(ch, variant))
    return frozenset(chars)


def _common_score(text: str) -> tuple[int, int]:
    """(common Chinese characters, all Han characters) in a sample of ``text``."""
    common = _common_chars()
    sample = text[:_SAMPLE]
    han = sum(1 for ch in sample if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff")
    return sum(1 for ch in sample if ch in common), han


def _charset_normalizer(data: bytes) -> tuple[str, str] | None:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            return None
        return str(best), best.encoding
    except Exception:  # a detector failure must not stop the fallback
        log.debug("charset_normalizer failed", exc_info=True)
        return None


def _bad_share(text: str) -> float:
    sample = text[:_SAMPLE]
    return len(_BAD_CHARS.findall(sample)) / max(1, len(sample))


def _refuse_binary(p: Path, text: str) -> None:
    if "\x00" in text or _bad_share(text) > 0.1:
        raise ReadError(p, "二进制数据，不是文本")


# ----------------------------------------------------------------------------------------- docx

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_WRAPPERS = {f"{{{_W}}}sdt", f"{{{_W}}}sdtContent", f"{{{_W}}}customXml"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _docx_text(p: Path, data: bytes) -> str:
    import zipfile

    if data.startswith(_OLE_MAGIC):
        raise ReadError(p, f"不是有效的 .docx 文件（是旧版 .doc 或加了密码，{_SAVE_AS_DOCX}）")
    if not data.startswith(b"PK"):
        raise ReadError(p, "不是有效的 .docx 文件（不是 zip 格式）")
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ReadError(p, "不是有效的 .docx 文件（文件不完整或已损坏）") from exc
    except Exception as exc:
        raise ReadError(p, f"不是有效的 .docx 文件（{exc}）") from exc
    return "\n".join(_blocks(document.element.body, document))


def _children(el: Any, *tags: str) -> Iterator[Any]:
    """Children with the given local names, looking through content-control wrappers."""
    for child in el.iterchildren():
        if child.tag in _WRAPPERS:
            yield from _children(child, *tags)
        elif child.tag in {f"{{{_W}}}{t}" for t in tags}:
            yield child


@cache
def _text_boxes() -> Any:
    from lxml import etree

    return etree.XPath(
        ".//w:txbxContent[not(ancestor::mc:Fallback)]", namespaces={"w": _W, "mc": _MC}
    )


def _blocks(container: Any, parent: Any) -> Iterator[str]:
    """Paragraph and table texts of a body or table cell, in document order."""
    from docx.text.paragraph import Paragraph

    for el in _children(container, "p", "tbl"):
        if el.tag.endswith("}p"):
            yield Paragraph(el, parent).text
            # Text boxes; the VML fallback repeats the same text, so it is skipped.
            for box in _text_boxes()(el):
                yield from _blocks(box, parent)
        else:
            for row in _children(el, "tr"):
                cells = ["\n".join(_blocks(tc, parent)) for tc in _children(row, "tc")]
                yield from field_row(cells) or ["\t".join(cells)]


@cache
def _field_names() -> frozenset[str]:
    from analyzer.library.sections import normalized
    from analyzer.schema import load_awards

    return frozenset(
        normalized(a) for s in load_awards().values() for f in s.fields for a in f.aliases
    )


def field_row(cells: list[str]) -> list[str]:
    """Header-field lines of a table row that pairs field names with values, else ``[]``.

    Official entry forms are tables: ``广告主 | 华为`` (or ``广告主 | 华为 | 所属行业 | 科技``)
    becomes ``广告主：华为``, the form the field reader knows. Rows of other tables (指标 | 结果)
    stay as they are.
    """
    from analyzer.library.sections import normalized

    texts = [c.strip() for c in cells]
    if len(texts) < 2 or len(texts) % 2:
        return []
    pairs = [(texts[i].rstrip(":：").strip(), texts[i + 1]) for i in range(0, len(texts), 2)]
    if not all(
        name and "\n" not in name and normalized(name) in _field_names() for name, _ in pairs
    ):
        return []
    return [f"{name}：{value}" for name, value in pairs if value]


# ------------------------------------------------------------------------------------------ pdf


_UNDECRYPTABLE = "PDF 已加密，无法解密（加密方式不受支持），请去掉密码或另存为不加密的 PDF 后再导入"


def _pdf_text(p: Path, data: bytes) -> str:
    head = data[:1024]
    if b"%PDF-" not in head:
        raise ReadError(p, "不是有效的 PDF 文件（没有 %PDF 文件头）")
    # pypdf would quietly salvage the first pages of a cut-off file; half an entry is worse.
    if b"%%EOF" not in data[-32 * 1024 :]:
        raise ReadError(p, "不是有效的 PDF 文件（文件不完整：没有结束标记）")
    from pypdf.errors import DependencyError

    try:
        from pypdf import PasswordType, PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            opened = reader.decrypt("")
            if opened == PasswordType.NOT_DECRYPTED:
                raise ReadError(p, "PDF 已加密（需要密码），请去掉密码后再导入")
        limits.check_pdf_pages(p, len(reader.pages))
        pages = list(reader.pages)
    except ReadError:
        raise
    except DependencyError as exc:  # an encryption this installation cannot undo
        raise ReadError(p, _UNDECRYPTABLE) from exc
    except Exception as exc:
        raise ReadError(p, f"不是有效的 PDF 文件（{exc}）") from exc
    texts: list[str] = []
    chars = 0
    for number, page in enumerate(pages, 1):
        try:
            texts.append(page.extract_text() or "")
        except DependencyError as exc:
            raise ReadError(p, _UNDECRYPTABLE) from exc
        except Exception:  # one unreadable page must not lose the others
            log.warning("%s: text of page %d could not be extracted", p, number, exc_info=True)
            texts.append("")
        chars += len(texts[-1])
        limits.check_pdf_text(p, chars, number)
    text = "\n".join(texts)
    if not text.strip():
        raise EmptyDocumentError(p, "PDF 中没有可提取的文字（可能是扫描的图片）")
    return text


# ----------------------------------------------------------------------------------------- html

_DECLARED = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
_GB_FAMILY = {"gbk", "gb2312", "gb18030", "euc_cn", "hz", "cp936"}


def _html_text(p: Path, data: bytes) -> tuple[str, str]:
    text, encoding = None, ""
    # A BOM outranks the declaration, and so does valid UTF-8: pages saved by a browser keep
    # their old <meta charset="gbk"> (and GB18030 would decode UTF-8 bytes into nonsense).
    if not data.startswith(tuple(bom for bom, _ in _BOMS)) and _strict(data, "utf-8") is None:
        match = _DECLARED.search(data[:4096])
        if match:
            declared = (match.group(1) or match.group(2)).decode("ascii")
            encoding = _codec_name(declared)
            text = _strict(data, encoding) if encoding else None
    if text is None:
        text, encoding = decode_bytes(data)
    _refuse_binary(p, text)
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
        lines = []
        for raw in "".join(self._out).split("\n"):
            line = re.sub(r" *\t *", "\t", raw).strip(" ")
            fields = field_row(line.split("\t")) if "\t" in line else []  # 广告主 | 华为
            lines.extend(fields or [line])
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
