"""All business rules, assembled: the one :class:`~ledger.domain.model.Rules` the ledger uses.

Order matters only in that every decide function of an event type runs before any apply
function of it; modules register in dependency order for readability.
"""

from __future__ import annotations

from ledger.domain import (
    applications,
    assessment,
    assistance,
    audit_findings,
    dibao,
    enrolments,
    funds,
    notices,
    payments,
    programmes,
    spot_checks,
    standards,
    supervision,
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
        assessment,
        supervision,
        audit_findings,
    )
    for module in modules:
        module.register(rules)
    return rules
