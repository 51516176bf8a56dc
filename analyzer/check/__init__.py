"""Completeness check: is this entry ready to submit?

``check_document(doc)`` runs every rule registered for the entry's award (see
:mod:`analyzer.check.registry`) and returns a :class:`Report`: findings with rule id, severity,
section, span and a Chinese message saying what to add; a readiness score by the award's section
weights, capped while errors remain (:class:`ScoreCap` says why); per-section status; an evidence
table (criterion → metrics → source). ``check_draft(draft)`` checks a draft document as a draft,
against the brief it was written from.
"""

from analyzer.check.engine import check_document, check_draft, check_file
from analyzer.check.findings import (
    Eligibility,
    EvidenceRow,
    Finding,
    Report,
    ScoreCap,
    SectionStatus,
)
from analyzer.check.registry import RuleSpec, registered_rules, rule, rules_for

__all__ = [
    "Eligibility",
    "EvidenceRow",
    "Finding",
    "Report",
    "RuleSpec",
    "ScoreCap",
    "SectionStatus",
    "check_document",
    "check_draft",
    "check_file",
    "registered_rules",
    "rule",
    "rules_for",
]
