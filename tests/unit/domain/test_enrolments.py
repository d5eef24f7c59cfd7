"""Enrolment, payment accounts (PAY-4), exclusivity (APP-12), termination (TRM-1, TRM-2)
and referral (W5)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain import enrolments
from ledger.domain.enrolments import EnrolmentStatus
from ledger.domain.periods import Period
from tests.unit.domain.case_builders import (
    SHA_A,
    SHA_B,
    Case,
    World,
    publish_standard,
    refused,
    seeded_world,
    submission_payload,
)


def enrolment_of(world: World, enrolment_id: str) -> enrolments.Enrolment:
    found = enrolments.enrolment(world.state, enrolment_id)
    assert found is not None
    return found


def register_account(world: World, account_id: str, **payload: Any) -> None:
    body = {
        "account_id": account_id,
        "channel": "ONE_CARD",
        "holder_person_id": "person-app-1",
        "holder_org_id": None,
        "bank_org_id": "bank-1",
        "account_ref_hmac": SHA_B,
    }
    body.update(payload)
    world.emit("PaymentAccountRegistered", account_id, body, actor="clerk-1")


# --- enrolment -----------------------------------------------------------------------------------


def test_a_dispersed_case_is_enrolled_with_the_persons_card() -> None:
    world, seeded = seeded_world()

    enrolment_id = Case(world, seeded).to_enrolled()

    enrolled = enrolment_of(world, enrolment_id)
    assert enrolled.status == EnrolmentStatus.ACTIVE
    assert enrolled.annual_amount_fen == 130_000
    assert enrolled.first_payable_period == Period(2024, 4)
    assert enrolments.enrolment_of_application(world.state, "app-1") == enrolled
    assert enrolments.enrolments_of_person(world.state, "person-app-1") == [enrolled]


def test_a_centralised_case_is_enrolled_with_the_institutions_account() -> None:
    world, seeded = seeded_world()

    enrolment_id = Case(world, seeded).to_enrolled(centralised=True)

    enrolled = enrolment_of(world, enrolment_id)
    assert enrolled.support_mode == "CENTRALISED"
    assert enrolled.institution_id == "inst-1"
    assert enrolled.annual_amount_fen == 264_000


@pytest.fixture
def approved() -> Case:
    world, seeded = seeded_world()
    return Case(world, seeded).to_approved()


def test_only_an_approved_case_is_enrolled() -> None:
    world, seeded = seeded_world()
    case = Case(world, seeded).to_forwarded().sample().spot_check()
    case.decision = case.world.event(
        "ApplicationApproved", case.id, case.approval_payload(), actor="approver-1", on="2024-03-28"
    )

    with refused("ENV-7"):
        case.enrol(case.register_account())


def test_a_case_is_enrolled_once(approved: Case) -> None:
    account = approved.register_account()
    approved.enrol(account)

    with refused("ENV-7"):
        approved.enrol(account, enrolment_id="enr-second")


@pytest.mark.parametrize(
    "field_and_value",
    [
        ("annual_amount_fen", 140_000),
        ("first_payable_period", "2024-05"),
        ("person_id", "someone-else"),
        ("household_id", "hh-other"),
        ("dossier_id", "dossier-other"),
    ],
)
def test_the_enrolment_copies_the_approval(
    approved: Case, field_and_value: tuple[str, Any]
) -> None:
    field, value = field_and_value
    account = approved.register_account()

    with refused("ENV-8"):
        approved.enrol(account, **{field: value})


def test_the_enrolment_needs_a_registered_account(approved: Case) -> None:
    with refused("ENV-8"):
        approved.enrol("acct-none")


def test_pay_4_dispersed_support_is_paid_to_the_beneficiarys_own_card(approved: Case) -> None:
    register_account(approved.world, "card-neighbour", holder_person_id="neighbour")

    with refused("PAY-4"):
        approved.enrol("card-neighbour")


def test_pay_4_centralised_support_is_paid_to_the_institution() -> None:
    world, seeded = seeded_world()
    case = Case(world, seeded).to_approved(support_mode="CENTRALISED")

    with refused("PAY-4"):
        case.enrol(case.register_account(centralised=False))


# --- payment accounts (PAY-4) --------------------------------------------------------------------


def test_pay_4_a_card_is_held_by_a_person() -> None:
    world, _ = seeded_world()

    with refused("PAY-4"):
        register_account(world, "card-1", holder_person_id=None, holder_org_id="inst-1")


def test_pay_4_an_institution_account_is_held_by_a_care_institution() -> None:
    world, _ = seeded_world()

    with refused("PAY-4"):
        register_account(
            world,
            "inst-acct",
            channel="INSTITUTION_ACCOUNT",
            holder_person_id=None,
            holder_org_id="township-1",
        )


def test_an_account_is_registered_once() -> None:
    world, _ = seeded_world()
    register_account(world, "card-1")

    with refused("ENV-7"):
        register_account(world, "card-1")


def test_an_account_needs_a_registered_bank() -> None:
    world, _ = seeded_world()

    with refused("ENV-8"):
        register_account(world, "card-1", bank_org_id="bank-404")


# --- APP-12: exclusivity -------------------------------------------------------------------------


def test_app_12_refuses_a_second_enrolment_in_the_same_programme() -> None:
    world, seeded = seeded_world()
    Case(world, seeded, "app-1", person="old-wang").to_enrolled()
    second = Case(world, seeded, "app-2", person="old-wang").to_forwarded().sample().spot_check()

    with refused("APP-12"):
        second.approve()


def test_app_12_refuses_an_exclusive_programme() -> None:
    world, seeded = seeded_world()
    dibao_standard = publish_standard(
        world, "std-dibao", programme_code="DIBAO_RURAL", amount_fen=780_000
    ).event_id
    Case(world, seeded, "app-1", person="old-wang").to_enrolled()
    dibao = Case(world, seeded, "app-2", person="old-wang", programme_code="DIBAO_RURAL")
    dibao.to_forwarded().sample().spot_check()

    with refused("APP-12"):
        dibao.approve(standard_ref=dibao_standard, annual_amount_fen=780_000)


def test_app_12_a_terminated_enrolment_does_not_block() -> None:
    world, seeded = seeded_world()
    first = Case(world, seeded, "app-1", person="old-wang")
    enrolment_id = first.to_enrolled()
    propose(world, enrolment_id, "DECEASED", death_date="2024-05-02")
    decide(world, enrolment_id, on="2024-09-10", effective="2024-10")
    second = Case(world, seeded, "app-2", person="old-wang").to_forwarded().sample().spot_check()

    second.approve()


# --- W5: termination -----------------------------------------------------------------------------


def propose(world: World, enrolment_id: str, reason: str, death_date: str | None = None) -> None:
    world.emit(
        "TerminationProposed",
        enrolment_id,
        {"reason_code": reason, "evidence": [SHA_A], "death_date": death_date},
        actor="reviewer-1",
        on="2024-08-20",
    )


def decide(
    world: World, enrolment_id: str, *, on: str, effective: str, notice_id: str | None = None
) -> None:
    world.emit(
        "TerminationDecided",
        enrolment_id,
        {"effective_period": effective, "reasons": ["no longer eligible"], "notice_id": notice_id},
        actor="approver-1",
        on=on,
    )


def post_termination_notice(
    world: World,
    enrolment_id: str,
    *,
    notice_id: str = "tn-1",
    start: str = "2024-08-22",
    end: str = "2024-08-28",
    location: str = "village-1",
    actor: str = "reviewer-1",
) -> None:
    world.emit(
        "PublicNoticePosted",
        notice_id,
        {
            "notice_id": notice_id,
            "kind": "TERMINATION",
            "subject_ids": [enrolment_id],
            "location_org_id": location,
            "start_date": start,
            "end_date": end,
            "content_sha256": SHA_A,
        },
        actor=actor,
        on=start,
    )


def close(world: World, notice_id: str = "tn-1", on: str = "2024-08-29") -> None:
    world.emit("PublicNoticeClosed", notice_id, {"closed_on": on}, actor="reviewer-1", on=on)


@pytest.fixture
def enrolled() -> tuple[World, str]:
    world, seeded = seeded_world()
    return world, Case(world, seeded).to_enrolled()


def test_a_termination_after_a_clean_notice_is_decided_from_next_month(
    enrolled: tuple[World, str],
) -> None:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "NO_LONGER_ELIGIBLE")
    post_termination_notice(world, enrolment_id)
    close(world)

    # §5.13: decided on 2024-09-10, so effective 2024-10 and last payable 2024-09.
    decide(world, enrolment_id, on="2024-09-10", effective="2024-10", notice_id="tn-1")

    terminated = enrolment_of(world, enrolment_id)
    assert terminated.status == EnrolmentStatus.TERMINATED
    assert terminated.termination is not None
    assert terminated.termination.effective_period == Period(2024, 10)
    assert terminated.last_payable_period == Period(2024, 9)


def test_trm_2_the_termination_takes_effect_the_month_after_the_decision(
    enrolled: tuple[World, str],
) -> None:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "VOLUNTARY")

    with refused("TRM-2"):
        decide(world, enrolment_id, on="2024-09-10", effective="2024-09")
    with refused("TRM-2"):
        decide(world, enrolment_id, on="2024-09-10", effective="2024-11")


def test_trm_1_a_termination_needs_a_notice(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "NO_LONGER_ELIGIBLE")

    with refused("TRM-1"):
        decide(world, enrolment_id, on="2024-09-10", effective="2024-10")


def test_trm_1_the_notice_must_be_closed(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "NO_LONGER_ELIGIBLE")
    post_termination_notice(world, enrolment_id)

    with refused("TRM-1"):
        decide(world, enrolment_id, on="2024-09-10", effective="2024-10", notice_id="tn-1")


def test_trm_1_no_objection_may_be_left_open(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "NO_LONGER_ELIGIBLE")
    post_termination_notice(world, enrolment_id)
    world.emit(
        "ObjectionReceived",
        "tn-1",
        {
            "objection_id": "obj-t",
            "subject_id": enrolment_id,
            "received_on": "2024-08-23",
            "channel": "PHONE",
            "content_sha256": SHA_A,
        },
        actor="clerk-1",
        on="2024-08-23",
    )
    close(world)

    with refused("TRM-1"):
        decide(world, enrolment_id, on="2024-09-10", effective="2024-10", notice_id="tn-1")

    world.emit(
        "ObjectionInvestigated",
        "tn-1",
        {"objection_id": "obj-t", "finding": "DISMISSED", "summary_sha256": SHA_B},
        actor="approver-1",
        on="2024-09-02",
    )
    decide(world, enrolment_id, on="2024-09-10", effective="2024-10", notice_id="tn-1")


def test_trm_1_the_notice_must_be_about_the_current_proposal(
    enrolled: tuple[World, str],
) -> None:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "NO_LONGER_ELIGIBLE")
    post_termination_notice(world, enrolment_id)
    close(world)
    world.emit("TerminationWithdrawn", enrolment_id, {"reason": "upheld"}, actor="approver-1")
    propose(world, enrolment_id, "NO_LONGER_ELIGIBLE")

    with refused("TRM-1"):
        decide(world, enrolment_id, on="2024-09-10", effective="2024-10", notice_id="tn-1")


def test_app_7_a_termination_notice_runs_the_programmes_days(
    enrolled: tuple[World, str],
) -> None:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "NO_LONGER_ELIGIBLE")

    with refused("APP-7"):
        post_termination_notice(world, enrolment_id, end="2024-08-27")


def test_app_7_a_termination_notice_hangs_in_the_village_or_institution(
    enrolled: tuple[World, str],
) -> None:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "NO_LONGER_ELIGIBLE")

    with refused("APP-7"):
        post_termination_notice(world, enrolment_id, location="village-1b")


def test_a_centralised_beneficiarys_notice_may_hang_in_the_institution() -> None:
    world, seeded = seeded_world()
    enrolment_id = Case(world, seeded).to_enrolled(centralised=True)
    propose(world, enrolment_id, "NO_LONGER_ELIGIBLE")

    post_termination_notice(world, enrolment_id, location="inst-1", actor="approver-1")


def test_only_a_pending_termination_is_noticed(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled

    with refused("ENV-7"):
        post_termination_notice(world, enrolment_id)


def test_a_waived_reason_needs_no_notice_and_death_ends_payment_in_the_month_of_death(
    enrolled: tuple[World, str],
) -> None:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "DECEASED", death_date="2024-07-15")

    decide(world, enrolment_id, on="2024-09-10", effective="2024-10")

    assert enrolment_of(world, enrolment_id).last_payable_period == Period(2024, 7)


def test_a_pending_termination_can_be_withdrawn(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "NO_LONGER_ELIGIBLE")

    world.emit("TerminationWithdrawn", enrolment_id, {"reason": "upheld"}, actor="approver-1")

    assert enrolment_of(world, enrolment_id).status == EnrolmentStatus.ACTIVE
    with refused("ENV-7"):
        world.emit("TerminationWithdrawn", enrolment_id, {"reason": "again"}, actor="approver-1")


def test_a_terminated_enrolment_is_not_terminated_again(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "VOLUNTARY")
    decide(world, enrolment_id, on="2024-09-10", effective="2024-10")

    with refused("ENV-7"):
        propose(world, enrolment_id, "FRAUD")


def test_a_termination_event_on_an_unknown_enrolment_is_refused() -> None:
    world, _ = seeded_world()

    with refused("ENV-8"):
        propose(world, "enr-404", "FRAUD")


# --- referral ------------------------------------------------------------------------------------


def refer(world: World, enrolment_id: str, new_application_id: str = "app-ref") -> None:
    world.emit(
        "ReferralMade",
        enrolment_id,
        {"to_programme_code": "DIBAO_RURAL", "new_application_id": new_application_id},
        actor="approver-1",
        on="2024-09-11",
    )


def submit_referral(world: World, **overrides: Any) -> None:
    payload = submission_payload(
        "app-ref",
        programme_code="DIBAO_RURAL",
        applicant_person_id="person-app-1",
        channel="REFERRAL",
        referral_from_enrolment_id="enr-app-1",
    )
    payload.update(overrides)
    world.emit("ApplicationSubmitted", payload["application_id"], payload, actor="clerk-1")


@pytest.fixture
def terminated(enrolled: tuple[World, str]) -> tuple[World, str]:
    world, enrolment_id = enrolled
    propose(world, enrolment_id, "VOLUNTARY")
    decide(world, enrolment_id, on="2024-09-10", effective="2024-10")
    return world, enrolment_id


def test_a_referral_starts_a_referral_application(terminated: tuple[World, str]) -> None:
    world, enrolment_id = terminated

    refer(world, enrolment_id)
    submit_referral(world)

    found = enrolments.referral(world.state, "app-ref")
    assert found is not None and found.from_enrolment_id == enrolment_id


def test_only_a_terminated_enrolment_is_referred(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled

    with refused("ENV-7"):
        refer(world, enrolment_id)


def test_a_referral_reserves_a_new_application_id(terminated: tuple[World, str]) -> None:
    world, enrolment_id = terminated

    with refused("ENV-7"):
        refer(world, enrolment_id, new_application_id="app-1")


def test_a_referral_application_matches_its_referral(terminated: tuple[World, str]) -> None:
    world, enrolment_id = terminated
    refer(world, enrolment_id)

    with refused("ENV-8"):
        submit_referral(world, programme_code="TEKUN")
    with refused("ENV-8"):
        submit_referral(world, applicant_person_id="someone-else")


def test_a_referral_application_needs_a_referral(terminated: tuple[World, str]) -> None:
    world, _ = terminated

    with refused("ENV-8"):
        submit_referral(world)


def test_a_reserved_id_is_not_used_by_an_ordinary_application(
    terminated: tuple[World, str],
) -> None:
    world, enrolment_id = terminated
    refer(world, enrolment_id)

    with refused("ENV-7"):
        submit_referral(world, channel="IN_PERSON", referral_from_enrolment_id=None)


# --- facts ---------------------------------------------------------------------------------------


def test_residency_facts_record_stays_and_discharges() -> None:
    world, _ = seeded_world()
    stay = {
        "institution_id": "inst-1",
        "person_id": "person-app-1",
        "admitted_on": "2024-04-01",
        "discharged_on": None,
        "bed_id": "bed-7",
    }
    world.emit("InstitutionResidencyRecorded", "person-app-1", stay, actor="inst-manager-1")
    world.emit(
        "InstitutionResidencyRecorded",
        "person-app-1",
        {**stay, "discharged_on": "2024-06-30"},
        actor="inst-manager-1",
    )

    stays = enrolments.institution_stays(world.state, "person-app-1")
    assert len(stays) == 1
    assert str(stays[0].discharged_on) == "2024-06-30"


def test_an_erased_identity_is_flagged() -> None:
    world, _ = seeded_world()

    world.emit(
        "PersonIdentityErased",
        "person-app-1",
        {"person_id": "person-app-1", "reason": "LEGAL_REQUEST"},
        actor="admin-1",
    )

    assert enrolments.is_identity_erased(world.state, "person-app-1")
    assert not enrolments.is_identity_erased(world.state, "person-app-2")
