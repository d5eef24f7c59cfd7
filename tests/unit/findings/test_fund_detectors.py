"""AF-FUND-MATCHING (F-MATCHING shortfall at year end) and AF-FUND-DIVERSION (挤占)."""

from __future__ import annotations

from ledger.findings.funds import Diversion, MatchingShortfall
from tests.unit.findings.builders import Feed

SHA = "7" * 64


def _account(feed: Feed, purposes: list[str], account: str = "fund-1") -> None:
    feed.event(
        "FundAccountOpened",
        account,
        {
            "fund_account_id": account,
            "owner_org_id": "county-1",
            "bank_account_ref_hmac": SHA,
            "ledger_id": f"ledger-{account}",
            "programme_codes": ["TEKUN"],
            "purposes": purposes,
            "fiscal_year": 2024,
        },
        actor="finance-1",
        on="2024-01-02",
    )


def _commit(feed: Feed, amount_fen: int) -> None:
    feed.event(
        "MatchingFundCommitted",
        "county-1",
        {
            "commitment_id": "mc-1",
            "admin_unit_id": "county-1",
            "programme_code": "TEKUN",
            "year": 2024,
            "amount_fen": amount_fen,
            "agreement_id": "agr-1",
        },
        actor="gov-1",
        on="2024-01-02",
    )


def _appropriate(feed: Feed, appropriation: str, amount_fen: int, *, matching: bool) -> None:
    feed.event(
        "FundAppropriated",
        "fund-1",
        {
            "appropriation_id": appropriation,
            "source": "COUNTY_BUDGET" if matching else "CENTRAL_SUBSIDY",
            "amount_fen": amount_fen,
            "document_ref": f"doc-{appropriation}",
            "is_matching_fund": matching,
        },
        actor="finance-1",
        on="2024-01-10",
    )


def _receive(feed: Feed, appropriation: str, amount_fen: int, value_date: str) -> None:
    feed.event(
        "FundReceived",
        "fund-1",
        {"appropriation_id": appropriation, "amount_fen": amount_fen, "value_date": value_date},
        actor="finance-1",
        on=value_date,
    )


def _matching_year(feed: Feed) -> None:
    """1,500,000 fen committed; 800,000 appropriated as matching, 500,000 of it received in
    2024; a non-matching subsidy fully received (it does not count)."""
    _account(feed, ["BASIC_LIVING", "CARE"])
    _commit(feed, 1_500_000)
    _appropriate(feed, "ap-central", 2_000_000, matching=False)
    _receive(feed, "ap-central", 2_000_000, "2024-02-01")
    _appropriate(feed, "ap-county", 800_000, matching=True)
    _receive(feed, "ap-county", 500_000, "2024-06-30")


def test_a_shortfall_is_found_only_once_the_year_is_over() -> None:
    feed = Feed([MatchingShortfall()])
    _matching_year(feed)
    assert feed.findings("2024-12-31") == []

    [found] = feed.findings("2025-01-01")

    assert (found.code, found.subject_refs, found.severity) == (
        "AF-FUND-MATCHING",
        ("county-1", "TEKUN", "2024"),
        "M",
    )
    assert "500000 fen had arrived by 31 December (1/3), 1000000 fen short" in found.summary
    assert found.rule_ref == "F-MATCHING v1"


def test_money_arriving_after_31_december_does_not_make_up_the_year() -> None:
    feed = Feed([MatchingShortfall()])
    _matching_year(feed)
    _appropriate(feed, "ap-county-2", 1_000_000, matching=True)
    _receive(feed, "ap-county-2", 1_000_000, "2025-01-15")

    [found] = feed.findings()
    assert "1000000 fen short" in found.summary


def test_matching_money_received_in_full_within_the_year_is_clean() -> None:
    feed = Feed([MatchingShortfall()])
    _matching_year(feed)
    _appropriate(feed, "ap-county-2", 1_000_000, matching=True)
    _receive(feed, "ap-county-2", 1_000_000, "2024-12-31")

    assert feed.findings("2025-03-01") == []


def _expenditure(feed: Feed, purpose: str, expenditure: str = "exp-1") -> None:
    feed.event(
        "FundExpenditureAuthorised",
        "fund-1",
        {
            "expenditure_id": expenditure,
            "purpose": purpose,
            "payee_org_id": "inst-1",
            "amount_fen": 1_200_000,
            "invoice_sha256": SHA,
        },
        actor="finance-1",
        on="2024-05-06",
    )


def test_an_overhead_charged_to_a_basic_living_account_is_diversion() -> None:
    feed = Feed([Diversion()])
    _account(feed, ["BASIC_LIVING", "CARE"])
    _expenditure(feed, "CARE", "exp-care")  # a benefit purpose: fine
    _expenditure(feed, "CONSTRUCTION", "exp-build")

    [found] = feed.findings()
    assert (found.code, found.subject_refs, found.rule_ref, found.severity) == (
        "AF-FUND-DIVERSION",
        ("exp-build",),
        "FUND-2",
        "H",
    )
    assert "for CONSTRUCTION" in found.summary
    assert found.admin_unit_id == "county-1"


def test_an_overhead_the_earmark_covers_or_an_overhead_only_account_is_not_diversion() -> None:
    feed = Feed([Diversion()])
    _account(feed, ["BASIC_LIVING", "INSTITUTION_MANAGEMENT"])
    _expenditure(feed, "INSTITUTION_MANAGEMENT")
    _account(feed, ["CONSTRUCTION"], account="fund-2")
    feed.event(
        "FundExpenditureAuthorised",
        "fund-2",
        {
            "expenditure_id": "exp-2",
            "purpose": "OFFICE_RENOVATION",
            "payee_org_id": "builder-1",
            "amount_fen": 10,
            "invoice_sha256": SHA,
        },
        actor="finance-1",
        on="2024-05-06",
    )

    assert feed.findings() == []
