"""Minimum living allowance (dibao) rules: W3 dynamic management, W4 exits, relatives filing."""

from __future__ import annotations

from ledger.domain.model import Rules


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    del rules
