"""W1 from submission to the county's decision: the state machine and its invariants."""

from __future__ import annotations

import pytest

from ledger.domain import applications
from ledger.domain.applications import Status
from ledger.errors import AuthorizationError
from tests.unit.domain.case_builders import (
    MANDATORY,
    SHA_A,
    Case,
    World,
    define_programme,
    refused,
    seeded_world,
    submission_payload,
)


@pytest.fixture
def world_and_case() -> tuple[World, Case]:
    world, seeded = seeded_world()
    return world, Case(world, seeded)


@pytest.fixture
def case(world_and_case: tuple[World, Case]) -> Case:
    return world_and_case[1]


def materials(*types: str) -> list[dict[str, str]]:
    return [{"type": t, "sha256": SHA_A} for t in types]


def notify_missing(case: Case, *items: str) -> None:
    case.emit(
        "ApplicationMaterialsIncompleteNotified",
        {"missing_items": list(items), "channel": "IN_PERSON"},
        actor="clerk-1",
        on="2024-03-01",
    )


def supplement(case: Case, *items: str) -> None:
    case.emit(
        "ApplicationMaterialsSupplemented",
        {"materials": materials(*items)},
        actor="clerk-1",
        on="2024-03-02",
    )


def file_relative(case: Case, official: str, person: str | None = None) -> None:
    case.emit(
        "RelativeOfOfficialFiled",
        {
            "person_id": person or case.person,
            "official_actor_id": official,
            "official_role": "CASEWORKER",
            "relationship": "nephew",
        },
        actor="clerk-1",
        on="2024-03-02",
    )


# --- the happy path ------------------------------------------------------------------------------


def test_an_application_walks_through_every_state_to_approval(case: Case) -> None:
    seen = []
    for step in (
        case.submit,
        case.accept,
        case.authorise,
        case.investigate,
        case.opinion,
        case.post_notice,
        case.close_notice,
        case.forward,
        case.sample,
        case.spot_check,
        case.approve,
    ):
        step()
        seen.append(case.app().status)

    assert seen == [
        Status.SUBMITTED,
        Status.ACCEPTED,
        Status.ACCEPTED,
        Status.INVESTIGATED,
        Status.OPINION_ISSUED,
        Status.IN_NOTICE,
        Status.IN_NOTICE,
        Status.FORWARDED,
        Status.FORWARDED,
        Status.FORWARDED,
        Status.APPROVED,
    ]
    decision = case.app().decision
    assert decision is not None and decision.approval is not None
    assert str(decision.approval.first_payable_period) == "2024-04"


def test_a_centralised_approval_pays_the_centralised_standard(case: Case) -> None:
    case.to_approved(support_mode="CENTRALISED")

    decision = case.app().decision
    assert decision is not None and decision.approval is not None
    assert decision.approval.institution_id == "inst-1"
    assert decision.approval.annual_amount_fen == 264_000


# --- APP-0, submission and APP-1 -----------------------------------------------------------------


def test_an_event_on_an_application_never_submitted_is_refused(case: Case) -> None:
    with refused("APP-0"):
        case.accept()


def test_an_application_is_submitted_once(case: Case) -> None:
    case.submit()

    with refused("APP-0"):
        case.submit()


def test_an_invalid_transition_is_refused(case: Case) -> None:
    case.submit()

    with refused("APP-0"):
        case.forward(notice_id="notice-x")


def test_an_application_needs_a_defined_programme(case: Case) -> None:
    with refused("ENV-8"):
        case.submit(programme_code="WUBAO")


def test_app_1_refuses_a_residence_outside_the_township(case: Case) -> None:
    with refused("APP-1"):
        case.submit(residence_org_id="village-2")


def test_a_clerk_of_another_township_is_out_of_scope(case: Case) -> None:
    with pytest.raises(AuthorizationError):
        case.world.emit(
            "ApplicationSubmitted",
            case.id,
            submission_payload(case.id),
            actor="clerk-2",
            on="2024-03-01",
        )


