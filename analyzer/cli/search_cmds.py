"""``index`` and ``search``: similar-case search from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from analyzer.cli._common import console, open_library, print_json, progress_bar

if TYPE_CHECKING:
    from analyzer.index import IndexReport
    from analyzer.library import Library


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "index",
        parents=[common],
        help="build or update the search index (new, changed and removed cases)",
    )
    p.add_argument(
        "--model",
        metavar="SPEC",
        help='embedding model: "bundled" (default) or a sentence-transformers model folder',
    )
    p.add_argument("--download", action="store_true", help="allow a hub model name to download")
    p.add_argument("--rebuild", action="store_true", help="re-embed every case")
    p.add_argument("--status", action="store_true", help="list each case's index status")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(func=cmd_index)

    p = subparsers.add_parser(
        "search", parents=[common], help="find the past cases most similar to a description"
    )
    p.add_argument("query", nargs="?", help="what the campaign is about (any length)")
    p.add_argument("--file", metavar="DRAFT", help="search by a whole draft file instead")
    p.add_argument("--like", type=int, metavar="CASE_ID", help="cases like this one")
    p.add_argument("-k", type=int, default=10, metavar="N", help="how many cases (default 10)")
    p.add_argument("--award", metavar="KEY")
    p.add_argument("--industry")
    p.add_argument("--category")
    p.add_argument("--year", type=int)
    p.add_argument("--mode", choices=("hybrid", "vector", "bm25"), default="hybrid")
    p.add_argument("--json", action="store_true", help="print JSON, best first")
    p.set_defaults(func=cmd_search)


def _print_messages(messages: list[str]) -> None:
    for message in messages:
        print(message, file=sys.stderr)


def _update(lib: Library, model: str | None, *, download: bool, rebuild: bool) -> IndexReport:
    from analyzer.embed import get_embedder
    from analyzer.index import open_index

    index = open_index(lib.home)
    _print_messages(index.messages)
    index.messages.clear()
    embedder = get_embedder(model or index.embedder_spec or None, allow_download=download)
    with progress_bar("索引") as progress:
        report = index.update(lib, embedder, on_progress=progress, rebuild=rebuild)
    _print_messages(report.messages)
    return report


def cmd_index(args: argparse.Namespace) -> int:
    from analyzer.index import open_index

    with open_library(args) as lib:
        if args.status:
            infos = open_index(lib.home).statuses()
            if args.json:
                print_json([i.__dict__ for i in infos])
            else:
                for i in infos:
                    why = f"  {i.reason}" if i.reason else ""
                    print(f"#{i.case_id:<5} {i.status:8} {i.n_chunks:4} chunks  {i.title}{why}")
            return 0
        report = _update(lib, args.model, download=args.download, rebuild=args.rebuild)
    if args.json:
        print_json(report.__dict__)
    else:
        for case_id, reason in report.failed:
            print(f"failed: case {case_id}: {reason}", file=sys.stderr)
        print(
            f"{report.n_cases} cases, {report.n_chunks} chunks ({report.kind}) with "
            f"{report.embedder}: {report.added} added, {report.updated} updated, "
            f"{report.removed} removed, {report.unchanged} unchanged, {len(report.failed)} failed"
        )
    return 1 if report.failed and not report.n_cases else 0


def cmd_search(args: argparse.Namespace) -> int:
    from analyzer import search as s
    from analyzer.index import open_index

    given = sum(x is not None for x in (args.query, args.file, args.like))
    if given != 1:
        print("search: give exactly one of QUERY, --file DRAFT or --like CASE_ID", file=sys.stderr)
        return 2
    if args.k < 1:
        print("search: -k must be at least 1", file=sys.stderr)
        return 2
    filters = {
        "k": args.k,
        "award": args.award,
        "industry": args.industry,
        "category": args.category,
        "year": args.year,
        "mode": args.mode,
    }
    with open_library(args) as lib:
        index = open_index(lib.home)
        if len(lib) and index.is_empty():
            print("no search index yet: building it (once)…", file=sys.stderr)
            _update(lib, None, download=False, rebuild=False)
        elif index.stale_cases(lib, include_failed=False):
            print("the library changed: updating the search index…", file=sys.stderr)
            _update(lib, None, download=False, rebuild=False)
        _print_messages(index.messages)
        index.messages.clear()
        if args.like is not None:
            hits = s.more_like(lib, args.like, **filters)
        elif args.file:
            from analyzer.parse import parse_file

            hits = s.search_draft(lib, parse_file(args.file), **filters)
        else:
            hits = s.search(lib, args.query, **filters)
    if args.json:
        print_json([h.to_json() for h in hits])
        return 0
    _print_table(hits)
    return 0


def _print_table(hits: list[Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    if not hits:
        console().print("no matching case")
        return
    table = Table("#", "分数", "案例", "章节", "片段", show_lines=True)
    for rank, h in enumerate(hits, 1):
        snippet = Text(h.snippet.replace("\n", " "))
        for start, end in h.highlights:
            snippet.stylize("bold yellow", start, end)
        table.add_row(
            str(rank),
            f"{h.score:.4g}",
            Text(f"#{h.case_id} {h.title}\n{h.source}"),
            Text(h.section_title or h.section),
            snippet,
        )
    console().print(table)
