"""The conversion cache: a GGUF file becomes a plain transformers folder, once.

Loading a GGUF through transformers takes ~30 s for the bundled model (the tokenizer conversion
dominates), and ``save_pretrained`` refuses a model loaded from GGUF. So after the first load the
state dict is written with safetensors beside the config and the tokenizer's own files, under
``models_dir()/converted/<first 16 hex of the GGUF's SHA-256>/``; the next load reads that folder
(weights memory-mapped) in about a second. The folder is built under a temporary name and renamed
into place, so a killed conversion leaves nothing that looks finished.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from analyzer.paths import models_dir

# Weights of models up to this size are cached in float32: memory-mapped fp32 loads without a
# dtype conversion pass (0.1-0.8 s vs ~3 s from bf16 for the bundled model). Larger models are
# cached in bf16 so a 7B GGUF does not become 28 GB on disk.
FP32_CACHE_MAX_PARAMS = 1_500_000_000
META_FILE = "source.json"


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
    if meta.get("sha256") != sha256 or not (folder / "model.safetensors").exists():
        return None
    return folder


def store(model: Any, tokenizer: Any, *, sha256: str, source: str, label: str) -> Path:
    """Write a loaded GGUF model as a transformers folder; return the folder."""
    import torch
    from safetensors.torch import save_file

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
        tensors = {
            k: v.detach().to(dtype).contiguous()
            for k, v in state.items()
            if not (tied and k == "lm_head.weight")
        }
        # Shared storage would make safetensors refuse to save; clone any alias.
        seen: set[int] = set()
        for key, value in tensors.items():
            ptr = value.untyped_storage().data_ptr()
            if ptr in seen:
                tensors[key] = value.clone()
            seen.add(ptr)
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
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
