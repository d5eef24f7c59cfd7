"""The projections' view of one log entry: decoded once, shared by every projection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson


class EntryLike(Protocol):
    """What a follower needs from a log entry (``ledger.store.records.LogEntry`` has it)."""

    @property
    def index(self) -> int: ...
    @property
    def recorded_at(self) -> str: ...
    @property
    def event_type(self) -> str: ...
    @property
    def state(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Event:
    """One accepted event: its log index and time, and the envelope fields folds read."""

    index: int
    recorded_at: str
    event_type: str
    stream_type: str
    stream_id: str
    payload: dict[str, Any]


def decode(entry: EntryLike, event_type: str | None = None) -> Event:
    """Decode the canonical envelope bytes of ``entry`` (orjson: the fastest parser here)."""
    env = orjson.loads(entry.state)
    return Event(
        entry.index,
        entry.recorded_at,
        event_type or entry.event_type,
        env.get("stream_type", ""),
        env.get("stream_id", ""),
        env.get("payload") or {},
    )


def decode_relevant(entries: Iterable[EntryLike], types: frozenset[str]) -> list[Event]:
    """Decode only entries whose type some projection handles.

    Why: the event type is known from the stored topic without parsing, and skipping the
    JSON parse of irrelevant events (registry, notices, …) is the cheapest work there is.
    """
    out = []
    for entry in entries:
        event_type = entry.event_type  # a property: read it once
        if event_type in types:
            out.append(decode(entry, event_type))
    return out


def fen(payload: dict[str, Any], name: str = "amount_fen") -> int:
    """An integer fen amount from a payload; 0 when absent (facts must never crash a fold)."""
    value = payload.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
