"""Corrections (``domain.md`` §4.0, §6.3 "Corrections"; COR-1, hard).

A ``CorrectionRecorded`` names the event it supersedes. When that event is a *material
decision* (one that affects money, eligibility or scores, :data:`MATERIAL_DECISIONS`):

* the corrector's role is the decision's role or a superior one (§6.3: "original emitter's
  role plus a supervisor co-signature");
* at least one co-signer is a different natural person whose declared role is the
  decision's role or a superior one, and whose organisation covers the decision's;
* a correction that has itself been corrected already may be corrected again only with an
  ``auditor``'s co-signature (no chains deeper than 1 without audit).

A correction of a correction inherits the materiality of the decision at the root of the
chain. Corrections of other events (facts, non-material decisions) need no co-signature: they
are still surfaced to auditors (``AF-COR-NEAR-DECISION``, a detector's job).

"Superior" follows the reporting lines of :data:`ROLE_LADDER` (``[I]``, from §1.2-§1.3 and the
W1/W2/W15 procedures); the co-signer's role grant and signature are verified by the service
layer with the envelope, as for every signer.

Tables: ``cor.decisions`` (event id → :class:`Decision`, material decisions only),
``cor.corrections`` (correction event id → :class:`Correction`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ledger.domain.catalogue import DEFAULT_CATALOGUE, Kind
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    Table,
    require,
)

DECISIONS = "cor.decisions"
CORRECTIONS = "cor.corrections"
AUDITOR = "auditor"

MONEY, ELIGIBILITY, SCORES = "MONEY", "ELIGIBILITY", "SCORES"

MATERIAL_DECISIONS: Mapping[str, str] = {
    # money
    "ApplicationApproved": MONEY,
    "BeneficiaryEnrolled": MONEY,
    "EntitlementAdjusted": MONEY,
    "VoluntaryExitGranted": MONEY,
    "PaymentBatchPrepared": MONEY,
    "PaymentBatchApproved": MONEY,
    "PaymentLineReissued": MONEY,
    "BenefitGranted": MONEY,
    "FundAppropriated": MONEY,
    "FundTransferred": MONEY,
    "FundExpenditureAuthorised": MONEY,
    "FundCarriedOver": MONEY,
    "FundRecovered": MONEY,
    "FundReturnedToTreasury": MONEY,
    "MatchingFundCommitted": MONEY,
    "MonetaryRewardGranted": MONEY,
    "MonetaryPenaltyImposed": MONEY,
    # eligibility
    "HouseholdInvestigationCompleted": ELIGIBILITY,
    "HouseholdIncomeAssessed": ELIGIBILITY,
    "PreliminaryOpinionIssued": ELIGIBILITY,
    "CountySpotCheckCompleted": ELIGIBILITY,
    "ApplicationRejected": ELIGIBILITY,
    "TerminationProposed": ELIGIBILITY,
    "TerminationDecided": ELIGIBILITY,
    "SupportModeChanged": ELIGIBILITY,
    "IncomeAboveStandardDetermined": ELIGIBILITY,
    "GradualExitStarted": ELIGIBILITY,
    "BeneficiarySuspended": ELIGIBILITY,
    "BeneficiaryReinstated": ELIGIBILITY,
    "HouseholdSelectedForAssistance": ELIGIBILITY,
    # scores
    "OrganisationImplementationScored": SCORES,
    "SurveyScoreRecorded": SCORES,
    "IndicatorResultRecorded": SCORES,
    "IndicatorScoreRecorded": SCORES,
    "PenaltyPointsApplied": SCORES,
    "BonusPointsApplied": SCORES,
    "InspectionScoreRecorded": SCORES,
    "AssessmentConsolidated": SCORES,
    "GradeAssigned": SCORES,
    "AwardGranted": SCORES,
    "LastPlaceDesignated": SCORES,
}
"""Decision types whose correction needs a co-signature, with what they affect."""

ROLE_LADDER: Mapping[str, str] = {
    "township_intake_clerk": "township_reviewer",
    "township_investigator": "township_reviewer",
    "village_committee_member": "township_reviewer",
    "township_reviewer": "county_approver",
    "county_spot_checker": "county_approver",
    "care_institution_manager": "county_approver",
    "county_approver": "government_approver",
    "payment_preparer": "payment_approver",
    "payment_approver": "government_approver",
    "finance_officer": "government_approver",
    "inspector": "inspection_team_lead",
    "inspection_team_lead": "assessment_office_officer",
    "responsible_unit_assessor": "lead_unit_coordinator",
    "lead_unit_coordinator": "assessment_office_officer",
    "assessment_working_group_member": "assessment_office_officer",
    "statistics_survey_team": "assessment_office_officer",
    "assessment_office_officer": "leading_group_secretary",
    "leading_group_secretary": "government_approver",
}
"""Each role's direct superior (``[I]``): who signs off the role's work in the procedures."""


def superiors(role: str) -> frozenset[str]:
    """Every role above ``role`` on :data:`ROLE_LADDER`."""
    found: list[str] = []
    current = ROLE_LADDER.get(role)
    while current is not None and current not in found:
        found.append(current)
        current = ROLE_LADDER.get(current)
    return frozenset(found)


def same_or_superior(role: str, than: str) -> bool:
    """``role`` is ``than`` or above it."""
    return role == than or role in superiors(than)


@dataclass(frozen=True, slots=True)
class Decision:
    """A material decision as corrections need it."""

    event_id: str
    event_type: str
    area: str
    role: str
    actor_id: str
    org_id: str


@dataclass(frozen=True, slots=True)
class Correction:
    """A recorded correction: its root material decision (if any) and whether it has itself
    been corrected."""

    event_id: str
    target_event_id: str
    root: Decision | None
    corrected: bool = False


def _decisions(state: DomainState) -> Table[str, Decision]:
    return state.table(DECISIONS)


def _corrections(state: DomainState) -> Table[str, Correction]:
    return state.table(CORRECTIONS)


def correction(state: DomainState, event_id: str) -> Correction | None:
    """The correction recorded by ``event_id``, if any."""
    return _corrections(state).get(event_id)


def apply_decision(state: DomainState, event: DomainEvent) -> None:
    """Index a material decision so that its corrections can be checked."""
    _decisions(state).put(
        event.event_id,
        Decision(
            event_id=event.event_id,
            event_type=event.event_type,
            area=MATERIAL_DECISIONS[event.event_type],
            role=event.role,
            actor_id=event.actor_id,
            org_id=event.org_id,
        ),
    )


def _root_of(state: DomainState, target_event_id: str) -> Decision | None:
    """The material decision at the root of the target's correction chain, if any."""
    earlier = correction(state, target_event_id)
    if earlier is not None:
        return earlier.root
    return _decisions(state).get(target_event_id)


