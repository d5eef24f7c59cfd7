"""W13 notices and rectification, W14 criticisms and exposure, and the escalation decisions
(``domain.md`` §4.13, §4.14, §4.16, §5.12; RECT-1, RECT-2, SOD-7).

Notice states (ENV-7 refuses any other transition)::

    ISSUED → RESPONDED → VERIFIED_PASSED (closed)
                       → VERIFIED_FAILED → RESPONDED (a new report) …
    ISSUED | RESPONDED | VERIFIED_FAILED → REISSUED (反复督办: FAILED or overdue; the successor
                                                      notice continues the case)

Overdue is not a state: it follows from the deadline and the date (:func:`rectification_due`).
Only the issuing organisation extends or reissues a notice (RECT-2).

Criticisms, commendations and media exposure are facts (§4.0), recorded as :class:`Sanction`s
(the inspection score's item deductions cite them). Warnings, accountability referrals,
admonitions and public self-criticism are decisions that must cite known cause events about
the same unit (ENV-8). ``EscalationDue`` expectations are kept with the event that satisfied
each, so the findings detector can raise ``AF-ESC-NOT-APPLIED``.

Tables: ``sup.notices`` (notice id → :class:`Notice`), ``sup.notice_events`` (event id → notice
id), ``sup.citable`` (event id → :class:`Citable`), ``sup.escalation_dues`` (event id →
:class:`DueRecord`; ``sup.escalation_dues_by_target`` indexes them by unit),
``sup.escalations_issued`` (target org → tuple of :class:`Issued`), and ``sup.sanctions``
(event id → :class:`~ledger.domain.supervision_inspections.Sanction`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from ledger.domain.escalation import (
    DEFAULT_POLICY,
    STEP_EVENT_TYPES,
    Due,
    EscalationPolicy,
    NoticeTrack,
    Step,
    rectification_due,
)
from ledger.domain.model import Directory, DomainEvent, DomainState, Rules, Table, refuse, require
from ledger.domain.periods import parse_date
from ledger.domain.supervision_inspections import (
    SANCTIONS,
    Sanction,
    finding,
    note_unmatched,
)

NOTICES = "sup.notices"
NOTICE_EVENTS = "sup.notice_events"
CITABLE = "sup.citable"
ESCALATION_DUES = "sup.escalation_dues"
DUES_BY_TARGET = "sup.escalation_dues_by_target"
ESCALATIONS_ISSUED = "sup.escalations_issued"

SANCTION_DECISIONS = (
    "WarningIssued",
    "AccountabilityReferred",
    "AdmonitionHeld",
    "PublicSelfCriticismRequired",
)
DISCIPLINE_BODY = "DISCIPLINE_BODY"


class NoticeStatus(StrEnum):
    ISSUED = "ISSUED"
    RESPONDED = "RESPONDED"
    VERIFIED_PASSED = "VERIFIED_PASSED"
    VERIFIED_FAILED = "VERIFIED_FAILED"
    REISSUED = "REISSUED"


CLOSED = frozenset({NoticeStatus.VERIFIED_PASSED, NoticeStatus.REISSUED})


@dataclass(frozen=True, slots=True)
class Notice:
    """A supervision or rectification notice: what the overdue and escalation detectors need."""

    notice_id: str
    kind: str
    target_org_id: str
    finding_ids: tuple[str, ...]
    issued_on: date
    deadline: date
    status: NoticeStatus
    issuer_org_id: str
    issuer_actor_id: str
    issued_event_id: str
    report_pending: bool = False
    """A rectification report has come in since the last verification (RECT-2)."""
    last_report_on: date | None = None
    failed_verifications: tuple[date, ...] = ()
    passed_on: date | None = None
    extensions: int = 0
    previous_notice_id: str | None = None
    successor_notice_id: str | None = None
    escalation_event_ids: tuple[str, ...] = ()
    """Criticisms and other sanctions that cite this notice."""


@dataclass(frozen=True, slots=True)
class Citable:
    """An event a sanction may cite as its cause, and the unit it concerns (``None``: many,
    e.g. a ranking)."""

    event_type: str
    target_org_id: str | None
    day: date


@dataclass(frozen=True, slots=True)
class DueRecord:
    """An ``EscalationDue`` expectation and the decision that met it, if any."""

    event_id: str
    ladder: str
    step: str
    subject: str
    target_org_id: str
    due_by: date
    cause_event_ids: tuple[str, ...]
    satisfied_by: str | None = None


@dataclass(frozen=True, slots=True)
class Issued:
    """A sanction decided (or registered) against a unit."""

    event_type: str
    event_id: str
    day: date
    cause_event_ids: tuple[str, ...]


def _notices(state: DomainState) -> Table[str, Notice]:
    return state.table(NOTICES)


def notice(state: DomainState, notice_id: str) -> Notice | None:
    """The notice issued under ``notice_id``, if any."""
    return _notices(state).get(notice_id)


def notices(state: DomainState) -> Iterator[Notice]:
    """Every notice (for the overdue detector)."""
    return _notices(state).values()


def escalation_dues(state: DomainState) -> Iterator[DueRecord]:
    """Every ``EscalationDue`` with whatever satisfied it (for AF-ESC-NOT-APPLIED)."""
    dues: Table[str, DueRecord] = state.table(ESCALATION_DUES)
    return dues.values()


def escalations_issued(state: DomainState, target_org_id: str) -> tuple[Issued, ...]:
    """Criticisms, commendations and sanctions recorded against ``target_org_id``."""
    found: tuple[Issued, ...] | None = state.table(ESCALATIONS_ISSUED).get(target_org_id)
    return found or ()


def notice_track(state: DomainState, notice_id: str) -> NoticeTrack | None:
    """What the rectification ladder needs: the notice's deadline, and when its case was
    PASSED and failed, following reissued successors (the case goes on under a new notice)."""
    found = notice(state, notice_id)
    if found is None:
        return None
    failed = list(found.failed_verifications)
    current = found
    seen = {found.notice_id}
    while current.successor_notice_id is not None and current.successor_notice_id not in seen:
        successor = notice(state, current.successor_notice_id)
        if successor is None:
            break
        seen.add(successor.notice_id)
        failed += successor.failed_verifications
        current = successor
    return NoticeTrack(found.deadline, current.passed_on, tuple(sorted(failed)))


def rectification_due_for(
    state: DomainState, notice_id: str, at: date, policy: EscalationPolicy = DEFAULT_POLICY
) -> Due | None:
    """The rectification escalation due for ``notice_id`` on ``at`` (§5.12), if any."""
    track = notice_track(state, notice_id)
    return None if track is None else rectification_due(track, at, policy)


def _note_citable(state: DomainState, event: DomainEvent, target: str | None, day: date) -> None:
    state.table(CITABLE).put(event.event_id, Citable(event.event_type, target, day))


def _require_notice(state: DomainState, event: DomainEvent, notice_id: str) -> Notice:
    found = notice(state, notice_id)
    if found is None:
        raise refuse(
            "ENV-7",
            f"{event.event_type} on notice {notice_id}, which was never issued",
            notice_id=notice_id,
        )
    return found


def _require_open(found: Notice, event: DomainEvent) -> None:
    require(
        found.status not in CLOSED,
        "ENV-7",
        f"{event.event_type} is not allowed: notice {found.notice_id} is {found.status}",
        notice_id=found.notice_id,
        status=str(found.status),
    )


def _require_issuer(found: Notice, event: DomainEvent) -> None:
    require(
        event.org_id == found.issuer_org_id,
        "RECT-2",
        f"only the issuer ({found.issuer_org_id}) may extend or reissue notice "
        f"{found.notice_id}; {event.actor_id} acts for {event.org_id}",
        issuer_org_id=found.issuer_org_id,
        actor_org_id=event.org_id,
    )


def _require_deadline_after(deadline: date, after: date, what: str) -> None:
    require(
        deadline > after,
        "RECT-1",
        f"the deadline {deadline} must be after {what} {after}",
        deadline=deadline.isoformat(),
        after=after.isoformat(),
    )


# --- W13.1 issue ---------------------------------------------------------------------------------


def decide_issued(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """RECT-1: a deadline after the issue date, and recorded findings of the target."""
    p = event.payload
    _require_new_notice(state, event, p["notice_id"])
    _require_deadline_after(parse_date(p["deadline"]), event.day, "the issue date")
    for finding_id in p["finding_ids"]:
        found = finding(state, finding_id)
        require(
            found is not None and found.target_org_id == p["target_org_id"],
            "RECT-1",
            f"a notice must cite recorded findings of its target: {finding_id} is "
            + ("not recorded" if found is None else f"about {found.target_org_id}"),
            finding_id=finding_id,
            target_org_id=p["target_org_id"],
        )


def _require_new_notice(state: DomainState, event: DomainEvent, notice_id: str) -> None:
    require(
        notice_id == event.stream_id and notice(state, notice_id) is None,
        "ENV-7",
        f"notice {notice_id} is already issued, or is not this stream's subject "
        f"({event.stream_id})",
        notice_id=notice_id,
        stream_id=event.stream_id,
    )


def apply_issued(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _notices(state).put(
        p["notice_id"],
        Notice(
            notice_id=p["notice_id"],
            kind=p["kind"],
            target_org_id=p["target_org_id"],
            finding_ids=tuple(p["finding_ids"]),
            issued_on=event.day,
            deadline=parse_date(p["deadline"]),
            status=NoticeStatus.ISSUED,
            issuer_org_id=event.org_id,
            issuer_actor_id=event.actor_id,
            issued_event_id=event.event_id,
        ),
    )
    _link(state, event, p["notice_id"])


def _link(state: DomainState, event: DomainEvent, notice_id: str) -> None:
    """Remember which notice an event is about, and that sanctions may cite it."""
    state.table(NOTICE_EVENTS).put(event.event_id, notice_id)
    found = notice(state, notice_id)
    _note_citable(state, event, None if found is None else found.target_org_id, event.day)


# --- W13.2 report (fact) -------------------------------------------------------------------------


def apply_reported(state: DomainState, event: DomainEvent) -> None:
    found = notice(state, event.stream_id)
    if found is None:
        note_unmatched(state, event, "rectification report on a notice that was never issued")
        return
    reported_on = parse_date(event.payload["reported_at"])
    if found.status in CLOSED:
        note_unmatched(state, event, f"rectification report on a {found.status} notice")
        updated = replace(found, last_report_on=reported_on)
    else:
        updated = replace(
            found, status=NoticeStatus.RESPONDED, report_pending=True, last_report_on=reported_on
        )
    _notices(state).put(found.notice_id, updated)
    _link(state, event, found.notice_id)


# --- W13.3 verify --------------------------------------------------------------------------------


def decide_verified(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """RECT-2: a report to verify; SOD-7: the verifier is not from the rectifying unit."""
    found = _require_notice(state, event, event.stream_id)
    _require_open(found, event)
    require(
        found.report_pending,
        "RECT-2",
        f"notice {found.notice_id} has no rectification report to verify since the last "
        "verification",
        notice_id=found.notice_id,
        status=str(found.status),
    )
    verifier_org = directory.actor_org(event.actor_id) or event.org_id
    require(
        not directory.is_within(verifier_org, found.target_org_id)
        and not directory.is_within(event.org_id, found.target_org_id),
        "SOD-7",
        f"{event.actor_id} acts for {verifier_org}, inside the rectifying unit "
        f"{found.target_org_id}: a unit never verifies its own rectification",
        actor_id=event.actor_id,
        actor_org_id=verifier_org,
        target_org_id=found.target_org_id,
    )


def apply_verified(state: DomainState, event: DomainEvent) -> None:
    found = notice(state, event.stream_id)
    if found is None:
        return
    on = parse_date(event.payload["verified_at"])
    if event.payload["result"] == "PASSED":
        updated = replace(
            found, status=NoticeStatus.VERIFIED_PASSED, passed_on=on, report_pending=False
        )
    else:
        updated = replace(
            found,
            status=NoticeStatus.VERIFIED_FAILED,
            failed_verifications=(*found.failed_verifications, on),
            report_pending=False,
        )
    _notices(state).put(found.notice_id, updated)
    _link(state, event, found.notice_id)


# --- W13.4 extend, W13.5 reissue -----------------------------------------------------------------


def decide_extended(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """RECT-2 (issuer only) on an open notice; the new deadline is later than the current."""
    found = _require_notice(state, event, event.stream_id)
    _require_open(found, event)
    _require_issuer(found, event)
    _require_deadline_after(
        parse_date(event.payload["new_deadline"]), found.deadline, "the current deadline"
    )


def apply_extended(state: DomainState, event: DomainEvent) -> None:
    found = notice(state, event.stream_id)
    if found is None:
        return
    updated = replace(
        found,
        deadline=parse_date(event.payload["new_deadline"]),
        extensions=found.extensions + 1,
    )
    _notices(state).put(found.notice_id, updated)
    _link(state, event, found.notice_id)


def decide_reissued(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """Repeated supervision: by the issuer (RECT-2), of a FAILED or overdue open notice."""
    p = event.payload
    _require_new_notice(state, event, p["notice_id"])
    previous = notice(state, p["previous_notice_id"])
    if previous is None:
        raise refuse(
            "ENV-8",
            f"notice {p['previous_notice_id']} to reissue was never issued",
            previous_notice_id=p["previous_notice_id"],
        )
    _require_open(previous, event)
    _require_issuer(previous, event)
    require(
        previous.status == NoticeStatus.VERIFIED_FAILED or event.day > previous.deadline,
        "ENV-7",
        f"notice {previous.notice_id} can be reissued only after a FAILED verification or "
        f"once overdue (deadline {previous.deadline}, status {previous.status})",
        previous_notice_id=previous.notice_id,
        status=str(previous.status),
        deadline=previous.deadline.isoformat(),
    )
    _require_deadline_after(parse_date(p["new_deadline"]), event.day, "the reissue date")


def apply_reissued(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    previous = notice(state, p["previous_notice_id"])
    if previous is None:
        return
    _notices(state).put(
        previous.notice_id,
        replace(previous, status=NoticeStatus.REISSUED, successor_notice_id=p["notice_id"]),
    )
    _notices(state).put(
        p["notice_id"],
        Notice(
            notice_id=p["notice_id"],
            kind=previous.kind,
            target_org_id=previous.target_org_id,
            finding_ids=previous.finding_ids,
            issued_on=event.day,
            deadline=parse_date(p["new_deadline"]),
            status=NoticeStatus.ISSUED,
            issuer_org_id=previous.issuer_org_id,
            issuer_actor_id=event.actor_id,
            issued_event_id=event.event_id,
            previous_notice_id=previous.notice_id,
        ),
    )
    _link(state, event, p["notice_id"])


# --- W14 criticisms, commendations, exposure (facts) ---------------------------------------------


def apply_criticism_or_commendation(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    recorded = Sanction(
        event_id=event.event_id,
        event_type=event.event_type,
        target_org_id=p["target_org"],
        issuer_level=p["issuer_level"],
        item=p["item"],
        day=parse_date(p["issued_at"]),
        related_to=p["related_to"],
        cause_event_ids=tuple(p["cause_event_ids"]),
    )
    _record_sanction(state, event, recorded)


def apply_media_exposure(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    recorded = Sanction(
        event_id=event.event_id,
        event_type=event.event_type,
        target_org_id=p["target_org"],
        issuer_level=None,
        item=p["item"],
        day=parse_date(p["published_at"]),
        related_to=None,
    )
    _record_sanction(state, event, recorded)


def _record_sanction(state: DomainState, event: DomainEvent, recorded: Sanction) -> None:
    state.table(SANCTIONS).put(event.event_id, recorded)
    _note_citable(state, event, recorded.target_org_id, recorded.day)
    _note_issued(state, event, recorded.target_org_id, recorded.cause_event_ids)


def _note_issued(
    state: DomainState, event: DomainEvent, target: str, causes: tuple[str, ...]
) -> None:
    """Record a sanction against ``target``: on the unit, on the notices it cites, and as the
    satisfaction of the escalation expectations it answers."""
    issued: Table[str, tuple[Issued, ...]] = state.table(ESCALATIONS_ISSUED)
    entry = Issued(event.event_type, event.event_id, event.day, causes)
    issued.put(target, (*escalations_issued(state, target), entry))
    notice_ids: Table[str, str] = state.table(NOTICE_EVENTS)
    for cause in causes:
        notice_id = notice_ids.get(cause)
        found = None if notice_id is None else notice(state, notice_id)
        if found is not None and event.event_id not in found.escalation_event_ids:
            linked = (*found.escalation_event_ids, event.event_id)
            _notices(state).put(found.notice_id, replace(found, escalation_event_ids=linked))
    _satisfy_dues(state, event, target, causes)


def _satisfy_dues(
    state: DomainState, event: DomainEvent, target: str, causes: Iterable[str]
) -> None:
    """An unmet expectation of this step for this unit is met when the decision cites it, or
    cites one of its causes."""
    cited = set(causes)
    dues: Table[str, DueRecord] = state.table(ESCALATION_DUES)
    by_target: Table[str, tuple[str, ...]] = state.table(DUES_BY_TARGET)
    for due_id in by_target.get(target) or ():
        due = dues[due_id]
        if due.satisfied_by is not None:
            continue
        if STEP_EVENT_TYPES[Step(due.step)] != event.event_type:
            continue
        if due.event_id in cited or cited & set(due.cause_event_ids):
            dues.put(due.event_id, replace(due, satisfied_by=event.event_id))


# --- §5.12 expectations and the escalation decisions ---------------------------------------------


def apply_escalation_due(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    state.table(ESCALATION_DUES).put(
        event.event_id,
        DueRecord(
            event_id=event.event_id,
            ladder=p["ladder"],
            step=p["step"],
            subject=p["subject"],
            target_org_id=p["target_org_id"],
            due_by=parse_date(p["due_by"]),
            cause_event_ids=tuple(p["cause_event_ids"]),
        ),
    )
    by_target: Table[str, tuple[str, ...]] = state.table(DUES_BY_TARGET)
    target = p["target_org_id"]
    by_target.put(target, (*(by_target.get(target) or ()), event.event_id))
    _note_citable(state, event, target, event.day)


def decide_sanction(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """Warnings, referrals, admonitions and self-criticism cite known causes about the unit."""
    p = event.payload
    target = p["target_org_id"]
    require(
        directory.org_exists(target),
        "ENV-8",
        f"target organisation {target} is not registered",
        target_org_id=target,
    )
    citable: Table[str, Citable] = state.table(CITABLE)
    for cause in p["cause_event_ids"]:
        found = citable.get(cause)
        require(
            found is not None,
            "ENV-8",
            f"{event.event_type} cites {cause}, which is not a recorded notice, finding, "
            "criticism, ranking or escalation",
            cause_event_id=cause,
        )
        assert found is not None  # for the type checker: required just above
        require(
            found.target_org_id in {None, target},
            "ENV-8",
            f"{event.event_type} against {target} cites {cause} ({found.event_type}), which "
            f"concerns {found.target_org_id}",
            cause_event_id=cause,
            cause_target_org_id=found.target_org_id,
            target_org_id=target,
        )
    if event.event_type == "AccountabilityReferred":
        referred = p["referred_to_org_id"]
        require(
            directory.org_kind(referred) == DISCIPLINE_BODY,
            "ENV-8",
            f"accountability is referred to a discipline body; {referred} is "
            f"{directory.org_kind(referred) or 'not registered'}",
            referred_to_org_id=referred,
        )


def apply_sanction(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _note_citable(state, event, p["target_org_id"], event.day)
    _note_issued(state, event, p["target_org_id"], tuple(p["cause_event_ids"]))


def apply_citable_fact(state: DomainState, event: DomainEvent) -> None:
    """Findings and inspection scores may be cited as causes; they concern one target."""
    _note_citable(state, event, event.payload["target_org_id"], event.day)


def apply_ranking(state: DomainState, event: DomainEvent) -> None:
    """Rankings are causes of bottom-three escalations; they concern many units."""
    _note_citable(state, event, None, event.day)


def apply_award_eligibility_revoked(state: DomainState, event: DomainEvent) -> None:
    """Meets a STREET_REPEAT expectation (the event itself belongs to the assessment module)."""
    assessee = event.payload.get("assessee")
    causes = event.payload.get("cause_event_ids") or []
    if isinstance(assessee, str):
        _note_issued(state, event, assessee, tuple(str(c) for c in causes))


def register(rules: Rules) -> None:
    """Add the W13, W14 and escalation decide and apply functions to ``rules``."""
    rules.register("SupervisionNoticeIssued", apply=apply_issued, decide=decide_issued)
    rules.register("RectificationVerified", apply=apply_verified, decide=decide_verified)
    rules.register("RectificationDeadlineExtended", apply=apply_extended, decide=decide_extended)
    rules.register("SupervisionNoticeReissued", apply=apply_reissued, decide=decide_reissued)
    for event_type in SANCTION_DECISIONS:
        rules.register(event_type, apply=apply_sanction, decide=decide_sanction)
    # Facts and system expectations: always folded, never refused (domain.md §4.0).
    rules.register("RectificationReported", apply=apply_reported)
    rules.register("CriticismIssued", apply=apply_criticism_or_commendation)
    rules.register("CommendationIssued", apply=apply_criticism_or_commendation)
    rules.register("MediaExposureRecorded", apply=apply_media_exposure)
    rules.register("EscalationDue", apply=apply_escalation_due)
    rules.register("FindingRecorded", apply=apply_citable_fact)
    rules.register("InspectionScoreRecorded", apply=apply_citable_fact)
    rules.register("PeriodRankingPublished", apply=apply_ranking)
    rules.register("AwardEligibilityRevoked", apply=apply_award_eligibility_revoked)
