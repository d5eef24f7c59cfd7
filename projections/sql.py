"""A tiny SQL adapter so every projection runs the same SQL on SQLite and PostgreSQL.

SQL is written once with ``?`` placeholders; on PostgreSQL they become ``%s``. Both backends
are driven in autocommit mode with explicit ``BEGIN``/``COMMIT`` so that "one transaction per
page" is visible in the code rather than implied by a driver default.

Storage:

* SQLite — a separate file next to the ledger (``ledger.db`` → ``ledger.projections.db``), in
  WAL mode with ``synchronous=NORMAL``. Separate, so followers never take the ledger's
  writer lock; NORMAL, because a projection is rebuildable and a lost tail after a power cut
  loses rows *and* position together (the follower simply re-applies those pages).
* PostgreSQL — ``proj_*`` tables in the ledger's own database and schema.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.settings import Settings


def _pg_array_type(sqltype: str) -> str:
    base = sqltype.split(maxsplit=1)[0].upper()
    if base not in {"TEXT", "BIGINT"}:
        msg = f"no array type for column type {sqltype!r}"
        raise ValueError(msg)
    return f"{base.lower()}[]"


_PLAIN_INSERT = re.compile(r"INSERT INTO (\S+) \(([^)]*)\) VALUES \(\?(?:, ?\?)*\)")
"""A plain one-row ``INSERT`` (no ``ON CONFLICT``): sent as ``COPY`` on PostgreSQL."""

_IN_KEYS = "IN ({keys})"
"""Where :meth:`Tx.fetch_in` puts its keys."""

IN_CHUNK = 4000
"""Keys per SQLite ``IN (…)`` list: below its parameter limit (32,766), large enough that a
page needs one query per table."""


@dataclass(frozen=True)
class Dialect:
    """What differs between the two backends."""

    name: str
    without_rowid: str
    write_begin: str
    read_begin: str
    text: str
    """The type of text columns: byte-order collation on both backends, so ``ORDER BY`` and
    keyset pagination agree with Python's ``sorted`` (and hence with the state hash)."""

    def sql(self, text: str) -> str:
        """``text`` with this backend's placeholders."""
        return text.replace("?", "%s") if self.name == "postgres" else text


SQLITE = Dialect("sqlite", " WITHOUT ROWID", "BEGIN IMMEDIATE", "BEGIN", "TEXT")
POSTGRES = Dialect(
    "postgres",
    "",
    "BEGIN",
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    'TEXT COLLATE "C"',
)


