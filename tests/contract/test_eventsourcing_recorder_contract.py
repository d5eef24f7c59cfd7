"""The library's own recorder contract tests, run against our integrity recorders.

``eventsourcing.tests.persistence`` exercises the private hooks we override
(``_insert_events`` on SQLite, ``_fetch_ids_after_insert_events`` on PostgreSQL) with
arbitrary stored events, failing inserts and heavy concurrency. After every test,
``tearDown`` checks that the Merkle log we keep beside the events survived all of it:

* log indexes run 0..n-1 with no gap, one log row per event row and vice versa;
* notification ids increase with the log index and ``recorded_at`` never decreases;
* every stored leaf hash is ``leaf_hash(leaf_bytes(state, index, recorded_at))``;
* every stored root is the ``Frontier`` root right after that leaf;
* the head row's size and frontier equal the recomputed ones.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
    tmpfile_uris,
)

from ledger.integrity.envelope import leaf_bytes
from ledger.integrity.merkle import Frontier, leaf_hash
from ledger.store.postgres import LedgerPostgresRecorder
from ledger.store.sqlite import DurableSQLiteDatastore, LedgerSQLiteRecorder
from ledger.store.tree import EMPTY_HEAD
from tests.conftest import PG_BASE, require_postgres

Recorder = LedgerSQLiteRecorder | LedgerPostgresRecorder


def assert_merkle_invariants(recorder: Recorder) -> int:
    """Check the log, leaf, root and head invariants; return the number of events."""
    notifications = recorder.select_notifications(start=None, limit=10**9)
    events = {n.id: n for n in notifications}
    rows = recorder._q(
        "SELECT log_index, notification_id, recorded_at, leaf_hash, root FROM {log} "
        "ORDER BY log_index"
    )
    n = len(rows)
    assert [r[0] for r in rows] == list(range(n)), "log indexes are not 0..n-1"
    assert n == len(events), f"{n} log rows for {len(events)} event rows"
    nids = [r[1] for r in rows]
    assert set(nids) == set(events), "log rows and event rows do not pair up"
    assert nids == sorted(nids), "notification ids do not increase with the log index"
    frontier = Frontier()
    last_recorded_at = ""
    for index, nid, recorded_at, stored_leaf, stored_root in rows:
        assert recorded_at >= last_recorded_at, f"recorded_at went backwards at {index}"
        last_recorded_at = recorded_at
        expected = leaf_hash(leaf_bytes(bytes(events[nid].state), index, recorded_at))
        assert bytes(stored_leaf) == expected, f"leaf hash mismatch at {index}"
        frontier.append(expected)
        assert bytes(stored_root) == frontier.root(), f"root mismatch at {index}"
    head = recorder.head()
    if n == 0:
        assert head == EMPTY_HEAD
    else:
        assert head.size == n
        assert head.frontier == frontier.to_bytes()
        assert head.last_recorded_at == last_recorded_at
    return n


class _InvariantsMixin:
    """Remembers every recorder a test made and checks its Merkle log in ``tearDown``."""

    recorders: list[Recorder]

    def _track(self, recorder: Recorder) -> Recorder:
        self.recorders.append(recorder)
        return recorder

    def _check_all(self) -> None:
        for recorder in self.recorders:
            assert_merkle_invariants(recorder)


# --------------------------------------------------------------------------------- SQLite


class TestLedgerSQLiteRecorderContract(
    _InvariantsMixin, ApplicationRecorderTestCase[LedgerSQLiteRecorder]
):
    db_uri = ":memory:"

    def setUp(self) -> None:
        self.recorders = []
        self.datastores: list[DurableSQLiteDatastore] = []

    def create_recorder(self) -> LedgerSQLiteRecorder:
        datastore = DurableSQLiteDatastore(self.db_uri, lock_timeout=30)
        self.datastores.append(datastore)
        recorder = LedgerSQLiteRecorder(datastore)
        recorder.create_table()
        return self._track(recorder)  # type: ignore[return-value]

    def tearDown(self) -> None:
        try:
            self._check_all()
        finally:
            for datastore in self.datastores:
                datastore.close()

    def _use_file(self) -> None:
        # ':memory:' can't be shared across pooled connections; keep the generator, it owns
        # the temporary file.
        self.uris = tmpfile_uris()
        self.db_uri = next(self.uris)

    def test_concurrent_no_conflicts(self, initial_position: int = 0) -> None:
        self._use_file()
        super().test_concurrent_no_conflicts(initial_position)

    def test_concurrent_throughput(self) -> None:
        self._use_file()
        super().test_concurrent_throughput()

    def test_file_is_synchronous_full(self) -> None:
        """Our durable pool, not the library's default, is what the recorder writes through."""
        self._use_file()
        recorder = self.create_recorder()
        with recorder.datastore.transaction(commit=False) as c:
            c.execute("PRAGMA synchronous")
            assert c.fetchone()[0] == 2  # FULL
            c.execute("PRAGMA journal_mode")
            assert c.fetchone()[0].lower() == "wal"


