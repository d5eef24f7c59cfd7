"""W12 inspections: INS-1..6, SOD-6, the hidden unannounced plan and the F-INSP score."""

from __future__ import annotations

from ledger.domain.model import SOFT_FINDINGS
from ledger.domain.supervision import is_plan_hidden_from
from ledger.domain.supervision_inspections import (
    InspectionStatus,
    finding,
    inspection,
    is_plan_hidden,
)
from tests.unit.domain.case_builders import World, refused
from tests.unit.domain.supervision_builders import (
    conduct,
    criticise,
    expose,
    find,
    inspected_world,
    plan,
    report_payload,
    supervision_world,
)


def soft(world: World, rule: str) -> list[str]:
    """The finding codes of soft breaches of ``rule`` recorded so far."""
    table = world.state.table(SOFT_FINDINGS)
    return [f.finding_code for (_, r), f in table.items() if r == rule]


def submit_report(
    world: World,
    on: str = "2024-02-29",
    signers: list[str] | None = None,
    cosigners: list[str] | None = None,
) -> None:
    world.emit(
        "InspectionReportSubmitted",
        "ins-1",
        report_payload(signers, cosigners),
        actor="lead-1",
        on=on,
    )


def score(world: World, raw: str, single: str, deductions: list[tuple[str, str]]) -> None:
    world.emit(
        "InspectionScoreRecorded",
        "ins-1",
        {
            "target_org_id": "village-1",
            "raw_score": raw,
            "item_deductions": [{"cause_event_id": c, "points": p} for c, p in deductions],
            "single_score": single,
        },
        actor="lead-1",
        on="2024-03-25",
    )


# --- plan: INS-1, INS-2, SOD-6 -------------------------------------------------------------------


def test_a_plan_with_two_cross_paired_inspectors_is_accepted() -> None:
    world = supervision_world()

    plan(world)

    found = inspection(world.state, "ins-1")
    assert found is not None
    assert (found.status, found.mode, found.team_actor_ids) == (
        InspectionStatus.PLANNED,
        "UNANNOUNCED",
        frozenset({"insp-1", "insp-2"}),
    )


def test_a_team_of_one_is_refused_with_ins_1() -> None:
    world = supervision_world()

    with refused("INS-1"):
        plan(world, team_actor_ids=["insp-1"])


def test_two_accounts_of_one_person_are_one_inspector_ins_1() -> None:
    world = supervision_world()

    with refused("INS-1"):
        plan(world, team_actor_ids=["insp-1", "insp-1-alt"])


def test_a_special_inspection_must_be_announced_ins_2() -> None:
    world = supervision_world()

    with refused("INS-2"):
        plan(world, type="SPECIAL", mode="UNANNOUNCED")
    plan(world, type="SPECIAL", mode="ANNOUNCED")

    assert inspection(world.state, "ins-1") is not None


def test_an_inspector_from_a_target_unit_is_refused_sod_6() -> None:
    world = supervision_world()

    with refused("SOD-6"):
        plan(world, team_actor_ids=["insp-1", "insp-v1"])


def test_an_inspector_from_inside_a_targeted_township_is_refused_sod_6() -> None:
    world = supervision_world()

    # village-1 is inside township-1: its inspector belongs to the inspected unit.
    with refused("SOD-6"):
        plan(world, target_org_ids=["township-1"], team_actor_ids=["insp-1", "insp-v1"])


def test_the_same_inspector_may_inspect_another_unit() -> None:
    world = supervision_world()

    plan(world, target_org_ids=["village-3"], team_actor_ids=["insp-1", "insp-v1"])

    assert inspection(world.state, "ins-1") is not None


def test_an_unregistered_target_is_refused_env_8() -> None:
    world = supervision_world()

    with refused("ENV-8"):
        plan(world, target_org_ids=["village-99"])


def test_a_plan_cannot_be_made_twice_env_7() -> None:
    world = supervision_world()
    plan(world)

    with refused("ENV-7"):
        plan(world)


# --- notify: INS-3 and the hidden plan -----------------------------------------------------------


def notify(world: World, target: str = "village-1") -> None:
    world.emit(
        "InspectionNotified",
        "ins-1",
        {"target_org_id": target, "notified_at": "2024-02-26T15:00:00+08:00"},
        actor="lead-1",
        on="2024-02-26",
    )


def test_an_unannounced_inspection_is_never_notified_ins_3() -> None:
    world = supervision_world()
    plan(world, mode="UNANNOUNCED")

    with refused("INS-3"):
        notify(world)


def test_an_announced_inspection_is_notified_to_its_target() -> None:
    world = supervision_world()
    plan(world, mode="ANNOUNCED")

    notify(world)

    found = inspection(world.state, "ins-1")
    assert found is not None
    assert found.notified_org_ids == frozenset({"village-1"})
    assert not is_plan_hidden_from(world.state, "ins-1", "village-1")


def test_notifying_a_unit_that_is_not_a_target_is_refused_env_8() -> None:
    world = supervision_world()
    plan(world, mode="ANNOUNCED")

    with refused("ENV-8"):
        notify(world, target="village-2")


def test_notifying_after_the_visit_is_refused_env_7() -> None:
    world = supervision_world()
    plan(world, mode="ANNOUNCED")
    conduct(world)

    with refused("ENV-7"):
        notify(world)


