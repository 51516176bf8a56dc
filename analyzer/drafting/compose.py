"""A section composed from the brief when the model cannot write a clean one.

Plain and correct rather than broken: the brief's facts for the section, each as the brief words
it, joined into prose by the award-style sentence templates of ``templates/compose/<kind>.j2``
(connectives, "一是……；二是……", "基于……这一洞察"), never as a copy of the brief's bullet list.
The templates hold no numeral of their own, so every figure is the brief's.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.documents.brief import FACT_FIELDS, Brief
from analyzer.drafting.prompt import brand_name, row_line
from analyzer.kinds import load_kinds
from analyzer.paths import templates_dir
from analyzer.schema import AwardSchema, SectionSpec
from analyzer.zh.segments import LIST_MARK

if TYPE_CHECKING:
    import jinja2

_END = re.compile(r"[\s。．.；;，,、：:！!？?]+$")


_CHANGE = ("增长", "增加", "提升", "提高", "下降", "降低", "减少", "上升", "上涨")


def result_phrase(measure: str, value: str) -> str:
    """A result row said in a sentence: 新增下载量达120万, 单次下载成本下降22%, 复购率由18%提升至31%."""
    measure, value = measure.strip(), value.strip()
    if not measure or not value[:1].isdigit() or measure.endswith(_CHANGE):
        return measure + value
    return f"{measure}达{value}"


def quoted(name: str) -> str:
    """A project's name in quotes, unless it has quotes of its own (“周末去野”城市近郊露营计划)."""
    return name if any(q in name for q in '“”「」"') else f"“{name}”"


def clause(fact: str) -> str:
    """A fact as it can stand inside a sentence: no list mark, no end punctuation."""
    body = fact[LIST_MARK.match(fact).end() :]  # type: ignore[union-attr]  # always matches
    return _END.sub("", body.strip())


@cache
def _environment(root: Path) -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # plain text, never HTML
    )
    env.filters["clause"] = clause
    env.filters["quoted"] = quoted
    return env


def compose_section(brief: Brief, schema: AwardSchema, spec: SectionSpec) -> str:
    """The section written from the brief alone ("" when the brief has nothing for it)."""
    env = _environment(templates_dir() / "compose")
    facts = {name: [f for f in getattr(brief, name) if clause(f)] for name in FACT_FIELDS}
    context: dict[str, Any] = {
        "facts": facts,
        "brand": brand_name(brief) or brief.name or "本品牌",
        "project": brief.title or brief.name or "本项目",
        "period": brief.period,
        "objectives": facts["objectives"],
        "rows": [row_line(r, schema) for r in brief.results],
        "results": [result_phrase(r.measure, r.value) for r in brief.results if r.value.strip()],
    }
    parts = []
    for kind in _kinds(schema, spec):
        try:
            template = env.get_template(f"{kind}.j2")
        except Exception:
            continue
        text = template.render(context).strip()
        if text and text not in parts:
            parts.append(text)
    return re.sub(r"\n{3,}", "\n\n", "\n\n".join(parts)).strip()


def _kinds(schema: AwardSchema, spec: SectionSpec) -> list[str]:
    """The kinds a section is composed from, in entry order: its own, and those it covers that
    no other section of the award has for its own (Effie's 将创意付诸实践 covers strategy, which
    洞察与策略 writes already)."""
    own = {s.kind for s in schema.sections if s.key != spec.key}
    wanted = {spec.kind} | {k for k in spec.covers if k not in own}
    return [k for k in load_kinds() if k in wanted]
