"""Payload schemas of the rest of the fund workflow W8 (matching funds, carry-over, recovery)."""

from __future__ import annotations

from ledger.domain.catalogue import EventSpec

FUND_EXTRA_EVENTS: tuple[EventSpec, ...] = ()
