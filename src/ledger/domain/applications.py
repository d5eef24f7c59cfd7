"""W1: a benefit application from submission to the county's decision (``domain.md`` §4.1).

States (§4.1; every transition is an event and any other is refused with APP-0)::

    SUBMITTED ⇄ AWAITING_MATERIALS          (deficiency notice / materials supplemented)
    SUBMITTED → ACCEPTED → INVESTIGATED → OPINION_ISSUED → IN_NOTICE → FORWARDED
    IN_NOTICE | FORWARDED → REINVESTIGATING  (an objection was upheld)
    REINVESTIGATING → INVESTIGATED → OPINION_ISSUED → IN_NOTICE (a new notice)
    FORWARDED → APPROVED | REJECTED          (then DecisionNotified sets ``notified``)
    any state but APPROVED, REJECTED, WITHDRAWN → WITHDRAWN

Separation of duties compares natural persons (``Directory.actor_person``): on one
application the investigators, the reviewers and the county decider are pairwise distinct
(SOD-1), and an official filed as the applicant's relative never acts on the case (SOD-4).

The county-wide checks of a decision live with the data they need: the spot-check batch
(APP-10) in :mod:`ledger.domain.spot_checks`, other enrolments (APP-12) and referrals in
:mod:`ledger.domain.enrolments`. Those modules import this one, never the reverse.

Tables: ``app.applications`` (application id → :class:`Application`),
``app.authorisations`` and ``app.appraisals`` (application id → facts recorded on it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from ledger.domain import dibao_income, notices
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    Table,
    refuse,
    require,
    require_scope,
)
from ledger.domain.periods import Period, month_after
from ledger.domain.programmes import Programme, require_programme, standard, standard_in_force

APPLICATIONS = "app.applications"
AUTHORISATIONS = "app.authorisations"
APPRAISALS = "app.appraisals"

DISABILITY_CERTIFICATE = "DISABILITY_CERTIFICATE"
CENTRALISED = "CENTRALISED"
CARE_INSTITUTION = "CARE_INSTITUTION"
APPROVED_EVENT = "ApplicationApproved"


class Status(StrEnum):
    """Where an application is in W1."""

    SUBMITTED = "SUBMITTED"
    AWAITING_MATERIALS = "AWAITING_MATERIALS"
    ACCEPTED = "ACCEPTED"
    INVESTIGATED = "INVESTIGATED"
    OPINION_ISSUED = "OPINION_ISSUED"
    IN_NOTICE = "IN_NOTICE"
    REINVESTIGATING = "REINVESTIGATING"
    FORWARDED = "FORWARDED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"


FINAL = frozenset({Status.APPROVED, Status.REJECTED, Status.WITHDRAWN})
# States in which no investigation has been completed since the case (re)opened.
NOT_YET_INVESTIGATED = frozenset(
    {Status.SUBMITTED, Status.AWAITING_MATERIALS, Status.ACCEPTED, Status.REINVESTIGATING}
)


@dataclass(frozen=True, slots=True)
class Investigation:
    """The latest ``HouseholdInvestigationCompleted`` of an application."""

    event_id: str
    investigator_actor_ids: frozenset[str]
    failed_criteria: tuple[str, ...]
    """Eligibility findings that came out false (APP-15); empty when eligible."""


@dataclass(frozen=True, slots=True)
class Opinion:
    """The latest ``PreliminaryOpinionIssued``; ``notice_id`` is its preliminary notice."""

    event_id: str
    opinion: str
    notice_id: str | None = None


@dataclass(frozen=True, slots=True)
class Approval:
    """What an ``ApplicationApproved`` granted (enrolment must copy it exactly)."""

    support_mode: str
    institution_id: str | None
    standard_ref: str
    annual_amount_fen: int
    first_payable_period: Period
    dossier_id: str
    spot_check_batch_id: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The county's ``ApplicationApproved`` (``approval`` set) or ``ApplicationRejected``."""

    event_id: str
    day: date
    approval: Approval | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Application:
    """One application as the rules need it.

    Officials are kept as actor ids and compared as persons when a decision is taken (the
    directory, which maps actors to persons, is only available to decide functions).
    """

    application_id: str
    programme_code: str
    applicant_person_id: str
    household_id: str
    member_person_ids: frozenset[str]
    township_org_id: str
    residence_org_id: str
    category: str
    health_flags: frozenset[str]
    obligor_person_ids: frozenset[str]
    status: Status
    materials: frozenset[str] = frozenset()
    related_official_actor_ids: frozenset[str] = frozenset()
    """Officials filed as relatives of the applicant or a member (SOD-4)."""
    filed_relations: frozenset[tuple[str, str]] = frozenset()
    """(person id, official actor id) pairs filed with ``RelativeOfOfficialFiled``."""
    declared_relations: frozenset[tuple[str, str]] = frozenset()
    """(person id, official actor id) pairs declared or detected (APP-11: must be filed)."""
    investigator_actor_ids: frozenset[str] = frozenset()
    """Everyone who investigated this application, in any round (SOD-1)."""
    reviewer_actor_ids: frozenset[str] = frozenset()
    """Everyone who issued an opinion on or forwarded this application (SOD-1)."""
    investigation: Investigation | None = None
    opinion: Opinion | None = None
    forwarded_event_id: str | None = None
    """The latest ``ApplicationForwarded`` (a spot-check batch samples one forwarding)."""
    decision: Decision | None = None
    notified: bool = False
    result_notice_id: str | None = None
    """The RESULT_PUBLICATION notice (三级两次公示, notice #2), once posted."""


