"""What the store keeps per event, and how envelopes travel through ``eventsourcing``.

Every envelope is stored as one ``eventsourcing`` stored event:

* ``originator_id``  = :func:`stream_uuid` of ``(stream_type, stream_id)``;
* ``originator_version`` = ``expected_version + 1`` (the library's primary key on
  ``(originator_id, originator_version)`` is what makes optimistic concurrency hold);
* ``topic`` = ``"ledger/v1:" + event_type`` (lets projections filter in SQL);
* ``state`` = the RFC 8785 canonical bytes of the signed envelope, nothing else.

Beside it, in the same transaction, the integrity recorder writes one *log row*: the gap-free
log index, the ledger's ``recorded_at``, the leaf hash and the tree root after the append.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import datetime_now_with_tzinfo
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

TOPIC_PREFIX = "ledger/v1:"
STREAM_NAMESPACE = uuid5(NAMESPACE_URL, "urn:ledger:v1:stream")
"""``uuid5(NAMESPACE_URL, "urn:ledger:v1:stream")`` = 5a6c…; see docs/PROTOCOL.md §3."""


def stream_uuid(stream_type: str, stream_id: str) -> UUID:
    """The ``eventsourcing`` originator id of a stream: ``uuid5(STREAM_NAMESPACE, type/id)``."""
    return uuid5(STREAM_NAMESPACE, f"{stream_type}/{stream_id}")


@dataclass(frozen=True)
class LedgerEvent:
    """A signed envelope as an ``eventsourcing`` domain event (satisfies DomainEventProtocol)."""

    originator_id: UUID
    originator_version: int
    event_type: str
    envelope: bytes
    timestamp: datetime = field(default_factory=datetime_now_with_tzinfo)
    parsed: Any = field(default=None, compare=False, repr=False)
    """The parsed envelope, when the service has one (never stored)."""


class EnvelopeMapper(Mapper[UUID]):
    """Stores the canonical envelope bytes verbatim: no transcoding, compression or cipher.

    Why: the stored bytes are exactly the bytes whose hash is in the Merkle tree, so an
    independent verifier needs no knowledge of ``eventsourcing``'s transcoder.
    """

    def __init__(self, transcoder: Transcoder | None = None, **_: Any) -> None:
        super().__init__(transcoder=transcoder)  # type: ignore[arg-type]

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event: LedgerEvent = domain_event
        return StoredEvent(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=TOPIC_PREFIX + event.event_type,
            state=event.envelope,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        topic = stored_event.topic
        event_type = topic[len(TOPIC_PREFIX) :] if topic.startswith(TOPIC_PREFIX) else topic
        originator_id = stored_event.originator_id
        return LedgerEvent(
            originator_id=originator_id if isinstance(originator_id, UUID) else UUID(originator_id),
            originator_version=stored_event.originator_version,
            event_type=event_type,
            envelope=bytes(stored_event.state),
        )


@dataclass(frozen=True, slots=True)
class Head:
    """The tree head row: size, compact-range frontier and the registry stream version."""

    size: int
    frontier: bytes
    registry_version: int
    last_recorded_at: str


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One stored event with its log row, as read back from storage."""

    index: int
    notification_id: int
    event_id: str | None
    recorded_at: str
    leaf_hash: bytes
    root: bytes
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    @property
    def event_type(self) -> str:
        return (
            self.topic[len(TOPIC_PREFIX) :] if self.topic.startswith(TOPIC_PREFIX) else self.topic
        )


@dataclass(frozen=True, slots=True)
class AppendOutcome:
    """What the recorder assigned to one event inside the insert transaction."""

    event_id: str | None
    index: int
    recorded_at: str
    leaf_hash: bytes
    tree_size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint the ledger issued: the C2SP signed note and when."""

    size: int
    root: bytes
    issued_at: str
    note: str


@dataclass
class AppendBatch:
    """Per-save context passed through ``Application.save(..., ledger_batch=...)``.

    ``event_ids`` align with the saved events; ``registry_version`` is the registry version
    the events were authorised against (``None`` skips the check, for the library's own
    contract tests); ``registry_events`` counts registry events in the batch. The recorder
    fills ``outcomes`` inside the transaction; they are only meaningful after commit.
    """

    event_ids: list[str]
    registry_version: int | None
    registry_events: int = 0
    outcomes: list[AppendOutcome] = field(default_factory=list)
    receipts: list[Any] = field(default_factory=list)
    """The ledger's signed receipts for ``outcomes``, when the service signed them at once."""
    before_write: BeforeWrite | None = None
    """Called inside the transaction, after the head is read and the tree planned and before
    the log rows are written, with the committed log size and a reader of committed entries;
    raising refuses the whole batch (the business rules run here, see services/decisions)."""


EntryReader = Callable[[int, int], list[tuple[int, str, bytes]]]
"""``read(start, end)`` → ``(index, topic, state)`` of committed log entries in
``[start, end)``, read inside the current transaction."""

BeforeWrite = Callable[[int, EntryReader], None]
