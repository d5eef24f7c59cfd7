"""W15.2-W15.6 through the rules: results and scores recomputed on append (SCO-3, SCO-4,
SOD-3), survey points (F-SURVEY), cited adjustments (SCO-2); EX-BONUS-1, EX-SURVEY-1 and
EX-PEN-1/2 as events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledger.errors import RuleViolation
from tests.unit.domain.assessment_builders import (
    COUNTIES,
    SCHEME,
    apply_penalty,
    assessment_world,
    criticise,
    indicator,
    publish_scheme,
    record_result,
    record_score,
    record_survey,
    score_organisation,
    score_payload,
    sign_agreement,
    standard_indicators,
    year_stream,
)
from tests.unit.domain.case_builders import World, refused

# EX-BONUS-1 with B = 6 on the poverty-alleviation indicator: targets 1000 / 800 / 500.
EX_BONUS_1 = {"county-A": ("1000", "1150"), "county-B": ("800", "880"), "county-C": ("500", "500")}


def bonus_world() -> World:
    world = assessment_world()
    publish_scheme(world)
    for county, (target, _) in EX_BONUS_1.items():
        poverty = indicator("POVERTY", "POVERTY_ALLEVIATION", "6", target=target)
        sign_agreement(world, county, standard_indicators(POVERTY_ALLEVIATION=[poverty]))
    for county, (_, actual) in EX_BONUS_1.items():
        record_result(world, county, "POVERTY", actual)
    return world


def recorded_final(world: World, county: str, indicator_id: str) -> Decimal:
    record = world.state.table("asm.years")[(SCHEME, county)]
    return dict(record.scores)[indicator_id].final


# --- results -------------------------------------------------------------------------------------


def test_result_must_carry_the_exact_completion_ratio_and_met_flag() -> None:
    world = bonus_world()

    with refused("SCO-3"):
        record_result(world, "county-A", "EMPLOYMENT", "95", met=True)
    with refused("SCO-3"):
        record_result(world, "county-A", "EMPLOYMENT", "95", completion_ratio="0.9")


def test_result_target_must_be_the_agreed_target() -> None:
    world = bonus_world()

    with refused("SCO-3"):
        record_result(
            world, "county-A", "EMPLOYMENT", "95", target="95", completion_ratio="1", met=True
        )


def test_assessee_cannot_record_its_own_result() -> None:
    world = bonus_world()

    with refused("SOD-3"):
        record_result(world, "county-A", "EMPLOYMENT", "100", actor="county-A-assessor")


def test_result_for_an_indicator_outside_the_agreement_is_refused() -> None:
    world = bonus_world()

    with refused("ENV-8"):
        world.emit(
            "IndicatorResultRecorded",
            year_stream("county-A"),
            {
                "scheme_id": SCHEME,
                "assessee": "county-A",
                "indicator_id": "NOPE",
                "target": "1",
                "actual": "1",
                "completion_ratio": "1",
                "met": True,
            },
            actor="assessor-1",
        )


def test_result_of_an_indicator_outside_the_scheme_scope_is_flagged() -> None:
    world = assessment_world()
    publish_scheme(world)
    beds = indicator("BEDS", "SOCIAL_ASSISTANCE", "10", scopes=["COUNTY_TO_TOWNSHIP"])
    sign_agreement(world, "county-A", standard_indicators(SOCIAL_ASSISTANCE=[beds]))

    record_result(world, "county-A", "BEDS", "100")

    codes = [f.finding_code for f in world.state.table("audit.soft_finding").values()]
    assert codes == ["AF-TGT-SCOPE"]


# --- scores (EX-BONUS-1 as events) ---------------------------------------------------------------


def test_ex_bonus_1_scores_are_accepted_with_the_worked_values() -> None:
    world = bonus_world()

    for county in EX_BONUS_1:
        record_score(world, county, "POVERTY")

    finals = [recorded_final(world, c, "POVERTY") for c in EX_BONUS_1]
    assert finals == [Decimal("7.2000"), Decimal("6.8000"), Decimal("6.0000")]


def test_score_that_differs_from_the_recomputation_names_expected_and_recorded() -> None:
    world = bonus_world()

    with pytest.raises(RuleViolation) as caught:
        record_score(world, "county-B", "POVERTY", bonus="1", final="7")

    assert caught.value.code == "SCO-3"
    assert "final expected 6.8000, recorded 7.0000" in str(caught.value)


def test_score_must_cite_the_peer_groups_highest_over_completion() -> None:
    world = bonus_world()

    with refused("SCO-3"):
        record_score(world, "county-B", "POVERTY", peer_r_max="1/10")


def test_score_before_its_result_is_refused() -> None:
    world = bonus_world()
    payload: dict[str, Any] = score_payload(world, "county-A", "POVERTY")
    payload["indicator_id"] = "EMPLOYMENT"

    with refused("ENV-8"):
        world.emit("IndicatorScoreRecorded", year_stream("county-A"), payload, actor="assessor-1")


def test_score_citing_another_formula_version_is_refused() -> None:
    world = bonus_world()

    with refused("SCO-3"):
        record_score(world, "county-A", "POVERTY", formula_version="0")


def test_discretionary_deduction_is_capped_and_needs_a_reason() -> None:
    world = assessment_world()
    publish_scheme(world)
    measures = indicator("HOUSING-QUALITY", "SUBSIDISED_HOUSING", "10", ratio=False)
    sign_agreement(world, "county-A", standard_indicators(SUBSIDISED_HOUSING=[measures]))
    record_result(world, "county-A", "HOUSING-QUALITY", "1", met=False)
    base: dict[str, Any] = {"bonus": "0", "formula_id": "F-SHORT"}

    with refused("SCO-4"):
        record_score(world, "county-A", "HOUSING-QUALITY", **base, deduction="6.5", final="3.5")
    with refused("SCO-3"):
        record_score(
            world,
            "county-A",
            "HOUSING-QUALITY",
            **base,
            deduction="2",
            final="8",
            discretionary_reason=None,
        )
    record_score(world, "county-A", "HOUSING-QUALITY", **base, deduction="6", final="4")

    assert recorded_final(world, "county-A", "HOUSING-QUALITY") == Decimal("4")


# --- organisation and survey ---------------------------------------------------------------------


def test_organisation_points_cannot_exceed_the_sub_item_weight() -> None:
    world = bonus_world()

    score_organisation(world, "county-A", {"FUNDING": "3.5"})
    with refused("SCO-3"):
        score_organisation(world, "county-A", {"LEADERSHIP": "2"})
    with refused("ENV-8"):
        score_organisation(world, "county-A", {"PUBLICITY": "1"})


def test_ex_survey_1_composite_maps_to_4_816_points() -> None:
    world = bonus_world()

    record_survey(world, "county-A", "1204/15")

    record = world.state.table("asm.years")[(SCHEME, "county-A")]
    assert str(record.survey_points) == "602/125"  # 4.816 exactly
    with refused("SCO-3"):
        record_survey(world, "county-B", "1204/15", points="4.82")


# --- SCO-2 cited adjustments (EX-PEN-1 / EX-PEN-2) ----------------------------------------------


def test_ex_pen_1_provincial_and_city_criticisms_priced_by_the_scheme() -> None:
    world = bonus_world()

    apply_penalty(world, "county-A", criticise(world, "county-A", "PROVINCIAL_GOVERNMENT"), "2")
    apply_penalty(world, "county-A", criticise(world, "county-A", "CITY_GOVERNMENT"), "1")
    apply_penalty(world, "county-A", criticise(world, "county-A", "CITY_GOVERNMENT"), "1")

    assert world.state.table("asm.years")[(SCHEME, "county-A")].penalty == 4


def test_ex_pen_2_a_city_office_criticism_is_not_priced_by_002() -> None:
    world = bonus_world()

    apply_penalty(
        world, "county-B", criticise(world, "county-B", "PROVINCIAL_LINE_DEPARTMENT"), "1"
    )
    with refused("SCO-2"):
        apply_penalty(world, "county-B", criticise(world, "county-B", "CITY_OFFICE"), "1")

    assert world.state.table("asm.years")[(SCHEME, "county-B")].penalty == 1


def test_penalty_at_the_wrong_price_is_refused() -> None:
    world = bonus_world()

    with pytest.raises(RuleViolation) as caught:
        apply_penalty(world, "county-A", criticise(world, "county-A", "PROVINCIAL_GOVERNMENT"), "1")

    assert caught.value.code == "SCO-2"
    assert "at 2 points; recorded 1" in str(caught.value)


def test_a_cause_counts_once_per_scheme_and_only_for_its_target() -> None:
    world = bonus_world()
    cause = criticise(world, "county-A", "CITY_GOVERNMENT")

    with refused("SCO-2"):
        apply_penalty(world, "county-B", cause, "1")
    apply_penalty(world, "county-A", cause, "1")
    with refused("SCO-2"):
        apply_penalty(world, "county-A", cause, "1")


def test_criticism_unrelated_to_livelihood_targets_or_outside_the_year_is_refused() -> None:
    world = bonus_world()

    with refused("SCO-2"):
        apply_penalty(
            world,
            "county-A",
            criticise(world, "county-A", "CITY_GOVERNMENT", related_to="SANITATION"),
            "1",
        )
    with refused("SCO-2"):
        apply_penalty(
            world,
            "county-A",
            criticise(world, "county-A", "CITY_GOVERNMENT", day="2023-12-30"),
            "1",
        )


def test_adjustment_must_cite_a_recorded_criticism() -> None:
    world = bonus_world()
    not_a_cause = record_result(world, "county-A", "EMPLOYMENT", "100")

    with refused("SCO-2"):
        apply_penalty(world, "county-A", not_a_cause, "1")


def test_every_county_in_the_peer_group_is_scored_against_the_same_r_max() -> None:
    world = bonus_world()

    for county in COUNTIES:
        record_score(world, county, "POVERTY")

    record = world.state.table("asm.years")[(SCHEME, "county-A")]
    assert dict(record.scores)["POVERTY"].bonus == Decimal("1.2000")


def commend(world: World, target: str, level: str) -> Any:
    return world.emit(
        "CommendationIssued",
        target,
        {
            "issuer_org": "city-1",
            "issuer_level": level,
            "target_org": target,
            "related_to": "LIVELIHOOD_TARGET",
            "document_ref": f"praise-{world.counter}",
            "issued_at": "2024-06-01",
            "item": None,
            "cause_event_ids": [],
        },
        actor="officer-1",
    )


def bonus_points(world: World, assessee: str, cause: Any, points: str) -> None:
    world.emit(
        "BonusPointsApplied",
        year_stream(assessee),
        {
            "scheme_id": SCHEME,
            "assessee": assessee,
            "points": points,
            "cause_event_id": cause.event_id,
        },
        actor="officer-1",
    )


def test_bonus_points_cite_a_commendation_priced_by_the_scheme() -> None:
    world = assessment_world()
    prices = [
        {
            "event_type": "CommendationIssued",
            "issuer_levels": ["CITY_GOVERNMENT"],
            "item": None,
            "points": "2",
        }
    ]
    publish_scheme(world, penalty_schedule=prices)
    sign_agreement(world, "county-A")
    praise = commend(world, "county-A", "CITY_GOVERNMENT")

    with refused("SCO-2"):
        bonus_points(world, "county-A", praise, "1")
    with refused("SCO-2"):  # a commendation is no cause for a penalty
        apply_penalty(world, "county-A", praise, "2")
    bonus_points(world, "county-A", praise, "2")

    assert world.state.table("asm.years")[(SCHEME, "county-A")].bonus_points == 2
