"""Enrolment, payment accounts, termination and referral (``domain.md`` §4.1 W1.13 and W1.14, §4.5).

An approved application becomes an enrolment that copies the approval exactly and is paid
into an account that fits its support mode (PAY-4). Termination (W5) is proposed, publicly
noticed (unless the reason waives the notice), and decided from the next month (TRM-1,
TRM-2); a terminated person may be referred to another programme, which reserves the id of
the application the referral starts.

This module also adds to the application rules the checks that need enrolments: APP-12 on
approval (no other live enrolment in the same or an exclusive programme) and the referral
behind an ``ApplicationSubmitted`` with channel REFERRAL; and the subject rules of
TERMINATION notices.

Enrolment states: ``ACTIVE | SUSPENDED | GRADUAL_EXIT → TERMINATION_PENDING → TERMINATED``,
and back from ``TERMINATION_PENDING`` to the state it came from when the proposal is
withdrawn. ``ACTIVE ⇄ SUSPENDED`` and ``ACTIVE → GRADUAL_EXIT`` are W3 and W4 transitions,
decided in :mod:`ledger.domain.dibao_dynamic` through :func:`set_status`. Any other
transition is refused with ENV-7.

Tables: ``enr.enrolments``, ``enr.by_person``, ``enr.by_application``, ``enr.accounts``,
``enr.stays`` (institution residency), ``enr.referrals`` and ``enr.erased_persons``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from ledger.domain import applications, notices
from ledger.domain.applications import Application
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
from ledger.domain.periods import Period, last_payable_period, month_after, parse_date
from ledger.domain.programmes import programme, require_programme

ENROLMENTS = "enr.enrolments"
BY_PERSON = "enr.by_person"
BY_APPLICATION = "enr.by_application"
ACCOUNTS = "enr.accounts"
STAYS = "enr.stays"
REFERRALS = "enr.referrals"
ERASED = "enr.erased_persons"

ONE_CARD = "ONE_CARD"
INSTITUTION_ACCOUNT = "INSTITUTION_ACCOUNT"
CENTRALISED = "CENTRALISED"
CARE_INSTITUTION = "CARE_INSTITUTION"
DECEASED = "DECEASED"


class EnrolmentStatus(StrEnum):
    """Where an enrolment is in its life."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    GRADUAL_EXIT = "GRADUAL_EXIT"
    TERMINATION_PENDING = "TERMINATION_PENDING"
    TERMINATED = "TERMINATED"


LIVE = frozenset(
    {
        EnrolmentStatus.ACTIVE,
        EnrolmentStatus.SUSPENDED,
        EnrolmentStatus.GRADUAL_EXIT,
        EnrolmentStatus.TERMINATION_PENDING,
    }
)
PROPOSABLE = frozenset(
    {EnrolmentStatus.ACTIVE, EnrolmentStatus.SUSPENDED, EnrolmentStatus.GRADUAL_EXIT}
)
"""States a termination may be proposed in (W5.1)."""


@dataclass(frozen=True, slots=True)
class Termination:
    """A termination proposal and, once decided, its outcome."""

    reason_code: str
    death_date: date | None
    proposed_position: int
    resume_status: EnrolmentStatus = EnrolmentStatus.ACTIVE
    """The state a withdrawn proposal returns to."""
    notice_id: str | None = None
    """The latest TERMINATION notice posted about this proposal."""
    decided_on: date | None = None
    effective_period: Period | None = None
    last_payable_period: Period | None = None


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A beneficiary's enrolment in a programme."""

    enrolment_id: str
    application_id: str
    person_id: str
    household_id: str
    programme_code: str
    support_mode: str
    institution_id: str | None
    annual_amount_fen: int
    standard_ref: str
    first_payable_period: Period
    payment_account_id: str
    dossier_id: str
    township_org_id: str
    residence_org_id: str
    status: EnrolmentStatus = EnrolmentStatus.ACTIVE
    termination: Termination | None = None

    @property
    def last_payable_period(self) -> Period | None:
        """The last month that may be paid (PAY-2), once terminated; else ``None``."""
        if self.status != EnrolmentStatus.TERMINATED or self.termination is None:
            return None
        return self.termination.last_payable_period


