"""Earmarked fund accounts (W8): FUND-1, FUND-2, FUND-3, FUND-5, SOD-5 and the §4.8 identity."""

from __future__ import annotations

import pytest

from ledger.domain import funds, payments
from ledger.errors import AuthorizationError
from tests.unit.domain.money_builders import MoneyLedger, refused


@pytest.fixture
def ledger() -> MoneyLedger:
    return MoneyLedger()


def identity(balance: funds.FundBalance) -> int:
    """The §4.8 identity, written out independently of ``FundBalance.available_fen``."""
    return (
        balance.received_fen
        + balance.transfers_in_fen
        + balance.recovered_fen
        + balance.carried_in_fen
        - balance.committed_unsettled_fen
        - balance.settled_payments_fen
        - balance.expenditures_fen
        - balance.transfers_out_fen
        - balance.carried_out_fen
        - balance.returned_to_treasury_fen
    )


# --- EX-FUND-1 (domain.md §5.14), in fen ---------------------------------------------------


def test_ex_fund_1_county_tekun_account_ends_with_12000_yuan(ledger: MoneyLedger) -> None:
    ledger.define_programme("WUBAO", "YEARLY")
    county = ledger.open_fund("fund-county-2024")
    provincial = ledger.appropriate(county, 100_000_000, source="PROVINCIAL_SUBSIDY")
    matching = ledger.appropriate(county, 40_000_000, source="COUNTY_BUDGET", is_matching_fund=True)
    lottery = ledger.appropriate(county, 5_000_000, source="WELFARE_LOTTERY")

    ledger.receive(county, provincial, 100_000_000)
    assert ledger.available(county) == 100_000_000
    ledger.receive(county, matching, 30_000_000)
    assert ledger.available(county) == 130_000_000
    ledger.receive(county, lottery, 5_000_000)
    assert ledger.available(county) == 135_000_000

    dispersed = [ledger.enrol("WUBAO", first_payable_period="2024-01") for _ in range(600)]
    batch_id = ledger.pay(county, "2024-01", dispersed, programme_code="WUBAO")
    assert ledger.balance(county).committed_unsettled_fen == 78_000_000
    assert ledger.available(county) == 57_000_000
    ledger.settle_batch(batch_id)
    assert ledger.balance(county).committed_unsettled_fen == 0
    assert ledger.balance(county).settled_payments_fen == 78_000_000
    assert ledger.available(county) == 57_000_000

    institution = ledger.open_fund(
        "fund-inst-1-2024", owner_org_id="inst-1", purposes=("BASIC_LIVING",)
    )
    ledger.transfer(county, institution, 52_800_000)  # 200 persons x 2,640 yuan
    assert ledger.available(county) == 4_200_000
    assert ledger.available(institution) == 52_800_000

    ledger.authorise_expenditure(county, 3_000_000, purpose="INSTITUTION_MANAGEMENT")
    assert ledger.available(county) == 1_200_000

    with refused("FUND-2"):
        ledger.authorise_expenditure(county, 6_000_000, purpose="OFFICE_RENOVATION")
    with refused("FUND-1"):
        ledger.authorise_expenditure(county, 2_000_000, purpose="INSTITUTION_MANAGEMENT")

    balance = ledger.balance(county)
    assert balance.available_fen == identity(balance) == 1_200_000
    # The matching shortfall (400,000 - 300,000 yuan) stays visible for AF-FUND-MATCHING.
    county_matching = funds.appropriation(ledger.state, county, matching)
    assert county_matching is not None
    assert (county_matching.amount_fen, county_matching.received_fen) == (40_000_000, 30_000_000)
    assert county_matching.is_matching_fund


# --- FundAccountOpened (FUND-5) ------------------------------------------------------------


def test_second_open_account_with_the_same_earmark_is_refused(ledger: MoneyLedger) -> None:
    ledger.open_fund("fund-a")

    with refused("FUND-5") as caught:
        ledger.open_fund("fund-b")

    assert caught.value.evidence["existing_fund_account_id"] == "fund-a"


def test_earmark_key_ignores_the_order_of_programmes_and_purposes(ledger: MoneyLedger) -> None:
    ledger.open_fund("fund-a", programmes=("WUBAO", "TEKUN"), purposes=("BASIC_LIVING", "CARE"))

    with refused("FUND-5"):
        ledger.open_fund("fund-b", programmes=("TEKUN", "WUBAO"), purposes=("CARE", "BASIC_LIVING"))


