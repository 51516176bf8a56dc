"""The one exception tree of the analyzer.

AwardWriterError            base: the CLI prints ``Name: message`` and exits 1
├── SchemaError             a template/schema file is missing or malformed
├── UnknownAwardError       an award key that no schema defines
├── ReadError               a document could not be read (names the file and why)
│   ├── UnsupportedFormatError
│   └── EmptyDocumentError
├── LibraryError            the SQLite library cannot be opened or written
│   └── CaseNotFoundError
├── IndexError_             the search index is missing, corrupt or built by another model
│   ├── IndexDamaged        index content that cannot be right (repaired like a corrupt file)
│   └── IndexBusy           another process is writing the index (and the caller won't wait)
├── ModelError              a model folder/file is missing, incomplete or unsupported
├── BriefError              a brief file has unknown or malformed fields
└── Cancelled               the user cancelled a long job
"""

from __future__ import annotations

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


class LibraryError(AwardWriterError):
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


class Cancelled(AwardWriterError):
    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)
