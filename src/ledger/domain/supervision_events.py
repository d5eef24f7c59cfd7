"""Payload schemas of inspections, supervision notices, criticisms and media exposure (W12-W14)."""

from __future__ import annotations

from ledger.domain.catalogue import EventSpec

SUPERVISION_EVENTS: tuple[EventSpec, ...] = ()
