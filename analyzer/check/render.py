"""Reports as JSON, Markdown and a self-contained HTML page (Jinja2 templates in templates/reports)."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from analyzer.check.findings import Finding, Report
from analyzer.paths import templates_dir

if TYPE_CHECKING:
    import jinja2

SEVERITY_LABELS = {"error": "错误", "warning": "警告", "suggestion": "建议"}
STATUS_LABELS = {
    "ok": "完整",
    "warning": "需改进",
    "error": "有问题",
    "missing": "缺少",
    "absent": "未写（可选）",
    "elsewhere": "写在别的章节",
    "empty": "只有标题",
}


def to_json(report: Report) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2)


def _md_cell(value: object) -> str:
    """Text as Markdown shows it literally: no table breaks, no HTML a viewer would run."""
    text = str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "reports")),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_cell
    return env


def _groups(report: Report) -> list[tuple[str, str, list[Finding]]]:
    """Findings by section, in the report's order: (key, title, findings)."""
    out: list[tuple[str, str, list[Finding]]] = []
    for f in report.findings:
        if not out or out[-1][0] != f.section:
            out.append((f.section, report.section_title(f.section), []))
        out[-1][2].append(f)
    return out


def _context(report: Report) -> dict[str, Any]:
    return {
        "report": report,
        "groups": _groups(report),
        "severity_labels": SEVERITY_LABELS,
        "status_labels": STATUS_LABELS,
        "counts": {s: report.count(s) for s in SEVERITY_LABELS},  # type: ignore[arg-type]
    }


def to_markdown(report: Report) -> str:
    return _environment().get_template("check.md.j2").render(**_context(report))


def to_html(report: Report) -> str:
    return _environment().get_template("check.html.j2").render(**_context(report))
