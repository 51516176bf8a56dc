"""Test doubles for search: a deterministic embedder and a library holding the seed cases."""

from __future__ import annotations

import itertools
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from analyzer.library.store import Library
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress

SEEDS = Path(__file__).resolve().parents[2] / "corpus" / "cases"


class FakeEmbedder:
    """Hashed character bigrams: texts sharing wording get close vectors, like a real model
    would for paraphrases that keep key words. Records what it embedded."""

    def __init__(self, name: str = "fake:bigrams-v1", dim: int = 256, fail_on: str = "") -> None:
        self.name, self.dim, self.fail_on = name, dim, fail_on
        self.passages: list[str] = []
        self.query_calls = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        chars = [c for c in text.lower() if c.isalnum()]
        for a, b in itertools.pairwise(chars):
            v[zlib.crc32((a + b).encode()) % self.dim] += 1.0
        for c in chars:
            v[zlib.crc32(c.encode()) % self.dim] += 0.2
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.query_calls += 1
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(-1, self.dim)

    def embed_passages(
        self,
        texts: list[str],
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        if cancel is not None:
            cancel.raise_if_cancelled()
        if self.fail_on and any(self.fail_on in t for t in texts):
            raise RuntimeError(f"model crashed on a text containing {self.fail_on!r}")
        self.passages.extend(texts)
        on_progress(Progress(len(texts), len(texts)))
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(-1, self.dim)


def copy_seeds(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copy(path, folder / path.name)
    return folder


def seeded(tmp_path: Path) -> Iterator[Library]:
    """For a fixture: a library in tmp_path/lib holding copies of the five seeds (in
    tmp_path/docs); its indexes are closed afterwards."""
    docs = copy_seeds(tmp_path / "docs")
    lib = Library(tmp_path / "lib")
    report = lib.ingest([docs])
    assert not report.failed, report.failed
    yield lib
    close_indexes()
    lib.close()


def close_indexes() -> None:
    from analyzer.search import index

    for opened in list(index._OPEN.values()):
        opened.close()


def case_id_of(lib: Library, seed_prefix: str) -> int:
    return next(c.id for c in lib.iter_cases() if Path(c.source).name.startswith(seed_prefix))
