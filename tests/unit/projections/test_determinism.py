"""Storage: incremental = rebuild = in-memory fold (state hashes), and exactly-once resume.

The log is an in-memory list here (the folds and the follower are what is under test); the
integration tests run the same follower against real ledgers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.projections import Follower, FundLedgerProjection, ProjectionStore, RosterProjection
from ledger.projections.events import Event
from ledger.projections.roster import RosterState
from ledger.projections.scenario import Scenario
from ledger.settings import Settings

from .helpers import ListLog, entries_of, events_of

STEPS = st.lists(
    st.tuples(st.integers(0, 16), st.integers(0, 10**6), st.integers(0, 10**6)),
    min_size=1,
    max_size=120,
)
CHUNKS = st.lists(st.integers(1, 40), min_size=1, max_size=8)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def projection_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        return Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}", home=tmp_path)
    url: str = request.getfixturevalue("pg_url")
    return Settings(database_url=url, home=tmp_path)


def scenario_of(steps: list[tuple[int, int, int]], seed: int = 0) -> Scenario:
    s = Scenario(seed=seed)
    s.define_programme()
    for op, a, b in steps:
        s.random_step(op, a, b)
    return s


def memory_hashes(s: Scenario) -> dict[str, str]:
    events = events_of(s)
    last = len(events) - 1
    out = {}
    for projection in (RosterProjection(), FundLedgerProjection()):
        state: Any = projection.fold_all(events)
        out[projection.name] = projection.memory_hash(state, last)
    return out


def stored_hashes(store: ProjectionStore) -> dict[str, str]:
    return {name: store.state_hash(name) for name in ("roster", "fund_ledger")}


def check_incremental_equals_rebuild(
    projection_settings: Settings, steps: list[tuple[int, int, int]], chunks: list[int]
) -> None:
    s = scenario_of(steps)
    log = ListLog(entries_of(s.envelopes))
    expected = memory_hashes(s)
    ProjectionStore.open(projection_settings).reset()
    applied, turn = 0, 0
    while applied < len(log.items):
        # A new store and follower per chunk: a restart between pages must not matter.
        store = ProjectionStore.open(projection_settings)
        follower = Follower(store, log, page_size=chunks[turn % len(chunks)])
        applied += follower.catch_up(max_pages=1 + turn % 3)
        store.close()
        turn += 1
    store = ProjectionStore.open(projection_settings)
    assert store.positions()["roster"] == len(log.items)
    incremental = stored_hashes(store)
    Follower(store, log, page_size=10_000).rebuild()
    assert stored_hashes(store) == incremental == expected
    store.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS, chunks=CHUNKS)
def test_incremental_with_restarts_equals_rebuild_sqlite(
    tmp_path: Path, steps: list[tuple[int, int, int]], chunks: list[int]
) -> None:
    target = Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}", home=tmp_path)
    check_incremental_equals_rebuild(target, steps, chunks)


@pytest.mark.postgres
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS, chunks=CHUNKS)
def test_incremental_with_restarts_equals_rebuild_postgres(
    pg_url: str, tmp_path: Path, steps: list[tuple[int, int, int]], chunks: list[int]
) -> None:
    check_incremental_equals_rebuild(Settings(database_url=pg_url, home=tmp_path), steps, chunks)


class InjectedCrashError(RuntimeError):
    """Raised by the faulty fold below."""


class CrashingRoster(RosterProjection):
    """Raises when it meets the event at ``crash_at`` (after having folded part of a page)."""

    def __init__(self, crash_at: int) -> None:
        self.crash_at = crash_at

    def fold(self, state: RosterState, event: Event) -> None:
        if event.index == self.crash_at:
            raise InjectedCrashError(f"injected crash at {event.index}")
        super().fold(state, event)


def test_crash_mid_page_then_resume_applies_each_event_once(projection_settings: Settings) -> None:
    s = scenario_of([(i * 7 % 17, i * 13, i * 29) for i in range(400)], seed=3)
    log = ListLog(entries_of(s.envelopes))
    crash_at = next(
        e.index
        for e in log.items[len(log.items) * 2 // 3 :]
        if e.event_type in RosterProjection.types
    )
    faulty = ProjectionStore.open(
        projection_settings, [CrashingRoster(crash_at), FundLedgerProjection()]
    )
    with pytest.raises(InjectedCrashError):
        Follower(faulty, log, page_size=50).catch_up()
    # Everything before the failing page is committed; the failing page left no trace.
    assert faulty.positions() == dict.fromkeys(
        ("log_times", "roster", "fund_ledger"), crash_at // 50 * 50
    )
    faulty.close()
    store = ProjectionStore.open(projection_settings, [RosterProjection(), FundLedgerProjection()])
    assert Follower(store, log, page_size=50).catch_up() == len(log.items) - crash_at // 50 * 50
    assert stored_hashes(store) == memory_hashes(s)
    assert Follower(store, log).catch_up() == 0
    store.close()


def test_a_projection_whose_version_changed_is_rebuilt(projection_settings: Settings) -> None:
    s = scenario_of([(i % 17, i, i * 3) for i in range(100)])
    log = ListLog(entries_of(s.envelopes))
    store = ProjectionStore.open(projection_settings)
    Follower(store, log).catch_up()
    store.close()

    class RosterV2(RosterProjection):
        version = 2

    store = ProjectionStore.open(projection_settings, [RosterV2(), FundLedgerProjection()])
    assert store.positions()["roster"] == 0
    assert store.positions()["fund_ledger"] == len(log.items)
    # Only the reset projection re-reads: the others skip what they already folded.
    assert Follower(store, log).catch_up() == len(log.items)
    assert store.state_hash("fund_ledger") == memory_hashes(s)["fund_ledger"]
    store.close()
