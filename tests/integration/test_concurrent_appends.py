"""Concurrent appends never fork or gap the tree, on a real SQLite file and a real PostgreSQL.

* threads sharing one ``LedgerService`` (group commit);
* separate OS processes, each with its own service, on the same database;
* several services in one process (PostgreSQL);
* an append racing a key revocation never lands after the revocation.

Every check reads the log back and recomputes leaves and roots, verifies each receipt with
the ledger key, and runs the independent verifier.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson
import pytest

from ledger.bootstrap import open_ledger
from ledger.client import EnvelopeSigner
from ledger.errors import SignatureRejectedError
from ledger.integrity.envelope import leaf_bytes
from ledger.integrity.merkle import Frontier, leaf_hash
from ledger.integrity.receipt import Receipt, receipt_from_dict
from ledger.integrity.signing import VerifyKey, b64encode
from ledger.services.ledger import LedgerService
from ledger.settings import Settings
from ledger.verification import verify
from ledger.verification.sources import PostgresSource, Source, SQLiteSource
from tests.conftest import LedgerWorld

TIMEOUT = 120


# ------------------------------------------------------------------------------ helpers


def verification_run(signer: EnvelopeSigner, stream_id: str) -> bytes:
    """A signed ``IntegrityVerificationRun`` opening its own stream."""
    return signer.sign(
        event_type="IntegrityVerificationRun",
        stream_type="verification",
        stream_id=stream_id,
        expected_version=0,
        payload={
            "run_id": stream_id,
            "tree_size": 1,
            "root_hash": b64encode(bytes(32)),
            "result": "PASS",
            "findings_count": 0,
            "first_damage_kind": None,
            "first_damage_index": None,
        },
    )


def ledger_key(service: LedgerService) -> VerifyKey:
    b64 = service.registry.ledger_public_key
    assert b64 is not None
    return VerifyKey.from_b64(b64)


def open_source(settings: Settings) -> Source:
    if settings.backend == "sqlite":
        return SQLiteSource(settings.sqlite_path)
    schema = parse_qs(urlparse(settings.database_url).query)["schema"][0]
    return PostgresSource(settings.database_url, schema=schema)


def assert_verifier_ok(settings: Settings) -> None:
    source = open_source(settings)
    try:
        report = verify(source)
    finally:
        source.close()
    assert report.ok, report.as_dict()
    assert report.size > 0


def assert_log_and_receipts(service: LedgerService, receipts: Sequence[Receipt]) -> None:
    """The log is gap-free with correct leaves/roots, and every receipt is in it, unforked."""
    head = service.store.log.head()
    entries = service.store.log.entries(0, head.size + 100)
    assert [e.index for e in entries] == list(range(head.size)), "log has a gap or extra rows"
    frontier = Frontier()
    for e in entries:
        leaf = leaf_hash(leaf_bytes(e.state, e.index, e.recorded_at))
        assert e.leaf_hash == leaf, f"leaf hash mismatch at {e.index}"
        frontier.append(leaf)
        assert e.root == frontier.root(), f"root mismatch at {e.index}"
    assert head.frontier == frontier.to_bytes()
    key = ledger_key(service)
    indexes = [r.index for r in receipts]
    assert len(set(indexes)) == len(indexes), "two receipts share a log index"
    for r in receipts:
        r.verify(key)
        entry = entries[r.index]
        assert entry.event_id == r.event_id
        assert entry.leaf_hash == r.leaf_hash
        assert entry.recorded_at == r.recorded_at
        # The root the receipt committed to is the root of this very tree at that size:
        # a fork would give the same index two different roots.
        assert r.tree_size == r.index + 1
        assert entry.root == r.root_hash


def run_threads(targets: Sequence[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "an appending thread hung"


def append_all(
    service: LedgerService,
    raws: Sequence[bytes],
    start: threading.Barrier,
    receipts: list[Receipt],
    errors: list[BaseException],
) -> Callable[[], None]:
    def work() -> None:
        try:
            start.wait(TIMEOUT)
            for raw in raws:
                receipts.append(service.append(raw).receipt)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread, which fails
            errors.append(e)

    return work


class CountingSave:
    """Wraps the committer's save to record how many events each transaction carried."""

    def __init__(self, service: LedgerService) -> None:
        committer: Any = service._committer
        self._inner = committer._save
        self.sizes: list[int] = []
        committer._save = self

    def __call__(self, events: list[Any], batch: Any) -> None:
        self._inner(events, batch)
        self.sizes.append(len(events))


