"""COR-1: corrections of decisions that affect money, eligibility or scores are co-signed by
another person with the same or a superior role, and a correction already corrected is
corrected again only with an auditor's co-signature (domain.md §6.3, §6.4)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain import corrections
from ledger.domain.catalogue import DEFAULT_CATALOGUE, ROLES, Kind
from ledger.domain.correction_events import CORRECTOR_ROLES, SYSTEM_ROLES
from ledger.domain.model import DomainEvent
from tests.unit.domain.case_builders import Actor, Case, Org, World, refused, seeded_world

SIGNATURE = "A" * 86 + "=="


def cosign(actor: str, role: str) -> dict[str, str]:
    return {"actor_id": actor, "role": role, "key_id": f"key-{actor}", "signature": SIGNATURE}


def approved_case() -> Case:
    world, seeded = seeded_world()
    directory = world.directory
    directory.orgs["county-2"] = Org("GOVERNMENT", "city-1")
    directory.actors.update(
        {
            "approver-2": Actor("county-1", "county_approver", "p-appr-2"),
            "approver-1-alt": Actor("county-1", "county_approver", "p-appr-1"),
            "approver-c2": Actor("county-2", "county_approver", "p-appr-c2"),
            "auditor-1": Actor("city-1", "auditor", "p-aud-1"),
        }
    )
    return Case(world, seeded).to_approved()


def correct(
    world: World,
    target: str,
    *cosignatures: dict[str, str],
    correction_id: str = "cor-1",
    actor: str = "approver-1",
    **overrides: Any,
) -> DomainEvent:
    payload: dict[str, Any] = {
        "correction_id": correction_id,
        "target_event_id": target,
        "correction_type": "DATA_ENTRY_ERROR",
        "replacement_payload": {"dossier_id": "dossier-app-1b"},
        "reason": "dossier number mistyped",
        "cosignatures": list(cosignatures),
    }
    payload.update(overrides)
    return world.emit("CorrectionRecorded", correction_id, payload, actor=actor, on="2024-04-02")


def approval_id(case: Case) -> str:
    assert case.decision is not None
    return case.decision.event_id


# --- co-signatures --------------------------------------------------------------------------------


def test_cor_1_a_correction_of_an_approval_needs_a_cosignature() -> None:
    case = approved_case()

    with refused("COR-1"):
        correct(case.world, approval_id(case))


def test_cor_1_a_second_county_approver_may_cosign() -> None:
    case = approved_case()

    event = correct(case.world, approval_id(case), cosign("approver-2", "county_approver"))

    recorded = corrections.correction(case.world.state, event.event_id)
    assert recorded is not None
    assert recorded.root is not None
    assert (recorded.root.event_type, recorded.root.area) == ("ApplicationApproved", "MONEY")


def test_cor_1_a_superior_role_over_the_county_may_cosign() -> None:
    case = approved_case()

    correct(case.world, approval_id(case), cosign("gov-1", "government_approver"))


@pytest.mark.parametrize(
    ("cosigner", "role"),
    [
        ("approver-1-alt", "county_approver"),  # the corrector's own person, another account
        ("reviewer-1", "township_reviewer"),  # a role below the decision's
        ("approver-c2", "county_approver"),  # same role, but another county
        ("nobody", "county_approver"),  # not a registered actor
    ],
)
def test_cor_1_refuses_a_cosigner_who_does_not_qualify(cosigner: str, role: str) -> None:
    case = approved_case()

    with refused("COR-1"):
        correct(case.world, approval_id(case), cosign(cosigner, role))


def test_cor_1_the_corrector_holds_the_decisions_role_or_a_superior_one() -> None:
    case = approved_case()

    with refused("COR-1"):
        correct(
            case.world,
            approval_id(case),
            cosign("approver-2", "county_approver"),
            actor="clerk-1",
        )


def test_a_correction_of_a_non_material_event_needs_no_cosignature() -> None:
    world, seeded = seeded_world()
    case = Case(world, seeded).submit()
    accepted = case.emit(
        "ApplicationAccepted", {"checklist_version": "v1"}, actor="clerk-1", on="2024-03-04"
    )

    correct(world, accepted.event_id, actor="clerk-1", replacement_payload=None)


@pytest.mark.parametrize("event_type", ["BenefitGranted", "TerminationDecided", "GradeAssigned"])
def test_money_eligibility_and_score_decisions_are_material(event_type: str) -> None:
    assert event_type in corrections.material_decision_types()


# --- chains ---------------------------------------------------------------------------------------


def test_cor_1_a_correction_of_a_correction_still_needs_the_cosignature() -> None:
    case = approved_case()
    first = correct(case.world, approval_id(case), cosign("approver-2", "county_approver"))

    with refused("COR-1"):
        correct(case.world, first.event_id, correction_id="cor-2")
    correct(
        case.world, first.event_id, cosign("approver-2", "county_approver"), correction_id="cor-2"
    )


def test_cor_1_a_corrected_correction_is_corrected_again_only_with_an_auditor() -> None:
    case = approved_case()
    first = correct(case.world, approval_id(case), cosign("approver-2", "county_approver"))
    correct(
        case.world, first.event_id, cosign("approver-2", "county_approver"), correction_id="cor-2"
    )

    with refused("COR-1"):
        correct(
            case.world,
            first.event_id,
            cosign("approver-2", "county_approver"),
            correction_id="cor-3",
        )
    correct(
        case.world,
        first.event_id,
        cosign("approver-2", "county_approver"),
        cosign("auditor-1", "auditor"),
        correction_id="cor-3",
    )


def test_a_correction_goes_on_its_own_stream() -> None:
    case = approved_case()
    payload = {
        "correction_id": "cor-1",
        "target_event_id": approval_id(case),
        "correction_type": "OTHER",
        "replacement_payload": None,
        "reason": "typo",
        "cosignatures": [cosign("approver-2", "county_approver")],
    }

    with refused("ENV-8"):
        case.world.emit("CorrectionRecorded", "cor-x", payload, actor="approver-1")


# --- configuration --------------------------------------------------------------------------------


def test_every_material_decision_type_is_a_catalogued_decision() -> None:
    decisions = {s.event_type for s in DEFAULT_CATALOGUE.specs() if s.kind is Kind.DECISION}

    assert set(corrections.MATERIAL_DECISIONS) <= decisions


def test_every_human_role_may_record_a_correction() -> None:
    assert CORRECTOR_ROLES == ROLES - SYSTEM_ROLES


def test_the_role_ladder_runs_up_to_the_government() -> None:
    assert corrections.superiors("township_intake_clerk") == {
        "township_reviewer",
        "county_approver",
        "government_approver",
    }
    assert corrections.same_or_superior("county_approver", "county_approver")
    assert not corrections.same_or_superior("township_reviewer", "county_approver")
    assert not corrections.same_or_superior("payment_approver", "county_approver")
