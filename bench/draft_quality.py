"""Draft quality: what a judge would find in whole drafts, today's drafter beside the one before.

    .venv/bin/python bench/draft_quality.py [--briefs DIR ...] [--baseline REV] [--model SRC]
                                            [--reuse-baseline]

The drafts are kept in ``bench/out/draft_quality/<brief>-now.md`` and ``-baseline.md``.

Drafts every brief (``corpus/briefs/*.toml`` by default; ``--briefs bench/briefs`` adds the
briefs written for awards and industries the samples do not cover) with the drafter of this
checkout and with the drafter of ``--baseline`` (a git revision, run from a temporary worktree),
each through ``award-writer draft`` in its own process, with the same model and no library (so
no exemplars). Per brief it prints, for both:

    sections present · leaks (prompt or meta-talk) · debris (Markdown/JSON) · repeated-sentence
    share · unsupported claims · brief figures moved to another fact · changed dates ·
    numbers not in the brief (【待核实】) · prose copied line for line from the brief (share) ·
    characters per section against the kind's target · brief results present · tries used ·
    sections composed from the brief · wall time

and the goals: 0 leaks, 0 debris, 0 unsupported claims, 0 moved figures, ≤ 3 % repeated
sentences, ≤ 30 % prose copied line for line, every brief result present, time ≤ 1.5×.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.documents.brief import Brief, load_brief  # noqa: E402
from analyzer.kinds import RESULTS, kind  # noqa: E402
from analyzer.markers import VERIFY  # noqa: E402
from analyzer.quality import against_brief, text  # noqa: E402
from analyzer.quality.against_brief import pasted_share  # noqa: E402
from analyzer.quality.issues import CHANGED_DATE, MOVED  # noqa: E402
from analyzer.schema import get_award  # noqa: E402

BASELINE = "9d6d903"  # the drafter as it was before the quality gates (the previous release)


@dataclass
class Draft:
    sections: dict[str, str]  # title → text
    seconds: float
    tries: int = 0
    composed: int = 0


@dataclass
class Row:
    values: dict[str, float] = field(default_factory=dict)


def draft(python: str, cwd: Path, brief: Path, model: str | None, home: Path) -> Draft:
    """One whole draft through the CLI of the checkout at ``cwd``."""
    out = home / f"{brief.stem}-{abs(hash(str(cwd))) % 10**6}.md"
    cmd = [python, "-m", "analyzer", "draft", str(brief), "-o", str(out), "--no-exemplars"]
    if model:
        cmd += ["--model", model]
    env = {**os.environ, "AWARD_WRITER_HOME": str(home / "lib"), "PYTHONPATH": str(cwd)}
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"draft failed in {cwd}: {done.stderr[-2000:]}")
    kept = ROOT / "bench" / "out" / "draft_quality"
    kept.mkdir(parents=True, exist_ok=True)
    side = "now" if cwd == ROOT else "baseline"
    (kept / f"{brief.stem}-{side}.md").write_text(out.read_text(encoding="utf-8"), "utf-8")
    md = out.read_text(encoding="utf-8").split("\n---\n")[0]
    sections: dict[str, str] = {}
    for block in re.split(r"^## ", md, flags=re.M)[1:]:
        title, _, body = block.partition("\n")
        sections[title.strip()] = body.strip()
    tries = len(re.findall(r"〔第 \d+ 稿", done.stdout))
    composed = done.stderr.count("按简报组织成文")
    return Draft(sections, seconds, tries, composed)


def baseline_draft(args: Any, python: str, base: Path, brief: Path, home: Path) -> Draft:
    """The baseline's draft of ``brief``: drafted now, or with ``--reuse-baseline`` as an
    earlier run of the same baseline, model and brief drafted it (it does not change)."""
    import hashlib
    import json

    key = hashlib.sha256(
        f"{args.baseline}|{args.model}|{brief.read_text(encoding='utf-8')}".encode()
    ).hexdigest()[:16]
    saved = ROOT / "bench" / "out" / "draft_quality" / f"{brief.stem}-baseline-{key}.json"
    if args.reuse_baseline and saved.exists():
        return Draft(**json.loads(saved.read_text(encoding="utf-8")))
    d = draft(python, base, brief, args.model, home)
    saved.write_text(json.dumps(d.__dict__, ensure_ascii=False), encoding="utf-8")
    return d


def measure(d: Draft, brief: Brief) -> dict[str, float]:
    schema = get_award(brief.award)
    kinds = {s.title: s.kind for s in schema.sections}
    prose_parts = []
    out = {
        "sections present": sum(1 for s in schema.sections if d.sections.get(s.title, "").strip()),
        "leaks": 0.0,
        "debris": 0.0,
        "unsupported claims": 0.0,
        "moved figures": 0.0,
        "changed dates": 0.0,
        "numbers not in the brief": 0.0,
    }
    ratios = []
    for title, body in d.sections.items():
        section_kind = kinds.get(title, "")
        prose = (
            body
            if section_kind != RESULTS
            else "\n".join(line for line in body.split("\n") if not line.startswith("- "))
        )
        out["leaks"] += len(text.leaks(prose))
        out["debris"] += len(text.debris(prose)) + len(text.bare_lines(prose))
        out["unsupported claims"] += len(against_brief.unsupported_claims(prose, brief))
        moved = against_brief.moved_figures(prose, brief)
        out["moved figures"] += sum(1 for i in moved if i.kind == MOVED)
        out["changed dates"] += sum(1 for i in moved if i.kind == CHANGED_DATE)
        out["numbers not in the brief"] += body.count(VERIFY)
        if section_kind and section_kind != RESULTS:
            prose_parts.append(prose)
            target = kind(section_kind).target_chars
            ratios.append(len("".join(body.split())) / target)
    all_prose = "\n".join(prose_parts)
    out["repeated sentences %"] = 100 * text.repeated_share(all_prose)
    out["prose copied line for line %"] = 100 * pasted_share(all_prose, brief)
    out["  of it brief lines whole %"] = 100 * whole_lines_share(all_prose, brief)
    out["chars per section / target"] = sum(ratios) / len(ratios) if ratios else 0.0
    results = next((b for t, b in d.sections.items() if kinds.get(t) == RESULTS), "")
    plain = re.sub(r"\s", "", results)
    out["brief results present %"] = 100 * (
        sum(1 for r in brief.results if re.sub(r"\s", "", r.value) in plain) / len(brief.results)
        if brief.results
        else 1.0
    )
    out["tries"] = float(d.tries + len(schema.sections))
    out["sections composed"] = float(d.composed)
    out["wall time s"] = d.seconds
    return out


def whole_lines_share(prose: str, brief: Brief) -> float:
    """The share of the prose that is a brief point pasted whole (the literal "line for line";
    the goal is measured on the stricter 12-character runs above, which also catch a point cut
    down or run into another)."""

    def plain(s: str) -> str:
        return re.sub(r"[\s。；;，,、：:]", "", s)

    text = plain(prose)
    covered = [False] * len(text)
    for name in ("background", "insights", "objectives", "strategy", "creative", "execution"):
        for line in getattr(brief, name):
            point = plain(line)
            for m in re.finditer(re.escape(point), text) if len(point) >= 6 else ():
                covered[m.start() : m.end()] = [True] * (m.end() - m.start())
    return sum(covered) / len(text) if text else 0.0


def worktree(rev: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix="draft-quality-baseline-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", "-q", str(path), rev], cwd=ROOT, check=True
    )
    return path


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--briefs", nargs="*", default=[str(ROOT / "corpus" / "briefs")])
    ap.add_argument(
        "--baseline", default=BASELINE, help="git revision of the drafter to compare with"
    )
    ap.add_argument(
        "--model", default=None, help="model source for both (default: the bundled one)"
    )
    ap.add_argument(
        "--reuse-baseline",
        action="store_true",
        help="take the baseline's drafts from an earlier run (bench/out/draft_quality/*.json)",
    )
    args = ap.parse_args()
    files = sorted(p.resolve() for d in args.briefs for p in Path(d).glob("*.toml"))
    base = worktree(args.baseline)
    python = sys.executable
    totals: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            print(
                f"baseline: the drafter at {args.baseline}; now: this checkout; model: {args.model or 'bundled'}"
            )
            for path in files:
                brief = load_brief(path)
                old = measure(baseline_draft(args, python, base, path, home), brief)
                new = measure(draft(python, ROOT, path, args.model, home), brief)
                print(f"\n{path.name} ({brief.award})")
                print(f"{'metric':34} {'baseline':>9} {'now':>9} {'ratio':>6}")
                for key in new:
                    ratio = new[key] / old[key] if old[key] else float("nan")
                    print(f"{key:34} {old[key]:9.2f} {new[key]:9.2f} {ratio:6.2f}")
                    totals.setdefault(key, [0.0, 0.0])
                    totals[key][0] += old[key]
                    totals[key][1] += new[key]
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False)
    n = len(files)
    print(f"\nall {n} briefs (sums; % and ratios averaged)")
    print(f"{'metric':34} {'baseline':>9} {'now':>9} {'ratio':>6}")
    for key, (old_sum, new_sum) in totals.items():
        avg = key.endswith("%") or "/" in key
        old_v, new_v = (old_sum / n, new_sum / n) if avg else (old_sum, new_sum)
        ratio = new_v / old_v if old_v else float("nan")
        print(f"{key:34} {old_v:9.2f} {new_v:9.2f} {ratio:6.2f}")
    t_old, t_new = totals["wall time s"]
    goals = {
        "0 leaks": totals["leaks"][1] == 0,
        "0 debris": totals["debris"][1] == 0,
        "0 unsupported claims": totals["unsupported claims"][1] == 0,
        "0 moved figures": totals["moved figures"][1] == 0,
        "≤ 3 % repeated sentences": totals["repeated sentences %"][1] / n <= 3,
        "≤ 30 % prose copied line for line": totals["prose copied line for line %"][1] / n <= 30,
        "every brief result present": totals["brief results present %"][1] / n >= 100,
        "time ≤ 1.5× the baseline": t_new <= 1.5 * t_old,
    }
    print("\ngoals: " + "; ".join(f"{g}: {'met' if ok else 'NOT met'}" for g, ok in goals.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
