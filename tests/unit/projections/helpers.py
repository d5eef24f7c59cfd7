"""In-memory log entries for projection tests (the pure part needs no ledger)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from ledger.projections.events import Event, decode
from ledger.projections.scenario import Scenario


@dataclass(frozen=True)
class FakeEntry:
    """Has what a follower reads from ``ledger.store.records.LogEntry``."""

    index: int
    recorded_at: str
    event_type: str
    state: bytes


def entries_of(envelopes: list[bytes]) -> list[FakeEntry]:
    """Log entries for ``envelopes``, one second apart from 2024-01-01T00:00:00Z."""
    return [
        FakeEntry(i, recorded_at(i), orjson.loads(raw)["event_type"], raw)
        for i, raw in enumerate(envelopes)
    ]


def recorded_at(i: int) -> str:
    return f"2024-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000000Z"


def events_of(scenario: Scenario) -> list[Event]:
    return [decode(e) for e in entries_of(scenario.envelopes)]


class ListLog:
    """A log over a list, with an optional failure after ``fail_after`` reads."""

    def __init__(self, entries: list[FakeEntry]) -> None:
        self.items = entries
        self.reads = 0

    def entries(self, start: int, limit: int) -> list[FakeEntry]:
        self.reads += 1
        return self.items[start : start + limit]
