"""W13 notices and rectification (RECT-1, RECT-2, SOD-7), the escalation decisions citing their
causes, and the state the overdue and escalation detectors read (EX-ESC-2)."""

from __future__ import annotations

from datetime import date

from ledger.domain.escalation import Step
from ledger.domain.supervision_events import SUPERVISION_EVENTS
from ledger.domain.supervision_notices import (
    NoticeStatus,
    escalation_dues,
    escalations_issued,
    notice,
    rectification_due_for,
)
from tests.unit.domain.case_builders import World, refused
from tests.unit.domain.supervision_builders import (
    criticise,
    find,
    inspected_world,
    issue_notice,
    report_rectification,
    verify,
)


def status(world: World, notice_id: str = "n-1") -> NoticeStatus:
    found = notice(world.state, notice_id)
    assert found is not None
    return found.status


def extend(world: World, new_deadline: str, actor: str = "lead-1", on: str = "2024-03-10") -> None:
    world.emit(
        "RectificationDeadlineExtended",
        "n-1",
        {"new_deadline": new_deadline, "reason": "heavy rain"},
        actor=actor,
        on=on,
    )


def reissue(
    world: World, new_deadline: str = "2024-04-15", actor: str = "lead-1", on: str = "2024-03-20"
) -> None:
    world.emit(
        "SupervisionNoticeReissued",
        "n-2",
        {"notice_id": "n-2", "previous_notice_id": "n-1", "new_deadline": new_deadline},
        actor=actor,
        on=on,
    )


# --- RECT-1 --------------------------------------------------------------------------------------


def test_a_notice_with_a_later_deadline_and_a_finding_is_issued() -> None:
    world = inspected_world()

    issue_notice(world)

    found = notice(world.state, "n-1")
    assert found is not None
    assert (found.status, found.deadline, found.issuer_org_id) == (
        NoticeStatus.ISSUED,
        date(2024, 3, 15),
        "team-org-1",
    )


def test_a_deadline_on_the_issue_date_is_refused_rect_1() -> None:
    world = inspected_world()

    with refused("RECT-1"):
        issue_notice(world, deadline="2024-03-01", on="2024-03-01")


def test_a_notice_citing_an_unrecorded_finding_is_refused_rect_1() -> None:
    world = inspected_world()

    with refused("RECT-1"):
        issue_notice(world, findings=["f-404"])


def test_a_notice_citing_another_units_finding_is_refused_rect_1() -> None:
    world = inspected_world()
    find(world, "f-2", target="village-2")

    with refused("RECT-1"):
        issue_notice(world, findings=["f-1", "f-2"])


def test_a_notice_id_is_issued_once_env_7() -> None:
    world = inspected_world()
    issue_notice(world)

    with refused("ENV-7"):
        issue_notice(world)


# --- RECT-2, SOD-7 -------------------------------------------------------------------------------


def test_a_reported_rectification_verified_passed_closes_the_notice() -> None:
    world = inspected_world()
    issue_notice(world)
    report_rectification(world)
    assert status(world) is NoticeStatus.RESPONDED

    verify(world, result="PASSED")

    assert status(world) is NoticeStatus.VERIFIED_PASSED
    assert rectification_due_for(world.state, "n-1", date(2024, 4, 1)) is None


def test_verifying_without_a_report_is_refused_rect_2() -> None:
    world = inspected_world()
    issue_notice(world)

    with refused("RECT-2"):
        verify(world)


def test_a_second_verification_needs_a_new_report_rect_2() -> None:
    world = inspected_world()
    issue_notice(world)
    report_rectification(world)
    verify(world, result="FAILED")

    with refused("RECT-2"):
        verify(world, result="PASSED", on="2024-03-14")
    report_rectification(world, on="2024-03-13")
    verify(world, result="PASSED", on="2024-03-14")

    assert status(world) is NoticeStatus.VERIFIED_PASSED


