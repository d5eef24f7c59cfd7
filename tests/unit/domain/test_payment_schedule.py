"""Payments on time (按时): a settlement valued after its period's published due date is
recorded and raises AF-PAY-LATE (W2.4, soft); without a published schedule nothing is checked.
"""

from __future__ import annotations

import pytest

from ledger.domain import payment_schedule
from ledger.domain.model import SOFT_FINDINGS, SoftFinding
from ledger.domain.payment_schedule_events import PAYMENT_SCHEDULE_EVENTS
from tests.unit.domain import money_builders
from tests.unit.domain.money_builders import MoneyLedger, refused


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch) -> MoneyLedger:
    for spec in PAYMENT_SCHEDULE_EVENTS:
        monkeypatch.setitem(money_builders.SPECS, spec.event_type, spec)
    money = MoneyLedger()
    payment_schedule.register(money.rules)
    money.define_programme("TEKUN")
    return money


def publish(ledger: MoneyLedger, due_day: int, effective_from: str = "2024-01") -> None:
    ledger.emit(
        "PaymentDueDatePublished",
        "TEKUN",
        {"programme_code": "TEKUN", "due_day": due_day, "effective_from": effective_from},
        actor="gov",
    )


def late(ledger: MoneyLedger) -> list[SoftFinding]:
    found = ledger.state.table(SOFT_FINDINGS).values()
    return [f for f in found if f.finding_code == "AF-PAY-LATE"]


def settle_january(ledger: MoneyLedger, value_date: str) -> None:
    fund = ledger.open_fund("fund-1")
    ledger.fund(fund, 1_000_000)
    enrolled = ledger.enrol()
    batch = ledger.pay(fund, "2024-01", [enrolled])
    (line,) = money_builders.payments.batch_lines(ledger.state, batch)
    ledger.emit(
        "PaymentSettled",
        batch,
        {
            "line_id": line.line_id,
            "amount_fen": line.amount_fen,
            "value_date": value_date,
            "bank_ref": "b-1",
        },
        actor="bank",
    )


def test_a_settlement_after_the_due_date_is_recorded_and_raises_af_pay_late(
    ledger: MoneyLedger,
) -> None:
    publish(ledger, 10)
    settle_january(ledger, "2024-01-12")
    (finding,) = late(ledger)
    evidence = dict(finding.evidence)
    assert evidence["due_date"] == "2024-01-10"
    assert evidence["value_date"] == "2024-01-12"
    assert "2 days after" in finding.detail


def test_on_the_due_date_is_on_time(ledger: MoneyLedger) -> None:
    publish(ledger, 10)
    settle_january(ledger, "2024-01-10")
    assert late(ledger) == []


def test_the_schedule_in_force_for_the_period_applies(ledger: MoneyLedger) -> None:
    publish(ledger, 5)
    publish(ledger, 15, effective_from="2024-01")  # the later publication wins for January
    settle_january(ledger, "2024-01-12")
    assert late(ledger) == []


def test_without_a_published_schedule_nothing_is_checked(ledger: MoneyLedger) -> None:
    settle_january(ledger, "2024-03-30")
    assert late(ledger) == []


def test_a_schedule_for_an_undefined_programme_is_refused(ledger: MoneyLedger) -> None:
    with refused("ENV-8"):
        ledger.emit(
            "PaymentDueDatePublished",
            "DIBAO_URBAN",
            {"programme_code": "DIBAO_URBAN", "due_day": 10, "effective_from": "2024-01"},
            actor="gov",
        )
