"""``parse``, ``ingest``, ``list``, ``show``, ``remove``: the case library from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from analyzer.cli._common import case_id, console, open_library, print_json, progress_bar, year


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "parse",
        parents=[common],
        help="parse one entry and print its award, fields, sections, metrics",
    )
    p.add_argument("file")
    p.add_argument("--award", metavar="KEY", help="award schema to use (default: guessed)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_parse)

    p = subparsers.add_parser(
        "ingest",
        parents=[common],
        help="import files and folders into the library; '-' reads a case from standard input",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, folders, or - (standard input)")
    p.add_argument("--award", metavar="KEY", help="treat every file as an entry of this award")
    p.add_argument(
        "--source",
        metavar="URL",
        help="where the text read from standard input comes from (default: a URL on its first line)",
    )
    p.add_argument(
        "--index",
        action="store_true",
        help="then index the library (keyword search at once, vectors case by case; "
        "search works meanwhile, Ctrl+C keeps what is done)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(func=cmd_ingest)

    p = subparsers.add_parser("list", parents=[common], help="list the cases in the library")
    p.add_argument("--award", metavar="KEY")
    p.add_argument("--industry")
    p.add_argument("--category")
    p.add_argument("--year", type=year)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = subparsers.add_parser("show", parents=[common], help="show one case")
    p.add_argument("id", type=case_id)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = subparsers.add_parser("remove", parents=[common], help="remove a case from the library")
    p.add_argument("id", type=case_id)
    p.set_defaults(func=cmd_remove)

    p = subparsers.add_parser("awards", parents=[common], help="list the award schemas")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_awards)


def cmd_parse(args: argparse.Namespace) -> int:
    from analyzer.library.parse import parse_file

    doc = parse_file(args.file, award=args.award)
    if args.json:
        print_json(contract_json(doc.to_json()))
        return 0
    out = console()
    kind = doc.award or "参考文档 (not an award entry)"
    out.print(f"[bold]{doc.title}[/bold]  [dim]{kind}[/dim]")
    for name, value in doc.fields.items():
        out.print(f"  {name}：{value}")
    for s in doc.sections:
        n = sum(1 for m in doc.metrics if m.section == s.key)
        out.print(f"  [cyan]{s.title or s.key}[/cyan] ({s.key}) {len(s.text)} 字, {n} 个指标")
    for m in doc.metrics:
        out.print(f"    {m.text!s:>18}  → {m.value:,.6g}{m.unit} {m.measure} [{m.section}]")
    return 0


def contract_json(data: dict[str, Any]) -> dict[str, Any]:
    """A parsed document's JSON with whole numbers as ints (30000000, not 30000000.0)."""
    for m in data.get("metrics", ()):
        for key in ("value", "upper"):
            v = m.get(key)
            if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
                m[key] = int(v)
    return data


def cmd_ingest(args: argparse.Namespace) -> int:
    """Exit 0 when every file is in the library (imported, updated, unchanged or a duplicate),
    1 when any file failed: the others are imported all the same, and the summary says so."""
    if args.award:
        from analyzer.schema import get_award

        get_award(args.award)  # an unknown key fails before any file is read
    files = [p for p in args.paths if p != "-"]
    pasted = _stdin_text() if "-" in args.paths else None
    with open_library(args) as lib:
        with progress_bar("导入") as progress:
            report = lib.ingest(files, award=args.award, on_progress=progress) if files else None
            if report is None:
                from analyzer.library.store import IngestReport

                report = IngestReport()
            if pasted is not None:
                report.results.append(
                    lib.ingest_text(pasted, source=args.source or "", award=args.award)
                )
        indexed = _index_after(lib, report.results) if args.index else None
    failed = report.failed
    if args.json:
        print_json([r.__dict__ for r in report.results])
    else:
        for r in failed:
            print(f"导入失败: {r.path}: {r.message}", file=sys.stderr)
        counts = ", ".join(
            f"{report.count(s)} {s}"
            for s in ("imported", "updated", "unchanged", "duplicate", "failed")
            if report.count(s)
        )
        print(f"{len(report.results)} files: {counts or 'nothing to import'} → {lib.path}")
        if failed:
            print(f"{len(failed)} 个文件未能导入（原因见上），其余文件已导入。", file=sys.stderr)
        if indexed:
            print(indexed)
    return 1 if failed else 0


def _stdin_text() -> str:
    """Standard input as text, in whatever encoding it comes (a pipe from another program, a
    file redirected in GBK …)."""
    from analyzer.library.encoding import decode_bytes

    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    return decode_bytes(data)[0]


def _index_after(lib: Any, results: list[Any]) -> str:
    """``ingest --index``: index the library (both phases) right after the import; the
    summary line, or "" (the import was printed, the index ran) for a quiet report."""
    from analyzer.cli.search_cmds import run_index, summary

    if not any(r.ok for r in results) and not len(lib):
        return ""
    report = run_index(lib)
    for failed_id, reason in report.failed:
        print(f"索引失败: case {failed_id}: {reason}", file=sys.stderr)
    return "索引：" + summary(report)


def cmd_list(args: argparse.Namespace) -> int:
    if args.award:
        from analyzer.schema import get_award

        get_award(args.award)  # UnknownAwardError names the key and lists the known ones
    with open_library(args) as lib:
        cases = lib.list_cases(
            award=args.award, industry=args.industry, category=args.category, year=args.year
        )
    if args.json:
        print_json([c.__dict__ for c in cases])
        return 0
    from rich.table import Table

    from analyzer.schema import load_awards

    short = {k: min(a.names, key=len) if a.names else a.name for k, a in load_awards().items()}
    table = Table("ID", "标题", "奖项", "品牌", "行业", "年份", "类别", "章节", "指标")
    for c in cases:
        table.add_row(
            str(c.id),
            c.title,
            short.get(c.award, c.award) if c.award else "参考",
            c.brand,
            c.industry,
            str(c.year or ""),
            c.category,
            str(c.n_sections),
            str(c.n_metrics),
        )
    console().print(table)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        case = lib.get_case(args.id)
    if args.json:
        data = contract_json(case.as_parsed().to_json())
        data.update(id=case.id, source=case.source, year=case.year)
        print_json(data)
        return 0
    out = console()
    out.print(
        f"[bold]#{case.id} {case.title}[/bold]  [dim]{case.award or '参考文档'} · {case.source}[/dim]"
    )
    for name, value in case.fields.items():
        out.print(f"{name}：{value}")
    for s in case.sections:
        out.print(f"\n[bold cyan]【{s.title or s.key}】[/bold cyan]")
        out.print(s.text, markup=False, highlight=False)
    if case.metrics:
        out.print("\n[bold]指标[/bold]")
        for m in case.metrics:
            out.print(
                f"  {m.text} → {m.value:,.6g}{m.unit} {m.measure} [{m.section}]", markup=False
            )
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with open_library(args) as lib, lib.batch("删除案例"):
        title = lib.get_case(args.id).title
        lib.remove(args.id)
    print(f"removed #{args.id} {title}")
    return 0


def cmd_awards(args: argparse.Namespace) -> int:
    from analyzer.schema import load_awards

    awards = load_awards()
    if args.json:
        print_json(
            {
                a.key: {
                    "name": a.name,
                    "fields": [f.title for f in a.fields],
                    "sections": [s.title for s in a.sections],
                }
                for a in awards.values()
            }
        )
        return 0
    for a in awards.values():
        print(f"{a.key:14} {a.label}")
        print(f"{'':14} 字段: {' / '.join(f.title for f in a.fields)}")
        print(f"{'':14} 章节: {', '.join(s.title for s in a.sections)}")
    return 0
