"""Payload schemas of audit findings and their disposition (domain.md §4.19, §7)."""

from __future__ import annotations

from ledger.domain.catalogue import EventSpec

AUDIT_EVENTS: tuple[EventSpec, ...] = ()
