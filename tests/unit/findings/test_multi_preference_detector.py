"""AF-CAP-MULTI-PREFERENCE: one special preferential policy per household and year (CAP-3)."""

from __future__ import annotations

from ledger.domain.model import DomainEvent
from ledger.findings.preferences import MultiplePreferences
from tests.unit.findings.builders import Feed

SHA = "9" * 64


def _policy(feed: Feed, code: str, limit: int | None = 1) -> None:
    feed.event(
        "BenefitComponentDefined",
        code,
        {
            "component_code": code,
            "programme_code": "HARDSHIP_ASSISTANCE",
            "payer_level": "TOWNSHIP",
            "beneficiary": "HOUSEHOLD",
            "amount_rule": "ONE_OFF",
            "cap_fen": 200_000,
            "period_cap_fen": None,
            "period": "YEAR",
            "must_be_less_than_out_of_pocket": False,
            "max_per_household_per_year": limit,
        },
        actor="admin-1",
        on="2024-01-02",
    )


def _grant(feed: Feed, grant_id: str, code: str, period: str = "2024-04") -> DomainEvent:
    return feed.event(
        "BenefitGranted",
        grant_id,
        {
            "grant_id": grant_id,
            "component_code": code,
            "household_id": "hh-1",
            "person_id": None,
            "episode_id": None,
            "period": period,
            "amount_fen": 100_000,
            "fast_track": False,
            "basis": {"months": None, "out_of_pocket_fen": None, "prior_grants_fen": 0},
        },
        actor="reviewer-1",
        on=f"{period}-10",
    )


def _exception(feed: Feed, code: str) -> None:
    feed.event(
        "ExceptionApproved",
        "hh-1",
        {
            "household_id": "hh-1",
            "year": 2024,
            "extra_policy_code": code,
            "reason": "severe illness in the household",
            "co_approver_actor_id": "gov-1",
            "co_approval_sha256": SHA,
        },
        actor="reviewer-1",
        on="2024-03-01",
    )


def test_a_second_special_policy_in_a_year_without_an_exception_is_found() -> None:
    feed = Feed([MultiplePreferences()])
    _policy(feed, "HOUSING")
    _policy(feed, "EDUCATION")
    housing = _grant(feed, "g-1", "HOUSING")
    _grant(feed, "g-2", "HOUSING", period="2024-06")  # the same policy again: not a second one
    education = _grant(feed, "g-3", "EDUCATION")
    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-CAP-MULTI-PREFERENCE", ("hh-1", "2024"))
    assert found.evidence_event_ids == (housing.event_id, education.event_id)
    assert found.severity == "M"
    assert "EDUCATION granted beyond the limit" in found.summary


def test_an_exception_a_new_year_or_an_ordinary_component_is_no_finding() -> None:
    feed = Feed([MultiplePreferences()])
    _policy(feed, "HOUSING")
    _policy(feed, "EDUCATION")
    _policy(feed, "TEMP", limit=None)  # not a special preferential policy
    _exception(feed, "EDUCATION")
    _grant(feed, "g-1", "HOUSING")
    _grant(feed, "g-2", "EDUCATION")
    _grant(feed, "g-3", "TEMP")
    _grant(feed, "g-4", "HOUSING", period="2025-02")
    assert feed.findings() == []