def test_accounts_differing_in_year_owner_or_earmark_may_coexist(ledger: MoneyLedger) -> None:
    ledger.open_fund("fund-2024")

    ledger.open_fund("fund-2025", fiscal_year=2025)
    ledger.open_fund("fund-inst", owner_org_id="inst-1")
    ledger.open_fund("fund-tekun", programmes=("TEKUN",))

    assert funds.account(ledger.state, "fund-tekun") is not None


def test_opening_an_account_id_twice_is_refused(ledger: MoneyLedger) -> None:
    ledger.open_fund("fund-a")

    with refused("ENV-7"):
        ledger.open_fund("fund-a", fiscal_year=2025)


def test_opening_an_account_for_an_unknown_owner_is_refused(ledger: MoneyLedger) -> None:
    with refused("ENV-8"):
        ledger.open_fund(owner_org_id="nowhere")


def test_opening_an_account_outside_the_actors_scope_is_refused(ledger: MoneyLedger) -> None:
    with pytest.raises(AuthorizationError):
        ledger.open_fund(owner_org_id="county-1", actor="finance-t2")


def test_account_stream_must_be_the_account_it_opens(ledger: MoneyLedger) -> None:
    payload = {
        "fund_account_id": "fund-a",
        "owner_org_id": "county-1",
        "bank_account_ref_hmac": "ab" * 32,
        "ledger_id": "book",
        "programme_codes": ["TEKUN"],
        "purposes": ["BASIC_LIVING"],
        "fiscal_year": 2024,
    }

    with refused("ENV-5"):
        ledger.emit("FundAccountOpened", "fund-b", payload, actor="finance")


# --- FundAppropriated / FundReceived -------------------------------------------------------


def test_appropriation_to_an_unknown_account_is_refused(ledger: MoneyLedger) -> None:
    with refused("ENV-8"):
        ledger.appropriate("no-such-fund", 1_000)


def test_appropriation_id_is_unique_per_account(ledger: MoneyLedger) -> None:
    fund = ledger.open_fund()
    ledger.appropriate(fund, 1_000, appropriation_id="a-1")

    with refused("ENV-7"):
        ledger.appropriate(fund, 2_000, appropriation_id="a-1")


def test_appropriation_of_zero_is_refused_even_if_the_schema_let_it_through(
    ledger: MoneyLedger,
) -> None:
    fund = ledger.open_fund()

    with refused("ENV-5"):
        ledger.appropriate(fund, 0, validate=False)


def test_appropriation_does_not_make_money_available_until_it_arrives(
    ledger: MoneyLedger,
) -> None:
    fund = ledger.open_fund()

    appropriation_id = ledger.appropriate(fund, 5_000)

    assert ledger.balance(fund).appropriated_fen == 5_000
    assert ledger.available(fund) == 0
    ledger.receive(fund, appropriation_id, 5_000)
    assert ledger.available(fund) == 5_000


def test_receipt_for_an_unknown_appropriation_is_counted_and_remembered(
    ledger: MoneyLedger,
) -> None:
    fund = ledger.open_fund()

    ledger.receive(fund, "never-appropriated", 7_000)

    assert ledger.available(fund) == 7_000
    [unmatched] = funds.unmatched_receipts(ledger.state)
    assert (unmatched.appropriation_id, unmatched.reason) == (
        "never-appropriated",
        "UNKNOWN_APPROPRIATION",
    )


def test_receipt_on_an_unknown_account_is_accepted_and_remembered(ledger: MoneyLedger) -> None:
    ledger.receive("no-such-fund", "a-1", 7_000)

    [unmatched] = funds.unmatched_receipts(ledger.state)
    assert (unmatched.fund_account_id, unmatched.reason) == ("no-such-fund", "UNKNOWN_ACCOUNT")


# --- FundTransferred (FUND-3, FUND-1) ------------------------------------------------------


@pytest.fixture
def county_fund(ledger: MoneyLedger) -> str:
    fund = ledger.open_fund("fund-county")
    ledger.fund(fund, 1_000_000)
    return fund


