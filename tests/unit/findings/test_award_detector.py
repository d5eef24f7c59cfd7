"""AF-AWD-INCONSISTENT over the EX-ANNUAL ranking of the assessment tests (C 102.8, A 100.4,
B 96.125 vetoed on MEDICAL-2)."""

from __future__ import annotations

from typing import Any

from ledger.domain.model import DomainEvent
from ledger.findings.awards import AwardConsistency
from tests.unit.domain.assessment_builders import EXPECTED_RANKING, SCHEME, row, scheme_payload
from tests.unit.findings.builders import Feed


def _year(feed: Feed, ranking: list[dict[str, Any]] | None = None, *, ratify: bool = True) -> None:
    feed.event(
        "AssessmentSchemePublished", SCHEME, scheme_payload(), actor="officer-1", on="2024-01-05"
    )
    feed.event(
        "AssessmentConsolidated",
        SCHEME,
        {"scheme_id": SCHEME, "ranking": EXPECTED_RANKING if ranking is None else ranking},
        actor="officer-1",
        on="2025-01-28",
    )
    if ratify:
        feed.event(
            "AwardsRatified",
            SCHEME,
            {"scheme_id": SCHEME, "approval_event_id": "approval-1"},
            actor="gov-1",
            on="2025-02-10",
        )


def _award(
    feed: Feed, assessee: str, kind: str = "COMPREHENSIVE", category: str | None = None
) -> DomainEvent:
    return feed.event(
        "AwardGranted",
        f"{SCHEME}:{assessee}",
        {
            "scheme_id": SCHEME,
            "assessee": assessee,
            "award_type": kind,
            "category": category,
            "person_ref": None,
            "basis_event_ids": ["ratified-1"],
        },
        actor="officer-1",
        on="2025-02-12",
    )


def _last_place(feed: Feed, assessee: str) -> DomainEvent:
    return feed.event(
        "LastPlaceDesignated",
        f"{SCHEME}:{assessee}",
        {"scheme_id": SCHEME, "assessee": assessee, "basis_event_ids": ["ratified-1"]},
        actor="officer-1",
        on="2025-02-12",
    )


def test_the_ratified_awards_of_the_ex_annual_year_are_consistent() -> None:
    feed = Feed([AwardConsistency()])
    _year(feed)
    _award(feed, "county-C")
    _award(feed, "county-A")
    _award(feed, "county-B", "SINGLE_ITEM", "EMPLOYMENT")  # the best non-winner
    _last_place(feed, "county-B")  # the lowest S, and B missed a target

    assert feed.findings() == []


def test_a_comprehensive_award_to_the_vetoed_unit_is_inconsistent() -> None:
    feed = Feed([AwardConsistency()])
    _year(feed)
    award = _award(feed, "county-B")

    [found] = feed.findings()
    assert (found.code, found.subject_refs, found.rule_ref, found.severity) == (
        "AF-AWD-INCONSISTENT",
        (SCHEME, award.event_id),
        "AWD-1",
        "H",
    )
    assert "vetoed" in found.summary


def test_an_award_before_ratification_or_after_a_revocation_is_inconsistent() -> None:
    feed = Feed([AwardConsistency()])
    _year(feed, ratify=False)
    early = _award(feed, "county-C")
    revocation = feed.event(
        "AwardEligibilityRevoked",
        f"{SCHEME}:county-A",
        {"scheme_id": SCHEME, "assessee": "county-A", "year": 2024, "cause_event_ids": ["x"]},
        actor="officer-1",
        on="2025-01-30",
    )
    late = _award(feed, "county-A")

    found = {f.subject_refs[1]: f for f in feed.findings()}
    assert {k: f.rule_ref for k, f in found.items()} == {
        early.event_id: "AWD-5",
        late.event_id: "AWD-5, AWD-7",  # one award, one finding, every rule it breaks
    }
    assert revocation.event_id in found[late.event_id].evidence_event_ids
    assert "before the awards were ratified; after its eligibility was revoked" in (
        found[late.event_id].summary
    )


def test_a_comprehensive_winner_also_winning_a_single_item_is_inconsistent() -> None:
    feed = Feed([AwardConsistency()])
    _year(feed)
    _award(feed, "county-C")
    single = _award(feed, "county-C", "SINGLE_ITEM", "EMPLOYMENT")

    assert feed.codes() == [("AF-AWD-INCONSISTENT", (SCHEME, single.event_id))]
    assert feed.findings()[0].rule_ref == "AWD-2"


def test_awards_beyond_the_quota_are_inconsistent() -> None:
    feed = Feed([AwardConsistency()])
    ranking = [row(f"county-{i}", str(100 - i), "6", "5", str(89 - i), "0", []) for i in range(5)]
    _year(feed, ranking)
    for i in range(4):  # the 002 quota is 3 comprehensive awards
        _award(feed, f"county-{i}")
    _award(feed, "county-4", "SINGLE_ITEM", "POVERTY_ALLEVIATION")  # no single-item quota

    found = {f.subject_refs: f for f in feed.findings()}
    assert set(found) == {
        (SCHEME, "COMPREHENSIVE"),
        (SCHEME, "SINGLE_ITEM", "POVERTY_ALLEVIATION"),
    }
    assert (
        "granted 4 comprehensive award(s); its quota is 3" in found[SCHEME, "COMPREHENSIVE"].summary
    )
    assert all(f.rule_ref == "AWD-3" for f in found.values())


