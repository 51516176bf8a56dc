"""``check``: is this entry ready to submit? Findings section by section, a readiness score.

Exit codes: 0 no error-level finding, 1 at least one, 2 the file (or the brief given with
``--brief``) could not be read.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.cli._common import console, open_library

if TYPE_CHECKING:
    from analyzer.check.findings import Report

_DATE = re.compile(r"^\s*(\d{4})\s*[-./年]\s*(\d{1,2})(?:\s*[-./月]\s*(\d{1,2})\s*日?)?\s*$")


def _parse_date(end: bool) -> Any:
    def parse(text: str) -> date:
        m = _DATE.match(text)
        if not m:
            raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD or YYYY-MM)")
        year, month = int(m[1]), int(m[2])
        try:
            if m[3]:
                return date(year, month, int(m[3]))
            if not end:
                return date(year, month, 1)
            nxt = date(year + month // 12, month % 12 + 1, 1)
            return date.fromordinal(nxt.toordinal() - 1)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a date: {text!r} ({exc})") from None

    return parse


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a positive number of characters: {text!r}")
    return value


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "check",
        parents=[common],
        help="check whether an entry is ready to submit (findings, readiness score)",
        description="完整性检查：按奖项的章节、字段和规则列出评审会发现的缺失，并给出就绪度分数。"
        " Exit 0: no error-level finding; 1: at least one; 2: the file could not be read.",
    )
    p.add_argument("file")
    p.add_argument(
        "--award", metavar="KEY", help="award schema to check against (default: guessed)"
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the report as JSON")
    out.add_argument("--html", metavar="OUT", help="write a self-contained HTML report to OUT")
    out.add_argument("--markdown", metavar="OUT", help="write a Markdown report to OUT")
    p.add_argument(
        "--eligible-from", metavar="DATE", type=_parse_date(False), help="eligibility window start"
    )
    p.add_argument(
        "--eligible-to", metavar="DATE", type=_parse_date(True), help="eligibility window end"
    )
    p.add_argument(
        "--max-chars",
        metavar="N",
        type=_positive,
        help="the whole entry's length limit in characters (when this year's rules set one)",
    )
    p.add_argument(
        "--section-max",
        metavar="KEY=N",
        action="append",
        default=[],
        help="a section's length limit, e.g. results=800 (repeatable)",
    )
    p.add_argument(
        "--brief",
        metavar="BRIEF",
        help="check FILE as a draft written from this brief (.toml/.json): every figure, date "
        "and name against it (a .awdraft carries its own)",
    )
    p.add_argument(
        "--no-library",
        action="store_true",
        help="do not compare with similar cases in the library",
    )
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    from analyzer.check import Eligibility, check_file
    from analyzer.check.render import to_html, to_json, to_markdown
    from analyzer.errors import ReadError, UnknownAwardError
    from analyzer.schema import get_award

    eligibility = None
    if args.eligible_from or args.eligible_to:
        try:
            eligibility = Eligibility(args.eligible_from, args.eligible_to)
        except ValueError as exc:
            print(f"check: {exc}", file=sys.stderr)
            return 2
    # An award or a limit the command cannot use is a usage error (2), not a finding (1).
    try:
        if args.award:
            get_award(args.award)
        limits = _section_limits(args.section_max)
    except (UnknownAwardError, ValueError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    brief = None
    if args.brief:
        from analyzer.documents.brief import load_brief
        from analyzer.errors import BriefError

        try:
            brief = load_brief(args.brief)
        except BriefError as exc:
            print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
    library = None if args.no_library else _library_if_any(args)
    try:
        report = check_file(
            args.file,
            args.award,
            library=library,
            eligibility=eligibility,
            max_total_chars=args.max_chars,
            max_section_chars=limits,
            brief=brief,
        )
    except ReadError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a --section-max key the award does not have
        print(f"check: {exc}", file=sys.stderr)
        return 2
    finally:
        if library is not None:
            library.close()
    if args.json:
        sys.stdout.write(to_json(report) + "\n")
    elif args.html or args.markdown:
        target = Path(args.html or args.markdown)
        text = to_html(report) if args.html else to_markdown(report)
        from analyzer.atomicfile import atomic_write
        from analyzer.errors import DraftError

        try:
            atomic_write(target, text.encode("utf-8"))
        except DraftError as exc:
            print(f"check: 无法写入报告：{exc}", file=sys.stderr)
            return 2
        print(f"{_summary(report)} → {target}")
    else:
        _print(report)
    return 0 if report.ok else 1


def _section_limits(items: list[str]) -> dict[str, int]:
    limits: dict[str, int] = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key.strip() or not value.strip().isdigit() or int(value) <= 0:
            raise ValueError(f"--section-max {item!r}: use KEY=N, e.g. results=800")
        limits[key.strip()] = int(value)
    return limits


def _library_if_any(args: argparse.Namespace) -> Any:
    """The library when one exists (never created just to check an entry)."""
    from analyzer.paths import data_home, library_db

    if not library_db(data_home(getattr(args, "library", None))).exists():
        return None
    from analyzer.errors import LibraryError

    try:
        return open_library(args)
    except LibraryError as exc:  # the entry can be checked all the same, only not compared
        print(f"{exc}（本次检查不与案例库比较）", file=sys.stderr)
        return None


def _summary(report: Report) -> str:
    return (
        f"{report.title}: {report.score}/100, {report.count('error')} 错误, "
        f"{report.count('warning')} 警告, {report.count('suggestion')} 建议"
    )


def _print(report: Report) -> None:
    from rich.markup import escape
    from rich.table import Table

    from analyzer.check.render import SEVERITY_LABELS, STATUS_LABELS

    out = console()
    color = "green" if report.score >= 80 else "yellow" if report.score >= 50 else "red"
    kind = "" if report.is_entry else " · 参考文档"
    out.print(f"[bold]{escape(report.title)}[/bold]  [dim]{report.award_name}{kind}[/dim]")
    out.print(f"就绪度 [bold {color}]{report.score}[/bold {color}]/100")
    if report.brief:
        out.print("[dim]已对照撰写时的简报核对数字、日期和名称[/dim]")
    if report.cap:
        out.print(f"[red]{escape(report.cap.reason)}[/red]")
    table = Table("章节", "状态", "字数", "指标", "权重")
    styles = {"ok": "green", "warning": "yellow", "elsewhere": "yellow", "absent": "dim"}
    for s in report.sections:
        style = styles.get(s.status, "red")
        label = STATUS_LABELS.get(s.status, s.status)
        table.add_row(
            escape(s.title),
            f"[{style}]{label}[/{style}]",
            str(s.chars),
            str(s.metrics),
            f"{s.weight:.0f}%",
        )
    out.print(table)
    marks = {"error": "red", "warning": "yellow", "suggestion": "cyan"}
    grid: Table | None = None
    section: str | None = None
    for f in report.findings:
        if f.section != section or grid is None:
            if grid is not None:
                out.print(grid)
            section = f.section
            out.print(f"\n[bold]{escape(report.section_title(f.section))}[/bold]")
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column(overflow="fold")
        style = marks[f.severity]
        body = f"{escape(f.message)} [dim]{f.rule}[/dim]"
        if excerpt := report.excerpt(f):
            body += f"\n[dim]“{escape(excerpt)}”[/dim]"
        grid.add_row(f"  [{style}]{SEVERITY_LABELS[f.severity]}[/{style}]", body)
    if grid is not None:
        out.print(grid)
    if report.evidence:
        ev = Table(title="证据表")
        for name in ("评审要点", "指标", "来源"):
            ev.add_column(name, overflow="fold")
        for row in report.evidence:
            metrics = "；".join(row.metrics) or "[red]（无）[/red]"
            sources = (
                "；".join(escape(s) if s else "[red]（无来源）[/red]" for s in row.sources) or "—"
            )
            ev.add_row(escape(row.criterion), escape(metrics) if row.metrics else metrics, sources)
        out.print(ev)
    out.print(_summary(report))
