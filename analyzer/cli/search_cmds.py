"""``index`` and ``search``: similar-case search from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from analyzer.cli._common import (
    case_id,
    console,
    count,
    open_library,
    print_json,
    print_line,
    progress_bar,
    stdout_guard,
    year,
)

if TYPE_CHECKING:
    from analyzer.library.store import Library
    from analyzer.progress import ProgressCallback
    from analyzer.search.index import IndexReport


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "index",
        parents=[common],
        help="build or update the search index (new, changed and removed cases)",
        description=(
            "Build or update the library's search index: new and changed cases are filed for "
            "keyword search first, then embedded case by case (searchable as they finish; "
            "Ctrl+C keeps what is done). --model switches the embedding model (every case is "
            "re-embedded); without it the model that built the index is used. A second index "
            "run waits for the first."
        ),
    )
    p.add_argument(
        "--model",
        metavar="SPEC",
        help='embedding model: "bundled" (default), a sentence-transformers model folder, or a '
        "hub name (org/name) found in the local Hugging Face cache",
    )
    p.add_argument(
        "--download",
        action="store_true",
        help="allow downloading a hub model that is not in the local cache yet",
    )
    p.add_argument(
        "--query-prefix",
        metavar="TEXT",
        help='text put before every query (overrides the model\'s own; e5: "query: ")',
    )
    p.add_argument(
        "--passage-prefix",
        metavar="TEXT",
        help='text put before every indexed passage (e5: "passage: "; "" for none)',
    )
    p.add_argument("--rebuild", action="store_true", help="re-embed every case")
    p.add_argument(
        "--status",
        action="store_true",
        help="list each case's index status (indexed, keywords, failed, damaged, pending)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(func=cmd_index)

    p = subparsers.add_parser(
        "search",
        parents=[common],
        help="find the past cases most similar to a description",
        description=(
            "Search the library. Never waits for embeddings: cases without vectors yet are "
            "searched by keywords (BM25) and marked so; new cases are filed for keyword search "
            "for a few seconds at most (the rest: `award-writer index`)."
        ),
    )
    p.add_argument("query", nargs="?", help="what the campaign is about (any length)")
    p.add_argument("--file", metavar="DRAFT", help="search by a whole draft file instead")
    p.add_argument("--like", type=case_id, metavar="CASE_ID", help="cases like this one")
    p.add_argument(
        "-k", type=count(1000), default=10, metavar="N", help="how many cases (default 10)"
    )
    p.add_argument("--award", metavar="KEY")
    p.add_argument("--industry")
    p.add_argument("--category")
    p.add_argument("--year", type=year)
    p.add_argument("--mode", choices=("hybrid", "vector", "bm25"), default="hybrid")
    p.add_argument("--json", action="store_true", help="print JSON, best first")
    p.set_defaults(func=cmd_search)


def _print_messages(messages: list[str] | tuple[str, ...], shown: set[str] | None = None) -> None:
    for message in messages:
        if shown is not None:
            if message in shown:
                continue
            shown.add(message)
        print(message, file=sys.stderr)


@contextmanager
def index_progress() -> Iterator[ProgressCallback]:
    """The progress bar of an index run, with the job's own estimate of the time left."""
    from analyzer.progress import Progress, duration_text

    with progress_bar("索引") as bar:

        def show(p: Progress) -> None:
            left = f" · 约剩 {duration_text(p.seconds_left)}" if p.seconds_left is not None else ""
            bar(Progress(p.done, p.total, p.message[-40:] + left, p.seconds_left))

        yield show


def run_index(
    lib: Library,
    *,
    model: str | None = None,
    download: bool = False,
    query_prefix: str | None = None,
    passage_prefix: str | None = None,
    rebuild: bool = False,
) -> IndexReport:
    """Both phases of indexing in the foreground (``index``, ``ingest --index``): a second
    writer waits, saying for whom; Ctrl+C keeps every case finished."""
    from analyzer.search.embed import get_embedder
    from analyzer.search.index import open_index, repairing

    index = open_index(lib.home)
    spec = repairing(lib, lambda: model or index.embedder_spec or None)
    _print_messages(index.messages)
    index.messages.clear()
    embedder = get_embedder(
        spec, allow_download=download, query_prefix=query_prefix, passage_prefix=passage_prefix
    )
    with index_progress() as progress:
        try:
            report = index.update(
                lib, embedder, on_progress=progress, rebuild=rebuild, on_wait=_say
            )
        except KeyboardInterrupt:
            print(
                "已中断：完成的案例都已保存，再次运行 `award-writer index` 会接着做。",
                file=sys.stderr,
            )
            raise
    _print_messages(report.messages)
    return report


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _status(info: Any) -> dict[str, Any]:
    return dict(info.__dict__)