def _applications(state: DomainState) -> Table[str, Application]:
    return state.table(APPLICATIONS)


def _authorisations(state: DomainState) -> Table[str, frozenset[str]]:
    return state.table(AUTHORISATIONS)


def _appraisals(state: DomainState) -> Table[str, int]:
    return state.table(APPRAISALS)


def _store(state: DomainState, updated: Application) -> None:
    _applications(state).put(updated.application_id, updated)


def _current(state: DomainState, event: DomainEvent) -> Application:
    """The application of an event that its decide functions accepted."""
    return _applications(state)[event.stream_id]


# --- queries -----------------------------------------------------------------------------


def application(state: DomainState, application_id: str) -> Application | None:
    """The application ``application_id``, or ``None`` if it was never submitted."""
    return _applications(state).get(application_id)


def require_application(state: DomainState, application_id: str) -> Application:
    """The application ``application_id``; refuses with ENV-8 when it does not exist."""
    found = application(state, application_id)
    if found is None:
        raise refuse(
            "ENV-8",
            f"application {application_id} was never submitted",
            application_id=application_id,
        )
    return found


def authorisation_signers(state: DomainState, application_id: str) -> frozenset[str]:
    """Persons who signed the financial-check authorisation for the application (W1.3)."""
    return _authorisations(state).get(application_id) or frozenset()


def appraisals_held(state: DomainState, application_id: str) -> int:
    """How many democratic appraisals were recorded on the application (W1.6)."""
    return _appraisals(state).get(application_id) or 0


def required_materials(found: Application, config: Programme) -> frozenset[str]:
    """The programme's mandatory materials, plus the disability certificate for a disabled
    applicant (APP-2, APP-3)."""
    if found.category == "DISABLED":
        return config.mandatory_materials | {DISABILITY_CERTIFICATE}
    return config.mandatory_materials


def missing_materials(state: DomainState, found: Application) -> frozenset[str]:
    """Required material types not provided so far."""
    config = require_programme(state, found.programme_code)
    return required_materials(found, config) - found.materials


def persons_of(directory: Directory, actor_ids: Iterable[str]) -> frozenset[str]:
    """The natural persons behind some actors."""
    return frozenset(directory.actor_person(a) for a in actor_ids)


def investigator_persons(directory: Directory, found: Application) -> frozenset[str]:
    """Everyone who investigated the application, as persons (SOD-1, SOD-2)."""
    return persons_of(directory, found.investigator_actor_ids)


def require_not_related(
    directory: Directory, found: Application, actor_id: str, acting_as: str
) -> None:
    """SOD-4: an official filed as the applicant's relative is recused from the case."""
    person = directory.actor_person(actor_id)
    require(
        person not in persons_of(directory, found.related_official_actor_ids),
        "SOD-4",
        f"{actor_id} is filed as a relative of the applicant and may not act as {acting_as} "
        f"on application {found.application_id}",
        actor_id=actor_id,
        application_id=found.application_id,
        acting_as=acting_as,
    )


def require_no_shared_person(
    found: Application, acting: frozenset[str], others: frozenset[str], acting_as: str
) -> None:
    """SOD-1: investigators, reviewers and the county decider of one case are different
    persons; ``acting`` may not overlap ``others``."""
    clash = sorted(acting & others)
    require(
        not clash,
        "SOD-1",
        f"on application {found.application_id} the {acting_as} must be a different person "
        f"from the case's other officials (same person: {', '.join(clash)})",
        application_id=found.application_id,
        acting_as=acting_as,
        persons=clash,
    )


# --- shared checks -----------------------------------------------------------------------


