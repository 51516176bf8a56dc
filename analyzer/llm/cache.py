"""Two caches that make the second load of a model fast, both plain safetensors (no pickle).

* The conversion cache: loading a GGUF through transformers takes ~30 s for the bundled model
  (the tokenizer conversion dominates), and ``save_pretrained`` refuses a model loaded from GGUF.
  So after the first load the state dict is written (bf16) beside the config and the tokenizer's
  own files, under ``models_dir()/converted/<first 16 hex of the GGUF's SHA-256>/``.
* The int8 cache: on CPU every ``nn.Linear`` runs int8; quantizing 0.5B fp32 weights at each load
  took 2.6-8.7 s. After the first quantized load the int8 weights, their scales and the other
  tensors are written to ``models_dir()/int8/<key>/int8.safetensors``; the next load builds the
  model with empty weights, packs the int8 weights straight into quantized Linear modules and
  memory-maps the rest (the embedding table is only paged in where it is used).

Both are built under a temporary name and renamed into place, so a killed job leaves nothing that
looks finished.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from analyzer.atomicfile import replace_file
from analyzer.paths import models_dir

log = logging.getLogger(__name__)

# Rebuilding the cached int8 weights uses torch's quantized tensors, whose deprecation notice
# (printed from a worker thread, where catch_warnings cannot reach) means nothing to a user.
warnings.filterwarnings(
    "ignore", message=r"torch\.quantize_per_tensor.*deprecated", category=UserWarning
)

# Converted weights are cached in bf16: CUDA runs them as they are, and on CPU the int8 cache is
# what a load reads (fp32 here cost 2.5 GB of disk for a 491 MB GGUF).
FP32_CACHE_MAX_PARAMS = 0
SHARD_BYTES = 256 << 20  # weights are converted and written this much at a time (peak memory)
META_FILE = "source.json"
INT8_FILE = "int8.safetensors"
INT8_FORMAT = 1


def converted_root() -> Path:
    return models_dir() / "converted"


def converted_dir(sha256: str) -> Path:
    return converted_root() / sha256[:16]


def cached(sha256: str) -> Path | None:
    """The finished conversion of the GGUF with this hash, if there is one."""
    folder = converted_dir(sha256)
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    weights = ("model.safetensors", "model.safetensors.index.json")
    if meta.get("sha256") != sha256 or not any((folder / w).exists() for w in weights):
        return None
    return folder


def complete_tokenizer_config(folder: Path) -> None:
    """Write the added tokens into ``tokenizer_config.json`` of a converted model.

    Without them transformers parses the whole ``tokenizer.json`` (7 MB for Qwen) once more on
    every load just to read them: 0.3 s of each warm load. Called when a conversion is stored,
    and on loading one stored by an older version. Only ever on folders of this cache."""
    config_path, tokenizer_path = folder / "tokenizer_config.json", folder / "tokenizer.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if not isinstance(config, dict) or "added_tokens_decoder" in config:
            return
        added = json.loads(tokenizer_path.read_text(encoding="utf-8")).get("added_tokens", [])
        config["added_tokens_decoder"] = {
            str(t["id"]): {k: v for k, v in t.items() if k != "id"} for t in added
        }
        replace_file(config_path, json.dumps(config, ensure_ascii=False, indent=2).encode())
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.info("tokenizer config of %s left as it is: %s", folder, exc)


def store(model: Any, tokenizer: Any, *, sha256: str, source: str, label: str) -> Path:
    """Write a loaded GGUF model as a transformers folder; return the folder."""
    import torch

    final = converted_dir(sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        state = model.state_dict()
        config = model.config
        params = sum(t.numel() for t in state.values())
        dtype = torch.float32 if params <= FP32_CACHE_MAX_PARAMS else torch.bfloat16
        embed = state.get("model.embed_tokens.weight")
        head = state.get("lm_head.weight")
        # A GGUF without its own output matrix shares the embedding; say so, and store it once.
        tied = (
            head is None
            or (embed is not None and head is embed)
            or (embed is not None and head.shape == embed.shape and torch.equal(head, embed))
        )
        names = [k for k in state if not (tied and k == "lm_head.weight")]
        _save_sharded(state, names, dtype, tmp)
        _round_as_stored(state, names, dtype)
        config_dict = config.to_dict()
        config_dict.pop("quantization_config", None)
        config_dict["tie_word_embeddings"] = bool(tied)
        config_dict["dtype"] = str(dtype).removeprefix("torch.")
        (tmp / "config.json").write_text(
            json.dumps(config_dict, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        if getattr(model, "generation_config", None) is not None:
            model.generation_config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        complete_tokenizer_config(tmp)
        meta = {
            "sha256": sha256,
            "source": source,
            "label": label,
            "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        (tmp / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        if final.exists() and cached(sha256) is None:
            shutil.rmtree(final, ignore_errors=True)  # a broken leftover of an older version
        try:
            os.rename(tmp, final)
        except OSError:
            if cached(sha256) is None:  # not another process finishing first: a real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


# ---------------------------------------------------------------------------- the int8 cache


def int8_dir(folder: Path) -> Path:
    """Where the int8 weights of the model in ``folder`` are cached: keyed by the folder and the
    size and mtime of its config and weight files, so replacing the weights misses the cache
    (the tokenizer's files are not part of it: completing them must not cost a re-quantizing)."""
    folder = folder.resolve()
    stamps = []
    for f in sorted(folder.iterdir()):
        weights = f.suffix in (".safetensors", ".bin") or f.name.endswith(".index.json")
        if (weights or f.name == "config.json") and f.is_file():
            st = f.stat()
            stamps.append([f.name, st.st_size, st.st_mtime_ns])
    key = hashlib.sha256(json.dumps([str(folder), stamps, INT8_FORMAT]).encode()).hexdigest()
    return models_dir() / "int8" / key[:16]


def store_int8(model: Any, folder: Path) -> Path | None:
    """Write a model whose Linear layers are int8 (see ``device.quantize_linear``) to the int8
    cache of ``folder``; None when there is nothing to store."""
    import torch
    from safetensors.torch import save_file
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    tensors: dict[str, Any] = {}
    quantized: list[str] = []
    for name, module in model.named_modules():
        if isinstance(module, QLinear):
            weight, bias = module._packed_params._weight_bias()
            if weight.qscheme() != torch.per_tensor_affine:
                return None  # only the per-tensor scheme quantize_linear makes
            quantized.append(name)
            tensors[f"{name}.int8"] = weight.int_repr().contiguous()
            tensors[f"{name}.scale"] = torch.tensor([weight.q_scale()], dtype=torch.float64)
            tensors[f"{name}.zero_point"] = torch.tensor([weight.q_zero_point()])
            if bias is not None:
                tensors[f"{name}.bias"] = bias.detach().contiguous()
    if not quantized:
        return None
    prefixes = tuple(f"{n}." for n in quantized)
    for key, value in model.state_dict().items():
        if key.startswith(prefixes) or not isinstance(value, torch.Tensor) or value.is_quantized:
            continue
        tensors[key] = value.detach().contiguous()
    _unshare(tensors)
    final = int8_dir(folder)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        meta = {"format": str(INT8_FORMAT), "quantized": json.dumps(quantized)}
        save_file(tensors, str(tmp / INT8_FILE), metadata=meta)
        (tmp / META_FILE).write_text(
            json.dumps({"folder": str(folder.resolve()), "created": time.ctime()}),
            encoding="utf-8",
        )
        shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / INT8_FILE).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final / INT8_FILE


