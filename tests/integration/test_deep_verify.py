"""Deep verification V8-V11 on a real year of 特困 support, on SQLite and PostgreSQL.

The clean year replays without a finding and its stored projections equal their rebuilds.
Each kind of damage is then introduced the way it would really arise: a ledger build whose
rules were bypassed (a service opened with no business rules) accepts a payment after
termination and a hand-picked "random" sample; an administrator edits a stored read model.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger.bootstrap import ADMIN_KEY_FILE, LEDGER_KEY_FILE, open_store
from ledger.domain import enrolments
from ledger.domain.model import Rules
from ledger.domain.spot_checks import draw_sample
from ledger.integrity.signing import read_private_key
from ledger.projections import Follower, ProjectionStore
from ledger.projections.sql import Database
from ledger.services.ledger import LedgerService
from ledger.tools.commands import open_source
from ledger.tools.demo_data import DemoSummary, write_demo
from ledger.tools.scenario import Desk, new_admin_desk
from ledger.verification import Damage
from ledger.verification.replay import DeepReport, stored_projection_hashes, verify_deep
from tests.conftest import LedgerWorld, make_world

TOWNSHIP = "county-hx-town-1"


def fake_identity(_person_id: str, _name: str, id_number: str) -> str:
    return hashlib.sha256(id_number.encode()).hexdigest()


@dataclass
class Year:
    world: LedgerWorld
    desk: Desk
    summary: DemoSummary


@pytest.fixture
def year(database_url: str, tmp_path: Path) -> Iterator[Year]:
    world = make_world(database_url, tmp_path / "home")
    desk = _desk(world)
    summary = write_demo(desk, fake_identity)
    store = ProjectionStore.open(world.settings)
    Follower(store, world.service.store.log).catch_up()
    store.close()
    yield Year(world, desk, summary)
    world.service.close()


def _desk(world: LedgerWorld) -> Desk:
    service = world.service
    return new_admin_desk(
        lambda raw: service.append(raw).receipt,
        read_private_key(world.settings.home / ADMIN_KEY_FILE),
        "admin-1",
        "city",
        service.registry.version,
    )


def deep(year: Year) -> DeepReport:
    settings = year.world.settings
    source = open_source(settings, None)
    try:
        return verify_deep(source, stored=stored_projection_hashes(settings))
    finally:
        source.close()


def bypassing_service(year: Year) -> LedgerService:
    """The same ledger opened by a build whose business rules were switched off."""
    settings = year.world.settings
    return LedgerService(
        open_store(settings), read_private_key(settings.home / LEDGER_KEY_FILE), rules=Rules()
    )


def emit_bypassing(
    year: Year,
    signer_name: str,
    stream: tuple[str, str],
    event_type: str,
    payload: dict[str, Any],
    on: date,
) -> int:
    year.world.service.close()
    service = bypassing_service(year)
    try:
        desk = year.desk
        desk.submit = lambda raw: service.append(raw).receipt
        receipt = desk.emit(desk.signers[signer_name], stream, event_type, payload, on)
        return int(receipt.index)
    finally:
        service.close()


def test_the_clean_year_replays_without_findings(year: Year) -> None:
    result = deep(year)
    assert result.report.ok, result.report.findings[:3]
    summary = result.replay
    assert summary.decisions_replayed > 500
    assert summary.samples_redrawn >= 1
    stored = stored_projection_hashes(year.world.settings)
    assert {"fund_ledger", "roster"} <= set(stored)
    assert sorted(summary.projections_compared) == sorted(stored)
    assert summary.projection_hashes["roster"] == stored["roster"].state_hash


def test_a_payment_after_termination_accepted_by_a_bypass_is_a_critical_finding(
    year: Year,
) -> None:
    state = year.world.service.decisions.state
    gone = next(
        e
        for e in state.table(enrolments.ENROLMENTS).values()
        if e.status == enrolments.EnrolmentStatus.TERMINATED
    )
    assert gone.last_payable_period is not None
    late = gone.last_payable_period.plus(1)
    index = emit_bypassing(
        year,
        "county-hx-preparer",
        ("payment_batch", "batch-late"),
        "PaymentBatchPrepared",
        {
            "batch_id": "batch-late",
            "programme_code": "TEKUN",
            "admin_unit_id": "county-hx",
            "period": str(late),
            "fund_account_id": year.summary.fund_account_id,
            "lines": [
                {
                    "line_id": "late-1",
                    "enrolment_id": gone.enrolment_id,
                    "person_id": gone.person_id,
                    "component": "BASIC_LIVING",
                    "amount_fen": 10_833,
                    "channel": "ONE_CARD",
                    "account_id": gone.payment_account_id,
                }
            ],
            "total_fen": 10_833,
        },
        date(late.year, late.month, 3),
    )
    result = deep(year)
    first = result.report.first
    assert first is not None
    assert (first.damage, first.index) == (Damage.INVARIANT_BYPASS, index)
    assert first.evidence["code"] in {"PAY-1", "PAY-2"}
    assert len(result.report.findings) == 1, result.report.findings


def test_a_hand_picked_sample_is_not_reproducible_from_its_seed(year: Year) -> None:
    population = ["app-x1", "app-x2", "app-x3", "app-x4", "app-x5"]
    honest = draw_sample(population, 42, 2)
    picked = [p for p in population if p not in honest][:2]
    index = emit_bypassing(
        year,
        "county-hx-spot-checker",
        ("spot_check", "batch-picked"),
        "CountySpotCheckSampleDrawn",
        {
            "batch_id": "batch-picked",
            "township_org_id": TOWNSHIP,
            "population_ids": population,
            "ratio": "0.4",
            "rng_seed": 42,
            "rng_algorithm": "SPLITMIX64-FISHER-YATES-v1",
            "sampled_ids": picked,
        },
        date(2024, 6, 3),
    )
    result = deep(year)
    kinds = {(f.damage, f.index) for f in result.report.findings}
    assert (Damage.UNREPRODUCIBLE_SAMPLE, index) in kinds
    assert not any(
        f.damage == Damage.INVARIANT_BYPASS and f.index == index for f in result.report.findings
    ), "reported once, as V11"


def test_an_edited_read_model_is_a_projection_mismatch(year: Year) -> None:
    db = Database.for_settings(year.world.settings)
    try:
        with db.write() as tx:
            tx.execute(
                "UPDATE proj_fund_ledger SET received_fen = received_fen + 100 "
                "WHERE known_to IS NULL"
            )
    finally:
        db.close()
    result = deep(year)
    first = result.report.first
    assert first is not None
    assert first.damage == Damage.PROJECTION_MISMATCH
    assert first.evidence["projection"] == "fund_ledger"
    assert first.evidence["stored_state_hash"] != first.evidence["rebuilt_state_hash"]


def test_ledger_verify_replay_on_the_command_line(year: Year) -> None:
    settings = year.world.settings
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger.tools.cli",
            "--home",
            str(settings.home),
            "--db",
            str(settings.database_url),
            "verify",
            "--replay",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert report["replay"]["decisions_replayed"] > 500
