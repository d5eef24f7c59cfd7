"""Group commit: many appends share one durable transaction; each is acknowledged only after it.

Leader/follower: the first thread to find no commit in progress becomes the leader and commits
everything queued (up to ``max_batch``) in one transaction, then the next batch, until the
queue is empty. Others wait on their own slot. A lone writer therefore commits inline with no
thread hand-off, and under load the fsync is shared by the whole batch.

If a multi-event transaction fails (a version conflict, a reused event id), nothing of it was
written; the leader retries its events one by one so that only the offending event fails.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ledger.store.records import AppendBatch, AppendOutcome, LedgerEvent

log = logging.getLogger(__name__)


@dataclass
class Pending:
    """One event waiting to be committed."""

    event: LedgerEvent
    event_id: str
    registry_version: int
    is_registry: bool
    done: threading.Event = field(default_factory=threading.Event)
    outcome: AppendOutcome | None = None
    receipt: Any = None
    """The signed receipt, when the save signed it in the committing thread."""
    error: BaseException | None = None
    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None
    """An event loop awaiting this event: resolved from the committing thread, one wake-up
    of each loop per transaction (see :func:`finish_all`)."""

    def finish(self) -> None:
        """Mark this event's fate known and wake whoever waits for it (once)."""
        finish_all([self])

    def result(self) -> AppendOutcome:
        """The outcome, or raise the error (only after :meth:`finish`)."""
        if self.error is not None:
            raise self.error
        assert self.outcome is not None
        return self.outcome