def _valid_cosigners(
    directory: Directory,
    event: DomainEvent,
    root: Decision,
    cosignatures: Iterable[Mapping[str, str]],
) -> list[str]:
    """The co-signers that satisfy COR-1 for ``root``: registered, another person than the
    corrector, a same-or-superior role, and an organisation covering the decision's."""
    corrector = directory.actor_person(event.actor_id)
    valid = []
    for cosignature in cosignatures:
        actor = cosignature["actor_id"]
        org = directory.actor_org(actor)
        if (
            org is not None
            and directory.actor_person(actor) != corrector
            and same_or_superior(cosignature["role"], root.role)
            and directory.is_within(root.org_id, org)
        ):
            valid.append(actor)
    return valid


def _require_audit_cosignature(
    directory: Directory, event: DomainEvent, earlier: Correction
) -> None:
    """A correction already corrected is corrected again only with an auditor co-signing."""
    corrector = directory.actor_person(event.actor_id)
    auditors = [
        c["actor_id"]
        for c in event.payload["cosignatures"]
        if c["role"] == AUDITOR
        and directory.actor_org(c["actor_id"]) is not None
        and directory.actor_person(c["actor_id"]) != corrector
    ]
    require(
        bool(auditors),
        "COR-1",
        f"correction {earlier.event_id} has already been corrected; correcting it again "
        "(a chain deeper than 1) needs an auditor's co-signature",
        target_event_id=earlier.event_id,
    )


def decide_correction(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """COR-1 (see the module docstring)."""
    p = event.payload
    require(
        event.stream_id == p["correction_id"],
        "ENV-8",
        f"correction {p['correction_id']} goes on its own stream, not {event.stream_id}",
        correction_id=p["correction_id"],
    )
    require(event.version == 1, "ENV-7", f"correction {p['correction_id']} is already recorded")
    earlier = correction(state, p["target_event_id"])
    if earlier is not None and earlier.corrected:
        _require_audit_cosignature(directory, event, earlier)
    root = _root_of(state, p["target_event_id"])
    if root is None:
        return
    require(
        same_or_superior(event.role, root.role),
        "COR-1",
        f"a {root.event_type} by a {root.role} is corrected by that role or a superior one, "
        f"not by a {event.role}",
        decision_role=root.role,
        corrector_role=event.role,
    )
    cosigners = _valid_cosigners(directory, event, root, p["cosignatures"])
    require(
        bool(cosigners),
        "COR-1",
        f"correcting a {root.event_type} ({root.area.lower()}) needs the co-signature of "
        f"another person with the role {root.role} or a superior one over {root.org_id}",
        decision_event_id=root.event_id,
        decision_role=root.role,
        cosigners=[c["actor_id"] for c in p["cosignatures"]],
    )


def apply_correction(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    target = p["target_event_id"]
    earlier = correction(state, target)
    if earlier is not None:
        _corrections(state).put(target, replace(earlier, corrected=True))
    _corrections(state).put(
        event.event_id,
        Correction(event.event_id, target, _root_of(state, target)),
    )


def material_decision_types() -> list[str]:
    """The :data:`MATERIAL_DECISIONS` registered in the catalogue as decisions."""
    registered = {s.event_type for s in DEFAULT_CATALOGUE.specs() if s.kind is Kind.DECISION}
    return sorted(t for t in MATERIAL_DECISIONS if t in registered)


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    for event_type in material_decision_types():
        rules.register(event_type, apply=apply_decision)
    rules.register("CorrectionRecorded", apply=apply_correction, decide=decide_correction)
