"""Public notices and objections (``domain.md`` §4.1 W1.8 to W1.10, §4.5 W5.2 to W5.3, APP-7).

This module owns the notice's own lifecycle: posted → (objections received and investigated)
→ closed. What a notice is *about* is checked by the module that owns the subject, so that
the modules import each other in one direction only: :mod:`ledger.domain.applications`
checks preliminary-opinion and result notices (subjects are applications), and
:mod:`ledger.domain.enrolments` checks termination notices (subjects are enrolments). Both
use :func:`require_window` for the APP-7 length rule.

An objection is a fact: it is always recorded, and one received outside the notice window
(or against an unknown notice) is only flagged ``late`` for the auditors.

Tables: ``notice.notices`` (notice id → :class:`Notice`), ``notice.objections``
(objection id → :class:`Objection`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

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
from ledger.domain.periods import parse_date

NOTICES = "notice.notices"
OBJECTIONS = "notice.objections"

PRELIMINARY_OPINION = "PRELIMINARY_OPINION"
RESULT_PUBLICATION = "RESULT_PUBLICATION"
TERMINATION = "TERMINATION"

UPHELD = "UPHELD"


@dataclass(frozen=True, slots=True)
class Notice:
    """A posted public notice and what happened to it since."""

    notice_id: str
    kind: str
    subject_ids: tuple[str, ...]
    location_org_id: str
    start_date: date
    end_date: date
    posted_event_id: str
    posted_position: int
    objection_ids: tuple[str, ...] = ()
    closed_on: date | None = None
    unresolved_at_close: int | None = None

    @property
    def window_days(self) -> int:
        """Calendar days on display, both ends included."""
        return window_days(self.start_date, self.end_date)

    @property
    def is_closed(self) -> bool:
        return self.closed_on is not None


@dataclass(frozen=True, slots=True)
class Objection:
    """An objection to a notice; ``finding`` is ``None`` until it is investigated."""

    objection_id: str
    notice_id: str
    subject_id: str
    received_on: date
    late: bool
    finding: str | None = None

    @property
    def is_open(self) -> bool:
        return self.finding is None


def _notices(state: DomainState) -> Table[str, Notice]:
    return state.table(NOTICES)


def _objections(state: DomainState) -> Table[str, Objection]:
    return state.table(OBJECTIONS)


# --- queries -----------------------------------------------------------------------------


def notice(state: DomainState, notice_id: str) -> Notice | None:
    """The notice ``notice_id``, or ``None`` if it was never posted."""
    return _notices(state).get(notice_id)


def objection(state: DomainState, objection_id: str) -> Objection | None:
    """The objection ``objection_id``, or ``None``."""
    return _objections(state).get(objection_id)


def objections_about(state: DomainState, found: Notice, subject_id: str) -> list[Objection]:
    """The objections on ``found`` that concern ``subject_id``.

    An objection naming something that is not one of the notice's subjects is taken as an
    objection to the whole notice, so it concerns every subject.
    """
    table = _objections(state)
    concerning = []
    for objection_id in found.objection_ids:
        item = table[objection_id]
        if item.subject_id == subject_id or item.subject_id not in found.subject_ids:
            concerning.append(item)
    return concerning


def window_days(start: date, end: date) -> int:
    """Length of a notice window in calendar days, both ends included (§5.13)."""
    return (end - start).days + 1


def require_window(event: DomainEvent, minimum_days: int) -> None:
    """APP-7: a ``PublicNoticePosted`` stays up at least ``minimum_days`` calendar days."""
    start = parse_date(event.payload["start_date"])
    end = parse_date(event.payload["end_date"])
    days = window_days(start, end)
    require(
        days >= minimum_days,
        "APP-7",
        f"the notice is up for {days} day(s) ({start} to {end}); at least {minimum_days} "
        "are required",
        start_date=str(start),
        end_date=str(end),
        window_days=days,
        minimum_days=minimum_days,
    )


# --- PublicNoticePosted ----------------------------------------------------------------------


def decide_notice_posted(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A new notice, on its own stream, posted at a registered place the actor covers."""
    p = event.payload
    require(
        p["notice_id"] == event.stream_id and notice(state, p["notice_id"]) is None,
        "ENV-7",
        f"notice {p['notice_id']} is posted once, on the stream named by its id",
        notice_id=p["notice_id"],
        stream_id=event.stream_id,
    )
    require(
        directory.org_exists(p["location_org_id"]),
        "ENV-8",
        f"notice location {p['location_org_id']} is not a registered organisation",
        location_org_id=p["location_org_id"],
    )
    require_scope(directory, event, p["location_org_id"])
    require_window(event, 1)


