"""The scale-out backend: PostgreSQL, shared by many API processes on many machines.

:class:`LedgerPostgresRecorder` overrides ``insert_events``: after the library's
``LOCK TABLE … IN EXCLUSIVE MODE`` and INSERT it reads the head row, then writes the log rows
and the new head, all in the same transaction. The table lock serialises every writer of the
events table, so the head is never raced: the log index, leaf and root advance exactly once per
event, in commit order.
Select it with ``PERSISTENCE_MODULE=ledger.store.postgres:LedgerPostgresFactory``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresFactory
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL

from ledger.store.reads import LogReads
from ledger.store.records import AppendBatch, Head, StoredCheckpoint
from ledger.store.tree import EMPTY_HEAD, StreamGapError, plan_append

_DDL_LOCK_KEY = 0x6C65646765720001
"""Advisory lock key held while creating tables (``"ledger"`` in ASCII, then 1)."""


class LedgerPostgresRecorder(LogReads, PostgresApplicationRecorder):
    """Application recorder that also maintains the gap-free log and the Merkle head."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        prefix = events_table_name.removesuffix("_events")
        schema = datastore.schema
        self.log_table = f'"{schema}"."{prefix}_log"'
        self.head_table = f'"{schema}"."{prefix}_head"'
        self.checkpoint_table = f'"{schema}"."{prefix}_checkpoints"'
        self._events_qualified = f'"{schema}"."{events_table_name}"'
        self.sql_create_statements.extend(
            # Table names are built above from the schema and app name, never from input.
            SQL(statement).format()
            for statement in [
                f"CREATE TABLE IF NOT EXISTS {self.log_table} ("
                "log_index bigint PRIMARY KEY, "
                "notification_id bigint NOT NULL UNIQUE, "
                "event_id text UNIQUE, "
                "recorded_at text NOT NULL, "
                "leaf_hash bytea NOT NULL, "
                "root bytea NOT NULL)",
                f"CREATE TABLE IF NOT EXISTS {self.head_table} ("
                "id int PRIMARY KEY CHECK (id = 1), "
                "size bigint NOT NULL, frontier bytea NOT NULL, "
                "registry_version bigint NOT NULL, last_recorded_at text NOT NULL)",
                f"CREATE TABLE IF NOT EXISTS {self.checkpoint_table} ("
                "size bigint PRIMARY KEY, root bytea NOT NULL, "
                "issued_at text NOT NULL, note text NOT NULL)",
            ]
        )

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # Several processes opening the store at once would otherwise run the library's
        # CREATE OR REPLACE FUNCTION (and CREATE ... IF NOT EXISTS) concurrently, which
        # PostgreSQL refuses with "tuple concurrently updated". Serialise the DDL.
        curs.execute(SQL("SELECT pg_advisory_xact_lock(%s)"), (_DDL_LOCK_KEY,), prepare=False)
        super()._create_table(curs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert events and advance the tree in one transaction.

        Why we override: eventsourcing 9.5.6 catches an exception raised after the INSERT
        *inside* the ``conn.transaction()`` block and re-raises it only after the block has
        committed. A refusal raised by our hook (stale registry, reused event id, stream gap)
        would then commit the event rows without their log rows. Here the exception leaves
        the transaction block, so psycopg rolls the whole transaction back.
        """
        if not stored_events:
            return []
        exc: Exception | None = None
        notification_ids: Sequence[int] | None = None
        with self.datastore.get_connection() as conn:
            with conn.pipeline() as pipeline:
                try:
                    with conn.transaction(), conn.cursor() as curs, conn.cursor() as head:
                        self._insert_stored_events(curs, stored_events, **kwargs)
                        # Queued behind the LOCK TABLE and the INSERT, so it reads the head the
                        # previous commit left; one round trip brings back both results.
                        head.execute(
                            f"SELECT size, frontier, registry_version, last_recorded_at "
                            f"FROM {self.head_table}"
                        )
                        pipeline.sync()  # a uniqueness violation surfaces here
                        notification_ids = self._fetch_ids_after_insert_events(
                            curs, stored_events, **kwargs
                        )
                        self._advance_tree(
                            curs,
                            head.fetchone(),
                            stored_events,
                            notification_ids,
                            kwargs.get("ledger_batch"),
                        )
                except Exception as e:  # noqa: BLE001 - re-raised below, outside the pipeline
                    exc = e
            if exc is not None:
                # Still inside get_connection(), which translates psycopg errors into
                # eventsourcing's (UniqueViolation -> IntegrityError).
                raise exc
        return notification_ids

    def _advance_tree(
        self,
        curs: Cursor[DictRow],
        head_row: DictRow | None,
        stored_events: Sequence[StoredEvent],
        ids: Sequence[int] | None,
        batch: AppendBatch | None,
    ) -> None:
        """Write the log rows and the new head (pipelined: no round trip until commit).

        A reused event id fails the log table's UNIQUE constraint at commit and rolls back
        the whole transaction.
        """
        assert ids is not None
        if batch is not None:
            self._check_predecessors(curs, stored_events)
        head = (
            Head(
                head_row["size"],
                bytes(head_row["frontier"]),
                head_row["registry_version"],
                head_row["last_recorded_at"],
            )
            if head_row
            else EMPTY_HEAD
        )
        plan = plan_append(head, stored_events, ids, batch)
        if batch is not None and batch.before_write is not None:
            batch.before_write(head.size, lambda start, end: self._read_committed(curs, start, end))
        curs.executemany(
            f"INSERT INTO {self.log_table} VALUES (%s,%s,%s,%s,%s,%s)",
            [
                (r.index, r.notification_id, r.event_id, r.recorded_at, r.leaf_hash, r.root)
                for r in plan.rows
            ],
        )
        h = plan.head
        curs.execute(
            f"INSERT INTO {self.head_table} VALUES (1,%s,%s,%s,%s) ON CONFLICT (id) DO UPDATE SET "
            "size=excluded.size, frontier=excluded.frontier, "
            "registry_version=excluded.registry_version, "
            "last_recorded_at=excluded.last_recorded_at",
            (h.size, h.frontier, h.registry_version, h.last_recorded_at),
        )

    def _read_committed(
        self, curs: Cursor[DictRow], start: int, end: int
    ) -> list[tuple[int, str, bytes]]:
        """Committed entries ``[start, end)``, read in the writing transaction (which holds
        the table lock, so nothing can be committed in between)."""
        if start >= end:
            return []
        curs.execute(
            f"SELECT l.log_index, e.topic, e.state FROM {self.log_table} l "
            f"JOIN {self._events_qualified} e ON e.notification_id = l.notification_id "
            "WHERE l.log_index >= %s AND l.log_index < %s ORDER BY l.log_index",
            (start, end),
        )
        return [(r["log_index"], r["topic"], bytes(r["state"])) for r in curs.fetchall()]

    def _check_predecessors(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]
    ) -> None:
        """Every stream version has its predecessor (one round trip, only when needed)."""
        needed = [
            (s.originator_id, s.originator_version - 1)
            for s in stored_events
            if s.originator_version > 1
        ]
        if not needed:
            return
        curs.execute(
            f"SELECT n.oid, n.v FROM unnest(%s::uuid[], %s::bigint[]) AS n(oid, v) "
            f"LEFT JOIN {self._events_qualified} e "
            "ON e.originator_id = n.oid AND e.originator_version = n.v "
            "WHERE e.originator_id IS NULL LIMIT 1",
            ([o for o, _ in needed], [v for _, v in needed]),
        )
        missing = curs.fetchone()
        if missing is not None:
            raise StreamGapError(str(missing["oid"]), missing["v"] + 1)

    # ------------------------------------------------------------------ reads

    @property
    def _events_table(self) -> str:
        return self._events_qualified

    @property
    def _nid_column(self) -> str:
        return "notification_id"

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as c:
            c.execute(sql.replace("?", "%s"), params)
            return c.fetchall()

    def _oid(self, originator_id: UUID) -> Any:
        return originator_id

    def insert_checkpoint(self, checkpoint: StoredCheckpoint) -> bool:
        """Keep an issued checkpoint; ``False`` if one of that size already exists."""
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as c:
            c.execute(
                f"INSERT INTO {self.checkpoint_table} VALUES (%s,%s,%s,%s) "
                "ON CONFLICT (size) DO NOTHING",
                (checkpoint.size, checkpoint.root, checkpoint.issued_at, checkpoint.note),
            )
            return bool(c.rowcount)


class LedgerPostgresFactory(PostgresFactory):
    """Infrastructure factory selecting :class:`LedgerPostgresRecorder`.

    ``POSTGRES_ENABLE_DB_FUNCTIONS`` is refused: it inserts through a plpgsql function and
    would bypass the hook that advances the tree.
    """

    application_recorder_class = LedgerPostgresRecorder

    def application_recorder(self) -> ApplicationRecorder:
        if self.datastore.enable_db_functions:
            msg = "POSTGRES_ENABLE_DB_FUNCTIONS bypasses the integrity recorder; leave it off"
            raise ValueError(msg)
        prefix = self.env.name.lower() or "stored"
        recorder = LedgerPostgresRecorder(self.datastore, events_table_name=f"{prefix}_events")
        if self.env_create_table():
            recorder.create_table()
        return recorder
