"""Parse throughput: documents/s and MB/s at 1×, 10×, 100× the sample corpus, and for one
document 1×, 10× and ~5 MB long.

Linear scaling shows as a steady rate: each ratio column divides a row's rate by the 1× rate
(1.00 = perfectly linear; below 1 = slower per document or per MB as the input grows). Every
time is the best of ``--runs`` runs after a warm-up on the whole corpus (schemas, regexes,
zhconv tables and the heading matchers are built once per process, and timing one cold run of
five 10 KB documents mostly measures that). A last table sets the whole import (read + parse +
store in SQLite, one run each into a fresh library) beside parsing alone.

    .venv/bin/python bench/parse.py [--scales 1,10,100] [--big-mb 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.library.parse import parse_text  # noqa: E402
from analyzer.library.store import Library  # noqa: E402


def corpus_texts() -> list[str]:
    return [
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus" / "cases").glob("*.txt"))
    ]


def best_of(runs: int, job: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        job()
        best = min(best, time.perf_counter() - start)
    return best


def parse_all(texts: list[str]) -> None:
    for text in texts:
        parse_text(text)


def mb(texts: list[str]) -> float:
    return sum(len(t.encode("utf-8")) for t in texts) / 1e6


def many_documents(base: list[str], scales: list[int], runs: int) -> None:
    print(f"## Many documents: parse (clean + sections + fields + metrics), best of {runs}")
    print(
        f"{'scale':>6} {'docs':>6} {'MB':>7} {'sec':>7} {'docs/s':>8} {'1x docs/s':>10}"
        f" {'ratio':>6} {'MB/s':>6} {'1x MB/s':>8} {'ratio':>6}"
    )
    base_docs = base_mb = 0.0
    for scale in scales:
        # a different first line per copy, so that no cache could serve a repeated text
        texts = [f"{i}\n{t}" for i in range(scale) for t in base]
        size = mb(texts)
        secs = best_of(runs, partial(parse_all, texts))
        docs_s, mb_s = len(texts) / secs, size / secs
        base_docs, base_mb = base_docs or docs_s, base_mb or mb_s
        print(
            f"{scale:>5}x {len(texts):>6} {size:>7.2f} {secs:>7.2f} {docs_s:>8.1f}"
            f" {base_docs:>10.1f} {docs_s / base_docs:>6.2f} {mb_s:>6.2f} {base_mb:>8.2f}"
            f" {mb_s / base_mb:>6.2f}"
        )


def one_large_document(base: list[str], big_mb: float, runs: int) -> None:
    print(f"\n## One document of growing size (the corpus concatenated), best of {runs}")
    print(f"{'copies':>7} {'MB':>7} {'sec':>7} {'MB/s':>6} {'1x MB/s':>8} {'ratio':>6}")
    corpus = "\n".join(base)
    copies_for_big = max(1, round(big_mb * 1e6 / len(corpus.encode("utf-8"))))
    base_mb = 0.0
    for copies in sorted({1, 10, copies_for_big}):
        text = "\n".join([corpus] * copies)
        size = mb([text])
        secs = best_of(runs, partial(parse_text, text))
        mb_s = size / secs
        base_mb = base_mb or mb_s
        print(
            f"{copies:>6}x {size:>7.2f} {secs:>7.2f} {mb_s:>6.2f} {base_mb:>8.2f}"
            f" {mb_s / base_mb:>6.2f}"
        )


def import_vs_parse(base: list[str], scales: list[int], runs: int) -> None:
    print("\n## Import into the library (read + parse + SQLite, one run) vs parse alone")
    print(
        f"{'scale':>6} {'docs':>6} {'import s':>9} {'import docs/s':>14} {'parse docs/s':>13}"
        f" {'ratio':>6}"
    )
    for scale in scales:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "docs"
            folder.mkdir()
            texts = [f"{i}\n{t}" for i in range(scale) for t in base]
            for i, t in enumerate(texts):
                (folder / f"{i:05d}.txt").write_text(t, encoding="utf-8")
            parse_rate = len(texts) / best_of(runs, partial(parse_all, texts))
            start = time.perf_counter()
            with Library(Path(tmp) / "lib") as lib:
                lib.ingest([folder])
            secs = time.perf_counter() - start
            rate = len(texts) / secs
            print(
                f"{scale:>5}x {len(texts):>6} {secs:>9.2f} {rate:>14.1f} {parse_rate:>13.1f}"
                f" {rate / parse_rate:>6.2f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scales", default="1,10,100", help="corpus copies per row (default 1,10,100)")
    ap.add_argument("--big-mb", type=float, default=5.0, help="size of the large document")
    ap.add_argument("--runs", type=int, default=3, help="runs per row; the best counts")
    args = ap.parse_args()
    base = corpus_texts()
    parse_all(base)  # warm-up on the whole corpus: every schema, regex and table is built
    scales = [int(s) for s in args.scales.split(",")]
    many_documents(base, scales, args.runs)
    one_large_document(base, args.big_mb, args.runs)
    import_vs_parse(base, scales, args.runs)


if __name__ == "__main__":
    main()