def test_a_referral_id_needs_the_referral_channel(case: Case) -> None:
    with refused("ENV-8"):
        case.submit(referral_from_enrolment_id="enr-9")


# --- APP-2 and APP-3: materials ------------------------------------------------------------------


def test_app_2_accepts_a_notice_listing_exactly_the_missing_items(case: Case) -> None:
    case.submit(materials=materials("WRITTEN_APPLICATION", "ID_PROOF"))

    notify_missing(case, "HOUSEHOLD_REGISTER", "CIRCUMSTANCES_STATEMENT", "TRUTHFULNESS_PLEDGE")

    assert case.app().status == Status.AWAITING_MATERIALS


def test_app_2_refuses_a_notice_that_leaves_an_item_out(case: Case) -> None:
    case.submit(materials=materials("WRITTEN_APPLICATION", "ID_PROOF"))

    with refused("APP-2"):
        notify_missing(case, "HOUSEHOLD_REGISTER", "CIRCUMSTANCES_STATEMENT")


def test_app_2_refuses_a_second_notice_for_items_already_provided(case: Case) -> None:
    case.submit(materials=materials("WRITTEN_APPLICATION", "ID_PROOF", "HOUSEHOLD_REGISTER"))
    notify_missing(case, "CIRCUMSTANCES_STATEMENT", "TRUTHFULNESS_PLEDGE")
    supplement(case, "CIRCUMSTANCES_STATEMENT")

    with refused("APP-2"):
        notify_missing(case, "CIRCUMSTANCES_STATEMENT", "TRUTHFULNESS_PLEDGE")

    notify_missing(case, "TRUTHFULNESS_PLEDGE")


def test_app_2_asks_a_disabled_applicant_for_the_disability_certificate(case: Case) -> None:
    case.submit(category="DISABLED")

    with refused("APP-2"):
        notify_missing(case, "OTHER")

    notify_missing(case, "DISABILITY_CERTIFICATE")


def test_supplemented_materials_allow_acceptance(case: Case) -> None:
    case.submit(materials=materials(*MANDATORY[:-1]))
    notify_missing(case, MANDATORY[-1])

    supplement(case, MANDATORY[-1])
    case.accept()

    assert case.app().status == Status.ACCEPTED


def test_materials_are_supplemented_only_after_a_deficiency_notice(case: Case) -> None:
    case.submit()

    with refused("APP-0"):
        supplement(case, "OTHER")


def test_app_3_refuses_acceptance_with_a_material_missing(case: Case) -> None:
    case.submit(materials=materials(*MANDATORY[:-1]))

    with refused("APP-3"):
        case.accept()


def test_app_3_needs_the_disability_certificate_of_a_disabled_applicant(case: Case) -> None:
    case.submit(category="DISABLED")

    with refused("APP-3"):
        case.accept()


def test_an_application_awaiting_materials_is_not_accepted(case: Case) -> None:
    case.submit(materials=materials(*MANDATORY[:-1]))
    notify_missing(case, MANDATORY[-1])

    with refused("APP-0"):
        case.accept()


# --- APP-4, APP-5, SOD-4: the investigation ------------------------------------------------------


def test_app_4_needs_the_applicants_authorisation(case: Case) -> None:
    case.submit().accept()

    with refused("APP-4"):
        case.investigate()


def test_app_4_needs_every_obligors_authorisation(case: Case) -> None:
    case.submit(obligor_person_ids=["son-1", "daughter-1"]).accept()
    case.authorise(case.person, "son-1")

    with refused("APP-4"):
        case.investigate()

    case.authorise("daughter-1")
    case.investigate()


def test_app_5_refuses_an_investigation_before_acceptance(case: Case) -> None:
    case.submit().authorise()

    with refused("APP-5"):
        case.investigate()


