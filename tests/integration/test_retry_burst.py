"""A burst of identical retries mixed with new events: every retry gets its original
receipt, every new event is recorded once, on both backends (the group committer sets the
recorded ones aside instead of failing its whole transaction)."""

from __future__ import annotations

import threading

from ledger.services.ledger import AppendResult
from tests.conftest import LedgerWorld


def _run(world: LedgerWorld, n: int, prefix: str) -> list[bytes]:
    signer = world.add_actor(f"verifier-{prefix}", "county-a", "integrity_verifier")
    return [
        signer.sign(
            event_type="IntegrityVerificationRun",
            stream_type="verification",
            stream_id=f"{prefix}-{i}",
            expected_version=0,
            payload={
                "run_id": f"{prefix}-{i}",
                "tree_size": i,
                "root_hash": "A" * 43 + "=",
                "result": "PASS",
                "findings_count": 0,
                "first_damage_kind": None,
                "first_damage_index": None,
            },
        )
        for i in range(n)
    ]


def test_retries_and_new_events_together(world: LedgerWorld) -> None:
    service = world.service
    old = _run(world, 16, "old")
    originals = [service.append(raw) for raw in old]
    new = _run(world, 16, "new")
    results: dict[int, AppendResult] = {}
    lock = threading.Lock()

    def submit(i: int, raw: bytes) -> None:
        result = service.append(raw)
        with lock:
            results[i] = result

    jobs = [*enumerate(old), *((100 + i, raw) for i, raw in enumerate(new))]
    threads = [threading.Thread(target=submit, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    for i, original in enumerate(originals):
        assert results[i].duplicate
        assert results[i].receipt == original.receipt
    fresh = [results[100 + i] for i in range(len(new))]
    assert not any(r.duplicate for r in fresh)
    assert len({r.receipt.index for r in fresh}) == len(new)
    assert service.store.log.head().size == max(r.receipt.index for r in fresh) + 1
