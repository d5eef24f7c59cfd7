"""The rest of W8: matching funds, carry-over (FUND-4), recovery and returned payments."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ledger.domain import funds, funds_matching
from ledger.domain.model import SOFT_FINDINGS, SoftFinding
from ledger.errors import AuthorizationError
from tests.unit.domain.money_builders import MoneyLedger, refused


@pytest.fixture
def ledger() -> MoneyLedger:
    return MoneyLedger()


def identity(balance: funds.FundBalance) -> int:
    """The full §4.8 identity, written out independently of ``FundBalance.available_fen``."""
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


def soft_findings(ledger: MoneyLedger) -> list[SoftFinding]:
    return list(ledger.state.table(SOFT_FINDINGS).values())


HARDSHIP = {"programmes": ("HARDSHIP_ASSISTANCE",), "purposes": ("HARDSHIP_POOL",)}


def hardship_pool(ledger: MoneyLedger, year: int, owner: str = "township-1") -> str:
    return ledger.open_fund(
        f"pool-{owner}-{year}", owner_org_id=owner, fiscal_year=year, **HARDSHIP
    )


# --- EX-FUND-1 matching shortfall (domain.md §5.14) ----------------------------------------


def test_ex_fund_1_matching_funds_300000_of_400000_yuan_received_is_three_quarters(
    ledger: MoneyLedger,
) -> None:
    county = ledger.open_fund("fund-county-2024")
    ledger.commit_matching(40_000_000, programme_code="TEKUN")
    provincial = ledger.appropriate(county, 100_000_000, source="PROVINCIAL_SUBSIDY")
    matching = ledger.appropriate(county, 40_000_000, source="COUNTY_BUDGET", is_matching_fund=True)
    ledger.receive(county, provincial, 100_000_000)

    ledger.receive(county, matching, 30_000_000)

    result = funds_matching.compliance(ledger.state, "county-1", "TEKUN", 2024)
    assert (result.committed_fen, result.appropriated_fen, result.received_fen) == (
        40_000_000,
        40_000_000,
        30_000_000,
    )
    assert result.shortfall_fen == 10_000_000  # 100,000 yuan: AF-FUND-MATCHING
    assert result.ratio == Fraction(3, 4)
    assert (result.formula_id, result.formula_version) == ("F-MATCHING", 1)


def test_compliance_counts_only_matching_money_of_the_units_own_accounts_for_that_year(
    ledger: MoneyLedger,
) -> None:
    ledger.commit_matching(1_000_000)
    own = ledger.open_fund("fund-own")
    ledger.receive(own, ledger.appropriate(own, 600_000, is_matching_fund=True), 600_000)
    ledger.fund(own, 5_000_000)  # not matching money
    institution = ledger.open_fund("fund-inst", owner_org_id="inst-1")
    ledger.receive(
        institution, ledger.appropriate(institution, 300_000, is_matching_fund=True), 300_000
    )
    next_year = ledger.open_fund("fund-2025", fiscal_year=2025)
    ledger.receive(next_year, ledger.appropriate(next_year, 200_000, is_matching_fund=True), 1)

    result = funds_matching.compliance(ledger.state, "county-1", "TEKUN", 2024)

    assert (result.committed_fen, result.received_fen) == (1_000_000, 600_000)
    assert result.ratio == Fraction(3, 5)


def test_commitments_for_the_same_key_add_up(ledger: MoneyLedger) -> None:
    ledger.commit_matching(300_000)
    ledger.commit_matching(100_000)
    ledger.commit_matching(999_999, programme_code="DIBAO_RURAL")

    result = funds_matching.compliance(ledger.state, "county-1", "TEKUN", 2024)

    assert result.committed_fen == 400_000
    assert result.ratio == Fraction(0)


def test_money_on_a_multi_programme_account_counts_toward_each_programme(
    ledger: MoneyLedger,
) -> None:
    fund = ledger.open_fund(programmes=("WUBAO", "TEKUN"))
    ledger.receive(fund, ledger.appropriate(fund, 500_000, is_matching_fund=True), 500_000)

    keys = [
        (r.key.programme_code, r.received_fen) for r in funds_matching.all_compliance(ledger.state)
    ]

    assert keys == [("TEKUN", 500_000), ("WUBAO", 500_000)]


def test_without_a_commitment_the_ratio_is_undefined(ledger: MoneyLedger) -> None:
    fund = ledger.open_fund()
    ledger.receive(fund, ledger.appropriate(fund, 500_000, is_matching_fund=True), 500_000)

    result = funds_matching.compliance(ledger.state, "county-1", "TEKUN", 2024)

    assert (result.committed_fen, result.received_fen, result.ratio) == (0, 500_000, None)
    assert result.shortfall_fen == 0


@pytest.mark.parametrize(
    ("committed", "received", "expected"),
    [(400, 300, Fraction(3, 4)), (3, 1, Fraction(1, 3)), (100, 150, Fraction(3, 2)), (0, 5, None)],
)
def test_compliance_ratio_is_exact_and_uncapped(
    committed: int, received: int, expected: Fraction | None
) -> None:
    assert funds_matching.compliance_ratio(committed, received) == expected


def test_commitment_on_another_units_stream_is_refused(ledger: MoneyLedger) -> None:
    with refused("ENV-5"):
        ledger.commit_matching(1_000, stream_id="county-2")


def test_commitment_for_an_unknown_unit_is_refused(ledger: MoneyLedger) -> None:
    with refused("ENV-8"):
        ledger.commit_matching(1_000, admin_unit_id="nowhere")


def test_commitment_outside_the_approvers_scope_is_refused(ledger: MoneyLedger) -> None:
    with pytest.raises(AuthorizationError):
        ledger.commit_matching(1_000, actor="gov-t2")


def test_commitment_id_is_unique(ledger: MoneyLedger) -> None:
    ledger.commit_matching(1_000, commitment_id="c-1")

    with refused("ENV-7"):
        ledger.commit_matching(2_000, commitment_id="c-1")


# --- EX-FUND-2 carry-over (FUND-4) ---------------------------------------------------------


def ex_fund_2_pool_2024(ledger: MoneyLedger) -> str:
    """The 2024 township hardship pool of EX-FUND-2 after its grants (closing 72,000 yuan)."""
    pool_2023 = hardship_pool(ledger, 2023)
    ledger.fund(pool_2023, 3_400_000)
    pool_2024 = hardship_pool(ledger, 2024)
    ledger.carry_over(pool_2023, pool_2024, 3_400_000)
    ledger.fund(pool_2024, 5_000_000)
    assert ledger.available(pool_2024) == 8_400_000
    grants = [(3, 100_000), (8, 50_000), (2, 150_000), (1, 200_000)]
    for count, amount in grants:
        for _ in range(count):
            ledger.authorise_expenditure(
                pool_2024, amount, purpose="HARDSHIP_POOL", payee_org_id="village-1"
            )
    assert ledger.balance(pool_2024).expenditures_fen == 1_200_000
    return pool_2024


def test_ex_fund_2_closing_balance_of_72000_yuan_is_carried_into_2025(
    ledger: MoneyLedger,
) -> None:
    pool_2024 = ex_fund_2_pool_2024(ledger)
    assert ledger.available(pool_2024) == 7_200_000
    pool_2025 = hardship_pool(ledger, 2025)

    ledger.carry_over(pool_2024, pool_2025, 7_200_000)

    closed, opened = ledger.balance(pool_2024), ledger.balance(pool_2025)
    assert (closed.carried_in_fen, closed.carried_out_fen) == (3_400_000, 7_200_000)
    assert closed.available_fen == identity(closed) == 0
    assert opened.carried_in_fen == opened.available_fen == identity(opened) == 7_200_000
    assert soft_findings(ledger) == []


def test_ex_fund_2_carrying_70000_yuan_leaves_2000_unexplained(ledger: MoneyLedger) -> None:
    pool_2024 = ex_fund_2_pool_2024(ledger)
    pool_2025 = hardship_pool(ledger, 2025)

    event = ledger.carry_over(pool_2024, pool_2025, 7_000_000)

    [finding] = soft_findings(ledger)
    assert (finding.rule, finding.finding_code, finding.event_id) == (
        "FUND-4",
        "AF-FUND-CARRYOVER-MISMATCH",
        event.event_id,
    )
    assert dict(finding.evidence)["unexplained_fen"] == 200_000
    assert ledger.available(pool_2024) == 200_000
    record = funds.carry_over(ledger.state, pool_2024, event.payload["carry_over_id"])
    assert record is not None
    assert record.closing_balance_fen == 7_200_000


@pytest.fixture
def pool_2024(ledger: MoneyLedger) -> str:
    pool = hardship_pool(ledger, 2024)
    ledger.fund(pool, 1_000_000)
    return pool


@pytest.mark.parametrize(
    "destination",
    [
        {"fiscal_year": 2024, "owner_org_id": "township-2"},
        {"fiscal_year": 2026},
        {"fiscal_year": 2023},
        {"fiscal_year": 2025, "owner_org_id": "township-2"},
        {"fiscal_year": 2025, "programmes": ("HARDSHIP_ASSISTANCE", "TEMP_ASSISTANCE")},
        {"fiscal_year": 2025, "programmes": ("TEMP_ASSISTANCE",)},
        {"fiscal_year": 2025, "purposes": ("HARDSHIP_POOL", "GENERAL_OFFICE")},
    ],
    ids=[
        "same-year-other-owner",
        "two-years-on",
        "previous-year",
        "owner",
        "wider",
        "other",
        "purposes",
    ],
)
def test_carry_over_to_anything_but_next_years_same_earmark_is_refused(
    ledger: MoneyLedger, pool_2024: str, destination: dict[str, object]
) -> None:
    terms: dict[str, object] = {"owner_org_id": "township-1", **HARDSHIP, **destination}
    target = ledger.open_fund("pool-other", **terms)  # type: ignore[arg-type]

    with refused("FUND-4"):
        ledger.carry_over(pool_2024, target, 1_000)

    assert ledger.available(pool_2024) == 1_000_000


def test_carry_over_to_the_account_itself_is_refused(ledger: MoneyLedger, pool_2024: str) -> None:
    with refused("FUND-4"):
        ledger.carry_over(pool_2024, pool_2024, 1_000)


def test_carry_over_above_the_available_balance_is_refused(
    ledger: MoneyLedger, pool_2024: str
) -> None:
    pool_2025 = hardship_pool(ledger, 2025)
    ledger.authorise_expenditure(pool_2024, 100_000, purpose="HARDSHIP_POOL")

    with refused("FUND-1"):
        ledger.carry_over(pool_2024, pool_2025, 900_001)

    ledger.carry_over(pool_2024, pool_2025, 900_000)
    assert ledger.available(pool_2024) == 0


def test_carry_over_to_an_unknown_account_or_with_a_reused_id_is_refused(
    ledger: MoneyLedger, pool_2024: str
) -> None:
    pool_2025 = hardship_pool(ledger, 2025)
    with refused("ENV-8"):
        ledger.carry_over(pool_2024, "no-such-pool", 1_000)
    ledger.carry_over(pool_2024, pool_2025, 1_000, carry_over_id="co-1")

    with refused("ENV-7"):
        ledger.carry_over(pool_2024, pool_2025, 1_000, carry_over_id="co-1")


def test_carry_over_of_zero_is_refused_even_if_the_schema_let_it_through(
    ledger: MoneyLedger, pool_2024: str
) -> None:
    pool_2025 = hardship_pool(ledger, 2025)

    with refused("ENV-5"):
        ledger.carry_over(pool_2024, pool_2025, 0, validate=False)


def test_next_years_account_is_still_one_per_earmark(ledger: MoneyLedger, pool_2024: str) -> None:
    hardship_pool(ledger, 2025)

    with refused("FUND-5"):
        ledger.open_fund("pool-duplicate", owner_org_id="township-1", fiscal_year=2025, **HARDSHIP)


# --- FundRecovered and returned payments ---------------------------------------------------


def test_recovered_money_is_available_again(ledger: MoneyLedger, pool_2024: str) -> None:
    ledger.authorise_expenditure(pool_2024, 400_000, purpose="HARDSHIP_POOL")

    recovery_id = ledger.recover(pool_2024, 150_000, cause_event_id="overpayment-7")

    balance = ledger.balance(pool_2024)
    assert balance.recovered_fen == 150_000
    assert balance.available_fen == identity(balance) == 750_000
    record = funds.recovery(ledger.state, pool_2024, recovery_id)
    assert record is not None
    assert record.cause_event_id == "overpayment-7"


def test_recovery_id_is_unique_and_the_account_must_exist(
    ledger: MoneyLedger, pool_2024: str
) -> None:
    ledger.recover(pool_2024, 1_000, recovery_id="r-1")

    with refused("ENV-7"):
        ledger.recover(pool_2024, 1_000, recovery_id="r-1")
    with refused("ENV-8"):
        ledger.recover("no-such-pool", 1_000)


def test_recovery_outside_the_actors_scope_is_refused(ledger: MoneyLedger) -> None:
    county_fund = ledger.open_fund(owner_org_id="county-1")

    with pytest.raises(AuthorizationError):
        ledger.recover(county_fund, 1_000, actor="finance-t2")


def test_a_returned_payment_flows_back_into_the_available_balance(ledger: MoneyLedger) -> None:
    ledger.define_programme("WUBAO", "YEARLY")
    fund = ledger.open_fund()
    ledger.fund(fund, 1_000_000)
    enrolled = ledger.enrol("WUBAO", first_payable_period="2024-01")
    batch_id = ledger.pay(fund, "2024-01", [enrolled], programme_code="WUBAO")
    ledger.settle_batch(batch_id)
    assert ledger.available(fund) == 870_000

    ledger.return_payment(batch_id, ledger.line_ids(batch_id)[0], 130_000)

    balance = ledger.balance(fund)
    assert (balance.settled_payments_fen, balance.returned_payments_fen) == (0, 130_000)
    assert balance.available_fen == identity(balance) == 1_000_000
