"""Working-day deadlines (domain.md §5.13) and the soft SLA invariants APP-9 and TRM-3
(→ AF-APP-SLA), plus SCO-8 (→ AF-INS-TOO-FEW) on inspection-based annual grades."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ledger.domain import sla, sla_inspections
from ledger.domain.model import SOFT_FINDINGS, SoftFinding
from tests.unit.domain.assessment_builders import (
    SCHEME,
    annual_year,
    assessment_world,
    consolidate,
    year_stream,
)
from tests.unit.domain.case_builders import (
    SHA_A,
    SHA_B,
    Actor,
    Case,
    Org,
    World,
    define_programme,
    refused,
    seeded_world,
)

CALENDAR_2024 = {
    "year": 2024,
    "region": "national",
    # Mid-Autumn festival 2024 (§5.13): 15-17 September off, Saturday 14 September worked.
    "holidays": ["2024-09-15", "2024-09-16", "2024-09-17"],
    "extra_working_days": ["2024-09-14"],
}


def soft(world: World, rule: str) -> list[SoftFinding]:
    return [f for f in world.state.table(SOFT_FINDINGS).values() if f.rule == rule]


def publish_calendar(world: World, **overrides: Any) -> None:
    payload = {**CALENDAR_2024, **overrides}
    world.emit(
        "WorkingDayCalendarPublished",
        str(payload["year"]),
        payload,
        actor="admin-1",
        on="2023-12-01",
    )


# --- working days (§5.13) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2024, 3, 4), 10, date(2024, 3, 18)),  # accepted on a Monday
        (date(2024, 3, 29), 3, date(2024, 4, 3)),  # rejection notice after a Friday decision
        (date(2024, 9, 2), 15, date(2024, 9, 23)),  # termination objection, no holidays
    ],
)
def test_working_day_periods_start_the_day_after_the_trigger(
    start: date, days: int, due: date
) -> None:
    assert sla.add_working_days(start, days, {}) == due


def test_the_published_calendar_moves_the_termination_deadline_to_24_september() -> None:
    world, _ = seeded_world()
    publish_calendar(world)

    assert sla.due_date(world.state, date(2024, 9, 2), 15) == date(2024, 9, 24)


def test_a_calendar_lists_only_days_of_its_year() -> None:
    world, _ = seeded_world()

    with refused("ENV-5"):
        publish_calendar(world, holidays=["2025-01-01"])
    with refused("ENV-5"):
        publish_calendar(world, extra_working_days=["2024-09-15"])
    with refused("ENV-8"):
        world.emit(
            "WorkingDayCalendarPublished", "2025", CALENDAR_2024, actor="admin-1", on="2023-12-01"
        )


# --- APP-9: acceptance → opinion ----------------------------------------------------------------


def accepted(application_id: str = "app-1", **programme: Any) -> Case:
    world, seeded = seeded_world()
    if programme:
        define_programme(world, "TEKUN", **programme)
    return Case(world, seeded, application_id).submit().accept().authorise()


def test_app_9_an_opinion_on_the_tenth_working_day_is_on_time() -> None:
    case = accepted()

    case.investigate(on="2024-03-12").opinion(on="2024-03-18")

    assert soft(case.world, "APP-9") == []


def test_app_9_an_opinion_after_ten_working_days_raises_af_app_sla() -> None:
    case = accepted()

    case.investigate(on="2024-03-12").opinion(on="2024-03-19")

    [finding] = soft(case.world, "APP-9")
    assert finding.finding_code == "AF-APP-SLA"
    evidence = dict(finding.evidence)
    assert (evidence["started_on"], evidence["due"], evidence["working_days"]) == (
        "2024-03-04",
        "2024-03-18",
        10,
    )


def test_app_9_the_investigation_deadline_is_the_programmes() -> None:
    case = accepted(investigation_working_days=5)
    amended = case.world.state.table(sla.PROGRAMME_DAYS)["TEKUN"]

    case.investigate(on="2024-03-08").opinion(on="2024-03-12")

    [finding] = soft(case.world, "APP-9")
    assert dict(finding.evidence)["due"] == "2024-03-11"
    assert dict(finding.evidence)["limit_event_id"] == amended.event_id


def reopened(on: str) -> Case:
    """An objection received on 2024-03-20 is upheld; the case is reinvestigated and a new
    opinion is issued ``on``."""
    case = accepted().investigate().opinion().post_notice().object(received_on="2024-03-20")
    case.resolve(finding="UPHELD", on="2024-03-22")
    return case.investigate(on="2024-03-28").opinion(on=on)


def test_app_9_a_new_opinion_within_ten_working_days_of_an_upheld_objection_is_on_time() -> None:
    case = reopened(on="2024-04-03")

    assert soft(case.world, "APP-9") == []


def test_app_9_a_late_new_opinion_after_an_upheld_objection_raises_af_app_sla() -> None:
    case = reopened(on="2024-04-04")

    [finding] = soft(case.world, "APP-9")
    evidence = dict(finding.evidence)
    assert (evidence["started_on"], evidence["due"], evidence["objection_id"]) == (
        "2024-03-20",
        "2024-04-03",
        "obj-1",
    )


# --- APP-9: forwarding → county decision → rejection notice --------------------------------------


def forwarded() -> Case:
    world, seeded = seeded_world()
    return Case(world, seeded).to_forwarded().sample().spot_check()


def notify(case: Case, on: str) -> None:
    assert case.decision is not None
    case.emit(
        "DecisionNotified",
        {
            "decision_event_id": case.decision.event_id,
            "recipients": [case.person],
            "channel": "WRITTEN",
            "document_sha256": SHA_A,
            "reasons": ["has an able obligor"],
        },
        actor="reviewer-1",
        on=on,
    )


def test_app_9_a_county_decision_within_ten_working_days_of_forwarding_is_on_time() -> None:
    # Forwarded on 2024-03-26: ten working days end on 2024-04-09.
    case = forwarded().reject(on="2024-04-09")

    assert soft(case.world, "APP-9") == []


def test_app_9_a_late_county_decision_raises_af_app_sla() -> None:
    case = forwarded().reject(on="2024-04-10")

    [finding] = soft(case.world, "APP-9")
    assert dict(finding.evidence)["due"] == "2024-04-09"
    assert case.decision is not None
    assert finding.event_id == case.decision.event_id


def test_app_9_the_rejection_notice_is_due_within_three_working_days() -> None:
    # §5.13: rejection decided on Friday 2024-03-29, notice due by 2024-04-03.
    on_time = forwarded().reject(on="2024-03-29")
    notify(on_time, on="2024-04-03")
    late = forwarded().reject(on="2024-03-29")
    notify(late, on="2024-04-04")

    assert soft(on_time.world, "APP-9") == []
    [finding] = soft(late.world, "APP-9")
    assert dict(finding.evidence)["due"] == "2024-04-03"
    assert dict(finding.evidence)["limit_event_id"] is None  # the documented default


def test_app_9_published_service_levels_replace_the_default_notice_deadline() -> None:
    case = forwarded()
    levels = case.world.emit(
        "ServiceLevelsPublished",
        "TEKUN",
        {
            "programme_code": "TEKUN",
            "rejection_notice_working_days": 5,
            "termination_decision_working_days": 15,
        },
        actor="gov-1",
        on="2024-01-02",
    )
    case.reject(on="2024-03-29")

    notify(case, on="2024-04-05")

    assert soft(case.world, "APP-9") == []
    assert sla.service_levels(case.world.state, "TEKUN").event_id == levels.event_id


def test_service_levels_need_a_defined_programme_on_its_stream() -> None:
    world, _ = seeded_world()
    payload = {
        "programme_code": "WUBAO",
        "rejection_notice_working_days": 3,
        "termination_decision_working_days": 15,
    }

    with refused("ENV-8"):
        world.emit("ServiceLevelsPublished", "WUBAO", payload, actor="gov-1")
    with refused("ENV-8"):
        world.emit(
            "ServiceLevelsPublished",
            "TEKUN",
            {**payload, "programme_code": "DIBAO_RURAL"},
            actor="gov-1",
        )


# --- TRM-3: objection → termination decision -----------------------------------------------------


def objected_termination() -> tuple[World, str]:
    """An enrolment whose termination notice drew an objection on Monday 2024-09-02."""
    world, seeded = seeded_world()
    enrolment_id = Case(world, seeded).to_enrolled()
    world.emit(
        "TerminationProposed",
        enrolment_id,
        {"reason_code": "NO_LONGER_ELIGIBLE", "evidence": [SHA_A], "death_date": None},
        actor="reviewer-1",
        on="2024-08-20",
    )
    world.emit(
        "PublicNoticePosted",
        "tn-1",
        {
            "notice_id": "tn-1",
            "kind": "TERMINATION",
            "subject_ids": [enrolment_id],
            "location_org_id": "village-1",
            "start_date": "2024-08-28",
            "end_date": "2024-09-03",
            "content_sha256": SHA_A,
        },
        actor="reviewer-1",
        on="2024-08-28",
    )
    world.emit(
        "ObjectionReceived",
        "tn-1",
        {
            "objection_id": "obj-t",
            "subject_id": enrolment_id,
            "received_on": "2024-09-02",
            "channel": "WRITTEN",
            "content_sha256": SHA_A,
        },
        actor="clerk-1",
        on="2024-09-02",
    )
    world.emit(
        "PublicNoticeClosed",
        "tn-1",
        {"closed_on": "2024-09-04"},
        actor="reviewer-1",
        on="2024-09-04",
    )
    world.emit(
        "ObjectionInvestigated",
        "tn-1",
        {"objection_id": "obj-t", "finding": "DISMISSED", "summary_sha256": SHA_B},
        actor="approver-1",
        on="2024-09-05",
    )
    return world, enrolment_id


def terminate(
    world: World,
    enrolment_id: str,
    on: str,
    effective: str = "2024-10",
    notice: str | None = "tn-1",
) -> None:
    world.emit(
        "TerminationDecided",
        enrolment_id,
        {"effective_period": effective, "reasons": ["no longer eligible"], "notice_id": notice},
        actor="approver-1",
        on=on,
    )


def test_trm_3_a_decision_within_15_working_days_of_the_objection_is_on_time() -> None:
    world, enrolment_id = objected_termination()

    terminate(world, enrolment_id, on="2024-09-23")

    assert soft(world, "TRM-3") == []


def test_trm_3_a_later_decision_raises_af_app_sla() -> None:
    world, enrolment_id = objected_termination()

    terminate(world, enrolment_id, on="2024-09-24")

    [finding] = soft(world, "TRM-3")
    assert finding.finding_code == "AF-APP-SLA"
    assert dict(finding.evidence)["due"] == "2024-09-23"
    assert dict(finding.evidence)["objection_id"] == "obj-t"


def test_trm_3_counts_on_the_published_calendar() -> None:
    world, enrolment_id = objected_termination()
    publish_calendar(world)

    terminate(world, enrolment_id, on="2024-09-24")

    assert soft(world, "TRM-3") == []


def test_trm_3_a_termination_without_objection_has_no_clock() -> None:
    world, seeded = seeded_world()
    enrolment_id = Case(world, seeded).to_enrolled()
    world.emit(
        "TerminationProposed",
        enrolment_id,
        {"reason_code": "DECEASED", "evidence": [SHA_A], "death_date": "2024-08-10"},
        actor="reviewer-1",
        on="2024-08-20",
    )

    terminate(world, enrolment_id, on="2024-12-20", effective="2025-01", notice=None)

    assert soft(world, "TRM-3") == []


# --- SCO-8: inspection-based annual grades -------------------------------------------------------


def graded_scheme_world() -> World:
    """The consolidated EX-ANNUAL world plus an inspection team that inspects under it."""
    world = assessment_world()
    annual_year(world)
    consolidate(world)
    world.directory.orgs["team-org-1"] = Org("INSPECTION_TEAM", "city-1")
    for actor, role in (("lead-1", "inspection_team_lead"), ("insp-1", "inspector")):
        world.directory.actors[actor] = Actor("team-org-1", role, f"p-{actor}")
    world.directory.actors["insp-2"] = Actor("team-org-1", "inspector", "p-insp-2")
    return world


def scored_inspection(world: World, inspection_id: str, target: str = "county-C") -> None:
    world.emit(
        "InspectionPlanned",
        inspection_id,
        {
            "inspection_id": inspection_id,
            "type": "ROUTINE",
            "mode": "UNANNOUNCED",
            "target_org_ids": [target],
            "team_actor_ids": ["insp-1", "insp-2"],
            "methods": ["SITE_VIEW"],
            "window": {"start": "2024-05-06", "end": "2024-05-07"},
            "scheme_id": SCHEME,
        },
        actor="lead-1",
        on="2024-05-01",
    )
    world.emit(
        "InspectionConducted",
        inspection_id,
        {
            "started_at": "2024-05-06T09:00:00+08:00",
            "ended_at": "2024-05-06T16:00:00+08:00",
            "locations": ["county seat"],
        },
        actor="insp-1",
        on="2024-05-06",
    )
    world.emit(
        "InspectionScoreRecorded",
        inspection_id,
        {"target_org_id": target, "raw_score": "92", "item_deductions": [], "single_score": "92"},
        actor="lead-1",
        on="2024-05-06",
    )


def grade_c(world: World) -> None:
    world.emit(
        "GradeAssigned",
        year_stream("county-C"),
        {
            "scheme_id": SCHEME,
            "assessee": "county-C",
            "grade": "EXCELLENT",
            "passed_city_acceptance": True,
            "passed_provincial_acceptance": True,
            "basis_event_ids": ["basis-1"],
        },
        actor="officer-1",
    )


def test_sco_8_a_grade_on_three_scored_inspections_raises_af_ins_too_few() -> None:
    world = graded_scheme_world()
    for n in range(3):
        scored_inspection(world, f"ins-{n}")

    grade_c(world)

    [finding] = soft(world, "SCO-8")
    assert finding.finding_code == "AF-INS-TOO-FEW"
    evidence = dict(finding.evidence)
    assert (evidence["scored"], evidence["min_inspections"]) == (3, 4)
    assert evidence["limit_event_id"] is None  # the 004 篇三 default


def test_sco_8_four_scored_inspections_are_enough() -> None:
    world = graded_scheme_world()
    for n in range(4):
        scored_inspection(world, f"ins-{n}")

    grade_c(world)

    assert soft(world, "SCO-8") == []


def test_sco_8_inspections_of_another_unit_do_not_count() -> None:
    world = graded_scheme_world()
    for n in range(4):
        scored_inspection(world, f"ins-{n}", target="county-B")

    grade_c(world)

    [finding] = soft(world, "SCO-8")
    assert dict(finding.evidence)["scored"] == 0


def test_sco_8_the_minimum_is_the_published_cadence() -> None:
    world = graded_scheme_world()
    cadence = world.emit(
        "InspectionCadencePublished",
        SCHEME,
        {"scheme_id": SCHEME, "min_inspections": 2},
        actor="officer-1",
    )
    for n in range(2):
        scored_inspection(world, f"ins-{n}")

    grade_c(world)

    assert soft(world, "SCO-8") == []
    assert world.state.table(sla_inspections.CADENCES)[SCHEME].event_id == cadence.event_id


def test_sco_8_a_scheme_without_inspections_is_not_inspection_based() -> None:
    world = graded_scheme_world()

    grade_c(world)

    assert soft(world, "SCO-8") == []


def test_a_cadence_needs_a_published_scheme_on_its_stream() -> None:
    world = graded_scheme_world()

    with refused("ENV-8"):
        world.emit(
            "InspectionCadencePublished",
            "other",
            {"scheme_id": "other", "min_inspections": 4},
            actor="officer-1",
        )
    with refused("ENV-8"):
        world.emit(
            "InspectionCadencePublished",
            "other",
            {"scheme_id": SCHEME, "min_inspections": 4},
            actor="officer-1",
        )