def test_app_5_needs_the_minimum_number_of_investigators(case: Case) -> None:
    case.submit().accept().authorise()

    with refused("APP-5"):
        case.investigate(["inv-1"])


def test_app_5_counts_investigators_as_persons(case: Case) -> None:
    case.world.directory.actors["inv-1-alt"] = case.world.directory.actors["inv-1"]
    case.submit().accept().authorise()

    with refused("APP-5"):
        case.investigate(["inv-1", "inv-1-alt"])


def test_app_5_is_recorded_by_one_of_the_investigators(case: Case) -> None:
    case.submit().accept().authorise()

    with refused("APP-5"):
        case.investigate(["inv-1", "inv-2"], actor="inv-3")


def test_sod_4_recuses_a_related_official_from_investigating(case: Case) -> None:
    case.submit().accept().authorise()
    file_relative(case, "inv-2")

    with refused("SOD-4"):
        case.investigate(["inv-1", "inv-2"])


def test_a_relative_filing_names_a_household_member(case: Case) -> None:
    case.submit()

    with refused("ENV-8"):
        file_relative(case, "inv-2", person="stranger")


# --- APP-6, SOD-1: the opinion -------------------------------------------------------------------


def test_app_6_refuses_an_opinion_without_an_investigation(case: Case) -> None:
    case.submit().accept().authorise()

    with refused("APP-6"):
        case.opinion()


def test_app_6_needs_a_required_democratic_appraisal() -> None:
    world, seeded = seeded_world()
    define_programme(world, democratic_appraisal="REQUIRED")
    case = Case(world, seeded)
    case.submit().accept().authorise().investigate()

    with refused("APP-6"):
        case.opinion()

    case.emit(
        "DemocraticAppraisalHeld",
        {
            "date": "2024-03-15",
            "participants_count": 21,
            "outcome": "SUPPORT",
            "minutes_sha256": SHA_A,
        },
        actor="vcm-1",
        on="2024-03-15",
    )
    case.opinion()


def test_sod_1_reviewer_is_not_an_investigator_even_under_another_account(case: Case) -> None:
    case.submit().accept().authorise().investigate(["inv-1", "inv-rev"])

    with refused("SOD-1"):
        case.opinion("reviewer-1")

    case.opinion("reviewer-2")


def test_sod_4_recuses_a_related_official_from_reviewing(case: Case) -> None:
    case.submit().accept().authorise().investigate()
    file_relative(case, "reviewer-1")

    with refused("SOD-4"):
        case.opinion("reviewer-1")


# --- APP-8: forwarding after a clean notice (§5.13) ----------------------------------------------


def to_notice(case: Case) -> Case:
    return case.submit().accept().authorise().investigate().opinion().post_notice()


def test_app_8_refuses_forwarding_on_the_last_day_of_the_notice(case: Case) -> None:
    # Closed (recorded on the 26th), yet the forwarding is dated the 25th, inside the window.
    to_notice(case).close_notice("2024-03-26")

    with refused("APP-8"):
        case.forward(on="2024-03-25")


def test_app_8_allows_forwarding_from_the_day_after_the_notice(case: Case) -> None:
    to_notice(case).close_notice("2024-03-26")

    case.forward(on="2024-03-26")

    assert case.app().status == Status.FORWARDED


def test_app_8_refuses_forwarding_before_the_notice_is_closed(case: Case) -> None:
    to_notice(case)

    with refused("APP-8"):
        case.forward(on="2024-03-26")


def test_app_8_refuses_forwarding_with_an_open_objection(case: Case) -> None:
    to_notice(case).object().close_notice()

    with refused("APP-8"):
        case.forward()

    case.resolve(on="2024-03-26")
    case.forward()


def test_app_8_forwarding_cites_the_notice_of_the_latest_opinion(case: Case) -> None:
    to_notice(case).close_notice()

    with refused("APP-8"):
        case.forward(notice_id="some-other-notice")


