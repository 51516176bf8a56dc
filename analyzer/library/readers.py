"""Read a past award entry from any supported file into plain text.

Formats: plain text and markdown (any common Chinese encoding), .docx, .pdf and .html. The text
comes back as extracted, not cleaned: :mod:`analyzer.library.textclean` does that. Every failure is a
:class:`~analyzer.errors.ReadError` (or subclass) naming the file and saying why in plain words;
no third-party exception escapes :func:`read_document`.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from analyzer.errors import EmptyDocumentError, ReadError, UnsupportedFormatError
from analyzer.library import limits
from analyzer.library.encoding import decode_bytes, refuse_binary
from analyzer.library.fieldrow import field_row
from analyzer.library.webpage import _html_text

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
            refuse_binary(p, text)
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
