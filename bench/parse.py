"""Parse throughput at 1×, 10× and 100× the sample corpus: documents/s and MB/s.

Linear scaling shows as a steady rate: the ratio column compares each scale's rate with the 1×
rate (1.00 = perfectly linear). A second table sets the whole import (read + parse + store in
SQLite) beside parsing alone.

    .venv/bin/python bench/parse.py [--scales 1,10,100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.library import Library  # noqa: E402
from analyzer.parse import parse_text  # noqa: E402


def corpus_texts() -> list[str]:
    return [
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus" / "cases").glob("*.txt"))
    ]


def time_parse(texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        parse_text(text)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scales", default="1,10,100")
    args = ap.parse_args()
    base = corpus_texts()
    parse_text(base[0])  # warm caches (schemas, regexes, zhconv tables)
    scales = [int(s) for s in args.scales.split(",")]

    print("## Parse (clean + sections + fields + metrics), in memory")
    print(
        f"{'scale':>6} {'docs':>6} {'MB':>7} {'sec':>7} {'docs/s':>8} {'MB/s':>6} {'1x docs/s':>10} {'ratio':>6}"
    )
    baseline = None
    for scale in scales:
        texts = [f"{i}\n{t}" for i in range(scale) for t in base]
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        secs = time_parse(texts)
        rate = len(texts) / secs
        baseline = baseline or rate
        print(
            f"{scale:>5}x {len(texts):>6} {mb:>7.2f} {secs:>7.2f} {rate:>8.1f} {mb / secs:>6.2f} {baseline:>10.1f} {rate / baseline:>6.2f}"
        )

    print("\n## Import into the library (read + parse + SQLite) vs parse alone")
    print(
        f"{'scale':>6} {'docs':>6} {'import s':>9} {'import docs/s':>14} {'parse docs/s':>13} {'ratio':>6}"
    )
    for scale in scales:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "docs"
            folder.mkdir()
            texts = [f"{i}\n{t}" for i in range(scale) for t in base]
            for i, t in enumerate(texts):
                (folder / f"{i:05d}.txt").write_text(t, encoding="utf-8")
            parse_rate = len(texts) / time_parse(texts)
            start = time.perf_counter()
            with Library(Path(tmp) / "lib") as lib:
                lib.ingest([folder])
            secs = time.perf_counter() - start
            rate = len(texts) / secs
            print(
                f"{scale:>5}x {len(texts):>6} {secs:>9.2f} {rate:>14.1f} {parse_rate:>13.1f} {rate / parse_rate:>6.2f}"
            )


if __name__ == "__main__":
    main()
