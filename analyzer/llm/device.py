"""Where a model runs and the CPU speed-ups measured in ``shared/notes/models.md``.

On CUDA a model runs in bf16 (fp16 where bf16 is unsupported) with no quantization. On CPU:
denormal flushing (0.9 → 11 tok/s on the bundled model: fp32 activations of a de-quantized model
underflow a lot), int8 dynamic quantization of every ``nn.Linear`` (→ ~30 tok/s), and one torch
thread per physical core (hyper-threads only contend for the same vector units).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.llm.openai_http import ServerOptions

if TYPE_CHECKING:
    import torch

# OpenMP (libgomp, in torch's CPU wheels) lets idle threads spin at every barrier. Spinning
# without end (OMP_WAIT_POLICY=ACTIVE) is ruinous with any other busy process on the machine:
# the bundled model on 2 cores with other jobs running decoded at 0.6-0.9 tok/s. Never spinning
# (PASSIVE) costs a futex wake-up per barrier, hundreds per token: 16 tok/s on an idle machine,
# 14 under load. A short spin before sleeping gets most of both: 24.5 tok/s idle, 12 with two
# busy processes on the 2 cores. Read when torch loads libgomp, so this must run before the
# first ``import torch``; a value the user set wins.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")


@dataclass(frozen=True)
class LoadOptions:
    """How to run a model. ``device``: auto | cpu | cuda; ``engine``: auto | transformers |
    llama.cpp (see :mod:`analyzer.llm.engines`). The CPU speed-ups can be switched off one by
    one (the benchmark does, to show what each is worth). ``server``: how to reach a model
    source that is a server URL."""

    device: str = "auto"
    quantize: bool = True
    flush_denormal: bool = True
    threads: int | None = None  # None: one per physical core
    download: bool = False  # a hub name may be fetched (only when the user asked)
    int8_cache: bool = True  # reuse int8 weights quantized before (off: the benchmark's baseline)
    engine: str = "auto"
    server: ServerOptions = field(default_factory=ServerOptions)


@dataclass(frozen=True)
class Placement:
    device: str  # "cpu" | "cuda"
    dtype_name: str  # "float32" | "bfloat16" | "float16"
    quantized: bool
    threads: int

    @property
    def label(self) -> str:
        q = " int8-dynamic" if self.quantized else ""
        return f"{self.device} {self.dtype_name}{q}, {self.threads} threads"


def physical_cores() -> int:
    """Physical cores this process may use (logical CPUs when the topology is unreadable)."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        allowed = list(range(os.cpu_count() or 1))
    cores: set[str] = set()
    for cpu in allowed:
        topo = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package = (topo / "physical_package_id").read_text().strip()
            core = (topo / "core_id").read_text().strip()
        except OSError:
            return max(1, len(allowed))
        cores.add(f"{package}:{core}")
    return max(1, len(cores))


def choose(options: LoadOptions) -> Placement:
    import torch

    want = options.device
    if want not in ("auto", "cpu", "cuda"):
        from analyzer.errors import ModelError

        raise ModelError(f"未知的设备 {want!r}：请用 auto、cpu 或 cuda")
    cuda = torch.cuda.is_available()
    if want == "cuda" and not cuda:
        from analyzer.errors import ModelError

        raise ModelError(
            "指定了 --device cuda，但 torch 没有找到 CUDA GPU（或装的是 CPU 版 torch）"
        )
    threads = options.threads or physical_cores()
    if want != "cpu" and cuda:
        dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        return Placement("cuda", dtype, False, threads)
    return Placement("cpu", "float32", options.quantize, threads)


def torch_dtype(placement: Placement) -> torch.dtype:
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[
        placement.dtype_name
    ]


def configure_thread(placement: Placement, options: LoadOptions) -> None:
    """Torch settings for the calling thread: both are per-thread state (OpenMP's thread count,
    the FPU's flush-to-zero bits), so each thread that runs the model calls this first; the
    GUI loads a model in one worker thread and generates in others."""
    import torch

    if placement.device == "cpu":
        torch.set_num_threads(placement.threads)
        torch.set_flush_denormal(options.flush_denormal)  # switched off on request (benchmark)


def quantize_linear(model: Any, threads: int) -> Any:
    """int8 dynamic quantization of every ``nn.Linear``, in place.

    ``torch.ao.quantization.quantize_dynamic`` deep-copies the model and pre-packs every weight
    twice (once as zeros when it builds each module); this packs each weight once, on a thread
    per core, which halves the warm load of the bundled model. Falls back to the public API if
    torch's quantized module internals change.
    """
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    targets = [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if type(child) is torch.nn.Linear
    ]

    def pack(child: torch.nn.Linear) -> Any:
        weight = child.weight.detach().float()
        observer = torch.ao.quantization.default_dynamic_qconfig.weight()
        observer(weight)
        scale, zero_point = observer.calculate_qparams()
        qweight = torch.quantize_per_tensor(weight, float(scale), int(zero_point), torch.qint8)
        bias = None if child.bias is None else child.bias.detach().float()
        return torch.ops.quantized.linear_prepack(qweight, bias)

    try:
        with ThreadPoolExecutor(max(1, threads)) as pool:
            packed = list(pool.map(pack, [child for _, _, child in targets]))
        for (parent, name, child), params in zip(targets, packed, strict=True):
            qlinear = QLinear(1, 1, dtype=torch.qint8)  # tiny: its zero weight packs instantly
            qlinear.in_features = child.in_features
            qlinear.out_features = child.out_features
            qlinear._packed_params._packed_params = params
            setattr(parent, name, qlinear)
    except (AttributeError, RuntimeError):
        return torch.ao.quantization.quantize_dynamic(
            model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
        )
    return model
