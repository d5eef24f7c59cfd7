"""Payment batches and bank results (W2): PAY-1 … PAY-7, FUND-1/2/6, SOD-5 and the facts."""

from __future__ import annotations

import pytest

from ledger.domain import funds, payments
from ledger.errors import AuthorizationError
from tests.unit.domain.money_builders import Enrolled, MoneyLedger, refused

FUND = "fund-county"
START_FEN = 10_000_000


@pytest.fixture
def ledger() -> MoneyLedger:
    ledger = MoneyLedger()
    ledger.define_programme("TEKUN", "MONTHLY")
    ledger.open_fund(FUND)
    ledger.fund(FUND, START_FEN)
    return ledger


@pytest.fixture
def person(ledger: MoneyLedger) -> Enrolled:
    """A dispersed TEKUN beneficiary: 1,300 yuan a year, paid monthly from 2024-01."""
    return ledger.enrol("TEKUN", annual_amount_fen=130_000, first_payable_period="2024-01")


def expect_balance(ledger: MoneyLedger, *, committed: int, settled: int, available: int) -> None:
    """The §4.8 identity holds, term by term, with the expected values."""
    balance = ledger.balance(FUND)
    assert balance.committed_unsettled_fen == committed
    assert balance.settled_payments_fen == settled
    assert balance.available_fen == available
    assert available == (
        balance.received_fen
        + balance.transfers_in_fen
        - balance.committed_unsettled_fen
        - balance.settled_payments_fen
        - balance.expenditures_fen
        - balance.transfers_out_fen
        - balance.returned_to_treasury_fen
    )
    assert available >= 0


def the_line(ledger: MoneyLedger, batch_id: str) -> payments.PaymentLine:
    [only] = payments.batch_lines(ledger.state, batch_id)
    return only


# --- The §4.2 instalment vector through a year of payments -----------------------------------