@dataclass(frozen=True, slots=True)
class PaymentAccount:
    """A 一卡通 account of a person, or a care institution's account."""

    account_id: str
    channel: str
    holder_person_id: str | None
    holder_org_id: str | None
    bank_org_id: str


@dataclass(frozen=True, slots=True)
class Stay:
    """A stay of a person in a care institution (``discharged_on`` is ``None`` while there)."""

    institution_id: str
    admitted_on: date
    discharged_on: date | None
    bed_id: str | None


@dataclass(frozen=True, slots=True)
class Referral:
    """A referral of a terminated beneficiary; it reserves ``new_application_id``."""

    new_application_id: str
    from_enrolment_id: str
    to_programme_code: str
    person_id: str


def _enrolments(state: DomainState) -> Table[str, Enrolment]:
    return state.table(ENROLMENTS)


def _by_person(state: DomainState) -> Table[str, frozenset[str]]:
    return state.table(BY_PERSON)


def _by_application(state: DomainState) -> Table[str, str]:
    return state.table(BY_APPLICATION)


def _accounts(state: DomainState) -> Table[str, PaymentAccount]:
    return state.table(ACCOUNTS)


def _stays(state: DomainState) -> Table[str, tuple[Stay, ...]]:
    return state.table(STAYS)


def _referrals(state: DomainState) -> Table[str, Referral]:
    return state.table(REFERRALS)


def _erased(state: DomainState) -> Table[str, bool]:
    return state.table(ERASED)


def _store(state: DomainState, updated: Enrolment) -> None:
    _enrolments(state).put(updated.enrolment_id, updated)


def set_status(state: DomainState, enrolment_id: str, status: EnrolmentStatus) -> None:
    """Move an enrolment to ``status`` (for the W3/W4 applies of other modules, whose
    decide functions checked the transition)."""
    _store(state, replace(_enrolments(state)[enrolment_id], status=status))


# --- queries -----------------------------------------------------------------------------


def enrolment(state: DomainState, enrolment_id: str) -> Enrolment | None:
    """The enrolment ``enrolment_id``, or ``None``."""
    return _enrolments(state).get(enrolment_id)


def enrolments_of_person(state: DomainState, person_id: str) -> list[Enrolment]:
    """Every enrolment of a person, in any state, ordered by id."""
    ids = sorted(_by_person(state).get(person_id) or ())
    return [_enrolments(state)[i] for i in ids]


def enrolment_of_application(state: DomainState, application_id: str) -> Enrolment | None:
    """The enrolment made from an application, if any."""
    enrolment_id = _by_application(state).get(application_id)
    return None if enrolment_id is None else _enrolments(state)[enrolment_id]


def payment_account(state: DomainState, account_id: str) -> PaymentAccount | None:
    """The registered payment account ``account_id``, or ``None``."""
    return _accounts(state).get(account_id)


def institution_stays(state: DomainState, person_id: str) -> tuple[Stay, ...]:
    """A person's recorded stays in care institutions, oldest first (PAY-4)."""
    return _stays(state).get(person_id) or ()


def referral(state: DomainState, new_application_id: str) -> Referral | None:
    """The referral that reserved ``new_application_id``, if any."""
    return _referrals(state).get(new_application_id)


def is_identity_erased(state: DomainState, person_id: str) -> bool:
    """Whether the readable identity of the person was erased (§6.7)."""
    return _erased(state).get(person_id) is True


def exclusive(state: DomainState, one: str, other: str) -> bool:
    """Whether a person may not be enrolled in programmes ``one`` and ``other`` at once:
    the same programme, or either lists the other in ``exclusive_with``."""
    if one == other:
        return True
    first, second = programme(state, one), programme(state, other)
    return bool(
        (first is not None and other in first.exclusive_with)
        or (second is not None and one in second.exclusive_with)
    )


