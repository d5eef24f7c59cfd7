"""Payload schemas of medical, temporary and capped assistance and the other benefits (W6, W7)."""

from __future__ import annotations

from ledger.domain.catalogue import EventSpec

ASSISTANCE_EVENTS: tuple[EventSpec, ...] = ()
