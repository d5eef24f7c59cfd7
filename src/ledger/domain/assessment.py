"""Target management and assessment rules (W10, W11, W15, W16; SCO-*, AWD-*).

The rules live in :mod:`ledger.domain.assessment_targets` (schemes, agreements, decomposition,
progress, self-assessment), :mod:`ledger.domain.assessment_scores` (component and indicator
scores, cited adjustments) and :mod:`ledger.domain.assessment_results` (consolidation, award
lists, awards, grades, cash); the state they share in :mod:`ledger.domain.assessment_state`;
the pure formulas in :mod:`ledger.domain.scoring` and its ``scoring_*`` siblings. This module
assembles them.
"""

from __future__ import annotations

from ledger.domain import assessment_results, assessment_scores, assessment_targets
from ledger.domain.model import Rules


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    # Targets first: scores read agreements, results read scores.
    assessment_targets.register(rules)
    assessment_scores.register(rules)
    assessment_results.register(rules)