def test_transfer_to_a_narrower_earmark_moves_the_money(
    ledger: MoneyLedger, county_fund: str
) -> None:
    target = ledger.open_fund(
        "fund-inst", owner_org_id="inst-1", programmes=("TEKUN",), purposes=("BASIC_LIVING",)
    )

    ledger.transfer(county_fund, target, 400_000)

    assert ledger.balance(county_fund).transfers_out_fen == 400_000
    assert ledger.available(county_fund) == 600_000
    assert ledger.balance(target).transfers_in_fen == 400_000
    assert ledger.available(target) == 400_000


def test_transfer_to_an_unknown_account_is_refused(ledger: MoneyLedger, county_fund: str) -> None:
    with refused("ENV-8"):
        ledger.transfer(county_fund, "no-such-fund", 1_000)


def test_transfer_to_the_same_account_is_refused(ledger: MoneyLedger, county_fund: str) -> None:
    with refused("FUND-3"):
        ledger.transfer(county_fund, county_fund, 1_000)


def test_transfer_to_an_account_with_other_programmes_is_refused(
    ledger: MoneyLedger, county_fund: str
) -> None:
    target = ledger.open_fund(
        owner_org_id="inst-1", programmes=("TEKUN", "DIBAO_RURAL"), purposes=("BASIC_LIVING",)
    )

    with refused("FUND-3") as caught:
        ledger.transfer(county_fund, target, 1_000)

    assert caught.value.evidence["extra_programmes"] == ["DIBAO_RURAL"]


def test_transfer_to_an_account_with_other_purposes_is_refused(
    ledger: MoneyLedger, county_fund: str
) -> None:
    target = ledger.open_fund(owner_org_id="inst-1", purposes=("BASIC_LIVING", "GENERAL_OFFICE"))

    with refused("FUND-3") as caught:
        ledger.transfer(county_fund, target, 1_000)

    assert caught.value.evidence["extra_purposes"] == ["GENERAL_OFFICE"]


def test_transfer_for_a_purpose_outside_the_destination_earmark_is_refused(
    ledger: MoneyLedger, county_fund: str
) -> None:
    target = ledger.open_fund(owner_org_id="inst-1", purposes=("BASIC_LIVING",))

    with refused("FUND-3"):
        ledger.transfer(county_fund, target, 1_000, purpose="INSTITUTION_MANAGEMENT")


def test_transfer_for_a_purpose_outside_the_source_earmark_is_refused(
    ledger: MoneyLedger,
) -> None:
    source = ledger.open_fund(purposes=("BASIC_LIVING",))
    ledger.fund(source, 10_000)
    target = ledger.open_fund(owner_org_id="inst-1", purposes=("BASIC_LIVING",))

    with refused("FUND-3"):
        ledger.transfer(source, target, 1_000, purpose="CARE")


def test_transfer_into_another_fiscal_year_is_refused(
    ledger: MoneyLedger, county_fund: str
) -> None:
    next_year = ledger.open_fund(owner_org_id="inst-1", fiscal_year=2025)

    with refused("FUND-3"):
        ledger.transfer(county_fund, next_year, 1_000)


def test_transfer_above_the_available_balance_is_refused(
    ledger: MoneyLedger, county_fund: str
) -> None:
    target = ledger.open_fund(owner_org_id="inst-1")

    with refused("FUND-1"):
        ledger.transfer(county_fund, target, 1_000_001)

    assert ledger.available(county_fund) == 1_000_000
    ledger.transfer(county_fund, target, 1_000_000)
    assert ledger.available(county_fund) == 0


def test_transfer_id_is_unique_per_account(ledger: MoneyLedger, county_fund: str) -> None:
    target = ledger.open_fund(owner_org_id="inst-1")
    ledger.transfer(county_fund, target, 1_000, transfer_id="t-1")

    with refused("ENV-7"):
        ledger.transfer(county_fund, target, 1_000, transfer_id="t-1")


# --- Expenditures (FUND-2, FUND-1, SOD-5) --------------------------------------------------


def test_expenditure_for_a_purpose_outside_the_earmark_is_refused(
    ledger: MoneyLedger, county_fund: str
) -> None:
    with refused("FUND-2"):
        ledger.authorise_expenditure(county_fund, 1_000, purpose="GENERAL_OFFICE")


