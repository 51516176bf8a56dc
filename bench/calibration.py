"""匹配度: what the 相似案例 page shows for true matches and for unrelated cases.

A library of the seed cases (corpus/cases) plus the real cases of ../shared/realcases (when
present) is indexed with the bundled e5; every query of bench/calibration_queries.json and
bench/retrieval_queries.json is searched over all cases, and each hit is labelled a true match
(the case the query describes), related (same topic, another case: counted neither way) or
unrelated. Queries about campaigns the library does not hold have only unrelated hits.

The baseline is what the page showed before: the fused score as a share of the best hit's
(“strong” ≥ 90 %, “weak” < 70 %); the new value is the calibrated level (高 / 中 / 低,
analyzer.search.calibration). Also printed: the distribution of the best passage's z-score and
cosine, and how the levels fall at other thresholds (to choose them).

    .venv/bin/python bench/calibration.py [--library DIR] [--realcases DIR]

The library is built in DIR (kept, so a second run skips the indexing) or a temporary folder.
Timings are not measured here.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.library.store import Library  # noqa: E402
from analyzer.search import calibration as C  # noqa: E402
from analyzer.search import query as S  # noqa: E402
from analyzer.search.embed import get_embedder  # noqa: E402

# ../shared/realcases of the checkout (or of the folder holding the worktrees)
REALCASES = next(
    (
        p
        for p in (ROOT.parent / "shared" / "realcases", ROOT.parent.parent / "shared" / "realcases")
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "realcases",
)


def queries() -> list[dict[str, list[str] | str]]:
    own = json.loads((ROOT / "bench" / "calibration_queries.json").read_text(encoding="utf-8"))
    seeds = json.loads((ROOT / "bench" / "retrieval_queries.json").read_text(encoding="utf-8"))
    out = list(own["queries"])
    for q in seeds["queries"]:
        related = ["02_jinqi_chinamobile_hackathon.txt"] if q["seed"].startswith("000") else []
        out.append({"query": q["query"], "relevant": [q["seed"]], "related": related})
    return out


def row(metric: str, baseline: str, value: str, ratio: str = "") -> None:
    print(f"{metric:<46} | {baseline:>10} | {value:>10} | {ratio:>6}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--library", type=Path, help="library folder (kept between runs)")
    ap.add_argument("--realcases", type=Path, default=REALCASES)
    args = ap.parse_args()
    home = args.library or Path(tempfile.mkdtemp(prefix="calibration-"))
    lib = Library(home)
    have_real = args.realcases.is_dir()
    if not have_real:
        print(f"({args.realcases} not found: seed cases only)")
    if not len(lib):
        paths = [ROOT / "corpus" / "cases"]
        if have_real:
            paths += sorted(args.realcases.glob("[0-9]*.txt"))
        lib.ingest(paths)
    embedder = get_embedder(None)
    names = {c.id: Path(c.source).name for c in lib.iter_cases()}
    # a query about a real case that is not in the library (no ../shared) is left out
    labelled = [q for q in queries() if all(f in names.values() for f in q["relevant"])]
    hits: list[tuple[str, int, float, C.Evidence | None]] = []  # label, rank, share, evidence
    for q in labelled:
        found = S.search(lib, str(q["query"]), k=len(names), embedder=embedder)
        best = found[0].score if found else 1.0
        for rank, h in enumerate(found):
            name = names[h.case_id]
            label = "rel" if name in q["relevant"] else "part" if name in q["related"] else "un"
            hits.append((label, rank, h.score / best, h.evidence))
    lib.close()

    def share(label: str, test: object) -> float:
        group = [h for h in hits if h[0] == label]
        return sum(1 for h in group if test(h)) / max(1, len(group))  # type: ignore[operator]

    def level(h: tuple[str, int, float, C.Evidence | None]) -> str:
        return C.judge(h[3]).level

    n_rel = sum(1 for h in hits if h[0] == "rel")
    n_un = sum(1 for h in hits if h[0] == "un")
    print(f"{len(names)} cases, {len(labelled)} queries, {n_rel} true matches, {n_un} unrelated")
    print()
    row("metric (baseline: share of best hit)", "baseline", "calibrated", "ratio")
    pairs = [
        ("true matches shown strong (≥90% | 高)", "rel", lambda h: h[2] >= 0.9, "high"),
        ("true matches shown weak (<70% | 低)", "rel", lambda h: h[2] < 0.7, "low"),
        ("unrelated shown strong (≥90% | 高)", "un", lambda h: h[2] >= 0.9, "high"),
        ("unrelated shown middling (70–89% | 中)", "un", lambda h: 0.7 <= h[2] < 0.9, "medium"),
        ("unrelated shown weak (<70% | 低)", "un", lambda h: h[2] < 0.7, "low"),
    ]
    for metric, label, old, new in pairs:
        a = share(label, old)
        b = share(label, lambda h, new=new: level(h) == new)
        row(metric, f"{a:.1%}", f"{b:.1%}", f"{b / a:.2f}" if a else "")
    top_un = [h for h in hits if h[1] == 0 and h[0] == "un"]
    a = sum(1 for h in top_un if h[2] >= 0.9) / max(1, len(top_un))
    b = sum(1 for h in top_un if level(h) == "high") / max(1, len(top_un))
    row(f"unrelated top hits ({len(top_un)}) shown strong", f"{a:.1%}", f"{b:.1%}")

    def auc(values: dict[str, list[float]]) -> float:
        pos, neg = np.array(values["rel"]), np.array(values["un"])
        return float(
            (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
        )

    def feature(fn: object) -> dict[str, list[float]]:
        return {lab: [fn(h) for h in hits if h[0] == lab] for lab in ("rel", "un")}  # type: ignore[operator]

    base_auc = auc(feature(lambda h: h[2]))
    z_auc = auc(feature(lambda h: h[3].z if h[3] and h[3].z is not None else -9.0))
    row(
        "separation true/unrelated (AUC)",
        f"{base_auc:.3f}",
        f"{z_auc:.3f}",
        f"{z_auc / base_auc:.2f}",
    )
    cos_auc = auc(feature(lambda h: h[3].cosine if h[3] and h[3].cosine is not None else 0.0))
    tc_auc = auc(feature(lambda h: h[3].coverage if h[3] else 0.0))
    print(f"(AUC of the raw best cosine: {cos_auc:.3f}; of the term coverage alone: {tc_auc:.3f})")

    print("\nz of the best passage, percentiles 5/25/50/75/95:")
    for label in ("rel", "part", "un"):
        zs = [h[3].z for h in hits if h[0] == label and h[3] is not None and h[3].z is not None]
        if zs:
            print(f"  {label:<4} n={len(zs):<5}", np.percentile(zs, [5, 25, 50, 75, 95]).round(2))
    print("\nlevels at other thresholds (true matches 高/中/低 | unrelated 高/中/低):")
    for high in (3.0, 3.2, C.HIGH_Z, 4.0):
        for medium in (1.8, C.MEDIUM_Z, 2.2):
            cells = []
            for label in ("rel", "un"):
                zs = np.array(
                    [h[3].z if h[3] and h[3].z is not None else -9.0 for h in hits if h[0] == label]
                )
                cells.append(
                    f"{np.mean(zs >= high):.1%} / {np.mean((zs >= medium) & (zs < high)):.1%}"
                    f" / {np.mean(zs < medium):.1%}"
                )
            mark = " ← used" if (high, medium) == (C.HIGH_Z, C.MEDIUM_Z) else ""
            print(f"  高≥{high} 中≥{medium}: {cells[0]} | {cells[1]}{mark}")
    print("\nkeyword-only levels from term coverage (true matches 高/中/低 | unrelated 高/中/低):")
    cover = {
        label: np.array([h[3].coverage for h in hits if h[0] == label and h[3] is not None])
        for label in ("rel", "un")
    }
    for high in (0.4, 0.5, C.HIGH_TERMS):
        for medium in (0.2, 0.25, C.MEDIUM_TERMS):
            cells = [
                f"{np.mean(c >= high):.1%} / {np.mean((c >= medium) & (c < high)):.1%}"
                f" / {np.mean(c < medium):.1%}"
                for c in cover.values()
            ]
            mark = " ← used" if (high, medium) == (C.HIGH_TERMS, C.MEDIUM_TERMS) else ""
            print(f"  高≥{high} 中≥{medium}: {cells[0]} | {cells[1]}{mark}")


if __name__ == "__main__":
    main()
