"""Where identity records are kept: a separate SQLite file, or a PostgreSQL table.

* SQLite: ``<ledger>.identity.db`` next to the ledger file (``ledger.db`` →
  ``ledger.identity.db``), mode 0600, ``PRAGMA secure_delete=ON``. A separate file because
  erasure must be able to overwrite and VACUUM without touching the ledger, whose bytes are
  under the Merkle tree.
* PostgreSQL: table ``identity_records`` in the ledger's schema (``?schema=X``).

Only ciphertext and keyed hashes are stored; the keys are in ``LEDGER_HOME``. Each method is a
single SQL statement, hence atomic on both backends without explicit transactions.

Row life cycle: *live* (ciphertext present) → *erasure requested* (``erasure_requested_at``
set, data still present) → *erased* tombstone (``erased_at`` set; nonce, ciphertext and both
hashes NULL). The tombstone keeps the person id so it can never be registered again.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.settings import Settings

__all__ = ["IdentityStorage", "StoredRecord", "identity_db_path", "open_storage"]

TABLE = "identity_records"
_COLUMNS = (
    "person_id, identity_hmac, card_hmac, nonce, ciphertext, created_at, "
    "erasure_reason, erasure_requested_at, erasure_event_id, erased_at"
)
_PG_DDL_LOCK = 0x6C65646765720002
"""Advisory lock held while creating the table (``"ledger"`` in ASCII, then 2)."""


@dataclass(frozen=True)
class StoredRecord:
    """One row of ``identity_records`` exactly as stored."""

    person_id: str
    identity_hmac: str | None
    card_hmac: str | None
    nonce: bytes | None
    ciphertext: bytes | None
    created_at: str
    erasure_reason: str | None
    erasure_requested_at: str | None
    erasure_event_id: str | None
    erased_at: str | None

    @property
    def live(self) -> bool:
        """Readable and not marked for erasure."""
        return self.erasure_requested_at is None and self.erased_at is None


def identity_db_path(settings: Settings) -> Path:
    """The SQLite identity file next to the ledger file: ``ledger.db`` → ``ledger.identity.db``."""
    ledger = settings.sqlite_path
    return ledger.with_name(ledger.stem + ".identity.db")


class IdentityStorage:
    """SQL shared by both backends, written with ``?`` placeholders."""

    table: str

    def __init__(self, unique_violation: type[Exception]) -> None:
        self._lock = threading.Lock()  # one connection per registry, shared by threads
        self._unique_violation = unique_violation

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def insert(self, record: StoredRecord) -> bool:
        """Insert a live record; ``False`` if the person id or the identity hash is taken."""
        values = (
            record.person_id,
            record.identity_hmac,
            record.card_hmac,
            record.nonce,
            record.ciphertext,
            record.created_at,
        )
        try:
            self._execute(
                f"INSERT INTO {self.table} (person_id, identity_hmac, card_hmac, nonce, "
                "ciphertext, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )
        except self._unique_violation:
            return False
        return True

    def get(self, person_id: str) -> StoredRecord | None:
        """The row of ``person_id`` (live, pending or tombstone)."""
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM {self.table} WHERE person_id = ?", (person_id,)
        )
        return _record(rows[0]) if rows else None

    def by_identity_hmac(self, identity_hmac: str) -> StoredRecord | None:
        """The row holding ``identity_hmac`` (unique; tombstones hold none)."""
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM {self.table} WHERE identity_hmac = ?", (identity_hmac,)
        )
        return _record(rows[0]) if rows else None

    def by_card_hmac(self, card_hmac: str) -> list[StoredRecord]:
        """Rows holding ``card_hmac`` (cards may be shared; that is a finding, not a refusal)."""
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM {self.table} WHERE card_hmac = ? ORDER BY person_id",
            (card_hmac,),
        )
        return [_record(r) for r in rows]

    def request_erasure(self, person_id: str, reason: str, at: str) -> None:
        """Mark a live row for erasure (no-op if already marked or erased: the first request's
        reason is kept)."""
        self._execute(
            f"UPDATE {self.table} SET erasure_reason = ?, erasure_requested_at = ? "
            "WHERE person_id = ? AND erasure_requested_at IS NULL AND erased_at IS NULL",
            (reason, at, person_id),
        )

    def cancel_erasure(self, person_id: str) -> None:
        """Undo :meth:`request_erasure` when the ledger refused the event (nothing destroyed)."""
        self._execute(
            f"UPDATE {self.table} SET erasure_reason = NULL, erasure_requested_at = NULL "
            "WHERE person_id = ? AND erased_at IS NULL",
            (person_id,),
        )

    def destroy(self, person_id: str, *, reason: str, event_id: str, at: str) -> None:
        """Turn the row into a tombstone: readable data and hashes become NULL (idempotent)."""
        self._execute(
            f"UPDATE {self.table} SET identity_hmac = NULL, card_hmac = NULL, nonce = NULL, "
            "ciphertext = NULL, erasure_reason = ?, erasure_event_id = ?, "
            "erasure_requested_at = COALESCE(erasure_requested_at, ?), erased_at = ? "
            "WHERE person_id = ? AND erased_at IS NULL",
            (reason, event_id, at, at, person_id),
        )

    def pending_erasures(self) -> list[StoredRecord]:
        """Rows marked for erasure whose data is not destroyed yet (an interrupted erase)."""
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM {self.table} "
            "WHERE erasure_requested_at IS NOT NULL AND erased_at IS NULL ORDER BY person_id"
        )
        return [_record(r) for r in rows]

    def compact(self) -> None:
        """Rewrite storage so freed pages holding old ciphertext are released."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the connection."""
        raise NotImplementedError