def test_a_closed_notice_is_not_verified_again_env_7() -> None:
    world = inspected_world()
    issue_notice(world)
    report_rectification(world)
    verify(world)
    report_rectification(world, on="2024-03-13")

    with refused("ENV-7"):
        verify(world, on="2024-03-14")


def test_an_inspector_of_the_rectifying_unit_cannot_verify_sod_7() -> None:
    world = inspected_world()
    issue_notice(world)
    report_rectification(world)

    with refused("SOD-7"):
        verify(world, actor="insp-v1")


def test_a_report_on_an_unknown_notice_is_kept_not_refused() -> None:
    world = inspected_world()

    report_rectification(world, notice_id="n-404")

    assert len(world.state.table("sup.unmatched_facts")) == 1


def test_the_issuer_extends_the_deadline() -> None:
    world = inspected_world()
    issue_notice(world)

    extend(world, "2024-03-22")

    found = notice(world.state, "n-1")
    assert found is not None
    assert (found.deadline, found.extensions) == (date(2024, 3, 22), 1)


def test_only_the_issuer_extends_rect_2() -> None:
    world = inspected_world()
    issue_notice(world)

    with refused("RECT-2"):
        extend(world, "2024-03-22", actor="lead-2")


def test_an_extension_must_move_the_deadline_later_rect_1() -> None:
    world = inspected_world()
    issue_notice(world)

    with refused("RECT-1"):
        extend(world, "2024-03-15")


def test_the_issuer_reissues_an_overdue_notice() -> None:
    world = inspected_world()
    issue_notice(world)

    reissue(world)

    assert status(world, "n-1") is NoticeStatus.REISSUED
    successor = notice(world.state, "n-2")
    assert successor is not None
    assert (successor.previous_notice_id, successor.target_org_id, successor.deadline) == (
        "n-1",
        "village-1",
        date(2024, 4, 15),
    )


def test_only_the_issuer_reissues_rect_2() -> None:
    world = inspected_world()
    issue_notice(world)

    with refused("RECT-2"):
        reissue(world, actor="lead-2")


def test_a_notice_neither_failed_nor_overdue_is_not_reissued_env_7() -> None:
    world = inspected_world()
    issue_notice(world)

    with refused("ENV-7"):
        reissue(world, on="2024-03-10")


# --- EX-ESC-2 and the escalation decisions -------------------------------------------------------


def test_ex_esc_2_criticism_then_accountability_due() -> None:
    world = inspected_world()
    issued = issue_notice(world, deadline="2024-03-15", on="2024-03-01")

    # Nothing reported by 15 March: a criticism is due on 16 March.
    assert rectification_due_for(world.state, "n-1", date(2024, 3, 15)) is None
    due = rectification_due_for(world.state, "n-1", date(2024, 3, 16))
    assert due is not None
    assert (due.step, due.due_from) == (Step.CRITICISM, date(2024, 3, 16))

    crit = criticise(world, "CITY_GOVERNMENT", issued_at="2024-03-18", causes=[issued.event_id])
    report_rectification(world, on="2024-03-25")
    verify(world, result="FAILED", on="2024-03-29")

    due = rectification_due_for(world.state, "n-1", date(2024, 3, 29))
    assert due is not None
    assert (due.step, due.due_from) == (Step.ACCOUNTABILITY, date(2024, 3, 29))
    found = notice(world.state, "n-1")
    assert found is not None
    assert found.escalation_event_ids == (crit.event_id,)


def test_a_reissued_case_that_passes_ends_the_ladder() -> None:
    world = inspected_world()
    issue_notice(world)
    reissue(world, on="2024-03-20")
    report_rectification(world, notice_id="n-2", on="2024-04-01")
    verify(world, notice_id="n-2", result="PASSED", on="2024-04-02")

    assert rectification_due_for(world.state, "n-1", date(2024, 3, 25)) is not None
    assert rectification_due_for(world.state, "n-1", date(2024, 4, 2)) is None