def test_twelve_monthly_instalments_add_up_to_the_annual_standard(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    paid = []
    for month in range(1, 13):
        batch_id = ledger.pay(FUND, f"2024-{month:02d}", [person])
        ledger.settle_batch(batch_id)
        paid.append(the_line(ledger, batch_id).amount_fen)

    assert paid == [10_833] * 11 + [10_837]
    assert sum(paid) == 130_000
    expect_balance(ledger, committed=0, settled=130_000, available=START_FEN - 130_000)


def test_batch_goes_prepared_approved_submitted_and_commits_on_approval(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01")])
    found = payments.batch(ledger.state, batch_id)
    assert found is not None
    assert found.status is payments.BatchStatus.PREPARED
    expect_balance(ledger, committed=0, settled=0, available=START_FEN)

    ledger.approve(batch_id)
    assert the_line(ledger, batch_id).status is payments.LineStatus.COMMITTED
    expect_balance(ledger, committed=10_833, settled=0, available=START_FEN - 10_833)

    ledger.submit(batch_id)
    found = payments.batch(ledger.state, batch_id)
    assert found is not None
    assert found.status is payments.BatchStatus.SUBMITTED


# --- PAY-5 and the instalment period ------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "amount"),
    [("2024-03", 10_834), ("2024-03", 10_832), ("2024-12", 10_833)],
    ids=["over", "under", "december-without-remainder"],
)
def test_line_amount_other_than_the_instalment_is_refused(
    ledger: MoneyLedger, person: Enrolled, period: str, amount: int
) -> None:
    with refused("PAY-5") as caught:
        ledger.prepare(FUND, period, [ledger.line_for(person, period, amount_fen=amount)])

    assert caught.value.evidence["amount_fen"] == amount


def test_quarterly_programme_pays_only_in_the_first_month_of_a_quarter(
    ledger: MoneyLedger,
) -> None:
    ledger.define_programme("WUBAO", "QUARTERLY")
    quarterly = ledger.enrol("WUBAO", annual_amount_fen=264_000)

    with refused("PAY-5"):
        ledger.prepare(
            FUND,
            "2024-02",
            [ledger.line_for(quarterly, "2024-02", amount_fen=66_000)],
            programme_code="WUBAO",
        )

    batch_id = ledger.pay(FUND, "2024-04", [quarterly], programme_code="WUBAO")
    assert the_line(ledger, batch_id).amount_fen == 66_000


# --- Batch-level consistency (ENV-5, ENV-7, ENV-8) ---------------------------------------------


def test_total_that_is_not_the_sum_of_the_lines_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    with refused("ENV-5"):
        ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01")], total_fen=10_000)


def test_batch_stream_must_be_the_batch_it_prepares(ledger: MoneyLedger, person: Enrolled) -> None:
    payload = {
        "batch_id": "batch-a",
        "programme_code": "TEKUN",
        "admin_unit_id": "county-1",
        "period": "2024-01",
        "fund_account_id": FUND,
        "lines": [ledger.line_for(person, "2024-01")],
        "total_fen": 10_833,
    }

    with refused("ENV-5"):
        ledger.emit("PaymentBatchPrepared", "batch-b", payload, actor="preparer")


def test_batch_id_cannot_be_prepared_twice(ledger: MoneyLedger, person: Enrolled) -> None:
    ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01")], batch_id="b-1")

    with refused("ENV-7"):
        ledger.prepare(FUND, "2024-02", [ledger.line_for(person, "2024-02")], batch_id="b-1")


def test_line_id_repeated_in_a_batch_is_refused(ledger: MoneyLedger) -> None:
    first, second = ledger.enrol(), ledger.enrol()

    with refused("ENV-7"):
        ledger.prepare(
            FUND,
            "2024-01",
            [
                ledger.line_for(first, "2024-01", line_id="L-1"),
                ledger.line_for(second, "2024-01", line_id="L-1"),
            ],
        )


def test_line_id_used_by_another_batch_is_refused(ledger: MoneyLedger, person: Enrolled) -> None:
    ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01", line_id="L-1")])

    with refused("ENV-7"):
        ledger.prepare(FUND, "2024-02", [ledger.line_for(person, "2024-02", line_id="L-1")])


def test_batch_on_an_unknown_fund_account_is_refused(ledger: MoneyLedger, person: Enrolled) -> None:
    with refused("ENV-8"):
        ledger.prepare("no-such-fund", "2024-01", [ledger.line_for(person, "2024-01")])


def test_batch_for_an_undefined_programme_is_refused(ledger: MoneyLedger, person: Enrolled) -> None:
    with refused("ENV-8"):
        ledger.prepare(
            FUND, "2024-01", [ledger.line_for(person, "2024-01")], programme_code="DIBAO_URBAN"
        )


def test_batch_for_an_unknown_admin_unit_is_refused(ledger: MoneyLedger, person: Enrolled) -> None:
    with refused("ENV-8"):
        ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01")], admin_unit_id="x")


def test_line_for_an_unknown_enrolment_is_refused(ledger: MoneyLedger, person: Enrolled) -> None:
    with refused("ENV-8"):
        ledger.prepare(
            FUND, "2024-01", [ledger.line_for(person, "2024-01", enrolment_id="no-such")]
        )


def test_line_for_an_enrolment_of_another_programme_is_refused(ledger: MoneyLedger) -> None:
    ledger.define_programme("WUBAO", "MONTHLY")
    wubao = ledger.enrol("WUBAO")

    with refused("ENV-8"):
        ledger.prepare(FUND, "2024-01", [ledger.line_for(wubao, "2024-01")], programme_code="TEKUN")


def test_line_whose_person_is_not_the_enrolled_person_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    with refused("ENV-8"):
        ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01", person_id="other")])


def test_line_to_an_unregistered_account_is_refused(ledger: MoneyLedger, person: Enrolled) -> None:
    with refused("ENV-8"):
        ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01", account_id="nope")])


def test_line_for_an_enrolment_outside_the_batch_admin_unit_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    with refused("ENV-8"):
        ledger.prepare(
            FUND, "2024-01", [ledger.line_for(person, "2024-01")], admin_unit_id="township-2"
        )


def test_preparer_outside_the_batch_admin_unit_is_not_authorised(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    with pytest.raises(AuthorizationError):
        ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01")], actor="preparer-t2")


# --- FUND-2, FUND-6 --------------------------------------------------------------------------


def test_batch_for_a_programme_outside_the_earmark_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    wubao_only = ledger.open_fund(programmes=("WUBAO",))
    ledger.fund(wubao_only, 1_000_000)

    with refused("FUND-2"):
        ledger.prepare(wubao_only, "2024-01", [ledger.line_for(person, "2024-01")])


def test_batch_from_an_account_not_earmarked_for_basic_living_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    management = ledger.open_fund(purposes=("INSTITUTION_MANAGEMENT",))
    ledger.fund(management, 1_000_000)

    with refused("FUND-2"):
        ledger.prepare(management, "2024-01", [ledger.line_for(person, "2024-01")])


def test_batch_for_a_period_outside_the_fiscal_year_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    with refused("FUND-2"):
        ledger.prepare(FUND, "2025-01", [ledger.line_for(person, "2025-01")])


def test_batch_from_another_townships_fund_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    other_township = ledger.open_fund(owner_org_id="township-2")
    ledger.fund(other_township, 1_000_000)

    with refused("FUND-6"):
        ledger.prepare(other_township, "2024-01", [ledger.line_for(person, "2024-01")])


def test_batch_from_the_enrolments_own_township_fund_is_accepted(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    own_township = ledger.open_fund(owner_org_id="township-1")
    ledger.fund(own_township, 1_000_000)

    ledger.pay(own_township, "2024-01", [person])

    assert ledger.balance(own_township).committed_unsettled_fen == 10_833


# --- PAY-1, PAY-2, PAY-3: only the living, only while enrolled -------------------------------


def test_decided_termination_effective_october_pays_september_not_october(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    ledger.propose_termination(person, "MOVED_AWAY")
    ledger.decide_termination(person, "2024-10")

    ledger.pay(FUND, "2024-09", [person])
    with refused("PAY-2") as caught:
        ledger.prepare(FUND, "2024-10", [ledger.line_for(person, "2024-10")])

    assert caught.value.evidence["last_payable_period"] == "2024-09"


def test_decided_death_ends_payment_with_the_month_of_death(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    ledger.propose_termination(person, "DECEASED", death_date="2024-07-20")
    ledger.decide_termination(person, "2024-10")

    ledger.pay(FUND, "2024-07", [person])
    with refused("PAY-2"):
        ledger.prepare(FUND, "2024-08", [ledger.line_for(person, "2024-08")])


def test_pending_termination_is_still_payable(ledger: MoneyLedger, person: Enrolled) -> None:
    ledger.propose_termination(person, "INCOME_ABOVE_STANDARD")

    ledger.pay(FUND, "2024-05", [person])

    enrolled = payments.enrolment(ledger.state, person.enrolment_id)
    assert enrolled is not None
    assert payments.enrolment_status(enrolled, payments.Period(2024, 5)) == "TERMINATION_PENDING"


def test_months_after_a_reported_death_are_refused_before_the_decision(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    ledger.propose_termination(person, "DECEASED", death_date="2024-03-15")

    ledger.pay(FUND, "2024-03", [person])
    with refused("PAY-1") as caught:
        ledger.prepare(FUND, "2024-04", [ledger.line_for(person, "2024-04")])

    assert caught.value.evidence["status"] == "DECEASED"


def test_withdrawn_termination_makes_the_enrolment_payable_again(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    ledger.propose_termination(person, "DECEASED", death_date="2024-03-15")
    ledger.withdraw_termination(person)

    ledger.pay(FUND, "2024-04", [person])


def test_period_before_the_first_payable_period_is_refused(ledger: MoneyLedger) -> None:
    late = ledger.enrol(first_payable_period="2024-04")

    with refused("PAY-3"):
        ledger.prepare(FUND, "2024-03", [ledger.line_for(late, "2024-03")])
    ledger.pay(FUND, "2024-04", [late])


def test_termination_between_preparation_and_approval_refuses_the_approval(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.prepare(FUND, "2024-10", [ledger.line_for(person, "2024-10")])
    ledger.propose_termination(person, "MOVED_AWAY")
    ledger.decide_termination(person, "2024-10")

    with refused("PAY-2"):
        ledger.approve(batch_id)

    expect_balance(ledger, committed=0, settled=0, available=START_FEN)


def test_death_reported_between_preparation_and_approval_refuses_the_approval(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.prepare(FUND, "2024-06", [ledger.line_for(person, "2024-06")])
    ledger.propose_termination(person, "DECEASED", death_date="2024-05-02")

    with refused("PAY-1"):
        ledger.approve(batch_id)


# --- PAY-4: the right channel, the right holder ----------------------------------------------


def test_dispersed_support_through_an_institution_channel_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    # Registered in the person's own name, so only the support-mode rule can object.
    own_institution_style = ledger.register_account(
        "acct-odd", channel="INSTITUTION_ACCOUNT", person_id=person.person_id
    )
    line = ledger.line_for(
        person, "2024-01", channel="INSTITUTION_ACCOUNT", account_id=own_institution_style
    )

    with refused("PAY-4") as caught:
        ledger.prepare(FUND, "2024-01", [line])

    assert caught.value.evidence["channel"] == "INSTITUTION_ACCOUNT"


def test_dispersed_support_to_someone_elses_card_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    neighbour_card = ledger.register_account("card-neighbour", person_id="neighbour")

    with refused("PAY-4") as caught:
        ledger.prepare(
            FUND, "2024-01", [ledger.line_for(person, "2024-01", account_id=neighbour_card)]
        )

    assert caught.value.evidence["holder_person_id"] == "neighbour"


def test_one_card_line_to_an_account_registered_for_institutions_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    # Held by the beneficiary, but not a 一卡通 account: the line's channel would be a lie.
    not_a_card = ledger.register_account(
        "acct-odd", channel="INSTITUTION_ACCOUNT", person_id=person.person_id
    )

    with refused("PAY-4") as caught:
        ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01", account_id=not_a_card)])

    assert caught.value.evidence["account_channel"] == "INSTITUTION_ACCOUNT"


def test_centralised_support_is_paid_to_the_residents_institution(ledger: MoneyLedger) -> None:
    resident = ledger.enrol(institution_id="inst-1")

    batch_id = ledger.pay(FUND, "2024-01", [resident])

    assert the_line(ledger, batch_id).account_id == "acct-inst-1"


def test_centralised_support_through_a_one_card_is_refused(ledger: MoneyLedger) -> None:
    resident = ledger.enrol(institution_id="inst-1")
    card = ledger.register_account("card-resident", person_id=resident.person_id)

    with refused("PAY-4"):
        ledger.prepare(
            FUND,
            "2024-01",
            [ledger.line_for(resident, "2024-01", channel="ONE_CARD", account_id=card)],
        )


def test_centralised_support_to_another_institutions_account_is_refused(
    ledger: MoneyLedger,
) -> None:
    resident = ledger.enrol(institution_id="inst-1")
    other = ledger.institution_account("inst-2")

    with refused("PAY-4"):
        ledger.prepare(FUND, "2024-01", [ledger.line_for(resident, "2024-01", account_id=other)])


def test_centralised_support_after_discharge_is_refused(ledger: MoneyLedger) -> None:
    resident = ledger.enrol(institution_id="inst-1")
    ledger.record_residency(resident.person_id, "inst-1", "2023-06-01", "2024-02-10")

    ledger.pay(FUND, "2024-02", [resident])
    with refused("PAY-4") as caught:
        ledger.prepare(FUND, "2024-03", [ledger.line_for(resident, "2024-03")])

    assert caught.value.evidence["institution_id"] == "inst-1"


def test_centralised_support_without_any_residency_record_is_refused(
    ledger: MoneyLedger,
) -> None:
    resident = ledger.enrol(institution_id="inst-1")
    ledger.record_residency(resident.person_id, "inst-2", "2023-06-01")
    # The residency at inst-1 is replaced by a discharge before the year started.
    ledger.record_residency(resident.person_id, "inst-1", "2023-06-01", "2023-12-31")

    with refused("PAY-4"):
        ledger.prepare(FUND, "2024-01", [ledger.line_for(resident, "2024-01")])


# --- PAY-6: at most once ------------------------------------------------------------------------


def test_second_line_for_the_same_enrolment_and_period_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01")])

    with refused("PAY-6"):
        ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01")])


def test_same_enrolment_twice_in_one_batch_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    with refused("PAY-6"):
        ledger.prepare(
            FUND,
            "2024-01",
            [ledger.line_for(person, "2024-01"), ledger.line_for(person, "2024-01")],
        )


def test_failed_line_no_longer_blocks_a_new_batch_for_the_period(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])
    ledger.fail(batch_id, the_line(ledger, batch_id).line_id)

    ledger.pay(FUND, "2024-01", [person])

    expect_balance(ledger, committed=10_833, settled=0, available=START_FEN - 10_833)


# --- PAY-7: no double support from exclusive programmes --------------------------------------


@pytest.fixture
def dibao_fund(ledger: MoneyLedger) -> str:
    fund = ledger.open_fund("fund-dibao", programmes=("DIBAO_RURAL",), purposes=("BASIC_LIVING",))
    ledger.fund(fund, 1_000_000)
    return fund


def test_line_in_a_programme_this_one_excludes_is_refused(
    ledger: MoneyLedger, dibao_fund: str
) -> None:
    ledger.define_programme("TEKUN", "MONTHLY", exclusive_with=("DIBAO_RURAL",))
    ledger.define_programme("DIBAO_RURAL", "MONTHLY")
    tekun = ledger.enrol("TEKUN", person_id="p-both")
    dibao = ledger.enrol("DIBAO_RURAL", person_id="p-both", annual_amount_fen=96_000)
    ledger.pay(FUND, "2024-03", [tekun])

    with refused("PAY-7"):
        ledger.prepare(
            dibao_fund, "2024-03", [ledger.line_for(dibao, "2024-03")], programme_code="DIBAO_RURAL"
        )
    ledger.pay(dibao_fund, "2024-04", [dibao], programme_code="DIBAO_RURAL")


def test_line_in_a_programme_that_excludes_this_one_is_refused(
    ledger: MoneyLedger, dibao_fund: str
) -> None:
    ledger.define_programme("DIBAO_RURAL", "MONTHLY", exclusive_with=("TEKUN",))
    tekun = ledger.enrol("TEKUN", person_id="p-both")
    dibao = ledger.enrol("DIBAO_RURAL", person_id="p-both", annual_amount_fen=96_000)
    ledger.pay(dibao_fund, "2024-03", [dibao], programme_code="DIBAO_RURAL")

    with refused("PAY-7"):
        ledger.prepare(FUND, "2024-03", [ledger.line_for(tekun, "2024-03")])


def test_quarterly_line_excludes_every_month_of_its_quarter(
    ledger: MoneyLedger, dibao_fund: str
) -> None:
    ledger.define_programme("DIBAO_RURAL", "QUARTERLY", exclusive_with=("TEKUN",))
    tekun = ledger.enrol("TEKUN", person_id="p-both")
    dibao = ledger.enrol("DIBAO_RURAL", person_id="p-both", annual_amount_fen=96_000)
    ledger.pay(dibao_fund, "2024-01", [dibao], programme_code="DIBAO_RURAL")

    with refused("PAY-7"):
        ledger.prepare(FUND, "2024-03", [ledger.line_for(tekun, "2024-03")])
    ledger.pay(FUND, "2024-04", [tekun])


# --- PaymentBatchApproved / PaymentBatchSubmitted --------------------------------------------


def test_preparer_cannot_approve_their_own_batch_under_another_account(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01")])

    with refused("SOD-5") as caught:
        ledger.approve(batch_id, actor="preparer-as-approver")

    assert caught.value.evidence["preparer_person"] == "p-preparer"


def test_approval_above_the_available_balance_is_refused(ledger: MoneyLedger) -> None:
    small = ledger.open_fund(programmes=("TEKUN",))
    ledger.fund(small, 20_000)
    first, second = ledger.enrol(), ledger.enrol()
    batch_id = ledger.prepare(
        small, "2024-01", [ledger.line_for(first, "2024-01"), ledger.line_for(second, "2024-01")]
    )

    with refused("FUND-1") as caught:
        ledger.approve(batch_id)

    assert caught.value.evidence == {
        "fund_account_id": small,
        "amount_fen": 21_666,
        "available_fen": 20_000,
    }


def test_a_batch_refused_for_lack_of_money_can_be_cancelled_and_prepared_again(
    ledger: MoneyLedger,
) -> None:
    small = ledger.open_fund(programmes=("TEKUN",))
    ledger.fund(small, 10_833)
    first, second = ledger.enrol(), ledger.enrol()
    lines = [ledger.line_for(first, "2024-01"), ledger.line_for(second, "2024-01")]
    too_big = ledger.prepare(small, "2024-01", lines)
    with refused("FUND-1"):
        ledger.approve(too_big)
    with refused("PAY-6"):  # its lines still hold the period
        ledger.prepare(small, "2024-01", [ledger.line_for(first, "2024-01")])

    ledger.emit("PaymentBatchCancelled", too_big, {"reason": "not enough money"}, actor="preparer")

    smaller = ledger.prepare(small, "2024-01", [ledger.line_for(first, "2024-01")])
    ledger.approve(smaller)
    assert payments.batch(ledger.state, too_big).status is payments.BatchStatus.CANCELLED  # type: ignore[union-attr]
    assert ledger.available(small) == 0
    with refused("ENV-7"):
        ledger.emit("PaymentBatchCancelled", smaller, {"reason": "too late"}, actor="preparer")


def test_batch_cannot_be_approved_twice(ledger: MoneyLedger, person: Enrolled) -> None:
    batch_id = ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01")])
    ledger.approve(batch_id)

    with refused("ENV-7"):
        ledger.approve(batch_id)


def test_approving_an_unknown_batch_is_refused(ledger: MoneyLedger) -> None:
    with refused("ENV-8"):
        ledger.approve("no-such-batch")


def test_unapproved_batch_cannot_be_submitted(ledger: MoneyLedger, person: Enrolled) -> None:
    batch_id = ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01")])

    with refused("ENV-7"):
        ledger.submit(batch_id)


# --- Bank results: facts are always accepted -------------------------------------------------


def test_failure_then_reissue_then_settlement_keeps_the_identity(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])
    original = the_line(ledger, batch_id).line_id
    expect_balance(ledger, committed=10_833, settled=0, available=START_FEN - 10_833)

    ledger.fail(batch_id, original)
    expect_balance(ledger, committed=0, settled=0, available=START_FEN)

    new_card = ledger.register_account("card-new", person_id=person.person_id)
    reissued = ledger.reissue(batch_id, original, new_card)
    expect_balance(ledger, committed=10_833, settled=0, available=START_FEN - 10_833)

    ledger.settle(batch_id, reissued)
    expect_balance(ledger, committed=0, settled=10_833, available=START_FEN - 10_833)

    old, new = payments.line(ledger.state, original), payments.line(ledger.state, reissued)
    assert old is not None and new is not None
    assert (old.status, old.reissued_as) == (payments.LineStatus.FAILED, reissued)
    assert (new.status, new.reissue_of, new.account_id) == (
        payments.LineStatus.SETTLED,
        original,
        new_card,
    )
    assert ledger.line_ids(batch_id) == [original, reissued]


def test_reissued_line_may_fail_and_be_reissued_again(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])
    first = the_line(ledger, batch_id).line_id
    ledger.fail(batch_id, first)
    second = ledger.reissue(batch_id, first, person.account_id)

    ledger.fail(batch_id, second)
    expect_balance(ledger, committed=0, settled=0, available=START_FEN)
    third = ledger.reissue(batch_id, second, person.account_id)
    ledger.settle(batch_id, third)

    expect_balance(ledger, committed=0, settled=10_833, available=START_FEN - 10_833)


def test_reissuing_a_line_that_did_not_fail_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])

    with refused("ENV-7"):
        ledger.reissue(batch_id, the_line(ledger, batch_id).line_id, person.account_id)


def test_reissuing_a_line_twice_is_refused(ledger: MoneyLedger, person: Enrolled) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])
    original = the_line(ledger, batch_id).line_id
    ledger.fail(batch_id, original)
    ledger.reissue(batch_id, original, person.account_id)

    with refused("ENV-7"):
        ledger.reissue(batch_id, original, person.account_id)


def test_reissue_under_a_line_id_already_used_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])
    original = the_line(ledger, batch_id).line_id
    ledger.fail(batch_id, original)

    with refused("ENV-7"):
        ledger.reissue(batch_id, original, person.account_id, new_line_id=original)


def test_reissue_of_a_line_of_another_batch_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    january = ledger.pay(FUND, "2024-01", [person])
    february = ledger.pay(FUND, "2024-02", [person])
    ledger.fail(january, the_line(ledger, january).line_id)

    with refused("ENV-8"):
        ledger.reissue(february, the_line(ledger, january).line_id, person.account_id)


def test_reissue_after_termination_is_refused(ledger: MoneyLedger, person: Enrolled) -> None:
    batch_id = ledger.pay(FUND, "2024-10", [person])
    ledger.fail(batch_id, the_line(ledger, batch_id).line_id)
    ledger.propose_termination(person, "MOVED_AWAY")
    ledger.decide_termination(person, "2024-10")

    with refused("PAY-2"):
        ledger.reissue(batch_id, the_line(ledger, batch_id).line_id, person.account_id)


def test_reissue_to_someone_elses_card_is_refused(ledger: MoneyLedger, person: Enrolled) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])
    ledger.fail(batch_id, the_line(ledger, batch_id).line_id)
    neighbour_card = ledger.register_account("card-neighbour", person_id="neighbour")

    with refused("PAY-4"):
        ledger.reissue(batch_id, the_line(ledger, batch_id).line_id, neighbour_card)