# ------------------------------------------------------------------------ (a) threads


def test_threads_share_one_service_with_group_commit(world: LedgerWorld) -> None:
    signer = world.add_actor("verifier-1", org_id="county-a", role="integrity_verifier")
    before = world.service.store.log.head().size
    n_threads, per_thread = 8, 25
    raws = [
        [verification_run(signer, f"t{t}-{i}") for i in range(per_thread)] for t in range(n_threads)
    ]
    counting = CountingSave(world.service)
    receipts: list[Receipt] = []
    errors: list[BaseException] = []
    start = threading.Barrier(n_threads)
    run_threads(
        [append_all(world.service, raws[t], start, receipts, errors) for t in range(n_threads)]
    )

    assert errors == []
    total = n_threads * per_thread
    assert len(receipts) == total
    assert sorted(r.index for r in receipts) == list(range(before, before + total))
    assert world.service.store.log.head().size == before + total
    assert_log_and_receipts(world.service, receipts)

    # Group commit happened: one transaction carried several events, and they share the
    # transaction's recorded_at in the log.
    assert sum(counting.sizes) == total
    assert max(counting.sizes) > 1, counting.sizes
    entries = world.service.store.log.entries(before, total)
    per_instant: dict[str, int] = {}
    for e in entries:
        per_instant[e.recorded_at] = per_instant.get(e.recorded_at, 0) + 1
    assert max(per_instant.values()) > 1
    assert len(per_instant) <= len(counting.sizes)
    assert_verifier_ok(world.settings)


# ---------------------------------------------------------------------- (b) processes


def _process_writer(settings: Settings, raws: list[bytes], start: Any, out: Any) -> None:
    """Child process: its own service on the same database, appending ``raws`` in order."""
    service = open_ledger(settings)
    try:
        start.wait(TIMEOUT)
        receipts = [service.append(raw).receipt.to_dict() for raw in raws]
        out.put(("ok", orjson.dumps(receipts)))
    except BaseException as e:
        out.put(("error", repr(e)))
        raise
    finally:
        service.close()


def test_separate_processes_do_not_fork_the_tree(world: LedgerWorld) -> None:
    signer = world.add_actor("verifier-1", org_id="county-a", role="integrity_verifier")
    before = world.service.store.log.head().size
    n_procs, per_proc = 3, 40
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(n_procs)
    out = ctx.Queue()
    procs = [
        ctx.Process(
            target=_process_writer,
            args=(
                world.settings,
                [verification_run(signer, f"p{p}-{i}") for i in range(per_proc)],
                start,
                out,
            ),
        )
        for p in range(n_procs)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=TIMEOUT) for _ in procs]
    for p in procs:
        p.join(TIMEOUT)
        assert p.exitcode == 0
    assert [status for status, _ in results] == ["ok"] * n_procs, results

    receipts = [receipt_from_dict(d) for _, blob in results for d in orjson.loads(blob)]
    total = n_procs * per_proc
    assert len(receipts) == total
    assert sorted(r.index for r in receipts) == list(range(before, before + total))
    assert world.service.store.log.head().size == before + total
    assert_log_and_receipts(world.service, receipts)
    assert_verifier_ok(world.settings)


# ------------------------------------------------------------ (c) services in one process


@pytest.mark.postgres
def test_several_services_in_one_process(pg_url: str, tmp_path: Any) -> None:
    from tests.conftest import make_world

    world = make_world(pg_url, tmp_path / "home")
    services: list[LedgerService] = []
    try:
        signer = world.add_actor("verifier-1", org_id="county-a", role="integrity_verifier")
        before = world.service.store.log.head().size
        services = [open_ledger(world.settings) for _ in range(3)]
        n_threads, per_thread = 3, 15
        receipts: list[Receipt] = []
        errors: list[BaseException] = []
        start = threading.Barrier(len(services) * n_threads)
        targets = [
            append_all(
                service,
                [verification_run(signer, f"s{s}-t{t}-{i}") for i in range(per_thread)],
                start,
                receipts,
                errors,
            )
            for s, service in enumerate(services)
            for t in range(n_threads)
        ]
        run_threads(targets)

        assert errors == []
        total = len(targets) * per_thread
        assert sorted(r.index for r in receipts) == list(range(before, before + total))
        for service in [world.service, *services]:
            assert service.store.log.head().size == before + total
        assert_log_and_receipts(world.service, receipts)
        assert_verifier_ok(world.settings)
    finally:
        for service in services:
            service.close()
        world.service.close()


