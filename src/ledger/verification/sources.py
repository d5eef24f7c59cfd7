"""Where the verifier reads from: a SQLite file, a PostgreSQL database, or an export directory.

Sources read raw rows with their own read-only SQL. They never construct the application, so
verifying cannot create or modify anything.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import orjson

from ledger.integrity.envelope import leaf_bytes
from ledger.store.records import Head, stream_uuid
from ledger.verification.records import RawRow

PAGE = 2000
REGISTRY_UUID = stream_uuid("registry", "registry")


@dataclass(frozen=True)
class SourceCheckpoint:
    """A kept checkpoint note and the size it claims."""

    size: int
    note: str


@dataclass(frozen=True)
class Orphan:
    """An event row with no log row (inserted behind the recorder's back)."""

    notification_id: int
    first_affected_index: int


class Source(Protocol):
    """What the verifier needs from storage."""

    def describe(self) -> str: ...
    def approximate_size(self) -> int: ...
    def pages(self, size: int = PAGE) -> Iterator[list[RawRow]]: ...
    def checkpoints(self) -> list[SourceCheckpoint]: ...
    def head(self) -> Head | None: ...
    def orphans(self) -> list[Orphan]: ...
    def stream_versions_sorted(self) -> Iterator[tuple[UUID, int]] | None: ...
    def log_index_of(self, event_id: str) -> int | None: ...
    def worker_spec(self) -> WorkerSpec | None: ...
    def narrow_pages(self, size: int = PAGE) -> Iterator[list[NarrowRow]]: ...
    def registry_rows(self) -> list[RawRow]: ...
    def state_at(self, index: int) -> bytes | None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class WorkerSpec:
    """How a worker process opens its own read-only connection to a database source, so rows
    go from the database straight to the worker instead of through the main process."""

    backend: str
    target: str
    schema: str = "public"

    def open(self) -> _SQLSource:
        if self.backend == "sqlite":
            return SQLiteSource(Path(self.target))
        return PostgresSource(self.target, schema=self.schema)


NarrowRow = tuple[int, int | None, str, bytes]
"""(log_index, notification_id, recorded_at, stored leaf hash): what the main process reads."""


class _SQLSource:
    """Shared logic of the database sources; subclasses supply ``_query``."""

    events: str
    log: str
    head_table: str
    checkpoint_table: str
    nid: str

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _uuid(self, value: Any) -> UUID:
        return value if isinstance(value, UUID) else UUID(value)

    def approximate_size(self) -> int:
        rows = self._query(f"SELECT MAX(log_index) FROM {self.log}")
        return int(rows[0][0] or -1) + 1

    def pages(self, size: int = PAGE) -> Iterator[list[RawRow]]:
        last = -1
        while True:
            rows = self._query(
                f"SELECT l.log_index, l.notification_id, l.recorded_at, l.leaf_hash, l.root, "
                f"e.originator_id, e.originator_version, e.topic, e.state "
                f"FROM {self.log} l LEFT JOIN {self.events} e ON e.{self.nid} = l.notification_id "
                f"WHERE l.log_index > ? ORDER BY l.log_index LIMIT ?",
                (last, size),
            )
            if not rows:
                return
            # Plain tuples in RawRow order: cheap to ship to the worker processes.
            yield rows
            last = rows[-1][0]

    def checkpoints(self) -> list[SourceCheckpoint]:
        rows = self._query(f"SELECT size, note FROM {self.checkpoint_table} ORDER BY size")
        return [SourceCheckpoint(r[0], r[1]) for r in rows]

    def head(self) -> Head | None:
        rows = self._query(
            f"SELECT size, frontier, registry_version, last_recorded_at FROM {self.head_table}"
        )
        return Head(rows[0][0], bytes(rows[0][1]), rows[0][2], rows[0][3]) if rows else None

    def orphans(self) -> list[Orphan]:
        rows = self._query(
            f"SELECT e.{self.nid}, (SELECT MIN(l2.log_index) FROM {self.log} l2 "
            f"WHERE l2.notification_id > e.{self.nid}) "
            f"FROM {self.events} e LEFT JOIN {self.log} l ON l.notification_id = e.{self.nid} "
            f"WHERE l.log_index IS NULL ORDER BY e.{self.nid}"
        )
        size = self.approximate_size()
        return [Orphan(r[0], r[1] if r[1] is not None else size) for r in rows]

    def stream_versions_sorted(self) -> Iterator[tuple[UUID, int]]:
        last: tuple[Any, int] | None = None
        while True:
            if last is None:
                rows = self._query(
                    f"SELECT originator_id, originator_version FROM {self.events} "
                    "ORDER BY originator_id, originator_version LIMIT ?",
                    (20_000,),
                )
            else:
                rows = self._query(
                    f"SELECT originator_id, originator_version FROM {self.events} "
                    # A row-value comparison lets both SQLite and PostgreSQL walk the primary
                    # key index instead of sorting the table for every page.
                    "WHERE (originator_id, originator_version) > (?, ?) "
                    "ORDER BY originator_id, originator_version LIMIT ?",
                    (last[0], last[1], 20_000),
                )
            if not rows:
                return
            for r in rows:
                yield self._uuid(r[0]), r[1]
            last = (rows[-1][0], rows[-1][1])

    def narrow_pages(self, size: int = PAGE) -> Iterator[list[NarrowRow]]:
        """The log rows without the event bodies, in index order (for the main process)."""
        last = -1
        while True:
            rows = self._query(
                f"SELECT log_index, notification_id, recorded_at, leaf_hash FROM {self.log} "
                "WHERE log_index > ? ORDER BY log_index LIMIT ?",
                (last, size),
            )
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def rows_between(self, start: int, end: int) -> list[RawRow]:
        """Full rows with log indexes in ``[start, end)`` (for a worker)."""
        return self._query(
            f"SELECT l.log_index, l.notification_id, l.recorded_at, l.leaf_hash, l.root, "
            f"e.originator_id, e.originator_version, e.topic, e.state "
            f"FROM {self.log} l LEFT JOIN {self.events} e ON e.{self.nid} = l.notification_id "
            f"WHERE l.log_index >= ? AND l.log_index < ? ORDER BY l.log_index",
            (start, end),
        )

    def registry_rows(self) -> list[RawRow]:
        """The registry stream's rows (by its primary key), so every worker can be given all
        registered keys up front. Only a shortcut: a registration moved out of the stream is
        reported as damage and its key is still checked by the main process."""
        oid = REGISTRY_UUID.hex if self.nid == "rowid" else REGISTRY_UUID
        rows = self._query(f"SELECT state FROM {self.events} WHERE originator_id = ?", (oid,))
        return [(0, None, "", None, None, None, None, None, bytes(r[0])) for r in rows]

    def state_at(self, index: int) -> bytes | None:
        """The stored envelope at ``index`` (used when a worker lacked a fresh key)."""
        rows = self._query(
            f"SELECT e.state FROM {self.log} l JOIN {self.events} e "
            f"ON e.{self.nid} = l.notification_id WHERE l.log_index = ?",
            (index,),
        )
        return bytes(rows[0][0]) if rows else None

    def log_index_of(self, event_id: str) -> int | None:
        """The log index whose log row records ``event_id`` (None if no row does)."""
        rows = self._query(f"SELECT log_index FROM {self.log} WHERE event_id = ?", (event_id,))
        return int(rows[0][0]) if rows else None


class SQLiteSource(_SQLSource):
    """A ledger SQLite file, opened read-only."""

    events, log, head_table, checkpoint_table, nid = (
        "stored_events",
        "ledger_log",
        "ledger_head",
        "ledger_checkpoints",
        "rowid",
    )

    def __init__(self, path: Path) -> None:
        if not path.exists():
            msg = f"no such SQLite file: {path}"
            raise FileNotFoundError(msg)
        self.path = path
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    def describe(self) -> str:
        return f"sqlite:///{self.path}"

    def worker_spec(self) -> WorkerSpec:
        return WorkerSpec("sqlite", str(self.path))

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        self._conn.close()


class PostgresSource(_SQLSource):
    """A ledger in PostgreSQL (tables ``<app>_events``, ``<app>_log``, …), read-only."""

    nid = "notification_id"

    def __init__(self, url: str, *, schema: str = "public", app: str = "ledger") -> None:
        import psycopg

        self.url = url
        self.schema = schema
        self._conn = psycopg.connect(_libpq_url(url), autocommit=True)
        self._conn.read_only = True
        q = f'"{schema}".'
        self.events, self.log = f'{q}"{app}_events"', f'{q}"{app}_log"'
        self.head_table, self.checkpoint_table = f'{q}"{app}_head"', f'{q}"{app}_checkpoints"'

    def describe(self) -> str:
        return self.url

    def worker_spec(self) -> WorkerSpec:
        return WorkerSpec("postgres", self.url, self.schema)

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as c:
            c.execute(sql.replace("?", "%s"), params)
            return c.fetchall()

    def close(self) -> None:
        self._conn.close()


def _libpq_url(url: str) -> str:
    # libpq does not know our ?schema= parameter.
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith("schema=")]
    return base + ("?" + "&".join(kept) if kept else "")


