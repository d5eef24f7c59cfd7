"""Generic storage for fold state: versioned (bitemporal) tables and current-only tables.

A fold works on plain mutable row objects in memory. Per page, the follower

1. loads the current rows of the keys the page touches (one ``IN`` query per table),
2. runs the pure folds, which call :meth:`Rows.touch` after each change of a row,
3. writes back in the page's single transaction.

For a *versioned* table every touch is one version ``[known_from, known_to)`` in log-index
space: the version of the event at index ``i`` has ``known_from = i``; the next change of the
same key at index ``j`` closes it with ``known_to = j``; the open version has
``known_to IS NULL``. Because versions are per event, never per page, the stored history is
identical whatever the page boundaries were. A *current* table keeps only the latest row per
key (internal bookkeeping such as payment lines) and is written with an upsert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from ledger.projections.sql import Dialect, Tx


class Row(Protocol):
    """A row object: a mutable dataclass whose fields are the table's columns, key first."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]]

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self: ...


R = TypeVar("R", bound=Row)


def columns_of(row_type: type[Any]) -> tuple[str, ...]:
    """The dataclass field names of ``row_type`` in order (must equal its ``COLUMNS``)."""
    return tuple(f.name for f in fields(row_type))


@dataclass(frozen=True)
class Table(Generic[R]):
    """A table and the row type that lives in it."""

    name: str
    row_type: type[R]
    versioned: bool
    indexes: tuple[str, ...] = ()
    """``CREATE INDEX`` tails: ``"(cols)"`` or ``"(cols) WHERE …"``."""

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.row_type.COLUMNS)

    @property
    def key(self) -> str:
        return self.columns[0]

    def ddl(self, dialect: Dialect) -> list[str]:
        """``CREATE TABLE``/``CREATE INDEX`` statements (idempotent)."""
        cols = [
            f"{name} {sqltype.replace('TEXT', dialect.text)}"
            for name, sqltype in self.row_type.COLUMNS
        ]
        if self.versioned:
            cols += ["known_from BIGINT NOT NULL", "known_to BIGINT"]
            pk = f"PRIMARY KEY ({self.key}, known_from)"
        else:
            pk = f"PRIMARY KEY ({self.key})"
        stmts = [
            f"CREATE TABLE IF NOT EXISTS {self.name} ({', '.join(cols)}, {pk})"
            + dialect.without_rowid
        ]
        if self.versioned:
            # The open version of each key: what every fold load and "current" query reads.
            stmts.append(
                f"CREATE UNIQUE INDEX IF NOT EXISTS {self.name}_open ON {self.name} "
                f"({self.key}) WHERE known_to IS NULL"
            )
        stmts += [
            f"CREATE INDEX IF NOT EXISTS {self.name}_i{n} ON {self.name} {tail}"
            for n, tail in enumerate(self.indexes)
        ]
        return stmts

    def select_sql(self) -> str:
        """Columns in row order (without known_from/known_to)."""
        return ", ".join(self.columns)

    def load(self, tx: Tx, keys: Iterable[str]) -> dict[str, R]:
        """The current rows of ``keys`` that exist."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        where = "known_to IS NULL AND " if self.versioned else ""
        sql = f"SELECT {self.select_sql()} FROM {self.name} WHERE {where}{self.key} IN ({{keys}})"
        return {r[0]: self.row_type.from_values(r) for r in tx.fetch_in(sql, wanted)}


class Rows(Generic[R]):
    """The working copy of one table during a page (or of a whole in-memory fold).

    ``stored`` are the keys that already had a row in storage when the page started.
    For a versioned table ``versions`` records ``(key, index, values)`` at every
    :meth:`touch`, in log order; for every table ``_last`` maps a touched key to the index
    of its last change.
    """

    def __init__(self, table: Table[R], rows: dict[str, R] | None = None) -> None:
        self.table = table
        self.rows: dict[str, R] = rows or {}
        self.stored: frozenset[str] = frozenset(self.rows)
        self.versions: list[tuple[str, int, tuple[Any, ...]]] = []
        self._last: dict[str, int] = {}
        self._values = attrgetter(*table.columns)

    def get(self, key: str) -> R | None:
        return self.rows.get(key)

    def values(self, key: str) -> tuple[Any, ...]:
        """The column values of ``key``'s current row."""
        return tuple(self._values(self.rows[key]))

    def known_from(self, key: str) -> int:
        """The index of the last change of ``key`` seen by this working copy."""
        return self._last[key]

    def add(self, key: str, row: R, index: int) -> R:
        """Insert ``row`` as the new value of ``key`` and record it."""
        self.rows[key] = row
        self.touch(key, index)
        return row

    def touch(self, key: str, index: int) -> None:
        """Record the current value of ``key`` as changed by the event at ``index``.

        Two changes by the same event make one version (the later value wins). A current
        (unversioned) table only marks the key: its latest value is read at flush.
        """
        if not self.table.versioned:
            self._last[key] = index
            return
        values = self._values(self.rows[key])
        if self._last.get(key) == index:
            for i in range(len(self.versions) - 1, -1, -1):
                if self.versions[i][0] == key:
                    self.versions[i] = (key, index, values)
                    break
            return
        self._last[key] = index
        self.versions.append((key, index, values))

    def flush(self, tx: Tx) -> int:
        """Write this page's changes; the number of versions (or rows) written."""
        if self.table.versioned:
            return self._flush_versions(tx) if self.versions else 0
        return self._flush_current(tx) if self._last else 0

    def _flush_versions(self, tx: Tx) -> int:
        table = self.table
        first: dict[str, int] = {}
        next_of: list[int | None] = [None] * len(self.versions)
        seen: dict[str, int] = {}
        for pos, (key, index, _) in enumerate(self.versions):
            first.setdefault(key, index)
            if key in seen:
                next_of[seen[key]] = index
            seen[key] = pos
        closes = [(index, key) for key, index in first.items() if key in self.stored]
        tx.close_versions(table.name, table.key, closes)
        cols = ", ".join(table.columns)
        marks = ",".join("?" * (len(table.columns) + 2))
        tx.executemany(
            f"INSERT INTO {table.name} ({cols}, known_from, known_to) VALUES ({marks})",
            [
                (*values, index, next_of[pos])
                for pos, (_, index, values) in enumerate(self.versions)
            ],
        )
        return len(self.versions)

    def _flush_current(self, tx: Tx) -> int:
        table = self.table
        latest = [self._values(self.rows[key]) for key in self._last]
        tx.upsert(table.name, table.row_type.COLUMNS, latest)
        return len(latest)
