"""Payload schemas of target management and assessment (domain.md §6.3, W10-W16)."""

from __future__ import annotations

from ledger.domain.catalogue import EventSpec

ASSESSMENT_EVENTS: tuple[EventSpec, ...] = ()
