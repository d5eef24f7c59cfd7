"""Dibao through W1 by configuration: the income test, the three-level two-notice procedure
(三级两次公示), relatives filing (APP-11, SOD-4), exclusivity (APP-12, PAY-7), payment."""

from __future__ import annotations

import pytest

from ledger.domain import applications, dibao_income, enrolments, payments
from ledger.domain.periods import Period
from ledger.errors import RuleViolation

from .case_builders import (
    DIBAO,
    DIBAO_RULE_SET,
    Case,
    DibaoCase,
    World,
    define_programme,
    dibao_world,
    open_dibao_fund,
    prepare_payment,
    refused,
    rule_set_payload,
)


@pytest.fixture
def world_and_case() -> tuple[World, DibaoCase]:
    world, seeded = dibao_world()
    return world, DibaoCase(world, seeded)


# --- the income test ------------------------------------------------------------------------------


def test_the_entitlement_is_the_gap_to_the_standard_plus_classified_increments(
    world_and_case: tuple[World, DibaoCase],
) -> None:
    """3 persons x 650 元 - (1,200 - 300 disregarded) = 1,050 元, + 100 元 for the severely
    disabled child = 1,150 元 a month, 13,800 元 a year."""
    world, case = world_and_case
    case.submit().accept().authorise().investigate().assess_income()
    assessed = dibao_income.assessment(world.state, case.id)
    rules = dibao_income.rule_set(world.state, DIBAO_RULE_SET)
    assert assessed is not None and rules is not None
    due = dibao_income.entitlement(assessed, rules, 780_000)
    assert (due.gap, due.increments_fen, due.monthly_fen, due.annual_fen) == (
        105_000,
        10_000,
        115_000,
        1_380_000,
    )


def test_a_single_person_household_counts_only_that_person() -> None:
    """N-DB-7: a severely disabled member alone: 650 - 0 + 100 = 750 元 a month."""
    assessed = dibao_income.IncomeAssessment(
        "e",
        DIBAO_RULE_SET,
        "SINGLE_PERSON",
        ("m-child",),
        0,
        0,
        (("m-child", "SEVERELY_DISABLED"),),
    )
    rules = dibao_income.RuleSet(
        DIBAO_RULE_SET, 1, 0, DIBAO, "INCOME_BELOW_STANDARD", frozenset(),
        (("SEVERELY_DISABLED", 10_000),), 12, 3, Period(2023, 1),
    )  # fmt: skip
    assert dibao_income.entitlement(assessed, rules, 780_000).monthly_fen == 75_000


def test_a_gap_with_a_fraction_of_a_fen_is_rounded_up() -> None:
    """Standard 7,801 元 a year: 650.0833 元 a month; one person with no income gets 65,009 fen."""
    assessed = dibao_income.IncomeAssessment("e", "r", "NORMAL", ("p",), 0, 0, ())
    rules = dibao_income.RuleSet(
        "r", 1, 0, DIBAO, "INCOME_BELOW_STANDARD", frozenset(), (), 12, 3, Period(2023, 1)
    )
    assert dibao_income.entitlement(assessed, rules, 780_100).monthly_fen == 65_009


def test_income_at_the_standard_is_not_eligible_app_15(
    world_and_case: tuple[World, DibaoCase],
) -> None:
    """Net 1,950 元 for three persons is exactly 3 x 650: not below the standard."""
    _, case = world_and_case
    case.submit().accept().authorise().investigate()
    case.assess_income(monthly_income_fen=225_000)
    case.opinion().post_notice().close_notice().forward().sample().spot_check()
    with refused("APP-15"):
        case.approve(annual_amount_fen=0)


def test_an_approval_without_income_assessment_is_refused_app_15(
    world_and_case: tuple[World, DibaoCase],
) -> None:
    _, case = world_and_case
    case.submit().accept().authorise().investigate()
    case.opinion().post_notice().close_notice().forward().sample().spot_check()
    with refused("APP-15"):
        case.approve()


def test_the_approval_must_grant_the_computed_entitlement(
    world_and_case: tuple[World, DibaoCase],
) -> None:
    _, case = world_and_case
    case.to_forwarded().sample().spot_check()
    with pytest.raises(RuleViolation) as caught:
        case.approve(annual_amount_fen=780_000)  # the flat standard is not the entitlement
    assert caught.value.code == "ENV-8"
    assert caught.value.evidence["entitlement_annual_fen"] == 1_380_000
    case.approve()
    assert case.app().status == applications.Status.APPROVED


