"""All business rules, assembled: the one :class:`~ledger.domain.model.Rules` the ledger uses.

Order matters only in that every decide function of an event type runs before any apply
function of it; modules register in dependency order for readability.
"""

from __future__ import annotations

from ledger.domain import (
    applications,
    enrolments,
    funds,
    notices,
    payments,
    programmes,
    spot_checks,
)
from ledger.domain.model import Rules


def build_rules() -> Rules:
    """A fresh rule set with every business module registered."""
    rules = Rules()
    for module in (programmes, applications, notices, spot_checks, enrolments, funds, payments):
        module.register(rules)
    return rules
