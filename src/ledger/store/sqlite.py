"""The embedded backend: one SQLite file in WAL mode, synchronous=FULL.

:class:`LedgerSQLiteRecorder` extends ``eventsourcing``'s application recorder: in the same
transaction as the library's INSERT it writes the log rows and advances the Merkle head.
Select it with ``PERSISTENCE_MODULE=ledger.store.sqlite:LedgerSQLiteFactory``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
)

from ledger.store.reads import LogReads
from ledger.store.records import AppendBatch, Head, StoredCheckpoint
from ledger.store.tree import EMPTY_HEAD, EventIdTakenError, StreamGapError, plan_append

LOG_TABLE = "ledger_log"
HEAD_TABLE = "ledger_head"
CHECKPOINT_TABLE = "ledger_checkpoints"


class DurableSQLiteConnectionPool(SQLiteConnectionPool):
    """Connections with ``synchronous=FULL``: an acknowledged commit survives power loss.

    Why explicit: the library leaves ``synchronous`` at the compile-time default, which is
    FULL on this platform but NORMAL on some builds, where WAL commits may be lost on power
    failure.
    """

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        if not self.is_sqlite_memory_mode:
            connection._sqlite_conn.execute("PRAGMA synchronous=FULL")
        return connection


class DurableSQLiteDatastore(SQLiteDatastore):
    """``SQLiteDatastore`` whose pool is :class:`DurableSQLiteConnectionPool`."""

    def __init__(self, db_name: str, **kwargs: Any) -> None:
        super().__init__(db_name, **kwargs)
        self.pool = DurableSQLiteConnectionPool(
            db_name=db_name, lock_timeout=kwargs.get("lock_timeout")
        )


class LedgerSQLiteRecorder(LogReads, SQLiteApplicationRecorder):
    """Application recorder that also maintains the gap-free log and the Merkle head."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {LOG_TABLE} ("
            "log_index INTEGER PRIMARY KEY, "
            "notification_id INTEGER NOT NULL UNIQUE, "
            "event_id TEXT UNIQUE, "
            "recorded_at TEXT NOT NULL, "
            "leaf_hash BLOB NOT NULL, "
            "root BLOB NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {HEAD_TABLE} ("
            "id INTEGER PRIMARY KEY CHECK (id = 1), "
            "size INTEGER NOT NULL, frontier BLOB NOT NULL, "
            "registry_version INTEGER NOT NULL, last_recorded_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} ("
            "size INTEGER PRIMARY KEY, root BLOB NOT NULL, "
            "issued_at TEXT NOT NULL, note TEXT NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The library's INSERT comes first: it takes SQLite's write lock (across processes
        # too), so the head we read next is the one the previous commit left.
        ids = super()._insert_events(c, stored_events, **kwargs)
        assert ids is not None
        batch: AppendBatch | None = kwargs.get("ledger_batch")
        if batch is not None:
            self._check_batch(c, stored_events, batch)
        plan = plan_append(self._read_head(c), stored_events, ids, batch)
        c.executemany(
            f"INSERT INTO {LOG_TABLE} VALUES (?,?,?,?,?,?)",
            [
                (r.index, r.notification_id, r.event_id, r.recorded_at, r.leaf_hash, r.root)
                for r in plan.rows
            ],
        )
        h = plan.head
        c.execute(
            f"INSERT INTO {HEAD_TABLE} VALUES (1,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
            "size=excluded.size, frontier=excluded.frontier, "
            "registry_version=excluded.registry_version, "
            "last_recorded_at=excluded.last_recorded_at",
            (h.size, h.frontier, h.registry_version, h.last_recorded_at),
        )
        return ids

    def _check_batch(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], batch: AppendBatch
    ) -> None:
        """Event ids are new and every stream version has its predecessor (no gaps)."""
        for event_id in batch.event_ids:
            c.execute(f"SELECT 1 FROM {LOG_TABLE} WHERE event_id=?", (event_id,))
            if c.fetchone() is not None:
                raise EventIdTakenError(event_id)
        for s in stored_events:
            if s.originator_version > 1:
                oid = _hex(s.originator_id)
                c.execute(
                    f"SELECT 1 FROM {self.events_table_name} "
                    "WHERE originator_id=? AND originator_version=?",
                    (oid, s.originator_version - 1),
                )
                if c.fetchone() is None:
                    raise StreamGapError(oid, s.originator_version)

    @staticmethod
    def _read_head(c: SQLiteCursor) -> Head:
        c.execute(f"SELECT size, frontier, registry_version, last_recorded_at FROM {HEAD_TABLE}")
        row = c.fetchone()
        if row is None:
            return EMPTY_HEAD
        return Head(row[0], bytes(row[1]), row[2], row[3])

    # ------------------------------------------------------------------ reads

    log_table = LOG_TABLE
    head_table = HEAD_TABLE
    checkpoint_table = CHECKPOINT_TABLE

    @property
    def _events_table(self) -> str:
        return self.events_table_name

    @property
    def _nid_column(self) -> str:
        return "rowid"

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            return [tuple(r) for r in c.fetchall()]

    def _oid(self, originator_id: UUID) -> Any:
        return originator_id.hex

    def insert_checkpoint(self, checkpoint: StoredCheckpoint) -> bool:
        """Keep an issued checkpoint; ``False`` if one of that size already exists."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {CHECKPOINT_TABLE} VALUES (?,?,?,?) ON CONFLICT(size) DO NOTHING",
                (checkpoint.size, checkpoint.root, checkpoint.issued_at, checkpoint.note),
            )
            return bool(c.sqlite_cursor.rowcount)


class LedgerSQLiteFactory(SQLiteFactory):
    """Infrastructure factory selecting :class:`LedgerSQLiteRecorder` and durable connections."""

    application_recorder_class = LedgerSQLiteRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        old = self.datastore
        self.datastore = DurableSQLiteDatastore(
            old.pool.db_name,
            lock_timeout=old.pool.lock_timeout,
            single_row_tracking=old.single_row_tracking,
            originator_id_type=old.originator_id_type,
        )
        old.close()

    def application_recorder(self) -> ApplicationRecorder:
        recorder = LedgerSQLiteRecorder(self.datastore)
        if self.env_create_table():
            recorder.create_table()
        return recorder


def _hex(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id
