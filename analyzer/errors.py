"""The one exception tree of the analyzer.

AwardWriterError            base: the CLI prints ``Name: message`` and exits 1
├── SchemaError             a template/schema file is missing or malformed
├── UnknownAwardError       an award key that no schema defines
├── ReadError               a document could not be read (names the file and why)
│   ├── UnsupportedFormatError
│   ├── EmptyDocumentError
│   └── EntryTooLongError   far longer than any entry: a collection to split
├── LibraryError            the SQLite library cannot be opened or written
│   ├── LibraryDamaged      the library file is damaged (``doctor`` restores or salvages)
│   ├── LibraryBusyError    another process is writing the library and did not finish in time
│   └── CaseNotFoundError
├── IndexError_             the search index is missing, corrupt or built by another model
│   ├── IndexDamaged        index content that cannot be right (also a sqlite3.DatabaseError)
│   └── IndexBusy           another process is writing the index (and the caller won't wait)
├── ModelError              a model folder/file is missing, incomplete or unsupported
├── BriefError              a brief file has unknown or malformed fields
├── DraftError              a draft, export or report could not be written
│   └── PendingMarksError   an export refused while 【待核实】/【待补充】 marks are left
└── Cancelled               the user cancelled a long job
"""

from __future__ import annotations

import errno
import sqlite3


class AwardWriterError(Exception):
    """Base of every error the analyzer raises on purpose."""


class SchemaError(AwardWriterError):
    pass


class UnknownAwardError(AwardWriterError):
    pass


class ReadError(AwardWriterError):
    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class UnsupportedFormatError(ReadError):
    pass


class EmptyDocumentError(ReadError):
    pass


class EntryTooLongError(ReadError):
    """A document far longer than an award entry (see ``analyzer.library.limits.MAX_ENTRY_CHARS``)."""


class LibraryError(AwardWriterError):
    pass


class LibraryDamaged(LibraryError):
    pass


class LibraryBusyError(LibraryError):
    pass


class CaseNotFoundError(LibraryError):
    pass


class IndexError_(AwardWriterError):
    pass


class IndexDamaged(IndexError_, sqlite3.DatabaseError):
    """Index content that cannot be right (a garbled number in ``meta``): repaired like a
    database SQLite cannot read (it is one, for every ``except sqlite3.DatabaseError``)."""


class IndexBusy(IndexError_):
    """Another writer holds the index (``analyzer.search.writelock``); its message names it."""


class ModelError(AwardWriterError):
    pass


class BriefError(AwardWriterError):
    pass


class DraftError(AwardWriterError):
    """A draft could not be written (disk full, no permission …)."""


class PendingMarksError(DraftError):
    """``export_draft(..., refuse_pending=True)`` found marks; ``marks`` lists them
    (``analyzer.documents.export.PendingMark``)."""

    def __init__(self, message: str, marks: list[object]) -> None:
        super().__init__(message)
        self.marks = marks


class Cancelled(AwardWriterError):
    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


_OS_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "磁盘是只读的",
    errno.EISDIR: "这是一个文件夹",
    errno.ENOTDIR: "路径中有一项不是文件夹",
    errno.EEXIST: "已经存在",
    errno.ENAMETOOLONG: "文件名太长",
    errno.EDQUOT: "磁盘配额已满",
    errno.EIO: "读写错误（磁盘或网络盘故障）",
}


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, in Chinese (the system's own words as a last resort)."""
    reason = _OS_REASONS.get(exc.errno or -1)
    if reason:
        return reason
    return exc.strerror or str(exc) or type(exc).__name__