def _record(row: Sequence[Any]) -> StoredRecord:
    def blob(value: Any) -> bytes | None:
        return None if value is None else bytes(value)

    return StoredRecord(
        person_id=row[0],
        identity_hmac=row[1],
        card_hmac=row[2],
        nonce=blob(row[3]),
        ciphertext=blob(row[4]),
        created_at=row[5],
        erasure_reason=row[6],
        erasure_requested_at=row[7],
        erasure_event_id=row[8],
        erased_at=row[9],
    )


def _ddl(blob_type: str) -> list[str]:
    # identity_hmac is UNIQUE: the database, not a read-then-write race, enforces "one live
    # registration per ID number". NULLs are distinct, so tombstones never collide.
    return [
        f"CREATE TABLE IF NOT EXISTS {TABLE} ("
        "person_id TEXT PRIMARY KEY, "
        "identity_hmac TEXT, "
        "card_hmac TEXT, "
        f"nonce {blob_type}, "
        f"ciphertext {blob_type}, "
        "created_at TEXT NOT NULL, "
        "erasure_reason TEXT, "
        "erasure_requested_at TEXT, "
        "erasure_event_id TEXT, "
        "erased_at TEXT)",
        f"CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_identity_hmac ON {TABLE} (identity_hmac)",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_card_hmac ON {TABLE} (card_hmac)",
    ]


class SQLiteIdentityStorage(IdentityStorage):
    """The identity file of an embedded (SQLite) ledger."""

    table = TABLE

    def __init__(self, path: Path) -> None:
        super().__init__(sqlite3.IntegrityError)
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_private_file(path)
        # Autocommit: every method is one statement, so each is its own transaction.
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        # Freed cells and pages are overwritten with zeros, so a destroyed ciphertext does
        # not linger in free space of the file.
        self._conn.execute("PRAGMA secure_delete = ON")
        for statement in _ddl("BLOB"):
            self._conn.execute(statement)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def compact(self) -> None:
        """``VACUUM``: rebuild the file (also shrinks it after many erasures)."""
        with self._lock:
            self._conn.execute("VACUUM")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _create_private_file(path: Path) -> None:
    """Create ``path`` 0600 before SQLite does (SQLite gives its journal the same mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    path.chmod(0o600)


class PostgresIdentityStorage(IdentityStorage):
    """``identity_records`` in the ledger's PostgreSQL schema."""

    def __init__(self, url: str, schema: str) -> None:
        import psycopg

        super().__init__(psycopg.errors.UniqueViolation)
        self.schema = schema
        self.table = f"{_quote(schema)}.{TABLE}"
        self._conn = psycopg.connect(_libpq_url(url), autocommit=True)
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_DDL_LOCK,))
            self._conn.execute(f"SET LOCAL search_path TO {_quote(schema)}")
            for statement in _ddl("BYTEA"):
                self._conn.execute(statement.encode())

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self._conn.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s").encode(), tuple(params))
            return cursor.fetchall() if cursor.description else []

    def compact(self) -> None:
        """``VACUUM FULL``: rewrite the table into new files so dead row versions holding old
        ciphertext are dropped with the old files (WAL archives and backups still hold them
        until they expire: that is why the data is encrypted with a key outside the DB)."""
        with self._lock:
            self._conn.execute(f"VACUUM FULL {self.table}".encode())

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _libpq_url(url: str) -> str:
    # libpq does not know the ledger's ?schema= parameter.
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith("schema=")]
    return base + ("?" + "&".join(kept) if kept else "")


def open_storage(settings: Settings) -> IdentityStorage:
    """The identity storage that goes with ``settings.database_url``."""
    if settings.backend == "sqlite":
        return SQLiteIdentityStorage(identity_db_path(settings))
    env = settings.eventsourcing_env()
    return PostgresIdentityStorage(settings.database_url, env["POSTGRES_SCHEMA"])
