"""Medical, temporary and capped assistance rules (W6, W7; CAP-*)."""

from __future__ import annotations

from ledger.domain.model import Rules


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    del rules
