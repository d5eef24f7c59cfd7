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
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
        applied = self._apply_pages(max_pages)
        if applied >= ANALYZE_AFTER:
            self.store.analyze()
        return applied

    def rebuild(self) -> int:
        """Drop every projection and fold the whole log from zero; entries applied."""
        self.store.reset()
        applied = self._apply_pages(None)
        self.store.analyze()
        return applied

    def apply_page(self) -> int:
        """Apply one page in one transaction; the number of log entries it covered."""
        return self._apply_page(self._read)

    def _read(self, start: int) -> Sequence[EntryLike]:
        """The log page from ``start``, read now."""
        return self.log.entries(start, self.page_size)

    def _apply_pages(self, max_pages: int | None) -> int:
        """Apply pages until the log ends (or ``max_pages``); on PostgreSQL each next page is
        read ahead. Why not on SQLite: its reads run in this process, so a reader thread only
        competes for the GIL (measured slower)."""
        if self.store.db.dialect.name != "postgres":
            return self._apply_pages_from(self._read, max_pages)
        with ThreadPoolExecutor(1, thread_name_prefix="projection-read-ahead") as pool:
            reader = _ReadAhead(self.log, self.page_size, pool)
            return self._apply_pages_from(reader.entries, max_pages)

    def _apply_pages_from(
        self, read: Callable[[int], Sequence[EntryLike]], max_pages: int | None
    ) -> int:
        """Apply pages, each read by ``read(start)``; entries applied."""
        applied, pages = 0, 0
        while max_pages is None or pages < max_pages:
            try:
                n = self._apply_page(read)
            except ConcurrentFollowerError:
                continue  # another follower applied this page; start again from its position
            applied, pages = applied + n, pages + 1
            if n < self.page_size:
                break
        return applied

    def _apply_page(self, read: Callable[[int], Sequence[EntryLike]]) -> int:
        """:meth:`apply_page` with ``read(start)`` giving the log page from ``start``."""
        with self.store.db.write() as tx:
            positions = self.store.read_positions(tx)
            start = min(positions.values())
            entries = read(start)
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


class _ReadAhead:
    """Log pages for :meth:`Follower._apply_pages`, each next page read in ``pool`` while the
    current one is folded and written (the read is a third of a page's time on PostgreSQL).

    Committed log entries never change, so a page read outside the page's transaction is
    the page; it is used only if it starts at the position read inside the transaction.
    """

    def __init__(self, log_source: LogSource, page_size: int, pool: ThreadPoolExecutor) -> None:
        self._log = log_source
        self._page_size = page_size
        self._pool = pool
        self._next: tuple[int, Future[Sequence[EntryLike]]] | None = None

    def entries(self, start: int) -> Sequence[EntryLike]:
        """The page from ``start`` (read ahead if it was, else now); starts reading the next."""
        ahead, self._next = self._next, None
        if ahead is not None and ahead[0] == start:
            entries = ahead[1].result()
        else:
            entries = self._log.entries(start, self._page_size)
        if len(entries) == self._page_size:  # a full page: the log may go on
            following = entries[-1].index + 1
            self._next = (
                following,
                self._pool.submit(self._log.entries, following, self._page_size),
            )
        return entries


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
