"""Pure folds: roster status machine and the fund identity, on in-memory events."""

from __future__ import annotations

import pytest

from ledger.projections.funds import FundLedgerProjection, FundState
from ledger.projections.roster import RosterProjection, last_payable_period
from ledger.projections.scenario import Scenario

from .helpers import events_of

YUAN = 100


def roster_of(s: Scenario):
    return RosterProjection().fold_all(events_of(s)).enrolments.rows


def funds_of(s: Scenario) -> FundState:
    return FundLedgerProjection().fold_all(events_of(s))


def test_enrolment_takes_place_and_frequency_from_application_and_programme() -> None:
    s = Scenario()
    s.define_programme("QUARTERLY")
    e = s.enrol(township="town-9", village="village-3", amount=130_000)
    row = roster_of(s)[e]
    assert (row.township_org_id, row.residence_org_id) == ("town-9", "village-3")
    assert row.status == "ACTIVE"
    assert row.payment_frequency == "QUARTERLY"
    assert row.first_payable_period == "2024-02"
    assert row.last_payable_period is None
    assert row.period_amount_fen("2024-04") == 32_500
    assert row.period_amount_fen("2024-05") is None  # not a quarterly payment month


def test_termination_proposed_withdrawn_decided_and_referred() -> None:
    s = Scenario()
    s.define_programme()
    e = s.enrol()
    s.propose(e)
    assert roster_of(s)[e].status == "TERMINATION_PENDING"
    s.withdraw(e)
    row = roster_of(s)[e]
    assert (row.status, row.termination_reason) == ("ACTIVE", None)
    s.propose(e)
    s.decide(e, effective="2024-06")
    s.refer(e, "DIBAO_RURAL")
    row = roster_of(s)[e]
    assert row.status == "TERMINATED"
    assert row.last_payable_period == "2024-05"
    assert row.referred_to == "DIBAO_RURAL"


@pytest.mark.parametrize(
    ("effective", "reason", "death", "last"),
    [
        ("2024-06", "NO_LONGER_ELIGIBLE", None, "2024-05"),
        ("2024-06", "DECEASED", "2024-03-10", "2024-03"),  # died earlier: month of death
        ("2024-06", "DECEASED", "2024-05-31", "2024-05"),
        ("2024-01", "MOVED_AWAY", None, "2023-12"),  # across the year boundary
    ],
)
def test_last_payable_period(effective: str, reason: str, death: str | None, last: str) -> None:
    assert last_payable_period(effective, reason, death) == last


def test_events_on_unknown_enrolment_are_ignored() -> None:
    s = Scenario()
    s.propose("enr-never-enrolled")
    assert roster_of(s) == {}


def test_versions_are_one_per_changing_event() -> None:
    s = Scenario()
    s.define_programme()
    e = s.enrol()
    s.propose(e)
    s.withdraw(e)
    state = RosterProjection().fold_all(events_of(s))
    indexes = [index for key, index, _ in state.enrolments.versions if key == e]
    assert indexes == [2, 3, 4]  # programme 0, application 1, then the three changes


def test_fund_worked_example_ex_fund_1() -> None:
    """domain.md §5.14 EX-FUND-1: 1,350,000 yuan in; payments and transfers; 12,000 left."""
    s = Scenario()
    county, institution = s.open_account(), s.open_account()
    s.receive(county, 1_000_000 * YUAN, s.appropriate(county, 1_000_000 * YUAN))
    s.appropriate(county, 400_000 * YUAN, "COUNTY_BUDGET", matching=True)
    s.receive(county, 300_000 * YUAN)
    s.receive(county, 50_000 * YUAN, s.appropriate(county, 50_000 * YUAN, "WELFARE_LOTTERY"))
    batch, lines = s.prepare(county, ["e1", "e2"], amount=390_000 * YUAN)
    s.approve(batch, lines)
    state = funds_of(s)
    row = state.accounts.rows[county]
    assert row.committed_unsettled_fen == 780_000 * YUAN
    assert row.available_fen == 570_000 * YUAN
    for line in lines:
        s.settle(batch, line, amount=390_000 * YUAN)
    s.transfer(county, institution, 528_000 * YUAN)
    s.expend(county, 30_000 * YUAN)
    state = funds_of(s)
    row = state.accounts.rows[county]
    assert row.available_fen == 12_000 * YUAN
    assert row.committed_unsettled_fen == 0
    assert row.settled_fen == 780_000 * YUAN
    assert row.appropriated_fen == 1_450_000 * YUAN
    assert row.appropriated_matching_fen == 400_000 * YUAN
    assert row.appropriated_by_source == (
        '{"COUNTY_BUDGET":40000000,"PROVINCIAL_SUBSIDY":100000000,"WELFARE_LOTTERY":5000000}'
    )
    assert state.accounts.rows[institution].available_fen == 528_000 * YUAN
    assert state.accounts.rows[institution].opened == 1


