"""Completeness-check throughput (goal: > 1,000 entries/s), beside the check of an earlier commit.

Checks run on parsed documents (the way the GUI re-checks an open entry), one core, in memory.
Rows: the sample corpus (1×); a 100× corpus (the same entries with a number line before each);
and 500 *unique* documents, the corpus with every digit drawn at random (fixed seed), which no
cache keyed on a text could speed up. For each: parsing alone (the baseline the bench always
showed), the check of ``--baseline-rev`` (run from ``git archive`` of that commit in a child
process, on the same texts) and the check of this tree, with the ratio; parse + check is what a
user waits for on a file. The goal is checked on the entries.

    .venv/bin/python bench/check.py [--scales 1,100] [--unique 500] [--baseline-rev 75ed639]
                                    [--no-baseline] [--library]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import subprocess
import sys
import tarfile
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
BASELINE_REV = "75ed639"  # the commit before the check was made faster (issue 15)
SEED = 0
T = TypeVar("T")


def corpus_texts() -> list[str]:
    return [
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus" / "cases").glob("*.txt"))
    ]


def unique_texts(base: list[str], n: int, seed: int = SEED) -> list[str]:
    """``n`` documents of the corpus, every digit drawn at random: no two texts alike."""
    rng = random.Random(seed)
    return [re.sub(r"\d", lambda _: str(rng.randint(0, 9)), base[i % len(base)]) for i in range(n)]


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


# Run in a child process on an extracted commit: the check rates of that commit's code.
_BASELINE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from analyzer.check import check_document
from analyzer.library.parse import parse_text

def rate(items):
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for item in items:
            check_document(item)
        best = min(best, time.perf_counter() - start)
    return len(items) / best

groups = json.loads(open(sys.argv[2], encoding="utf-8").read())
out = {}
for name, texts in groups.items():
    docs = [parse_text(t) for t in texts]
    check_document(docs[0])
    out[name] = [rate(docs), rate([d for d in docs if d.is_entry])]
print(json.dumps(out))
"""


def baseline_rates(rev: str, groups: dict[str, list[str]]) -> dict[str, list[float]] | None:
    """{group: [check docs/s, check entries/s]} of commit ``rev`` on the same texts, or None
    (with a line saying why) when the commit cannot be read."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", rev, "analyzer", "templates"],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"(no baseline: git archive {rev} failed: {exc})")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        texts = Path(tmp) / "texts.json"
        texts.write_text(json.dumps(groups, ensure_ascii=False), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-c", _BASELINE, tmp, str(texts)], capture_output=True, text=True
        )
    if done.returncode != 0:
        print(f"(no baseline: the check of {rev} failed: {done.stderr.strip().splitlines()[-1:]})")
        return None
    result: dict[str, list[float]] = json.loads(done.stdout)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scales", default="1,100")
    ap.add_argument("--unique", type=int, default=500, help="unique documents (0: no such row)")
    ap.add_argument("--baseline-rev", default=BASELINE_REV)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument(
        "--library", action="store_true", help="also check against a library of the corpus"
    )
    args = ap.parse_args()
    base = corpus_texts()
    groups = {
        f"{scale}x": [f"{i}\n{t}" for i in range(scale) for t in base]
        for scale in [int(s) for s in args.scales.split(",")]
    }
    if args.unique:
        groups["unique"] = unique_texts(base, args.unique)
    before = None if args.no_baseline else baseline_rates(args.baseline_rev, groups)
    rev = args.baseline_rev if before else "—"
    check_document(parse_text(base[0]))  # warm caches (schemas, vocabularies, regexes)
    print(
        f"{'':>7} {'':>5} {'':>13} {f'check {rev}':>14} {'check now':>13} {'':>7}"
        f" {'check/parse':>12} {'parse+check':>12}"
    )
    print(
        f"{'rows':>7} {'docs':>5} {'parse docs/s':>13} {'docs/s':>14} {'docs/s':>13}"
        f" {'ratio':>7} {'ratio':>12} {'docs/s':>12} {'goal':>6}"
    )
    goals = []
    for name, texts in groups.items():
        docs = [parse_text(t) for t in texts]
        entries = [d for d in docs if d.is_entry]
        parse_rate = rate(texts, parse_text)
        check_rate = rate(docs, check_document)
        entry_rate = rate(entries, check_document)
        both = rate(texts, _parse_and_check, repeat=1)
        old_docs, old_entries = before[name] if before else (0.0, 0.0)
        ok = "ok" if entry_rate >= GOAL else "BELOW"
        goals.append(f"{name}: {entry_rate:,.0f} entries/s {'>' if ok == 'ok' else '<'} 1,000")
        print(
            f"{name:>7} {len(docs):>5} {parse_rate:>13.1f} {_cell(old_docs, 14)} {check_rate:>13.1f}"
            f" {_ratio(check_rate, old_docs)} {check_rate / parse_rate:>11.1f}x {both:>12.1f}"
        )
        print(
            f"{'':>7} {len(entries):>5} {'(entries only)':>13} {_cell(old_entries, 14)}"
            f" {entry_rate:>13.1f} {_ratio(entry_rate, old_entries)} {'':>12} {'':>12} {ok:>6}"
        )
    print("\ngoal (> 1,000 entries/s): " + "; ".join(goals))
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


def _cell(value: float, width: int) -> str:
    return f"{value:>{width}.1f}" if value else f"{'—':>{width}}"


def _ratio(now: float, before: float) -> str:
    return f"{now / before:>6.2f}x" if before else f"{'—':>7}"


if __name__ == "__main__":
    main()
