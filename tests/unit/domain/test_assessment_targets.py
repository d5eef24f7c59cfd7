"""W10-W11 and W15.1 through the rules: schemes (SCO-1), agreements, decomposition, progress,
self-assessment deadlines (SCO-7)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain.model import SOFT_FINDINGS
from ledger.domain.scoring_scheme import literal_002_scheme
from ledger.errors import RuleViolation
from tests.unit.domain.assessment_builders import (
    SCHEME,
    assessment_world,
    indicator,
    publish_scheme,
    scheme_payload,
    sign_agreement,
    standard_indicators,
    year_stream,
)
from tests.unit.domain.case_builders import World, refused


def findings(world: World, code: str) -> list[Any]:
    return [f for f in world.state.table(SOFT_FINDINGS).values() if f.finding_code == code]


# --- SCO-1 schemes -------------------------------------------------------------------------------


def test_repaired_002_scheme_is_accepted() -> None:
    world = assessment_world()

    publish_scheme(world)

    config = world.state.table("asm.schemes")[SCHEME].config
    assert sum(config.categories.values()) == 88
    assert sum(config.sub_items.values()) == 6


def test_literal_002_scheme_is_refused_with_every_breach_named() -> None:
    world = assessment_world()
    payload = literal_002_scheme(SCHEME)
    payload["approved_by_actor_id"] = "sec-1"

    with pytest.raises(RuleViolation) as caught:
        world.emit("AssessmentSchemePublished", SCHEME, payload, actor="officer-1")

    assert caught.value.code == "SCO-1"
    message = str(caught.value)
    assert "not the total 200" in message
    assert "ORGANISATION_IMPLEMENTATION add up to 7" in message
    assert "categories add up to 108" in message


def test_scheme_whose_survey_rule_differs_from_the_component_is_refused() -> None:
    world = assessment_world()
    rules = {**scheme_payload()["rules"], "survey_points": "5"}

    with refused("SCO-1"):
        publish_scheme(world, rules=rules)


def test_single_item_quota_for_an_unknown_category_is_refused() -> None:
    world = assessment_world()
    quotas = scheme_payload()["award_quotas"]
    quotas["single_item"].append({"code": "TOURISM", "count": 1})

    with refused("SCO-1"):
        publish_scheme(world, award_quotas=quotas)


def test_scheme_needs_a_leading_group_approver_and_is_published_once() -> None:
    world = assessment_world()

    with refused("ENV-8"):
        publish_scheme(world, approved_by_actor_id="officer-1")
    publish_scheme(world)
    with refused("ENV-7"):
        publish_scheme(world)


def test_responsibility_work_area_must_be_a_scheme_category() -> None:
    world = assessment_world()
    publish_scheme(world)
    payload = {
        "scheme_id": SCHEME,
        "work_area": "SOCIAL_ASSISTANCE",
        "lead_org_ids": ["dept-1"],
        "responsible_org_ids": ["dept-1"],
        "assisting_org_ids": [],
    }

    world.emit("ResponsibilityAssigned", SCHEME, payload, actor="officer-1")
    with refused("ENV-8"):
        world.emit(
            "ResponsibilityAssigned", SCHEME, {**payload, "work_area": "TOURISM"}, actor="officer-1"
        )


# --- W10.3 agreements ----------------------------------------------------------------------------


def test_agreement_base_points_must_add_up_to_the_category_weight() -> None:
    world = assessment_world()
    publish_scheme(world)
    short = standard_indicators(EMPLOYMENT=[indicator("EMPLOYMENT", "EMPLOYMENT", "11")])

    with pytest.raises(RuleViolation) as caught:
        sign_agreement(world, "county-A", short)

    assert caught.value.code == "SCO-1"
    assert "EMPLOYMENT add up to 11, not its weight 12" in str(caught.value)


def test_agreement_indicator_in_an_unknown_category_is_refused() -> None:
    world = assessment_world()
    publish_scheme(world)

    with refused("SCO-1"):
        sign_agreement(world, "county-A", [*standard_indicators(), indicator("X", "TOURISM", "1")])


def test_one_agreement_per_assessee_and_scheme() -> None:
    world = assessment_world()
    publish_scheme(world)
    sign_agreement(world, "county-A")

    with refused("ENV-7"):
        sign_agreement(world, "county-A", agreement_id="agr-again")


def test_agreement_under_an_unpublished_scheme_is_refused() -> None:
    world = assessment_world()

    with refused("ENV-8"):
        sign_agreement(world, "county-A")


# --- W10.4 decomposition -------------------------------------------------------------------------


def decompose(world: World, targets: dict[str, str]) -> None:
    world.emit(
        "TargetDecomposed",
        "agr-county-A",
        {
            "parent_indicator_id": "EMPLOYMENT",
            "assignments": [{"org_id": o, "target_value": t} for o, t in targets.items()],
        },
        actor="county-A-gov",
    )


def test_decomposition_below_the_parent_is_kept_and_flagged() -> None:
    world = assessment_world()
    publish_scheme(world)
    sign_agreement(world, "county-A")

    decompose(world, {"township-A1": "40", "township-A2": "50"})

    [finding] = findings(world, "AF-TGT-DECOMPOSITION")
    assert "add up to 90, below the parent target 100" in finding.detail


def test_decomposition_covering_the_parent_raises_nothing() -> None:
    world = assessment_world()
    publish_scheme(world)
    sign_agreement(world, "county-A")

    decompose(world, {"township-A1": "60", "township-A2": "45"})

    assert findings(world, "AF-TGT-DECOMPOSITION") == []


def test_decomposition_to_a_unit_outside_the_agent_is_refused() -> None:
    world = assessment_world()
    publish_scheme(world)
    sign_agreement(world, "county-A")

    with refused("ENV-8"):
        decompose(world, {"township-B1": "100"})


# --- W11 progress (EX-BEDS-1 / EX-BEDS-2) --------------------------------------------------------


def beds_world() -> World:
    world = assessment_world()
    publish_scheme(world)
    beds = indicator(
        "SOCIAL_ASSISTANCE",
        "SOCIAL_ASSISTANCE",
        "10",
        target="300",
        milestones=[
            {"date": "2024-06-30", "fraction": "3/5"},
            {"date": "2024-11-30", "fraction": "1"},
        ],
    )
    sign_agreement(world, "county-A", standard_indicators(SOCIAL_ASSISTANCE=[beds]))
    return world


def report(world: World, value: str, as_of: str) -> None:
    world.emit(
        "ProgressReported",
        "agr-county-A",
        {
            "indicator_id": "SOCIAL_ASSISTANCE",
            "period": as_of[:7],
            "value": value,
            "as_of": as_of,
            "evidence": [],
        },
        actor="county-A-gov",
        on=as_of,
    )


def test_ex_beds_1_170_beds_on_30_june_misses_the_milestone() -> None:
    world = beds_world()

    report(world, "170", "2024-06-30")

    [finding] = findings(world, "AF-TGT-MILESTONE")
    assert "below the milestone 3/5 of 300" in finding.detail


def test_ex_beds_2_185_then_300_beds_meet_both_milestones() -> None:
    world = beds_world()

    report(world, "185", "2024-06-30")
    report(world, "300", "2024-11-30")

    assert findings(world, "AF-TGT-MILESTONE") == []


def test_progress_is_verified_by_someone_outside_the_assessee() -> None:
    world = beds_world()
    payload = {"indicator_id": "SOCIAL_ASSISTANCE", "period": "2024-06", "verified_value": "185"}

    world.emit("ProgressVerified", "agr-county-A", payload, actor="assessor-1")
    with refused("SOD-3"):
        world.emit("ProgressVerified", "agr-county-A", payload, actor="county-A-assessor")


# --- W15.1 self-assessment deadlines (SCO-7) ------------------------------------------------------


def self_assess(world: World, submitted_at: str) -> None:
    world.emit(
        "SelfAssessmentSubmitted",
        year_stream("county-A"),
        {
            "scheme_id": SCHEME,
            "assessee": "county-A",
            "round": "YEAR_END",
            "self_scores": [{"indicator_id": "EMPLOYMENT", "points": "12.8", "met": True}],
            "report_sha256": "f" * 64,
            "submitted_at": submitted_at,
        },
        actor="county-A-gov",
        on=submitted_at,
    )


def test_year_end_self_assessment_by_10_january_is_on_time() -> None:
    world = assessment_world()
    publish_scheme(world)

    self_assess(world, "2025-01-10")

    assert findings(world, "AF-SCO-LATE") == []


def test_late_year_end_self_assessment_is_kept_and_flagged() -> None:
    world = assessment_world()
    publish_scheme(world)

    self_assess(world, "2025-01-11")

    [finding] = findings(world, "AF-SCO-LATE")
    assert finding.rule == "SCO-7"
    record = world.state.table("asm.years")[(SCHEME, "county-A")]
    assert dict(record.self_assessments)["YEAR_END"] == finding.event_id
