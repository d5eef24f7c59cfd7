"""Group commit semantics, with a fake save standing in for the database."""

from __future__ import annotations

import threading
import time
import uuid

from ledger.services.committer import GroupCommitter, Pending
from ledger.store.records import AppendBatch, AppendOutcome, LedgerEvent


class FakeStore:
    """Commits slowly (like an fsync) and fails any batch containing a poisoned event."""

    def __init__(self, poisoned: set[str] | None = None) -> None:
        self.transactions: list[list[str]] = []
        self.poisoned = poisoned or set()
        self.size = 0
        self.lock = threading.Lock()

    def save(self, events: list[LedgerEvent], batch: AppendBatch) -> None:
        time.sleep(0.002)
        if self.poisoned & set(batch.event_ids):
            raise RuntimeError("conflict")
        with self.lock:
            self.transactions.append(list(batch.event_ids))
            batch.outcomes = []
            for event_id in batch.event_ids:
                batch.outcomes.append(
                    AppendOutcome(event_id, self.size, "t", b"", self.size + 1, b"")
                )
                self.size += 1


def _pending(event_id: str, registry: bool = False, version: int = 0) -> Pending:
    return Pending(LedgerEvent(uuid.uuid4(), 1, "X", b"{}"), event_id, version, registry)


def _submit_all(committer: GroupCommitter, items: list[Pending]) -> dict[str, object]:
    results: dict[str, object] = {}

    def run(item: Pending) -> None:
        try:
            results[item.event_id] = committer.commit(item)
        except Exception as e:  # noqa: BLE001
            results[item.event_id] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_submitters_share_transactions() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save)

    results = _submit_all(committer, [_pending(f"e{i}") for i in range(40)])

    assert all(isinstance(r, AppendOutcome) for r in results.values())
    assert sorted(r.index for r in results.values()) == list(range(40))  # type: ignore[union-attr]
    assert len(store.transactions) < 40


def test_a_failing_event_fails_alone() -> None:
    store = FakeStore(poisoned={"e7"})
    committer = GroupCommitter(store.save)

    results = _submit_all(committer, [_pending(f"e{i}") for i in range(20)])

    assert isinstance(results["e7"], RuntimeError)
    assert sum(isinstance(r, AppendOutcome) for r in results.values()) == 19


def test_registry_events_commit_alone_and_versions_do_not_mix() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save)
    items = [
        _pending("r1", registry=True),
        *[_pending(f"a{i}", version=1) for i in range(5)],
        *[_pending(f"b{i}", version=2) for i in range(5)],
    ]

    _submit_all(committer, items)

    for transaction in store.transactions:
        assert "r1" not in transaction or transaction == ["r1"]
        assert len({t[0] for t in transaction}) == 1


def test_a_lone_writer_commits_inline() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save)

    outcome = committer.commit(_pending("solo"))

    assert outcome.index == 0
    assert store.transactions == [["solo"]]


def test_an_error_after_commit_does_not_wedge_the_committer() -> None:
    store = FakeStore()
    calls = []

    def after_commit(size: int) -> None:
        calls.append(size)
        if len(calls) == 1:
            raise RuntimeError("checkpoint store down")

    committer = GroupCommitter(store.save, after_commit=after_commit)

    assert committer.commit(_pending("one")).index == 0  # durable: reported as committed
    assert committer.commit(_pending("two")).index == 1
    assert calls == [1, 2]