class Tx:
    """One open transaction: statements with ``?`` placeholders."""

    def __init__(self, conn: Any, dialect: Dialect) -> None:
        self._conn = conn
        self._dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        cur = self._conn.execute(self._dialect.sql(sql), tuple(params))
        return int(cur.rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows (one round trip batch per page)."""
        if not rows:
            return
        plain = _PLAIN_INSERT.fullmatch(sql)
        if self._dialect.name == "postgres" and plain is not None:
            self._copy(plain.group(1), plain.group(2), rows)
            return
        cur = self._conn.cursor()
        cur.executemany(self._dialect.sql(sql), rows)

    def upsert(
        self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert or replace rows keyed by the first column (each key at most once in
        ``rows``). PostgreSQL: one ``INSERT … SELECT FROM unnest(arrays)``; SQLite:
        ``executemany``."""
        if not rows:
            return
        names = [name for name, _ in columns]
        cols = ", ".join(names)
        updates = ", ".join(f"{c} = excluded.{c}" for c in names[1:])
        conflict = f"ON CONFLICT ({names[0]}) DO UPDATE SET {updates}"
        if self._dialect.name != "postgres":
            marks = ",".join("?" * len(names))
            self.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks}) {conflict}", rows)
            return
        # Binary arrays: psycopg dumps text-format arrays in Python, quoting each element.
        arrays = ", ".join(f"%b::{_pg_array_type(sqltype)}" for _, sqltype in columns)
        self._conn.execute(
            f"INSERT INTO {table} ({cols}) SELECT * FROM unnest({arrays}) {conflict}",
            [list(column) for column in zip(*rows, strict=True)],
        )

    def close_versions(self, table: str, key: str, closes: Sequence[tuple[int, str]]) -> None:
        """Set ``known_to`` of the open version of each ``(index, key)``: one statement on
        PostgreSQL (two arrays), ``executemany`` on SQLite."""
        if not closes:
            return
        if self._dialect.name != "postgres":
            self.executemany(
                f"UPDATE {table} SET known_to = ? WHERE {key} = ? AND known_to IS NULL", closes
            )
            return
        self._conn.execute(
            f"UPDATE {table} AS t SET known_to = v.known_to "
            "FROM unnest(%b::bigint[], %b::text[]) AS v(known_to, id) "
            f"WHERE t.{key} = v.id AND t.known_to IS NULL",
            ([index for index, _ in closes], [k for _, k in closes]),
        )

    def _copy(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        """A plain ``INSERT`` of many rows as one ``COPY`` on PostgreSQL: ``executemany``
        sends (and psycopg handles in Python) one message per row, which made row writing
        the bulk of a follower's page."""
        with self._conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one query, as tuples."""
        cur = self._conn.execute(self._dialect.sql(sql), tuple(params))
        return [tuple(r) for r in cur.fetchall()]

    def fetch_in(
        self, sql: str, keys: Sequence[Any], params: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        """Rows of ``sql``, which contains ``IN ({keys})`` before any ``?`` of ``params``.

        PostgreSQL: one query with ``= ANY(array)``, the keys as one binary parameter
        (a text query of thousands of placeholders is re-parsed by psycopg on every call).
        SQLite: an ``IN`` list of placeholders, in chunks of :data:`IN_CHUNK` keys.
        """
        if _IN_KEYS not in sql:
            msg = f"fetch_in needs {_IN_KEYS!r} in {sql!r}"
            raise ValueError(msg)
        if not keys:
            return []
        if self._dialect.name == "postgres":
            return self.fetchall(sql.replace(_IN_KEYS, "= ANY(%b)"), [list(keys), *params])
        rows: list[tuple[Any, ...]] = []
        for i in range(0, len(keys), IN_CHUNK):
            chunk = list(keys[i : i + IN_CHUNK])
            marks = ",".join("?" * len(chunk))
            rows += self.fetchall(sql.format(keys=marks), [*chunk, *params])
        return rows


class Database:
    """Per-thread connections to the projections database."""

    def __init__(self, dialect: Dialect, target: str, schema: str | None = None) -> None:
        self.dialect = dialect
        self._target = target
        self._schema = schema
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> Database:
        """The projections database that belongs to ``settings.database_url``."""
        if settings.backend == "sqlite":
            return cls(SQLITE, str(projections_path(settings.sqlite_path)))
        env = settings.eventsourcing_env(create_table=False)
        conninfo = (
            f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} "
            f"dbname={env['POSTGRES_DBNAME']} user={env['POSTGRES_USER']}"
        )
        if env["POSTGRES_PASSWORD"]:
            conninfo += f" password={env['POSTGRES_PASSWORD']}"
        return cls(POSTGRES, conninfo, env["POSTGRES_SCHEMA"])

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _connect(self) -> Any:
        if self.dialect.name == "sqlite":
            conn: Any = sqlite3.connect(self._target, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            # Pages write thousands of rows into several indexes: a 64 MiB page cache keeps
            # the hot index pages in memory between pages.
            conn.execute("PRAGMA cache_size=-65536")
            return conn
        import psycopg

        conn = psycopg.connect(self._target, autocommit=True)
        # The schema name comes from the validated settings URL, not from a request.
        conn.execute(f'SET search_path TO "{self._schema}"')
        return conn

    @contextmanager
    def _tx(self, begin: str) -> Iterator[Tx]:
        conn = self._connection()
        conn.execute(begin)
        try:
            yield Tx(conn, self.dialect)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def write(self) -> AbstractContextManager[Tx]:
        """A write transaction (SQLite: ``BEGIN IMMEDIATE``, the write lock up front)."""
        return self._tx(self.dialect.write_begin)

    def read(self) -> AbstractContextManager[Tx]:
        """A read transaction that sees one consistent snapshot (rows match the position)."""
        return self._tx(self.dialect.read_begin)

    def close(self) -> None:
        """Close every connection this object opened (in any thread)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()


def projections_path(ledger_path: Path) -> Path:
    """``ledger.db`` → ``ledger.projections.db`` (next to the ledger, never inside it)."""
    return ledger_path.with_name(ledger_path.stem + ".projections.db")