def test_an_unannounced_inspection_lifecycle_hides_the_plan_until_the_visit() -> None:
    world = supervision_world()
    plan(world, target_org_ids=["township-1"])

    # Hidden from the target and from units inside it, not from others.
    assert is_plan_hidden(world.state, "ins-1")
    assert is_plan_hidden_from(world.state, "ins-1", "township-1")
    assert is_plan_hidden_from(world.state, "ins-1", "village-1", world.directory)
    assert not is_plan_hidden_from(world.state, "ins-1", "village-1")  # no org tree given
    assert not is_plan_hidden_from(world.state, "ins-1", "township-2", world.directory)

    conduct(world)
    find(world, target="village-1")
    world.emit(
        "InspectionReportSubmitted", "ins-1", report_payload(), actor="lead-1", on="2024-02-29"
    )

    assert not is_plan_hidden(world.state, "ins-1")
    assert not is_plan_hidden_from(world.state, "ins-1", "township-1", world.directory)
    found = inspection(world.state, "ins-1")
    assert found is not None
    assert found.status is InspectionStatus.REPORTED
    assert soft(world, "INS-5") == []


def test_an_unknown_inspection_hides_nothing() -> None:
    assert not is_plan_hidden_from(supervision_world().state, "ins-404", "village-1")


# --- facts ---------------------------------------------------------------------------------------


def test_a_visit_on_an_unplanned_inspection_is_kept_not_refused() -> None:
    world = supervision_world()

    conduct(world, inspection_id="ins-9")

    assert len(world.state.table("sup.unmatched_facts")) == 1


def test_a_finding_without_evidence_is_recorded_with_ins_6() -> None:
    world = supervision_world()
    plan(world)
    conduct(world)

    find(world, evidence=[])
    find(world, "f-2")

    assert soft(world, "INS-6") == ["AF-INS-NO-EVIDENCE"]
    found = finding(world.state, "f-1")
    assert found is not None
    assert not found.has_evidence


# --- report: INS-4, INS-5 ------------------------------------------------------------------------


def test_the_report_signed_by_the_whole_team_on_the_next_day_is_accepted() -> None:
    world = inspected_world()

    submit_report(world, on="2024-02-29")

    assert soft(world, "INS-5") == []


def test_a_report_missing_a_team_signer_is_refused_ins_4() -> None:
    world = inspected_world()

    with refused("INS-4"):
        submit_report(world, signers=["insp-1"])


def test_a_report_signed_by_someone_off_the_team_is_refused_ins_4() -> None:
    world = inspected_world()

    with refused("INS-4"):
        submit_report(world, signers=["insp-1", "insp-2", "lead-2"])


def test_a_report_whose_cosignatures_do_not_match_the_team_is_refused_ins_4() -> None:
    world = inspected_world()

    with refused("INS-4"):
        submit_report(world, cosigners=["insp-1", "lead-2"])
    with refused("INS-4"):
        submit_report(world, cosigners=["insp-1"])


def test_a_report_before_the_visit_is_refused_env_7() -> None:
    world = supervision_world()
    plan(world)

    with refused("ENV-7"):
        submit_report(world)


def test_a_report_two_days_after_the_visit_is_accepted_with_ins_5() -> None:
    world = inspected_world()

    submit_report(world, on="2024-03-01")

    assert soft(world, "INS-5") == ["AF-INS-LATE-REPORT"]
    (late,) = [f for (_, r), f in world.state.table(SOFT_FINDINGS).items() if r == "INS-5"]
    assert dict(late.evidence)["late_days"] == 1
    assert dict(late.evidence)["due"] == "2024-02-29"


# --- score: F-INSP single score and SCO-2 --------------------------------------------------------


def test_ex_insp_1_inspection_2_single_score_is_85() -> None:
    world = inspected_world()
    crit = criticise(world, "CITY_GOVERNMENT")
    media = expose(world)

    score(world, "88", "85", [(crit.event_id, "2"), (media.event_id, "1")])

    found = inspection(world.state, "ins-1")
    assert found is not None
    assert found.scored_org_ids == frozenset({"village-1"})


def test_ex_insp_2_a_city_office_bulletin_deducts_1() -> None:
    world = inspected_world()
    bulletin = criticise(world, "CITY_OFFICE")

    score(world, "78", "77", [(bulletin.event_id, "1")])


def test_a_deduction_off_the_schedule_is_refused_sco_2() -> None:
    world = inspected_world()
    crit = criticise(world, "CITY_GOVERNMENT")

    with refused("SCO-2"):
        score(world, "88", "87", [(crit.event_id, "1")])


def test_a_single_score_that_is_not_raw_minus_deductions_is_refused_sco_2() -> None:
    world = inspected_world()
    crit = criticise(world, "CITY_GOVERNMENT")

    with refused("SCO-2"):
        score(world, "88", "87", [(crit.event_id, "2")])


def test_a_cause_counts_once_sco_2() -> None:
    world = inspected_world()
    crit = criticise(world, "CITY_GOVERNMENT")

    with refused("SCO-2"):
        score(world, "88", "84", [(crit.event_id, "2"), (crit.event_id, "2")])


def test_a_finding_is_a_discretionary_deduction() -> None:
    world = inspected_world()
    found = finding(world.state, "f-1")
    assert found is not None

    score(world, "90", "87.5", [(found.event_id, "2.5")])


def test_a_deduction_citing_another_units_criticism_is_refused_env_8() -> None:
    world = inspected_world()
    other = criticise(world, "CITY_GOVERNMENT", target="village-2")

    with refused("ENV-8"):
        score(world, "88", "86", [(other.event_id, "2")])


def test_scoring_before_the_visit_is_refused_env_7() -> None:
    world = supervision_world()
    plan(world)

    with refused("ENV-7"):
        score(world, "90", "90", [])