class Int8Load:
    """A load from the int8 cache, started before transformers is imported.

    Packing the int8 weights into fbgemm's layout (~2 s for the bundled model) runs in C++
    without the GIL, so it goes on in a worker thread while the main thread imports
    transformers and parses the tokenizer (~3-4 s of Python); :meth:`finish` then builds the
    model around the packed weights."""

    def __init__(self, path: Path, quantized: list[str], tensors: dict[str, Any]) -> None:
        import torch

        self.quantized = quantized
        self.tensors = tensors
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="int8-pack")

        def pack(name: str) -> Any:
            q = torch._make_per_tensor_quantized_tensor(
                tensors[f"{name}.int8"],
                float(tensors[f"{name}.scale"][0]),
                int(tensors[f"{name}.zero_point"][0]),
            )
            return torch.ops.quantized.linear_prepack(q, tensors.get(f"{name}.bias"))

        # Biggest first (the output layer): the wait at the end is for the small ones.
        order = sorted(quantized, key=lambda n: -tensors[f"{n}.int8"].numel())
        self._packed = {n: self._pool.submit(pack, n) for n in order}

    def finish(self, config: Any) -> Any | None:
        """The model, or None when the cache does not fit this model code (quantize afresh)."""
        import torch
        from accelerate import init_empty_weights
        from torch.ao.nn.quantized.dynamic import Linear as QLinear
        from transformers import AutoModelForCausalLM

        try:
            with init_empty_weights(include_buffers=False):
                model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
            modules = dict(model.named_modules())
            for name in self.quantized:
                parent_name, _, child = name.rpartition(".")
                old = modules[name]
                qlinear = QLinear(1, 1, dtype=torch.qint8)  # tiny: its zero weight packs instantly
                qlinear.in_features = old.in_features
                qlinear.out_features = old.out_features
                qlinear._packed_params._packed_params = self._packed[name].result()
                setattr(modules[parent_name] if parent_name else model, child, qlinear)
            prefixes = tuple(f"{n}." for n in self.quantized)
            for key, value in self.tensors.items():
                if key.startswith(prefixes):
                    continue
                # Assigned, not copied (load_state_dict would also ask the int8 modules for
                # keys): the tensors stay memory-mapped.
                owner_name, _, attr = key.rpartition(".")
                owner = modules[owner_name] if owner_name else model
                if attr in owner._parameters:
                    owner._parameters[attr] = torch.nn.Parameter(value, requires_grad=False)
                elif attr in owner._buffers:
                    owner._buffers[attr] = value
                else:
                    raise KeyError(key)
        except (KeyError, RuntimeError, AttributeError):
            return None  # written by another version of the model code
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if any(p.is_meta for p in model.parameters()) or any(b.is_meta for b in model.buffers()):
            return None
        model.eval()
        return model


