"""The first programme end to end in process, on SQLite and PostgreSQL: a county's year of
特困 support written through the real service (signatures, registry, business rules in the
write transaction), then checked against the business state and the verifier."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ledger.bootstrap import ADMIN_KEY_FILE, open_ledger
from ledger.domain import enrolments, funds
from ledger.domain.periods import Period
from ledger.errors import RuleViolation
from ledger.integrity.signing import read_private_key
from ledger.services.ledger import LedgerService
from ledger.tools.commands import open_source
from ledger.tools.demo_data import DemoSummary, write_demo
from ledger.tools.scenario import Desk, new_admin_desk
from ledger.verification import verify
from tests.conftest import LedgerWorld, make_world


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
    service = world.service
    desk = new_admin_desk(
        lambda raw: service.append(raw).receipt,
        read_private_key(world.settings.home / ADMIN_KEY_FILE),
        "admin-1",
        "city",
        service.registry.version,
    )
    summary = write_demo(desk, fake_identity)
    yield Year(world, desk, summary)
    world.service.close()


def test_the_year_is_recorded_and_verifies(year: Year) -> None:
    s = year.summary
    assert (s.applicants, s.enrolled, s.rejected, s.batches) == (36, 30, 6, 12)
    state = year.world.service.decisions.state
    balance = funds.fund_balance(state, s.fund_account_id)
    assert balance is not None
    # Every authorised payment was settled (one after a failure and a reissue).
    assert balance.committed_unsettled_fen == 0
    assert balance.received_fen == 6_000_000
    assert balance.available_fen == 6_000_000 - s.paid_fen
    report = verify(open_source(year.world.settings, None))
    assert report.ok, report.findings[:3]


def test_a_fresh_process_rebuilds_the_same_business_state(year: Year) -> None:
    other = open_ledger(year.world.settings)
    try:
        other.decisions.catch_up_from(other.store.log.entries, other.store.log.head().size)
        balance = funds.fund_balance(other.decisions.state, year.summary.fund_account_id)
        assert balance == funds.fund_balance(
            year.world.service.decisions.state, year.summary.fund_account_id
        )
    finally:
        other.close()


def _terminated(service: LedgerService) -> list[enrolments.Enrolment]:
    table = service.decisions.state.table(enrolments.ENROLMENTS)
    return [e for e in table.values() if e.status == enrolments.EnrolmentStatus.TERMINATED]


def test_payment_after_termination_is_refused_with_its_code(year: Year) -> None:
    service = year.world.service
    gone = _terminated(service)
    assert len(gone) == 2
    enrolment = gone[0]
    assert enrolment.last_payable_period is not None
    late = enrolment.last_payable_period.plus(1)
    desk = year.desk
    preparer = desk.signers["county-hx-preparer"]
    with pytest.raises(RuleViolation) as refused:
        desk.emit(
            preparer,
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
                        "enrolment_id": enrolment.enrolment_id,
                        "person_id": enrolment.person_id,
                        "component": "BASIC_LIVING",
                        "amount_fen": 10_833,
                        "channel": "ONE_CARD",
                        "account_id": enrolment.payment_account_id,
                    }
                ],
                "total_fen": 10_833,
            },
            date(late.year, late.month, 3),
        )
    assert refused.value.code in {"PAY-2", "PAY-1"}
    assert Period(2024, 1) <= late


def test_over_commitment_is_refused_across_two_service_instances(year: Year) -> None:
    """FUND-1 holds when two processes race: the second one's decision is re-taken inside
    its transaction against the first one's commit."""
    world = year.world
    desk = year.desk
    finance = desk.signers["county-hx-finance"]
    fund = year.summary.fund_account_id
    available = funds.fund_balance(world.service.decisions.state, fund)
    assert available is not None
    other = open_ledger(world.settings)
    try:
        other.decisions.catch_up_from(other.store.log.entries, other.store.log.head().size)
        spend = available.available_fen - 1000

        def expenditure(n: int) -> bytes:
            return finance.sign(
                event_type="FundExpenditureAuthorised",
                stream_type="fund_account",
                stream_id=fund,
                expected_version=desk.versions[("fund_account", fund)] + n,
                payload={
                    "expenditure_id": f"exp-{n}",
                    "purpose": "INSTITUTION_MANAGEMENT",
                    "payee_org_id": "county-hx-elderly-home",
                    "amount_fen": spend,
                    "invoice_sha256": "0" * 64,
                },
            )

        world.service.append(expenditure(0))
        # The other instance's state still shows the old balance; only the decision taken
        # inside its write transaction can see that the money is gone. Same stream, so the
        # expected version is the next one.
        with pytest.raises(RuleViolation) as refused:
            other.append(expenditure(1))
        assert refused.value.code == "FUND-1"
    finally:
        other.close()
