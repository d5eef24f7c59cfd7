"""The projections database: tracked positions, the time index, and the query API.

Tables besides the projections' own:

* ``proj_positions(name, position, version)`` — per projection, the number of log entries
  folded (= the next log index to read) and the code version that folded them. A follower
  advances it with a compare-and-set in the same transaction as the rows, so a page is
  applied exactly once whatever crashes or concurrent followers do.
* ``proj_log_times(recorded_at, last_index)`` — for each distinct ``recorded_at`` the last
  log index recorded at that instant: "as known at time T" is one index seek.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.integrity.envelope import format_recorded_at
from ledger.projections.base import Projection
from ledger.projections.errors import ProjectionBehindError, QueryError
from ledger.projections.findings import FindingsProjection
from ledger.projections.funds import FundLedgerProjection, FundRow
from ledger.projections.hashing import state_hash
from ledger.projections.matching_funds import MatchingFundComplianceProjection
from ledger.projections.queries import RosterPage, select_funds, select_roster, version_clause
from ledger.projections.rankings import assessment_projections
from ledger.projections.read_models import read_model_projections
from ledger.projections.roster import RosterProjection
from ledger.projections.sql import Database, Tx
from ledger.settings import Settings

POSITIONS = "proj_positions"
TIMES = "proj_log_times"
TIME_INDEX = "log_times"
"""The position name of the time index (advanced by followers like a projection)."""
TIME_INDEX_VERSION = 1
_HASH_CACHE_SIZE = 128


@dataclass(frozen=True)
class FundPage:
    """Fund accounts as known at ``position`` (-1: nothing yet), with the fund ledger's
    state hash there."""

    rows: list[FundRow]
    position: int
    state_hash: str


def default_projections() -> tuple[Projection[Any], ...]:
    """The projections this package maintains."""
    return (
        RosterProjection(),
        FundLedgerProjection(),
        FindingsProjection(),
        *read_model_projections(),
        MatchingFundComplianceProjection(),
        *assessment_projections(),
    )


class ProjectionStore:
    """Projections of one ledger (see module docstring)."""

    def __init__(self, db: Database, projections: Sequence[Projection[Any]]) -> None:
        self.db = db
        self.projections: dict[str, Projection[Any]] = {p.name: p for p in projections}
        self._hashes: dict[tuple[str, int], str] = {}
        self._hash_lock = threading.Lock()

    @classmethod
    def open(
        cls, settings: Settings, projections: Sequence[Projection[Any]] | None = None
    ) -> ProjectionStore:
        """Open (creating tables if needed) the projections of ``settings``' ledger.

        A projection whose stored version differs from its code's version is dropped and
        starts again from zero (its folds changed, so its rows are not theirs).
        """
        store = cls(Database.for_settings(settings), projections or default_projections())
        store.create_schema()
        return store

    # ------------------------------------------------------------------ schema

    @property
    def tracked(self) -> dict[str, int]:
        """Tracked names and their versions (projections and the time index)."""
        return {TIME_INDEX: TIME_INDEX_VERSION} | {
            name: p.version for name, p in self.projections.items()
        }

    def create_schema(self) -> None:
        """Create every table; reset projections whose version changed."""
        with self.db.write() as tx:
            self._create_base(tx)
            stored = {r[0]: r[2] for r in self._positions_rows(tx)}
            for name, version in self.tracked.items():
                if stored.get(name) != version:
                    self._reset(tx, name)
                else:
                    self._create_tables(tx, name)

    def _create_base(self, tx: Tx) -> None:
        text = self.db.dialect.text
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {POSITIONS} (name {text} PRIMARY KEY, "
            "position BIGINT NOT NULL, version BIGINT NOT NULL)"
        )

    def _create_tables(self, tx: Tx, name: str) -> None:
        if name == TIME_INDEX:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {TIMES} (recorded_at {self.db.dialect.text} "
                "NOT NULL, last_index BIGINT NOT NULL, PRIMARY KEY (recorded_at, last_index))"
                + self.db.dialect.without_rowid
            )
            return
        for table in self.projections[name].tables:
            for stmt in table.ddl(self.db.dialect):
                tx.execute(stmt)

    def _table_names(self, name: str) -> list[str]:
        if name == TIME_INDEX:
            return [TIMES]
        return [t.name for t in self.projections[name].tables]

    def _reset(self, tx: Tx, name: str) -> None:
        """Drop ``name``'s tables, create them empty, and set its position to 0."""
        for table in self._table_names(name):
            tx.execute(f"DROP TABLE IF EXISTS {table}")
        self._create_tables(tx, name)
        tx.execute(f"DELETE FROM {POSITIONS} WHERE name = ?", [name])
        tx.execute(
            f"INSERT INTO {POSITIONS} (name, position, version) VALUES (?, 0, ?)",
            [name, self.tracked[name]],
        )
        with self._hash_lock:
            self._hashes.clear()

    def reset(self, names: Sequence[str] | None = None) -> None:
        """Drop and recreate projections (all by default), at position 0."""
        with self.db.write() as tx:
            for name in names or list(self.tracked):
                self._reset(tx, name)

    def analyze(self) -> None:
        """Refresh the planner statistics of every projection table.

        Why: on a table built in one go the planners have no statistics (PostgreSQL then
        estimates 2 rows and picks a bitmap scan plus sort over the whole roster instead of
        an ordered index range with LIMIT); after a rebuild or a large catch-up the
        statistics are refreshed once.
        """
        with self.db.write() as tx:
            for name in self.tracked:
                for table in self._table_names(name):
                    tx.execute(f"ANALYZE {table}")

    # ------------------------------------------------------------------ positions

    def _positions_rows(self, tx: Tx) -> list[tuple[Any, ...]]:
        return tx.fetchall(f"SELECT name, position, version FROM {POSITIONS}")

    def read_positions(self, tx: Tx) -> dict[str, int]:
        """Tracked name → entries folded (the next log index to read)."""
        found = {r[0]: int(r[1]) for r in self._positions_rows(tx)}
        return {name: found.get(name, 0) for name in self.tracked}

    def positions(self) -> dict[str, int]:
        """:meth:`read_positions` in its own read transaction."""
        with self.db.read() as tx:
            return self.read_positions(tx)

    def advance(self, tx: Tx, name: str, old: int, new: int) -> bool:
        """Compare-and-set ``name``'s position; ``False`` if another follower moved it."""
        return (
            tx.execute(
                f"UPDATE {POSITIONS} SET position = ? WHERE name = ? AND position = ?",
                [new, name, old],
            )
            == 1
        )

    def record_times(self, tx: Tx, times: Sequence[tuple[str, int]]) -> None:
        """Add ``(recorded_at, last_index)`` rows to the time index."""
        tx.executemany(
            f"INSERT INTO {TIMES} (recorded_at, last_index) VALUES (?, ?) ON CONFLICT DO NOTHING",
            times,
        )

    # ------------------------------------------------------------------ queries

    def _known_at(
        self, tx: Tx, name: str, position: int | None, time: str | None
    ) -> tuple[int, int | None]:
        """(the last index the answer includes, the version clause's ``at``)."""
        folded = self.read_positions(tx)[name] - 1
        if position is not None and time is not None:
            raise QueryError("give as_known_at_position or as_known_at_time, not both")
        if time is not None:
            position = self._index_at_time(tx, time)
        if position is None:
            return folded, None
        if position < -1:
            raise QueryError("a log position is -1 or more", position=position)
        if position > folded:
            raise ProjectionBehindError(
                f"projection {name} has folded up to log index {folded}, not {position}",
                projection=name,
                folded=folded,
                asked=position,
            )
        return position, position

    def _index_at_time(self, tx: Tx, time: str) -> int:
        moment = normalise_time(time)
        rows = tx.fetchall(
            f"SELECT last_index FROM {TIMES} WHERE recorded_at <= ? "
            "ORDER BY recorded_at DESC, last_index DESC LIMIT 1",
            [moment],
        )
        return int(rows[0][0]) if rows else -1

    def index_at_time(self, time: str) -> int:
        """The last folded log index recorded at or before ``time`` (-1: none)."""
        with self.db.read() as tx:
            return self._index_at_time(tx, time)

    def roster(
        self,
        programme_code: str | None = None,
        org_id: str | None = None,
        status: str | None = None,
        *,
        as_known_at_position: int | None = None,
        as_known_at_time: str | None = None,
        as_effective_at: str | None = None,
        limit: int = 100,
        after: str | None = None,
        with_state_hash: bool = True,
    ) -> RosterPage:
        """A page of the beneficiary roster (see :class:`RosterPage`).

        ``org_id`` matches the township or the village of residence; ``as_effective_at``
        (``YYYY-MM``) keeps enrolments payable in that period; pages follow
        ``enrolment_id`` order from ``after``. Rows and position come from one snapshot.
        """
        with self.db.read() as tx:
            position, at = self._known_at(tx, "roster", as_known_at_position, as_known_at_time)
            rows = select_roster(
                tx,
                at=at,
                programme_code=programme_code,
                org_id=org_id,
                status=status,
                effective=as_effective_at,
                limit=limit,
                after=after,
            )
            digest = self._state_hash(tx, "roster", position, at) if with_state_hash else None
        next_after = rows[-1].enrolment_id if len(rows) == limit else None
        return RosterPage(rows, position, digest, next_after)

    def fund_ledger(
        self,
        fund_account_id: str | None = None,
        *,
        as_known_at_position: int | None = None,
        as_known_at_time: str | None = None,
    ) -> list[FundRow]:
        """Fund accounts with every amount and ``available_fen``."""
        with self.db.read() as tx:
            _, at = self._known_at(tx, "fund_ledger", as_known_at_position, as_known_at_time)
            return select_funds(tx, at=at, fund_account_id=fund_account_id)

    def fund_ledger_page(
        self,
        fund_account_id: str | None = None,
        *,
        as_known_at_position: int | None = None,
        as_known_at_time: str | None = None,
    ) -> FundPage:
        """:meth:`fund_ledger` with the position it answers at and the state hash there."""
        with self.db.read() as tx:
            position, at = self._known_at(
                tx, "fund_ledger", as_known_at_position, as_known_at_time
            )
            rows = select_funds(tx, at=at, fund_account_id=fund_account_id)
            return FundPage(rows, position, self._state_hash(tx, "fund_ledger", position, at))

    def state_hash(self, name: str, as_known_at_position: int | None = None) -> str:
        """The state hash of projection ``name`` (current, or as known at a position)."""
        with self.db.read() as tx:
            position, at = self._known_at(tx, name, as_known_at_position, None)
            return self._state_hash(tx, name, position, at)

    def _state_hash(self, tx: Tx, name: str, position: int, at: int | None) -> str:
        """Computed once per (projection, position): the rows at a position never change."""
        key = (name, position)
        with self._hash_lock:
            cached = self._hashes.get(key)
        if cached is not None:
            return cached
        projection = self.projections[name]
        main = projection.tables[0]
        clause, params = version_clause(at)
        rows = tx.fetchall(
            f"SELECT {main.select_sql()}, known_from FROM {main.name} WHERE {clause}", params
        )
        digest = state_hash(name, projection.version, position, rows)
        with self._hash_lock:
            if len(self._hashes) >= _HASH_CACHE_SIZE:
                self._hashes.pop(next(iter(self._hashes)))
            self._hashes[key] = digest
        return digest

    def close(self) -> None:
        """Close the database connections."""
        self.db.close()


def normalise_time(text: str) -> str:
    """An RFC 3339 time with offset, in the ledger's ``recorded_at`` form (UTC, µs, ``Z``)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise QueryError(f"{text!r} is not an RFC 3339 time", time=text) from e
    if moment.tzinfo is None:
        raise QueryError(f"{text!r} has no UTC offset", time=text)
    return format_recorded_at(moment.astimezone(UTC))