def apply_notice_posted(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _notices(state).put(
        p["notice_id"],
        Notice(
            notice_id=p["notice_id"],
            kind=p["kind"],
            subject_ids=tuple(p["subject_ids"]),
            location_org_id=p["location_org_id"],
            start_date=parse_date(p["start_date"]),
            end_date=parse_date(p["end_date"]),
            posted_event_id=event.event_id,
            posted_position=event.position,
        ),
    )


# --- ObjectionReceived (fact) ----------------------------------------------------------------


def apply_objection_received(state: DomainState, event: DomainEvent) -> None:
    """Record the objection; flag it late when it came outside the window or after closing.

    A repeated objection id keeps the first record (the log still holds both events).
    """
    p = event.payload
    if objection(state, p["objection_id"]) is not None:
        return
    found = notice(state, event.stream_id)
    received_on = parse_date(p["received_on"])
    _objections(state).put(
        p["objection_id"],
        Objection(
            objection_id=p["objection_id"],
            notice_id=event.stream_id,
            subject_id=p["subject_id"],
            received_on=received_on,
            late=_is_late(found, received_on),
        ),
    )
    if found is not None:
        _notices(state).put(
            found.notice_id,
            replace(found, objection_ids=(*found.objection_ids, p["objection_id"])),
        )


def _is_late(found: Notice | None, received_on: date) -> bool:
    if found is None or found.closed_on is not None:
        return True
    return not found.start_date <= received_on <= found.end_date


# --- ObjectionInvestigated -------------------------------------------------------------------


def decide_objection_investigated(
    state: DomainState, directory: Directory, event: DomainEvent
) -> None:
    """The objection was received on this notice and is still open."""
    found = require_objection_on_notice(state, event)
    require(
        found.is_open,
        "ENV-7",
        f"objection {found.objection_id} was already investigated ({found.finding})",
        objection_id=found.objection_id,
        finding=found.finding,
    )
    posted = notice(state, event.stream_id)
    if posted is not None:
        require_scope(directory, event, posted.location_org_id)


def require_objection_on_notice(state: DomainState, event: DomainEvent) -> Objection:
    """The objection an ``ObjectionInvestigated`` names, which must belong to its notice."""
    objection_id = event.payload["objection_id"]
    found = objection(state, objection_id)
    if found is None or found.notice_id != event.stream_id:
        raise refuse(
            "ENV-8",
            f"no objection {objection_id} was received on notice {event.stream_id}",
            objection_id=objection_id,
            notice_id=event.stream_id,
        )
    return found


def apply_objection_investigated(state: DomainState, event: DomainEvent) -> None:
    found = _objections(state)[event.payload["objection_id"]]
    _objections(state).put(found.objection_id, replace(found, finding=event.payload["finding"]))


# --- PublicNoticeClosed ----------------------------------------------------------------------


def decide_notice_closed(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """An open notice is closed only after its window ended, and not on a future date."""
    found = require_notice(state, event.stream_id)
    require(
        not found.is_closed,
        "ENV-7",
        f"notice {found.notice_id} was already closed on {found.closed_on}",
        notice_id=found.notice_id,
    )
    require_scope(directory, event, found.location_org_id)
    closed_on = parse_date(event.payload["closed_on"])
    code = "TRM-1" if found.kind == TERMINATION else "APP-7"
    require(
        found.end_date < closed_on <= event.day,
        code,
        f"notice {found.notice_id} ends on {found.end_date}; it can be closed from the next "
        f"day, and not on a date still to come (closed_on {closed_on}, today {event.day})",
        notice_id=found.notice_id,
        end_date=str(found.end_date),
        closed_on=str(closed_on),
        business_date=str(event.day),
    )


def require_notice(state: DomainState, notice_id: str) -> Notice:
    """The notice ``notice_id``; refuses with ENV-8 when it was never posted."""
    found = notice(state, notice_id)
    if found is None:
        raise refuse("ENV-8", f"notice {notice_id} was never posted", notice_id=notice_id)
    return found


def apply_notice_closed(state: DomainState, event: DomainEvent) -> None:
    """Close the notice and keep how many objections were still open at that moment."""
    found = _notices(state)[event.stream_id]
    table = _objections(state)
    unresolved = sum(1 for i in found.objection_ids if table[i].is_open)
    _notices(state).put(
        found.notice_id,
        replace(
            found,
            closed_on=parse_date(event.payload["closed_on"]),
            unresolved_at_close=unresolved,
        ),
    )


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register("PublicNoticePosted", apply=apply_notice_posted, decide=decide_notice_posted)
    rules.register("ObjectionReceived", apply=apply_objection_received)
    rules.register(
        "ObjectionInvestigated",
        apply=apply_objection_investigated,
        decide=decide_objection_investigated,
    )
    rules.register("PublicNoticeClosed", apply=apply_notice_closed, decide=decide_notice_closed)
