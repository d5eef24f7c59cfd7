"""Followers: read the log in large pages and fold them into the projections, exactly once.

Per page, in ONE transaction of the projections database: read the tracked positions, read
the log page, decode the relevant envelopes once, load the rows the page touches, fold,
write the rows (``executemany``), add the time-index rows, and compare-and-set every
position. A crash anywhere before ``COMMIT`` leaves rows and positions as they were; a
concurrent follower that got there first makes the compare-and-set fail and the page roll
back. Either way the next page starts exactly where the stored position says.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from ledger.errors import LedgerError
from ledger.projections.base import Projection
from ledger.projections.errors import ConcurrentFollowerError, LogGapError
from ledger.projections.events import EntryLike, Event, decode_relevant
from ledger.projections.sql import Tx
from ledger.projections.store import TIME_INDEX, ProjectionStore

log = logging.getLogger(__name__)

DEFAULT_PAGE = 5000
ANALYZE_AFTER = 50_000
"""A catch-up that applies at least this many entries refreshes planner statistics."""


class LogSource(Protocol):
    """The ledger's log read API (``LedgerService.store.log``)."""

    def entries(self, start: int, limit: int) -> Sequence[EntryLike]: ...


class Follower:
    """Keeps a :class:`ProjectionStore`'s projections up to date with a log."""

    def __init__(
        self, store: ProjectionStore, log_source: LogSource, *, page_size: int = DEFAULT_PAGE
    ) -> None:
        self.store = store
        self.log = log_source
        self.page_size = page_size
        self._types = frozenset().union(*(p.types for p in store.projections.values()))

    def catch_up(self, max_pages: int | None = None) -> int:
        """Apply every entry not yet applied (at most ``max_pages`` pages); entries applied."""
        applied, pages = 0, 0
        while max_pages is None or pages < max_pages:
            try:
                n = self.apply_page()
            except ConcurrentFollowerError:
                continue  # another follower applied this page; start again from its position
            applied, pages = applied + n, pages + 1
            if n < self.page_size:
                break
        if applied >= ANALYZE_AFTER:
            self.store.analyze()
        return applied

    def rebuild(self) -> int:
        """Drop every projection and fold the whole log from zero; entries applied."""
        self.store.reset()
        applied = self.catch_up()
        self.store.analyze()
        return applied

    def apply_page(self) -> int:
        """Apply one page in one transaction; the number of log entries it covered."""
        with self.store.db.write() as tx:
            positions = self.store.read_positions(tx)
            start = min(positions.values())
            entries = self.log.entries(start, self.page_size)
            if not entries:
                return 0
            _check_contiguous(entries, start)
            events = decode_relevant(entries, self._types)
            for name, projection in self.store.projections.items():
                _fold_page(tx, projection, events, positions[name])
            self.store.record_times(tx, _times(entries, positions[TIME_INDEX]))
            end = entries[-1].index + 1
            for name, old in positions.items():
                if old < end and not self.store.advance(tx, name, old, end):
                    raise ConcurrentFollowerError(
                        f"projection {name} moved past {old} while this page was applied",
                        projection=name,
                        position=old,
                    )
            return len(entries)

    def run_forever(self, stop_event: threading.Event, poll_interval: float = 0.5) -> None:
        """Catch up, then poll every ``poll_interval`` seconds until ``stop_event`` is set.

        A failing page is logged and retried after ``poll_interval``: the position did not
        move, so nothing is lost or doubled, and an operator sees the error in the log.
        """
        while not stop_event.is_set():
            try:
                applied = self.catch_up()
            except (LedgerError, OSError, RuntimeError):  # retried: the position did not move
                log.exception("projection follower page failed; retrying")
                applied = 0
            if applied == 0:
                stop_event.wait(poll_interval)

    def start(self, stop_event: threading.Event, poll_interval: float = 0.5) -> threading.Thread:
        """:meth:`run_forever` in a daemon thread (already started)."""
        thread = threading.Thread(
            target=self.run_forever,
            args=(stop_event, poll_interval),
            name="projection-follower",
            daemon=True,
        )
        thread.start()
        return thread


def _fold_page(tx: Tx, projection: Projection[Any], events: Sequence[Event], position: int) -> None:
    """Fold the events at or after ``position`` that ``projection`` handles, and write."""
    mine = [e for e in events if e.index >= position and e.event_type in projection.types]
    if not mine:
        return
    state = projection.load(tx, mine)
    for event in mine:
        projection.fold(state, event)
    state.flush(tx)


def _check_contiguous(entries: Sequence[EntryLike], start: int) -> None:
    if entries[0].index != start or entries[-1].index != start + len(entries) - 1:
        raise LogGapError(
            f"the log page from {start} is not contiguous "
            f"({entries[0].index}..{entries[-1].index}, {len(entries)} entries)",
            start=start,
        )


def _times(entries: Sequence[EntryLike], position: int) -> list[tuple[str, int]]:
    """One ``(recorded_at, last_index)`` per run of equal times (times never decrease)."""
    times: list[tuple[str, int]] = []
    for entry in entries:
        if entry.index < position:
            continue
        if times and times[-1][0] == entry.recorded_at:
            times[-1] = (entry.recorded_at, entry.index)
        else:
            times.append((entry.recorded_at, entry.index))
    return times
