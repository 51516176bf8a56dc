"""Completeness-check throughput on the sample corpus and on a 100× corpus (goal: > 1,000/s).

Checks run on parsed documents (the way the GUI re-checks an open entry); parsing alone is the
baseline, and parse + check shows what a user waits for on a file. One core, in memory.

    .venv/bin/python bench/check.py [--scales 1,100] [--library]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.check import Report, check_document  # noqa: E402
from analyzer.library.parse import parse_text  # noqa: E402
from analyzer.library.store import Library  # noqa: E402

GOAL = 1000.0  # entries per second
T = TypeVar("T")


def corpus_texts() -> list[str]:
    return [
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus" / "cases").glob("*.txt"))
    ]


def rate(items: Sequence[T], work: Callable[[T], object], repeat: int = 3) -> float:
    """Items per second, best of ``repeat`` runs (other processes only ever slow a run down)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            work(item)
        best = min(best, time.perf_counter() - start)
    return len(items) / best


def _parse_and_check(text: str) -> Report:
    return check_document(parse_text(text))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scales", default="1,100")
    ap.add_argument(
        "--library", action="store_true", help="also check against a library of the corpus"
    )
    args = ap.parse_args()
    base = corpus_texts()
    check_document(parse_text(base[0]))  # warm caches (schemas, vocabularies, regexes)
    print(f"{'':>8} {'':>6} {'baseline':>22} {'value':>22} {'':>8}")
    print(
        f"{'scale':>8} {'docs':>6} {'parse docs/s':>22} {'check docs/s':>22} {'ratio':>8} {'parse+check/s':>14} {'goal':>6}"
    )
    for scale in [int(s) for s in args.scales.split(",")]:
        texts = [f"{i}\n{t}" for i in range(scale) for t in base]
        docs = [parse_text(t) for t in texts]
        entries = [d for d in docs if d.is_entry]
        parse_rate = rate(texts, parse_text)
        check_rate = rate(docs, check_document)
        entry_rate = rate(entries, check_document)
        both = rate(texts, _parse_and_check, repeat=1)
        ok = "ok" if entry_rate >= GOAL else "BELOW"
        print(
            f"{scale:>7}x {len(docs):>6} {parse_rate:>22.1f} {check_rate:>22.1f} "
            f"{check_rate / parse_rate:>7.1f}x {both:>14.1f} {ok:>6}"
        )
        print(f"{'':>8} {len(entries):>6} {'(entries only)':>22} {entry_rate:>22.1f}")
    if args.library:
        print("\n## With the library comparison (similar cases read once, then cached)")
        with tempfile.TemporaryDirectory() as tmp, Library(Path(tmp) / "lib") as lib:
            for i, t in enumerate(base * 20):
                lib.add_parsed(f"case{i}.txt", parse_text(f"{i}\n{t}"))
            docs = [parse_text(t) for t in base] * 20
            plain = rate(docs, check_document)
            with_lib = rate(docs, lambda d: check_document(d, library=lib))
            print(
                f"{'library cases':>14} {'check docs/s':>14} {'+library docs/s':>16} {'ratio':>6}"
            )
            print(f"{len(lib):>14} {plain:>14.1f} {with_lib:>16.1f} {with_lib / plain:>6.2f}")


if __name__ == "__main__":
    main()
