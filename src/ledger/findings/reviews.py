"""``AF-ELIG-PERIODIC-REVIEW-MISSING`` (``domain.md`` §7.1, M): no annual re-verification of a
特困 person (004 篇十五 "每年都應進行抽查核實").

An enrolment in a 特困 programme (:data:`ledger.domain.standards.TEKUN_PROGRAMMES`) that is still
active (no ``TerminationDecided``) must have a ``PeriodicReviewCompleted`` with review type
``ANNUAL_SPOT_CHECK`` at most 12 months after its enrolment or its previous annual check. A
newly enrolled person is not due before 12 months have passed: the enrolment itself was a full
investigation. One finding per enrolment, citing its enrolment and its last annual check.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from ledger.domain.model import DomainEvent
from ledger.domain.periods import Period
from ledger.domain.standards import TEKUN_PROGRAMMES
from ledger.findings.model import Detector, Finding

REVIEW_MONTHS = 12
"""§7.1: "in the last 12 months"."""


def months_later(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the month's last day if it is shorter)."""
    target = Period.of(day).plus(months)
    last = calendar.monthrange(target.year, target.month)[1]
    return date(target.year, target.month, min(day.day, last))


@dataclass
class _Enrolment:
    admin_unit_id: str
    enrolled_event_id: str
    last_checked: date
    last_check_event_id: str | None = None
    terminated: bool = False


class PeriodicReviewMissing(Detector):
    """``AF-ELIG-PERIODIC-REVIEW-MISSING`` (see module docstring)."""

    name = "periodic-review"
    version = 1
    types = frozenset({"BeneficiaryEnrolled", "PeriodicReviewCompleted", "TerminationDecided"})

    def __init__(self, months: int = REVIEW_MONTHS) -> None:
        self.months = months
        self._enrolments: dict[str, _Enrolment] = {}

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        if event.event_type == "BeneficiaryEnrolled":
            if p["programme_code"] in TEKUN_PROGRAMMES:
                self._enrolments[p["enrolment_id"]] = _Enrolment(
                    event.org_id, event.event_id, event.day
                )
            return
        enrolment = self._enrolments.get(event.stream_id)
        if enrolment is None:
            return
        if event.event_type == "TerminationDecided":
            enrolment.terminated = True
        elif p["review_type"] == "ANNUAL_SPOT_CHECK":
            enrolment.last_checked = max(enrolment.last_checked, event.day)
            enrolment.last_check_event_id = event.event_id

    def findings(self, clock: date) -> Iterator[Finding]:
        for enrolment_id, enrolment in sorted(self._enrolments.items()):
            due = months_later(enrolment.last_checked, self.months)
            if enrolment.terminated or clock <= due:
                continue
            since = (
                f"its last annual check on {enrolment.last_checked}"
                if enrolment.last_check_event_id is not None
                else f"its enrolment on {enrolment.last_checked}"
            )
            evidence = [enrolment.enrolled_event_id]
            if enrolment.last_check_event_id is not None:
                evidence.append(enrolment.last_check_event_id)
            yield self.finding(
                "AF-ELIG-PERIODIC-REVIEW-MISSING",
                [enrolment_id],
                evidence,
                f"enrolment {enrolment_id}: no annual spot check since {since}; one was due "
                f"by {due}",
                rule_ref=f"domain.md §7.1 AF-ELIG-PERIODIC-REVIEW-MISSING ({self.months} "
                "months, 004 篇十五)",
                period=f"{due:%Y-%m}",
                admin_unit_id=enrolment.admin_unit_id,
            )