def finish_all(items: Sequence[Pending]) -> None:
    """Mark these events' fates known: wake thread waiters, and each waiting event loop once
    for all of its events (a wake-up is a system call and a loop iteration; one per event
    was a measurable share of the commit thread's time)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for item in items:
        if item.done.is_set():
            continue
        item.done.set()
        if item.waiter is not None:
            loop, future = item.waiter
            by_loop.setdefault(loop, []).append(future)
    for loop, futures in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve_all, futures)
        except RuntimeError:  # the waiting event loop is gone; the commits stand
            log.warning("an event loop waiting for %d append(s) is closed", len(futures))


def _resolve_all(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # the awaiting request may have been cancelled meanwhile
            future.set_result(None)


SaveFn = Callable[[list[LedgerEvent], AppendBatch], None]
ScreenFn = Callable[[Sequence["Pending"]], list[BaseException | None]]


class GroupCommitter:
    """Commits :class:`Pending` events in shared transactions (see module docstring)."""

    def __init__(
        self,
        save: SaveFn,
        *,
        max_batch: int = 256,
        max_wait: float = 0.002,
        after_commit: Callable[[int], None] | None = None,
        screen: ScreenFn | None = None,
        recorded: Callable[[Sequence[str]], set[str]] | None = None,
    ) -> None:
        self._save = save
        self._screen = screen
        self._recorded = recorded
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._after_commit = after_commit
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._queue: list[Pending] = []
        self._leader_active = False
        self._preparing = 0
        self._thread: threading.Thread | None = None
        self.transactions = 0
        """Transactions committed so far (with ``events``: the mean group size)."""
        self.events = 0

    @contextmanager
    def preparing(self) -> Iterator[None]:
        """Mark an append that is being verified and will be committed soon.

        While some are, the leader waits a little (at most ``max_wait``) so they join its
        transaction: fewer, larger transactions. A lone writer never waits.
        """
        with self._lock:
            self._preparing += 1
        try:
            yield
        finally:
            with self._lock:
                self._preparing -= 1
                self._arrived.notify_all()

    def commit(self, item: Pending) -> AppendOutcome:
        """Block until ``item`` is durably committed; return its outcome or raise its error."""
        self.wait(item)
        return item.result()

    def wait(self, item: Pending) -> None:
        """Block until ``item`` is committed or refused (see :meth:`Pending.result`)."""
        with self._lock:
            self._queue.append(item)
            self._arrived.notify_all()
            lead = not self._leader_active
            if lead:
                self._leader_active = True
        if lead:
            self._lead()
        item.done.wait()

    def submit(self, item: Pending) -> None:
        """Queue ``item`` without blocking; its ``waiter`` is woken once it is committed
        or refused. A dedicated committer thread leads these commits (started on first use),
        so an event loop can hand events over and await them."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="group-committer", daemon=True
                )
                self._thread.start()
            self._queue.append(item)
            self._arrived.notify_all()

    def _serve(self) -> None:
        """The dedicated committer thread: lead whenever something is queued and no caller
        thread is leading already."""
        while True:
            with self._lock:
                while not self._queue or self._leader_active:
                    self._arrived.wait()
                self._leader_active = True
            self._lead()

    def _lead(self) -> None:
        while True:
            with self._lock:
                self._wait_for_stragglers()
                batch = self._take_batch()
                if not batch:
                    self._leader_active = False
                    # Hand over: the committer thread may be waiting for the flag to drop.
                    self._arrived.notify_all()
                    return
            batch = self._screened(batch)
            if not batch:
                continue
            self._commit_batch(batch)
            sizes = [p.outcome.tree_size for p in batch if p.outcome is not None]
            if sizes and self._after_commit is not None:
                # The events are durable whatever happens here: a failure (e.g. a checkpoint
                # that could not be issued, retried next time) must neither fail the appends
                # nor leave the leader flag set.
                try:
                    self._after_commit(max(sizes))
                except Exception:
                    log.exception("after-commit hook failed at tree size %d", max(sizes))

    def _screened(self, batch: list[Pending]) -> list[Pending]:
        """Fail at once the events the business rules refuse, so that they do not roll back
        the transaction of the others; the rest go on to be committed."""
        if self._screen is None:
            return batch
        try:
            errors = self._screen(batch)
        except Exception:  # screening is advisory: the transaction decides anyway
            log.exception("screening failed; committing the batch unscreened")
            return batch
        kept: list[Pending] = []
        for item, error in zip(batch, errors, strict=True):
            if error is None:
                kept.append(item)
            else:
                item.error = error
                item.finish()
        return kept

    def _wait_for_stragglers(self) -> None:
        deadline = time.monotonic() + self._max_wait
        while self._preparing and len(self._queue) < self._max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._arrived.wait(remaining)

    def _take_batch(self) -> list[Pending]:
        """Events authorised against the same registry version; a registry event goes alone
        (it changes what the events after it may do)."""
        if not self._queue:
            return []
        first = self._queue[0]
        if first.is_registry:
            return [self._queue.pop(0)]
        n = 1
        while (
            n < len(self._queue)
            and n < self._max_batch
            and not self._queue[n].is_registry
            and self._queue[n].registry_version == first.registry_version
        ):
            n += 1
        batch, self._queue[:n] = self._queue[:n], []
        return batch

    def _commit_batch(self, batch: Sequence[Pending], *, triaged: bool = False) -> None:
        try:
            self._save_items(batch)
        except Exception as e:  # noqa: BLE001 - every failure is handed to its waiter
            if len(batch) == 1:
                batch[0].error = e
            elif not triaged and self._recorded is not None:
                rest = self._without_retries(batch, e)
                if rest:
                    self._commit_batch(rest, triaged=True)
            else:
                for item in batch:
                    self._commit_batch([item])
                return
        finally:
            finish_all([item for item in batch if item.outcome is not None or item.error])

    def _without_retries(self, batch: Sequence[Pending], cause: Exception) -> list[Pending]:
        """Fail at once the events already recorded (retries: their waiters then fetch the
        original receipt) and return the rest, to be committed together again. Without this
        a burst of retries would turn every shared transaction into one per event."""
        assert self._recorded is not None
        try:
            done = self._recorded([p.event_id for p in batch])
        except Exception:  # the check is an optimisation; fall back to one by one
            log.exception("could not look up recorded event ids")
            return list(batch)
        rest = []
        for item in batch:
            if item.event_id in done:
                item.error = cause
                item.finish()
            else:
                rest.append(item)
        return rest

    def _save_items(self, batch: Sequence[Pending]) -> None:
        first = batch[0]
        ledger_batch = AppendBatch(
            event_ids=[p.event_id for p in batch],
            registry_version=first.registry_version,
            registry_events=sum(p.is_registry for p in batch),
        )
        self._save([p.event for p in batch], ledger_batch)
        self.transactions += 1
        self.events += len(batch)
        for item, outcome in zip(batch, ledger_batch.outcomes, strict=True):
            item.outcome = outcome
        for item, receipt in zip(batch, ledger_batch.receipts, strict=False):
            item.receipt = receipt
