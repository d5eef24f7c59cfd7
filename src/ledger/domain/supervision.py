"""Inspection, supervision and rectification rules (W12-W14, escalation ladders §5.12)."""

from __future__ import annotations

from ledger.domain.model import Rules


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    del rules
