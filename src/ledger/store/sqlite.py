"""The embedded backend: one SQLite file in WAL mode, synchronous=FULL.

:class:`LedgerSQLiteRecorder` extends ``eventsourcing``'s application recorder: in the same
transaction as the library's INSERT it writes the log rows and advances the Merkle head.
Select it with ``PERSISTENCE_MODULE=ledger.store.sqlite:LedgerSQLiteFactory``.
"""

from __future__ import annotations

import fcntl
import os
import threading
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
from ledger.store.tree import EMPTY_HEAD, StreamGapError, plan_append

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


class WriterLock:
    """Serialises writers of one SQLite file across threads *and* processes.

    Why: SQLite's own busy handler makes a blocked writer sleep with back-off (up to 100 ms a
    try), so writers in two processes hand the write lock over slowly and group commit stalls.
    A blocking ``flock`` on a side file wakes the next writer the moment the lock is released.
    SQLite's locking still guarantees correctness; this lock only makes hand-over prompt.
    """

    def __init__(self, db_name: str) -> None:
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        if db_name and ":memory:" not in db_name and "mode=memory" not in db_name:
            path = db_name.removeprefix("file:").split("?", 1)[0]
            self._fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class LedgerSQLiteRecorder(LogReads, SQLiteApplicationRecorder):
    """Application recorder that also maintains the gap-free log and the Merkle head."""

    def __init__(
        self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name)
        self._writer_lock = WriterLock(datastore.pool.db_name)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with self._writer_lock:
            return super().insert_events(stored_events, **kwargs)

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
        # Every statement below is ONE sqlite3 step, whatever the batch size. Each step releases
        # and retakes the GIL; under load a retake waits for another thread's Ed25519 check
        # (which holds the GIL), and the write lock is held all that time. So: multi-row
        # INSERTs and one combined SELECT instead of a statement per event.
        #
        # The INSERT comes first: it takes SQLite's write lock (across processes too), so the
        # head we read next is the one the previous commit left.
        n = len(stored_events)
        _insert_rows(
            c,
            self.events_table_name,
            [
                (_hex(s.originator_id), s.originator_version, s.topic, s.state)
                for s in stored_events
            ],
        )
        # Inside our write transaction SQLite gives each new row max(rowid) + 1 (its
        # documented "usual algorithm"), so the new rows are the n rowids ending at the last
        # one inserted.
        last_rowid = int(c.lastrowid)
        ids = list(range(last_rowid - n + 1, last_rowid + 1))
        head = self._read_head(c)
        batch: AppendBatch | None = kwargs.get("ledger_batch")
        if batch is not None:
            self._check_predecessors(c, stored_events)
        plan = plan_append(head, stored_events, ids, batch)
        if batch is not None and batch.before_write is not None:
            batch.before_write(head.size, lambda start, end: self._read_committed(c, start, end))
        # A reused event id fails the UNIQUE constraint here and rolls everything back.
        _insert_rows(
            c,
            LOG_TABLE,
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

    @staticmethod
    def _read_head(c: SQLiteCursor) -> Head:
        c.execute(
            f"SELECT size, frontier, registry_version, last_recorded_at FROM {HEAD_TABLE} "
            "WHERE id = 1"
        )
        row = c.fetchone()
        return EMPTY_HEAD if row is None else Head(row[0], bytes(row[1]), row[2], row[3])

    def _read_committed(
        self, c: SQLiteCursor, start: int, end: int
    ) -> list[tuple[int, str, bytes]]:
        """Committed entries ``[start, end)`` through the writing cursor (same snapshot)."""
        c.execute(
            f"SELECT l.log_index, e.topic, e.state FROM {LOG_TABLE} l "
            f"JOIN {self.events_table_name} e ON e.rowid = l.notification_id "
            "WHERE l.log_index >= ? AND l.log_index < ? ORDER BY l.log_index",
            (start, end),
        )
        return [(r[0], r[1], bytes(r[2])) for r in c.fetchall()]

    def _check_predecessors(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> None:
        """Every stream version has its predecessor (``expected_version`` is not ahead)."""
        needed = [
            (_hex(s.originator_id), s.originator_version - 1)
            for s in stored_events
            if s.originator_version > 1
        ]
        if not needed:
            return
        values = ",".join("(?,?)" for _ in needed)
        c.execute(
            f"WITH n(oid, v) AS (VALUES {values}) SELECT n.oid, n.v FROM n "
            f"LEFT JOIN {self.events_table_name} e "
            "ON e.originator_id = n.oid AND e.originator_version = n.v "
            "WHERE e.originator_id IS NULL LIMIT 1",
            [x for pair in needed for x in pair],
        )
        missing = c.fetchone()
        if missing is not None:
            raise StreamGapError(missing[0], missing[1] + 1)

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


_ROWS_PER_INSERT = 1000  # 6 columns x 1000 rows stays far below SQLite's 32,766 variables


def _insert_rows(c: SQLiteCursor, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Multi-row ``INSERT … VALUES (…),(…)``: one sqlite3 step per 1,000 rows."""
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        row = "(" + ",".join("?" * len(chunk[0])) + ")"
        c.execute(
            f"INSERT INTO {table} VALUES {','.join([row] * len(chunk))}",
            [value for r in chunk for value in r],
        )


def _hex(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id
