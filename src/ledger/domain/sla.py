"""Working-day deadlines of W1 and W5 (``domain.md`` §4.1, §4.5, §5.13; APP-9, TRM-3).

The deadlines are *soft*: a late opinion, decision or notice is recorded like any other, and
the breach is noted (:func:`~ledger.domain.model.note_soft_finding`) so that the detectors
raise ``AF-APP-SLA`` citing it. The clocks (§7.2):

* acceptance → preliminary opinion: ``investigation_working_days`` of the programme (10);
* upheld objection to a preliminary opinion → the new opinion: the same
  ``investigation_working_days``, counted from the objection's receipt (§4.1 step 1.9);
* forwarding → county approval or rejection: ``county_working_days`` (10);
* rejection → written notice (``DecisionNotified``): ``rejection_notice_working_days`` (3);
* objection to a termination notice → termination decided or withdrawn:
  ``termination_decision_working_days`` (15).

The first two come from ``ProgrammeDefined``; the other two from ``ServiceLevelsPublished``,
else the documented defaults of :class:`ServiceLevels` (004 篇十五; §4.5 step 5.5 ``[I]``).

Working days follow the published ``WorkingDayCalendarPublished`` of each year (holidays off,
exchanged weekend days on); a year without a calendar counts Monday to Friday. A period
starts on the day *after* its trigger (§5.13).

This module only adds apply functions beside the owners' (:mod:`applications`,
:mod:`notices`, :mod:`enrolments`): it keeps its own clocks and never changes theirs.

Tables: ``sla.calendars`` (year → :class:`Calendar`), ``sla.programme_days`` (programme code
→ :class:`ProgrammeDays`), ``sla.service_levels`` (programme code → :class:`ServiceLevels`),
``sla.clocks`` (application id → :class:`Clock`), ``sla.objections`` (enrolment id →
:class:`PendingObjection`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from ledger.domain import applications, enrolments, notices
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    Table,
    note_soft_finding,
    require,
)
from ledger.domain.periods import parse_date

CALENDARS = "sla.calendars"
PROGRAMME_DAYS = "sla.programme_days"
SERVICE_LEVELS = "sla.service_levels"
CLOCKS = "sla.clocks"
OBJECTIONS = "sla.objections"

FINDING = "AF-APP-SLA"
SATURDAY = 5


# --- working days --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Calendar:
    """One year's published working-day calendar."""

    year: int
    holidays: frozenset[date]
    extra_working_days: frozenset[date]
    event_id: str


def is_working_day(day: date, calendars: Mapping[int, Calendar]) -> bool:
    """Monday to Friday, unless the year's calendar makes ``day`` a holiday or a workday."""
    calendar = calendars.get(day.year)
    if calendar is not None:
        if day in calendar.extra_working_days:
            return True
        if day in calendar.holidays:
            return False
    return day.weekday() < SATURDAY


def add_working_days(start: date, days: int, calendars: Mapping[int, Calendar]) -> date:
    """The last day of a period of ``days`` working days after ``start`` (§5.13: the period
    starts the day after its trigger).

    >>> add_working_days(date(2024, 3, 4), 10, {})
    datetime.date(2024, 3, 18)
    """
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, calendars):
            left -= 1
    return day


def calendars_of(state: DomainState) -> dict[int, Calendar]:
    """Every published calendar, by year."""
    return dict(_calendars(state).items())


def due_date(state: DomainState, start: date, days: int) -> date:
    """``start`` plus ``days`` working days on the published calendars."""
    return add_working_days(start, days, calendars_of(state))


# --- configuration -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgrammeDays:
    """The W1 deadlines of ``ProgrammeDefined`` (the latest one in force)."""

    investigation: int
    county: int
    event_id: str


@dataclass(frozen=True, slots=True)
class ServiceLevels:
    """The deadlines of ``ServiceLevelsPublished``; the defaults are 004 篇十五's (rejection
    notice: 3 working days, N-WB-20) and §4.5 step 5.3's (termination decision: 15)."""

    rejection_notice: int = 3
    termination_decision: int = 15
    event_id: str | None = None
    """``None``: the documented defaults (no ``ServiceLevelsPublished`` for the programme)."""


DEFAULT_LEVELS = ServiceLevels()


def _calendars(state: DomainState) -> Table[int, Calendar]:
    return state.table(CALENDARS)


def _programme_days(state: DomainState) -> Table[str, ProgrammeDays]:
    return state.table(PROGRAMME_DAYS)


def _levels(state: DomainState) -> Table[str, ServiceLevels]:
    return state.table(SERVICE_LEVELS)


def service_levels(state: DomainState, programme_code: str) -> ServiceLevels:
    """The published service levels of a programme, else the documented defaults."""
    return _levels(state).get(programme_code) or DEFAULT_LEVELS


