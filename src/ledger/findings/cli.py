"""``ledger findings``: run the detectors (``--run``) and list the audit findings register.

Listing brings the projections up to date first, then filters by code, severity, admin
unit, period and status; ``--json`` prints the rows, the log position they are known at and
the projection's state hash.
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson

from ledger.bootstrap import open_ledger
from ledger.projections.findings import FindingFilter, FindingRow, select_findings
from ledger.projections.follower import Follower
from ledger.projections.store import ProjectionStore
from ledger.settings import Settings

STATUSES = ("OPEN", "CONFIRMED", "FALSE_POSITIVE", "REFERRED_TO_DISCIPLINE")


def add_parser(sub: Any) -> None:
    """Add the ``findings`` sub-command to the ``ledger`` parser's sub-parsers."""
    p = sub.add_parser(
        "findings", help="audit findings (domain.md §7): run the detectors, list with filters"
    )
    p.add_argument(
        "--run", dest="detect", action="store_true", help="run the detectors, raise new findings"
    )
    p.add_argument(
        "--follow",
        action="store_true",
        help="keep running the detectors on new log entries until interrupted (Ctrl-C)",
    )
    p.add_argument("--interval", type=float, default=5.0, help="seconds between --follow rounds")
    p.add_argument("--code", help="finding code, e.g. AF-PAY-AFTER-EXIT")
    p.add_argument("--severity", choices=["H", "M", "L"])
    p.add_argument("--unit", help="admin unit (organisation id)")
    p.add_argument("--period", help="YYYY-MM, or YYYY for a whole year")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--as-known-at", type=int, help="log position (inclusive)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=findings)


def findings(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger findings``: see module docstring; exit 0."""
    if args.follow:
        return _follow(settings, args.interval)
    service = open_ledger(settings)
    try:
        if args.detect:
            _run(settings, service, quiet=args.json)
        store = ProjectionStore.open(settings)
        try:
            Follower(store, service.store.log).catch_up()
            page = select_findings(
                store,
                FindingFilter(args.code, args.severity, args.unit, args.period, args.status),
                as_known_at_position=args.as_known_at,
            )
        finally:
            store.close()
    finally:
        service.close()
    if args.json:
        print(
            orjson.dumps(
                {
                    "position": page.position,
                    "state_hash": page.state_hash,
                    "findings": [r.to_json() for r in page.rows],
                }
            ).decode()
        )
        return 0
    print(f"{len(page.rows)} finding(s) as known at log position {page.position}")
    for row in page.rows:
        print(_line(row))
    return 0


def _run(settings: Settings, service: Any, *, quiet: bool) -> None:
    from ledger.services.findings import FindingsService, detector_signer

    result = FindingsService(service, detector_signer(settings, service)).run()
    if not quiet:
        print(
            f"detectors ran to log position {result.position}: "
            f"{len(result.raised)} new finding(s) raised"
        )


def _follow(settings: Settings, interval: float) -> int:
    """Run the detectors incrementally until interrupted."""
    import threading

    from ledger.services.findings import FindingsService, detector_signer

    service = open_ledger(settings)
    stop = threading.Event()
    try:
        findings_service = FindingsService(service, detector_signer(settings, service))
        print(f"following the log for new findings every {interval}s (Ctrl-C to stop)")
        findings_service.follow(stop, interval)
    except KeyboardInterrupt:
        stop.set()
    finally:
        service.close()
    return 0


def _line(row: FindingRow) -> str:
    where = f"{row.admin_unit_id or '-'} {row.period or '-'}"
    return (
        f"{row.finding_id}  {row.severity}  {row.code:<24} {row.status:<22} {where}  {row.summary}"
    )
