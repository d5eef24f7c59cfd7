"""Target management and assessment rules (W10, W11, W15, W16; SCO-*, AWD-*)."""

from __future__ import annotations

from ledger.domain.model import Rules


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    del rules
