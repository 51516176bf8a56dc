"""Loading a drafting model: one per process, cached conversions, clear errors.

    get_model(source, options)   the loaded model, loading (or swapping) it if needed
    unload()                     free it (the GUI does this when the user switches models)

Without ``options.download`` nothing here reaches the network: ``HF_HUB_OFFLINE`` is set and every
``from_pretrained`` gets ``local_files_only=True``. No model's own code is ever run
(``trust_remote_code=False``): an architecture transformers does not know is an error.
"""

from __future__ import annotations

import errno
import gc
import json
import logging
import os
import struct
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from analyzer.errors import Cancelled, ModelError
from analyzer.llm import cache
from analyzer.llm.device import (
    LoadOptions,
    Placement,
    choose,
    configure_thread,
    quantize_linear,
    torch_dtype,
)
from analyzer.llm.sources import (
    BUNDLED_SHA256,
    ModelSource,
    check_folder,
    file_sha256,
    install_default,
)
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress

T = TypeVar("T")
log = logging.getLogger(__name__)

# Peak resident memory of a process loading the bundled model and generating (measured with
# /usr/bin/time -v around `award-writer models info`, fresh model cache vs warm).
COLD_PEAK_GB = 3.1
WARM_PEAK_GB = 1.8


@dataclass
class LoadedModel:
    source: ModelSource
    model: Any
    tokenizer: Any
    placement: Placement
    options: LoadOptions
    folder: Path  # the transformers folder the weights came from (the cache for a GGUF)
    converted: bool  # True when this load converted a GGUF (a cold load)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def load_seconds(self) -> float:
        return sum(self.seconds.values())


_lock = threading.Lock()
_current: LoadedModel | None = None


def current() -> LoadedModel | None:
    return _current


