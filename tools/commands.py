"""The ``ledger`` sub-commands (argument parsing is in :mod:`ledger.tools.cli`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from ledger.bootstrap import ADMIN_KEY_FILE, init_ledger, open_ledger
from ledger.client import EnvelopeSigner
from ledger.domain.catalogue import REGISTRY_ADMIN
from ledger.errors import LedgerError
from ledger.integrity.merkle import Frontier
from ledger.integrity.signing import b64encode, read_private_key
from ledger.services.export import export_ledger
from ledger.services.ledger import LedgerService
from ledger.settings import Settings
from ledger.verification import Report, VerifyOptions
from ledger.verification import verify as run_verify
from ledger.verification.engine import print_progress
from ledger.verification.replay import (
    DeepReport,
    ReplaySummary,
    stored_projection_hashes,
    verify_deep,
)
from ledger.verification.sources import ExportSource, PostgresSource, Source, SQLiteSource


def init(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger init``: keys and genesis; prints the public verifier key, never a private key."""
    result = init_ledger(
        settings,
        origin=args.origin,
        root_org_id=args.root_org,
        root_org_name=args.root_org_name,
        admin_actor_id=args.admin,
    )
    print(f"initialised ledger {result.origin!r} at {settings.database_url}")
    print(f"ledger verifier key (public; give it to auditors): {result.verifier_key}")
    print(f"private keys (0600): {result.ledger_key_path}, {result.admin_key_path}")
    return 0