@pytest.mark.postgres
def test_services_opened_at_once_on_postgres(pg_url: str, tmp_path: Any) -> None:
    """Many processes (here: sessions) starting together all get a working service.

    Regression: the library's CREATE OR REPLACE FUNCTION, run by every opener, failed with
    "tuple concurrently updated" when two sessions ran it at once.
    """
    from tests.conftest import make_world

    world = make_world(pg_url, tmp_path / "home")
    try:
        errors: list[BaseException] = []
        opened: list[int] = []
        for _ in range(3):
            start = threading.Barrier(8)

            def open_one(start: threading.Barrier = start) -> None:
                try:
                    start.wait(TIMEOUT)
                    service = open_ledger(world.settings)
                    opened.append(service.store.log.head().size)
                    service.close()  # each holds a pool of connections
                except BaseException as e:  # noqa: BLE001 - the test asserts none
                    errors.append(e)

            run_threads([open_one] * 8)
        assert errors == []
        assert opened == [world.service.store.log.head().size] * 24
        assert_verifier_ok(world.settings)
    finally:
        world.service.close()


# ------------------------------------------------------------ (d) racing a revocation


def test_append_racing_revocation_never_lands_after_it(world: LedgerWorld) -> None:
    signer = world.add_actor("verifier-1", org_id="county-a", role="integrity_verifier")
    key_id = signer.key.key_id
    # The revocation goes through a second service: the appending service's registry cache
    # is stale when it lands, so only the in-transaction registry check can stop the race.
    admin_side = open_ledger(world.settings)
    try:
        n_threads, per_thread = 4, 60
        raws = [
            [verification_run(signer, f"r{t}-{i}") for i in range(per_thread)]
            for t in range(n_threads)
        ]
        accepted: list[Receipt] = []
        rejected: list[BaseException] = []
        others: list[BaseException] = []
        enough = threading.Event()
        revocation: list[Receipt] = []
        start = threading.Barrier(n_threads + 1)

        def appender(mine: list[bytes]) -> Callable[[], None]:
            def work() -> None:
                start.wait(TIMEOUT)
                for raw in mine:
                    try:
                        accepted.append(world.service.append(raw).receipt)
                    except SignatureRejectedError as e:
                        rejected.append(e)
                    except BaseException as e:  # noqa: BLE001 - the test asserts none
                        others.append(e)
                    if len(accepted) >= 20:
                        enough.set()

            return work

        def revoker() -> None:
            try:
                start.wait(TIMEOUT)
                assert enough.wait(TIMEOUT)
                raw = world.admin.sign(
                    event_type="SigningKeyRevoked",
                    stream_type="registry",
                    stream_id="registry",
                    expected_version=admin_side.registry.version,
                    payload={"key_id": key_id, "reason": "COMPROMISE"},
                )
                revocation.append(admin_side.append(raw).receipt)
            except BaseException as e:  # noqa: BLE001 - the test asserts none
                others.append(e)

        run_threads([*(appender(r) for r in raws), revoker])

        assert others == []
        assert len(revocation) == 1
        revoked_at = revocation[0].index
        assert len(accepted) + len(rejected) == n_threads * per_thread
        # The race really happened: some appends got in before, some were refused after.
        assert accepted and rejected
        assert all(getattr(e, "evidence", {}).get("reason") == "revoked_key" for e in rejected)
        assert all(r.index < revoked_at for r in accepted), (
            revoked_at,
            max(r.index for r in accepted),
        )

        # Read the log itself: nothing signed by the revoked key after the revocation.
        head = world.service.store.log.head()
        signed_by_key = [
            e.index
            for e in world.service.store.log.entries(0, head.size + 1)
            if orjson.loads(e.state)["key_id"] == key_id
        ]
        assert len(signed_by_key) == len(accepted)
        assert max(signed_by_key) < revoked_at
        assert_log_and_receipts(world.service, [*accepted, *revocation])
        assert_verifier_ok(world.settings)

        # And afterwards the key stays refused.
        with pytest.raises(SignatureRejectedError):
            world.service.append(verification_run(signer, "after"))
    finally:
        admin_side.close()