def _unshare(tensors: dict[str, Any]) -> None:
    """Clone every tensor whose storage another one already uses: safetensors refuses to save
    shared storage."""
    seen: set[int] = set()
    for key, value in tensors.items():
        ptr = value.untyped_storage().data_ptr()
        if ptr in seen:
            tensors[key] = value.clone()
        seen.add(ptr)


def _round_as_stored(state: dict[str, Any], names: list[str], dtype: Any) -> None:
    """Round the converted model's weights (in place) to what was written: the model in memory
    is then the one every later load reads, so the first draft and the int8 weights quantized
    from it are the same as after any later load or a rebuilt int8 cache."""
    import torch

    with torch.no_grad():
        for name in names:
            tensor = state[name]
            if tensor.is_floating_point() and tensor.dtype != dtype:
                tensor.copy_(tensor.to(dtype))


def _save_sharded(state: dict[str, Any], names: list[str], dtype: Any, folder: Path) -> None:
    """Write ``state`` in ``dtype`` as safetensors shards of about SHARD_BYTES, converting one
    shard at a time: a whole-model copy in bf16 would add 1 GB to the first load's peak."""
    from safetensors.torch import save_file

    size = dtype.itemsize
    groups: list[list[str]] = [[]]
    used = 0
    for name in names:
        n = state[name].numel() * size
        if groups[-1] and used + n > SHARD_BYTES:
            groups.append([])
            used = 0
        groups[-1].append(name)
        used += n
    files = (
        ["model.safetensors"]
        if len(groups) == 1
        else [f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors" for i in range(len(groups))]
    )
    weight_map = {}
    for group, file in zip(groups, files, strict=True):
        tensors = {k: state[k].detach().to(dtype).contiguous() for k in group}
        _unshare(tensors)
        save_file(tensors, str(folder / file), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(group, file))
        del tensors
    if len(files) > 1:
        index = {"metadata": {}, "weight_map": weight_map}
        (folder / "model.safetensors.index.json").write_text(json.dumps(index), encoding="utf-8")


def start_int8(folder: Path) -> Int8Load | None:
    """Start loading the int8 weights of ``folder`` (see :class:`Int8Load`); None: no cache."""
    path = int8_dir(folder) / INT8_FILE
    if not path.is_file():
        return None
    from safetensors import safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
        if meta.get("format") != str(INT8_FORMAT):
            return None
        quantized = json.loads(meta.get("quantized", "[]"))
        return Int8Load(path, quantized, load_file(str(path)))  # memory-mapped
    except (OSError, ValueError, KeyError):  # a damaged cache file: quantize afresh
        return None


def load_int8(folder: Path, config: Any) -> Any | None:
    """The model of ``folder`` rebuilt from its int8 cache, or None when there is none."""
    pending = start_int8(folder)
    return pending.finish(config) if pending is not None else None
