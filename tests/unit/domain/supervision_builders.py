"""Builders for the W12-W14 tests: a small org tree with inspection teams, an office, a leading
group and a discipline body, and payload factories with sensible defaults.

Events go through :class:`~tests.unit.domain.case_builders.World`, which checks each payload
against the real catalogue and then decides and folds it with the full rule set.
"""

from __future__ import annotations

from typing import Any

from ledger.domain.model import DomainEvent
from tests.unit.domain.case_builders import Actor, FakeDirectory, Org, World

SHA_PHOTO = "c" * 64
SHA_REPORT = "d" * 64
SIGNATURE = "A" * 86 + "=="

ORGS = {
    "city-1": Org("GOVERNMENT", None),
    "office-1": Org("ASSESSMENT_OFFICE", "city-1"),
    "lg-1": Org("LEADING_GROUP", "city-1"),
    "discipline-1": Org("DISCIPLINE_BODY", "city-1"),
    "team-org-1": Org("INSPECTION_TEAM", "city-1"),
    "team-org-2": Org("INSPECTION_TEAM", "city-1"),
    "township-1": Org("GOVERNMENT", "city-1"),
    "village-1": Org("VILLAGE_COMMITTEE", "township-1"),
    "village-2": Org("VILLAGE_COMMITTEE", "township-1"),
    "township-2": Org("GOVERNMENT", "city-1"),
    "village-3": Org("VILLAGE_COMMITTEE", "township-2"),
}

ACTORS = {
    "lead-1": Actor("team-org-1", "inspection_team_lead", "p-lead-1"),
    "lead-2": Actor("team-org-2", "inspection_team_lead", "p-lead-2"),
    "insp-1": Actor("team-org-1", "inspector", "p-insp-1"),
    "insp-2": Actor("team-org-1", "inspector", "p-insp-2"),
    # A second account of insp-1's person: one inspector, not two (INS-1).
    "insp-1-alt": Actor("team-org-1", "inspector", "p-insp-1"),
    # An inspector who works for village-1 (SOD-6 / SOD-7 when village-1 is the target).
    "insp-v1": Actor("village-1", "inspector", "p-insp-v1"),
    "vcm-1": Actor("village-1", "village_committee_member", "p-vcm-1"),
    "officer-1": Actor("office-1", "assessment_office_officer", "p-officer-1"),
    "sec-1": Actor("lg-1", "leading_group_secretary", "p-sec-1"),
    "ledger-1": Actor("city-1", "ledger", "ledger-escalation"),
}

TEAM = ["insp-1", "insp-2"]


def supervision_world() -> World:
    """A fresh ledger over the supervision org tree."""
    return World(directory=FakeDirectory(ORGS, ACTORS))


def plan_payload(inspection_id: str = "ins-1", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "inspection_id": inspection_id,
        "type": "ROUTINE",
        "mode": "UNANNOUNCED",
        "target_org_ids": ["village-1"],
        "team_actor_ids": list(TEAM),
        "methods": ["SITE_VIEW", "VISIT_RESIDENTS"],
        "window": {"start": "2024-02-27", "end": "2024-02-29"},
        "scheme_id": None,
    }
    payload.update(overrides)
    return payload


def plan(world: World, inspection_id: str = "ins-1", **overrides: Any) -> DomainEvent:
    return world.emit(
        "InspectionPlanned",
        inspection_id,
        plan_payload(inspection_id, **overrides),
        actor="lead-1",
        on="2024-02-26",
    )


def conduct(
    world: World,
    inspection_id: str = "ins-1",
    *,
    ended_at: str = "2024-02-28T16:00:00+08:00",
    on: str = "2024-02-28",
) -> DomainEvent:
    return world.emit(
        "InspectionConducted",
        inspection_id,
        {
            "started_at": "2024-02-28T09:00:00+08:00",
            "ended_at": ended_at,
            "locations": ["back lane 3"],
        },
        actor="insp-1",
        on=on,
    )


