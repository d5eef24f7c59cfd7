"""W15.7-W15.10 and W16 through the rules: EX-ANNUAL-1/2 consolidated as events (SCO-5,
SCO-3, SCO-6), award lists with the veto and rank shift (AWD-1..4), approval and ratification
(AWD-5), revoked eligibility (AWD-7), grades, period rankings and cash (AWD-6, EX-CASH-1)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ledger.domain.model import SOFT_FINDINGS
from ledger.errors import RuleViolation
from tests.unit.domain.assessment_builders import (
    EXPECTED_RANKING,
    SCHEME,
    annual_year,
    approve_and_ratify,
    assessment_world,
    consolidate,
    propose,
    publish_scheme,
    record_result,
    record_survey,
    score_payload,
    single_items,
    year_stream,
)
from tests.unit.domain.case_builders import World, refused


def consolidated_world() -> World:
    world = assessment_world()
    annual_year(world)
    consolidate(world)
    return world


# --- W15.7 consolidation -------------------------------------------------------------------------


def test_ex_annual_1_and_2_consolidate_to_the_worked_scores() -> None:
    world = assessment_world()
    annual_year(world)

    event = consolidate(world)

    ranking = world.state.table("asm.rankings")[event.event_id]
    assert ranking.order == ("county-C", "county-A", "county-B")


def test_consolidated_scores_are_compared_by_value_not_spelling() -> None:
    world = assessment_world()
    annual_year(world)
    padded = copy.deepcopy(EXPECTED_RANKING)
    padded[1]["S"] = "100.4000"

    consolidate(world, padded)


def test_consolidation_with_a_wrong_total_is_refused() -> None:
    world = assessment_world()
    annual_year(world)
    wrong = copy.deepcopy(EXPECTED_RANKING)
    wrong[1]["S"] = "100.5"

    with pytest.raises(RuleViolation) as caught:
        consolidate(world, wrong)

    assert caught.value.code == "SCO-6"
    assert "row 2" in str(caught.value)


def test_consolidation_that_hides_the_veto_is_refused() -> None:
    world = assessment_world()
    annual_year(world)
    hidden = copy.deepcopy(EXPECTED_RANKING)
    hidden[2]["vetoed"] = False
    hidden[2]["failing_indicator_ids"] = []

    with refused("SCO-6"):
        consolidate(world, hidden)


def test_consolidation_needs_every_component() -> None:
    world = assessment_world()
    annual_year(world, survey=False)

    with pytest.raises(RuleViolation) as caught:
        consolidate(world)

    assert caught.value.code == "SCO-5"
    assert "county-A: public survey" in str(caught.value)


def test_a_score_made_stale_by_a_later_peer_result_blocks_consolidation() -> None:
    world = assessment_world()
    annual_year(world)
    # County C's employment result is corrected upwards: A's +0.8 bonus is no longer right.
    record_result(world, "county-C", "EMPLOYMENT", "130")

    with pytest.raises(RuleViolation) as caught:
        consolidate(world)

    assert caught.value.code == "SCO-3"
    assert "county-A/EMPLOYMENT: recorded 12.8000, expected 12.4000" in str(caught.value)


def test_late_consolidation_is_accepted_and_flagged() -> None:
    world = assessment_world()
    annual_year(world)

    consolidate(world, on="2025-02-03")

    codes = [f.finding_code for f in world.state.table(SOFT_FINDINGS).values()]
    assert codes == ["AF-SCO-LATE"]


# --- W15.8 award lists ---------------------------------------------------------------------------


def test_ex_rank_lists_veto_rank_shift_and_last_place_are_accepted() -> None:
    world = consolidated_world()

    propose(world)


def test_comprehensive_award_to_a_vetoed_unit_is_refused() -> None:
    world = consolidated_world()

    with refused("AWD-1"):
        propose(world, comprehensive=["county-C", "county-A", "county-B"])


def test_single_item_award_to_a_comprehensive_winner_is_refused() -> None:
    world = consolidated_world()

    with refused("AWD-2"):
        propose(world, single_item=single_items("county-A"))


def test_last_place_must_be_the_lowest_score() -> None:
    world = consolidated_world()

    with refused("AWD-4"):
        propose(world, last_place=[])
    with refused("AWD-4"):
        propose(world, last_place=["county-A"])


def test_comprehensive_list_must_follow_the_ranking() -> None:
    world = consolidated_world()

    with refused("SCO-6"):
        propose(world, comprehensive=["county-A", "county-C"])


def test_advanced_individuals_must_match_their_quota_exactly() -> None:
    world = assessment_world()
    annual_year(world)
    consolidate(world)

    with refused("AWD-3"):
        propose(world, individuals=[{"org_id": "county-A", "person_ref": "person-1"}])


def test_lists_need_a_consolidation_first() -> None:
    world = assessment_world()
    annual_year(world)

    with refused("ENV-7"):
        propose(world)


# --- W15.9-W15.10 approval, ratification, awards -------------------------------------------------


def award(world: World, assessee: str, award_type: str = "COMPREHENSIVE", **extra: Any) -> None:
    payload: dict[str, Any] = {
        "scheme_id": SCHEME,
        "assessee": assessee,
        "award_type": award_type,
        "category": None,
        "person_ref": None,
        "basis_event_ids": ["basis-1"],
    }
    payload.update(extra)
    world.emit("AwardGranted", year_stream(assessee), payload, actor="officer-1", on="2025-02-06")


def test_awards_need_ratification_after_approval() -> None:
    world = consolidated_world()
    proposal = propose(world)

    with refused("AWD-5"):
        award(world, "county-C")
    with refused("AWD-5"):
        world.emit(
            "AwardsRatified",
            SCHEME,
            {"scheme_id": SCHEME, "approval_event_id": proposal.event_id},
            actor="gov-1",
        )
    approve_and_ratify(world, proposal)
    award(world, "county-C")
    award(world, "county-B", "SINGLE_ITEM", category="SUBSIDISED_HOUSING")


def test_award_off_the_ratified_list_is_refused() -> None:
    world = consolidated_world()
    approve_and_ratify(world, propose(world))

    with refused("AWD-1"):
        award(world, "county-B")
    with refused("AWD-5"):
        award(world, "county-A", "SINGLE_ITEM", category="EMPLOYMENT")


def test_revoked_eligibility_blocks_every_award_of_the_year() -> None:
    world = consolidated_world()
    ranking_id = world.state.table("asm.schemes")[SCHEME].consolidated_event_id
    approve_and_ratify(world, propose(world))

    world.emit(
        "AwardEligibilityRevoked",
        year_stream("county-C"),
        {
            "scheme_id": SCHEME,
            "assessee": "county-C",
            "year": 2024,
            "cause_event_ids": [ranking_id],
        },
        actor="officer-1",
    )

    with refused("AWD-7"):
        award(world, "county-C")


def test_revocation_must_cite_recorded_causes() -> None:
    world = consolidated_world()

    with refused("ENV-8"):
        world.emit(
            "AwardEligibilityRevoked",
            year_stream("county-C"),
            {
                "scheme_id": SCHEME,
                "assessee": "county-C",
                "year": 2024,
                "cause_event_ids": ["nothing"],
            },
            actor="officer-1",
        )


def designate_last(world: World, assessee: str) -> None:
    world.emit(
        "LastPlaceDesignated",
        year_stream(assessee),
        {"scheme_id": SCHEME, "assessee": assessee, "basis_event_ids": ["basis-1"]},
        actor="officer-1",
    )


def test_last_place_designation_follows_the_ratified_list() -> None:
    world = consolidated_world()
    approve_and_ratify(world, propose(world))

    with refused("AWD-4"):
        designate_last(world, "county-A")
    designate_last(world, "county-B")


def grade(world: World, assessee: str, value: str, *, provincial: bool = True) -> None:
    world.emit(
        "GradeAssigned",
        year_stream(assessee),
        {
            "scheme_id": SCHEME,
            "assessee": assessee,
            "grade": value,
            "passed_city_acceptance": True,
            "passed_provincial_acceptance": provincial,
            "basis_event_ids": ["basis-1"],
        },
        actor="officer-1",
    )


def test_grades_follow_score_rank_and_acceptance() -> None:
    world = consolidated_world()

    grade(world, "county-C", "EXCELLENT")
    grade(world, "county-A", "FAIL", provincial=False)
    with refused("SCO-6"):
        grade(world, "county-B", "GOOD")


# --- W16 period rankings and cash (EX-CASH-1) ----------------------------------------------------

PLEDGE_CASH = {"rewards_fen": [300_000, 200_000, 100_000], "fines_fen": [300_000, 200_000, 100_000]}
SCORES = ["95", "93", "90", "88", "85", "80", "78"]


def period_world() -> tuple[World, str]:
    world = assessment_world()
    publish_scheme(world, reward_schedule=PLEDGE_CASH)
    rows = [{"assessee": f"U{i + 1}", "score": s} for i, s in enumerate(SCORES)]
    event = world.emit(
        "PeriodRankingPublished",
        SCHEME,
        {"scheme_id": SCHEME, "period": "2024-05", "ranking": rows},
        actor="officer-1",
    )
    return world, event.event_id


def cash(
    world: World, event_type: str, assessee: str, amount: int, position: int, ranking: str
) -> None:
    world.emit(
        event_type,
        year_stream(assessee),
        {
            "scheme_id": SCHEME,
            "assessee": assessee,
            "amount_fen": amount,
            "position": position,
            "ranking_event_id": ranking,
        },
        actor="gov-1",
    )


def test_period_ranking_must_follow_its_scores() -> None:
    world = assessment_world()
    publish_scheme(world)
    rows = [{"assessee": "U1", "score": "80"}, {"assessee": "U2", "score": "90"}]

    with refused("SCO-6"):
        world.emit(
            "PeriodRankingPublished",
            SCHEME,
            {"scheme_id": SCHEME, "period": "2024-05", "ranking": rows},
            actor="officer-1",
        )


def test_ex_cash_1_amounts_follow_the_schedule_for_the_position() -> None:
    world, ranking = period_world()

    cash(world, "MonetaryRewardGranted", "U1", 300_000, 1, ranking)
    cash(world, "MonetaryRewardGranted", "U3", 100_000, 3, ranking)
    cash(world, "MonetaryPenaltyImposed", "U7", 300_000, 1, ranking)
    cash(world, "MonetaryPenaltyImposed", "U5", 100_000, 3, ranking)


def test_cash_amount_or_position_off_the_schedule_is_refused() -> None:
    world, ranking = period_world()

    with refused("AWD-6"):
        cash(world, "MonetaryRewardGranted", "U2", 300_000, 2, ranking)
    with refused("AWD-6"):
        cash(world, "MonetaryRewardGranted", "U4", 100_000, 4, ranking)
    with refused("AWD-6"):
        cash(world, "MonetaryPenaltyImposed", "U1", 300_000, 7, ranking)


def test_cash_is_decided_once_per_unit_and_ranking() -> None:
    world, ranking = period_world()
    cash(world, "MonetaryPenaltyImposed", "U6", 200_000, 2, ranking)

    with refused("AWD-6"):
        cash(world, "MonetaryPenaltyImposed", "U6", 200_000, 2, ranking)


def test_tie_broken_by_decision_orders_a_period_ranking() -> None:
    world = assessment_world()
    publish_scheme(world)
    rows = [{"assessee": "U2", "score": "90"}, {"assessee": "U1", "score": "90"}]
    payload = {"scheme_id": SCHEME, "period": "2024-05", "ranking": rows}

    with refused("SCO-6"):
        world.emit("PeriodRankingPublished", SCHEME, payload, actor="officer-1")
    with refused("ENV-8"):  # the tied units must be assessees of the scheme
        world.emit(
            "TieBrokenByDecision",
            SCHEME,
            {"scheme_id": SCHEME, "tied": ["U1", "U2"], "order": ["U2", "U1"], "reason": "T equal"},
            actor="sec-1",
        )


def test_changes_after_consolidation_require_consolidating_again() -> None:
    world = consolidated_world()
    record_survey(world, "county-A", "90")  # M 5.1 -> 5.4, S 100.4 -> 100.7

    with pytest.raises(RuleViolation) as caught:
        propose(world)
    assert caught.value.code == "SCO-6"
    assert "consolidate again" in str(caught.value)

    updated = copy.deepcopy(EXPECTED_RANKING)
    updated[1].update({"S": "100.7", "M": "5.4"})
    consolidate(world, updated)
    propose(world)


def test_scores_recorded_after_15_january_are_kept_and_flagged() -> None:
    world = assessment_world()
    annual_year(world)
    record_result(world, "county-A", "EMPLOYMENT", "105")

    world.emit(
        "IndicatorScoreRecorded",
        year_stream("county-A"),
        score_payload(world, "county-A", "EMPLOYMENT"),
        actor="assessor-1",
        on="2025-01-16",
    )

    codes = [f.finding_code for f in world.state.table(SOFT_FINDINGS).values()]
    assert codes == ["AF-SCO-LATE"]


def veto(world: World, assessee: str, failing: list[str]) -> None:
    world.emit(
        "VetoApplied",
        year_stream(assessee),
        {"scheme_id": SCHEME, "assessee": assessee, "failing_indicator_ids": failing},
        actor="ledger-1",
    )


def test_veto_names_exactly_the_unmet_indicators() -> None:
    world = assessment_world()
    annual_year(world)

    veto(world, "county-B", ["MEDICAL-2"])
    with refused("SCO-6"):
        veto(world, "county-A", ["EMPLOYMENT"])
    with refused("SCO-6"):
        veto(world, "county-B", ["MEDICAL-2", "EMPLOYMENT"])


def aggregate(world: World, on: str, category: str = "EMPLOYMENT") -> None:
    world.emit(
        "LeadUnitAggregateSubmitted",
        SCHEME,
        {"scheme_id": SCHEME, "category": category, "scores_sha256": "a" * 64},
        actor="lead-unit-1",
        on=on,
    )


def test_lead_unit_aggregate_after_20_january_is_flagged() -> None:
    world = assessment_world()
    publish_scheme(world)

    aggregate(world, "2025-01-20")
    aggregate(world, "2025-01-21")
    with refused("ENV-8"):
        aggregate(world, "2025-01-20", category="TOURISM")

    late = [f for f in world.state.table(SOFT_FINDINGS).values() if f.finding_code == "AF-SCO-LATE"]
    assert len(late) == 1