def cmd_index(args: argparse.Namespace) -> int:
    from analyzer.search.index import open_index, repairing

    with open_library(args) as lib:
        if args.status:
            index = open_index(lib.home)
            infos = repairing(lib, lambda: index.statuses(lib))
            _print_messages(index.messages)
            index.messages.clear()
            if args.json:
                print_json([_status(i) for i in infos])
            else:
                for i in infos:
                    why = f"  {i.reason}" if i.reason else ""
                    print_line(
                        f"#{i.case_id:<5} {i.status:8} {i.n_chunks:4} chunks  {i.title}{why}"
                    )
            return 0
        report = run_index(
            lib,
            model=args.model,
            download=args.download,
            query_prefix=args.query_prefix,
            passage_prefix=args.passage_prefix,
            rebuild=args.rebuild,
        )
    if args.json:
        print_json(report.__dict__)
    else:
        for case_id, reason in report.failed:
            print(f"failed: case {case_id}: {reason}", file=sys.stderr)
        print_line(summary(report))
    return 1 if report.failed and not report.n_cases else 0


def summary(report: IndexReport) -> str:
    from analyzer.progress import duration_text

    changes = [f"{report.added} added", f"{report.updated} updated"]
    if report.reembedded:
        changes.append(f"{report.reembedded} re-embedded (new model)")
    changes += [
        f"{report.removed} removed",
        f"{report.unchanged} unchanged",
        f"{report.embedded} embedded",
    ]
    if report.reused:
        changes.append(f"{report.reused} passages reused")
    changes.append(f"{len(report.failed)} failed")
    words = f", {report.keywords_only} by keywords only" if report.keywords_only else ""
    return (
        f"{report.n_cases} cases{words}, {report.n_chunks} chunks, {report.n_vectors} vectors "
        f"({report.kind}) with {report.embedder_label or report.embedder} in "
        f"{duration_text(report.seconds)}: " + ", ".join(changes)
    )


def cmd_search(args: argparse.Namespace) -> int:
    from analyzer.search import query as s
    from analyzer.search.index import open_index

    given = sum(x is not None for x in (args.query, args.file, args.like))
    if given != 1:
        print("search: give exactly one of QUERY, --file DRAFT or --like CASE_ID", file=sys.stderr)
        return 2
    if args.query is not None and not args.query.strip():
        print("search: 查询为空：请写下要找的案例是关于什么的", file=sys.stderr)
        return 2
    if args.award is not None:
        from analyzer.schema import get_award

        get_award(args.award)  # an unknown key is an error, not "no matching case"
    draft = None
    if args.file:
        from analyzer.library.parse import parse_file

        draft = parse_file(args.file)
    with open_library(args) as lib:
        if args.like is not None:
            lib.get_case(args.like)  # a case that does not exist is an error before any work
        index = open_index(lib.home)
        with progress_bar("关键词索引") as progress:
            prep = s.prepare_index(lib, mode=args.mode, on_progress=progress)
        shown: set[str] = set()
        _print_messages(prep.messages, shown)
        if prep.note:
            _print_messages([prep.note], shown)
            print("（运行 `award-writer index` 完成索引）", file=sys.stderr)
        filters = {
            "k": args.k,
            "award": args.award,
            "industry": args.industry,
            "category": args.category,
            "year": args.year,
            "mode": args.mode,
            "embedder": prep.embedder,
            "auto_update": False,
        }
        if args.like is not None:
            hits = s.more_like(lib, args.like, **filters)
        elif draft is not None:
            hits = s.search_draft(lib, draft, **filters)
        else:
            hits = s.search(lib, args.query, **filters)
        _print_messages(index.messages, shown)
        index.messages.clear()
    if args.json:
        print_json([h.to_json() for h in hits])
        return 0
    _print_table(hits)
    return 0


def _print_table(hits: list[Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    if not hits:
        print_line("no matching case")
        return
    table = Table("#", "分数", "案例", "章节", "片段", show_lines=True)
    for rank, h in enumerate(hits, 1):
        snippet = Text(h.snippet.replace("\n", " "))
        for start, end in h.highlights:
            snippet.stylize("bold yellow", start, end)
        table.add_row(
            str(rank),
            f"{h.score:.4g}",
            Text(
                f"#{h.case_id} {h.title}\n{h.source}"
                + ("\n（关键词匹配）" if h.keywords_only else "")
            ),
            Text(h.section_title or h.section),
            snippet,
        )
    with stdout_guard():
        console().print(table)
