"""Inspection, supervision and rectification rules (W12-W14, escalation ladders §5.12).

The rules live in :mod:`ledger.domain.supervision_inspections` (W12),
:mod:`ledger.domain.supervision_notices` (W13, W14 and the escalation decisions); the pure
parts in :mod:`ledger.domain.escalation` (ladders) and :mod:`ledger.domain.supervision_points`
(criticisms and commendations into points). This module assembles them.
"""

from __future__ import annotations

from ledger.domain import supervision_inspections, supervision_notices
from ledger.domain.model import Rules
from ledger.domain.supervision_inspections import is_plan_hidden, is_plan_hidden_from
from ledger.domain.supervision_points import points_for

__all__ = ["is_plan_hidden", "is_plan_hidden_from", "points_for", "register"]


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    # Inspections first: notices cite the findings they fold.
    supervision_inspections.register(rules)
    supervision_notices.register(rules)
