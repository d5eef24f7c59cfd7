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
from ledger.integrity.signing import SigningKey, b64encode, read_private_key, write_private_key
from ledger.services.export import export_ledger
from ledger.services.ledger import LedgerService
from ledger.settings import Settings
from ledger.verification import Report, VerifyOptions
from ledger.verification import verify as run_verify
from ledger.verification.engine import print_progress
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
    try:
        report = run_verify(
            source,
            VerifyOptions(
                trusted_checkpoint=trusted,
                verifier_key=args.verifier_key,
                workers=args.workers,
                progress=None if args.json else print_progress,
            ),
        )
    finally:
        source.close()
    if sys.stderr.isatty() and not args.json:
        sys.stderr.write("\n")
    if args.json:
        print(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        _print_report(report)
    return 0 if report.ok else 1


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


def demo(settings: Settings, _: argparse.Namespace) -> int:
    """Initialise (once), register a county office, a clerk and her key, rotate the key and
    register the integrity verifier; then verify, record the verification run as a signed
    event, checkpoint and print. Running it again adds only the new verification run."""
    if not (settings.home / ADMIN_KEY_FILE).exists():
        init_ledger(
            settings,
            origin="ledger.demo.example/city",
            root_org_id="city-gov",
            root_org_name="示范市人民政府",
            admin_actor_id="registry-admin-1",
        )
        print(f"initialised a demo ledger at {settings.database_url}")
    service = open_ledger(settings)
    try:
        if "county-civil-affairs" not in service.registry.organisations:
            _demo_registry(settings, service)
        report = run_verify(open_source(settings, None))
        print(
            f"verification: {'OK' if report.ok else 'DAMAGED'} — {report.size} events, "
            f"{report.checkpoints_checked} checkpoint(s), root {b64encode(report.root)}"
        )
        _record_verification_run(settings, service, report)
        kept = service.issue_checkpoint(force=True)
        assert kept is not None
        print("latest checkpoint (C2SP signed note):")
        sys.stdout.write(kept.note)
    finally:
        service.close()
    return 0 if report.ok else 1


def _record_verification_run(settings: Settings, service: LedgerService, report: Report) -> None:
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


def _demo_registry(settings: Settings, service: object) -> None:
    from ledger.services.ledger import LedgerService

    assert isinstance(service, LedgerService)
    admin = EnvelopeSigner(
        read_private_key(settings.home / ADMIN_KEY_FILE),
        "registry-admin-1",
        REGISTRY_ADMIN,
        "city-gov",
    )
    version = service.registry.version

    def registry(event_type: str, payload: dict[str, object]) -> None:
        nonlocal version
        result = service.append(
            admin.sign(
                event_type=event_type,
                stream_type="registry",
                stream_id="registry",
                expected_version=version,
                payload=payload,
            )
        )
        version += 1
        print(f"  #{result.receipt.index:<3} {event_type:<24} receipt signed by the ledger")

    clerk_key, rotated, verifier = (SigningKey.generate() for _ in range(3))
    for key, name in (
        (clerk_key, "clerk-old.key"),
        (rotated, "clerk.key"),
        (verifier, "verifier.key"),
    ):
        path = settings.home / name
        if not path.exists():
            write_private_key(path, key)
    print("appending signed registry events:")
    registry(
        "OrganisationRegistered",
        {
            "org_id": "county-civil-affairs",
            "kind": "DEPARTMENT",
            "parent_org_id": "city-gov",
            "name": "示范县民政局",
        },
    )
    registry(
        "ActorRegistered",
        {
            "actor_id": "clerk-1",
            "org_id": "county-civil-affairs",
            "kind": "PERSON",
            "person_ref": "staff-0001",
        },
    )
    for key in (clerk_key, rotated):
        registry(
            "SigningKeyRegistered",
            {
                "key_id": key.key_id,
                "algorithm": "Ed25519",
                "public_key": key.public.to_b64(),
                "actor_id": "clerk-1",
            },
        )
    registry("SigningKeyRevoked", {"key_id": clerk_key.key_id, "reason": "ROTATION"})
    registry(
        "ActorRoleGranted",
        {
            "actor_id": "clerk-1",
            "role": "township_intake_clerk",
            "org_id": "county-civil-affairs",
            "include_descendants": True,
        },
    )
    registry(
        "ActorRegistered",
        {"actor_id": "verifier-1", "org_id": "city-gov", "kind": "SYSTEM", "person_ref": None},
    )
    registry(
        "SigningKeyRegistered",
        {
            "key_id": verifier.key_id,
            "algorithm": "Ed25519",
            "public_key": verifier.public.to_b64(),
            "actor_id": "verifier-1",
        },
    )
    registry(
        "ActorRoleGranted",
        {
            "actor_id": "verifier-1",
            "role": "integrity_verifier",
            "org_id": "city-gov",
            "include_descendants": False,
        },
    )