def test_a_disregard_the_rule_set_does_not_allow_is_refused() -> None:
    world, seeded = dibao_world()
    world.emit(
        "EligibilityRuleSetPublished",
        DIBAO_RULE_SET,
        rule_set_payload(version=2, disregard_kinds=["ILLNESS"]),
        actor="gov-1",
        on="2023-01-01",
    )
    case = DibaoCase(world, seeded)
    case.submit().accept().authorise().investigate()
    with refused("ENV-8"):
        case.assess_income(disregards=[{"kind": "EDUCATION", "amount_fen": 1}])
    case.assess_income()


def test_the_income_assessor_may_not_be_a_filed_relative_sod_4(
    world_and_case: tuple[World, DibaoCase],
) -> None:
    _, case = world_and_case
    case.submit().accept().authorise().investigate(("inv-1", "inv-2"))
    file_relative(case, "inv-3")
    with refused("SOD-4"):
        case.assess_income(actor="inv-3")


def test_tekun_keeps_the_flat_standard_without_an_income_rule_set() -> None:
    """Configuration, not code: a TEKUN approval still grants the standard's amount."""
    world, seeded = dibao_world()
    case = Case(world, seeded, "tk-1").to_forwarded().sample().spot_check()
    with refused("ENV-8"):
        case.approve(annual_amount_fen=130_001)
    case.approve()


# --- the two notices and enrolment ----------------------------------------------------------------


def test_a_dibao_case_runs_through_both_notices_to_enrolment_and_payment(
    world_and_case: tuple[World, DibaoCase],
) -> None:
    world, case = world_and_case
    enrolment_id = case.to_enrolled()
    app = case.app()
    assert app.opinion is not None and app.opinion.notice_id == "notice-db-1-1"  # notice #1
    assert app.result_notice_id == "notice-db-1-2"  # notice #2, RESULT_PUBLICATION
    enrolled = enrolments.enrolment(world.state, enrolment_id)
    assert enrolled is not None
    assert (enrolled.programme_code, enrolled.annual_amount_fen) == (DIBAO, 1_380_000)
    assert str(enrolled.first_payable_period) == "2024-04"  # §5.13: confirmed 2024-03-28
    open_dibao_fund(world)
    with refused("PAY-3"):
        prepare_payment(world, enrolment_id, "2024-03", 115_000)
    with refused("PAY-5"):
        prepare_payment(world, enrolment_id, "2024-04", 65_000)
    prepare_payment(world, enrolment_id, "2024-04", 115_000)
    line = payments.line(world.state, f"line-pb-{enrolment_id}-2024-04")
    assert line is not None and line.amount_fen == 115_000


def test_the_result_publication_must_hang_where_the_household_lives(
    world_and_case: tuple[World, DibaoCase],
) -> None:
    _, case = world_and_case
    case.to_forwarded().sample().spot_check().approve()
    with refused("APP-7"):
        case.post_notice(
            kind="RESULT_PUBLICATION", start="2024-03-29", end="2024-04-04", location="village-2"
        )


# --- relatives of officials: APP-11 and SOD-4 -----------------------------------------------------


def declare_relative(case: Case, official: str, person: str = "m-spouse") -> None:
    case.emit(
        "OfficialRelationshipDeclared",
        {
            "person_id": person,
            "official_actor_id": official,
            "official_role": "VILLAGE_COMMITTEE_MEMBER",
            "relationship": "BROTHER",
            "source": "APPLICANT_DECLARATION",
        },
        actor="clerk-1",
        on="2024-03-04",
    )


def file_relative(case: Case, official: str, person: str = "m-spouse") -> None:
    case.emit(
        "RelativeOfOfficialFiled",
        {
            "person_id": person,
            "official_actor_id": official,
            "official_role": "VILLAGE_COMMITTEE_MEMBER",
            "relationship": "BROTHER",
        },
        actor="clerk-1",
        on="2024-03-05",
    )


