"""``doctor``: is the library whole? Restore the newest good backup or salvage a damaged file.

Exit codes: 0 the library is whole (or was repaired), 1 it is damaged (or the repair failed).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analyzer.cli._common import notify, print_json, print_line


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "doctor",
        parents=[common],
        help="check the library; restore a backup or salvage a damaged library",
        description=(
            "检查案例库是否完好，列出备份。--restore 用最新的完好备份（或指定的备份文件）替换案例库；"
            "--salvage 从损坏的文件中抢救仍可读取的案例，并补上最新备份里才有的案例。"
            "被替换的文件从不删除：它保留在案例库文件夹中（library.sqlite3.damaged-…）。"
        ),
    )
    action = p.add_mutually_exclusive_group()
    action.add_argument(
        "--restore",
        nargs="?",
        const="",
        metavar="BACKUP",
        help="restore the newest good backup (or this backup file)",
    )
    action.add_argument(
        "--salvage", action="store_true", help="rebuild the library from its readable cases"
    )
    p.add_argument("--json", action="store_true", help="print the check as JSON")
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from analyzer.library import doctor
    from analyzer.paths import data_home

    home = data_home(getattr(args, "library", None))
    if args.restore is not None:
        chosen = Path(args.restore) if args.restore else None
        print_line(doctor.restore(home, chosen, notify=notify).message)
        return 0
    if args.salvage:
        print_line(doctor.salvage(home, notify=notify).message)
        return 0
    found = doctor.diagnose(home)
    if args.json:
        print_json(
            {
                "path": str(found.path),
                "ok": found.ok,
                "problem": found.problem,
                "cases": found.cases,
                "size": found.size,
                "backups": [
                    {"path": str(b.path), "made": b.made, "cases": b.cases, "problem": b.problem}
                    for b in found.backups
                ],
            }
        )
        return 0 if found.ok else 1
    if not found.exists and found.ok:
        print_line(f"案例库：{found.path}（还没有建立）")
    else:
        size = f"{found.size / (1 << 20):.1f} MB"
        count = f"，{found.cases} 个案例" if found.cases is not None else ""
        print_line(f"案例库：{found.path}（{size}{count}）")
        print_line("状态：完好" if found.ok else f"状态：已损坏（{found.problem}）")
    if found.backups:
        print_line("备份（最新的在前）：")
        for b in found.backups:
            state = f"{b.cases} 个案例" if b.problem is None else f"不能用：{b.problem}"
            print_line(f"  {b.label}  {state}  {b.path.name}")
    else:
        print_line("备份：还没有（每次导入或删除后自动备份）")
    print_line(found.advice())
    return 0 if found.ok else 1