class ExportSource:
    """An export directory written by ``ledger export`` (docs/PROTOCOL.md §8)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        manifest_path = path / "manifest.json"
        if not manifest_path.exists():
            msg = f"{path} is not a ledger export (no manifest.json)"
            raise FileNotFoundError(msg)
        self.manifest: dict[str, Any] = orjson.loads(manifest_path.read_bytes())

    def describe(self) -> str:
        return f"export {self.path}"

    def approximate_size(self) -> int:
        return int(self.manifest.get("size", 0))

    def pages(self, size: int = PAGE) -> Iterator[list[RawRow]]:
        page: list[RawRow] = []
        with (self.path / "log.jsonl").open("rb") as f:
            for position, line in enumerate(f):
                page.append(_export_record(position, line.rstrip(b"\n")))
                if len(page) >= size:
                    yield page
                    page = []
        if page:
            yield page

    def checkpoints(self) -> list[SourceCheckpoint]:
        path = self.path / "checkpoints.jsonl"
        if not path.exists():
            return []
        items = [orjson.loads(line) for line in path.read_bytes().splitlines() if line]
        return sorted(
            (SourceCheckpoint(int(i["size"]), str(i["note"])) for i in items), key=lambda c: c.size
        )

    def head(self) -> Head | None:
        return None

    def orphans(self) -> list[Orphan]:
        return []

    def stream_versions_sorted(self) -> Iterator[tuple[UUID, int]]:
        """Stream versions from the envelopes, sorted in a temporary on-disk SQLite table so
        memory stays bounded however many streams there are. Lines that do not parse are
        reported by the main scan and skipped here."""
        with tempfile.TemporaryDirectory() as scratch:
            db = sqlite3.connect(Path(scratch) / "streams.db")
            db.execute("CREATE TABLE s (stream BLOB, version INTEGER)")
            with (self.path / "log.jsonl").open("rb") as f:
                batch: list[tuple[bytes | None, int]] = []
                for line in f:
                    batch.append(_stream_of(line))
                    if len(batch) >= 10_000:
                        db.executemany("INSERT INTO s VALUES (?, ?)", batch)
                        batch = []
                db.executemany("INSERT INTO s VALUES (?, ?)", batch)
            db.execute("DELETE FROM s WHERE stream IS NULL")
            for stream, version in db.execute("SELECT stream, version FROM s ORDER BY 1, 2"):
                yield UUID(bytes=stream), version
            db.close()

    def log_index_of(self, event_id: str) -> int | None:
        # An export has no log rows beside the leaf bytes, so nothing is ever misplaced.
        return None

    def worker_spec(self) -> None:
        # Lines are read once, by the main process, and shipped to the workers.
        return None

    def state_at(self, index: int) -> bytes | None:
        return None  # never needed: the main process ships keys with each page

    def narrow_pages(self, size: int = PAGE) -> Iterator[list[NarrowRow]]:
        return iter(())  # exports are read by pages() only

    def registry_rows(self) -> list[RawRow]:
        return []  # keys travel with the pages

    def close(self) -> None:
        return None


def _stream_of(line: bytes) -> tuple[bytes | None, int]:
    try:
        envelope = orjson.loads(line)["envelope"]
        key = stream_uuid(envelope["stream_type"], envelope["stream_id"])
        return key.bytes, int(envelope["expected_version"]) + 1
    except (ValueError, KeyError, TypeError):
        return None, 0


def _export_record(position: int, line: bytes) -> RawRow:
    """Split a leaf-bytes line into its parts; a line that does not re-assemble to exactly the
    same bytes is reported as edited (state=None would say deleted, so keep the raw line)."""
    try:
        value = orjson.loads(line)
        index, recorded_at = value["index"], value["recorded_at"]
        state = line[len(b'{"envelope":') : line.rindex(b',"index":')]
        if not isinstance(index, int) or leaf_bytes(state, index, recorded_at) != line:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return (position, None, "", None, None, None, None, None, line)
    return (index, None, recorded_at, None, None, None, None, None, state)