def test_a_declared_relative_must_be_filed_before_approval_app_11(
    world_and_case: tuple[World, DibaoCase],
) -> None:
    _, case = world_and_case
    case.submit().accept()
    declare_relative(case, "vcm-1")
    case.authorise().investigate().assess_income()
    case.opinion().post_notice().close_notice().forward().sample().spot_check()
    with pytest.raises(RuleViolation) as caught:
        case.approve()
    assert caught.value.code == "APP-11"
    assert caught.value.evidence["unfiled"] == [["m-spouse", "vcm-1"]]
    file_relative(case, "vcm-1")
    case.approve()
    assert case.app().status == applications.Status.APPROVED


def test_a_filed_relative_official_cannot_approve_sod_4(
    world_and_case: tuple[World, DibaoCase],
) -> None:
    _, case = world_and_case
    case.submit().accept()
    file_relative(case, "approver-rev")  # the person p-rev-1 is also reviewer-1
    case.authorise().investigate().assess_income()
    with refused("SOD-4"):
        case.opinion(actor="reviewer-1")  # same person as the filed official
    case.opinion(actor="reviewer-2").post_notice(actor="reviewer-2").close_notice()
    case.forward(actor="reviewer-2").sample().spot_check()
    with refused("SOD-4"):
        case.approve(actor="approver-rev")
    case.approve(actor="approver-1")


def test_an_official_who_acted_before_being_filed_blocks_the_approval_sod_4(
    world_and_case: tuple[World, DibaoCase],
) -> None:
    _, case = world_and_case
    case.to_forwarded().sample().spot_check()
    file_relative(case, "inv-2")  # filed only after inv-2 investigated
    with refused("SOD-4"):
        case.approve()


# --- exclusivity: APP-12 and PAY-7 ----------------------------------------------------------------


def test_a_tekun_beneficiary_cannot_be_approved_for_dibao_app_12() -> None:
    world, seeded = dibao_world()
    tekun = Case(world, seeded, "tk-1", person="old-li").to_forwarded().sample().spot_check()
    tekun.approve()
    tekun.enrol(tekun.register_account())
    dibao = DibaoCase(world, seeded, "db-2")
    dibao.person = "old-li"
    dibao.to_forwarded().sample().spot_check()
    with refused("APP-12"):
        dibao.approve()


def test_a_dibao_household_member_of_someone_else_is_not_an_exclusivity_conflict() -> None:
    world, seeded = dibao_world()
    tekun = Case(world, seeded, "tk-1", person="old-li").to_forwarded().sample().spot_check()
    tekun.approve()
    tekun.enrol(tekun.register_account())
    dibao = DibaoCase(world, seeded, "db-2").to_forwarded().sample().spot_check()
    dibao.approve()
    assert dibao.app().status == applications.Status.APPROVED


def test_no_payment_lines_in_two_exclusive_programmes_for_one_person_pay_7() -> None:
    """Enrolled in both before the programmes were declared exclusive (APP-12 could not see
    it): once DIBAO excludes TEKUN, the person's second line for April is refused."""
    world, seeded = dibao_world()
    define_programme(world, "TEKUN", exclusive_with=[])
    define_programme(world, DIBAO, exclusive_with=[])
    tekun = Case(world, seeded, "tk-1", person="old-li").to_forwarded().sample().spot_check()
    tekun_enrolment = tekun.approve().enrol(tekun.register_account())
    dibao = DibaoCase(world, seeded, "db-2")
    dibao.person = "old-li"
    dibao.submit(members=[])
    dibao.accept().authorise().investigate()
    dibao.assess_income(covered_person_ids=["old-li"], monthly_income_fen=0, member_categories=[])
    dibao.opinion().post_notice().close_notice().forward().sample().spot_check()
    dibao.annual_fen = 780_000
    dibao.approve()
    dibao.post_notice(kind="RESULT_PUBLICATION", start="2024-03-29", end="2024-04-04")
    dibao_enrolment = dibao.enrol("acct-tk-1")
    define_programme(world, DIBAO, exclusive_with=["TEKUN"])
    open_dibao_fund(world)
    open_dibao_fund(world, "fund-tekun", programme_code="TEKUN")
    prepare_payment(world, tekun_enrolment, "2024-04", 10_833, fund_id="fund-tekun",
                    programme_code="TEKUN")  # fmt: skip
    with pytest.raises(RuleViolation) as caught:
        prepare_payment(world, dibao_enrolment, "2024-04", 65_000)
    assert caught.value.code == "PAY-7"
    assert caught.value.evidence["other_programme_code"] == "TEKUN"
    prepare_payment(world, dibao_enrolment, "2024-05", 65_000)  # May is not paid by TEKUN