def test_app_8_refuses_an_approval_with_an_open_objection(case: Case) -> None:
    case.to_forwarded().sample().spot_check()
    case.object("obj-late", received_on="2024-03-27")

    with refused("APP-8"):
        case.approve()


def test_an_upheld_objection_leads_to_a_new_investigation_opinion_and_notice(case: Case) -> None:
    to_notice(case).object().resolve(finding="UPHELD")
    first_notice = case.notice_id
    assert case.app().status == Status.REINVESTIGATING

    with refused("APP-6"):
        case.opinion(on="2024-03-26")
    with refused("APP-0"):
        case.forward()

    case.investigate(on="2024-03-27").opinion(on="2024-03-28")
    case.post_notice(start="2024-03-29", end="2024-04-04").close_notice("2024-04-05")

    with refused("APP-8"):
        case.forward(on="2024-04-05", notice_id=first_notice)
    case.forward(on="2024-04-05")
    case.sample(on="2024-04-06").spot_check(on="2024-04-06")
    case.approve(on="2024-04-08", first_payable_period="2024-05")

    assert case.app().status == Status.APPROVED


def test_an_objection_upheld_after_forwarding_reopens_the_case(case: Case) -> None:
    case.to_forwarded()
    case.object("obj-late", received_on="2024-03-27").resolve("obj-late", "UPHELD", "2024-03-27")

    assert case.app().status == Status.REINVESTIGATING
    with refused("APP-0"):
        case.approve()


# --- the county's decision -----------------------------------------------------------------------


@pytest.fixture
def checked(case: Case) -> Case:
    return case.to_forwarded().sample().spot_check()


def test_app_14_first_payable_period_is_the_month_after_confirmation(checked: Case) -> None:
    with refused("APP-14"):
        checked.approve(on="2024-03-28", first_payable_period="2024-03")
    with refused("APP-14"):
        checked.approve(on="2024-03-28", first_payable_period="2024-05")

    checked.approve(on="2024-03-28", first_payable_period="2024-04")


def test_app_15_refuses_a_case_that_fails_an_eligibility_condition(case: Case) -> None:
    findings = {
        "registered_in_province": True,
        "no_labour_capacity": True,
        "no_income_source": False,
        "no_capable_obligor": True,
        "per_capita_income_fen": 50_000,
        "dependency_level": "NONE",
    }
    case.submit().accept().authorise().investigate(findings=findings).opinion()
    case.post_notice().close_notice().forward().sample().spot_check()

    with refused("APP-15"):
        case.approve()


def test_app_16_refuses_centralised_support_for_a_flagged_person(case: Case) -> None:
    case.to_forwarded(health_flags=["INFECTIOUS_DISEASE"]).sample().spot_check()

    with refused("APP-16"):
        case.approve(support_mode="CENTRALISED")

    case.approve(support_mode="DISPERSED")


def test_centralised_support_names_a_care_institution(checked: Case) -> None:
    with refused("ENV-8"):
        checked.approve(support_mode="CENTRALISED", institution_id="township-1")


def test_dispersed_support_names_no_institution(checked: Case) -> None:
    with refused("ENV-8"):
        checked.approve(institution_id="inst-1")


def test_the_support_mode_must_be_offered_by_the_programme() -> None:
    world, seeded = seeded_world()
    define_programme(world, support_modes=["DISPERSED"])
    case = Case(world, seeded).to_forwarded().sample().spot_check()

    with refused("ENV-8"):
        case.approve(support_mode="CENTRALISED")


def test_the_approval_cites_the_standard_in_force(checked: Case) -> None:
    with refused("ENV-8"):
        checked.approve(standard_ref=checked.seeded.centralised)


def test_the_approval_grants_the_standards_amount(checked: Case) -> None:
    with refused("ENV-8"):
        checked.approve(annual_amount_fen=120_000)