class TestLedgerSQLiteNonInterleaving(_InvariantsMixin, NonInterleavingNotificationIDsBaseCase):
    insert_num = 500

    def setUp(self) -> None:
        self.recorders = []
        self.uris = tmpfile_uris()
        self.datastore = DurableSQLiteDatastore(next(self.uris), lock_timeout=30)

    def create_recorder(self) -> LedgerSQLiteRecorder:
        recorder = LedgerSQLiteRecorder(self.datastore)
        recorder.create_table()
        return self._track(recorder)  # type: ignore[return-value]

    def tearDown(self) -> None:
        try:
            self._check_all()
        finally:
            self.datastore.close()


# ------------------------------------------------------------------------------ PostgreSQL


class _PostgresSchema(_InvariantsMixin):
    """A fresh schema per test; every datastore made is closed and the schema dropped."""

    schema: str
    datastores: list[PostgresDatastore]

    def setUp(self) -> None:
        require_postgres()
        import psycopg

        self.recorders = []
        self.datastores = []
        self.schema = f"c_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')

    def make_datastore(self, **kwargs: Any) -> PostgresDatastore:
        datastore = PostgresDatastore(
            dbname="test",
            host="127.0.0.1",
            port="5432",
            user="postgres",
            password="",
            schema=self.schema,
            **kwargs,
        )
        self.datastores.append(datastore)
        return datastore

    def make_recorder(self, datastore: PostgresDatastore) -> LedgerPostgresRecorder:
        recorder = LedgerPostgresRecorder(datastore, events_table_name="ledger_events")
        recorder.create_table()
        return self._track(recorder)  # type: ignore[return-value]

    def tearDown(self) -> None:
        import psycopg

        try:
            self._check_all()
        finally:
            for datastore in self.datastores:
                datastore.close()
            with psycopg.connect(PG_BASE, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{self.schema}" CASCADE')


@pytest.mark.postgres
class TestLedgerPostgresRecorderContract(
    _PostgresSchema, ApplicationRecorderTestCase[LedgerPostgresRecorder]
):
    def create_recorder(self) -> LedgerPostgresRecorder:
        return self.make_recorder(self.make_datastore(pool_size=4, max_overflow=10))

    def test_insert_subscribe(self) -> None:
        # PostgreSQL supports subscriptions (LISTEN/NOTIFY); our hook must not break them.
        super().optional_test_insert_subscribe()

    def test_tables_live_in_the_schema(self) -> None:
        self.create_recorder()
        import psycopg

        with psycopg.connect(PG_BASE) as conn:
            names = {
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (self.schema,),
                )
            }
        assert {"ledger_events", "ledger_log", "ledger_head", "ledger_checkpoints"} <= names


@pytest.mark.postgres
class TestLedgerPostgresNonInterleaving(_PostgresSchema, NonInterleavingNotificationIDsBaseCase):
    def create_recorder(self) -> LedgerPostgresRecorder:
        return self.make_recorder(self.make_datastore(pool_size=2, max_overflow=2))


del ApplicationRecorderTestCase
del NonInterleavingNotificationIDsBaseCase
