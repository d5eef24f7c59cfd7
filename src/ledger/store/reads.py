"""Read queries shared by the SQLite and PostgreSQL recorders.

The SQL is written once with ``?`` placeholders and ``{log}``/``{events}``/``{checkpoints}``/
``{nid}`` names; each backend supplies :meth:`LogReads._fetch` and the names.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from ledger.store.records import Head, LogEntry, StoredCheckpoint

_ENTRY = (
    "SELECT l.log_index, l.notification_id, l.event_id, l.recorded_at, l.leaf_hash, l.root, "
    "e.originator_id, e.originator_version, e.topic, e.state "
    "FROM {log} l JOIN {events} e ON e.{nid} = l.notification_id "
)
_CHECKPOINT = "SELECT size, root, issued_at, note FROM {checkpoints} "


class LogReads:
    """Mixin: the ledger's read side over the log, head and checkpoint tables."""

    log_table: str
    head_table: str
    checkpoint_table: str

    @property
    @abstractmethod
    def _events_table(self) -> str: ...

    @property
    @abstractmethod
    def _nid_column(self) -> str: ...

    @abstractmethod
    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run one read-only query, rows as tuples."""

    @abstractmethod
    def _oid(self, originator_id: UUID) -> Any:
        """The originator id as the backend stores it."""

    def _sql(self, sql: str) -> str:
        return sql.format(
            log=self.log_table,
            head=self.head_table,
            checkpoints=self.checkpoint_table,
            events=self._events_table,
            nid=self._nid_column,
        )

    def _q(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self._fetch(self._sql(sql), params)

    def head(self) -> Head:
        """The current head; the empty head before the first append."""
        rows = self._q("SELECT size, frontier, registry_version, last_recorded_at FROM {head}")
        if not rows:
            from ledger.store.tree import EMPTY_HEAD

            return EMPTY_HEAD
        r = rows[0]
        return Head(r[0], bytes(r[1]), r[2], r[3])

    def entries(self, start: int, limit: int) -> list[LogEntry]:
        """Up to ``limit`` entries from log index ``start``, in log order."""
        return [
            _entry(r)
            for r in self._q(
                _ENTRY + "WHERE l.log_index >= ? ORDER BY l.log_index LIMIT ?", start, limit
            )
        ]

    def entry_at(self, index: int) -> LogEntry | None:
        """The entry at log index ``index``."""
        rows = self._q(_ENTRY + "WHERE l.log_index = ?", index)
        return _entry(rows[0]) if rows else None

    def entries_at(self, indexes: Sequence[int]) -> list[LogEntry]:
        """The entries at ``indexes`` (any order, duplicates ignored), in log order.

        Why: a case's events are scattered through the log; one query per chunk of indexes
        instead of one per entry keeps replay cost proportional to the case, with a small
        constant, however long the log is.
        """
        wanted = sorted(set(indexes))
        out: list[LogEntry] = []
        for i in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[i : i + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._q(_ENTRY + f"WHERE l.log_index IN ({marks}) ORDER BY l.log_index", *chunk)
            out += [_entry(r) for r in rows]
        return out

    def entry_by_event_id(self, event_id: str) -> LogEntry | None:
        """The entry recorded under ``event_id``, if any."""
        rows = self._q(_ENTRY + "WHERE l.event_id = ?", event_id)
        return _entry(rows[0]) if rows else None

    def recorded_event_ids(self, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` are already recorded (one query)."""
        if not event_ids:
            return set()
        marks = ",".join("?" * len(event_ids))
        rows = self._q(f"SELECT event_id FROM {{log}} WHERE event_id IN ({marks})", *event_ids)
        return {r[0] for r in rows}

    def stream_entries(self, originator_id: UUID, after_version: int = 0) -> list[LogEntry]:
        """A stream's entries in version order."""
        rows = self._q(
            _ENTRY + "WHERE e.originator_id = ? AND e.originator_version > ? "
            "ORDER BY e.originator_version",
            self._oid(originator_id),
            after_version,
        )
        return [_entry(r) for r in rows]

    def stream_version(self, originator_id: UUID) -> int:
        """The stream's current length (0 for a new stream)."""
        rows = self._q(
            "SELECT MAX(originator_version) FROM {events} WHERE originator_id = ?",
            self._oid(originator_id),
        )
        return int(rows[0][0] or 0)

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes for log indexes ``[start, end)``."""
        rows = self._q(
            "SELECT leaf_hash FROM {log} WHERE log_index >= ? AND log_index < ? ORDER BY log_index",
            start,
            end,
        )
        return [bytes(r[0]) for r in rows]

    def checkpoints(self, *, min_size: int = 0, limit: int = 1_000_000) -> list[StoredCheckpoint]:
        """Kept checkpoints in increasing size."""
        rows = self._q(_CHECKPOINT + "WHERE size >= ? ORDER BY size LIMIT ?", min_size, limit)
        return [_checkpoint(r) for r in rows]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The largest checkpoint kept."""
        rows = self._q(_CHECKPOINT + "ORDER BY size DESC LIMIT 1")
        return _checkpoint(rows[0]) if rows else None

    def checkpoint_at(self, size: int) -> StoredCheckpoint | None:
        """The checkpoint of exactly ``size``, if one was issued."""
        rows = self._q(_CHECKPOINT + "WHERE size = ?", size)
        return _checkpoint(rows[0]) if rows else None


_IN_CHUNK = 500
"""Indexes per ``IN (...)`` list: well under SQLite's default limit of host parameters."""


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _entry(r: Sequence[Any]) -> LogEntry:
    return LogEntry(
        index=r[0],
        notification_id=r[1],
        event_id=r[2],
        recorded_at=r[3],
        leaf_hash=bytes(r[4]),
        root=bytes(r[5]),
        originator_id=_uuid(r[6]),
        originator_version=r[7],
        topic=r[8],
        state=bytes(r[9]),
    )


def _checkpoint(r: Sequence[Any]) -> StoredCheckpoint:
    return StoredCheckpoint(size=r[0], root=bytes(r[1]), issued_at=r[2], note=r[3])
