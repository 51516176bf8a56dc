"""``export``: a draft as a Word, Markdown or HTML file, with the marks left listed.

Exit codes: 0 exported (marks left are listed on stderr), 1 not exported (a file that cannot be
read or written, or ``--refuse-pending`` and marks left).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "export",
        parents=[common],
        help="export a draft (.awdraft or any entry file) as .docx, .md or .html",
        description="导出草稿：Word（按参赛表格式，含页码）、Markdown 或 HTML（可打印为 PDF）。"
        "草稿中的 Markdown 写法会变成真正的标题、列表、加粗和表格；仍有【待核实】/【待补充】时会列出它们。",
    )
    p.add_argument("draft", help="an .awdraft file, or an entry in any format the library reads")
    p.add_argument("out", help="the file to write: .docx, .md or .html")
    p.add_argument(
        "--refuse-pending",
        action="store_true",
        help="do not export while 【待核实】/【待补充】 marks are left (exit 1, listing them)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analyzer.documents.document import load_draft
    from analyzer.documents.export import export_draft, pending_marks
    from analyzer.errors import DraftError

    out = Path(args.out)
    if out.suffix.lower() == ".pdf":
        raise DraftError(
            f"{out}：命令行不导出 PDF（排版需要桌面应用）；请在应用中导出 PDF，或导出 .html 后打印"
        )
    draft = load_draft(Path(args.draft))
    marks = pending_marks(draft)
    if args.refuse_pending and marks:
        for m in marks:
            print(f"  {m.where}：{m.context}", file=sys.stderr)
    written = export_draft(draft, out, refuse_pending=args.refuse_pending)
    print(written)
    if marks:
        print(f"注意：还有 {len(marks)} 处待核实/待补充，已在文件中黄色标出：", file=sys.stderr)
        for m in marks:
            print(f"  {m.where}：{m.context}", file=sys.stderr)
    return 0
