"""W10.5, W11 and W15.11: implementation plans, scheduling meetings, bulletins, the mid-year
assessment (EX-BEDS-1/2, N-CI-3) and the year-end result feedback."""

from __future__ import annotations

from typing import Any

from ledger.domain.assessment_w11 import plans_filed
from ledger.domain.model import SOFT_FINDINGS, DomainEvent, SoftFinding
from tests.unit.domain import assessment_builders as ab
from tests.unit.domain.case_builders import Actor, FakeDirectory, World, refused

ACTORS = {
    **ab.ACTORS,
    # An office officer seconded from county-A: may not assess county-A (SOD-3).
    "officer-A": Actor("county-A", "assessment_office_officer", "p-officer-a"),
}
BEDS_MILESTONES = [
    {"date": "2024-06-30", "fraction": "0.6"},
    {"date": "2024-11-30", "fraction": "1"},
]


def world_with_agreement() -> World:
    """County A's agreement with a 300-bed indicator (N-CI-2..4) under social assistance."""
    world = World(directory=FakeDirectory(ab.ORGS, ACTORS))
    ab.publish_scheme(world)
    beds = ab.indicator("BEDS", "SOCIAL_ASSISTANCE", "10", target="300", milestones=BEDS_MILESTONES)
    ab.sign_agreement(world, "county-A", ab.standard_indicators(SOCIAL_ASSISTANCE=[beds]))
    return world


def findings(world: World, code: str) -> list[SoftFinding]:
    return [f for f in world.state.table(SOFT_FINDINGS).values() if f.finding_code == code]


# --- W10.5 implementation plans ---------------------------------------------------------------


def file_plan(world: World, org_id: str, actor: str = "county-A-gov") -> DomainEvent:
    return world.emit(
        "ImplementationPlanFiled",
        "agr-county-A",
        {"org_id": org_id, "document_sha256": ab.SHA, "filed_at": "2024-02-01"},
        actor=actor,
        on="2024-02-01",
    )


def test_the_agent_and_its_decomposition_units_file_implementation_plans() -> None:
    world = world_with_agreement()
    world.emit(
        "TargetDecomposed",
        "agr-county-A",
        {
            "parent_indicator_id": "BEDS",
            "assignments": [
                {"org_id": "township-A1", "target_value": "150"},
                {"org_id": "township-A2", "target_value": "150"},
            ],
        },
        actor="county-A-gov",
        on="2024-01-20",
    )

    county = file_plan(world, "county-A")
    township = file_plan(world, "township-A1")

    assert plans_filed(world.state, "agr-county-A") == (
        ("county-A", county.event_id),
        ("township-A1", township.event_id),
    )


def test_a_plan_by_a_unit_outside_the_agreement_is_refused() -> None:
    world = world_with_agreement()

    with refused("ENV-8"):
        file_plan(world, "county-B", actor="county-B-gov")
    with refused("ENV-8"):
        file_plan(world, "township-A1")  # not (yet) a decomposition unit


# --- W11 meetings and bulletins ---------------------------------------------------------------


def meeting(world: World, stream: str = "county-A", attendees: list[str] | None = None) -> None:
    world.emit(
        "SchedulingMeetingHeld",
        stream,
        {
            "organiser_org_id": "county-A",
            "level": "COUNTY",
            "cadence": "MONTHLY",
            "held_on": "2024-03-04",
            "attendee_org_ids": ["township-A1", "township-A2"] if attendees is None else attendees,
            "content_sha256": ab.SHA,
        },
        actor="county-A-gov",
        on="2024-03-04",
    )


def test_a_scheduling_meeting_is_recorded_on_the_organisers_stream() -> None:
    world = world_with_agreement()

    meeting(world)

    with refused("ENV-8"):
        meeting(world, stream="county-B")
    with refused("ENV-8"):
        meeting(world, attendees=["township-Z9"])


def bulletin(world: World, rows: list[tuple[str, str]], cites: str | None = None) -> DomainEvent:
    payload: dict[str, Any] = {
        "publisher_org_id": "office-1",
        "scheme_id": ab.SCHEME,
        "period": "2024-Q1",
        "scope_org_id": "city-1",
        "content_sha256": ab.SHA,
        "ranking": [{"assessee": a, "score": s} for a, s in rows] or None,
        "ranking_event_id": cites,
    }
    return world.emit("BulletinPublished", "office-1", payload, actor="officer-1", on="2024-04-02")


def period_ranking(world: World) -> DomainEvent:
    return world.emit(
        "PeriodRankingPublished",
        ab.SCHEME,
        {
            "scheme_id": ab.SCHEME,
            "period": "2024-Q1",
            "ranking": [
                {"assessee": "county-A", "score": "92"},
                {"assessee": "county-B", "score": "88"},
            ],
        },
        actor="officer-1",
        on="2024-04-01",
    )