def live_conflicts(state: DomainState, person_id: str, programme_code: str) -> list[Enrolment]:
    """The person's ACTIVE or TERMINATION_PENDING enrolments that exclude ``programme_code``
    (APP-12)."""
    return [
        e
        for e in enrolments_of_person(state, person_id)
        if e.status in LIVE and exclusive(state, programme_code, e.programme_code)
    ]


def _require_no_conflict(state: DomainState, person_id: str, programme_code: str) -> None:
    """APP-12: no live enrolment in the same or an exclusive programme."""
    conflicts = live_conflicts(state, person_id, programme_code)
    require(
        not conflicts,
        "APP-12",
        f"{person_id} is already enrolled in "
        f"{', '.join(f'{e.programme_code} ({e.enrolment_id})' for e in conflicts)}, which "
        f"excludes {programme_code}",
        person_id=person_id,
        programme_code=programme_code,
        enrolment_ids=[e.enrolment_id for e in conflicts],
    )


def _require_on_stream(state: DomainState, event: DomainEvent) -> Enrolment:
    found = enrolment(state, event.stream_id)
    if found is None:
        raise refuse(
            "ENV-8",
            f"{event.event_type} on enrolment {event.stream_id}, which does not exist",
            enrolment_id=event.stream_id,
        )
    return found


def enrolment_for(
    state: DomainState,
    directory: Directory,
    event: DomainEvent,
    allowed: EnrolmentStatus | frozenset[EnrolmentStatus],
) -> Enrolment:
    """The event's enrolment, in an allowed state, within the actor's scope (ENV-7)."""
    found = _require_on_stream(state, event)
    states = frozenset({allowed}) if isinstance(allowed, EnrolmentStatus) else allowed
    require(
        found.status in states,
        "ENV-7",
        f"{event.event_type} is not allowed on enrolment {found.enrolment_id} in state "
        f"{found.status} (allowed in: {', '.join(sorted(states))})",
        enrolment_id=found.enrolment_id,
        status=str(found.status),
        event_type=event.event_type,
    )
    require_scope(directory, event, found.township_org_id)
    return found


def _require_new_stream(event: DomainEvent, field: str, exists: bool) -> None:
    """A creation event names its own stream and creates something new (ENV-7)."""
    require(
        event.payload[field] == event.stream_id and not exists,
        "ENV-7",
        f"{event.event_type} creates {event.payload[field]} once, on the stream named by it",
        **{field: event.payload[field], "stream_id": event.stream_id},
    )


# --- PaymentAccountRegistered -------------------------------------------------------------


