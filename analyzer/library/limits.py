"""What a file may cost to read: its bytes, what it expands to, and how long it may stall.

A file's size on disk says little about what reading it takes: a 1 MB ``.docx`` can inflate to
a gigabyte of XML, a PDF can hold ten thousand pages, a FIFO named ``x.txt`` blocks ``open()``
forever. Each limit here is checked while reading (before the expensive step where possible)
and refused with a :class:`~analyzer.errors.ReadError` that names the file and says why, so
one hostile file costs a line in the report, never the batch.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import threading
import zipfile
from pathlib import Path

from analyzer.errors import EntryTooLongError, ReadError

MB = 1 << 20

MAX_FILE_BYTES = 200 * MB  # any document on disk
MAX_HTML_BYTES = 32 * MB  # a saved web page: HTMLParser's lists grow several times its size
# A .docx is a zip. Its XML (the text, styles, numbering) of a 100-page entry is a few MB; a
# photo-heavy one stores its images as they are (JPEG does not deflate), so what it inflates to
# stays close to its size on disk. python-docx holds every part in memory at once.
MAX_ZIP_ENTRIES = 5_000
MAX_DOCX_XML_BYTES = 64 * MB
MAX_DOCX_INFLATED_BYTES = 256 * MB
MAX_PDF_PAGES = 2_000
# A read that gets no data for this long is given up (a network or removable disk that went
# away); the thread blocked in the system call is left behind, the batch goes on.
READ_STALL_SECONDS = 30.0

# Far longer than any entry (the seeds have 5,000 characters, long entries 50,000). A file this
# long is a collection or an export: parsing takes about 2 s per million characters, and
# metric-dense text more, so a 50 MB file would hold up a batch for minutes. Files are refused
# with a reason that says to split them; parse_text itself takes any length.
MAX_ENTRY_CHARS = 2_000_000


def check_length(path: str | os.PathLike[str], text: str) -> None:
    if len(text) > MAX_ENTRY_CHARS:
        raise EntryTooLongError(
            path,
            f"文本过长（约 {len(text) / 10_000:,.0f} 万字，单个案例上限"
            f" {MAX_ENTRY_CHARS // 10_000} 万字）：不像一份参赛案例，请拆分成单个案例后再导入",
        )


_CHUNK = MB


def human(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.0f} MB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.0f} KB"
    return f"{n} 字节"


# ------------------------------------------------------------------------------ regular files


def _not_regular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "这是文件夹，不是文件"
    if stat.S_ISFIFO(mode):
        kind = "管道（FIFO）"
    elif stat.S_ISSOCK(mode):
        kind = "套接字"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "设备文件"
    else:
        kind = "特殊文件"
    return f"不是普通文件（是{kind}），不会读取"


def read_regular_file(
    path: Path, max_bytes: int = MAX_FILE_BYTES, *, stall_seconds: float = READ_STALL_SECONDS
) -> tuple[bytes, str]:
    """The bytes of a regular file and their SHA-256; anything else (a FIFO, a device, a
    socket) is refused without blocking, and so is a file over ``max_bytes`` or one whose read
    stalls for ``stall_seconds``."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one;
        # it changes nothing for a regular file. The type is checked on the open descriptor, so
        # a file swapped for a FIFO after a stat() cannot slip through.
        fd = os.open(path, flags)
    except PermissionError as exc:
        raise ReadError(path, "没有读取权限") from exc
    except FileNotFoundError as exc:
        raise ReadError(path, "文件不存在") from exc
    except OSError as exc:
        raise ReadError(path, f"无法打开（{exc.strerror or exc}）") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ReadError(path, _not_regular(info.st_mode))
        if info.st_size > max_bytes:
            raise ReadError(path, f"文件太大（{human(info.st_size)}，上限 {human(max_bytes)}）")
    except BaseException:
        os.close(fd)
        raise
    return _read_with_timeout(path, fd, max_bytes, stall_seconds)


