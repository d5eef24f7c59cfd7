"""The rectification tracker (``domain.md`` §6.5 ``RectificationTracker``), bitemporal.

One row per supervision or rectification notice (key ``notice_id`` = the
``supervision_notice`` stream id), following the W13 lifecycle (§4.13)::

    ISSUED → RESPONDED → VERIFIED_PASSED (closed)
                       → VERIFIED_FAILED → RESPONDED (a new report) …
    any open state → REISSUED (反复督办: the successor notice continues the case)

``SupervisionNoticeReissued`` is appended on the *new* notice's stream and names the
previous notice: it opens the new row (inheriting kind, target and findings) and closes the
previous one (``superseded_by``, ``closed_on``). ``EscalationDue`` expectations whose
``subject`` is a notice are listed on it.

Overdue is not stored: it depends on the date asked about. :func:`overdue_on` and
:func:`escalation_step_on` evaluate a row as of a date with the domain's ladder
(:func:`ledger.domain.escalation.rectification_due`, EX-ESC-2). The issue date is the date
of the log entry (``recorded_at``, UTC), since the event carries only the deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Self

import orjson

from ledger.domain.escalation import (
    DEFAULT_POLICY,
    EscalationPolicy,
    NoticeTrack,
    rectification_due,
)
from ledger.projections.base import Projection, State
from ledger.projections.events import Event
from ledger.projections.inspections import json_text
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table

UNISSUED = "UNISSUED"
ISSUED = "ISSUED"
RESPONDED = "RESPONDED"
VERIFIED_PASSED = "VERIFIED_PASSED"
VERIFIED_FAILED = "VERIFIED_FAILED"
REISSUED = "REISSUED"
STATUSES = (UNISSUED, ISSUED, RESPONDED, VERIFIED_PASSED, VERIFIED_FAILED, REISSUED)
CLOSED = frozenset({VERIFIED_PASSED, REISSUED})


@dataclass(slots=True)
class NoticeRow:
    """One notice as known at some log position."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("notice_id", "TEXT NOT NULL"),
        ("kind", "TEXT"),
        ("target_org_id", "TEXT"),
        ("finding_ids", "TEXT NOT NULL"),
        ("status", "TEXT NOT NULL"),
        ("issued_on", "TEXT"),
        ("original_deadline", "TEXT"),
        ("deadline", "TEXT"),
        ("extensions", "BIGINT NOT NULL"),
        ("reports", "BIGINT NOT NULL"),
        ("first_reported_at", "TEXT"),
        ("last_reported_at", "TEXT"),
        ("failed_verifications", "TEXT NOT NULL"),
        ("passed_on", "TEXT"),
        ("previous_notice_id", "TEXT"),
        ("superseded_by", "TEXT"),
        ("closed_on", "TEXT"),
        ("escalations_due", "TEXT NOT NULL"),
    )

    notice_id: str
    kind: str | None = None
    target_org_id: str | None = None
    finding_ids: str = "[]"
    status: str = UNISSUED
    issued_on: str | None = None
    original_deadline: str | None = None
    deadline: str | None = None
    extensions: int = 0
    reports: int = 0
    first_reported_at: str | None = None
    last_reported_at: str | None = None
    failed_verifications: str = "[]"
    passed_on: str | None = None
    previous_notice_id: str | None = None
    superseded_by: str | None = None
    closed_on: str | None = None
    escalations_due: str = "[]"
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)

    def reported_late(self) -> bool:
        """The first report came after the deadline in force."""
        if self.first_reported_at is None or self.deadline is None:
            return False
        return self.first_reported_at > self.deadline


NOTICES = Table(
    "proj_rectifications",
    NoticeRow,
    versioned=True,
    indexes=(
        "(status, notice_id) WHERE known_to IS NULL",
        "(target_org_id, notice_id) WHERE known_to IS NULL",
    ),
)


def overdue_on(row: NoticeRow, on: date) -> bool:
    """The deadline passed before ``on`` and the notice was not closed (PASSED or replaced by
    a reissue) by ``on``."""
    if row.deadline is None or on <= date.fromisoformat(row.deadline):
        return False
    return row.closed_on is None or date.fromisoformat(row.closed_on) > on


def escalation_step_on(
    row: NoticeRow, on: date, policy: EscalationPolicy = DEFAULT_POLICY
) -> tuple[str, str] | None:
    """``(step, due_from)`` of the rectification ladder due on ``on`` (EX-ESC-2), or ``None``.

    A notice replaced by a reissue stops escalating on the reissue date: its successor
    carries the case on with its own deadline.
    """
    if row.deadline is None:
        return None
    if (
        row.status == REISSUED
        and row.closed_on is not None
        and date.fromisoformat(row.closed_on) <= on
    ):
        return None
    track = NoticeTrack(
        deadline=date.fromisoformat(row.deadline),
        passed_on=date.fromisoformat(row.passed_on) if row.passed_on else None,
        failed_verifications=tuple(
            date.fromisoformat(d) for d in orjson.loads(row.failed_verifications)
        ),
    )
    due = rectification_due(track, on, policy)
    return None if due is None else (str(due.step), due.due_from.isoformat())