def test_expenditure_above_the_available_balance_is_refused(
    ledger: MoneyLedger, county_fund: str
) -> None:
    with refused("FUND-1"):
        ledger.authorise_expenditure(county_fund, 1_000_001)


def test_institution_manager_cannot_authorise_money_to_their_own_institution(
    ledger: MoneyLedger,
) -> None:
    institution_fund = ledger.open_fund(owner_org_id="inst-1")
    ledger.fund(institution_fund, 10_000)

    with refused("SOD-5"):
        ledger.authorise_expenditure(
            institution_fund, 1_000, payee_org_id="inst-1", actor="inst-manager"
        )

    ledger.authorise_expenditure(institution_fund, 1_000, payee_org_id="inst-1", actor="finance")
    assert ledger.available(institution_fund) == 9_000


def test_finance_office_cannot_authorise_an_expenditure_to_itself(
    ledger: MoneyLedger, county_fund: str
) -> None:
    with refused("SOD-5"):
        ledger.authorise_expenditure(county_fund, 1_000, payee_org_id="county-1")


def test_expenditure_id_is_unique_per_account(ledger: MoneyLedger, county_fund: str) -> None:
    ledger.authorise_expenditure(county_fund, 1_000, expenditure_id="e-1")

    with refused("ENV-7"):
        ledger.authorise_expenditure(county_fund, 1_000, expenditure_id="e-1")


def test_settling_an_authorised_expenditure_leaves_the_balance_unchanged(
    ledger: MoneyLedger, county_fund: str
) -> None:
    expenditure_id = ledger.authorise_expenditure(county_fund, 30_000)
    assert ledger.available(county_fund) == 970_000

    ledger.settle_expenditure(county_fund, expenditure_id, 30_000)

    balance = ledger.balance(county_fund)
    assert (balance.expenditures_fen, balance.expenditures_settled_fen) == (30_000, 30_000)
    assert balance.available_fen == identity(balance) == 970_000
    assert funds.unauthorised_expenditures(ledger.state) == []


def test_settlement_of_an_unauthorised_expenditure_is_accepted_and_recorded(
    ledger: MoneyLedger, county_fund: str
) -> None:
    ledger.settle_expenditure(county_fund, "never-authorised", 5_000)

    [record] = funds.unauthorised_expenditures(ledger.state)
    assert (record.expenditure_id, record.amount_fen, record.reason) == (
        "never-authorised",
        5_000,
        "NOT_AUTHORISED",
    )
    assert ledger.available(county_fund) == 1_000_000


def test_second_settlement_of_an_expenditure_is_recorded_as_unauthorised(
    ledger: MoneyLedger, county_fund: str
) -> None:
    expenditure_id = ledger.authorise_expenditure(county_fund, 30_000)
    ledger.settle_expenditure(county_fund, expenditure_id, 30_000)

    ledger.settle_expenditure(county_fund, expenditure_id, 30_000)

    [record] = funds.unauthorised_expenditures(ledger.state)
    assert record.reason == "ALREADY_SETTLED"
    assert ledger.balance(county_fund).expenditures_settled_fen == 30_000


# --- FundReturnedToTreasury (FUND-1) -------------------------------------------------------


def test_return_to_treasury_reduces_the_available_balance(
    ledger: MoneyLedger, county_fund: str
) -> None:
    ledger.return_to_treasury(county_fund, 250_000)

    balance = ledger.balance(county_fund)
    assert balance.returned_to_treasury_fen == 250_000
    assert balance.available_fen == identity(balance) == 750_000


def test_return_to_treasury_above_the_available_balance_is_refused(
    ledger: MoneyLedger, county_fund: str
) -> None:
    ledger.authorise_expenditure(county_fund, 400_000)

    with refused("FUND-1"):
        ledger.return_to_treasury(county_fund, 600_001)


def test_returning_money_from_an_unknown_account_is_refused(ledger: MoneyLedger) -> None:
    with refused("ENV-8"):
        ledger.return_to_treasury("no-such-fund", 1)


def test_balance_of_an_unknown_account_is_none(ledger: MoneyLedger) -> None:
    assert funds.fund_balance(ledger.state, "no-such-fund") is None
    assert payments.batch(ledger.state, "no-such-batch") is None
