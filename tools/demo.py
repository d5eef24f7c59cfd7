"""``ledger demo``: the product's main job on the embedded default (one SQLite file).

1. initialise the ledger once (keys 0600 in ``--home``; genesis in the log);
2. write the demo year once (:mod:`ledger.tools.demo_city`: one city, three counties, every
   programme, the funds and a year of target-management assessment): identities go to the
   encrypted identity registry, only pseudonymous ids and keyed hashes into the log;
3. bring the projections up to date and print what they show;
4. run the audit-finding detectors (none on this clean year);
5. verify the whole ledger including the invariant, projection, formula and spot-check
   replay (V1-V11), record the verification run as a signed event, issue a checkpoint;
6. serve the HTTP API on 127.0.0.1 (unless ``--no-serve``), saying where to look and how to
   verify.

Running it again adds nothing but a new verification run and checkpoint.
"""

from __future__ import annotations

import argparse
import sys

from ledger.bootstrap import ADMIN_KEY_FILE, init_ledger, open_ledger
from ledger.client import actor_onboarding
from ledger.identity import IdentityKeys, IdentityRegistry
from ledger.integrity.signing import SigningKey, b64encode, read_private_key, write_private_key
from ledger.projections.follower import Follower
from ledger.projections.funds import FundRow
from ledger.projections.store import ProjectionStore
from ledger.services.findings import FindingsService
from ledger.services.ledger import LedgerService
from ledger.settings import Settings
from ledger.tools.demo_city import CitySummary, write_city_year
from ledger.tools.scenario import Desk, new_admin_desk
from ledger.verification.replay import stored_projection_hashes, verify_deep

ROOT_ORG = "city-gov"
ADMIN_ACTOR = "registry-admin-1"
DEMO_COUNTY = "county-hx"
VERIFIER_ACTOR = "verifier-1"
VERIFIER_KEY_FILE = "verifier.key"


def run_demo(settings: Settings, args: argparse.Namespace) -> int:
    """See module docstring; returns the process exit code."""
    from ledger.tools.commands import open_source, record_verification_run

    _initialise(settings)
    service = open_ledger(settings)
    try:
        if DEMO_COUNTY not in service.registry.organisations:
            summary = _write(settings, service)
            _print_summary(summary)
        else:
            print(f"demo data already present in {settings.database_url}: nothing added")
        _show_projections(settings, service)
        _run_detectors(service)
        source = open_source(settings, None)
        try:
            deep = verify_deep(source, stored=stored_projection_hashes(settings))
        finally:
            source.close()
        report = deep.report
        print(
            f"verification (V1-V11): {'OK' if report.ok else 'DAMAGED'}: {report.size} events, "
            f"{report.checkpoints_checked} checkpoint(s), {deep.replay.decisions_replayed} "
            f"decisions re-decided, root {b64encode(report.root)}"
        )
        record_verification_run(settings, service, report)
        kept = service.issue_checkpoint(force=True)
        assert kept is not None
        print("latest checkpoint (C2SP signed note):")
        sys.stdout.write(kept.note)
    finally:
        service.close()
    if not report.ok:
        return 1
    if getattr(args, "no_serve", False):
        return 0
    from ledger.tools.commands import serve

    return serve(settings, args)


def _initialise(settings: Settings) -> None:
    if (settings.home / ADMIN_KEY_FILE).exists():
        return
    init_ledger(
        settings,
        origin="ledger.demo.example/city",
        root_org_id=ROOT_ORG,
        root_org_name="示范市人民政府",
        admin_actor_id=ADMIN_ACTOR,
    )
    IdentityKeys.create(settings.home)
    print(f"initialised a demo ledger at {settings.database_url} (keys in {settings.home})")


def _write(settings: Settings, service: LedgerService) -> CitySummary:
    print("writing the demo year (one city, three counties, every programme, assessment)...")
    desk = new_admin_desk(
        lambda raw: service.append(raw).receipt,
        read_private_key(settings.home / ADMIN_KEY_FILE),
        ADMIN_ACTOR,
        ROOT_ORG,
        service.registry.version,
    )
    with IdentityRegistry.open(settings, IdentityKeys.load(settings.home)) as identities:

        def identity(person_id: str, name: str, id_number: str) -> str:
            return identities.register(person_id, name, id_number).identity_hmac

        summary = write_city_year(desk, identity)
    _register_verifier(settings, desk)
    return summary


def _register_verifier(settings: Settings, desk: Desk) -> None:
    """The periodic integrity script is an actor too: its runs are signed events."""
    key = SigningKey.generate()
    write_private_key(settings.home / VERIFIER_KEY_FILE, key)
    for event_type, payload in actor_onboarding(
        VERIFIER_ACTOR, ROOT_ORG, key, ["integrity_verifier"], kind="SYSTEM"
    ):
        desk.registry(event_type, payload)


def _print_summary(summary: CitySummary) -> None:
    print(summary)


def _run_detectors(service: LedgerService) -> None:
    findings = FindingsService(service)
    findings.catch_up()
    found = findings.detectors.findings()
    print(f"audit-finding detectors: {len(found)} finding(s)")
    for finding in found[:10]:
        print(f"  {finding}")


def _show_projections(settings: Settings, service: LedgerService) -> None:
    projections = ProjectionStore.open(settings)
    try:
        applied = Follower(projections, service.store.log).catch_up()
        page = projections.roster(status="ACTIVE", limit=10_000)
        funds = projections.fund_ledger()
    finally:
        projections.close()
    print(f"projections: {applied} new log entries folded; {len(page.rows)} active beneficiaries")
    for fund in funds:
        print(f"  fund {_fund_line(fund)}")


def _fund_line(fund: FundRow) -> str:
    return (
        f"{fund.fund_account_id}: received {fund.received_fen / 100:,.2f} 元, "
        f"settled {fund.settled_fen / 100:,.2f} 元, available {fund.available_fen / 100:,.2f} 元"
    )
