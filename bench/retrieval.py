"""Retrieval benchmarks, one table per area, each row with its baseline, value and ratio.

0. Data: the synthetic library's neighbourhoods (LID, relative contrast, neighbour
   similarity) against the real bundled-e5 passages it was fitted to (bench/passages.py).
1. Search core on synthetic 384-d unit vectors (10k, 100k; 1M with --with-1m): build time,
   single-query p50/p95, batched throughput and memory of the exact (flat) and HNSW indexes,
   against numpy brute force on the same data; HNSW recall@10 against exact search.
   Two sets: "passages", a library of topics of cases of chunks whose neighbourhoods match
   real e5 passages at 11.5k (bench/passages.py, bench/e5_passages.npz), the queries being
   held-out chunks; and "noise", one Gaussian with the mean and covariance of the e5 vectors of
   the corpus sentences and no structure at all: ~2.5x the real LID, a worst case no library
   looks like, kept to show how the index degrades.
2. Indexing (bench/indexing.py): today's pipeline (the code at 65f9a9c), the new one and the
   bare embedder in one run: tokens embedded, chunks/s, tokens/s, time for 1,000 real-size
   cases, recall@1/@3 on the labelled queries; what the tokens are; the embedder's tokens/s by
   length, batch and threads; disk and memory of a large library.
3. Query end to end (embed + search + fuse + group by case + snippet) at 10k cases with the
   bundled embedder. The 10k cases are recombined from the seed sections (every sentence
   marked unique, or it would be boilerplate); their chunk vectors are replayed from real
   bundled-e5 sentence vectors (embedding 100k chunks would take hours on 2 cores), the query
   is embedded for real.
4. Quality on bench/retrieval_queries.json: recall@1/@3 of vector-only, BM25-only and hybrid
   with the bundled embedder, section@1 (the snippet's section is one that answers the query),
   and the fusion variants that were compared.

    .venv/bin/python bench/retrieval.py [--with-1m] [--only data,core,indexing,e2e,quality]
        [--data passages,noise] [--data-1m passages]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.library.parse import parse_file  # noqa: E402
from analyzer.library.store import Library  # noqa: E402
from analyzer.progress import CancelToken, ProgressCallback, no_progress  # noqa: E402
from analyzer.search import vectors as V  # noqa: E402
from analyzer.search.chunking import split_sentences  # noqa: E402
from analyzer.search.embed import Embedder, get_embedder, normalize_rows  # noqa: E402
from bench.indexing import run as run_indexing  # noqa: E402
from bench.indexing import synthetic_library  # noqa: E402
from bench.passages import STAT_NAMES, E5Passages, neighbour_stats  # noqa: E402

SEEDS = sorted((ROOT / "corpus" / "cases").glob("*.txt"))
QUERIES = json.loads((ROOT / "bench" / "retrieval_queries.json").read_text(encoding="utf-8"))[
    "queries"
]
DIM = 384
ROWS: list[tuple[str, str, str, str, str]] = []


def row(
    area: str,
    metric: str,
    baseline: float | str,
    value: float | str,
    ratio: float | None,
    fmt: str = ".3g",
) -> None:
    def f(x: float | str) -> str:
        return x if isinstance(x, str) else format(x, fmt)

    r = (area, metric, f(baseline), f(value), "" if ratio is None else f"{ratio:.2f}")
    ROWS.append(r)
    print(" | ".join(r), flush=True)


def pct(times: list[float], q: float) -> float:
    return float(np.percentile(np.array(times) * 1e3, q))


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


# ---------------------------------------------------------------------------------------- data


def seed_sentences() -> list[str]:
    out = []
    for path in SEEDS:
        doc = parse_file(path)
        for s in doc.sections:
            out += [s.text[a:b] for a, b in split_sentences(s.text) if b - a >= 8]
    return out


_SENT_CACHE = Path(tempfile.gettempdir()) / "award-writer-bench-sentvecs.npz"


def sentence_vectors(embedder: Embedder) -> dict[str, np.ndarray]:
    """Real bundled-e5 vectors of every corpus sentence (cached between runs of the bench)."""
    sents = seed_sentences()
    if _SENT_CACHE.exists():
        data = np.load(_SENT_CACHE, allow_pickle=False)
        if list(data["sents"]) == sents and str(data["model"]) == embedder.name:
            return dict(zip(sents, data["vecs"], strict=True))
    print(f"(embedding {len(sents)} corpus sentences once for the synthetic data…)", flush=True)
    vecs = embedder.embed_passages(sents)
    np.savez(_SENT_CACHE, sents=np.array(sents), vecs=vecs, model=np.array(embedder.name))
    return dict(zip(sents, vecs, strict=True))


class E5LikeGaussian:
    """Unit vectors from a Gaussian with the mean and (shrunk) covariance of real e5 vectors."""

    def __init__(self, real: np.ndarray, seed: int = 0) -> None:
        x = real.astype(np.float64)
        cov = np.cov(x.T)
        cov = 0.9 * cov + 0.1 * np.trace(cov) / cov.shape[0] * np.eye(cov.shape[0])
        w, u = np.linalg.eigh(cov)
        self.mean = x.mean(0).astype(np.float32)
        self.L = (u * np.sqrt(np.clip(w, 0, None))).astype(np.float32)
        self.rng = np.random.default_rng(seed)

    def data(self, n: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
        return self.sample(n), self.sample(n_queries)

    def sample(self, n: int) -> np.ndarray:
        out = np.empty((n, DIM), dtype=np.float32)
        for s in range(0, n, 100_000):
            m = min(100_000, n - s)
            z = self.rng.standard_normal((m, DIM), dtype=np.float32)
            out[s : s + m] = normalize_rows(z @ self.L.T + self.mean)
        return out


# ---------------------------------------------------------------------------------------- 1


def numpy_top10(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    s = x @ q
    top = np.argpartition(-s, 10)[:10]
    return top[np.argsort(-s[top])]


def numpy_top10_row(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    s = (q @ x.T)[0]
    top = np.argpartition(-s, 10)[:10]
    return top[np.argsort(-s[top])]


def bench_data(gen: E5Passages, noise: E5LikeGaussian) -> None:
    """Neighbourhoods of both synthetic sets against the real e5 passages, at the same size."""
    for label, g in (("passages", gen), ("no structure", noise)):
        stats = neighbour_stats(*g.data(gen.n_real, 500))
        for name, real, synth in zip(STAT_NAMES, gen.real_stats, stats, strict=True):
            row("data", f"{label}: {name} (vs real e5 passages)", real, synth, synth / real)


def bench_core(n: int, gen: E5Passages | E5LikeGaussian, label: str) -> None:
    import faiss

    area = f"core {n // 1000}k" if n < 1_000_000 else "core 1M"
    area += f" {label}"
    x, q = gen.data(n, 500)
    ids = np.arange(n, dtype=np.int64)
    single = 200 if n < 1_000_000 else 100
    raw_mb = x.nbytes / 1e6
    t = time.perf_counter()
    flat = V.VectorIndex.build(ids, x, dim=DIM, kind="flat")
    flat_build = time.perf_counter() - t
    flat_mb = len(flat.to_bytes()) / 1e6
    raw = faiss.downcast_index(flat._index.index)
    # single queries, interleaved so every method sees the same machine load; the numpy
    # baseline is the faster of its two spellings (matrix-vector and 1-row matrix product)
    t_gemv, t_gemm, t_flat, t_fs = [], [], [], []
    for i in range(single):
        t_gemv += timed(lambda i=i: numpy_top10(x, q[i]), 1)
        t_gemm += timed(lambda i=i: numpy_top10_row(x, q[i : i + 1]), 1)
        t_flat += timed(lambda i=i: flat.search(q[i : i + 1], 10), 1)
        if i % 4 == 0:  # FAISS's own scan, for the record (why the flat path uses BLAS)
            t_fs += timed(lambda i=i: raw.search(q[i : i + 1], 10), 1)
    t_np = min(t_gemv, t_gemm, key=lambda ts: pct(ts, 50))
    t = time.perf_counter()
    for s in range(0, len(q), 50):
        sc = q[s : s + 50] @ x.T
        np.argpartition(-sc, 10, axis=1)[:, :10]
    np_qps = len(q) / (time.perf_counter() - t)
    t = time.perf_counter()
    for s in range(0, len(q), 50):
        flat.search(q[s : s + 50], 10)
    flat_qps = len(q) / (time.perf_counter() - t)
    _, gt = flat.search(q, 10)
    row(
        area,
        "flat build s (baseline: numpy copy)",
        timed(lambda: np.array(x), 1)[0],
        flat_build,
        None,
    )
    row(
        area,
        "flat query p50 ms (vs numpy)",
        pct(t_np, 50),
        pct(t_flat, 50),
        pct(t_flat, 50) / pct(t_np, 50),
    )
    row(
        area,
        "flat query p95 ms (vs numpy)",
        pct(t_np, 95),
        pct(t_flat, 95),
        pct(t_flat, 95) / pct(t_np, 95),
    )
    row(
        area,
        "FAISS IndexFlatIP 1-query scan p50 ms (vs numpy)",
        pct(t_np, 50),
        pct(t_fs, 50),
        pct(t_fs, 50) / pct(t_np, 50),
    )
    row(area, "flat batched queries/s (vs numpy)", np_qps, flat_qps, flat_qps / np_qps)
    row(area, "flat memory MB, as saved (vs raw float32)", raw_mb, flat_mb, flat_mb / raw_mb)
    flat = raw = None  # free before HNSW
    gc.collect()

    # HNSW
    t = time.perf_counter()
    hnsw = V.VectorIndex.build(ids, x, dim=DIM, kind="hnsw")
    hnsw_build = time.perf_counter() - t
    hnsw_mb = len(hnsw.to_bytes()) / 1e6
    row(
        area,
        f"hnsw build s M={V.HNSW_M} efC={V.HNSW_EF_CONSTRUCTION} (vs flat)",
        flat_build,
        hnsw_build,
        hnsw_build / max(flat_build, 1e-9),
    )
    row(area, "hnsw memory MB, as saved (vs raw float32)", raw_mb, hnsw_mb, hnsw_mb / raw_mb)
    default_ef = V.ef_search_for(n)
    for ef in sorted({32, 64, 96, 128, 192, 256, default_ef}):
        hnsw.ef_search = ef
        times, found = [], []
        for i in range(len(q)):
            t = time.perf_counter()
            _, f = hnsw.search(q[i : i + 1], 10)
            times.append(time.perf_counter() - t)
            found.append(f[0])
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, gt, strict=True)]))
        mark = " (default)" if ef == default_ef else ""
        row(
            area,
            f"hnsw ef={ef}{mark} query p50 ms (vs numpy)",
            pct(t_np, 50),
            pct(times, 50),
            pct(times, 50) / pct(t_np, 50),
        )
        row(
            area,
            f"hnsw ef={ef}{mark} query p95 ms (vs numpy)",
            pct(t_np, 95),
            pct(times, 95),
            pct(times, 95) / pct(t_np, 95),
        )
        row(area, f"hnsw ef={ef}{mark} recall@10 (vs exact)", 1.0, recall, recall)
    hnsw.ef_search = default_ef
    t = time.perf_counter()
    hnsw.search(q, 10)
    hnsw_qps = len(q) / (time.perf_counter() - t)
    row(area, "hnsw batched queries/s (vs numpy)", np_qps, hnsw_qps, hnsw_qps / np_qps)
    hnsw = x = None
    gc.collect()


# ---------------------------------------------------------------------------------------- 2


# ---------------------------------------------------------------------------------------- 3


_UNIQUE = re.compile(r"〔\d+-\d+〕")  # the mark that makes a synthetic sentence unique


class ReplayEmbedder:
    """Chunk vectors from real e5 sentence vectors (mean of a chunk's sentences + noise)."""

    def __init__(
        self, real: Embedder, sent_vecs: dict[str, np.ndarray], gen: E5LikeGaussian
    ) -> None:
        self.name, self.dim = real.name, real.dim
        self.sent_vecs, self.gen = sent_vecs, gen
        self.rng = np.random.default_rng(1)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_passages(
        self,
        texts: list[str],
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            sentences = [_UNIQUE.sub("", text[a:b]) for a, b in split_sentences(text)]
            found = [self.sent_vecs[s] for s in sentences if s in self.sent_vecs]
            base = np.mean(found, axis=0) if found else self.gen.sample(1)[0]
            out[i] = base + self.rng.normal(0, 0.01, self.dim).astype(np.float32)
        return normalize_rows(out)


def bench_e2e(
    embedder: Embedder, sent_vecs: dict[str, np.ndarray], gen: E5LikeGaussian, n_cases: int
) -> None:
    from analyzer.search import query as S
    from analyzer.search.index import open_index

    home = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    lib = synthetic_library(home, n_cases, unique=True)
    t_lib = time.perf_counter() - t
    t = time.perf_counter()
    report = open_index(home).update(lib, ReplayEmbedder(embedder, sent_vecs, gen))
    t_index = time.perf_counter() - t
    row(
        "e2e",
        f"build {n_cases} cases: library s / index s (vectors replayed)",
        t_lib,
        t_index,
        None,
    )
    row("e2e", f"index: chunks ({report.kind})", "", float(report.n_chunks), None, ".0f")
    queries = [q["query"] for q in QUERIES]
    for q in queries:  # warm: jieba, model, caches
        S.search(lib, q, k=10, embedder=embedder)
    bare, full = [], []
    for q in queries * 3:  # interleaved, so both see the same machine load
        bare += timed(lambda q=q: embedder.embed_queries([q]), 1)
        full += timed(lambda q=q: S.search(lib, q, k=10, embedder=embedder), 1)
    row(
        "e2e",
        "query p50 ms (vs bare embed_queries)",
        pct(bare, 50),
        pct(full, 50),
        pct(full, 50) / pct(bare, 50),
    )
    row(
        "e2e",
        "query p95 ms (vs bare embed_queries)",
        pct(bare, 95),
        pct(full, 95),
        pct(full, 95) / pct(bare, 95),
    )
    lib.close()


# ---------------------------------------------------------------------------------------- 4


def bench_quality(embedder: Embedder, home: Path) -> None:
    from analyzer.search import query as S

    lib = Library(home)
    if not len(lib):
        lib.ingest([ROOT / "corpus" / "cases"])
    names = {c.id: Path(c.source).name for c in lib.iter_cases()}
    results: dict[str, tuple[float, float, float]] = {}

    def evaluate(label: str, mode: str) -> None:
        r1 = r3 = s1 = 0
        for q in QUERIES:
            hits = S.search(lib, q["query"], k=3, mode=mode, embedder=embedder)
            got = [names[h.case_id] for h in hits]
            r1 += got[:1] == [q["seed"]]
            r3 += q["seed"] in got
            s1 += got[:1] == [q["seed"]] and hits[0].section in q["sections"]
        n = len(QUERIES)
        results[label] = (r1 / n, r3 / n, s1 / n)

    evaluate("vector", "vector")
    evaluate("bm25", "bm25")
    default_k = S.RRF_K
    for k in (default_k, 10):
        S.RRF_K = k
        evaluate(f"hybrid RRF k={k}", "hybrid")
    S.RRF_K = default_k
    base = results["vector"]
    for label, (r1, r3, s1) in results.items():
        row(
            "quality",
            f"{label} recall@1 (vs vector)",
            base[0],
            r1,
            r1 / base[0] if base[0] else None,
        )
        row(
            "quality",
            f"{label} recall@3 (vs vector)",
            base[1],
            r3,
            r3 / base[1] if base[1] else None,
        )
        row(
            "quality",
            f"{label} section@1 (vs vector)",
            base[2],
            s1,
            s1 / base[2] if base[2] else None,
        )
    lib.close()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--with-1m",
        action="store_true",
        help="also run the core at 1M vectors (~30 min on 2 cores)",
    )
    ap.add_argument("--only", default="data,core,indexing,e2e,quality")
    ap.add_argument(
        "--data",
        default="passages,noise",
        help="synthetic sets for the core: passages (fitted to real e5 passages), noise "
        "(one Gaussian, no structure: the worst case)",
    )
    ap.add_argument("--data-1m", default="passages", help="the sets run at 1M (--with-1m)")
    ap.add_argument("--e2e-cases", type=int, default=10_000)
    args = ap.parse_args()
    only = set(args.only.split(","))
    print(f"# bench/retrieval.py  cores={os.cpu_count()}  load={os.getloadavg()[0]:.1f}")
    print("area | metric | baseline | value | ratio")
    print("---|---|---|---|---")
    embedder = get_embedder(None)
    sent_vecs = sentence_vectors(embedder)
    gen = E5LikeGaussian(np.array(list(sent_vecs.values())))
    sets = {"passages": E5Passages.stored(), "noise": gen}
    if "data" in only:
        bench_data(sets["passages"], gen)
    if "core" in only:
        for n in (10_000, 100_000) + ((1_000_000,) if args.with_1m else ()):
            for label in (args.data_1m if n >= 1_000_000 else args.data).split(","):
                bench_core(n, sets[label], label)
    home = Path(tempfile.mkdtemp())
    if "indexing" in only or "pipeline" in only:
        run_indexing(row)
    if "e2e" in only:
        bench_e2e(embedder, sent_vecs, gen, args.e2e_cases)
    if "quality" in only:
        bench_quality(embedder, home)
    print(f"\n(load average at the end: {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
