"""The rule registry: each rule is a plain function, registered for some awards by a decorator.

    @rule("results.no_metrics", "效果没有量化指标", awards="*")
    def no_metrics(ctx: CheckContext) -> Iterator[Finding]:
        ...
        yield ctx.error(section.key, "…：没有量化指标。请补充…", span)

A new rule is one function in one of ``analyzer/check/rules/*.py`` (or a new module there); a new
award is one TOML file in ``templates/awards/`` — rules read what they need from its schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.check.context import CheckContext
    from analyzer.check.findings import Finding

RuleFunction = Callable[["CheckContext"], Iterable["Finding"]]


@dataclass(frozen=True)
class RuleSpec:
    id: str
    function: RuleFunction
    awards: frozenset[str] | None  # None: every award
    references: bool  # also runs on reference documents (not entries)
    title: str = ""  # what the rule finds, in a few Chinese words (why a score is capped)

    def applies_to(self, award: str) -> bool:
        return self.awards is None or award in self.awards


_RULES: dict[str, RuleSpec] = {}
# rules_for's answers: (award, entry) → (the rules then registered, those that apply)
_FOR_AWARD: dict[tuple[str, bool], tuple[tuple[RuleSpec, ...], list[RuleSpec]]] = {}


def rule(
    rule_id: str, title: str = "", *, awards: str | Iterable[str] = "*", references: bool = False
) -> Callable[[RuleFunction], RuleFunction]:
    """Register ``function`` as rule ``rule_id`` for ``awards`` ("*" or award keys); ``title``
    names what it finds in a few Chinese words ("未处理的【待核实】标记")."""
    if "." not in rule_id:
        raise ValueError(f"rule id {rule_id!r} must be '<family>.<name>'")
    keys = None if awards == "*" else frozenset([awards] if isinstance(awards, str) else awards)

    def register(function: RuleFunction) -> RuleFunction:
        if rule_id in _RULES and _RULES[rule_id].function is not function:
            raise ValueError(f"rule {rule_id!r} is registered twice")
        _RULES[rule_id] = RuleSpec(rule_id, function, keys, references, title)
        return function

    return register


def registered_rules() -> list[RuleSpec]:
    """Every rule, in registration order (importing ``analyzer.check.rules`` registers them)."""
    import analyzer.check.rules  # noqa: F401  (registers the built-in rules)

    return list(_RULES.values())


def rules_for(award: str, *, entry: bool = True) -> list[RuleSpec]:
    rules = tuple(registered_rules())
    known = _FOR_AWARD.get((award, entry))
    if known is None or known[0] != rules:  # once per award, until the rules change
        known = _FOR_AWARD[(award, entry)] = (
            rules,
            [r for r in rules if r.applies_to(award) and (entry or r.references)],
        )
    return list(known[1])


def rule_title(rule_id: str) -> str:
    """The rule's Chinese title, or its id when it has none (a rule registered by a tool)."""
    spec = _RULES.get(rule_id)
    return spec.title if spec is not None and spec.title else rule_id
