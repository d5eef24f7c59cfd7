"""The case index: for every subject id, the log positions of the events that touch it.

Replay and timelines must cost in proportion to the *case*, not to the log. This index maps
``subject_id`` → ``(log_index, relation)`` for the references :mod:`ledger.audit.refs`
finds in each envelope (stream id, payload ``*_id``/``*_ids`` values, correlation id), so
"every event touching person p-0001" is one index range scan.

Why a projection (in the projections database, advanced by its own follower loop) and not a
table written with the events: the append path's transaction is the ledger's hot path and
its tables are covered by the integrity recorder; an index is derived data, outside the
Merkle tree (DESIGN.md §5), rebuildable from zero, and may lag the log by a page. Readers
call :meth:`CaseIndex.catch_up` first, which folds only the tail, so answers are never stale.

Exactly once, with any number of concurrent followers: the position row is advanced with a
compare-and-set *before* the page's rows are inserted, in the same transaction; a follower
that loses the race rolls back and starts again from the stored position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from ledger.audit.refs import subject_refs
from ledger.domain.catalogue import DEFAULT_CATALOGUE, Catalogue, Kind
from ledger.errors import LedgerError
from ledger.projections.sql import Database, Tx
from ledger.settings import Settings

REFS = "case_refs"
POSITION = "case_refs_position"
VERSION = 1
"""Bump when :func:`ledger.audit.refs.subject_refs` changes: the index is then rebuilt."""
PAGE = 5000
CONFIG_SUBJECT = "#kind:CONFIG"
"""A pseudo-subject touched by every CONFIG event (programmes, standards, rule sets): the
rule versions a replay needs, found without scanning the log."""


class _Entry(Protocol):
    @property
    def index(self) -> int: ...

    @property
    def state(self) -> bytes: ...


class _Log(Protocol):
    def entries(self, start: int, limit: int) -> Sequence[Any]: ...


@dataclass(frozen=True, slots=True)
class Touch:
    """One event touching a subject: its log index and how it touches it."""

    log_index: int
    relation: str


class _LostRaceError(Exception):
    """Another follower advanced the index first (this page rolls back)."""


class CaseIndex:
    """The ``case_refs`` table of one ledger's projections database (see module docstring)."""

    def __init__(self, db: Database, catalogue: Catalogue = DEFAULT_CATALOGUE) -> None:
        self.db = db
        self.catalogue = catalogue

    @classmethod
    def open(cls, settings: Settings) -> CaseIndex:
        """Open (creating the tables if needed) the case index of ``settings``' ledger."""
        index = cls(Database.for_settings(settings))
        index.create_schema()
        return index

    def create_schema(self) -> None:
        """Create the tables; drop and restart the index if its version changed."""
        text = self.db.dialect.text
        with self.db.write() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {POSITION} (name {text} PRIMARY KEY, "
                "position BIGINT NOT NULL, version BIGINT NOT NULL)"
            )
            rows = tx.fetchall(f"SELECT version FROM {POSITION} WHERE name = ?", [REFS])
            if rows and int(rows[0][0]) != VERSION:
                tx.execute(f"DROP TABLE IF EXISTS {REFS}")
                tx.execute(f"DELETE FROM {POSITION} WHERE name = ?", [REFS])
                rows = []
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {REFS} (subject_id {text} NOT NULL, "
                f"log_index BIGINT NOT NULL, relation {text} NOT NULL, "
                "PRIMARY KEY (subject_id, log_index, relation))" + self.db.dialect.without_rowid
            )
            if not rows:
                tx.execute(
                    f"INSERT INTO {POSITION} (name, position, version) VALUES (?, 0, ?)",
                    [REFS, VERSION],
                )

    def reset(self) -> None:
        """Drop the index and start again from log index 0 (``ledger project --rebuild``)."""
        with self.db.write() as tx:
            tx.execute(f"DROP TABLE IF EXISTS {REFS}")
            tx.execute(f"DELETE FROM {POSITION} WHERE name = ?", [REFS])
        self.create_schema()

    def position(self) -> int:
        """Log entries folded so far (the next log index to read)."""
        with self.db.read() as tx:
            return self._position(tx)

    @staticmethod
    def _position(tx: Tx) -> int:
        rows = tx.fetchall(f"SELECT position FROM {POSITION} WHERE name = ?", [REFS])
        return int(rows[0][0]) if rows else 0

    def catch_up(self, log: _Log, page_size: int = PAGE) -> int:
        """Fold every log entry not yet indexed; the number folded by this call."""
        folded = 0
        while True:
            try:
                n = self._apply_page(log, page_size)
            except _LostRaceError:
                continue
            folded += n
            if n < page_size:
                return folded

    def _apply_page(self, log: _Log, page_size: int) -> int:
        start = self.position()
        entries = log.entries(start, page_size)
        if not entries:
            return 0
        rows: list[tuple[str, int, str]] = []
        for offset, entry in enumerate(entries):
            if entry.index != start + offset:
                msg = f"the log skips from index {start + offset - 1} to {entry.index}"
                raise RuntimeError(msg)
            fields = orjson.loads(entry.state)
            rows += [(r.subject_id, entry.index, r.relation) for r in subject_refs(fields)]
            if self._is_config(fields):
                rows.append((CONFIG_SUBJECT, entry.index, "kind"))
        new = start + len(entries)
        with self.db.write() as tx:
            changed = tx.execute(
                f"UPDATE {POSITION} SET position = ? WHERE name = ? AND position = ?",
                [new, REFS, start],
            )
            if changed != 1:
                raise _LostRaceError
            tx.executemany(
                f"INSERT INTO {REFS} (subject_id, log_index, relation) VALUES (?, ?, ?)", rows
            )
        return len(entries)

    def _is_config(self, fields: dict[str, Any]) -> bool:
        try:
            spec = self.catalogue.spec(fields["event_type"], int(fields["schema_version"]))
        except LedgerError:
            return False
        return spec.kind is Kind.CONFIG

    def touches(self, subject_id: str, before: int | None = None) -> list[Touch]:
        """Events touching ``subject_id`` (only those at log indexes < ``before``), in log
        order; an event touching it in several ways appears once per way."""
        sql = f"SELECT log_index, relation FROM {REFS} WHERE subject_id = ?"
        params: list[Any] = [subject_id]
        if before is not None:
            sql += " AND log_index < ?"
            params.append(before)
        with self.db.read() as tx:
            rows = tx.fetchall(sql + " ORDER BY log_index, relation", params)
        return [Touch(int(r[0]), str(r[1])) for r in rows]

    def positions(
        self, subject_ids: Sequence[str], before: int | None = None, relation: str | None = None
    ) -> set[int]:
        """Log indexes of events touching any of ``subject_ids`` (before ``before``; only in
        the way ``relation``, e.g. ``stream``: the events *of* those subjects' streams)."""
        if not subject_ids:
            return set()
        cond = "" if before is None else " AND log_index < ?"
        params: list[Any] = [] if before is None else [before]
        if relation is not None:
            cond += " AND relation = ?"
            params.append(relation)
        with self.db.read() as tx:
            rows = tx.fetch_in(
                f"SELECT log_index FROM {REFS} WHERE subject_id IN ({{keys}}){cond}",
                list(subject_ids),
                params,
            )
        return {int(r[0]) for r in rows}

    def close(self) -> None:
        """Close the database connections."""
        self.db.close()
