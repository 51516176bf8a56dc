"""Completeness check: is this entry ready to submit?

``check_document(doc)`` runs every rule registered for the entry's award (see
:mod:`analyzer.check.registry`) and returns a :class:`Report`: findings with rule id, severity,
section, span and a Chinese message saying what to add; a readiness score by the award's section
weights; per-section status; an evidence table (criterion → metrics → source).
"""

from analyzer.check.engine import check_document, check_file
from analyzer.check.findings import Eligibility, EvidenceRow, Finding, Report, SectionStatus
from analyzer.check.registry import RuleSpec, registered_rules, rule, rules_for

__all__ = [
    "Eligibility",
    "EvidenceRow",
    "Finding",
    "Report",
    "RuleSpec",
    "SectionStatus",
    "check_document",
    "check_file",
    "registered_rules",
    "rule",
    "rules_for",
]
