"""The ``ledger`` command: init, append, checkpoint, status, verify, export, prove, serve,
project, identity-keys, identity-erase, demo."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError
from ledger.settings import Settings, SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ledger`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(
            database_url=args.db, home=Path(args.home) if args.home else None
        )
        return int(args.run(settings, args))
    except (LedgerError, SettingsError, FileNotFoundError, FileExistsError) as e:
        print(f"ledger: {e}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    from ledger.findings import cli as findings_cli
    from ledger.tools import commands

    parser = argparse.ArgumentParser(prog="ledger", description=__doc__)
    parser.add_argument(
        "--db", help="database URL (default: $LEDGER_DATABASE_URL or sqlite:///ledger.db)"
    )
    parser.add_argument("--home", help="key directory (default: $LEDGER_HOME or .ledger)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create the ledger: keys (0600) and the genesis event")
    p.add_argument(
        "--origin", required=True, help="checkpoint origin, e.g. ledger.gov.example/city"
    )
    p.add_argument("--root-org", default="city-gov", help="root organisation id")
    p.add_argument("--root-org-name", default="City People's Government")
    p.add_argument("--admin", default="registry-admin-1", help="first administrator's actor id")
    p.set_defaults(run=commands.init)

    p = sub.add_parser("append", help="append signed envelopes (one JSON per line) from a file")
    p.add_argument("file", help="file of envelopes, or - for standard input")
    p.set_defaults(run=commands.append)

    p = sub.add_parser("checkpoint", help="issue and print a signed checkpoint now")
    p.set_defaults(run=commands.checkpoint)

    p = sub.add_parser("status", help="size, root and latest checkpoint")
    p.set_defaults(run=commands.status)

    p = sub.add_parser("verify", help="verify a ledger database or export; exit 1 on damage")
    p.add_argument(
        "source",
        nargs="?",
        help="a SQLite file, a postgresql:// URL or an export directory (default: --db)",
    )
    p.add_argument("--export", help="verify an export directory instead of the database")
    p.add_argument("--trusted-checkpoint", help="a checkpoint note kept outside the ledger")
    p.add_argument("--verifier-key", help="pin the ledger's C2SP verifier key")
    p.add_argument("--workers", type=int, default=0, help="worker processes (default: cores)")
    p.add_argument(
        "--replay",
        action="store_true",
        help="also replay the log through the rules, projections, formulas and spot-check "
        "draws (V8-V11)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    p.set_defaults(run=commands.verify)

    p = sub.add_parser(
        "export",
        help="write the raw log and checkpoints to a directory, or one case's evidence bundle",
    )
    p.add_argument("directory", nargs="?")
    p.add_argument("--case", help="subject id: write its offline evidence bundle instead")
    p.add_argument("--out", help="the bundle file (with --case)")
    p.set_defaults(run=_audit().export)

    p = sub.add_parser("prove", help="print an RFC 9162 inclusion or consistency proof")
    p.add_argument("kind", choices=["inclusion", "consistency"])
    p.add_argument("first", type=int, help="leaf index, or old tree size")
    p.add_argument("second", type=int, help="tree size, or new tree size")
    p.set_defaults(run=commands.prove)

    p = sub.add_parser("serve", help="run the HTTP API (uvicorn; see /docs)")
    _server_options(p)
    p.set_defaults(run=commands.serve)

    p = sub.add_parser(
        "demo",
        help="initialise a demo ledger with a county's year of 特困 support (once), verify, "
        "checkpoint, then serve the API",
    )
    _server_options(p)
    p.add_argument("--no-serve", action="store_true", help="stop after verifying")
    p.set_defaults(run=commands.demo)

    _add_operations(sub, commands)
    _add_audit(sub)
    findings_cli.add_parser(sub)
    return parser


def _add_operations(sub: Any, commands: Any) -> None:
    """Projections and the identity registry."""
    p = sub.add_parser("project", help="bring the roster and fund-ledger projections up to date")
    p.add_argument("--rebuild", action="store_true", help="drop them and fold the log from zero")
    p.set_defaults(run=commands.project)

    p = sub.add_parser("identity-keys", help="create the identity registry's keys (0600)")
    p.set_defaults(run=commands.identity_keys)

    p = sub.add_parser(
        "identity-erase", help="erase a person's identity (records PersonIdentityErased)"
    )
    p.add_argument("person_id")
    p.add_argument(
        "--reason", required=True, choices=["RETENTION_EXPIRED", "LEGAL_REQUEST", "ERROR"]
    )
    p.add_argument("--admin", default="registry-admin-1", help="registry administrator actor")
    p.add_argument("--org", default="city-gov", help="the administrator's organisation")
    p.set_defaults(run=commands.identity_erase)


def _audit() -> Any:
    from ledger.audit import commands as audit

    return audit


def _add_audit(sub: Any) -> None:
    """Decision replay, case timelines and offline evidence bundles."""
    audit = _audit()
    p = sub.add_parser("replay", help="replay a decision: re-derive it, signers, proofs")
    p.add_argument("event_id")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(run=audit.replay)

    p = sub.add_parser("timeline", help="every event touching a subject, in log order")
    p.add_argument("subject_id")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(run=audit.timeline)

    p = sub.add_parser("verify-bundle", help="verify a case evidence bundle offline")
    p.add_argument("file")
    p.add_argument("--verifier-key", help="pin the ledger's C2SP verifier key")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(run=audit.verify_bundle)


def _server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="worker processes (each its own service)")
    p.add_argument("--access-log", action="store_true", help="log every request (off: faster)")


if __name__ == "__main__":
    raise SystemExit(main())