def test_a_bulletin_with_the_published_ranking_raises_nothing() -> None:
    world = world_with_agreement()
    ranking = period_ranking(world)

    bulletin(world, [("county-A", "92"), ("county-B", "88")], cites=ranking.event_id)
    bulletin(world, [])

    assert findings(world, "AF-SCO-MISMATCH") == []


def test_a_bulletin_ranking_out_of_score_order_is_kept_and_raises_af_sco_mismatch() -> None:
    world = world_with_agreement()

    event = bulletin(world, [("county-B", "88"), ("county-A", "92")])

    assert [f.event_id for f in findings(world, "AF-SCO-MISMATCH")] == [event.event_id]


def test_a_bulletin_that_misprints_the_cited_ranking_raises_af_sco_mismatch() -> None:
    world = world_with_agreement()
    ranking = period_ranking(world)

    event = bulletin(world, [("county-B", "93"), ("county-A", "92")], cites=ranking.event_id)

    assert [f.event_id for f in findings(world, "AF-SCO-MISMATCH")] == [event.event_id]


def test_a_bulletin_citing_something_other_than_a_ranking_is_refused() -> None:
    world = world_with_agreement()

    with refused("ENV-8"):
        bulletin(world, [], cites="no-such-ranking")


# --- W11 mid-year assessment (EX-BEDS-1 / EX-BEDS-2) ------------------------------------------


def midyear(
    world: World, beds: str, *, actor: str = "officer-1", as_of: str = "2024-06-30", **extra: Any
) -> DomainEvent:
    payload: dict[str, Any] = {
        "scheme_id": ab.SCHEME,
        "assessee": "county-A",
        "as_of": as_of,
        "progress_summary": [{"indicator_id": "BEDS", "value": beds}],
        "survey_ref": None,
        "survey_composite": None,
    }
    payload.update(extra)
    return world.emit(
        "MidYearAssessmentRecorded", ab.year_stream("county-A"), payload, actor=actor, on=as_of
    )


def test_ex_beds_1_170_beds_on_30_june_misses_the_60_percent_milestone() -> None:
    world = world_with_agreement()

    event = midyear(world, "170")

    missed = findings(world, "AF-TGT-MILESTONE")
    assert [f.event_id for f in missed] == [event.event_id]
    assert dict(missed[0].evidence)["milestones"] == "180"


def test_ex_beds_2_185_beds_on_30_june_meets_the_milestone() -> None:
    world = world_with_agreement()

    midyear(world, "185")

    assert findings(world, "AF-TGT-MILESTONE") == []


def test_the_november_milestone_is_not_due_at_mid_year_but_is_by_december() -> None:
    world = world_with_agreement()

    midyear(world, "290", as_of="2024-07-01")
    late = midyear(world, "290", as_of="2024-12-01")

    assert [f.event_id for f in findings(world, "AF-TGT-MILESTONE")] == [late.event_id]


def test_the_mid_year_check_is_not_by_the_assessee() -> None:
    world = world_with_agreement()

    with refused("SOD-3"):
        midyear(world, "185", actor="officer-A")


def test_the_mid_year_check_names_the_agreements_indicators_and_the_scheme_year() -> None:
    world = world_with_agreement()

    with refused("ENV-8"):
        midyear(world, "185", progress_summary=[{"indicator_id": "NOPE", "value": "1"}])
    with refused("ENV-8"):
        midyear(world, "185", as_of="2025-06-30")


# --- W15.11 result feedback ---------------------------------------------------------------------


def notify(world: World, consolidation: str, s: str, rank: int) -> DomainEvent:
    return world.emit(
        "AssessmentResultNotified",
        ab.year_stream("county-A"),
        {
            "scheme_id": ab.SCHEME,
            "assessee": "county-A",
            "consolidation_event_id": consolidation,
            "S": s,
            "rank": rank,
            "result_sha256": ab.SHA,
        },
        actor="officer-1",
        on="2025-02-02",
    )


def test_the_result_is_notified_as_consolidated_ex_annual_1() -> None:
    world = ab.assessment_world()
    ab.annual_year(world)

    with refused("ENV-7"):
        notify(world, "not-yet", "100.4", 2)
    consolidated = ab.consolidate(world)

    notify(world, consolidated.event_id, "100.40", 2)
    with refused("SCO-6"):
        notify(world, consolidated.event_id, "100.5", 2)
    with refused("SCO-6"):
        notify(world, consolidated.event_id, "100.4", 1)