def test_reissue_when_the_period_was_paid_meanwhile_is_refused(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])
    original = the_line(ledger, batch_id).line_id
    ledger.fail(batch_id, original)
    ledger.pay(FUND, "2024-01", [person])

    with refused("PAY-6"):
        ledger.reissue(batch_id, original, person.account_id)


def test_reissue_above_the_available_balance_is_refused(ledger: MoneyLedger) -> None:
    exact = ledger.open_fund(programmes=("TEKUN",))
    ledger.fund(exact, 10_833)
    enrolled = ledger.enrol()
    batch_id = ledger.pay(exact, "2024-01", [enrolled])
    ledger.fail(batch_id, the_line(ledger, batch_id).line_id)
    ledger.authorise_expenditure(exact, 1, purpose="BASIC_LIVING", payee_org_id="township-1")

    with refused("FUND-1"):
        ledger.reissue(batch_id, the_line(ledger, batch_id).line_id, enrolled.account_id)


def test_settlement_for_an_unknown_line_is_accepted_and_recorded(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])

    ledger.settle(batch_id, "ghost-line", 50_000)

    [record] = payments.unauthorised_settlements(ledger.state)
    assert (record.line_id, record.amount_fen, record.reason, record.fund_account_id) == (
        "ghost-line",
        50_000,
        "UNKNOWN_LINE",
        FUND,
    )
    expect_balance(ledger, committed=10_833, settled=0, available=START_FEN - 10_833)


