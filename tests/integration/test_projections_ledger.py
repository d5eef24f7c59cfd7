"""Projections over real ledgers (SQLite file and PostgreSQL schema).

Events are real signed envelopes written to the ledger's store in log order. They go to the
store directly (``registry_version=None``) rather than through ``LedgerService.append``:
the subject here is the read side, and the business rules being wired into the append path
would otherwise make these tests depend on every step of W1/W2/W5 being modelled. The
append path has its own tests.
"""

from __future__ import annotations

import threading
import time

import orjson
import pytest

from ledger.projections import Follower, FundLedgerProjection, ProjectionStore, RosterProjection
from ledger.projections.errors import ProjectionBehindError, QueryError
from ledger.projections.events import decode
from ledger.projections.scenario import Scenario
from ledger.projections.sql import projections_path
from ledger.store.records import AppendBatch, LedgerEvent, stream_uuid
from tests.conftest import LedgerWorld


def append(world: LedgerWorld, scenario: Scenario) -> list[int]:
    """Write the scenario's pending envelopes; their log indexes."""
    envelopes, scenario.envelopes = scenario.envelopes, []
    start = world.service.store.log.head().size
    events, ids = [], []
    for raw in envelopes:
        env = orjson.loads(raw)
        ids.append(env["event_id"])
        events.append(
            LedgerEvent(
                stream_uuid(env["stream_type"], env["stream_id"]),
                env["expected_version"] + 1,
                env["event_type"],
                raw,
            )
        )
    world.service.store.append(events, AppendBatch(ids, registry_version=None))
    return list(range(start, start + len(envelopes)))


@pytest.fixture
def store(world: LedgerWorld):
    s = ProjectionStore.open(world.settings)
    yield s
    s.close()


def test_termination_as_known_before_and_at_its_index(world: LedgerWorld, store) -> None:
    s = Scenario(signer=world.admin, seed=11)
    s.define_programme()
    e1, e2 = s.enrol(township="town-1", village="v-1"), s.enrol(township="town-2", village="v-2")
    s.propose(e1)
    append(world, s)
    s.decide(e1, effective="2024-06")
    (decided,) = append(world, s)
    follower = Follower(store, world.service.store.log, page_size=3)
    assert follower.catch_up() == decided + 1

    before = store.roster(as_known_at_position=decided - 1)
    after = store.roster(as_known_at_position=decided)
    status = lambda page: {r.enrolment_id: r.status for r in page.rows}  # noqa: E731
    assert status(before) == {e1: "TERMINATION_PENDING", e2: "ACTIVE"}
    assert status(after) == {e1: "TERMINATED", e2: "ACTIVE"}
    assert before.state_hash != after.state_hash
    assert after.state_hash == store.roster().state_hash  # nothing changed since
    assert [r.known_to for r in before.rows] == [None, None]  # the future is not leaked

    # The same through time: the decision's recorded_at resolves to its index.
    entry = world.service.store.log.entry_at(decided)
    assert entry is not None
    assert store.index_at_time(entry.recorded_at) == decided
    by_time = store.roster(as_known_at_time=entry.recorded_at)
    assert status(by_time) == status(after)
    assert store.roster(as_known_at_time="2000-01-01T00:00:00+08:00").rows == []

    # As effective at a period: payable from 2024-02 up to 2024-05.
    assert {r.enrolment_id for r in store.roster(as_effective_at="2024-05").rows} == {e1, e2}
    assert {r.enrolment_id for r in store.roster(as_effective_at="2024-06").rows} == {e2}
    assert store.roster(as_effective_at="2024-01").rows == []
    # Township or village.
    assert [r.enrolment_id for r in store.roster(org_id="v-2").rows] == [e2]
    assert [r.enrolment_id for r in store.roster(org_id="town-1").rows] == [e1]

    with pytest.raises(ProjectionBehindError):
        store.roster(as_known_at_position=decided + 1)
    with pytest.raises(QueryError):
        store.roster(as_effective_at="2024-13")


def test_keyset_pages_cover_the_roster_once(world: LedgerWorld, store) -> None:
    s = Scenario(signer=world.admin, seed=12)
    s.define_programme()
    enrolled = sorted(s.enrol() for _ in range(23))
    append(world, s)
    Follower(store, world.service.store.log).catch_up()
    seen, after = [], None
    while True:
        page = store.roster(limit=5, after=after)
        seen += [r.enrolment_id for r in page.rows]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == enrolled


def test_fund_ledger_as_known_at_and_identity(world: LedgerWorld, store) -> None:
    s = Scenario(signer=world.admin, seed=13)
    acct = s.open_account()
    s.receive(acct, 1_000_000, s.appropriate(acct, 1_000_000))
    batch, lines = s.prepare(acct, ["e1", "e2", "e3"], amount=100_000)
    s.approve(batch, lines)
    (approved,) = append(world, s)[-1:]
    s.settle(batch, lines[0], 100_000)
    s.fail(batch, lines[1])
    s.settle("batch-unknown", "line-unknown", 5)
    append(world, s)
    Follower(store, world.service.store.log, page_size=2).catch_up()

    (then,) = store.fund_ledger(acct, as_known_at_position=approved)
    assert (then.committed_unsettled_fen, then.available_fen) == (300_000, 700_000)
    (now,) = store.fund_ledger(acct)
    assert (now.committed_unsettled_fen, now.settled_fen, now.failed_fen) == (
        100_000,
        100_000,
        100_000,
    )
    assert now.available_fen == now.computed_available() == 800_000
    assert store.fund_ledger(as_known_at_position=0) == []  # before the account was opened


def test_incremental_equals_rebuild_and_memory_on_a_real_log(world: LedgerWorld, store) -> None:
    s = Scenario(signer=world.admin, seed=14)
    s.define_programme()
    for i in range(300):
        s.random_step(i * 7919 % 17, i * 31, i * 17)
        if i % 50 == 49:
            append(world, s)
            Follower(store, world.service.store.log, page_size=37).catch_up()
    append(world, s)
    log = world.service.store.log
    Follower(store, log, page_size=37).catch_up()
    incremental = {n: store.state_hash(n) for n in ("roster", "fund_ledger")}

    size = log.head().size
    events = [decode(e) for e in log.entries(0, size)]
    for projection in (RosterProjection(), FundLedgerProjection()):
        state = projection.fold_all(events)
        assert projection.memory_hash(state, size - 1) == incremental[projection.name]
    Follower(store, log).rebuild()
    assert {n: store.state_hash(n) for n in ("roster", "fund_ledger")} == incremental


def test_background_follower_picks_up_new_events(world: LedgerWorld, store) -> None:
    stop = threading.Event()
    thread = Follower(store, world.service.store.log).start(stop, poll_interval=0.02)
    try:
        s = Scenario(signer=world.admin, seed=15)
        s.define_programme()
        e = s.enrol()
        append(world, s)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not store.roster().rows:
            time.sleep(0.02)
        assert [r.enrolment_id for r in store.roster().rows] == [e]
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_sqlite_projections_live_in_their_own_file(sqlite_world: LedgerWorld) -> None:
    store = ProjectionStore.open(sqlite_world.settings)
    store.close()
    path = projections_path(sqlite_world.settings.sqlite_path)
    assert path.exists()
    assert path != sqlite_world.settings.sqlite_path
    assert path.name == "ledger.projections.db"
