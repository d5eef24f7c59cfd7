"""Supervision detector (``domain.md`` §7.7): ``AF-ESC-NOT-APPLIED`` for rectification notices.

For each notice, the rectification ladder (:func:`ledger.domain.escalation.rectification_due`)
says which step is due on the clock date: a criticism the day after a missed deadline, an
accountability referral after a failed verification past it. The step is *applied* when an
escalation decision of that step's type — or, for a due criticism, any escalation — cites an
event of the notice (its issue, report, verification or extension) among its
``cause_event_ids``. A step still unapplied ``grace_working_days`` after it fell due is a
finding, one per (notice, step).

A notice replaced by ``SupervisionNoticeReissued`` (反复督办) is escalated by that very act;
its successor carries the case on with its own deadline.

The ladder's parameters are :data:`~ledger.domain.escalation.DEFAULT_POLICY` (§5.12) until an
escalation-policy configuration event exists; the finding cites which.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from ledger.domain.escalation import (
    DEFAULT_POLICY,
    STEP_EVENT_TYPES,
    EscalationPolicy,
    NoticeTrack,
    Step,
    rectification_due,
)
from ledger.domain.model import DomainEvent
from ledger.domain.periods import parse_date
from ledger.findings.model import Detector, Finding, add_working_days

ESCALATIONS = frozenset(
    {
        "CriticismIssued",
        "WarningIssued",
        "AccountabilityReferred",
        "AdmonitionHeld",
        "PublicSelfCriticismRequired",
    }
)


@dataclass
class _Notice:
    notice_id: str
    target_org_id: str
    deadline: date
    event_ids: list[str]
    passed_on: date | None = None
    failed: list[date] = field(default_factory=list)
    superseded: bool = False
    applied: dict[str, str] = field(default_factory=dict)
    """Escalation event type → the first event of that type citing this notice."""


class EscalationNotApplied(Detector):
    """``AF-ESC-NOT-APPLIED`` on the rectification ladder (see module docstring)."""

    name = "rectification-escalation"
    version = 1
    types = ESCALATIONS | {
        "SupervisionNoticeIssued",
        "RectificationReported",
        "RectificationVerified",
        "RectificationDeadlineExtended",
        "SupervisionNoticeReissued",
    }

    def __init__(self, policy: EscalationPolicy = DEFAULT_POLICY) -> None:
        self.policy = policy
        self._notices: dict[str, _Notice] = {}
        self._by_event: dict[str, str] = {}
        """Event id of a notice's event → notice id (what an escalation may cite)."""

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind in ESCALATIONS:
            self._escalated(event)
            return
        if kind == "SupervisionNoticeIssued":
            self._add(p["notice_id"], p["target_org_id"], parse_date(p["deadline"]), event)
            return
        if kind == "SupervisionNoticeReissued":
            previous = self._notices.get(p["previous_notice_id"])
            if previous is not None:
                previous.superseded = True
                self._add(
                    p["notice_id"], previous.target_org_id, parse_date(p["new_deadline"]), event
                )
            return
        notice = self._notices.get(event.stream_id)
        if notice is None:
            return
        self._link(notice, event.event_id)
        if kind == "RectificationDeadlineExtended":
            notice.deadline = parse_date(p["new_deadline"])
        elif kind == "RectificationVerified":
            verified = parse_date(p["verified_at"])
            if p["result"] == "PASSED":
                notice.passed_on = verified
            else:
                notice.failed.append(verified)

    def _add(self, notice_id: str, target: str, deadline: date, event: DomainEvent) -> None:
        notice = _Notice(notice_id, target, deadline, [])
        self._notices[notice_id] = notice
        self._link(notice, event.event_id)

    def _link(self, notice: _Notice, event_id: str) -> None:
        notice.event_ids.append(event_id)
        self._by_event[event_id] = notice.notice_id

    def _escalated(self, event: DomainEvent) -> None:
        for cause in event.payload.get("cause_event_ids", ()):
            notice_id = self._by_event.get(cause)
            if notice_id is not None:
                self._notices[notice_id].applied.setdefault(event.event_type, event.event_id)

    def findings(self, clock: date) -> Iterator[Finding]:
        for notice in self._notices.values():
            if notice.superseded:
                continue
            track = NoticeTrack(notice.deadline, notice.passed_on, tuple(notice.failed))
            due = rectification_due(track, clock, self.policy)
            if due is None or self._applied(notice, due.step):
                continue
            overdue_from = add_working_days(due.due_from, self.policy.grace_working_days)
            if clock <= overdue_from:
                continue
            yield self.finding(
                "AF-ESC-NOT-APPLIED",
                [notice.notice_id, due.step.value],
                notice.event_ids,
                f"notice {notice.notice_id} to {notice.target_org_id}: deadline "
                f"{notice.deadline} passed without rectification; {due.step.value} was due "
                f"from {due.due_from} and is still not applied after "
                f"{self.policy.grace_working_days} working days",
                rule_ref="escalation.DEFAULT_POLICY (domain.md §5.12, RECTIFICATION)",
                period=f"{notice.deadline:%Y-%m}",
                admin_unit_id=notice.target_org_id,
            )

    @staticmethod
    def _applied(notice: _Notice, step: Step) -> bool:
        if step is Step.CRITICISM:
            return bool(notice.applied)
        return STEP_EVENT_TYPES[step] in notice.applied