def test_settlement_on_a_batch_stream_that_does_not_exist_is_recorded(
    ledger: MoneyLedger,
) -> None:
    ledger.settle("ghost-batch", "ghost-line", 50_000)

    [record] = payments.unauthorised_settlements(ledger.state)
    assert (record.batch_id, record.fund_account_id) == ("ghost-batch", None)


def test_settlement_of_a_line_in_an_unapproved_batch_is_recorded_as_unauthorised(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01")])

    ledger.settle(batch_id, the_line(ledger, batch_id).line_id)

    [record] = payments.unauthorised_settlements(ledger.state)
    assert record.reason == "NOT_APPROVED"
    assert the_line(ledger, batch_id).status is payments.LineStatus.PREPARED
    expect_balance(ledger, committed=0, settled=0, available=START_FEN)


def test_second_settlement_of_a_line_is_recorded_as_unauthorised(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])
    ledger.settle_batch(batch_id)

    ledger.settle_batch(batch_id)

    [record] = payments.unauthorised_settlements(ledger.state)
    assert record.reason == "ALREADY_SETTLED"
    expect_balance(ledger, committed=0, settled=10_833, available=START_FEN - 10_833)


def test_settlement_for_another_amount_is_booked_as_paid_and_recorded(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])
    line_id = the_line(ledger, batch_id).line_id

    ledger.settle(batch_id, line_id, 10_000)

    [difference] = payments.settlement_differences(ledger.state)
    assert (difference.line_amount_fen, difference.settled_fen) == (10_833, 10_000)
    expect_balance(ledger, committed=0, settled=10_000, available=START_FEN - 10_000)


