"""Benefit standards and their floors (W9, F-STD; STD-1, STD-2)."""

from __future__ import annotations

from ledger.domain.model import Rules


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    del rules