def get_model(
    source: ModelSource,
    options: LoadOptions | None = None,
    *,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> LoadedModel:
    """The process's one loaded model; loads it, or replaces a different one."""
    global _current
    options = options or LoadOptions()
    with _lock:
        if _current is not None and (_current.source, _current.options) == (source, options):
            return _current
        if _current is not None:
            _unload_locked()
        _current = load(source, options, on_progress=on_progress, cancel=cancel)
        return _current


def unload() -> None:
    with _lock:
        _unload_locked()


def _unload_locked() -> None:
    global _current
    if _current is None:
        return
    placement = _current.placement
    _current = None
    gc.collect()
    if placement.device == "cuda":
        import torch

        torch.cuda.empty_cache()


def load(
    source: ModelSource,
    options: LoadOptions | None = None,
    *,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> LoadedModel:
    """Load a model and its tokenizer (not cached in the process: see :func:`get_model`)."""
    options = options or LoadOptions()
    _go_offline(options.download or source.kind == "hub")
    seconds: dict[str, float] = {}
    steps = 4

    def step(n: int, message: str) -> None:
        if cancel is not None:
            cancel.raise_if_cancelled()
        on_progress(Progress(n, steps, message))

    with _errors(source):
        t = time.perf_counter()
        placement = choose(options)
        step(0, "准备模型文件")
        folder, fresh = _folder_for(source, on_progress=on_progress, cancel=cancel)
        converted = fresh is not None
        seconds["prepare"] = time.perf_counter() - t
        configure_thread(placement, options)

        # Packing cached int8 weights starts now and runs while transformers is imported.
        t = time.perf_counter()
        use_int8 = placement.quantized and options.int8_cache
        pending = cache.start_int8(folder) if use_int8 else None
        seconds["weights"] = time.perf_counter() - t

        step(1, "加载分词器")
        t = time.perf_counter()
        tokenizer = _load_tokenizer(folder, source)
        seconds["tokenizer"] = time.perf_counter() - t

        step(2, "加载权重")
        t = time.perf_counter()
        model = _finish_int8(folder, pending) if pending is not None else None
        seconds["weights"] += time.perf_counter() - t
        from_int8 = model is not None
        if model is None and fresh is not None and placement.device == "cpu":
            model = fresh  # just converted, in fp32: reading it back would double the peak
        fresh = None  # the loaded model (or, on CUDA, nothing) holds the converted weights
        if model is None:
            gc.collect()
            t = time.perf_counter()
            model = _load_weights(folder, source, placement)
            seconds["weights"] += time.perf_counter() - t
        if placement.quantized and not from_int8:
            step(3, "int8 量化")
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.ao's deprecation notice
                model = quantize_linear(model, placement.threads)
                if options.int8_cache:
                    _store_int8(model, folder)
            seconds["quantize"] = time.perf_counter() - t
        on_progress(Progress(steps, steps, "模型就绪"))
    return LoadedModel(source, model, tokenizer, placement, options, folder, converted, seconds)


# ---------------------------------------------------------------------------- steps


def _go_offline(download: bool) -> None:
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    if not download:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        return
    # The user asked to download: lift the offline switch this module may have set earlier.
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.pop(name, None)
    try:
        import huggingface_hub.constants as hub_constants

        hub_constants.HF_HUB_OFFLINE = False
    except (ImportError, AttributeError):
        pass


def _folder_for(
    source: ModelSource, *, on_progress: ProgressCallback, cancel: CancelToken | None
) -> tuple[Path, Any]:
    """The transformers folder to load, converting a GGUF on first use (then also the
    converted fp32 model, else None)."""
    if source.kind == "folder":
        check_folder(source.path)
        _check_architecture(_read_config(source.path), source.path)
        return source.path, None
    if source.kind == "hub":
        return _download(source.location), None
    path = gguf_path_for(source, on_progress=on_progress, cancel=cancel)
    sha = file_sha256(path, cancel=cancel)  # memoized: the bundled one was just checked
    if source.kind == "bundled" and sha != BUNDLED_SHA256:
        raise ModelError(f"内置模型 {path} 的 SHA-256 是 {sha}，应为 {BUNDLED_SHA256}；拒绝使用")
    found = cache.cached(sha)
    if found is not None:
        cache.complete_tokenizer_config(found)  # a conversion stored by an older version
        return found, None
    return _convert(path, sha, source, cancel=cancel)


def gguf_path_for(
    source: ModelSource, *, on_progress: ProgressCallback, cancel: CancelToken | None
) -> Path:
    """The GGUF file of a ``gguf`` or ``bundled`` source, checked: the bundled one assembled
    (once) and its SHA-256 verified, any other one with a GGUF header."""
    if source.kind == "bundled":
        return install_default(on_progress=on_progress, cancel=cancel)  # verifies the hash
    if source.kind == "gguf":
        _check_gguf_header(source.path)
        return source.path
    raise ModelError(f"未知的模型来源类型 {source.kind!r}")


def _convert(
    path: Path, sha: str, source: ModelSource, *, cancel: CancelToken | None
) -> tuple[Path, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    _read_gguf_header(path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            path.parent, gguf_file=path.name, local_files_only=True, trust_remote_code=False
        )
        if cancel is not None:
            cancel.raise_if_cancelled()
        model = AutoModelForCausalLM.from_pretrained(
            path.parent,
            gguf_file=path.name,
            dtype=torch.float32,
            local_files_only=True,
            trust_remote_code=False,
        )
    except ValueError as exc:
        if "not supported" in str(exc) or "architecture" in str(exc):
            raise ModelError(f"GGUF 文件 {path} 的模型架构不受支持：{exc}") from exc
        raise ModelError(f"无法读取 GGUF 文件 {path}：{exc}") from exc
    except (struct.error, IndexError, KeyError, EOFError) as exc:
        raise ModelError(f"无法读取 GGUF 文件 {path}：文件不完整或已损坏（{exc}）") from exc
    if cancel is not None:
        cancel.raise_if_cancelled()
    folder = cache.store(model, tokenizer, sha256=sha, source=str(path), label=source.label)
    model.eval()
    return folder, model


def _download(name: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        folder = Path(
            snapshot_download(
                name,
                allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"],
            )
        )
    except Exception as exc:  # the hub client raises many types; all mean "could not download"
        raise ModelError(f"无法从模型仓库下载 {name!r}：{exc}") from exc
    check_folder(folder)
    _check_architecture(_read_config(folder), folder)
    return folder


def _load_tokenizer(folder: Path, source: ModelSource) -> Any:
    from transformers import AutoTokenizer

    quiet_transformers()
    tokenizer = AutoTokenizer.from_pretrained(
        folder, local_files_only=True, trust_remote_code=False
    )
    if not getattr(tokenizer, "chat_template", None):
        raise ModelError(
            f"{source} 的分词器没有对话模板（chat template）：请使用指令微调模型（…-Instruct / …-Chat）"
        )
    return tokenizer


def _load_weights(folder: Path, source: ModelSource, placement: Placement) -> Any:
    from transformers import AutoModelForCausalLM

    quiet_transformers()
    kwargs: dict[str, Any] = {
        "dtype": torch_dtype(placement),
        "local_files_only": True,
        "trust_remote_code": False,
    }
    if placement.device == "cuda":
        kwargs["device_map"] = "cuda"
    try:
        model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    except ValueError as exc:
        if "Unrecognized" in str(exc) or "not supported" in str(exc):
            raise ModelError(f"{source} 的模型架构不受支持：{exc}") from exc
        raise
    model.eval()
    return model


def _finish_int8(folder: Path, pending: cache.Int8Load) -> Any:
    """The model from the int8 cache (no fp32 weights read, no quantizing), or None."""
    from transformers import AutoConfig, GenerationConfig

    quiet_transformers()
    config = AutoConfig.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notice
        model = pending.finish(config)
    if model is not None and (folder / "generation_config.json").exists():
        model.generation_config = GenerationConfig.from_pretrained(folder)
    return model


def _store_int8(model: Any, folder: Path) -> None:
    try:
        cache.store_int8(model, folder)
    except OSError as exc:  # a full or read-only disk only costs the next load its speed
        log.warning("could not cache the int8 weights of %s: %s", folder, exc)


def _read_config(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"模型文件夹 {folder}：无法读取 config.json：{exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"模型文件夹 {folder}：config.json 不是一个 JSON 对象")
    return data


def _check_architecture(config: dict[str, Any], where: Path) -> None:
    """Only decoder-only causal language models can draft. BERT-style encoders are in
    transformers' causal-LM table too (BertLMHeadModel), as are encoder-decoders (BART): both are
    refused, told apart by ``is_encoder_decoder`` and by having a masked-LM head."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    model_type = config.get("model_type")
    hint = "请使用 transformers 支持的只含解码器的指令模型，例如 Qwen2.5-…-Instruct 文件夹"
    if model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        custom = "（它自带模型代码，本程序从不运行模型自带的代码）" if "auto_map" in config else ""
        raise ModelError(f"{where}：不支持的模型架构 {model_type!r}{custom}；{hint}")
    if config.get("is_encoder_decoder") or model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        kind = "编码器-解码器" if config.get("is_encoder_decoder") else "编码器（如 BERT）"
        raise ModelError(
            f"{where}：不支持的模型架构 {model_type!r}：这是{kind}模型，不能逐字写作；{hint}"
        )


def _check_gguf_header(path: Path) -> None:
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelError(f"无法打开 {path}：{exc.strerror or exc}") from exc
    if magic != b"GGUF":
        raise ModelError(f"{path} 不是 GGUF 文件（文件头不是 GGUF）")


def _read_gguf_header(path: Path) -> None:
    try:  # the header and tensor table: a truncated file fails here, not deep in transformers
        from gguf import GGUFReader

        GGUFReader(str(path))
    except ImportError:
        return
    except Exception as exc:  # gguf raises struct.error, ValueError, IndexError … on bad files
        raise ModelError(f"无法读取 GGUF 文件 {path}：文件不完整或已损坏（{exc}）") from exc


def quiet_transformers() -> None:
    """No per-weight progress bars or advisory warnings on the user's terminal."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            return True
    except (ImportError, AttributeError):
        pass
    if isinstance(exc, OSError) and exc.errno == errno.ENOMEM:
        return True
    text = str(exc).lower()
    # torch's mmap failure: "unable to mmap … bytes from file …: Cannot allocate memory (12)"
    return isinstance(exc, RuntimeError) and any(
        s in text for s in ("out of memory", "can't allocate memory", "cannot allocate memory")
    )


@contextmanager
def _errors(source: ModelSource) -> Iterator[None]:
    try:
        yield
    except (ModelError, Cancelled):
        raise
    except Exception as exc:
        if is_out_of_memory(exc):
            raise ModelError(
                f"加载 {source} 时内存不足：请关闭其他程序或换用更小的模型（内置 0.5B 模型"
                f"第一次加载时要转换格式，峰值约 {COLD_PEAK_GB} GB 内存；之后每次约 {WARM_PEAK_GB} GB）"
            ) from exc
        if isinstance(exc, OSError):
            raise ModelError(f"加载 {source} 失败：{exc}") from exc
        raise


def with_model_errors(source: ModelSource, fn: Callable[[], T]) -> T:
    with _errors(source):
        return fn()