def find(
    world: World,
    finding_id: str = "f-1",
    inspection_id: str = "ins-1",
    *,
    target: str = "village-1",
    evidence: list[dict[str, str]] | None = None,
) -> DomainEvent:
    return world.emit(
        "FindingRecorded",
        inspection_id,
        {
            "finding_id": finding_id,
            "target_org_id": target,
            "category": "SANITATION",
            "location": "back lane 3",
            "description": "refuse piled in the back lane",
            "severity": "MEDIUM",
            "first_occurrence": True,
            "related_refs": {"indicator_id": None, "enrolment_id": None, "fund_account_id": None},
            "evidence": [{"kind": "PHOTO", "sha256": SHA_PHOTO}] if evidence is None else evidence,
        },
        actor="insp-1",
        on="2024-02-28",
    )


def report_payload(
    signers: list[str] | None = None, cosigners: list[str] | None = None
) -> dict[str, Any]:
    signers = list(TEAM) if signers is None else signers
    cosigners = signers if cosigners is None else cosigners
    return {
        "report_sha256": SHA_REPORT,
        "evaluation": "work under way",
        "achievements": "main roads clean",
        "problems": "back lanes",
        "recommendations": "clear the back lanes weekly",
        "conclusion": "rectification needed",
        "signer_actor_ids": signers,
        "cosignatures": [
            {"actor_id": a, "key_id": f"key-{a}", "signature": SIGNATURE} for a in cosigners
        ],
    }


def criticism_payload(
    level: str = "CITY_GOVERNMENT",
    *,
    target: str = "village-1",
    issued_at: str = "2024-03-20",
    causes: list[str] | None = None,
    item: str | None = None,
) -> dict[str, Any]:
    return {
        "issuer_org": "city-1",
        "issuer_level": level,
        "target_org": target,
        "related_to": "SANITATION",
        "document_ref": "city-gov-2024-17",
        "issued_at": issued_at,
        "item": item,
        "cause_event_ids": [] if causes is None else causes,
    }


def criticise(world: World, level: str = "CITY_GOVERNMENT", **kwargs: Any) -> DomainEvent:
    target = kwargs.get("target", "village-1")
    return world.emit(
        "CriticismIssued",
        target,
        criticism_payload(level, **kwargs),
        actor="officer-1",
        on=kwargs.get("issued_at", "2024-03-20"),
    )


def expose(world: World, target: str = "village-1") -> DomainEvent:
    return world.emit(
        "MediaExposureRecorded",
        target,
        {
            "outlet": "City Daily",
            "published_at": "2024-03-21",
            "target_org": target,
            "item": None,
            "link_sha256": SHA_PHOTO,
        },
        actor="officer-1",
        on="2024-03-21",
    )


def issue_notice(
    world: World,
    notice_id: str = "n-1",
    *,
    deadline: str = "2024-03-15",
    findings: list[str] | None = None,
    target: str = "village-1",
    on: str = "2024-03-01",
    actor: str = "lead-1",
) -> DomainEvent:
    return world.emit(
        "SupervisionNoticeIssued",
        notice_id,
        {
            "notice_id": notice_id,
            "kind": "RECTIFICATION",
            "target_org_id": target,
            "finding_ids": ["f-1"] if findings is None else findings,
            "deadline": deadline,
        },
        actor=actor,
        on=on,
    )


def report_rectification(world: World, notice_id: str = "n-1", on: str = "2024-03-10") -> None:
    world.emit(
        "RectificationReported",
        notice_id,
        {"actions": "lane cleared", "evidence": [], "reported_at": on},
        actor="vcm-1",
        on=on,
    )


def verify(
    world: World,
    notice_id: str = "n-1",
    result: str = "PASSED",
    *,
    on: str = "2024-03-12",
    actor: str = "insp-2",
) -> DomainEvent:
    return world.emit(
        "RectificationVerified",
        notice_id,
        {"result": result, "verified_at": on, "evidence": []},
        actor=actor,
        on=on,
    )


def inspected_world() -> World:
    """A world with inspection ins-1 of village-1 planned, conducted and one finding f-1."""
    world = supervision_world()
    plan(world)
    conduct(world)
    find(world)
    return world