def test_failed_line_is_released_then_reissued_and_returned_money_comes_back() -> None:
    s = Scenario()
    acct = s.open_account()
    s.receive(acct, 100_000)
    batch, (l1, l2) = s.prepare(acct, ["e1", "e2"], amount=10_000)
    s.approve(batch, [l1, l2])
    s.fail(batch, l1)
    s.settle(batch, l2, 10_000)
    row = funds_of(s).accounts.rows[acct]
    assert (row.committed_unsettled_fen, row.failed_fen, row.settled_fen) == (0, 10_000, 10_000)
    assert row.available_fen == 90_000
    new_line = s.reissue(batch, l1)
    assert funds_of(s).accounts.rows[acct].committed_unsettled_fen == 10_000
    s.settle(batch, new_line, 10_000)
    s.returned(batch, l2, 10_000)
    row = funds_of(s).accounts.rows[acct]
    assert row.returned_payments_fen == 10_000
    assert row.available_fen == 90_000  # 100,000 - 2 x 10,000 settled + 10,000 returned


def test_unauthorised_settlements_are_recorded_not_dropped() -> None:
    s = Scenario()
    acct = s.open_account()
    s.receive(acct, 50_000)
    batch, (line,) = s.prepare(acct, ["e1"], amount=10_000)  # never approved
    s.settle(batch, line, 10_000)
    s.settle(batch, line, 10_000)  # and paid twice
    s.settle("batch-nobody-knows", "line-x", 777)
    s.settle_expenditure(acct, "exp-never-authorised", 5_000)
    state = funds_of(s)
    row = state.accounts.rows[acct]
    assert row.unauthorised_settled_fen == 20_000
    assert row.unauthorised_expenditures_fen == 5_000
    assert row.available_fen == 50_000 - 25_000
    (unplaced,) = state.unplaced.rows.values()
    assert (unplaced.event_type, unplaced.subject_id, unplaced.amount_fen) == (
        "PaymentSettled",
        "line-x",
        777,
    )


def test_fact_on_an_unopened_account_makes_an_unopened_row() -> None:
    s = Scenario()
    s.receive("fund-not-opened", 1_000)
    row = funds_of(s).accounts.rows["fund-not-opened"]
    assert (row.opened, row.received_fen, row.available_fen) == (0, 1_000, 1_000)


def test_fund_identity_holds_after_every_event_of_a_random_history() -> None:
    s = Scenario(seed=7)
    for i in range(2_000):
        s.random_step(i * 7919 % 17, i * 31, i * 17)
    state = FundLedgerProjection().fold_all(events_of(s))
    versions = state.accounts.versions
    assert len(versions) > 1_000
    cols = [name for name, _ in state.accounts.table.row_type.COLUMNS]
    for _, _, values in versions:
        row = dict(zip(cols, values, strict=True))
        assert row["available_fen"] == (
            row["received_fen"]
            + row["transfers_in_fen"]
            + row["returned_payments_fen"]
            - row["committed_unsettled_fen"]
            - row["settled_fen"]
            - row["unauthorised_settled_fen"]
            - row["expenditures_committed_fen"]
            - row["expenditures_settled_fen"]
            - row["unauthorised_expenditures_fen"]
            - row["transfers_out_fen"]
            - row["returned_to_treasury_fen"]
        )
        assert row["committed_unsettled_fen"] >= 0
