"""Parse quality on real case texts: headings, header fields, metrics, entry or not, award.

Runs the parser over the hand-labelled real texts of ``../shared/realcases/`` (24 pages as users
copy them: 14 entries or case write-ups, 10 news items, interviews, commentaries, judging rules
and lecture notes) and over the five seeds of ``corpus/cases/``, and prints, per measure, the
previous parser's figure beside this one's and their ratio:

* headings recall: labelled headings the parser found; spurious: headings it found that are not
  labelled (all 24 files; a document taken for a reference document has none), also as a share of
  the labels;
* header-field recall: labelled fields whose value the parser read;
* metric recall: labelled figures found with the same value;
* entry / non-entry: documents put on the right side;
* award: entries given the right award (a stated award with a schema, else ``generic``).

Headings are compared as words: numbering (``一、``, ``2.``, ``(一)``, ``第一章``), spaces,
separators and the pinyin some mirror sites add after rare characters (``挑戰(zhàn)``) are set
aside, and traditional characters fold to simplified. Field values and metric texts are compared
the same way.

The real texts are split into two halves (by case: both scripts of one case fall in the same
half): the parser was tuned while measuring the first half only, and the second half is reported
apart as held out. The seeds carry no labels of their own: their "labels" are the previous
parser's reading, which the tests assert, so the seed rows say whether the seeds still parse
exactly as before.

The baseline is the parser of commit ad80202 (where this work started). Its predictions for the
real texts, the test entries (``tests/analyzer/realdocs``) and the seeds are stored in
``bench/parse_quality_baseline.json`` (made with ``--save-baseline --baseline-tree
/tmp/baseline-parser`` from a tree extracted with ``git archive ad80202 | tar -x -C
/tmp/baseline-parser``); ``--baseline-tree DIR`` runs a tree again instead.

    .venv/bin/python bench/parse_quality.py [--realcases DIR] [--baseline-tree DIR] [--files]
    .venv/bin/python bench/parse_quality.py --realcases tests/analyzer/realdocs
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.zh.fold import fold  # noqa: E402

BASELINE_FILE = Path(__file__).with_suffix("").with_name("parse_quality_baseline.json")
BASELINE_COMMIT = "ad80202"
# Held out while tuning: whole cases (05/06 and 08/09 are one case in two scripts each).
HELD_OUT = frozenset(
    {"02", "04", "08", "09", "11", "13", "16", "18", "20", "22", "24"}
)  # fmt: skip
SCHEMA_AWARDS = frozenset(
    {"jinqi", "effie", "golden_mouse", "tma", "changcheng", "topdigital", "cipra", "huxiao",
     "jintou"}
)  # fmt: skip

# Run in a child process with a parser tree first on sys.path: prints one JSON object per file.
_PREDICT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from analyzer.library.parse import parse_file
out = {}
for path in sys.argv[2:]:
    doc = parse_file(path)
    headings = getattr(doc, "headings", None)
    if headings is None:
        titles = [s.title for s in doc.sections if s.key != "body" and s.title]
    else:
        titles = [h.title for h in headings]
    out[path] = {
        "is_entry": doc.is_entry,
        "award": doc.award,
        "headings": titles,
        "sections": [[s.key, s.title] for s in doc.sections],
        "fields": dict(doc.fields),
        "metrics": [[m.text, m.value, m.section] for m in doc.metrics],
    }
print(json.dumps(out, ensure_ascii=False))
"""