def escalation_due(world: World, step: str, causes: list[str], target: str = "village-1") -> str:
    return world.emit(
        "EscalationDue",
        target,
        {
            "ladder": "RECTIFICATION",
            "step": step,
            "subject": "n-1",
            "target_org_id": target,
            "due_by": "2024-04-12",
            "cause_event_ids": causes,
        },
        actor="ledger-1",
        on="2024-03-29",
    ).event_id


def refer(world: World, causes: list[str], to: str = "discipline-1") -> str:
    return world.emit(
        "AccountabilityReferred",
        "village-1",
        {
            "target_org_id": "village-1",
            "persons": ["p-head-v1"],
            "referred_to_org_id": to,
            "cause_event_ids": causes,
        },
        actor="sec-1",
        on="2024-04-01",
    ).event_id


def test_an_accountability_referral_citing_its_causes_meets_the_expectation() -> None:
    world = inspected_world()
    issued = issue_notice(world)
    due_id = escalation_due(world, "ACCOUNTABILITY", [issued.event_id])

    referral = refer(world, [due_id, issued.event_id])

    (due,) = list(escalation_dues(world.state))
    assert due.satisfied_by == referral
    kinds = [i.event_type for i in escalations_issued(world.state, "village-1")]
    assert kinds == ["AccountabilityReferred"]


def test_an_expectation_without_a_decision_stays_unmet() -> None:
    world = inspected_world()
    issued = issue_notice(world)
    escalation_due(world, "ACCOUNTABILITY", [issued.event_id])

    # A warning does not satisfy an accountability expectation.
    world.emit(
        "WarningIssued",
        "village-1",
        {"target_org_id": "village-1", "cause_event_ids": [issued.event_id]},
        actor="officer-1",
        on="2024-04-01",
    )

    (due,) = list(escalation_dues(world.state))
    assert due.satisfied_by is None


def test_a_sanction_citing_an_unknown_event_is_refused_env_8() -> None:
    world = inspected_world()

    with refused("ENV-8"):
        refer(world, ["00000000-0000-0000-0000-000000000999"])


def test_a_sanction_citing_another_units_event_is_refused_env_8() -> None:
    world = inspected_world()
    other = criticise(world, "CITY_GOVERNMENT", target="village-2")

    with refused("ENV-8"):
        refer(world, [other.event_id])


def test_accountability_goes_to_a_discipline_body_env_8() -> None:
    world = inspected_world()
    issued = issue_notice(world)

    with refused("ENV-8"):
        refer(world, [issued.event_id], to="office-1")


def test_public_self_criticism_and_admonition_cite_causes() -> None:
    world = inspected_world()
    crit = criticise(world, "DISTRICT")

    for event_type in ("PublicSelfCriticismRequired", "AdmonitionHeld"):
        world.emit(
            event_type,
            "village-1",
            {
                "target_org_id": "village-1",
                "persons": ["p-head-v1"],
                "cause_event_ids": [crit.event_id],
            },
            actor="officer-1",
            on="2024-04-01",
        )

    kinds = [i.event_type for i in escalations_issued(world.state, "village-1")]
    assert kinds == ["CriticismIssued", "PublicSelfCriticismRequired", "AdmonitionHeld"]


def test_a_criticism_citing_the_overdue_notice_meets_the_criticism_expectation() -> None:
    world = inspected_world()
    issued = issue_notice(world)
    escalation_due(world, "CRITICISM", [issued.event_id])

    crit = criticise(world, "CITY_GOVERNMENT", issued_at="2024-03-18", causes=[issued.event_id])

    (due,) = list(escalation_dues(world.state))
    assert due.satisfied_by == crit.event_id


def test_supervision_events_use_the_documented_streams() -> None:
    streams = {spec.event_type: spec.stream_type for spec in SUPERVISION_EVENTS}

    assert streams["InspectionPlanned"] == "inspection"
    assert streams["SupervisionNoticeReissued"] == "supervision_notice"
    assert streams["CriticismIssued"] == "assessment"
    assert set(streams.values()) == {"inspection", "supervision_notice", "assessment"}
    assert len(streams) == 19