def test_failure_of_an_unknown_line_is_accepted_and_recorded(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])

    ledger.fail(batch_id, "ghost-line")

    [record] = payments.unmatched_bank_results(ledger.state)
    assert (record.event_type, record.reason) == ("PaymentFailed", "UNKNOWN_LINE")
    expect_balance(ledger, committed=10_833, settled=0, available=START_FEN - 10_833)


def test_returned_payment_makes_its_amount_available_again(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])
    line_id = the_line(ledger, batch_id).line_id
    ledger.settle(batch_id, line_id)

    ledger.return_payment(batch_id, line_id, 10_833)

    assert the_line(ledger, batch_id).status is payments.LineStatus.RETURNED
    assert ledger.balance(FUND).returned_payments_fen == 10_833
    expect_balance(ledger, committed=0, settled=0, available=START_FEN)


def test_return_of_a_line_that_was_never_settled_is_recorded(
    ledger: MoneyLedger, person: Enrolled
) -> None:
    batch_id = ledger.pay(FUND, "2024-01", [person])
    line_id = the_line(ledger, batch_id).line_id

    ledger.return_payment(batch_id, line_id, 10_833)

    [record] = payments.unmatched_bank_results(ledger.state)
    assert record.reason == "LINE_COMMITTED"
    expect_balance(ledger, committed=10_833, settled=0, available=START_FEN - 10_833)


def test_refused_decision_leaves_the_state_unchanged(ledger: MoneyLedger, person: Enrolled) -> None:
    before = ledger.balance(FUND)

    with refused("PAY-5"):
        ledger.prepare(FUND, "2024-01", [ledger.line_for(person, "2024-01", amount_fen=1)])

    assert ledger.balance(FUND) == before
    assert funds.fund_balance(ledger.state, FUND) == before
    assert len(ledger.state.table(payments.LINES)) == 0
