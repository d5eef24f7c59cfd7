"""The ``eventsourcing`` application that owns the event store.

It stores :class:`~ledger.store.records.LedgerEvent` objects through the
:class:`~ledger.store.records.EnvelopeMapper`, and exposes the integrity recorder's reads.
Commands (verify, authorise, decide) live in :mod:`ledger.services`, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper

from ledger.store.records import (
    AppendBatch,
    EnvelopeMapper,
    Head,
    LedgerEvent,
    LogEntry,
    StoredCheckpoint,
)


class LedgerRecorder(Protocol):
    """What the services need from either integrity recorder."""

    def head(self) -> Head: ...
    def entries(self, start: int, limit: int) -> list[LogEntry]: ...
    def entry_at(self, index: int) -> LogEntry | None: ...
    def entry_by_event_id(self, event_id: str) -> LogEntry | None: ...
    def recorded_event_ids(self, event_ids: Sequence[str]) -> set[str]: ...
    def stream_entries(self, originator_id: UUID, after_version: int = 0) -> list[LogEntry]: ...
    def stream_version(self, originator_id: UUID) -> int: ...
    def leaf_hashes(self, start: int, end: int) -> list[bytes]: ...
    def insert_checkpoint(self, checkpoint: StoredCheckpoint) -> bool: ...
    def checkpoints(
        self, *, min_size: int = 0, limit: int = 1_000_000
    ) -> list[StoredCheckpoint]: ...
    def latest_checkpoint(self) -> StoredCheckpoint | None: ...
    def checkpoint_at(self, size: int) -> StoredCheckpoint | None: ...


class LedgerStore(Application[UUID]):
    """Event store for signed envelopes (PostgreSQL tables are named ``ledger_*``)."""

    name = "Ledger"
    log_section_size = 1000

    def construct_mapper(self) -> Mapper[UUID]:
        return EnvelopeMapper()

    @property
    def log(self) -> LedgerRecorder:  # type: ignore[override]
        # Replaces the library's deprecated alias of ``notification_log`` (nothing in
        # eventsourcing 9.5 reads it); in this code base ``store.log`` is the integrity log.
        """The integrity recorder's read side."""
        recorder: Any = self.recorder
        return recorder  # type: ignore[no-any-return]

    def append(self, events: list[LedgerEvent], batch: AppendBatch) -> None:
        """Insert ``events`` in one transaction; ``batch.outcomes`` is filled on success.

        Straight to the application's mapper and recorder rather than through
        ``Application.save``: our events are not aggregates, there are no snapshots or
        in-process followers to notify, and the per-call protocol checks of ``save`` cost
        about as much as the rest of our non-crypto work (perf-baseline.md).
        """
        self.recorder.insert_events(
            [self.mapper.to_stored_event(e) for e in events], ledger_batch=batch
        )