def test_sod_1_the_approver_is_not_an_investigator(checked: Case) -> None:
    with refused("SOD-1"):
        checked.approve(actor="approver-inv")


def test_sod_1_the_approver_is_not_the_reviewer(checked: Case) -> None:
    with refused("SOD-1"):
        checked.approve(actor="approver-rev")


def test_sod_4_recuses_a_related_official_from_approving(case: Case) -> None:
    case.submit()
    file_relative(case, "approver-1")
    case.accept().authorise().investigate().opinion().post_notice().close_notice().forward()
    case.sample().spot_check()

    with refused("SOD-4"):
        case.approve()


def test_a_rejected_case_is_notified_with_its_reasons(checked: Case) -> None:
    checked.reject()
    decision = checked.decision
    assert decision is not None

    with refused("APP-13"):
        notify(checked, decision.event_id, reasons=[])

    notify(checked, decision.event_id, reasons=["has an able obligor"])
    assert checked.app().notified


def test_a_notification_cites_this_applications_decision(checked: Case) -> None:
    checked.approve()

    with refused("ENV-8"):
        notify(checked, checked.seeded.dispersed, reasons=[])


def test_an_undecided_case_is_not_notified(checked: Case) -> None:
    with refused("APP-0"):
        notify(checked, checked.seeded.dispersed, reasons=[])


def test_a_decided_case_is_not_decided_again(checked: Case) -> None:
    checked.reject()

    with refused("APP-0"):
        checked.approve()


def notify(case: Case, decision_event_id: str, *, reasons: list[str]) -> None:
    case.emit(
        "DecisionNotified",
        {
            "decision_event_id": decision_event_id,
            "recipients": [case.person],
            "channel": "WRITTEN",
            "document_sha256": SHA_A,
            "reasons": reasons,
        },
        actor="clerk-1",
        on="2024-03-29",
    )


# --- withdrawal ----------------------------------------------------------------------------------


def withdraw(case: Case) -> None:
    case.emit(
        "ApplicationWithdrawn", {"reason": "moved in with family"}, actor="clerk-1", on="2024-03-20"
    )


def test_a_pending_case_can_be_withdrawn(case: Case) -> None:
    to_notice(case)

    withdraw(case)

    assert case.app().status == Status.WITHDRAWN


def test_a_decided_or_withdrawn_case_cannot_be_withdrawn(checked: Case) -> None:
    checked.approve()

    with refused("APP-0"):
        withdraw(checked)


def test_queries_return_none_for_unknown_ids(world_and_case: tuple[World, Case]) -> None:
    world, _ = world_and_case

    assert applications.application(world.state, "nope") is None


def test_sod_1_a_reviewer_of_the_case_does_not_reinvestigate_it(case: Case) -> None:
    to_notice(case).object().resolve(finding="UPHELD")

    with refused("SOD-1"):
        case.investigate(["inv-1", "inv-rev"], on="2024-03-27")

    case.investigate(["inv-1", "inv-3"], on="2024-03-27")


def test_a_case_is_forwarded_to_an_organisation_above_the_township(case: Case) -> None:
    to_notice(case).close_notice()

    with refused("ENV-8"):
        case.emit(
            "ApplicationForwarded",
            {"to_org_id": "township-2", "package_sha256": SHA_A, "notice_id": case.notice_id},
            actor="reviewer-1",
            on="2024-03-26",
        )


def test_a_relative_filing_names_a_registered_official(case: Case) -> None:
    case.submit()

    with refused("ENV-8"):
        file_relative(case, "nobody")


def test_a_rejection_cites_a_batch_holding_the_case() -> None:
    world, seeded = seeded_world()
    first = Case(world, seeded, "app-1").to_forwarded().sample().spot_check()
    second = Case(world, seeded, "app-2").to_forwarded()
    second.batch_id = first.batch_id

    with refused("ENV-8"):
        second.reject()
