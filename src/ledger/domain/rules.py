"""All business rules, assembled: the one :class:`~ledger.domain.model.Rules` the ledger uses.

Order matters only in that every decide function of an event type runs before any apply
function of it; modules register in dependency order for readability.
"""

from __future__ import annotations

from ledger.domain import (
    applications,
    assessment,
    assessment_w11,
    assessment_w16,
    assistance,
    audit_findings,
    corrections,
    coverage_targets,
    dibao,
    enrolments,
    funds,
    notices,
    payment_schedule,
    payments,
    programmes,
    sla,
    sla_inspections,
    spot_checks,
    standards,
    supervision,
    survey,
)
from ledger.domain.model import Rules


def build_rules() -> Rules:
    """A fresh rule set with every business module registered."""
    rules = Rules()
    modules = (
        programmes,
        standards,
        applications,
        notices,
        spot_checks,
        enrolments,
        dibao,
        funds,
        payments,
        assistance,
        coverage_targets,
        assessment,
        assessment_w11,
        assessment_w16,
        supervision,
        audit_findings,
        # These watch event types owned above, so they register after the owners.
        survey,
        sla,
        sla_inspections,
        corrections,
        payment_schedule,
    )
    for module in modules:
        module.register(rules)
    return rules
