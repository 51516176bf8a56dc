"""Which engine runs a model source, and with how many threads.

    choose_engine(source, options)  → EngineChoice(name, reason)
    free_cores()                    → cores idle right now (for llama.cpp's threads)

The choice follows what ``bench/generation.py`` measured on the bundled GGUF (2 cores): llama.cpp
decodes it at 1.6-1.9x the speed of transformers' int8 CPU path and loads it without torch, so a
GGUF file goes to llama.cpp when ``llama-cpp-python`` is installed. A folder is transformers
weights, which transformers runs (int8 on CPU, bf16/fp16 on a GPU); a GGUF on a machine with a
CUDA GPU goes to transformers too (the llama.cpp build ``make`` makes is CPU-only). A URL is a
server. ``options.engine`` forces one.
"""

from __future__ import annotations

import importlib.util
import os
import time
from dataclasses import dataclass
from pathlib import Path

from analyzer.errors import ModelError
from analyzer.llm.device import LoadOptions, physical_cores
from analyzer.llm.sources import ModelSource

ENGINES = ("auto", "transformers", "llama.cpp")
LLAMA_CPP_PIN = "llama-cpp-python[server]==0.3.36"
LLAMA_CPP_HINT = (
    f"pip install '{LLAMA_CPP_PIN}'（从源码编译，约 4 分钟，需要 cmake 和 C++ 编译器；"
    "make setup 会自动完成）"
)


@dataclass(frozen=True)
class EngineChoice:
    name: str  # "transformers" | "llama.cpp" | "server"
    reason: str  # why, in Chinese: `models info`, the app's model status


def llama_cpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def choose_engine(source: ModelSource, options: LoadOptions) -> EngineChoice:
    """The engine for ``source``; ModelError when the one asked for cannot run it."""
    want = options.engine
    if want not in ENGINES:
        raise ModelError(f"未知的推理引擎 {want!r}：请用 {'、'.join(ENGINES)}")
    if source.kind == "server":
        return EngineChoice("server", f"模型在服务器 {source.location} 上运行，本机只收发文字")
    gguf = source.kind in ("gguf", "bundled")
    if want == "llama.cpp":
        if not gguf:
            raise ModelError(
                f"{source} 是 transformers 模型文件夹：llama.cpp 只能运行 .gguf 文件；"
                "请用 --engine transformers 或 auto"
            )
        if not llama_cpp_installed():
            raise ModelError(f"指定了 llama.cpp，但 llama-cpp-python 没有安装：{LLAMA_CPP_HINT}")
        if options.device == "cuda":
            raise ModelError("本程序的 llama.cpp 只在 CPU 上运行：用 GPU 请选 transformers 引擎")
        return EngineChoice("llama.cpp", "按要求使用 llama.cpp（CPU）")
    if want == "transformers":
        return EngineChoice("transformers", "按要求使用 transformers")
    if not gguf:
        return EngineChoice("transformers", "模型文件夹是 transformers 格式，由 transformers 运行")
    if cuda_available(options):
        return EngineChoice(
            "transformers", "有 CUDA GPU：GGUF 转换后由 transformers 在 GPU 上以 bf16/fp16 运行"
        )
    if options.device == "cuda":
        return EngineChoice("transformers", "指定了 CUDA：由 transformers 在 GPU 上运行")
    if not llama_cpp_installed():
        return EngineChoice(
            "transformers",
            "llama-cpp-python 没有安装，改用 transformers（int8，CPU 上约慢四成）；"
            f"安装 llama.cpp：{LLAMA_CPP_HINT}",
        )
    return EngineChoice(
        "llama.cpp",
        "GGUF 文件在 CPU 上由 llama.cpp 运行：实测比 transformers int8 快 1.6-1.9 倍"
        "（bench/generation.py），且加载时无需 torch",
    )


def cuda_available(options: LoadOptions) -> bool:
    """A usable CUDA GPU for ``device=auto|cuda``. torch (seconds to import) is only imported
    when the machine shows an NVIDIA driver, so a CPU-only machine never pays for the check."""
    if options.device == "cpu":
        return False
    if not (Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidia0").exists()):
        return False
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


# ---------------------------------------------------------------------------- threads


def _cpu_times() -> dict[str, tuple[int, int]]:
    """(busy, total) jiffies of each CPU this process may run on, from /proc/stat."""
    try:
        allowed = {f"cpu{c}" for c in os.sched_getaffinity(0)}
    except AttributeError:
        allowed = set()
    times: dict[str, tuple[int, int]] = {}
    with open("/proc/stat", encoding="ascii") as fh:
        for line in fh:
            name, *fields = line.split()
            if not name.startswith("cpu") or name == "cpu" or (allowed and name not in allowed):
                continue
            values = [int(v) for v in fields[:8]]
            idle = values[3] + values[4]  # idle + iowait
            times[name] = (sum(values) - idle, sum(values))
    return times


def free_cores(sample_seconds: float = 0.1) -> int:
    """Physical cores left idle by other processes, measured over ``sample_seconds`` (at least
    1; /proc/stat counts in 10 ms ticks, enough to tell a busy core from an idle one).

    llama.cpp's threads spin while they wait for each other: with one core busy elsewhere, two
    threads on 2 cores fell from ~49 to 1.2-3.5 tok/s, while one thread keeps most of one core's
    speed. So threads follow the cores free now, measured before each reply.
    """
    cores = physical_cores()
    try:
        before = _cpu_times()
        time.sleep(sample_seconds)
        after = _cpu_times()
    except (OSError, ValueError):
        return cores
    busy = 0.0
    for name, (b1, t1) in after.items():
        b0, t0 = before.get(name, (b1, t1))
        if t1 > t0:
            busy += (b1 - b0) / (t1 - t0)
    logical = max(1, len(after))
    # Busy logical CPUs are counted against physical cores in proportion (hyper-threads).
    taken = busy * cores / logical
    # A core counts as taken from about half its time busy: a short burst of another process
    # costs less than giving up a thread for the whole reply.
    return max(1, min(cores, cores - int(taken + 0.5)))
