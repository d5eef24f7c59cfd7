"""Capped top-ups for hardship households (W7; CAP-1..CAP-5) and temporary assistance (W6).

EX-CAP-1/2 and EX-HA-ELIG-1/2 of ``domain.md`` §5.9, with their exact numbers, through the
events. Amounts are in fen (1 元 = 100 fen).
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain import assistance, assistance_caps, assistance_households
from ledger.domain.periods import Period
from ledger.errors import AuthorizationError
from tests.unit.domain.case_builders import (
    ACTORS,
    ORGS,
    SHA_A,
    Actor,
    FakeDirectory,
    Org,
    World,
)
from tests.unit.domain.money_builders import refused

POVERTY_LINE = 370_000
"""N-HA-2: 3,700 元 per person per year."""

DIRECTORY_ORGS = {**ORGS, "county-1-mz": Org("DEPARTMENT", "county-1")}
DIRECTORY_ACTORS = {
    **ACTORS,
    # The district civil-affairs bureau (民政局) that co-approves exceptions.
    "mz-1": Actor("county-1-mz", "county_approver", "p-mz-1"),
}

COMPONENTS: dict[str, dict[str, Any]] = {
    # N-HA-5: district 2,000 a month in hospital, at most 20,000 a year; below out-of-pocket.
    "HOSP_DISTRICT": {
        "payer_level": "DISTRICT",
        "beneficiary": "PERSON",
        "amount_rule": "PER_MONTH_CAP",
        "cap_fen": 200_000,
        "period_cap_fen": 2_000_000,
        "period": "YEAR",
        "must_be_less_than_out_of_pocket": True,
    },
    # N-HA-5: the township adds 2,000 once.
    "HOSP_TOWNSHIP": {
        "payer_level": "TOWNSHIP",
        "beneficiary": "PERSON",
        "amount_rule": "ONE_OFF",
        "cap_fen": 200_000,
        "period": "EPISODE",
        "must_be_less_than_out_of_pocket": True,
    },
    # N-HA-8: public-welfare job, at most 900 a person a month.
    "WELFARE_JOB": {
        "payer_level": "TOWNSHIP",
        "beneficiary": "PERSON",
        "amount_rule": "CAP",
        "cap_fen": 90_000,
        "period": "MONTH",
    },
    # N-HA-10 and N-HA-7 as special preferential policies (one a household a year, N-HA-11).
    "EDU_AID": {
        "payer_level": "TOWNSHIP",
        "beneficiary": "PERSON",
        "amount_rule": "FIXED",
        "cap_fen": 50_000,
        "period": "SCHOOL_YEAR",
        "max_per_household_per_year": 1,
    },
    "ZERO_EMPLOYMENT": {
        "payer_level": "TOWNSHIP",
        "beneficiary": "HOUSEHOLD",
        "amount_rule": "ONE_OFF",
        "cap_fen": 100_000,
        "period": "YEAR",
        "max_per_household_per_year": 1,
    },
    # N-TA-*: temporary assistance from the township reserve.
    "TEMP_CASH": {
        "programme_code": "TEMP_ASSISTANCE",
        "payer_level": "TOWNSHIP",
        "beneficiary": "HOUSEHOLD",
        "amount_rule": "CAP",
        "cap_fen": 300_000,
        "period": "YEAR",
    },
}


def component_payload(code: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "component_code": code,
        "programme_code": "HARDSHIP_ASSISTANCE",
        "period_cap_fen": None,
        "must_be_less_than_out_of_pocket": False,
        "max_per_household_per_year": None,
    }
    payload.update(fields)
    return payload


def assistance_world() -> World:
    world = World(directory=FakeDirectory(DIRECTORY_ORGS, DIRECTORY_ACTORS))
    for code, fields in COMPONENTS.items():
        world.emit(
            "BenefitComponentDefined", code, component_payload(code, **fields), actor="gov-1"
        )
    return world


def household_payload(household: str, per_capita_fen: int, size: int = 3) -> dict[str, Any]:
    return {
        "household_id": household,
        "year": 2024,
        "household_size": size,
        "per_capita_income_fen": per_capita_fen,
        "poverty_line_fen": POVERTY_LINE,
        "appraisal_minutes_sha256": SHA_A,
    }


def select(world: World, household: str = "h-1", per_capita_fen: int = 500_000) -> None:
    payload = household_payload(household, per_capita_fen)
    world.emit("HouseholdAssessed", household, payload, actor="reviewer-1")
    world.emit("HouseholdSelectedForAssistance", household, payload, actor="reviewer-1")


def grant(
    world: World,
    grant_id: str,
    code: str,
    amount_fen: int,
    *,
    household: str = "h-1",
    person: str | None = "p-1",
    episode: str | None = None,
    period: str = "2024-03",
    months: int | None = None,
    out_of_pocket_fen: int | None = None,
    prior_grants_fen: int = 0,
    actor: str = "reviewer-1",
    fast_track: bool = False,
) -> None:
    payload = {
        "grant_id": grant_id,
        "component_code": code,
        "household_id": household,
        "person_id": person,
        "episode_id": episode,
        "period": period,
        "amount_fen": amount_fen,
        "fast_track": fast_track,
        "basis": {
            "months": months,
            "out_of_pocket_fen": out_of_pocket_fen,
            "prior_grants_fen": prior_grants_fen,
        },
    }
    world.emit("BenefitGranted", grant_id, payload, actor=actor, on=f"{period}-15")


def hospital_episode(
    world: World, episode: str, months: int, district_fen: int, out_of_pocket_fen: int
) -> None:
    grant(
        world,
        f"{episode}-district",
        "HOSP_DISTRICT",
        district_fen,
        episode=episode,
        months=months,
        out_of_pocket_fen=out_of_pocket_fen,
        actor="approver-1",
    )


# --- CAP-4: selection (EX-HA-ELIG-1/2) ------------------------------------------------------------


def test_ex_ha_elig_1_three_people_with_15000_yuan_are_selected() -> None:
    world = assistance_world()

    select(world, "h-1", per_capita_fen=1_500_000 // 3)

    found = assistance_households.selection(world.state, "h-1", 2024)
    assert found is not None
    assert found.per_capita_income_fen == 500_000


def test_ex_ha_elig_2_four_people_with_24000_yuan_are_refused() -> None:
    world = assistance_world()
    payload = household_payload("h-2", 2_400_000 // 4, size=4)

    with refused("CAP-4") as caught:
        world.emit("HouseholdSelectedForAssistance", "h-2", payload, actor="reviewer-1")
    assert caught.value.evidence["per_capita_income_fen"] == 600_000
    assert caught.value.evidence["threshold_fen"] == "555000"


def test_exactly_one_and_a_half_poverty_lines_is_not_eligible() -> None:
    world = assistance_world()
    payload = household_payload("h-3", 555_000)

    with refused("CAP-4"):
        world.emit("HouseholdSelectedForAssistance", "h-3", payload, actor="reviewer-1")

    world.emit(
        "HouseholdSelectedForAssistance",
        "h-3",
        household_payload("h-3", 554_999),
        actor="reviewer-1",
    )


def test_a_hardship_grant_to_an_unselected_household_is_refused() -> None:
    world = assistance_world()

    with refused("CAP-4"):
        grant(world, "g-1", "WELFARE_JOB", 90_000)


# --- CAP-1, CAP-2, CAP-5: capped medical top-ups (EX-CAP-1/2) ---------------------------------


def test_ex_cap_1_three_months_in_hospital_with_9000_yuan_out_of_pocket() -> None:
    world = assistance_world()
    select(world)

    hospital_episode(world, "ep-1", months=3, district_fen=600_000, out_of_pocket_fen=900_000)
    grant(world, "g-town", "HOSP_TOWNSHIP", 200_000, episode="ep-1", out_of_pocket_fen=900_000)

    assert assistance_caps.episode_total_fen(world.state, "h-1", "ep-1") == 800_000


def test_ex_cap_2_the_district_amount_is_capped_at_20000_not_22000() -> None:
    world = assistance_world()
    select(world)

    with refused("CAP-1"):
        hospital_episode(
            world, "ep-1", months=11, district_fen=2_200_000, out_of_pocket_fen=3_000_000
        )
    hospital_episode(world, "ep-1", months=11, district_fen=2_000_000, out_of_pocket_fen=3_000_000)
    grant(world, "g-town", "HOSP_TOWNSHIP", 200_000, episode="ep-1", out_of_pocket_fen=3_000_000)

    assert assistance_caps.episode_total_fen(world.state, "h-1", "ep-1") == 2_200_000


def test_ex_cap_2_at_21500_yuan_out_of_pocket_the_township_may_add_at_most_1499_99() -> None:
    world = assistance_world()
    select(world)
    hospital_episode(world, "ep-1", months=11, district_fen=2_000_000, out_of_pocket_fen=2_150_000)

    with refused("CAP-2") as caught:
        grant(
            world, "g-town", "HOSP_TOWNSHIP", 200_000, episode="ep-1", out_of_pocket_fen=2_150_000
        )
    assert caught.value.evidence["total_fen"] == 2_200_000
    assert caught.value.evidence["max_allowed_fen"] == 149_999

    grant(world, "g-town", "HOSP_TOWNSHIP", 149_999, episode="ep-1", out_of_pocket_fen=2_150_000)


def test_per_month_caps_need_the_months_and_add_up_over_the_year() -> None:
    world = assistance_world()
    select(world)

    with refused("CAP-1"):
        hospital_episode(world, "ep-1", months=3, district_fen=600_001, out_of_pocket_fen=9_000_000)
    hospital_episode(world, "ep-1", months=10, district_fen=2_000_000, out_of_pocket_fen=9_000_000)
    with refused("CAP-1"):
        hospital_episode(world, "ep-2", months=1, district_fen=1, out_of_pocket_fen=9_000_000)


def test_a_grant_declaring_larger_prior_grants_is_checked_against_them() -> None:
    world = assistance_world()
    select(world)

    with refused("CAP-2"):
        grant(
            world,
            "g-town",
            "HOSP_TOWNSHIP",
            200_000,
            episode="ep-1",
            out_of_pocket_fen=900_000,
            prior_grants_fen=700_000,
        )
    grant(
        world,
        "g-town",
        "HOSP_TOWNSHIP",
        199_999,
        episode="ep-1",
        out_of_pocket_fen=900_000,
        prior_grants_fen=700_000,
    )


def test_an_out_of_pocket_component_needs_the_documented_cost() -> None:
    world = assistance_world()
    select(world)

    with refused("CAP-2"):
        grant(world, "g-town", "HOSP_TOWNSHIP", 100_000, episode="ep-1")


def test_cap_5_a_one_off_top_up_is_granted_once_per_episode() -> None:
    world = assistance_world()
    select(world)
    grant(world, "g-1", "HOSP_TOWNSHIP", 100_000, episode="ep-1", out_of_pocket_fen=900_000)

    with refused("CAP-5"):
        grant(world, "g-2", "HOSP_TOWNSHIP", 50_000, episode="ep-1", out_of_pocket_fen=900_000)

    grant(world, "g-3", "HOSP_TOWNSHIP", 100_000, episode="ep-2", out_of_pocket_fen=900_000)


def test_cap_1_a_welfare_job_allowance_of_950_yuan_a_month_is_refused() -> None:
    world = assistance_world()
    select(world)

    with refused("CAP-1") as caught:
        grant(world, "g-1", "WELFARE_JOB", 95_000)
    assert caught.value.evidence["cap_fen"] == 90_000

    grant(world, "g-1", "WELFARE_JOB", 90_000)
    with refused("CAP-1"):
        grant(world, "g-2", "WELFARE_JOB", 1)
    grant(world, "g-3", "WELFARE_JOB", 90_000, period="2024-04")


# --- CAP-3: one special preferential policy a household a year ---------------------------------


def test_cap_3_a_second_special_policy_in_a_year_is_refused() -> None:
    world = assistance_world()
    select(world)
    grant(world, "g-edu", "EDU_AID", 50_000, period="2024-03")

    with refused("CAP-3") as caught:
        grant(world, "g-zero", "ZERO_EMPLOYMENT", 100_000, person=None)
    assert caught.value.evidence["held"] == ["EDU_AID"]

    # The same policy again (next school year) is not a second policy.
    grant(world, "g-edu-2", "EDU_AID", 50_000, period="2024-09")


def test_cap_3_an_exception_co_approved_by_the_district_allows_a_second_policy() -> None:
    world = assistance_world()
    select(world)
    grant(world, "g-edu", "EDU_AID", 50_000)

    world.emit("ExceptionApproved", "h-1", exception_payload("mz-1"), actor="reviewer-1")
    grant(world, "g-zero", "ZERO_EMPLOYMENT", 100_000, person=None)


def exception_payload(co_approver: str) -> dict[str, Any]:
    return {
        "household_id": "h-1",
        "year": 2024,
        "extra_policy_code": "ZERO_EMPLOYMENT",
        "reason": "second child in school and household unemployed",
        "co_approver_actor_id": co_approver,
        "co_approval_sha256": SHA_A,
    }


def test_an_exception_co_approved_by_the_district_government_is_accepted() -> None:
    world = assistance_world()

    world.emit("ExceptionApproved", "h-1", exception_payload("approver-1"), actor="reviewer-1")


def test_an_exception_co_approved_by_another_township_is_refused() -> None:
    world = assistance_world()

    with refused("CAP-3"):
        world.emit("ExceptionApproved", "h-1", exception_payload("clerk-2"), actor="reviewer-1")


def test_an_exception_co_approved_by_a_village_committee_is_refused() -> None:
    world = assistance_world()

    with refused("CAP-3"):
        world.emit("ExceptionApproved", "h-1", exception_payload("vcm-1"), actor="reviewer-1")


def test_an_exception_signed_twice_by_the_same_person_is_refused() -> None:
    world = assistance_world()

    # approver-rev is a county account of the reviewer's own person.
    with refused("CAP-3"):
        world.emit(
            "ExceptionApproved", "h-1", exception_payload("approver-rev"), actor="reviewer-1"
        )


def test_an_exception_for_a_policy_that_is_not_special_is_refused() -> None:
    world = assistance_world()
    payload = {**exception_payload("mz-1"), "extra_policy_code": "WELFARE_JOB"}

    with refused("ENV-8"):
        world.emit("ExceptionApproved", "h-1", payload, actor="reviewer-1")


# --- plans ---------------------------------------------------------------------------------------


def plan_payload(*policies: str) -> dict[str, Any]:
    return {
        "household_id": "h-1",
        "year": 2024,
        "policies": list(policies),
        "helper_actor_id": "vcm-1",
        "meeting_minutes_sha256": SHA_A,
    }


def test_a_plan_needs_a_selected_household_and_defined_policies() -> None:
    world = assistance_world()

    with refused("ENV-8"):
        world.emit("HouseholdPlanApproved", "h-1", plan_payload("EDU_AID"), actor="vcm-1")
    select(world)
    with refused("ENV-8"):
        world.emit("HouseholdPlanApproved", "h-1", plan_payload("UNKNOWN"), actor="vcm-1")

    world.emit(
        "HouseholdPlanApproved", "h-1", plan_payload("EDU_AID", "WELFARE_JOB"), actor="vcm-1"
    )


def test_a_district_component_granted_by_the_township_is_refused() -> None:
    world = assistance_world()
    select(world)

    with pytest.raises(AuthorizationError):
        grant(
            world,
            "g-1",
            "HOSP_DISTRICT",
            200_000,
            episode="ep-1",
            months=1,
            out_of_pocket_fen=900_000,
            actor="reviewer-1",
        )


def test_a_grant_of_an_undefined_component_is_refused() -> None:
    world = assistance_world()

    with refused("ENV-8"):
        grant(world, "g-1", "NO_SUCH_COMPONENT", 100)


# --- W6: temporary assistance, monthly approval and spot check ---------------------------------


def temp_case(world: World, grant_id: str, household: str) -> None:
    grant(world, grant_id, "TEMP_CASH", 150_000, household=household, person=None, fast_track=True)


def test_a_month_of_fast_track_cases_is_missing_oversight_until_approved_and_checked() -> None:
    world = assistance_world()
    temp_case(world, "ta-1", "h-7")
    temp_case(world, "ta-2", "h-8")
    month = ("TEMP_ASSISTANCE", "township-1", "2024-03")
    assert assistance.months_missing_oversight(world.state) == [
        (*month, "MONTHLY_APPROVAL"),
        (*month, "SPOT_CHECK"),
    ]

    approval = {
        "township_org_id": "township-1",
        "month": "2024-03",
        "case_ids": ["ta-1", "ta-2"],
        "approver": "reviewer-1",
    }
    world.emit("TempAssistanceMonthlyApproval", "township-1.2024-03", approval, actor="reviewer-1")
    world.emit("SpotCheckCompleted", "sc-1", spot_check_payload(["ta-2"]), actor="checker-1")

    assert assistance.months_missing_oversight(world.state) == []


def spot_check_payload(sampled: list[str], results: list[str] | None = None) -> dict[str, Any]:
    return {
        "spot_check_id": "sc-1",
        "programme": "TEMP_ASSISTANCE",
        "township_org_id": "township-1",
        "month": "2024-03",
        "sampled_case_ids": sampled,
        "results": [
            {"case_id": c, "result": "CONSISTENT"}
            for c in (sampled if results is None else results)
        ],
    }


def test_a_monthly_approval_of_unrecorded_cases_is_refused() -> None:
    world = assistance_world()
    temp_case(world, "ta-1", "h-7")
    approval = {
        "township_org_id": "township-1",
        "month": "2024-03",
        "case_ids": ["ta-1", "ta-9"],
        "approver": "reviewer-1",
    }

    with refused("ENV-8"):
        world.emit(
            "TempAssistanceMonthlyApproval", "township-1.2024-03", approval, actor="reviewer-1"
        )


def test_a_spot_check_gives_one_result_per_sampled_case() -> None:
    world = assistance_world()
    temp_case(world, "ta-1", "h-7")
    temp_case(world, "ta-2", "h-8")

    with refused("ENV-7"):
        world.emit(
            "SpotCheckCompleted",
            "sc-1",
            spot_check_payload(["ta-1", "ta-2"], ["ta-1"]),
            actor="checker-1",
        )
    with refused("ENV-8"):
        world.emit("SpotCheckCompleted", "sc-1", spot_check_payload(["ta-3"]), actor="checker-1")


def test_the_city_adjusts_a_township_reserve_subsidy() -> None:
    world = assistance_world()

    for month, amount in (("2024-01", 5_000_000), ("2024-07", 6_000_000)):
        payload = {
            "township_org_id": "township-1",
            "amount_fen": amount,
            "effective_from": month,
            "decided_on": "2023-12-20",
        }
        world.emit("ReserveSubsidyAdjusted", "township-1", payload, actor="gov-1")

    def in_force(month: Period) -> int | None:
        return assistance.reserve_subsidy_in_force(world.state, "township-1", month)

    assert in_force(Period(2023, 12)) is None
    assert in_force(Period(2024, 6)) == 5_000_000
    assert in_force(Period(2024, 7)) == 6_000_000
