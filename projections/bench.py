"""Benchmark: projection catch-up versus reading the raw log, and roster query latency.

``benchmark_catch_up(settings, n_events)`` fills an EMPTY ledger database with a synthetic
programme history of ``n_events`` events (or reuses one this function filled before), then
measures in the same run:

* ``raw_events_per_s`` — ``log.entries(start, page)`` + ``orjson.loads(state)`` of every entry;
* ``projection_events_per_s`` — a rebuild from zero of the roster and the fund ledger only
  (the same reads, plus folding and writing, one transaction per page); ``ratio`` is the
  quotient — the measure the speed target is about;
* roster page latency (``limit`` rows, random keyset start) p50/p99 in ms, current and as
  known at the middle of the log; the state hash of a position is computed once and cached,
  its cold cost is reported as ``state_hash_cold_ms``;
* ``all_projections_events_per_s`` and ``all_projections_ratio`` — a rebuild of every
  default projection (payments, findings, case index, …), for information: it has no target.

The history: ``active`` beneficiaries enrolled (fewer if ``n_events`` is small), then monthly
cycles — batches of 100 lines prepared and approved, one ``PaymentSettled`` per line, about
1 % failed and reissued, 0.5 % of enrolments proposed for termination (half withdrawn, half
terminated and replaced by a new enrolment) and one ``FundReceived`` per month. Events are
written straight to the store in batches (not signed unless ``sign=True``: the subject is the
read side; the ledger is a throwaway).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from ledger.bootstrap import open_store
from ledger.client import EnvelopeSigner
from ledger.errors import LedgerStateError
from ledger.integrity.signing import SigningKey
from ledger.projections.follower import Follower
from ledger.projections.funds import FundLedgerProjection
from ledger.projections.roster import RosterProjection
from ledger.projections.scenario import Scenario
from ledger.projections.store import ProjectionStore
from ledger.settings import Settings
from ledger.store.application import LedgerStore
from ledger.store.records import AppendBatch, LedgerEvent, stream_uuid

LINES_PER_BATCH = 100
WRITE_CHUNK = 1000


def benchmark_catch_up(
    settings: Settings,
    n_events: int,
    *,
    active: int = 10_000,
    page_size: int = 5000,
    queries: int = 300,
    limit: int = 100,
    sign: bool = False,
) -> dict[str, Any]:
    """Run the benchmark described in the module docstring; a JSON-ready dict."""
    store = open_store(settings)
    try:
        size = store.log.head().size
        if size == 0:
            fill_log(store, n_events, active=active, sign=sign)
            size = store.log.head().size
        elif size < n_events:
            msg = f"the ledger has {size} events; give an empty database or one filled here"
            raise LedgerStateError(msg, size=size)
        raw_eps = _raw_read_rate(store, size, page_size)
        result: dict[str, Any] = {
            "backend": settings.backend,
            "events": size,
            "page_size": page_size,
            "raw_events_per_s": round(raw_eps),
        }
        measured = ProjectionStore.open(settings, (RosterProjection(), FundLedgerProjection()))
        try:
            eps = _rebuild_rate(measured, store, page_size)
            result |= {"projection_events_per_s": round(eps), "ratio": round(eps / raw_eps, 3)}
            result |= _query_latencies(measured, size, queries, limit)
        finally:
            measured.close()
        everything = ProjectionStore.open(settings)
        try:
            eps = _rebuild_rate(everything, store, page_size)
        finally:
            everything.close()
        result |= {
            "all_projections_events_per_s": round(eps),
            "all_projections_ratio": round(eps / raw_eps, 3),
        }
    finally:
        store.close()
    return result


def _rebuild_rate(projections: ProjectionStore, store: LedgerStore, page_size: int) -> float:
    """Events per second of a rebuild from zero of ``projections``."""
    follower = Follower(projections, store.log, page_size=page_size)
    start = time.perf_counter()
    applied = follower.rebuild()
    return applied / (time.perf_counter() - start)


def _raw_read_rate(store: LedgerStore, size: int, page_size: int) -> float:
    start = time.perf_counter()
    for first in range(0, size, page_size):
        for entry in store.log.entries(first, page_size):
            orjson.loads(entry.state)
    return size / (time.perf_counter() - start)


def _query_latencies(store: ProjectionStore, size: int, queries: int, limit: int) -> dict[str, Any]:
    ids = [r.enrolment_id for r in store.roster(limit=10_000, with_state_hash=False).rows]
    middle = size // 2
    start = time.perf_counter()
    store.state_hash("roster")
    cold_ms = (time.perf_counter() - start) * 1000
    rng = random.Random(1)  # noqa: S311 - reproducible workload, not security

    def current() -> None:
        store.roster(limit=limit, after=rng.choice(ids))

    def known_at() -> None:
        store.roster(limit=limit, after=rng.choice(ids), as_known_at_position=middle)

    def by_village() -> None:
        store.roster(org_id="village-3", status="ACTIVE", limit=limit, after=rng.choice(ids))

    out: dict[str, Any] = {
        "roster_rows": len(ids),
        "state_hash_cold_ms": round(cold_ms, 2),
    }
    for name, query in (("current", current), ("known_at", known_at), ("village", by_village)):
        p50, p99 = _latency(query, queries)
        out[f"roster_{name}_p50_ms"], out[f"roster_{name}_p99_ms"] = p50, p99
    return out


def _latency(query: Callable[[], None], n: int) -> tuple[float, float]:
    query()  # warm: caches, the state hash of the position
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        query()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return round(statistics.median(samples), 3), round(samples[int(0.99 * (n - 1))], 3)


# --------------------------------------------------------------------------- the history


def fill_log(store: LedgerStore, n_events: int, *, active: int, sign: bool = False) -> None:
    """Append about ``n_events`` synthetic events (see module docstring) straight to the
    store, in transactions of ``WRITE_CHUNK`` events."""
    signer = (
        EnvelopeSigner(SigningKey.generate(), "bench", "registry_admin", "city") if sign else None
    )
    scenario = Scenario(signer=signer, seed=1)
    written = 0
    for _ in _history(scenario, n_events, active):
        if len(scenario.envelopes) >= WRITE_CHUNK:
            written += _flush(store, scenario)
        if written + len(scenario.envelopes) >= n_events:
            break
    _flush(store, scenario)


def _flush(store: LedgerStore, scenario: Scenario) -> int:
    envelopes, scenario.envelopes = scenario.envelopes, []
    if not envelopes:
        return 0
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
    # registry_version=None: no registry check; these bench events bypass the append path.
    store.append(events, AppendBatch(ids, registry_version=None))
    return len(events)


def _history(s: Scenario, n_events: int, active: int) -> Iterator[None]:
    """Yields after each step so the caller can flush and stop at ``n_events``."""
    rng = random.Random(7)  # noqa: S311 - reproducible workload, not security
    s.define_programme()
    account = s.open_account()
    s.receive(account, 10**12, s.appropriate(account, 10**12))
    target = max(1, min(active, (n_events - 10) * 4 // 10))
    for i in range(target):
        s.enrol(township=f"town-{i % 20}", village=f"village-{i % 200}")
        yield
    live = list(s.enrolments)
    while True:
        yield from _month(s, rng, account, live)


def _month(s: Scenario, rng: random.Random, account: str, live: list[str]) -> Iterator[None]:
    s.receive(account, 10**9)
    for first in range(0, len(live), LINES_PER_BATCH):
        batch, lines = s.prepare(account, live[first : first + LINES_PER_BATCH])
        s.approve(batch, lines)
        for line in lines:
            paid = line
            if rng.random() < 0.01:
                s.fail(batch, line)
                paid = s.reissue(batch, line)
            s.settle(batch, paid)
        yield
    for _ in range(max(1, len(live) // 200)):
        victim = rng.randrange(len(live))
        s.propose(live[victim])
        if rng.random() < 0.5:
            s.withdraw(live[victim])
        else:
            s.decide(live[victim])
            live[victim] = s.enrol(
                township=f"town-{victim % 20}", village=f"village-{victim % 200}"
            )
        yield


def main(argv: list[str] | None = None) -> None:
    """``python -m ledger.projections.bench --events 10000 --events 1000000 [--postgres URL]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, action="append", default=[])
    parser.add_argument("--postgres", help="a postgresql:// URL with ?schema= (fresh schema)")
    parser.add_argument("--page-size", type=int, default=5000)
    args = parser.parse_args(argv)
    for n in args.events or [10_000]:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.postgres or f"sqlite:///{Path(tmp) / 'bench.db'}"
            settings = Settings(database_url=url, home=Path(tmp))
            result = benchmark_catch_up(settings, n, page_size=args.page_size)
            print(json.dumps(result))


if __name__ == "__main__":
    main()