def predict(tree: Path, files: list[Path]) -> dict[str, Any]:
    """Parse ``files`` with the parser of ``tree``; keyed by file name."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run(
        [sys.executable, "-c", _PREDICT, str(tree), *(str(f.resolve()) for f in files)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        check=True,
    )
    raw = json.loads(done.stdout)
    return {Path(k).name: v for k, v in raw.items()}


# ------------------------------------------------------------------------------------ matching

_PINYIN = re.compile(
    r"\((?=[a-zü]*[āáǎàōóǒòēéěèīíǐìūúǔùǖǘǚǜ])[a-zāáǎàōóǒòēéěèīíǐìūúǔùüǖǘǚǜ]{1,7}\)"
)
_NUMBERING = re.compile(
    r"^\s*(?:(?:part|section)\s*\d{1,2}|第[一二三四五六七八九十\d]{1,3}(?:章|部分|节|篇)|[（(]\s*[一二三四五六七八九十\d]{1,2}\s*[)）]"
    r"|[一二三四五六七八九十壹贰貳叁參肆伍陆陸柒捌玖拾]{1,3}\s*[、.．]|\d{1,2}(?:\.\d{1,2})?\s*[、.．)）]?)\s*",
    re.IGNORECASE,
)
_SKIP = re.compile(r"[\s:：、/／·&＆与及和\-—_“”\"'《》【】\[\]]+")


def norm(text: str) -> str:
    text = _PINYIN.sub("", text)
    return _SKIP.sub("", fold(text)).lower()


def norm_heading(text: str) -> str:
    return norm(_NUMBERING.sub("", _PINYIN.sub("", text), count=1))


def match_count(labels: list[str], found: list[str]) -> tuple[int, int]:
    """(labels found, found items matching no label): each found item matches one label."""
    pool = list(found)
    hits = 0
    for label in labels:
        if label in pool:
            pool.remove(label)
            hits += 1
    return hits, len(pool)


def metric_hits(labels: list[list[Any]], found: list[list[Any]]) -> int:
    pool = list(found)
    hits = 0
    for text, value, *_ in labels:
        want = norm(str(text))
        for item in pool:
            got_text, got_value = norm(str(item[0])), float(item[1])
            same = abs(got_value - float(value)) <= 1e-6 * max(1.0, abs(float(value)))
            if same and (
                want in got_text or got_text in want or _digits(want) == _digits(got_text)
            ):
                pool.remove(item)
                hits += 1
                break
    return hits


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


# ------------------------------------------------------------------------------------- scoring


@dataclass
class Tally:
    headings: int = 0
    heading_labels: int = 0
    spurious: int = 0
    fields: int = 0
    field_labels: int = 0
    metrics: int = 0
    metric_labels: int = 0
    entry_right: int = 0
    docs: int = 0
    award_right: int = 0
    entries: int = 0
    same_as_before: int = 0

    def rows(self) -> list[tuple[str, float, str]]:
        def share(a: int, b: int) -> float:
            return a / b if b else 1.0

        return [
            (
                "headings recall",
                share(self.headings, self.heading_labels),
                f"{self.headings}/{self.heading_labels}",
            ),
            (
                "spurious headings (share of labels)",
                share(self.spurious, self.heading_labels) if self.heading_labels else 0.0,
                f"{self.spurious}",
            ),
            (
                "header-field recall",
                share(self.fields, self.field_labels),
                f"{self.fields}/{self.field_labels}",
            ),
            (
                "metric recall",
                share(self.metrics, self.metric_labels),
                f"{self.metrics}/{self.metric_labels}",
            ),
            (
                "entry / non-entry right",
                share(self.entry_right, self.docs),
                f"{self.entry_right}/{self.docs}",
            ),
            (
                "award right (entries)",
                share(self.award_right, self.entries),
                f"{self.award_right}/{self.entries}",
            ),
        ]


def expected_award(label: str) -> str:
    return label if label in SCHEMA_AWARDS else "generic"


def score_real(labels: dict[str, Any], pred: dict[str, Any], names: list[str]) -> Tally:
    t = Tally()
    for name in names:
        want, got = labels[name], pred[name]
        heads = [norm_heading(h) for h in want["headings"]]
        found = [norm_heading(h) for h in got["headings"]] if got["is_entry"] else []
        hits, extra = match_count(heads, found)
        t.headings += hits
        t.heading_labels += len(heads)
        t.spurious += extra
        values = [norm(v) for v in got["fields"].values()]
        t.field_labels += len(want["fields"])
        t.fields += match_count([norm(v) for v in want["fields"].values()], values)[0]
        t.metric_labels += len(want["metrics"])
        t.metrics += metric_hits(want["metrics"], got["metrics"])
        t.docs += 1
        t.entry_right += got["is_entry"] == want["entry"]
        if want["entry"]:
            t.entries += 1
            t.award_right += got["award"] == expected_award(want["award"])
    return t


def score_seeds(before: dict[str, Any], now: dict[str, Any]) -> Tally:
    t = Tally()
    for name, want in before.items():
        got = now[name]
        heads = [norm_heading(h) for h in want["headings"]] if want["is_entry"] else []
        found = [norm_heading(h) for h in got["headings"]] if got["is_entry"] else []
        hits, extra = match_count(heads, found)
        t.headings += hits
        t.heading_labels += len(heads)
        t.spurious += extra
        t.field_labels += len(want["fields"])
        t.fields += match_count(
            [norm(v) for v in want["fields"].values()], [norm(v) for v in got["fields"].values()]
        )[0]
        t.metric_labels += len(want["metrics"])
        t.metrics += metric_hits(want["metrics"], got["metrics"])
        t.docs += 1
        t.entry_right += got["is_entry"] == want["is_entry"]
        if want["is_entry"]:
            t.entries += 1
            t.award_right += got["award"] == want["award"]
        keep = ("is_entry", "award", "sections", "fields", "metrics")
        t.same_as_before += all(got[k] == want[k] for k in keep)
    return t


def table(title: str, before: Tally, now: Tally, goals: dict[str, str] | None = None) -> None:
    print(f"\n## {title}")
    goals = goals or {}
    print(f"{'measure':38} {'baseline':>16} {'now':>16} {'ratio':>7}  goal")
    for (label, b, bt), (_, n, nt) in zip(before.rows(), now.rows(), strict=True):
        ratio = f"{n / b:.2f}" if b else ("—" if n == 0 else "∞")
        print(f"{label:38} {b:6.2f} {bt:>9} {n:6.2f} {nt:>9} {ratio:>7}  {goals.get(label, '')}")


def realcases_dir(given: str | None) -> Path | None:
    candidates = (
        [Path(given)]
        if given
        else [
            ROOT.parent / "shared" / "realcases",
            ROOT.parent.parent / "shared" / "realcases",
        ]
    )
    return next((p for p in candidates if (p / "labels.json").is_file()), None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--realcases", help="folder with labels.json (default ../shared/realcases)")
    ap.add_argument("--baseline-tree", type=Path, help="a parser tree to run as the baseline")
    ap.add_argument(
        "--save-baseline", action="store_true", help="store the baseline tree's predictions"
    )
    ap.add_argument("--files", action="store_true", help="per-file detail of the real texts")
    args = ap.parse_args()

    folder = realcases_dir(args.realcases)
    seeds = sorted((ROOT / "corpus" / "cases").glob("*.txt"))
    real = sorted(folder.glob("*.txt")) if folder else []
    if folder is None:
        print("(../shared/realcases not found: only the seeds are measured; give --realcases DIR)")

    if args.baseline_tree:
        # stored for the real texts and the test entries both (names differ)
        tests = sorted((ROOT / "tests" / "analyzer" / "realdocs").glob("*.txt"))
        both = sorted(set(real) | (set(tests) if args.save_baseline else set()))
        base = {
            "real": predict(args.baseline_tree, both) if both else {},
            "seeds": predict(args.baseline_tree, seeds),
        }
        if args.save_baseline:
            BASELINE_FILE.write_text(
                json.dumps(
                    {
                        "commit": BASELINE_COMMIT,
                        "made_with": f"--baseline-tree {args.baseline_tree}",
                        **base,
                    },
                    ensure_ascii=False,
                    indent=1,
                )
                + "\n",
                encoding="utf-8",
            )
            print(f"baseline predictions stored in {BASELINE_FILE.relative_to(ROOT)}")
    else:
        base = json.loads(BASELINE_FILE.read_text(encoding="utf-8"))
        if missing := [p.name for p in real if p.name not in base["real"]]:
            raise SystemExit(
                f"no stored baseline for {', '.join(missing[:3])}…: give --baseline-tree DIR"
                f" (made with: git archive {BASELINE_COMMIT} | tar -x -C DIR)"
            )
    now = {"real": predict(ROOT, real) if real else {}, "seeds": predict(ROOT, seeds)}

    print(f"# Parse quality (baseline: parser of {BASELINE_COMMIT})")
    if real and folder is not None:
        labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        names = [p.name for p in real if p.name in labels]
        tune = [n for n in names if n[:2] not in HELD_OUT]
        held = [n for n in names if n[:2] in HELD_OUT]
        goals = {
            "headings recall": "≥ 0.90",
            "spurious headings (share of labels)": "≤ 0.10",
            "header-field recall": "≥ 0.90",
            "metric recall": "≥ 0.90",
            "entry / non-entry right": "≥ 22/24",
        }
        table(
            f"Real texts, all {len(names)} ({folder})",
            score_real(labels, base["real"], names),
            score_real(labels, now["real"], names),
            goals,
        )
        table(
            f"Real texts, tuning half ({len(tune)})",
            score_real(labels, base["real"], tune),
            score_real(labels, now["real"], tune),
        )
        table(
            f"Real texts, held-out half ({len(held)})",
            score_real(labels, base["real"], held),
            score_real(labels, now["real"], held),
        )
        if args.files:
            print("\n## Per file (now)")
            for n in names:
                want, got = labels[n], now["real"][n]
                heads = [norm_heading(h) for h in want["headings"]]
                found = [norm_heading(h) for h in got["headings"]] if got["is_entry"] else []
                hits, extra = match_count(heads, found)
                print(
                    f"{n[:34]:34} entry {int(got['is_entry'])}/{int(want['entry'])}"
                    f" award {got['award']}/{expected_award(want['award']) if want['entry'] else '-'}"
                    f" headings {hits}/{len(heads)} +{extra} {got['headings'] if got['is_entry'] else ''}"
                    f" fields {match_count([norm(v) for v in want['fields'].values()], [norm(v) for v in got['fields'].values()])[0]}/{len(want['fields'])}"
                    f" metrics {metric_hits(want['metrics'], got['metrics'])}/{len(want['metrics'])}"
                )
    seed_now = score_seeds(base["seeds"], now["seeds"])
    table(
        "Seeds (corpus/cases; labels = the previous parser's reading)",
        score_seeds(base["seeds"], base["seeds"]),
        seed_now,
    )
    print(
        f"\nseeds parsed exactly as before (award, sections, fields, metrics): "
        f"{seed_now.same_as_before}/{len(seeds)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
