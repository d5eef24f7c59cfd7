"""What a projection is: pure folds over decoded events, plus the tables they live in."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from ledger.projections.events import Event
from ledger.projections.hashing import state_hash
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table


class State(ABC):
    """The working copy of a projection's tables (one page, or a whole in-memory fold)."""

    @property
    @abstractmethod
    def tables(self) -> Sequence[Rows[Any]]:
        """Every table's working copy; the first is the public, versioned one."""

    def flush(self, tx: Tx) -> int:
        """Write every table's changes in ``tx``; versions/rows written."""
        return sum(rows.flush(tx) for rows in self.tables)


S = TypeVar("S", bound=State)


class Projection(ABC, Generic[S]):
    """A deterministic function of a log prefix, stored in SQL tables.

    Subclasses give the tables, how to load the rows a page touches, and the pure fold.
    Bumping ``version`` makes the store drop and rebuild the projection from zero.
    """

    name: str
    version: int
    types: frozenset[str]
    tables: tuple[Table[Any], ...]

    @abstractmethod
    def empty(self) -> S:
        """A state with no rows (the start of an in-memory fold)."""

    @abstractmethod
    def load(self, tx: Tx, events: Sequence[Event]) -> S:
        """A state holding the stored rows that ``events`` may read or change."""

    @abstractmethod
    def fold(self, state: S, event: Event) -> None:
        """Apply one event (pure: reads and changes ``state`` only)."""

    def fold_all(self, events: Iterable[Event], state: S | None = None) -> S:
        """Fold ``events`` in order into ``state`` (a fresh one by default)."""
        state = self.empty() if state is None else state
        for event in events:
            if event.event_type in self.types:
                self.fold(state, event)
        return state

    def memory_hash(self, state: S, position: int) -> str:
        """The state hash of a complete in-memory fold (see :mod:`.hashing`)."""
        main = state.tables[0]
        rows = [(*main.values(key), main.known_from(key)) for key in main.rows]
        return state_hash(self.name, self.version, position, rows)
