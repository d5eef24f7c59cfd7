"""The auditor's side of the benchmark (issue 5): replay, bundles, deep verification.

Measured in one run, each against a baseline from the same run:

* replaying one decision and exporting one case's evidence bundle on a ledger of 10,000
  events and again after it has grown to 1,000,000 (``--quick``: 100,000): the cost must
  depend on the size of the case, not of the log (target: large / small <= 2);
* a full-log pass of the audit-finding detectors against reading and decoding the raw log
  (target: the detectors' throughput >= 20 % of the raw read's);
* ``ledger verify --replay`` (V1-V11) against the plain verifier (V1-V7, V13) on the same
  ledger (target: <= 3 x its time), on the city demo year alone (every event a business event: the
  worst case for the replay) and on the 10,000-event ledger.

The ledger is the city's demo year of :mod:`ledger.tools.demo_city` (every programme, the
funds and the assessment year; real signatures, registry and business rules), grown with
signed filler events by :func:`ledger.tools.bench.bulk_fill`.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from ledger.bootstrap import ADMIN_KEY_FILE, open_ledger
from ledger.integrity.signing import read_private_key
from ledger.projections.case_index import CaseIndex
from ledger.projections.follower import Follower
from ledger.projections.store import ProjectionStore
from ledger.services.bundles import export_case
from ledger.services.findings import measure_detector_pass
from ledger.services.replay import ReplayService
from ledger.settings import Settings
from ledger.tools.bench import Row, bulk_fill, make_ledger
from ledger.tools.commands import open_source
from ledger.tools.demo_city import write_city_year
from ledger.tools.scenario import new_admin_desk
from ledger.verification import VerifyOptions, verify
from ledger.verification.replay import stored_projection_hashes, verify_deep


def _fake_identity(_person_id: str, _name: str, id_number: str) -> str:
    return hashlib.sha256(id_number.encode()).hexdigest()


def _median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _demo_ledger(tmp: Path) -> tuple[Settings, bytes, str, str]:
    """The city demo year on a fresh SQLite ledger: (settings, filler key, a decision, its case)."""
    settings, key = make_ledger(f"sqlite:///{tmp / 'audit.db'}", tmp / "home-audit")
    service = open_ledger(settings)
    try:
        desk = new_admin_desk(
            lambda raw: service.append(raw).receipt,
            read_private_key(settings.home / ADMIN_KEY_FILE),
            "admin-1",
            "city",
            service.registry.version,
        )
        write_city_year(desk, _fake_identity)
    finally:
        service.close()
    decision = next(v for k, v in desk.event_ids.items() if k.startswith("decision:"))
    case = next(k for k in desk.event_ids if k.startswith("decision:")).split(":", 1)[1]
    return settings, key, decision, case


def _size(settings: Settings) -> int:
    service = open_ledger(settings, signing=False)
    try:
        return int(service.store.log.head().size)
    finally:
        service.close()


def _replay_costs(settings: Settings, decision: str, case: str) -> tuple[float, float, float]:
    """(index catch-up s, replay of one decision s, one-case bundle export s)."""
    service = open_ledger(settings)
    projections = ProjectionStore.open(settings)
    index = CaseIndex.open(settings)
    try:
        started = time.perf_counter()
        Follower(projections, service.store.log).catch_up()
        index.catch_up(service.store.log)
        catch_up = time.perf_counter() - started
        replay = ReplayService(service, index, projections)
        replay_s = _median_seconds(lambda: replay.replay(decision), 5)
        bundle_s = _median_seconds(lambda: orjson.dumps(export_case(replay, case)), 3)
        return catch_up, replay_s, bundle_s
    finally:
        index.close()
        projections.close()
        service.close()


def _verify_pair(settings: Settings) -> tuple[float, float]:
    """(plain verifier s, verifier with V8-V11 s) on the same ledger, 2 worker processes."""

    def plain() -> None:
        source = open_source(settings, None)
        try:
            assert verify(source, VerifyOptions(workers=2)).ok
        finally:
            source.close()

    def deep() -> None:
        source = open_source(settings, None)
        try:
            stored = stored_projection_hashes(settings)
            assert verify_deep(source, VerifyOptions(workers=2), stored=stored).report.ok
        finally:
            source.close()

    return _median_seconds(plain, 3), _median_seconds(deep, 3)


def _detector_rows(settings: Settings, label: str) -> list[Row]:
    """The detectors' full pass vs reading + decoding the raw log (median of 3)."""
    service = open_ledger(settings)
    try:
        timings = [measure_detector_pass(service) for _ in range(3)]
    finally:
        service.close()
    read = statistics.median(t.read_decode_seconds for t in timings)
    detect = statistics.median(t.detector_pass_seconds for t in timings)
    entries = timings[0].entries
    ratio = read / detect
    return [
        Row("audit", f"read + decode the raw log ({label})", entries / read, "events/s"),
        Row(
            "audit",
            f"audit-finding detectors, full pass ({label})",
            entries / detect,
            "events/s",
            "raw read + decode",
            ratio,
            ">= 0.20",
            ratio >= 0.20,
        ),
    ]


def _verify_rows(label: str, plain: float, deep: float) -> list[Row]:
    ratio = deep / plain
    return [
        Row("audit", f"verify V1-V7 ({label})", plain * 1000, "ms"),
        Row(
            "audit",
            f"verify --replay V1-V11 ({label})",
            deep * 1000,
            "ms",
            "plain verifier, same ledger",
            ratio,
            "<= 3.0",
            ratio <= 3.0,
        ),
    ]


def bench_audit(tmp: Path, quick: bool) -> list[Row]:
    """Every row of the auditor's benchmark (see module docstring)."""
    small, large = 10_000, (100_000 if quick else 1_000_000)
    settings, key, decision, case = _demo_ledger(tmp)
    demo_events = _size(settings)
    rows = [Row("audit", "city demo year (business events)", demo_events, "events")]
    _replay_costs(settings, decision, case)  # builds the stored projections for V9
    rows += _verify_rows(f"city year, {demo_events:,} events", *_verify_pair(settings))
    rows += _detector_rows(settings, f"city year, {demo_events:,} events")
    costs: dict[int, tuple[float, float, float]] = {}
    for target in (small, large):
        bulk_fill(settings, key, target - _size(settings))
        costs[target] = _replay_costs(settings, decision, case)
        catch_up, replay_s, bundle_s = costs[target]
        rows.append(Row("audit", f"projections + case index catch-up to {target:,}", catch_up, "s"))
        rows.append(
            Row("audit", f"replay one decision at {target:,} events", replay_s * 1000, "ms")
        )
        rows.append(Row("audit", f"export one case bundle at {target:,}", bundle_s * 1000, "ms"))
        if target == small:
            rows += _verify_rows(f"{small:,} events", *_verify_pair(settings))
            rows += _detector_rows(settings, f"{small:,} events")
    rows += _ratio_rows(costs, small, large)
    return rows


def _ratio_rows(costs: dict[int, tuple[float, float, float]], small: int, large: int) -> list[Row]:
    out = []
    for what, i in (("replay one decision", 1), ("export one case bundle", 2)):
        ratio = costs[large][i] / costs[small][i]
        out.append(
            Row(
                "audit",
                f"{what}: {large:,} vs {small:,} events",
                ratio,
                "x",
                f"same at {small:,}",
                ratio,
                "<= 2.0",
                ratio <= 2.0,
            )
        )
    return out
