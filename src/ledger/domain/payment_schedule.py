"""Payments on time (按时, ``domain.md`` §4.2 step 2.4, §7.3 ``AF-PAY-LATE``).

A programme publishes when its instalments are due (``PaymentDueDatePublished``: a day of the
first month of each period, in force from a period on). The bank's settlement is a fact and is
always recorded (§4.0); when its ``value_date`` is after the due date of the line's period, the
soft invariant "value date ≤ due date" is broken and the accepted settlement raises
``AF-PAY-LATE``. A programme without a published schedule is not checked (no constant
stands in for a missing rule).

Stream: ``payment_schedule`` / programme code. Table: ``payment.due_days`` (programme code →
((effective_from, due_day, event_id), …) in publication order).
"""

from __future__ import annotations

from datetime import date

from ledger.domain import payments
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    Table,
    note_soft_finding,
    require,
)
from ledger.domain.periods import Period, parse_date

DUE_DAYS = "payment.due_days"

Schedule = tuple[tuple[Period, int, str], ...]


def _due_days(state: DomainState) -> Table[str, Schedule]:
    return state.table(DUE_DAYS)


def due_date(state: DomainState, programme_code: str, period: Period) -> tuple[date, str] | None:
    """The due date of ``period``'s instalment and the schedule event it comes from."""
    chosen: tuple[Period, int, str] | None = None
    for entry in _due_days(state).get(programme_code) or ():
        # The latest effective month wins; for equal months, the later publication.
        if entry[0] <= period and (chosen is None or entry[0] >= chosen[0]):
            chosen = entry
    if chosen is None:
        return None
    return date(period.year, period.month, chosen[1]), chosen[2]


def decide_published(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """For a defined programme, on that programme's stream."""
    code = event.payload["programme_code"]
    require(
        event.stream_id == code,
        "ENV-8",
        f"the due dates of {code} go on payment_schedule stream {code}, not {event.stream_id}",
        programme_code=code,
    )
    require(
        payments.programme(state, code) is not None,
        "ENV-8",
        f"programme {code} is not defined",
    )


def apply_published(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    entry = (Period.parse(p["effective_from"]), p["due_day"], event.event_id)
    table = _due_days(state)
    table.put(p["programme_code"], (*(table.get(p["programme_code"]) or ()), entry))


def apply_settled(state: DomainState, event: DomainEvent) -> None:
    """W2.4 soft invariant: the value date is not after the period's due date."""
    line = payments.line(state, event.payload["line_id"])
    if line is None:
        return  # a settlement of a line never authorised is AF-PAY-UNAUTHORISED's
    found = due_date(state, line.programme_code, line.period)
    if found is None:
        return
    due, schedule_event_id = found
    valued = parse_date(event.payload["value_date"])
    if valued > due:
        note_soft_finding(
            state,
            event,
            "W2.4",
            "AF-PAY-LATE",
            f"line {line.line_id} for {line.period} was paid on {valued}, "
            f"{(valued - due).days} days after its due date {due}",
            line_id=line.line_id,
            enrolment_id=line.enrolment_id,
            period=str(line.period),
            due_date=due.isoformat(),
            value_date=valued.isoformat(),
            schedule_event_id=schedule_event_id,
        )


def register(rules: Rules) -> None:
    """Add this module's functions to ``rules`` (after :mod:`payments`, which owns the lines)."""
    rules.register("PaymentDueDatePublished", apply=apply_published, decide=decide_published)
    rules.register("PaymentSettled", apply=apply_settled)
