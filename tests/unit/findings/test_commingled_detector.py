"""AF-FUND-COMMINGLED: one open dedicated account per earmark key (FUND-5 re-checked)."""

from __future__ import annotations

from ledger.domain.model import DomainEvent
from ledger.findings.fund_accounts import CommingledAccounts
from tests.unit.findings.builders import Feed

SHA = "a" * 64


def _open(
    feed: Feed,
    account: str,
    programmes: list[str],
    purposes: list[str],
    *,
    owner: str = "county-1",
    year: int = 2024,
) -> DomainEvent:
    return feed.event(
        "FundAccountOpened",
        account,
        {
            "fund_account_id": account,
            "owner_org_id": owner,
            "bank_account_ref_hmac": SHA,
            "ledger_id": f"ledger-{account}",
            "programme_codes": programmes,
            "purposes": purposes,
            "fiscal_year": year,
        },
        actor="finance-1",
        on="2024-01-02",
    )


def test_two_accounts_for_one_earmark_key_are_found() -> None:
    feed = Feed([CommingledAccounts()])
    first = _open(feed, "fund-a", ["TEKUN", "WUBAO"], ["BASIC_LIVING", "CARE"])
    second = _open(feed, "fund-b", ["WUBAO", "TEKUN"], ["CARE", "BASIC_LIVING"])  # same sets
    [found] = feed.findings()
    assert found.code == "AF-FUND-COMMINGLED"
    assert found.subject_refs == ("county-1", "2024", "fund-a", "fund-b")
    assert found.evidence_event_ids == (first.event_id, second.event_id)
    assert found.severity == "M"
    assert found.rule_ref is not None and found.rule_ref.startswith("FUND-5")


def test_accounts_differing_in_any_part_of_the_key_are_dedicated() -> None:
    feed = Feed([CommingledAccounts()])
    _open(feed, "fund-a", ["TEKUN"], ["BASIC_LIVING"])
    _open(feed, "fund-b", ["TEKUN"], ["CARE"])  # another purpose set
    _open(feed, "fund-c", ["TEKUN"], ["BASIC_LIVING"], owner="county-2")
    _open(feed, "fund-d", ["TEKUN"], ["BASIC_LIVING"], year=2025)  # the next year's account
    _open(feed, "fund-e", ["DIBAO_RURAL"], ["BASIC_LIVING"])
    assert feed.findings() == []
