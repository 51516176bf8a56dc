"""Every report the checker writes, dumped, so a change meant only to make it faster can be shown
to change no finding, score, status, evidence row or message.

    .venv/bin/python bench/check_invariance.py --save /tmp/checkspeed/before.json
    ... change the code ...
    .venv/bin/python bench/check_invariance.py --compare /tmp/checkspeed/before.json

Documents: the sample corpus and the real-document fixtures under ``tests/`` checked as every
award, the real cases in ``../shared/realcases`` (when present) the same way, clean drafts of the
sample briefs checked against their briefs, randomized-digit variants of all of these (a fixed
seed) with and without an eligibility window, and every report the checker tests write (their
``check_document`` calls are recorded in call order while pytest runs them; ``--no-tests``
leaves them out).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.check import Eligibility, Report, check_document, check_draft  # noqa: E402
from analyzer.library.parse import parse_text  # noqa: E402
from analyzer.schema import get_award, load_awards  # noqa: E402

REALCASES = ROOT.parent.parent / "shared" / "realcases"
TESTS = ["tests/analyzer/test_check.py", "tests/analyzer/test_check_drafts.py"]
TESTS += ["tests/analyzer/test_realdocs.py", "tests/analyzer/test_check_cli.py"]
VARIANTS = 200
SEED = 15


def dump(report: Report) -> dict[str, Any]:
    out = report.to_json()
    out["text_sha"] = hashlib.sha1(report.text.encode("utf-8")).hexdigest()
    return out


def randomized(text: str, rng: random.Random) -> str:
    """The text with every digit replaced by a random one: the same layout, other figures."""
    return re.sub(r"\d", lambda _: str(rng.randint(0, 9)), text)


def texts(realcases: Path) -> Iterator[tuple[str, str]]:
    for p in sorted((ROOT / "corpus" / "cases").glob("*.txt")):
        yield f"corpus/{p.name}", p.read_text(encoding="utf-8")
    for p in sorted((ROOT / "tests" / "analyzer" / "realdocs").glob("*.txt")):
        yield f"realdocs/{p.name}", p.read_text(encoding="utf-8")
    if realcases.is_dir():
        for p in sorted(realcases.glob("*.txt")):
            yield f"realcases/{p.name}", p.read_text(encoding="utf-8")
    else:
        print(f"({realcases} is absent: the real cases are left out)", file=sys.stderr)


def documents(realcases: Path) -> Iterator[tuple[str, Callable[[], Report]]]:
    awards = sorted(load_awards())
    base = list(texts(realcases))
    for name, text in base:
        doc = parse_text(text)
        yield name, lambda doc=doc: check_document(doc)
        for award in awards:
            if award != doc.award:
                yield (
                    f"{name}@{award}",
                    lambda d=doc, a=award: check_document(d, schema=get_award(a)),
                )
    window = Eligibility(date(2019, 1, 1), date(2023, 6, 30))
    rng = random.Random(SEED)
    for i in range(VARIANTS):
        name, text = base[i % len(base)]
        doc = parse_text(randomized(text, rng))
        yield f"random{i}/{name}", lambda doc=doc: check_document(doc)
        if i % 4 == 0:
            yield (
                f"random{i}/{name}+window",
                lambda doc=doc: check_document(doc, eligibility=window),
            )
        if i % 5 == 0:
            yield f"random{i}/{name}+draft", lambda doc=doc: check_document(doc, draft=True)
    yield from drafts(rng)


def drafts(rng: random.Random) -> Iterator[tuple[str, Callable[[], Report]]]:
    """The sample briefs' clean drafts (as the checker tests write them), checked as drafts
    against their briefs, and with their figures changed (the brief rules then speak)."""
    import dataclasses

    sys.path.insert(0, str(ROOT / "tests" / "analyzer"))
    from check_drafts import CLEAN, clean_draft

    for key in sorted(CLEAN):
        draft = clean_draft(key)
        yield f"draft/{key}", lambda d=draft: check_draft(d)
        changed = dataclasses.replace(
            draft,
            sections=tuple(
                dataclasses.replace(s, text=randomized(s.text, rng)) for s in draft.sections
            ),
        )
        yield f"draft/{key}+random", lambda d=changed: check_draft(d)


def recorded_tests() -> list[dict[str, Any]]:
    """Every report ``check_document`` returns while the checker tests run, in call order."""
    import pytest

    import analyzer.check
    import analyzer.check.engine as engine

    seen: list[dict[str, Any]] = []
    original = engine.check_document

    def recording(*args: Any, **kwargs: Any) -> Report:
        report = original(*args, **kwargs)
        seen.append(dump(report))
        return report

    from hypothesis import settings

    # the same examples every run: derandomized, and none replayed from a database
    settings.register_profile("invariance", derandomize=True, database=None, deadline=None)
    try:  # nor drawn from the string constants of the code under test (which a change moves)
        from hypothesis.internal.conjecture import providers

        empty = providers.Constants()
        providers._get_local_constants = lambda: empty
    except (ImportError, AttributeError):
        print("(hypothesis draws from the code's constants: the tests' reports may differ)")
    engine.check_document = recording  # type: ignore[assignment]
    analyzer.check.check_document = recording  # type: ignore[assignment]
    try:
        code = pytest.main(
            ["-q", "-p", "no:cacheprovider", "-x", "--hypothesis-profile=invariance", *TESTS]
        )
    finally:
        engine.check_document = original
        analyzer.check.check_document = original
    if code != 0:
        raise SystemExit(f"the checker tests failed ({code}): no dump")
    return seen


def collect(realcases: Path, with_tests: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, run in documents(realcases):
        out[name] = dump(run())
    if with_tests:
        for i, report in enumerate(recorded_tests()):
            out[f"pytest#{i}"] = report
    return out


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # the tests' generated examples draw from sets of words: one iteration order every run
        os.execve(
            sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"}
        )
    ap = argparse.ArgumentParser(description=__doc__)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--compare", type=Path)
    ap.add_argument("--no-tests", action="store_true", help="leave out the tests' reports")
    ap.add_argument("--realcases", type=Path, default=REALCASES)
    args = ap.parse_args()
    now = collect(args.realcases, not args.no_tests)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(now, ensure_ascii=False, indent=1), encoding="utf-8")
        n = sum(len(r["findings"]) for r in now.values())
        print(f"saved {len(now)} reports ({n} findings) to {args.save}")
        return
    before: dict[str, Any] = json.loads(args.compare.read_text(encoding="utf-8"))
    if args.no_tests:
        before = {k: v for k, v in before.items() if not k.startswith("pytest#")}
    diffs = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
    for name in diffs[:20]:
        old, new = before.get(name), now.get(name)
        print(f"DIFF {name}")
        if old is None or new is None:
            print("   only in", "before" if new is None else "now")
            continue
        for field in old.keys() | new.keys():
            if old.get(field) != new.get(field):
                print(f"   {field}: {json.dumps(old.get(field), ensure_ascii=False)[:600]}")
                print(
                    f"   {'':>{len(field)}}→ {json.dumps(new.get(field), ensure_ascii=False)[:600]}"
                )
    n = sum(len(r["findings"]) for r in now.values())
    print(f"compared {len(now)} reports ({n} findings): {len(diffs)} differ")
    if diffs:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