def append(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger append FILE``: one envelope per line; prints one receipt (or error) per line."""
    service = open_ledger(settings)
    failures = 0
    try:
        stream = sys.stdin.buffer if args.file == "-" else Path(args.file).open("rb")  # noqa: SIM115
        with stream:
            for line in stream:
                if not line.strip():
                    continue
                try:
                    result = service.append(line.strip())
                    print(orjson.dumps(result.receipt.to_dict()).decode())
                except LedgerError as e:
                    failures += 1
                    print(orjson.dumps({"error": e.as_dict()}, default=str).decode())
    finally:
        service.close()
    return 1 if failures else 0


def checkpoint(settings: Settings, _: argparse.Namespace) -> int:
    """``ledger checkpoint``: issue (or re-print) the checkpoint of the current tree."""
    service = open_ledger(settings)
    try:
        kept = service.issue_checkpoint(force=True)
        assert kept is not None
        sys.stdout.write(kept.note)
    finally:
        service.close()
    return 0


def status(settings: Settings, _: argparse.Namespace) -> int:
    """``ledger status``: size, root and the latest checkpoint's size."""
    service = open_ledger(settings, signing=False)
    try:
        head = service.store.log.head()
        latest = service.store.log.latest_checkpoint()
        print(
            orjson.dumps(
                {
                    "origin": service.registry.origin,
                    "size": head.size,
                    "root_hash": b64encode(Frontier.from_bytes(head.frontier).root()),
                    "latest_checkpoint_size": latest.size if latest else None,
                },
                option=orjson.OPT_INDENT_2,
            ).decode()
        )
    finally:
        service.close()
    return 0


def open_source(settings: Settings, export_dir: str | None) -> Source:
    """The verifier's source: an export directory, or the configured database (read-only)."""
    if export_dir:
        return ExportSource(Path(export_dir))
    if settings.backend == "sqlite":
        return SQLiteSource(settings.sqlite_path)
    env = settings.eventsourcing_env()
    return PostgresSource(settings.database_url, schema=env["POSTGRES_SCHEMA"])


def source_from_argument(settings: Settings, argument: str | None, export: str | None) -> Source:
    """``ledger verify [SOURCE]``: a directory is an export, a ``postgresql://`` or
    ``sqlite:///`` URL a database, anything else a SQLite file; none means ``--db``."""
    if argument is None:
        return open_source(settings, export)
    if Path(argument).is_dir():
        return ExportSource(Path(argument))
    if "://" in argument:
        return open_source(Settings(database_url=argument, home=settings.home), None)
    return SQLiteSource(Path(argument))


def verify(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger verify``: exit 0 when clean, 1 on damage (first damaged index is named)."""
    trusted = Path(args.trusted_checkpoint).read_text("utf-8") if args.trusted_checkpoint else None
    source = source_from_argument(settings, args.source, args.export)
    options = VerifyOptions(
        trusted_checkpoint=trusted,
        verifier_key=args.verifier_key,
        workers=args.workers,
        progress=None if args.json else print_progress,
    )
    deep: DeepReport | None = None
    try:
        if args.replay:
            stored = {} if args.source or args.export else stored_projection_hashes(settings)
            deep = verify_deep(source, options, stored=stored)
            report = deep.report
        else:
            report = run_verify(source, options)
    finally:
        source.close()
    if sys.stderr.isatty() and not args.json:
        sys.stderr.write("\n")
    if args.json:
        answer = deep.as_dict() if deep is not None else report.as_dict()
        print(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())
    else:
        _print_report(report)
        if deep is not None:
            _print_replay(deep.replay)
    return 0 if report.ok else 1


def _print_replay(summary: ReplaySummary) -> None:
    compared = ", ".join(summary.projections_compared) or "none stored"
    print(
        f"replay (V8-V11): {summary.decisions_replayed} decisions re-decided, "
        f"{summary.samples_redrawn} spot-check samples re-drawn, "
        f"stored projections compared: {compared}"
    )


def _print_report(report: object) -> None:
    from ledger.verification import Report

    assert isinstance(report, Report)
    if report.ok:
        print(
            f"OK: {report.size} events, {report.checkpoints_checked} checkpoint(s) verified "
            f"in {report.seconds:.2f}s; root {b64encode(report.root)}"
        )
        return
    first = report.first
    assert first is not None
    where = f"log index {first.index}" if first.index is not None else "the log"
    print(f"DAMAGED: {first.damage.value} at {where}: {first.detail}")
    for finding in report.findings:
        if finding is not first:
            print(f"  also {finding.damage.value} at {finding.index}: {finding.detail}")


def export(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger export DIR``."""
    service = open_ledger(settings, signing=False)
    try:
        manifest = export_ledger(service, Path(args.directory))
    finally:
        service.close()
    print(orjson.dumps(manifest, option=orjson.OPT_INDENT_2).decode())
    return 0


def prove(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger prove inclusion INDEX SIZE`` / ``ledger prove consistency OLD NEW``."""
    service = open_ledger(settings, signing=False)
    try:
        if args.kind == "inclusion":
            entry = service.store.log.entry_at(args.first)
            proof = service.inclusion_proof(args.first, args.second)
            out = {
                "index": args.first,
                "tree_size": args.second,
                "leaf_hash": b64encode(entry.leaf_hash) if entry else None,
                "proof": [b64encode(h) for h in proof],
            }
        else:
            proof = service.consistency_proof(args.first, args.second)
            out = {
                "old_size": args.first,
                "new_size": args.second,
                "proof": [b64encode(h) for h in proof],
            }
    finally:
        service.close()
    print(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
    return 0


def serve(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger serve``: run the HTTP API under uvicorn with ``args.workers`` processes."""
    import os
    from urllib.parse import urlsplit

    import uvicorn

    from ledger.api.server import server_options

    # Workers are separate processes that build the app from the environment (the app
    # factory), so --db/--home travel to them as LEDGER_* variables; the key directory is made
    # absolute in case a worker's working directory differs.
    os.environ["LEDGER_DATABASE_URL"] = settings.database_url
    os.environ["LEDGER_HOME"] = str(settings.home.resolve())
    options = server_options(access_log=args.access_log)
    if not (settings.home / ADMIN_KEY_FILE).exists():
        print(f"warning: no keys in {settings.home}: the API answers 503 until `ledger init`")
    url = f"http://{args.host}:{args.port}"
    parts = urlsplit(settings.database_url)
    shown_db = settings.database_url
    if parts.password:  # never print a database password
        shown_db = shown_db.replace(f":{parts.password}@", ":***@", 1)
    print(
        f"ledger API on {url} ({shown_db}, {args.workers} worker(s), "
        f"{options['http']} + {options['loop']})"
    )
    print(f"  API docs: {url}/docs   health: {url}/healthz")
    print(f"  check the ledger at any time: ledger --db {shown_db} verify")
    uvicorn.run(
        "ledger.api.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        **options,
    )
    return 0


def demo(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger demo``: see :mod:`ledger.tools.demo`."""
    from ledger.tools.demo import run_demo

    return run_demo(settings, args)


def identity_keys(settings: Settings, _: argparse.Namespace) -> int:
    """``ledger identity-keys``: create the identity registry's two keys (0600, never in the
    database)."""
    from ledger.identity import IdentityKeys

    IdentityKeys.create(settings.home)
    print(f"identity keys (0600) written to {settings.home}")
    return 0


def identity_erase(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger identity-erase PERSON --reason R``: record the erasure in the ledger, then
    destroy the person's readable identity (finishing any interrupted erasure first)."""
    from ledger.identity import IdentityKeys, IdentityRegistry

    admin = EnvelopeSigner(
        read_private_key(settings.home / ADMIN_KEY_FILE), args.admin, REGISTRY_ADMIN, args.org
    )
    service = open_ledger(settings)
    try:
        with IdentityRegistry.open(settings, IdentityKeys.load(settings.home)) as registry:
            registry.resume_erasures(service, admin)
            receipt = registry.erase(args.person_id, args.reason, service, admin)
    except LedgerError as e:
        print(f"refused: {e}", file=sys.stderr)
        return 1
    finally:
        service.close()
    print(
        f"erased the identity of {receipt.person_id}: event {receipt.event_id} "
        f"at log index {receipt.log_index}"
    )
    return 0


def project(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger project [--rebuild]``: bring every projection and the case index up to date
    with the log (or rebuild them from zero) and print the projections' state hashes."""
    from ledger.projections.case_index import CaseIndex
    from ledger.projections.follower import Follower
    from ledger.projections.store import ProjectionStore

    service = open_ledger(settings, signing=False)
    store = ProjectionStore.open(settings)
    index = CaseIndex.open(settings)
    try:
        follower = Follower(store, service.store.log)
        applied = follower.rebuild() if args.rebuild else follower.catch_up()
        print(f"{applied} log entries folded")
        for name in store.projections:
            print(f"  {name}: state hash {store.state_hash(name)}")
        if args.rebuild:
            index.reset()
        indexed = index.catch_up(service.store.log)
        print(f"  case index: {indexed} log entries indexed, at position {index.position()}")
    finally:
        index.close()
        store.close()
        service.close()
    return 0


def record_verification_run(settings: Settings, service: LedgerService, report: Report) -> None:
    """The run is itself an event (domain.md §8), signed by the verifier's own key."""
    verifier = EnvelopeSigner(
        read_private_key(settings.home / "verifier.key"),
        "verifier-1",
        "integrity_verifier",
        "city-gov",
    )
    first = report.first
    run_id = f"run-{service.store.log.head().size}"
    result = service.append(
        verifier.sign(
            event_type="IntegrityVerificationRun",
            stream_type="verification",
            stream_id=run_id,
            expected_version=0,
            payload={
                "run_id": run_id,
                "tree_size": report.size,
                "root_hash": b64encode(report.root),
                "result": "PASS" if report.ok else "FAIL",
                "findings_count": len(report.findings),
                "first_damage_kind": first.damage.value if first else None,
                "first_damage_index": first.index if first else None,
            },
        )
    )
    print(f"  #{result.receipt.index:<3} IntegrityVerificationRun recorded, signed by verifier-1")