def decide_calendar(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """Every date lies in the calendar's year (the stream id), and no date is both a holiday
    and a working day."""
    del state
    p = event.payload
    require(
        event.stream_id == str(p["year"]),
        "ENV-8",
        f"the {p['year']} calendar goes on calendar stream {p['year']}, not {event.stream_id}",
        year=p["year"],
    )
    dates = [parse_date(d) for d in (*p["holidays"], *p["extra_working_days"])]
    outside = sorted(str(d) for d in dates if d.year != p["year"])
    require(
        not outside,
        "ENV-5",
        f"the {p['year']} calendar lists days of another year: {', '.join(outside)}",
        outside=outside,
    )
    both = sorted(set(p["holidays"]) & set(p["extra_working_days"]))
    require(not both, "ENV-5", f"{', '.join(both)} both a holiday and a working day", both=both)


def apply_calendar(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _calendars(state).put(
        p["year"],
        Calendar(
            year=p["year"],
            holidays=frozenset(parse_date(d) for d in p["holidays"]),
            extra_working_days=frozenset(parse_date(d) for d in p["extra_working_days"]),
            event_id=event.event_id,
        ),
    )


def apply_programme_defined(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _programme_days(state).put(
        p["programme_code"],
        ProgrammeDays(p["investigation_working_days"], p["county_working_days"], event.event_id),
    )


def decide_levels(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """Published for a defined programme, on that programme's stream."""
    code = event.payload["programme_code"]
    require(
        event.stream_id == code,
        "ENV-8",
        f"service levels of {code} go on service_levels stream {code}, not {event.stream_id}",
        programme_code=code,
    )
    require(
        code in _programme_days(state),
        "ENV-8",
        f"programme {code} has not been defined",
        programme_code=code,
    )


def apply_levels(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _levels(state).put(
        p["programme_code"],
        ServiceLevels(
            rejection_notice=p["rejection_notice_working_days"],
            termination_decision=p["termination_decision_working_days"],
            event_id=event.event_id,
        ),
    )


# --- APP-9: the application clocks ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clock:
    """When the running W1 clocks of one application started."""

    programme_code: str
    accepted_on: date | None = None
    """Set by the acceptance; cleared by the first opinion that answers it."""
    forwarded_on: date | None = None
    rejection_event_id: str | None = None
    rejected_on: date | None = None
    objected_on: date | None = None
    """Receipt of the earliest upheld objection not yet answered by a new opinion."""
    objection_id: str | None = None


def _clocks(state: DomainState) -> Table[str, Clock]:
    return state.table(CLOCKS)


def _clock(state: DomainState, application_id: str) -> Clock | None:
    found = _clocks(state).get(application_id)
    if found is not None:
        return found
    case = applications.application(state, application_id)
    return None if case is None else Clock(case.programme_code)


def _late(  # noqa: PLR0917 - the rule, its clock and the limit's source, all cited
    state: DomainState,
    event: DomainEvent,
    rule: str,
    what: str,
    start: date,
    days: int,
    source: str | None,
    **evidence: Any,
) -> None:
    """Note ``rule`` if ``event`` comes after ``days`` working days from ``start``."""
    due = due_date(state, start, days)
    if event.day <= due:
        return
    note_soft_finding(
        state,
        event,
        rule,
        FINDING,
        f"{what} on {event.day}, due by {due} ({days} working days from {start})",
        started_on=start.isoformat(),
        due=due.isoformat(),
        day=event.day.isoformat(),
        working_days=days,
        limit_event_id=source,
        **evidence,
    )


def apply_accepted(state: DomainState, event: DomainEvent) -> None:
    clock = _clock(state, event.stream_id)
    if clock is not None:
        _clocks(state).put(event.stream_id, replace(clock, accepted_on=event.day))


def apply_opinion(state: DomainState, event: DomainEvent) -> None:
    """Investigation plus opinion within ``investigation_working_days`` of acceptance, or of
    the receipt of an upheld objection (a new opinion)."""
    clock = _clock(state, event.stream_id)
    if clock is None:
        return
    days = _programme_days(state).get(clock.programme_code)
    if days is not None and clock.accepted_on is not None:
        _late(
            state,
            event,
            "APP-9",
            "preliminary opinion",
            clock.accepted_on,
            days.investigation,
            days.event_id,
            application_id=event.stream_id,
        )
    elif days is not None and clock.objected_on is not None:
        _late(
            state,
            event,
            "APP-9",
            "new preliminary opinion after an upheld objection",
            clock.objected_on,
            days.investigation,
            days.event_id,
            application_id=event.stream_id,
            objection_id=clock.objection_id,
        )
    _clocks(state).put(
        event.stream_id, replace(clock, accepted_on=None, objected_on=None, objection_id=None)
    )


def _subjects(found: notices.Notice, subject_id: str) -> tuple[str, ...]:
    """An objection naming no subject of its notice concerns them all (as in notices)."""
    return (subject_id,) if subject_id in found.subject_ids else found.subject_ids


def apply_objection_investigated(state: DomainState, event: DomainEvent) -> None:
    """An upheld objection to a preliminary opinion starts the new opinion's clock."""
    found = notices.objection(state, event.payload["objection_id"])
    posted = notices.notice(state, event.stream_id)
    if found is None or posted is None or found.finding != notices.UPHELD:
        return
    if posted.kind != notices.PRELIMINARY_OPINION:
        return
    for application_id in _subjects(posted, found.subject_id):
        clock = _clock(state, application_id)
        if clock is None:
            continue
        if clock.objected_on is None or found.received_on < clock.objected_on:
            clock = replace(clock, objected_on=found.received_on, objection_id=found.objection_id)
        _clocks(state).put(application_id, clock)


def apply_forwarded(state: DomainState, event: DomainEvent) -> None:
    clock = _clock(state, event.stream_id)
    if clock is not None:
        _clocks(state).put(event.stream_id, replace(clock, forwarded_on=event.day))


def apply_county_decision(state: DomainState, event: DomainEvent) -> None:
    """Approval or rejection within ``county_working_days`` of forwarding."""
    clock = _clock(state, event.stream_id)
    if clock is None:
        return
    days = _programme_days(state).get(clock.programme_code)
    if clock.forwarded_on is not None and days is not None:
        _late(
            state,
            event,
            "APP-9",
            "county decision",
            clock.forwarded_on,
            days.county,
            days.event_id,
            application_id=event.stream_id,
        )
    if event.event_type == "ApplicationRejected":
        clock = replace(clock, rejection_event_id=event.event_id, rejected_on=event.day)
    _clocks(state).put(event.stream_id, replace(clock, forwarded_on=None))


def apply_notified(state: DomainState, event: DomainEvent) -> None:
    """The written notice of a rejection within ``rejection_notice_working_days``."""
    clock = _clock(state, event.stream_id)
    if clock is None or clock.rejected_on is None:
        return
    if event.payload["decision_event_id"] != clock.rejection_event_id:
        return
    levels = service_levels(state, clock.programme_code)
    _late(
        state,
        event,
        "APP-9",
        "rejection notice",
        clock.rejected_on,
        levels.rejection_notice,
        levels.event_id,
        application_id=event.stream_id,
        decision_event_id=clock.rejection_event_id,
    )
    _clocks(state).put(event.stream_id, replace(clock, rejected_on=None))


# --- TRM-3: objections to a termination ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingObjection:
    """The earliest objection to an enrolment's termination not yet answered by a decision."""

    objection_id: str
    received_on: date
    event_id: str


def _objections(state: DomainState) -> Table[str, PendingObjection]:
    return state.table(OBJECTIONS)


def apply_objection(state: DomainState, event: DomainEvent) -> None:
    """Start the 15-working-day clock of an objection to a termination notice."""
    found = notices.notice(state, event.stream_id)
    if found is None or found.kind != notices.TERMINATION:
        return
    for subject in _subjects(found, event.payload["subject_id"]):
        if subject in _objections(state):
            continue  # the earliest unanswered objection sets the deadline
        _objections(state).put(
            subject,
            PendingObjection(
                event.payload["objection_id"],
                parse_date(event.payload["received_on"]),
                event.event_id,
            ),
        )


def _enrolment_programme(state: DomainState, enrolment_id: str) -> str | None:
    found = enrolments.enrolment(state, enrolment_id)
    return None if found is None else found.programme_code


def apply_termination_answered(state: DomainState, event: DomainEvent) -> None:
    """A termination decided or withdrawn within the deadline of the earliest objection."""
    pending = _objections(state).get(event.stream_id)
    if pending is None:
        return
    code = _enrolment_programme(state, event.stream_id)
    levels = DEFAULT_LEVELS if code is None else service_levels(state, code)
    _late(
        state,
        event,
        "TRM-3",
        "termination decision after an objection",
        pending.received_on,
        levels.termination_decision,
        levels.event_id,
        enrolment_id=event.stream_id,
        objection_id=pending.objection_id,
        objection_event_id=pending.event_id,
    )
    _objections(state).delete(event.stream_id)


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules`` (after the owners')."""
    rules.register("WorkingDayCalendarPublished", apply=apply_calendar, decide=decide_calendar)
    rules.register("ServiceLevelsPublished", apply=apply_levels, decide=decide_levels)
    rules.register("ProgrammeDefined", apply=apply_programme_defined)
    rules.register("ApplicationAccepted", apply=apply_accepted)
    rules.register("PreliminaryOpinionIssued", apply=apply_opinion)
    rules.register("ApplicationForwarded", apply=apply_forwarded)
    rules.register("ApplicationApproved", apply=apply_county_decision)
    rules.register("ApplicationRejected", apply=apply_county_decision)
    rules.register("DecisionNotified", apply=apply_notified)
    rules.register("ObjectionReceived", apply=apply_objection)
    rules.register("ObjectionInvestigated", apply=apply_objection_investigated)
    rules.register("TerminationDecided", apply=apply_termination_answered)
    rules.register("TerminationWithdrawn", apply=apply_termination_answered)
