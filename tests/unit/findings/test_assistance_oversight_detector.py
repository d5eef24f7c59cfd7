"""AF-TA-NO-MONTHLY-APPROVAL: temporary assistance approved and spot-checked every month."""

from __future__ import annotations

from ledger.domain.model import DomainEvent
from ledger.findings.assistance import TempAssistanceOversight
from tests.unit.findings.builders import Feed


def _component(feed: Feed, code: str, programme: str) -> None:
    feed.event(
        "BenefitComponentDefined",
        code,
        {
            "component_code": code,
            "programme_code": programme,
            "payer_level": "TOWNSHIP",
            "beneficiary": "HOUSEHOLD",
            "amount_rule": "CAP",
            "cap_fen": 300_000,
            "period_cap_fen": None,
            "period": "EPISODE",
            "must_be_less_than_out_of_pocket": False,
            "max_per_household_per_year": None,
        },
        actor="admin-1",
        on="2024-01-02",
    )


def _grant(feed: Feed, grant_id: str, component: str, on: str) -> DomainEvent:
    return feed.event(
        "BenefitGranted",
        grant_id,
        {
            "grant_id": grant_id,
            "component_code": component,
            "household_id": "hh-1",
            "person_id": None,
            "episode_id": None,
            "period": on[:7],
            "amount_fen": 50_000,
            "fast_track": False,
            "basis": {"months": None, "out_of_pocket_fen": None, "prior_grants_fen": 0},
        },
        actor="reviewer-1",  # acts for township-1
        on=on,
    )


def _approve(feed: Feed, month: str) -> None:
    feed.event(
        "TempAssistanceMonthlyApproval",
        f"township-1.{month}",
        {"township_org_id": "township-1", "month": month, "case_ids": [], "approver": "p"},
        actor="reviewer-1",
        on=f"{month}-25",
    )


def _spot_check(feed: Feed, month: str, programme: str = "TEMP_ASSISTANCE") -> None:
    feed.event(
        "SpotCheckCompleted",
        f"sc-{month}",
        {
            "spot_check_id": f"sc-{month}",
            "programme": programme,
            "township_org_id": "township-1",
            "month": month,
            "sampled_case_ids": [],
            "results": [],
        },
        actor="checker-1",
        on=f"{month}-28",
    )


def test_a_month_of_grants_with_no_approval_and_no_spot_check_is_found_after_the_next() -> None:
    feed = Feed([TempAssistanceOversight()])
    _component(feed, "TA-BASIC", "TEMP_ASSISTANCE")
    first = _grant(feed, "g-1", "TA-BASIC", "2024-03-05")
    second = _grant(feed, "g-2", "TA-BASIC", "2024-03-19")
    assert feed.findings("2024-04-30") == []  # March may still be approved in April
    [found] = feed.findings("2024-05-01")
    assert found.code == "AF-TA-NO-MONTHLY-APPROVAL"
    assert found.subject_refs == ("TEMP_ASSISTANCE", "township-1", "2024-03")
    assert found.evidence_event_ids == (first.event_id, second.event_id)
    assert found.severity == "M"
    assert found.summary.endswith(
        "2 TEMP_ASSISTANCE grant(s) in 2024-03 with no monthly approval and no spot check"
    )


def test_an_approved_month_without_its_spot_check_is_still_found() -> None:
    feed = Feed([TempAssistanceOversight()])
    _component(feed, "TA-BASIC", "TEMP_ASSISTANCE")
    _grant(feed, "g-1", "TA-BASIC", "2024-03-05")
    _approve(feed, "2024-03")
    _spot_check(feed, "2024-03", programme="MEDICAL_AID")  # another programme's check
    [found] = feed.findings("2024-05-01")
    assert found.summary.endswith("in 2024-03 with no spot check")


def test_an_approved_and_checked_month_or_another_programme_is_no_finding() -> None:
    feed = Feed([TempAssistanceOversight()])
    _component(feed, "TA-BASIC", "TEMP_ASSISTANCE")
    _component(feed, "PRICE", "PRICE_SUBSIDY")
    _grant(feed, "g-1", "TA-BASIC", "2024-03-05")
    _grant(feed, "g-2", "PRICE", "2024-03-05")  # not a monthly-approval programme
    _approve(feed, "2024-03")
    _spot_check(feed, "2024-03")
    assert feed.findings("2024-12-31") == []