def test_a_last_place_that_is_not_the_lowest_or_when_everyone_met_is_inconsistent() -> None:
    feed = Feed([AwardConsistency()])
    _year(feed)
    wrong = _last_place(feed, "county-A")
    [found] = feed.findings()
    assert found.subject_refs == (SCHEME, wrong.event_id)
    assert "S = 100.4, above the last-place S = 96.125" in found.summary

    everyone_met = Feed([AwardConsistency()])
    _year(
        everyone_met,
        [{**r, "vetoed": False, "failing_indicator_ids": []} for r in EXPECTED_RANKING],
    )
    _last_place(everyone_met, "county-B")
    [found] = everyone_met.findings()
    assert "every unit met every target" in found.summary and found.rule_ref == "AWD-4"


# --- cash rewards and fines (AWD-6) on EX-CASH-1 / EX-CASH-2 -------------------------------------

PLEDGE_SCHEDULE = {
    "rewards_fen": [300_000, 200_000, 100_000],
    "fines_fen": [300_000, 200_000, 100_000],
}


def _cash_year(feed: Feed, units: int) -> DomainEvent:
    """A scheme with the pledge-signing schedule and a ranking of ``units`` units U1..Un."""
    feed.event(
        "AssessmentSchemePublished",
        SCHEME,
        scheme_payload(reward_schedule=PLEDGE_SCHEDULE),
        actor="officer-1",
        on="2024-01-05",
    )
    scores = [95, 93, 90, 88, 85, 80, 78][:units]
    return feed.event(
        "PeriodRankingPublished",
        SCHEME,
        {
            "scheme_id": SCHEME,
            "period": "2024-Q4",
            "ranking": [{"assessee": f"U{i + 1}", "score": str(s)} for i, s in enumerate(scores)],
        },
        actor="officer-1",
        on="2025-01-05",
    )


def _cash(
    feed: Feed, ranking: DomainEvent, unit: str, kind: str, position: int, yuan: int
) -> DomainEvent:
    return feed.event(
        "MonetaryRewardGranted" if kind == "REWARD" else "MonetaryPenaltyImposed",
        f"{SCHEME}:{unit}",
        {
            "scheme_id": SCHEME,
            "assessee": unit,
            "amount_fen": yuan * 100,
            "position": position,
            "ranking_event_id": ranking.event_id,
        },
        actor="gov-1",
        on="2025-01-10",
    )


def test_ex_cash_1_the_schedule_paid_exactly_is_consistent() -> None:
    feed = Feed([AwardConsistency()])
    ranking = _cash_year(feed, 7)
    for unit, position, yuan in (("U1", 1, 3_000), ("U2", 2, 2_000), ("U3", 3, 1_000)):
        _cash(feed, ranking, unit, "REWARD", position, yuan)
    for unit, position, yuan in (("U7", 1, 3_000), ("U6", 2, 2_000), ("U5", 3, 1_000)):
        _cash(feed, ranking, unit, "FINE", position, yuan)

    assert feed.findings() == []


def test_ex_cash_1_a_wrong_amount_or_a_unit_outside_the_schedule_is_inconsistent() -> None:
    feed = Feed([AwardConsistency()])
    ranking = _cash_year(feed, 7)
    wrong = _cash(feed, ranking, "U2", "REWARD", 2, 3_000)
    nothing_due = _cash(feed, ranking, "U4", "FINE", 4, 500)

    found = {f.subject_refs[1]: f for f in feed.findings()}
    assert set(found) == {wrong.event_id, nothing_due.event_id}
    assert (
        "records 300000 fen as #2; the schedule gives 200000 fen as #2"
        in found[wrong.event_id].summary
    )
    assert "the schedule gives no fine" in found[nothing_due.event_id].summary
    assert all(f.rule_ref == "AWD-6" for f in found.values())


def test_ex_cash_2_a_unit_rewarded_third_is_not_also_fined_third_last() -> None:
    feed = Feed([AwardConsistency()])
    ranking = _cash_year(feed, 5)
    reward = _cash(feed, ranking, "U3", "REWARD", 3, 1_000)
    fine = _cash(feed, ranking, "U3", "FINE", 3, 1_000)  # third-last of five: EX-CASH-2 says no
    _cash(feed, ranking, "U5", "FINE", 1, 3_000)
    _cash(feed, ranking, "U4", "FINE", 2, 2_000)

    found = {f.subject_refs[1]: f.summary for f in feed.findings()}
    # Both halves of the pair are flagged; the fine is also not in the schedule (no 3rd fine).
    assert set(found) == {reward.event_id, fine.event_id}
    assert "both rewarded and fined" in found[reward.event_id]
    assert "the schedule gives no fine; although the unit is both" in found[fine.event_id]