def _read_with_timeout(
    path: Path, fd: int, max_bytes: int, stall_seconds: float
) -> tuple[bytes, str]:
    """Read ``fd`` (which this function owns) in a helper thread, giving up when no byte
    arrives for ``stall_seconds``. The thread closes the descriptor itself, even after a
    timeout, so the number is never reused under its feet."""
    got: dict[str, object] = {}
    progress = [0]

    def work() -> None:
        digest = hashlib.sha256()
        buf = bytearray()
        try:
            while chunk := os.read(fd, _CHUNK):
                digest.update(chunk)
                buf += chunk
                progress[0] = len(buf)
                if len(buf) > max_bytes:  # the file grew while it was read
                    got["error"] = ReadError(path, f"文件太大（超过 {human(max_bytes)}）")
                    return
            got["data"] = (bytes(buf), digest.hexdigest())
        except OSError as exc:
            got["error"] = ReadError(path, f"读取出错（{exc.strerror or exc}）")
        finally:
            os.close(fd)

    thread = threading.Thread(target=work, name=f"read {path.name}", daemon=True)
    thread.start()
    seen, idle = -1, 0.0
    step = min(0.5, stall_seconds)
    while True:
        thread.join(step)
        if not thread.is_alive():
            break
        if progress[0] != seen:
            seen, idle = progress[0], 0.0
            continue
        idle += step
        if idle >= stall_seconds:
            raise ReadError(
                path,
                f"读取超时（{stall_seconds:.0f} 秒没有读到数据；网络盘或移动硬盘是否已断开？）",
            )
    error = got.get("error")
    if isinstance(error, ReadError):
        raise error
    data = got["data"]
    assert isinstance(data, tuple)
    return data


# ----------------------------------------------------------------------------------------- zip


def _zip_entry_count(data: bytes) -> int | None:
    """Entries the zip's end-of-central-directory record announces (zip64 too), read before
    ``zipfile`` builds an object per entry; None when there is no such record."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if at < 0 or at + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, at + 10)
    locator = at - 20
    if count == 0xFFFF and locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
        (offset,) = struct.unpack_from("<Q", data, locator + 8)
        if offset + 56 <= len(data) and data[offset : offset + 4] == b"PK\x06\x06":
            (count,) = struct.unpack_from("<Q", data, offset + 32)
    return int(count)


def check_docx(path: Path, data: bytes) -> None:
    """Refuse a .docx whose parts would inflate past the limits (a zip bomb), before any part
    is inflated. ``zipfile`` never returns more than an entry's declared size (a part that
    inflates further fails its CRC check), so the declared sizes are what reading costs. A zip
    that cannot be opened is left for the reader, which says it is damaged."""
    count = _zip_entry_count(data)
    if count is not None and count > MAX_ZIP_ENTRIES:
        raise ReadError(path, f"不是正常的 .docx 文件（压缩包里有 {count:,} 个文件）")
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, struct.error):
        return
    xml = sum(e.file_size for e in entries if e.filename.lower().endswith((".xml", ".rels")))
    total = sum(e.file_size for e in entries)
    if xml > MAX_DOCX_XML_BYTES:
        raise ReadError(
            path,
            f"不是正常的 .docx 文件：文字部分解压后有 {human(xml)}（上限 {human(MAX_DOCX_XML_BYTES)}），"
            "可能是恶意构造的压缩包",
        )
    if total > MAX_DOCX_INFLATED_BYTES:
        raise ReadError(
            path,
            f"不是正常的 .docx 文件：解压后共 {human(total)}（上限 {human(MAX_DOCX_INFLATED_BYTES)}），"
            "可能是恶意构造的压缩包",
        )


# ----------------------------------------------------------------------------------------- pdf


def check_pdf_pages(path: Path, pages: int) -> None:
    if pages > MAX_PDF_PAGES:
        raise ReadError(
            path,
            f"PDF 有 {pages:,} 页（上限 {MAX_PDF_PAGES:,} 页）：不像一份参赛案例，请拆分后再导入",
        )


def check_pdf_text(path: Path, chars: int, page: int) -> None:
    """Stop extracting once the text is longer than any entry may be (the library refuses such
    a text anyway; extracting the rest of a huge PDF would only cost minutes)."""
    if chars > MAX_ENTRY_CHARS:
        raise ReadError(
            path,
            f"文本过长（读到第 {page} 页已超过 {MAX_ENTRY_CHARS // 10_000} 万字）："
            "不像一份参赛案例，请拆分成单个案例后再导入",
        )


def check_html_size(path: Path, size: int) -> None:
    if size > MAX_HTML_BYTES:
        raise ReadError(
            path,
            f"网页文件太大（{human(size)}，上限 {human(MAX_HTML_BYTES)}）：请只保存案例正文所在的页面",
        )
