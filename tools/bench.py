"""``ledger-bench``: raw building blocks and the ledger, measured in one run, as ratios.

Prints a table and writes JSON (default ``bench-results/bench-<time>.json``). Every ledger
figure is reported against a raw baseline measured in the same run on the same machine, with
the target from the issue. Durability is the same for baselines and ledger: SQLite WAL with
``synchronous=FULL``; PostgreSQL with ``fsync`` on.

Usage: ``python -m ledger.tools.bench [--quick] [--no-postgres] [--only core|http|projections|audit]
[--out FILE]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from ledger.bootstrap import init_ledger, open_ledger
from ledger.client import EnvelopeSigner
from ledger.domain.catalogue import REGISTRY_ADMIN
from ledger.integrity.signing import SigningKey, b64encode, read_private_key
from ledger.settings import Settings

PARTS = ("core", "http", "projections", "audit")
"""Benchmark parts: the ledger core (appends, verifier), HTTP, projections, and the auditor's
side (replay, bundles, deep verification: :mod:`ledger.tools.bench_audit`)."""
PG_BASE = os.environ.get("LEDGER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Row:
    """One line of the results table."""

    group: str
    measure: str
    value: float
    unit: str
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None


def _median_rate(run: Callable[[], tuple[int, float]], repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        n, seconds = run()
        rates.append(n / seconds)
    return statistics.median(rates)


# ---------------------------------------------------------------------------- raw baselines


def bench_crypto(seconds: float) -> tuple[float, float]:
    """Ed25519 sign and verify per second on one core (300-byte message)."""
    key = SigningKey.generate()
    public = key.public
    message = os.urandom(300)
    signature = key.sign(message)

    def sign() -> tuple[int, float]:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(200):
                key.sign(message)
            n += 200
        return n, time.perf_counter() - start

    def verify() -> tuple[int, float]:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(100):
                public.verify(signature, message)
            n += 100
        return n, time.perf_counter() - start

    return _median_rate(sign, 3), _median_rate(verify, 3)


def bench_sqlite_raw(directory: Path, synchronous: str, seconds: float) -> float:
    """Raw SQLite inserts per second, one transaction per row, WAL."""
    path = directory / f"raw-{synchronous}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
    body = os.urandom(700)

    def run() -> tuple[int, float]:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO t (body) VALUES (?)", (body,))
            conn.execute("COMMIT")
            n += 1
        return n, time.perf_counter() - start

    rate = _median_rate(run, 3)
    conn.close()
    return rate


def bench_pg_raw(seconds: float) -> float:
    """Raw PostgreSQL inserts per second, one transaction per row."""
    import psycopg

    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        table = f"bench_raw_{uuid.uuid4().hex[:8]}"
        conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, body bytea)")
        body = os.urandom(700)
        try:

            def run() -> tuple[int, float]:
                n, start = 0, time.perf_counter()
                while time.perf_counter() - start < seconds:
                    with conn.transaction():
                        conn.execute(f"INSERT INTO {table} (body) VALUES (%s)", (body,))
                    n += 1
                return n, time.perf_counter() - start

            return _median_rate(run, 3)
        finally:
            conn.execute(f"DROP TABLE {table}")


class _PlainStream(Aggregate):
    """The baseline aggregate: one event carrying the same envelope the ledger stores."""

    @event("Appended")
    def __init__(self, envelope: dict[str, Any]) -> None:
        self.envelope = envelope


def bench_plain_eventsourcing(env: dict[str, str], envelope: dict[str, Any], n: int) -> float:
    """A plain ``eventsourcing`` save of one new aggregate per call, carrying the same
    envelope as its event state, one durable commit per save."""
    app: Application[Any] = Application(env=env)
    start = time.perf_counter()
    for _ in range(n):
        app.save(_PlainStream(envelope))
    rate = n / (time.perf_counter() - start)
    app.close()
    return rate


# ---------------------------------------------------------------------------- the ledger


def _payload(i: int) -> dict[str, Any]:
    return {
        "run_id": f"run-{i}",
        "tree_size": i,
        "root_hash": b64encode(os.urandom(32)),
        "result": "PASS",
        "findings_count": 0,
        "first_damage_kind": None,
        "first_damage_index": None,
    }


def _signed(key_bytes: bytes, count: int, prefix: str) -> list[bytes]:
    signer = EnvelopeSigner(
        SigningKey.from_private_bytes(key_bytes), "verifier-1", "integrity_verifier", "county-a"
    )
    return [
        signer.sign(
            event_type="IntegrityVerificationRun",
            stream_type="verification",
            stream_id=f"{prefix}-{i}",
            expected_version=0,
            payload=_payload(i),
        )
        for i in range(count)
    ]


def make_ledger(url: str, home: Path) -> tuple[Settings, bytes]:
    """An initialised ledger with one actor allowed to append; returns its key bytes."""
    settings = Settings(database_url=url, home=home, checkpoint_every=10_000)
    init_ledger(
        settings,
        origin="bench.example/ledger",
        root_org_id="city",
        root_org_name="City",
        admin_actor_id="admin-1",
    )
    service = open_ledger(settings)
    admin = EnvelopeSigner(read_private_key(home / "admin.key"), "admin-1", REGISTRY_ADMIN, "city")
    key = SigningKey.generate()
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "OrganisationRegistered",
            {"org_id": "county-a", "kind": "GOVERNMENT", "parent_org_id": "city", "name": "A"},
        ),
        (
            "ActorRegistered",
            {"actor_id": "verifier-1", "org_id": "county-a", "kind": "SYSTEM", "person_ref": None},
        ),
        (
            "SigningKeyRegistered",
            {
                "key_id": key.key_id,
                "algorithm": "Ed25519",
                "public_key": key.public.to_b64(),
                "actor_id": "verifier-1",
            },
        ),
        (
            "ActorRoleGranted",
            {
                "actor_id": "verifier-1",
                "role": "integrity_verifier",
                "org_id": "county-a",
                "include_descendants": False,
            },
        ),
    ]
    for event_type, payload in events:
        service.append(
            admin.sign(
                event_type=event_type,
                stream_type="registry",
                stream_id="registry",
                expected_version=service.registry.version,
                payload=payload,
            )
        )
    service.close()
    return settings, key.private_bytes()


def bench_ledger_single(settings: Settings, key: bytes, n: int) -> float:
    """Signed appends per second, one process, one event per durable commit."""
    raws = _signed(key, n, f"single-{uuid.uuid4().hex[:6]}")
    service = open_ledger(settings)
    start = time.perf_counter()
    for raw in raws:
        service.append(raw)
    rate = n / (time.perf_counter() - start)
    service.close()
    return rate


def _concurrent_worker(  # noqa: PLR0917 - a multiprocessing target takes positional args
    settings: Settings, key: bytes, threads: int, per_thread: int, ready: Any, go: Any, out: Any
) -> None:
    sys.setswitchinterval(float(os.environ.get("LEDGER_SWITCH", "0.005")))
    raws = _signed(key, threads * per_thread, f"conc-{uuid.uuid4().hex[:6]}")
    service = open_ledger(settings)
    chunks = [raws[i::threads] for i in range(threads)]

    def submit(chunk: list[bytes]) -> None:
        for raw in chunk:
            service.append(raw)

    workers = [threading.Thread(target=submit, args=(c,)) for c in chunks]
    ready.set()
    go.wait()
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put(
        (
            len(raws),
            start,
            time.perf_counter(),
            (*service.group_commit_stats(), round(usage.ru_utime, 2), round(usage.ru_stime, 2)),
        )
    )
    service.close()


def bench_ledger_concurrent(settings: Settings, key: bytes, per_thread: int) -> float:
    """32 concurrent submitters over 2 processes (16 threads each), group commit."""
    ctx = mp.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    readies = [ctx.Event() for _ in range(2)]
    procs = [
        ctx.Process(target=_concurrent_worker, args=(settings, key, 16, per_thread, r, go, out))
        for r in readies
    ]
    for p in procs:
        p.start()
    for r in readies:
        r.wait()
    go.set()
    results: list[tuple[int, float, float, tuple[float, ...]]] = [out.get() for _ in procs]
    for p in procs:
        p.join()
    total = sum(r[0] for r in results)
    if os.environ.get("LEDGER_BENCH_DEBUG"):
        print("per process (transactions, events, user s, sys s):", [r[3] for r in results])
    return total / (max(r[2] for r in results) - min(r[1] for r in results))


def bulk_fill(settings: Settings, key: bytes, total: int) -> None:
    """Fill a ledger quickly for the verifier benchmarks: envelopes signed in 2 processes,
    committed in transactions of 1,000 through the integrity recorder (no shortcut around
    the tree; authorisation was checked by construction: one registered actor and role)."""
    from ledger.services.ledger import LedgerService
    from ledger.store.records import AppendBatch, LedgerEvent, stream_uuid

    service: LedgerService = open_ledger(settings)
    version = service.registry.version
    batch_size, done = 1000, 0
    tag = uuid.uuid4().hex[:8]  # fresh stream ids when a ledger is filled more than once
    with mp.get_context("spawn").Pool(2) as pool:
        while done < total:
            count = min(20_000, total - done)
            half = count // 2
            parts = pool.starmap(
                _signed,
                [(key, half, f"bulk-{tag}-{done}-a"), (key, count - half, f"bulk-{tag}-{done}-b")],
            )
            raws = parts[0] + parts[1]
            for i in range(0, len(raws), batch_size):
                chunk = [orjson.loads(r) for r in raws[i : i + batch_size]]
                events = [
                    LedgerEvent(
                        stream_uuid("verification", e["stream_id"]), 1, e["event_type"], raws[i + j]
                    )
                    for j, e in enumerate(chunk)
                ]
                service.store.append(events, AppendBatch([e["event_id"] for e in chunk], version))
            done += count
    service.issue_checkpoint()
    service.close()


def bench_verifier(url: str, workers: int) -> tuple[int, float, int]:
    """Run ``ledger verify`` in a subprocess; returns (events, seconds, peak RSS KiB)."""
    import subprocess

    code = (
        "import resource,sys,time\n"
        "from ledger.tools.commands import open_source\n"
        "from ledger.settings import Settings\n"
        "from ledger.verification import verify, VerifyOptions\n"
        f"s=Settings(database_url={url!r})\n"
        "src=open_source(s,None); t=time.perf_counter()\n"
        f"r=verify(src, VerifyOptions(workers={workers}))\n"
        "dt=time.perf_counter()-t\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child started by
        # a big parent would report the parent's size.
        "me=[int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "kids=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(r.ok, r.size, dt, me, kids)\n"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code, no outside input
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    if out[0] != "True":
        msg = f"benchmark ledger did not verify: {out}"
        raise RuntimeError(msg)
    return int(out[1]), float(out[2]), max(int(out[3]), int(out[4]))


# ---------------------------------------------------------------------------- orchestration


def _pg_url() -> str | None:
    try:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_BASE, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        return f"{PG_BASE}?schema={schema}"
    except Exception:  # noqa: BLE001 - no server: PostgreSQL rows are skipped and say so
        return None


def _drop_pg(url: str) -> None:
    import psycopg

    schema = url.rsplit("schema=", 1)[1]
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _es_env(url: str, directory: Path) -> dict[str, str]:
    """Stock eventsourcing persistence on the same database (SQLite: compile-default
    synchronous, FULL on this platform, reported in the table header)."""
    if url.startswith("sqlite"):
        path = directory / f"plain-{uuid.uuid4().hex[:6]}.db"
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    env = Settings(database_url=url).eventsourcing_env()
    return env | {"PERSISTENCE_MODULE": "eventsourcing.postgres"}


def run(quick: bool, with_postgres: bool, parts: frozenset[str] = frozenset(PARTS)) -> list[Row]:
    """Measure the selected ``parts`` (see :data:`PARTS`); every ratio's baseline is measured
    in this same run."""
    rows: list[Row] = []
    seconds = 0.5 if quick else 1.5
    tmp = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    try:
        measures: list[tuple[str, Callable[[], list[Row]]]] = [
            ("core", lambda: _bench_core(tmp, quick, with_postgres, seconds)),
            ("http", lambda: _bench_http(tmp, 3.0 if quick else 8.0)),
            ("projections", lambda: _bench_projections(tmp, quick, with_postgres)),
            ("audit", lambda: _bench_audit(tmp, quick)),
        ]
        for name, measure in measures:
            if name in parts:
                part = measure()
                rows += part
                # Printed as each part finishes, so a long run's results are never lost.
                print(_table(part), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def _bench_audit(tmp: Path, quick: bool) -> list[Row]:
    from ledger.tools.bench_audit import bench_audit  # it imports this module's helpers

    return bench_audit(tmp, quick)


def _bench_core(tmp: Path, quick: bool, with_postgres: bool, seconds: float) -> list[Row]:
    """Raw building blocks, the append path on each backend, and the verifier."""
    n_single = 300 if quick else 2000
    per_thread = 40 if quick else 250
    sizes = (20_000, 200_000) if quick else (100_000, 1_000_000)
    sign_rate, verify_rate = bench_crypto(seconds)
    rows = [
        Row("raw", "Ed25519 sign (1 core)", sign_rate, "ops/s"),
        Row("raw", "Ed25519 verify (1 core)", verify_rate, "ops/s"),
    ]
    for sync in ("FULL", "NORMAL"):
        rows.append(
            Row(
                "raw",
                f"SQLite insert, 1 row/txn, WAL, synchronous={sync}",
                bench_sqlite_raw(tmp, sync, seconds),
                "rows/s",
            )
        )
    pg = _pg_url() if with_postgres else None
    if pg:
        rows.append(
            Row("raw", "PostgreSQL insert, 1 row/txn (fsync on)", bench_pg_raw(seconds), "rows/s")
        )
    backends = [("SQLite", f"sqlite:///{tmp / 'ledger.db'}")] + ([("PostgreSQL", pg)] if pg else [])
    sample = orjson.loads(_signed(SigningKey.generate().private_bytes(), 1, "x")[0])
    for name, url in backends:
        rows += _bench_backend(
            name,
            url,
            tmp=tmp,
            sample=sample,
            n_single=n_single,
            per_thread=per_thread,
            sign_rate=sign_rate,
            verify_rate=verify_rate,
        )
    rows += _bench_verifier(tmp, sizes, verify_rate)
    if pg:
        _drop_pg(pg)
    return rows


def _bench_projections(tmp: Path, quick: bool, with_postgres: bool) -> list[Row]:
    """Projection catch-up vs raw log reading, and roster query latency vs history.

    10,000 active beneficiaries need at least ~25,000 events of history (an application and
    an enrolment each, then payments), so the small history is 25,000 events, the smallest
    that holds them; the large one is 1,000,000 (200,000 with ``--quick``).
    """
    from ledger.projections.bench import benchmark_catch_up

    small, large = 25_000, (200_000 if quick else 1_000_000)
    results = {}
    for n in (small, large):
        settings = Settings(database_url=f"sqlite:///{tmp / f'proj-{n}.db'}", home=tmp)
        results[n] = benchmark_catch_up(settings, n, active=10_000, queries=2000)
    catch_ups = [("SQLite", r) for r in results.values()]
    pg = _pg_url() if with_postgres else None
    if pg:
        r = benchmark_catch_up(Settings(database_url=pg, home=tmp), 100_000, active=10_000)
        _drop_pg(pg)
        catch_ups.append(("PostgreSQL", r))
    rows: list[Row] = []
    for backend, r in catch_ups:
        rows.append(
            Row(
                "projection",
                f"catch-up roster+funds, {backend}, {r['events']:,} events",
                r["projection_events_per_s"],
                "events/s",
                "read + decode the raw log",
                r["ratio"],
                ">= 0.30",
                r["ratio"] >= 0.30,
            )
        )
        # For information only (no target): every default projection, so the roster+funds
        # ratio is not read as the cost of the whole read side.
        rows.append(
            Row(
                "projection",
                f"catch-up all projections, {backend}, {r['events']:,} events",
                r["all_projections_events_per_s"],
                "events/s",
                "read + decode the raw log",
                r["all_projections_ratio"],
            )
        )
    for kind, label in (("current", "current"), ("known_at", "as known at mid-log")):
        for r in results.values():
            rows.append(
                Row(
                    "projection",
                    f"roster page p99 {label}, {r['events']:,} ev "
                    f"(p50 {r[f'roster_{kind}_p50_ms']:.2f} ms)",
                    r[f"roster_{kind}_p99_ms"],
                    "ms",
                    f"{r['roster_rows']:,} beneficiaries on the roster",
                )
            )
        ratio = results[large][f"roster_{kind}_p99_ms"] / results[small][f"roster_{kind}_p99_ms"]
        rows.append(
            Row(
                "projection",
                f"roster p99 {label}, {large:,} vs {small:,} events",
                ratio,
                "x",
                f"p99 at {small:,} events",
                ratio,
                "<= 2",
                ratio <= 2,
            )
        )
    return rows


def _bench_backend(
    name: str,
    url: str,
    *,
    tmp: Path,
    sample: dict[str, Any],
    n_single: int,
    per_thread: int,
    sign_rate: float,
    verify_rate: float,
) -> list[Row]:
    plain = bench_plain_eventsourcing(_es_env(url, tmp), sample, n_single)
    settings, key = make_ledger(url, tmp / f"home-{name}")
    single = bench_ledger_single(settings, key, n_single)
    concurrent = bench_ledger_concurrent(settings, key, per_thread)
    irreducible = 1 / plain + 1 / verify_rate + 1 / sign_rate
    per_event_ratio = (1 / single) / irreducible
    rows = [
        Row(name, "plain eventsourcing save, 1 event/commit", plain, "events/s"),
        Row(name, "ledger append, 1 event/commit, 1 process", single, "events/s"),
        Row(
            name,
            "ledger per-event time vs save+verify+sign",
            per_event_ratio,
            "x",
            "plain save + Ed25519 verify + sign",
            per_event_ratio,
            "<= 1.5",
            per_event_ratio <= 1.5,
        ),
        Row(
            name,
            "ledger append, 32 submitters / 2 processes",
            concurrent,
            "events/s",
            "ledger single-writer rate",
            concurrent / single,
            ">= 3",
            concurrent / single >= 3,
        ),
    ]
    if name == "SQLite":
        rows.insert(
            2,
            Row(
                name,
                "ledger append rate vs plain save",
                single,
                "events/s",
                "plain eventsourcing save",
                single / plain,
                ">= 0.60",
                single / plain >= 0.6,
            ),
        )
    return rows


def _bench_verifier(tmp: Path, sizes: tuple[int, int], verify_rate: float) -> list[Row]:
    rows: list[Row] = []
    peaks = []
    for size in sizes:
        url = f"sqlite:///{tmp / f'verify-{size}.db'}"
        settings, key = make_ledger(url, tmp / f"home-verify-{size}")
        bulk_fill(settings, key, size)
        events, secs, peak = bench_verifier(url, workers=2)
        peaks.append(peak)
        rate = events / secs
        rows.append(
            Row(
                "verifier",
                f"verify {events:,} events, 2 cores",
                rate,
                "events/s",
                "2 x raw 1-core Ed25519 verify",
                rate / (2 * verify_rate),
                ">= 0.70",
                rate / (2 * verify_rate) >= 0.7,
            )
        )
        rows.append(Row("verifier", f"peak RSS verifying {events:,} events", peak / 1024, "MiB"))
        (tmp / f"verify-{size}.db").unlink()
    ratio = peaks[1] / peaks[0]
    rows.append(
        Row(
            "verifier",
            f"peak memory {sizes[1]:,} vs {sizes[0]:,} events",
            ratio,
            "x",
            f"peak at {sizes[0]:,}",
            ratio,
            "<= 1.5",
            ratio <= 1.5,
        )
    )
    return rows


def _bench_http(tmp: Path, seconds: float) -> list[Row]:
    """Signed appends over a real uvicorn vs the raw FastAPI POST, 1 and 2 workers."""
    from ledger.tools import bench_http

    if not bench_http.wrk_available():
        print("wrk is not on PATH (Debian package wrk): HTTP rows skipped", file=sys.stderr)
        return []
    rows: list[Row] = []
    for workers in (1, 2):
        raw = bench_http.bench_raw_baseline(workers, seconds, tmp)
        rows.append(
            Row(
                "HTTP",
                f"raw FastAPI POST 1 KB JSON, {workers} worker(s)",
                raw.requests_per_second,
                "req/s",
            )
        )
        url = f"sqlite:///{tmp / f'http-{workers}.db'}"
        settings, key = make_ledger(url, tmp / f"home-http-{workers}")
        ledger = bench_http.bench_ledger_http(
            settings,
            key,
            workers=workers,
            seconds=seconds,
            workdir=tmp,
            expected_rate=raw.requests_per_second / 3,
        )
        rate = ledger.events_per_second or 0.0
        ratio = rate / raw.requests_per_second
        rows.append(
            Row(
                "HTTP",
                f"signed appends over HTTP, SQLite, {workers} worker(s), 32 clients",
                rate,
                "events/s",
                "raw FastAPI POST, same options",
                ratio,
                ">= 0.25",
                ratio >= 0.25 and ledger.non_2xx == 0,
            )
        )
    return rows


def _table(rows: list[Row]) -> str:
    lines = [
        f"{'group':<10} {'measure':<52} {'value':>12} {'unit':<9} {'ratio':>7} {'target':<8} ok",
        "-" * 108,
    ]
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
        ok = "" if r.met is None else ("yes" if r.met else "NO")
        lines.append(
            f"{r.group:<10} {r.measure:<52} {r.value:>12,.2f} {r.unit:<9} {ratio:>7} "
            f"{r.target:<8} {ok}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ledger-bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--out", help="JSON output file")
    parser.add_argument(
        "--only", action="append", choices=PARTS, help="run only this part (repeatable)"
    )
    args = parser.parse_args(argv)
    rows = run(args.quick, not args.no_postgres, frozenset(args.only or PARTS))
    print(_table(rows))
    out = Path(args.out or f"bench-results/bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "when": datetime.now(UTC).isoformat(),
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    out.write_bytes(
        orjson.dumps({"meta": meta, "rows": [asdict(r) for r in rows]}, option=orjson.OPT_INDENT_2)
    )
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