def _require_on_stream(state: DomainState, event: DomainEvent) -> Application:
    """The application the event's stream belongs to (APP-0 when it was never submitted)."""
    found = application(state, event.stream_id)
    if found is None:
        raise refuse(
            "APP-0",
            f"{event.event_type} on application {event.stream_id}, which was never submitted",
            application_id=event.stream_id,
            event_type=event.event_type,
        )
    return found


def _require_status(found: Application, event: DomainEvent, allowed: Iterable[Status]) -> None:
    allowed = sorted(allowed)
    require(
        found.status in allowed,
        "APP-0",
        f"{event.event_type} is not allowed on application {found.application_id} in state "
        f"{found.status} (allowed in: {', '.join(allowed)})",
        application_id=found.application_id,
        status=str(found.status),
        event_type=event.event_type,
        allowed=[str(s) for s in allowed],
    )


def _case_for(
    state: DomainState, directory: Directory, event: DomainEvent, allowed: Iterable[Status]
) -> Application:
    """The event's application, in an allowed state, within the actor's scope."""
    found = _require_on_stream(state, event)
    _require_status(found, event, allowed)
    require_scope(directory, event, found.township_org_id)
    return found


# --- ApplicationSubmitted ----------------------------------------------------------------


def decide_submitted(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A new application for a defined programme, at a township the clerk covers, from a
    resident of that township (APP-1)."""
    p = event.payload
    require(
        p["application_id"] == event.stream_id and application(state, event.stream_id) is None,
        "APP-0",
        f"application {p['application_id']} is submitted once, on the stream named by its id",
        application_id=p["application_id"],
        stream_id=event.stream_id,
    )
    require_programme(state, p["programme_code"])
    for field in ("township_org_id", "residence_org_id"):
        require(
            directory.org_exists(p[field]),
            "ENV-8",
            f"{field} {p[field]} is not a registered organisation",
            field=field,
            org_id=p[field],
        )
    require_scope(directory, event, p["township_org_id"])
    require(
        directory.is_within(p["residence_org_id"], p["township_org_id"]),
        "APP-1",
        f"the applicant lives in {p['residence_org_id']}, which is not within township "
        f"{p['township_org_id']}",
        residence_org_id=p["residence_org_id"],
        township_org_id=p["township_org_id"],
    )
    # That the referral exists and names this application is checked by the enrolments
    # module, which owns referrals.
    require(
        (p["channel"] == "REFERRAL") == (p["referral_from_enrolment_id"] is not None),
        "ENV-8",
        "referral_from_enrolment_id is given exactly when the channel is REFERRAL",
        channel=p["channel"],
        referral_from_enrolment_id=p["referral_from_enrolment_id"],
    )


def apply_submitted(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _store(
        state,
        Application(
            application_id=p["application_id"],
            programme_code=p["programme_code"],
            applicant_person_id=p["applicant_person_id"],
            household_id=p["household_id"],
            member_person_ids=frozenset(m["person_id"] for m in p["members"]),
            township_org_id=p["township_org_id"],
            residence_org_id=p["residence_org_id"],
            category=p["category"],
            health_flags=frozenset(p["health_flags"]),
            obligor_person_ids=frozenset(p["obligor_person_ids"]),
            status=Status.SUBMITTED,
            materials=frozenset(m["type"] for m in p["materials"]),
        ),
    )


# --- materials: deficiency notice, supplement, acceptance ---------------------------------


def decide_materials_incomplete(
    state: DomainState, directory: Directory, event: DomainEvent
) -> None:
    """APP-2: the notice lists every missing item at once, and nothing already provided."""
    found = _case_for(state, directory, event, {Status.SUBMITTED, Status.AWAITING_MATERIALS})
    missing = missing_materials(state, found)
    listed = frozenset(event.payload["missing_items"])
    require(
        listed == missing,
        "APP-2",
        "a deficiency notice lists exactly the missing materials, all at once "
        f"(missing: {', '.join(sorted(missing)) or 'none'})",
        application_id=found.application_id,
        missing=sorted(missing),
        listed=sorted(listed),
        not_listed=sorted(missing - listed),
        already_provided=sorted(listed & found.materials),
    )


def apply_materials_incomplete(state: DomainState, event: DomainEvent) -> None:
    _store(state, replace(_current(state, event), status=Status.AWAITING_MATERIALS))


def decide_materials_supplemented(
    state: DomainState, directory: Directory, event: DomainEvent
) -> None:
    """Materials are supplemented in answer to a deficiency notice."""
    _case_for(state, directory, event, {Status.AWAITING_MATERIALS})


def apply_materials_supplemented(state: DomainState, event: DomainEvent) -> None:
    """Add the materials; the case can then be accepted or notified again (SUBMITTED)."""
    found = _current(state, event)
    added = frozenset(m["type"] for m in event.payload["materials"])
    _store(state, replace(found, materials=found.materials | added, status=Status.SUBMITTED))


def decide_accepted(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """APP-3: accepted only with every mandatory material present."""
    found = _case_for(state, directory, event, {Status.SUBMITTED})
    missing = missing_materials(state, found)
    require(
        not missing,
        "APP-3",
        f"application {found.application_id} cannot be accepted: materials missing "
        f"({', '.join(sorted(missing))})",
        application_id=found.application_id,
        missing=sorted(missing),
    )


def apply_accepted(state: DomainState, event: DomainEvent) -> None:
    _store(state, replace(_current(state, event), status=Status.ACCEPTED))


# --- facts recorded on the case -----------------------------------------------------------


def apply_authorisation_signed(state: DomainState, event: DomainEvent) -> None:
    """Remember who signed the financial-check authorisation (W1.3, used by APP-4)."""
    signers = authorisation_signers(state, event.stream_id)
    _authorisations(state).put(event.stream_id, signers | {event.payload["signer_person_id"]})


def apply_appraisal_held(state: DomainState, event: DomainEvent) -> None:
    """Count democratic appraisals (W1.6, used by APP-6)."""
    _appraisals(state).put(event.stream_id, appraisals_held(state, event.stream_id) + 1)


# --- RelativeOfOfficialFiled --------------------------------------------------------------


def decide_relative_filed(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A filing names a household member and a registered official, before the decision."""
    found = _case_for(state, directory, event, set(Status) - FINAL)
    p = event.payload
    household = found.member_person_ids | {found.applicant_person_id}
    require(
        p["person_id"] in household,
        "ENV-8",
        f"{p['person_id']} is neither the applicant nor a member of the household",
        person_id=p["person_id"],
        application_id=found.application_id,
    )
    require(
        directory.actor_org(p["official_actor_id"]) is not None,
        "ENV-8",
        f"official {p['official_actor_id']} is not a registered actor",
        official_actor_id=p["official_actor_id"],
    )


def apply_relative_filed(state: DomainState, event: DomainEvent) -> None:
    found = _current(state, event)
    official = event.payload["official_actor_id"]
    _store(
        state,
        replace(
            found,
            related_official_actor_ids=found.related_official_actor_ids | {official},
            filed_relations=found.filed_relations | {(event.payload["person_id"], official)},
        ),
    )


def apply_relationship_declared(state: DomainState, event: DomainEvent) -> None:
    """Remember a declared (or registry-detected) relationship to an official: a fact, so
    it is recorded even on an unknown or decided case, where only auditors can use it."""
    found = application(state, event.stream_id)
    if found is None:
        return
    pair = (event.payload["person_id"], event.payload["official_actor_id"])
    _store(state, replace(found, declared_relations=found.declared_relations | {pair}))


def require_relatives_filed(found: Application) -> None:
    """APP-11: every declared relationship of the applicant or a household member to a
    caseworker or committee member is filed before the approval (N-DB-8)."""
    unfiled = sorted(found.declared_relations - found.filed_relations)
    require(
        not unfiled,
        "APP-11",
        f"application {found.application_id} cannot be approved: the relationship of "
        + ", ".join(f"{person} to official {official}" for person, official in unfiled)
        + " was declared but never filed (近亲属备案)",
        application_id=found.application_id,
        unfiled=[list(pair) for pair in unfiled],
    )


# --- HouseholdInvestigationCompleted ------------------------------------------------------

ELIGIBILITY_CRITERIA = (
    "registered_in_province",
    "no_labour_capacity",
    "no_income_source",
    "no_capable_obligor",
)
INCOME_TESTED_CRITERIA = frozenset({"registered_in_province", "none"})
"""The findings that still count when eligibility is an income test (dibao)."""


def decide_investigation(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """APP-5 (state and team), APP-4 (authorisations), SOD-1 and SOD-4 (who investigates)."""
    found = _require_on_stream(state, event)
    require(
        found.status in {Status.ACCEPTED, Status.REINVESTIGATING},
        "APP-5",
        f"application {found.application_id} is {found.status}; it is investigated only once "
        "accepted, or when an upheld objection re-opened it",
        application_id=found.application_id,
        status=str(found.status),
    )
    require_scope(directory, event, found.township_org_id)
    team = _require_investigation_team(state, directory, event, found)
    _require_authorisations(state, found)
    reviewers = persons_of(directory, found.reviewer_actor_ids)
    require_no_shared_person(found, team, reviewers, "investigator")


def _require_investigation_team(
    state: DomainState, directory: Directory, event: DomainEvent, found: Application
) -> frozenset[str]:
    """The team includes the emitter, is large enough, and has no recused official."""
    actors: list[str] = list(event.payload["investigator_actor_ids"])
    require(
        event.actor_id in actors,
        "APP-5",
        f"the investigation is recorded by one of its investigators, not {event.actor_id}",
        actor_id=event.actor_id,
        investigator_actor_ids=actors,
    )
    for actor in actors:
        require(
            directory.actor_org(actor) is not None,
            "ENV-8",
            f"investigator {actor} is not a registered actor",
            investigator_actor_id=actor,
        )
        require_not_related(directory, found, actor, "investigator")
    team = persons_of(directory, actors)
    minimum = require_programme(state, found.programme_code).min_investigators
    require(
        len(team) >= minimum,
        "APP-5",
        f"the investigation needs at least {minimum} different persons; it had {len(team)}",
        minimum=minimum,
        persons=sorted(team),
    )
    return team


def _require_authorisations(state: DomainState, found: Application) -> None:
    """APP-4: the applicant and every declared obligor signed the financial-check consent."""
    needed = found.obligor_person_ids | {found.applicant_person_id}
    unsigned = sorted(needed - authorisation_signers(state, found.application_id))
    require(
        not unsigned,
        "APP-4",
        "the household investigation needs the financial-check authorisation of the applicant "
        f"and of every obligor; not yet signed by: {', '.join(unsigned)}",
        application_id=found.application_id,
        unsigned=unsigned,
    )


def apply_investigation(state: DomainState, event: DomainEvent) -> None:
    found = _current(state, event)
    findings: Mapping[str, Any] = event.payload["findings"]
    team = frozenset(event.payload["investigator_actor_ids"])
    investigation = Investigation(
        event_id=event.event_id,
        investigator_actor_ids=team,
        failed_criteria=tuple(c for c in ELIGIBILITY_CRITERIA if not findings[c]),
    )
    _store(
        state,
        replace(
            found,
            status=Status.INVESTIGATED,
            investigation=investigation,
            investigator_actor_ids=found.investigator_actor_ids | team,
        ),
    )


# --- PreliminaryOpinionIssued -------------------------------------------------------------


def decide_opinion(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """APP-6 (investigation, and the appraisal when required), SOD-1, SOD-4."""
    found = _require_on_stream(state, event)
    require(
        found.status not in NOT_YET_INVESTIGATED,
        "APP-6",
        f"application {found.application_id} has no completed investigation to base an opinion on",
        application_id=found.application_id,
        status=str(found.status),
    )
    _require_status(found, event, {Status.INVESTIGATED})
    require_scope(directory, event, found.township_org_id)
    if require_programme(state, found.programme_code).democratic_appraisal == "REQUIRED":
        require(
            appraisals_held(state, found.application_id) > 0,
            "APP-6",
            f"programme {found.programme_code} requires a democratic appraisal before the "
            "preliminary opinion",
            application_id=found.application_id,
        )
    _require_reviewer(directory, found, event.actor_id)


def _require_reviewer(directory: Directory, found: Application, actor_id: str) -> None:
    require_not_related(directory, found, actor_id, "reviewer")
    require_no_shared_person(
        found,
        frozenset({directory.actor_person(actor_id)}),
        investigator_persons(directory, found),
        "reviewer",
    )


def apply_opinion(state: DomainState, event: DomainEvent) -> None:
    found = _current(state, event)
    _store(
        state,
        replace(
            found,
            status=Status.OPINION_ISSUED,
            opinion=Opinion(event_id=event.event_id, opinion=event.payload["opinion"]),
            reviewer_actor_ids=found.reviewer_actor_ids | {event.actor_id},
        ),
    )


# --- notices about applications -----------------------------------------------------------

# Which application state each kind of notice is posted in.
_NOTICE_SUBJECT_STATUS = {
    notices.PRELIMINARY_OPINION: Status.OPINION_ISSUED,
    notices.RESULT_PUBLICATION: Status.APPROVED,
}


def decide_notice_posted(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """APP-7 for preliminary-opinion and result notices: every subject is an application in
    the right state, the notice hangs where the applicant lives, for long enough."""
    p = event.payload
    wanted = _NOTICE_SUBJECT_STATUS.get(p["kind"])
    if wanted is None:
        return
    for subject_id in p["subject_ids"]:
        found = require_application(state, subject_id)
        _require_status(found, event, {wanted})
        require(
            p["location_org_id"] == found.residence_org_id,
            "APP-7",
            f"the notice about application {subject_id} is posted where the applicant lives "
            f"({found.residence_org_id}), not at {p['location_org_id']}",
            application_id=subject_id,
            residence_org_id=found.residence_org_id,
            location_org_id=p["location_org_id"],
        )
        notices.require_window(event, require_programme(state, found.programme_code).notice_days)


def apply_notice_posted(state: DomainState, event: DomainEvent) -> None:
    """A preliminary-opinion notice puts its applications IN_NOTICE and is tied to their
    latest opinion (APP-8 looks for exactly that notice); a result publication (notice #2
    of 三级两次公示) is remembered on the approved case for AF-APP-NO-RESULT-PUBLICATION."""
    p = event.payload
    if p["kind"] == notices.RESULT_PUBLICATION:
        for subject_id in p["subject_ids"]:
            found = _applications(state)[subject_id]
            _store(state, replace(found, result_notice_id=p["notice_id"]))
        return
    if p["kind"] != notices.PRELIMINARY_OPINION:
        return
    for subject_id in p["subject_ids"]:
        found = _applications(state)[subject_id]
        assert found.opinion is not None  # decide required OPINION_ISSUED
        opinion = replace(found.opinion, notice_id=p["notice_id"])
        _store(state, replace(found, status=Status.IN_NOTICE, opinion=opinion))


def apply_objection_investigated(state: DomainState, event: DomainEvent) -> None:
    """An UPHELD objection to the notice of an application's latest opinion re-opens the
    case for investigation (W1.9); a new opinion and notice must follow (APP-8)."""
    if event.payload["finding"] != notices.UPHELD:
        return
    posted = notices.notice(state, event.stream_id)
    item = notices.objection(state, event.payload["objection_id"])
    if posted is None or item is None or posted.kind != notices.PRELIMINARY_OPINION:
        return
    for subject_id in posted.subject_ids:
        found = application(state, subject_id)
        if (
            found is not None
            and found.status in {Status.IN_NOTICE, Status.FORWARDED}
            and found.opinion is not None
            and found.opinion.notice_id == posted.notice_id
            and item in notices.objections_about(state, posted, subject_id)
        ):
            _store(state, replace(found, status=Status.REINVESTIGATING))


def require_clean_notice(state: DomainState, found: Application, event: DomainEvent) -> str:
    """APP-8: the notice of the latest opinion is over (the event's business date is after
    its end), closed, and every objection concerning the case was investigated and none
    upheld. Returns the notice id."""
    notice_id = found.opinion.notice_id if found.opinion is not None else None
    if notice_id is None:
        raise refuse(
            "APP-8",
            f"the latest preliminary opinion on application {found.application_id} was never "
            "publicly noticed",
            application_id=found.application_id,
        )
    posted = notices.require_notice(state, notice_id)
    evidence = {"application_id": found.application_id, "notice_id": notice_id}
    require(
        event.day > posted.end_date,
        "APP-8",
        f"notice {notice_id} runs until {posted.end_date}; the case may move on from the day "
        f"after, not on {event.day}",
        end_date=str(posted.end_date),
        business_date=str(event.day),
        **evidence,
    )
    require(posted.is_closed, "APP-8", f"notice {notice_id} is not closed yet", **evidence)
    concerning = notices.objections_about(state, posted, found.application_id)
    open_ids = [o.objection_id for o in concerning if o.is_open]
    require(
        not open_ids,
        "APP-8",
        f"objection(s) {', '.join(open_ids)} to notice {notice_id} are not investigated yet",
        open_objection_ids=open_ids,
        **evidence,
    )
    upheld = [o.objection_id for o in concerning if o.finding == notices.UPHELD]
    require(
        not upheld,
        "APP-8",
        f"objection(s) {', '.join(upheld)} to notice {notice_id} were upheld: a new "
        "investigation, opinion and notice are needed",
        upheld_objection_ids=upheld,
        **evidence,
    )
    return notice_id


# --- ApplicationForwarded -----------------------------------------------------------------


def decide_forwarded(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """APP-8, to a county above the township, by a reviewer who did not investigate."""
    found = _case_for(state, directory, event, {Status.IN_NOTICE})
    p = event.payload
    notice_id = require_clean_notice(state, found, event)
    require(
        p["notice_id"] == notice_id,
        "APP-8",
        f"the forwarding must cite notice {notice_id} of the latest opinion, not {p['notice_id']}",
        application_id=found.application_id,
        notice_id=p["notice_id"],
        latest_notice_id=notice_id,
    )
    require(
        p["to_org_id"] != found.township_org_id
        and directory.is_within(found.township_org_id, p["to_org_id"]),
        "ENV-8",
        f"a case of township {found.township_org_id} is forwarded to an organisation above "
        f"it, not to {p['to_org_id']}",
        to_org_id=p["to_org_id"],
        township_org_id=found.township_org_id,
    )
    _require_reviewer(directory, found, event.actor_id)


def apply_forwarded(state: DomainState, event: DomainEvent) -> None:
    found = _current(state, event)
    _store(
        state,
        replace(
            found,
            status=Status.FORWARDED,
            forwarded_event_id=event.event_id,
            reviewer_actor_ids=found.reviewer_actor_ids | {event.actor_id},
        ),
    )


# --- the county's decision ------------------------------------------------------------------


def _require_decider(directory: Directory, found: Application, actor_id: str) -> None:
    """SOD-1 and SOD-4 for the county decider, and SOD-4 for everyone who acted before a
    filing revealed their relationship."""
    require_not_related(directory, found, actor_id, "approver")
    for earlier in sorted(found.investigator_actor_ids | found.reviewer_actor_ids):
        require_not_related(directory, found, earlier, "investigator or reviewer")
    others = persons_of(directory, found.investigator_actor_ids | found.reviewer_actor_ids)
    require_no_shared_person(
        found, frozenset({directory.actor_person(actor_id)}), others, "county decider"
    )


def decide_approved(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """APP-8, APP-14, APP-15, APP-16, support mode and standard, SOD-1, SOD-4. (APP-10 is
    checked by the spot-checks module, APP-12 by the enrolments module.)"""
    found = _case_for(state, directory, event, {Status.FORWARDED})
    _require_decider(directory, found, event.actor_id)
    require_relatives_filed(found)
    require_clean_notice(state, found, event)
    period = Period.parse(event.payload["first_payable_period"])
    _require_eligible(found, dibao_income.income_tested(state, found.programme_code, period))
    _require_support(state, directory, found, event.payload)
    _require_first_payable_period(event)
    _require_standard(state, directory, found, event.payload)


def _require_eligible(found: Application, income_tested: bool) -> None:
    """APP-15: the latest investigation found every eligibility condition (N-WB-13). For
    an income-tested programme only the residence finding counts here; the income test
    itself is checked by :mod:`ledger.domain.dibao`."""
    failed = list(found.investigation.failed_criteria) if found.investigation else ["none"]
    if income_tested:
        failed = [c for c in failed if c in INCOME_TESTED_CRITERIA]
    require(
        not failed,
        "APP-15",
        f"application {found.application_id} does not meet every eligibility condition "
        f"(not met: {', '.join(failed)})",
        application_id=found.application_id,
        failed_criteria=failed,
    )


def _require_support(
    state: DomainState, directory: Directory, found: Application, p: Mapping[str, Any]
) -> None:
    """The mode is offered by the programme; APP-16; CENTRALISED names a care institution."""
    mode, institution = p["support_mode"], p["institution_id"]
    modes = require_programme(state, found.programme_code).support_modes
    require(
        mode in modes,
        "ENV-8",
        f"programme {found.programme_code} offers {', '.join(sorted(modes))}, not {mode}",
        support_mode=mode,
        support_modes=sorted(modes),
    )
    if mode != CENTRALISED:
        require(
            institution is None,
            "ENV-8",
            f"{mode} support names no institution",
            institution_id=institution,
        )
        return
    require(
        not found.health_flags,
        "APP-16",
        "centralised support is not allowed for a person flagged with "
        f"{', '.join(sorted(found.health_flags))}",
        application_id=found.application_id,
        health_flags=sorted(found.health_flags),
    )
    require(
        institution is not None and directory.org_kind(institution) == CARE_INSTITUTION,
        "ENV-8",
        f"centralised support names a registered care institution, not {institution}",
        institution_id=institution,
    )


def _require_first_payable_period(event: DomainEvent) -> None:
    """APP-14: benefits start in the month after the confirmation (N-WB-19)."""
    expected = month_after(event.day)
    given = event.payload["first_payable_period"]
    require(
        given == str(expected),
        "APP-14",
        f"confirmed on {event.day}, the first payable period is {expected}, not {given}",
        business_date=str(event.day),
        first_payable_period=given,
        expected=str(expected),
    )


def _require_standard(
    state: DomainState, directory: Directory, found: Application, p: Mapping[str, Any]
) -> None:
    """The approval cites the standard in force for the township, mode and first period,
    and grants exactly its amount."""
    period = Period.parse(p["first_payable_period"])
    in_force = standard_in_force(
        state, directory, found.programme_code, p["support_mode"], found.township_org_id, period
    )
    cited = standard(state, p["standard_ref"])
    require(
        in_force is not None and cited == in_force,
        "ENV-8",
        f"the approval cites standard {p['standard_ref']}; the one in force for "
        f"{found.township_org_id} in {period} is "
        f"{in_force.event_id if in_force else 'none'}",
        standard_ref=p["standard_ref"],
        standard_in_force=in_force.event_id if in_force else None,
    )
    assert in_force is not None
    if dibao_income.income_tested(state, found.programme_code, period):
        return  # the amount is the income-test entitlement, checked by ledger.domain.dibao
    require(
        p["annual_amount_fen"] == in_force.amount_fen,
        "ENV-8",
        f"the approval grants {p['annual_amount_fen']} fen a year; the cited standard is "
        f"{in_force.amount_fen} fen",
        annual_amount_fen=p["annual_amount_fen"],
        standard_amount_fen=in_force.amount_fen,
    )


def apply_approved(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    approval = Approval(
        support_mode=p["support_mode"],
        institution_id=p["institution_id"],
        standard_ref=p["standard_ref"],
        annual_amount_fen=p["annual_amount_fen"],
        first_payable_period=Period.parse(p["first_payable_period"]),
        dossier_id=p["dossier_id"],
        spot_check_batch_id=p["spot_check_batch_id"],
    )
    decision = Decision(event_id=event.event_id, day=event.day, approval=approval)
    _store(state, replace(_current(state, event), status=Status.APPROVED, decision=decision))


def decide_rejected(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A forwarded case is rejected with reasons (APP-13), by an independent decider."""
    found = _case_for(state, directory, event, {Status.FORWARDED})
    _require_decider(directory, found, event.actor_id)
    require(
        bool(event.payload["reasons"]),
        "APP-13",
        "a rejection states its reasons",
        application_id=found.application_id,
    )


def apply_rejected(state: DomainState, event: DomainEvent) -> None:
    decision = Decision(
        event_id=event.event_id,
        day=event.day,
        approval=None,
        reasons=tuple(event.payload["reasons"]),
    )
    _store(state, replace(_current(state, event), status=Status.REJECTED, decision=decision))


# --- DecisionNotified, ApplicationWithdrawn ---------------------------------------------------


def decide_notified(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The notice cites this case's decision; a rejection notice gives reasons (APP-13)."""
    found = _case_for(state, directory, event, {Status.APPROVED, Status.REJECTED})
    decision = found.decision
    assert decision is not None  # APPROVED and REJECTED always carry their decision
    cited = event.payload["decision_event_id"]
    require(
        cited == decision.event_id,
        "ENV-8",
        f"the notification cites {cited}, not the decision {decision.event_id} of "
        f"application {found.application_id}",
        decision_event_id=cited,
        expected=decision.event_id,
    )
    require(
        decision.approval is not None or bool(event.payload["reasons"]),
        "APP-13",
        "the written notice of a rejection states the reasons",
        application_id=found.application_id,
    )


def apply_notified(state: DomainState, event: DomainEvent) -> None:
    _store(state, replace(_current(state, event), notified=True))


def decide_withdrawn(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """Only a case not yet decided (nor withdrawn) can be withdrawn."""
    _case_for(state, directory, event, set(Status) - FINAL)


def apply_withdrawn(state: DomainState, event: DomainEvent) -> None:
    _store(state, replace(_current(state, event), status=Status.WITHDRAWN))


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    for event_type, apply, decide in (
        ("ApplicationSubmitted", apply_submitted, decide_submitted),
        (
            "ApplicationMaterialsIncompleteNotified",
            apply_materials_incomplete,
            decide_materials_incomplete,
        ),
        (
            "ApplicationMaterialsSupplemented",
            apply_materials_supplemented,
            decide_materials_supplemented,
        ),
        ("ApplicationAccepted", apply_accepted, decide_accepted),
        ("RelativeOfOfficialFiled", apply_relative_filed, decide_relative_filed),
        ("HouseholdInvestigationCompleted", apply_investigation, decide_investigation),
        ("PreliminaryOpinionIssued", apply_opinion, decide_opinion),
        ("PublicNoticePosted", apply_notice_posted, decide_notice_posted),
        ("ApplicationForwarded", apply_forwarded, decide_forwarded),
        (APPROVED_EVENT, apply_approved, decide_approved),
        ("ApplicationRejected", apply_rejected, decide_rejected),
        ("DecisionNotified", apply_notified, decide_notified),
        ("ApplicationWithdrawn", apply_withdrawn, decide_withdrawn),
    ):
        rules.register(event_type, apply=apply, decide=decide)
    # Facts: always folded, never refused (domain.md §4.0).
    rules.register("FinancialCheckAuthorisationSigned", apply=apply_authorisation_signed)
    rules.register("DemocraticAppraisalHeld", apply=apply_appraisal_held)
    rules.register("ObjectionInvestigated", apply=apply_objection_investigated)
    rules.register("OfficialRelationshipDeclared", apply=apply_relationship_declared)