def decide_account_registered(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """PAY-4: a 一卡通 account belongs to a person, an institution account to a registered
    care institution; the bank is registered."""
    p = event.payload
    _require_new_stream(event, "account_id", payment_account(state, p["account_id"]) is not None)
    if p["channel"] == ONE_CARD:
        require(
            p["holder_person_id"] is not None and p["holder_org_id"] is None,
            "PAY-4",
            "a 一卡通 (ONE_CARD) account is held by a person, not an organisation",
            holder_person_id=p["holder_person_id"],
            holder_org_id=p["holder_org_id"],
        )
    else:
        require(
            p["holder_person_id"] is None
            and directory.org_kind(p["holder_org_id"] or "") == CARE_INSTITUTION,
            "PAY-4",
            "an institution account is held by a registered care institution, not a person",
            holder_person_id=p["holder_person_id"],
            holder_org_id=p["holder_org_id"],
        )
    require(
        directory.org_exists(p["bank_org_id"]),
        "ENV-8",
        f"bank {p['bank_org_id']} is not a registered organisation",
        bank_org_id=p["bank_org_id"],
    )


def apply_account_registered(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _accounts(state).put(
        p["account_id"],
        PaymentAccount(
            account_id=p["account_id"],
            channel=p["channel"],
            holder_person_id=p["holder_person_id"],
            holder_org_id=p["holder_org_id"],
            bank_org_id=p["bank_org_id"],
        ),
    )


# --- BeneficiaryEnrolled ----------------------------------------------------------------------


def decide_enrolled(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """An approved, not yet enrolled application, copied exactly, with a fitting account."""
    p = event.payload
    _require_new_stream(event, "enrolment_id", enrolment(state, p["enrolment_id"]) is not None)
    found = applications.require_application(state, p["application_id"])
    require_scope(directory, event, found.township_org_id)
    require(
        found.status == applications.Status.APPROVED,
        "ENV-7",
        f"application {found.application_id} is {found.status}; only an approved one is enrolled",
        application_id=found.application_id,
        status=str(found.status),
    )
    already = enrolment_of_application(state, found.application_id)
    require(
        already is None,
        "ENV-7",
        f"application {found.application_id} is already enrolled "
        f"({already.enrolment_id if already else ''})",
        application_id=found.application_id,
    )
    _require_copy_of_approval(found, p)
    _require_no_conflict(state, found.applicant_person_id, found.programme_code)
    require_fitting_account(state, p)


def _require_copy_of_approval(found: Application, p: Mapping[str, Any]) -> None:
    """The enrolment repeats the applicant and every term of the approval."""
    decision = found.decision
    assert decision is not None and decision.approval is not None  # APPROVED carries it
    granted = decision.approval
    expected = {
        "person_id": found.applicant_person_id,
        "household_id": found.household_id,
        "programme_code": found.programme_code,
        "support_mode": granted.support_mode,
        "institution_id": granted.institution_id,
        "annual_amount_fen": granted.annual_amount_fen,
        "standard_ref": granted.standard_ref,
        "first_payable_period": str(granted.first_payable_period),
        "dossier_id": granted.dossier_id,
    }
    differing = sorted(k for k, v in expected.items() if p[k] != v)
    require(
        not differing,
        "ENV-8",
        f"the enrolment differs from approval {decision.event_id} in {', '.join(differing)}",
        application_id=found.application_id,
        differing_fields=differing,
        approved={k: expected[k] for k in differing},
        enrolled={k: p[k] for k in differing},
    )


def require_fitting_account(state: DomainState, p: Mapping[str, Any]) -> None:
    """PAY-4: DISPERSED is paid to the person's 一卡通, CENTRALISED to the institution."""
    account = payment_account(state, p["payment_account_id"])
    if account is None:
        raise refuse(
            "ENV-8",
            f"payment account {p['payment_account_id']} is not registered",
            payment_account_id=p["payment_account_id"],
        )
    if p["support_mode"] == CENTRALISED:
        fits = (
            account.channel == INSTITUTION_ACCOUNT and account.holder_org_id == p["institution_id"]
        )
        wanted = f"the INSTITUTION_ACCOUNT of {p['institution_id']}"
    else:
        fits = account.channel == ONE_CARD and account.holder_person_id == p["person_id"]
        wanted = f"a ONE_CARD account held by {p['person_id']}"
    require(
        fits,
        "PAY-4",
        f"{p['support_mode']} support is paid into {wanted}; account {account.account_id} is "
        f"a {account.channel} account of {account.holder_person_id or account.holder_org_id}",
        payment_account_id=account.account_id,
        channel=account.channel,
        support_mode=p["support_mode"],
    )


def apply_enrolled(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    found = applications.require_application(state, p["application_id"])
    _store(
        state,
        Enrolment(
            enrolment_id=p["enrolment_id"],
            application_id=p["application_id"],
            person_id=p["person_id"],
            household_id=p["household_id"],
            programme_code=p["programme_code"],
            support_mode=p["support_mode"],
            institution_id=p["institution_id"],
            annual_amount_fen=p["annual_amount_fen"],
            standard_ref=p["standard_ref"],
            first_payable_period=Period.parse(p["first_payable_period"]),
            payment_account_id=p["payment_account_id"],
            dossier_id=p["dossier_id"],
            township_org_id=found.township_org_id,
            residence_org_id=found.residence_org_id,
        ),
    )
    person = p["person_id"]
    _by_person(state).put(
        person, (_by_person(state).get(person) or frozenset()) | {p["enrolment_id"]}
    )
    _by_application(state).put(p["application_id"], p["enrolment_id"])


# --- checks added to application events -------------------------------------------------------


def decide_approval_exclusivity(
    state: DomainState, _directory: Directory, event: DomainEvent
) -> None:
    """APP-12 on ``ApplicationApproved``."""
    found = applications.require_application(state, event.stream_id)
    _require_no_conflict(state, found.applicant_person_id, found.programme_code)


def decide_submission_referral(
    state: DomainState, _directory: Directory, event: DomainEvent
) -> None:
    """A REFERRAL application is the one a ``ReferralMade`` reserved: same id, enrolment,
    programme and person. An id reserved by a referral is used for nothing else."""
    p = event.payload
    reserved = referral(state, p["application_id"])
    if p["channel"] != "REFERRAL":
        require(
            reserved is None,
            "ENV-7",
            f"application id {p['application_id']} is reserved by a referral from enrolment "
            f"{reserved.from_enrolment_id if reserved else ''}",
            application_id=p["application_id"],
        )
        return
    expected = (p["referral_from_enrolment_id"], p["programme_code"], p["applicant_person_id"])
    require(
        reserved is not None
        and (reserved.from_enrolment_id, reserved.to_programme_code, reserved.person_id)
        == expected,
        "ENV-8",
        f"no referral from enrolment {p['referral_from_enrolment_id']} to "
        f"{p['programme_code']} reserved application {p['application_id']} for "
        f"{p['applicant_person_id']}",
        application_id=p["application_id"],
        referral_from_enrolment_id=p["referral_from_enrolment_id"],
        programme_code=p["programme_code"],
    )


# --- termination notices ----------------------------------------------------------------------


def decide_termination_notice(
    state: DomainState, _directory: Directory, event: DomainEvent
) -> None:
    """APP-7 for TERMINATION notices: about pending terminations, posted in the person's
    village or institution, for ``termination_notice_days`` at least."""
    p = event.payload
    if p["kind"] != notices.TERMINATION:
        return
    for subject_id in p["subject_ids"]:
        found = enrolment(state, subject_id)
        if found is None:
            raise refuse("ENV-8", f"enrolment {subject_id} does not exist", enrolment_id=subject_id)
        require(
            found.status == EnrolmentStatus.TERMINATION_PENDING,
            "ENV-7",
            f"enrolment {subject_id} is {found.status}; only a proposed termination is noticed",
            enrolment_id=subject_id,
            status=str(found.status),
        )
        places = _notice_places(state, found)
        require(
            p["location_org_id"] in places,
            "APP-7",
            f"the termination notice for {subject_id} is posted in "
            f"{' or '.join(sorted(places))}, not at {p['location_org_id']}",
            enrolment_id=subject_id,
            location_org_id=p["location_org_id"],
            allowed_locations=sorted(places),
        )
        config = require_programme(state, found.programme_code)
        notices.require_window(event, config.termination_notice_days)


def _notice_places(state: DomainState, found: Enrolment) -> frozenset[str]:
    """Where a termination notice about ``found`` may hang: the person's village or
    community, the enrolment's institution, or the institution they live in now."""
    places = {found.residence_org_id}
    if found.institution_id is not None:
        places.add(found.institution_id)
    stays = institution_stays(state, found.person_id)
    if stays and stays[-1].discharged_on is None:
        places.add(stays[-1].institution_id)
    return frozenset(places)


def apply_termination_notice(state: DomainState, event: DomainEvent) -> None:
    """Tie each pending termination to its latest notice."""
    p = event.payload
    if p["kind"] != notices.TERMINATION:
        return
    for subject_id in p["subject_ids"]:
        found = _enrolments(state)[subject_id]
        assert found.termination is not None  # decide required TERMINATION_PENDING
        pending = replace(found.termination, notice_id=p["notice_id"])
        _store(state, replace(found, termination=pending))


# --- termination ----------------------------------------------------------------------------


def decide_termination_proposed(
    state: DomainState, directory: Directory, event: DomainEvent
) -> None:
    """An ACTIVE, SUSPENDED or GRADUAL_EXIT enrolment can be proposed for termination."""
    enrolment_for(state, directory, event, PROPOSABLE)


def apply_termination_proposed(state: DomainState, event: DomainEvent) -> None:
    death_date = event.payload["death_date"]
    found = _enrolments(state)[event.stream_id]
    termination = Termination(
        reason_code=event.payload["reason_code"],
        death_date=None if death_date is None else parse_date(death_date),
        proposed_position=event.position,
        resume_status=found.status,
    )
    _store(
        state,
        replace(
            found,
            status=EnrolmentStatus.TERMINATION_PENDING,
            termination=termination,
        ),
    )


def decide_termination_decided(
    state: DomainState, directory: Directory, event: DomainEvent
) -> None:
    """TRM-2 (next month, with reasons) and TRM-1 (a clean, closed notice unless waived)."""
    found = enrolment_for(state, directory, event, EnrolmentStatus.TERMINATION_PENDING)
    p = event.payload
    expected = month_after(event.day)
    require(
        p["effective_period"] == str(expected),
        "TRM-2",
        f"decided on {event.day}, the termination takes effect in {expected}, not "
        f"{p['effective_period']}",
        business_date=str(event.day),
        effective_period=p["effective_period"],
        expected=str(expected),
    )
    require(bool(p["reasons"]), "TRM-2", "a termination states its reasons")
    assert found.termination is not None  # TERMINATION_PENDING always carries the proposal
    config = require_programme(state, found.programme_code)
    if found.termination.reason_code in config.notice_waived_reasons:
        if p["notice_id"] is not None:
            notices.require_notice(state, p["notice_id"])
        return
    _require_clean_termination_notice(state, found, event, config.termination_notice_days)


def _require_clean_termination_notice(
    state: DomainState, found: Enrolment, event: DomainEvent, minimum_days: int
) -> None:
    """TRM-1: the decision cites a TERMINATION notice about this proposal that ran long
    enough, is over and closed, with no objection left uninvestigated."""
    assert found.termination is not None
    notice_id = event.payload["notice_id"]
    posted = notices.notice(state, notice_id) if notice_id is not None else None
    evidence = {"enrolment_id": found.enrolment_id, "notice_id": notice_id}
    require(
        posted is not None
        and posted.kind == notices.TERMINATION
        and found.enrolment_id in posted.subject_ids
        and posted.posted_position > found.termination.proposed_position,
        "TRM-1",
        f"the termination of {found.enrolment_id} needs a public TERMINATION notice about "
        "this proposal",
        **evidence,
    )
    assert posted is not None
    require(
        posted.window_days >= minimum_days and posted.is_closed and event.day > posted.end_date,
        "TRM-1",
        f"notice {posted.notice_id} must run at least {minimum_days} days and be closed before "
        f"the decision (it ran {posted.window_days}, until {posted.end_date}; closed: "
        f"{posted.closed_on or 'no'})",
        window_days=posted.window_days,
        minimum_days=minimum_days,
        **evidence,
    )
    open_ids = [
        o.objection_id
        for o in notices.objections_about(state, posted, found.enrolment_id)
        if o.is_open
    ]
    require(
        not open_ids,
        "TRM-1",
        f"objection(s) {', '.join(open_ids)} to notice {posted.notice_id} are not investigated",
        open_objection_ids=open_ids,
        **evidence,
    )


def apply_termination_decided(state: DomainState, event: DomainEvent) -> None:
    found = _enrolments(state)[event.stream_id]
    assert found.termination is not None
    effective = Period.parse(event.payload["effective_period"])
    decided = replace(
        found.termination,
        decided_on=event.day,
        effective_period=effective,
        last_payable_period=last_payable_period(
            effective, found.termination.reason_code, found.termination.death_date
        ),
    )
    _store(state, replace(found, status=EnrolmentStatus.TERMINATED, termination=decided))


def decide_termination_withdrawn(
    state: DomainState, directory: Directory, event: DomainEvent
) -> None:
    """Only a pending termination can be withdrawn."""
    enrolment_for(state, directory, event, EnrolmentStatus.TERMINATION_PENDING)


def apply_termination_withdrawn(state: DomainState, event: DomainEvent) -> None:
    found = _enrolments(state)[event.stream_id]
    resume = found.termination.resume_status if found.termination else EnrolmentStatus.ACTIVE
    _store(state, replace(found, status=resume, termination=None))


# --- ReferralMade, facts ----------------------------------------------------------------------


def decide_referral(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A terminated beneficiary is referred to a defined programme under a fresh
    application id."""
    enrolment_for(state, directory, event, EnrolmentStatus.TERMINATED)
    p = event.payload
    require_programme(state, p["to_programme_code"])
    new_id = p["new_application_id"]
    require(
        applications.application(state, new_id) is None and referral(state, new_id) is None,
        "ENV-7",
        f"application id {new_id} is already used",
        new_application_id=new_id,
    )


def apply_referral(state: DomainState, event: DomainEvent) -> None:
    found = _enrolments(state)[event.stream_id]
    new_id = event.payload["new_application_id"]
    _referrals(state).put(
        new_id,
        Referral(
            new_application_id=new_id,
            from_enrolment_id=found.enrolment_id,
            to_programme_code=event.payload["to_programme_code"],
            person_id=found.person_id,
        ),
    )


def apply_residency_recorded(state: DomainState, event: DomainEvent) -> None:
    """Record an admission, or the discharge of the matching admission (a fact)."""
    p = event.payload
    stay = Stay(
        institution_id=p["institution_id"],
        admitted_on=parse_date(p["admitted_on"]),
        discharged_on=None if p["discharged_on"] is None else parse_date(p["discharged_on"]),
        bed_id=p["bed_id"],
    )
    earlier = [
        s
        for s in institution_stays(state, p["person_id"])
        if (s.institution_id, s.admitted_on) != (stay.institution_id, stay.admitted_on)
    ]
    ordered = sorted([*earlier, stay], key=lambda s: (s.admitted_on, s.institution_id))
    _stays(state).put(p["person_id"], tuple(ordered))


def apply_identity_erased(state: DomainState, event: DomainEvent) -> None:
    """Flag the person; the log keeps only pseudonymous ids, so nothing else changes."""
    _erased(state).put(event.payload["person_id"], True)


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    for event_type, apply, decide in (
        ("PaymentAccountRegistered", apply_account_registered, decide_account_registered),
        ("BeneficiaryEnrolled", apply_enrolled, decide_enrolled),
        ("TerminationProposed", apply_termination_proposed, decide_termination_proposed),
        ("TerminationDecided", apply_termination_decided, decide_termination_decided),
        ("TerminationWithdrawn", apply_termination_withdrawn, decide_termination_withdrawn),
        ("ReferralMade", apply_referral, decide_referral),
        ("PublicNoticePosted", apply_termination_notice, decide_termination_notice),
    ):
        rules.register(event_type, apply=apply, decide=decide)
    rules.register("ApplicationApproved", decide=decide_approval_exclusivity)
    rules.register("ApplicationSubmitted", decide=decide_submission_referral)
    rules.register("InstitutionResidencyRecorded", apply=apply_residency_recorded)
    rules.register("PersonIdentityErased", apply=apply_identity_erased)