class RectificationState(State):
    """The working copy of the tracker."""

    def __init__(self, notices: Rows[NoticeRow]) -> None:
        self.notices = notices

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.notices,)

    def row(self, notice_id: str) -> NoticeRow:
        """The notice's row; an UNISSUED one when a fact names an unknown notice."""
        row = self.notices.get(notice_id)
        if row is None:
            row = NoticeRow(notice_id)
            self.notices.rows[notice_id] = row
        return row

    def changed(self, row: NoticeRow, index: int) -> None:
        self.notices.touch(row.notice_id, index)


# --------------------------------------------------------------------------- pure folds


def _issued(state: RectificationState, ev: Event) -> None:
    p = ev.payload
    row = state.row(ev.stream_id)
    row.kind = p.get("kind")
    row.target_org_id = p.get("target_org_id")
    row.finding_ids = json_text(sorted(p.get("finding_ids") or []))
    row.status = ISSUED
    row.issued_on = ev.recorded_at[:10]
    row.original_deadline = row.deadline = p.get("deadline")
    state.changed(row, ev.index)


def _reported(state: RectificationState, ev: Event) -> None:
    row = state.row(ev.stream_id)
    reported_at = ev.payload.get("reported_at")
    row.reports += 1
    row.first_reported_at = row.first_reported_at or reported_at
    row.last_reported_at = reported_at
    if row.status not in CLOSED:
        row.status = RESPONDED
    state.changed(row, ev.index)


def _verified(state: RectificationState, ev: Event) -> None:
    row = state.row(ev.stream_id)
    verified_at = str(ev.payload.get("verified_at"))
    if ev.payload.get("result") == "PASSED":
        row.passed_on = row.passed_on or verified_at
        row.closed_on = row.closed_on or verified_at
        if row.status != REISSUED:
            row.status = VERIFIED_PASSED
    else:
        failed = sorted({*orjson.loads(row.failed_verifications), verified_at})
        row.failed_verifications = json_text(failed)
        if row.status not in CLOSED:
            row.status = VERIFIED_FAILED
    state.changed(row, ev.index)


def _extended(state: RectificationState, ev: Event) -> None:
    row = state.row(ev.stream_id)
    row.deadline = ev.payload.get("new_deadline")
    row.extensions += 1
    state.changed(row, ev.index)


def _reissued(state: RectificationState, ev: Event) -> None:
    p = ev.payload
    previous_id = str(p.get("previous_notice_id"))
    previous = state.row(previous_id)
    row = state.row(ev.stream_id)
    row.kind = previous.kind
    row.target_org_id = previous.target_org_id
    row.finding_ids = previous.finding_ids
    row.status = ISSUED
    row.issued_on = ev.recorded_at[:10]
    row.original_deadline = row.deadline = p.get("new_deadline")
    row.previous_notice_id = previous_id
    state.changed(row, ev.index)
    previous.superseded_by = ev.stream_id
    if previous.status != VERIFIED_PASSED:
        previous.status = REISSUED
        previous.closed_on = previous.closed_on or row.issued_on
    state.changed(previous, ev.index)


def _escalation_due(state: RectificationState, ev: Event) -> None:
    p = ev.payload
    row = state.notices.get(str(p.get("subject")))
    if row is None:
        return  # a ladder about something else (monthly rankings, street repeats)
    dues = orjson.loads(row.escalations_due)
    dues.append({"ladder": p.get("ladder"), "step": p.get("step"), "due_by": p.get("due_by")})
    row.escalations_due = json_text(dues)
    state.changed(row, ev.index)


RECTIFICATION_FOLDS: dict[str, Callable[[RectificationState, Event], None]] = {
    "SupervisionNoticeIssued": _issued,
    "RectificationReported": _reported,
    "RectificationVerified": _verified,
    "RectificationDeadlineExtended": _extended,
    "SupervisionNoticeReissued": _reissued,
    "EscalationDue": _escalation_due,
}


class RectificationTrackerProjection(Projection[RectificationState]):
    """The ``RectificationTracker`` projection."""

    name = "rectifications"
    version = 1
    types = frozenset(RECTIFICATION_FOLDS)
    tables = (NOTICES,)

    def empty(self) -> RectificationState:
        return RectificationState(Rows(NOTICES))

    def load(self, tx: Tx, events: Sequence[Event]) -> RectificationState:
        ids: set[str] = set()
        for ev in events:
            if ev.stream_type == "supervision_notice":
                ids.add(ev.stream_id)
            for name in ("previous_notice_id", "subject"):
                if name in ev.payload:
                    ids.add(str(ev.payload[name]))
        return RectificationState(Rows(NOTICES, NOTICES.load(tx, ids)))

    def fold(self, state: RectificationState, event: Event) -> None:
        handler = RECTIFICATION_FOLDS.get(event.event_type)
        if handler is not None:
            handler(state, event)
