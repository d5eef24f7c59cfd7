"""Backend-independent part of the integrity recorder: what to write for a batch.

Both recorders call :func:`plan_append` inside their insert transaction, *after* their
INSERT has taken the write lock (SQLite) or the table lock (PostgreSQL), and *after*
reading the head row. So two writers, whether threads, processes or machines, always see the
head the previous commit left and can never fork or gap the tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from eventsourcing.persistence import IntegrityError, StoredEvent

from ledger.integrity.envelope import format_recorded_at, leaf_bytes
from ledger.integrity.merkle import Frontier, leaf_hash
from ledger.store.records import AppendBatch, AppendOutcome, Head

EMPTY_HEAD = Head(size=0, frontier=Frontier().to_bytes(), registry_version=0, last_recorded_at="")


class StaleRegistryError(IntegrityError):
    """The registry changed after the batch was authorised; re-authorise and retry."""

    def __init__(self, authorised_at: int, current: int) -> None:
        super().__init__(f"registry version {current} != authorised version {authorised_at}")
        self.authorised_at = authorised_at
        self.current = current


class StreamGapError(IntegrityError):
    """``expected_version`` is ahead of the stream (its predecessor is missing)."""

    def __init__(self, originator_id: str, version: int) -> None:
        super().__init__(f"stream {originator_id} has no version {version - 1}")
        self.originator_id = originator_id
        self.version = version


@dataclass(frozen=True, slots=True)
class LogRow:
    """One row of the log table."""

    index: int
    notification_id: int
    event_id: str | None
    recorded_at: str
    leaf_hash: bytes
    root: bytes


@dataclass(frozen=True, slots=True)
class AppendPlan:
    """Rows to insert and the new head."""

    rows: list[LogRow]
    head: Head


def ledger_clock(previous: str) -> str:
    """Now, in the ledger's format, never earlier than ``previous`` (V6: non-decreasing)."""
    now = format_recorded_at(datetime.now(UTC))
    return max(now, previous)


def plan_append(
    head: Head,
    stored_events: Sequence[StoredEvent],
    notification_ids: Sequence[int],
    batch: AppendBatch | None,
) -> AppendPlan:
    """Assign indexes, leaves and roots to ``stored_events`` on top of ``head``.

    Raises:
        StaleRegistryError: the registry moved since the batch was authorised.
    """
    if (
        batch is not None
        and batch.registry_version is not None
        and head.registry_version != batch.registry_version
    ):
        raise StaleRegistryError(batch.registry_version, head.registry_version)
    frontier = Frontier.from_bytes(head.frontier)
    recorded_at = ledger_clock(head.last_recorded_at)
    event_ids: Sequence[str | None] = batch.event_ids if batch else [None] * len(stored_events)
    rows: list[LogRow] = []
    for stored, notification_id, event_id in zip(
        stored_events, notification_ids, event_ids, strict=True
    ):
        index = frontier.size
        leaf = leaf_hash(leaf_bytes(stored.state, index, recorded_at))
        frontier.append(leaf)
        rows.append(LogRow(index, notification_id, event_id, recorded_at, leaf, frontier.root()))
    registry_version = head.registry_version + (batch.registry_events if batch else 0)
    new_head = Head(frontier.size, frontier.to_bytes(), registry_version, recorded_at)
    if batch is not None:
        batch.outcomes = [
            AppendOutcome(r.event_id, r.index, r.recorded_at, r.leaf_hash, r.index + 1, r.root)
            for r in rows
        ]
    return AppendPlan(rows, new_head)
