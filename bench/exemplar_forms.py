"""How exemplars should reach a small model's prompt: measured on the sample briefs.

    AWARD_WRITER_HOME=… .venv/bin/python bench/exemplar_forms.py [--briefs golden_mouse,jinqi]
        [--forms none,passage,outline] [--tokens 200]

For every sample brief and every section, the bundled model writes the section from the same
prompt with exemplars in each form: none, a fenced passage of the similar case's section
(``passage``), or only its shape (``outline``). The relevance cut is switched off so every brief
gets exemplars (the sample library holds no case close to the sample briefs). Raw output, before
any guard, is scored:

* copied: share of characters in runs of ≥ copyguard.MIN_RUN characters shared with an exemplar
  case's section but not with the brief or the award's titles;
* facts: share of the section's brief figures (numbers in its facts) the output states;
* foreign: numbers the brief does not hold.

Needs a library with a search index (``award-writer ingest corpus/cases && award-writer index``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.documents.brief import load_brief  # noqa: E402
from analyzer.drafting import build_messages  # noqa: E402
from analyzer.drafting.exemplars import library_exemplars  # noqa: E402
from analyzer.drafting.guards.copyguard import Source, check_copies  # noqa: E402
from analyzer.drafting.guards.factguard import allowed_values, figures, unmarked_foreign  # noqa: E402
from analyzer.library.store import Library  # noqa: E402
from analyzer.schema import get_award  # noqa: E402


def own_text(brief, schema) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        *brief.all_text(),
        schema.name,
        *schema.names,
        *(t for s in schema.sections for t in (s.title, *s.aliases)),
        *(t for f in schema.fields for t in (f.title, *f.aliases)),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--briefs", default="golden_mouse,jinqi,tma,effie")
    ap.add_argument("--forms", default="none,passage,outline")
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--show", action="store_true", help="print every generated text")
    args = ap.parse_args()

    from analyzer.llm import load_generator

    gen = load_generator(None)
    library = Library.open()
    find = library_exemplars(library)
    forms = args.forms.split(",")
    totals = {f: [0, 0, 0, 0, 0] for f in forms}  # copied chars, chars, facts hit, facts, foreign
    print(f"{'brief':13} {'section':11} " + " ".join(f"{f:>22}" for f in forms))
    for key in args.briefs.split(","):
        brief = load_brief(ROOT / "corpus" / "briefs" / f"{key}.toml")
        schema = get_award(brief.award)
        allowed = allowed_values(brief)
        own = own_text(brief, schema)
        for spec in schema.sections:
            facts = brief.facts_for_kinds(spec.kinds)
            if not facts:
                continue
            lines = [line for group in facts.values() for line in group]
            wanted = {
                (f.kind, f.value) for line in lines for f in figures(line) if f.kind != "date"
            }
            query = "\n".join([brief.name, *lines])
            found = find(query, award=schema.key, section_key=spec.key, kind=spec.kind, k=args.k)
            sources = [Source(e.title, library.get_case(e.case_id).text) for e in found]
            cells = []
            for form in forms:
                exemplars = [] if form == "none" else found
                messages = build_messages(
                    brief, schema, spec, exemplars, form="outline" if form == "none" else form
                )
                start = time.perf_counter()
                text = "".join(gen.stream(messages, max_new_tokens=args.tokens))
                seconds = time.perf_counter() - start
                check = check_copies(text, sources, own)
                if args.show:
                    print(f"--- {key} {spec.key} {form}\n{text}\n", flush=True)
                copied = round(check.copied_share * len(text.replace(" ", "").replace("\n", "")))
                got = {(f.kind, f.value) for f in figures(text)}
                hit = len(wanted & got)
                foreign = len(unmarked_foreign(text, allowed))
                t = totals[form]
                t[0] += copied
                t[1] += len(text.replace(" ", "").replace("\n", ""))
                t[2] += hit
                t[3] += len(wanted)
                t[4] += foreign
                cells.append(
                    f"copy {check.copied_share:4.0%} facts {hit}/{len(wanted)} "
                    f"foreign {foreign} {seconds:4.0f}s"
                )
            print(f"{key:13} {spec.key:11} " + " | ".join(cells), flush=True)
    print()
    for form, (copied, chars, hit, want, foreign) in totals.items():
        print(
            f"{form:8}: copied {copied}/{chars} chars ({copied / max(chars, 1):.0%}), "
            f"brief figures stated {hit}/{want} ({hit / max(want, 1):.0%}), "
            f"foreign numbers {foreign}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
