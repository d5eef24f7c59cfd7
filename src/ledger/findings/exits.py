"""Exit detectors (``domain.md`` §7.1, 应退必退): enrolments that should have ended, and exit
windows longer than the rules allow.

* :class:`ShouldExit` — ``AF-ELIG-SHOULD-EXIT``: a fact or decision that calls for an exit was
  not acted on within the SLA (``sla_working_days``, default 20 working days `[I]`):

  ====================================  ===============================================
  trigger (on the enrolment)            acted on by
  ====================================  ===============================================
  ``CircumstanceChangeReported(DEATH)``  ``TerminationProposed`` or ``TerminationDecided``
  ``IncomeAboveStandardDetermined``      ``GradualExitStarted``, ``TerminationProposed``
                                         or ``TerminationDecided``
  ``PeriodicReviewCompleted``            ``TerminationDecided``
  (``PROPOSE_TERMINATION``)
  ``RollReviewedByVillageAssembly``      ``TerminationDecided``
  flag
  ====================================  ===============================================

  The clock starts on the trigger's business date (the ledger cannot act on a report before
  it is made); an action later than the SLA is a finding too (the enrolment stayed open too
  long), as is no action once the clock has passed it. A termination decided before the
  trigger means the enrolment had already ended. A ``RESIDENCE`` change is not a trigger: a
  move inside the jurisdiction is no reason to exit.

  Money settled after a death is ``AF-PAY-AFTER-EXIT`` (:mod:`ledger.findings.payments`), not
  a second finding here: one irregularity, one finding. This detector finds the *enrolment*
  left open, paid or not.
* :class:`ExitWindowOverrun` — ``AF-ELIG-GRADUAL-OVERRUN``: a gradual exit longer than 12
  payable months (TRM-4) or a voluntary exit of more than 3 months (TRM-5). Both are refused
  on the append path; the detector re-checks the log. Payments after ``last_period`` are
  ``AF-PAY-AFTER-EXIT`` (same reason as above).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from ledger.domain.model import DomainEvent
from ledger.domain.periods import Period
from ledger.findings.model import Detector, Finding, add_working_days

SLA_WORKING_DAYS = 20
"""Default SLA from a trigger to the exit action (§7.1 "within N working days (default 20)")."""

GRADUAL_EXIT_MONTHS = 12
"""TRM-4 / N-DB-5: a gradual exit pays 12 more months."""

VOLUNTARY_EXIT_MAX_MONTHS = 3
"""TRM-5 / N-DB-6: a voluntary exit pays 1 to 3 months."""

_PROPOSED = "TerminationProposed"
_DECIDED = "TerminationDecided"
_GRADUAL = "GradualExitStarted"

_ACTED_ON_BY: dict[str, frozenset[str]] = {
    "DEATH": frozenset({_PROPOSED, _DECIDED}),
    "INCOME_ABOVE_STANDARD": frozenset({_GRADUAL, _PROPOSED, _DECIDED}),
    "REVIEW_PROPOSED_TERMINATION": frozenset({_DECIDED}),
    "ROLL_REVIEW_FLAG": frozenset({_DECIDED}),
}
"""Trigger kind → the actions that count as acting on it (see module docstring)."""


@dataclass(frozen=True)
class _Trigger:
    kind: str
    day: date
    event_id: str


@dataclass
class _Case:
    """What happened to one enrolment: exit triggers and exit actions, in log order."""

    admin_unit_id: str | None = None
    """The organisation that enrolled the person (the one that must end the enrolment)."""
    triggers: list[_Trigger] = field(default_factory=list)
    actions: list[tuple[str, date, str]] = field(default_factory=list)
    """(event type, business date, event id) of each exit action."""

    def first_action(self, trigger: _Trigger) -> tuple[str, date, str] | None:
        """The first action that acts on ``trigger`` (a decision before it ended it already)."""
        allowed = _ACTED_ON_BY[trigger.kind]
        for action in self.actions:
            kind, day, _ = action
            if kind in allowed and (day >= trigger.day or kind == _DECIDED):
                return action
        return None


class ShouldExit(Detector):
    """``AF-ELIG-SHOULD-EXIT`` (see module docstring): one finding per (enrolment, trigger
    kind), for the first trigger of that kind left unacted on."""

    name = "should-exit"
    version = 1
    types = frozenset(
        {
            "CircumstanceChangeReported",
            "IncomeAboveStandardDetermined",
            "PeriodicReviewCompleted",
            "RollReviewedByVillageAssembly",
            "BeneficiaryEnrolled",
            _PROPOSED,
            _DECIDED,
            _GRADUAL,
        }
    )

    def __init__(self, sla_working_days: int = SLA_WORKING_DAYS) -> None:
        self.sla_working_days = sla_working_days
        self._cases: dict[str, _Case] = {}

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind == "BeneficiaryEnrolled":
            self._case(p["enrolment_id"]).admin_unit_id = event.org_id
        elif kind in {_PROPOSED, _DECIDED, _GRADUAL}:
            self._case(event.stream_id).actions.append((kind, event.day, event.event_id))
        elif kind == "CircumstanceChangeReported":
            if p["change_type"] == "DEATH":
                self._trigger(event.stream_id, "DEATH", event)
        elif kind == "IncomeAboveStandardDetermined":
            self._trigger(event.stream_id, "INCOME_ABOVE_STANDARD", event)
        elif kind == "PeriodicReviewCompleted":
            if p["outcome"] == "PROPOSE_TERMINATION":
                self._trigger(event.stream_id, "REVIEW_PROPOSED_TERMINATION", event)
        else:  # RollReviewedByVillageAssembly: one trigger per flagged enrolment
            for enrolment_id in p["flagged_enrolment_ids"]:
                self._trigger(enrolment_id, "ROLL_REVIEW_FLAG", event)

    def _case(self, enrolment_id: str) -> _Case:
        return self._cases.setdefault(enrolment_id, _Case())

    def _trigger(self, enrolment_id: str, kind: str, event: DomainEvent) -> None:
        self._case(enrolment_id).triggers.append(_Trigger(kind, event.day, event.event_id))

    def findings(self, clock: date) -> Iterator[Finding]:
        for enrolment_id, case in sorted(self._cases.items()):
            reported: set[str] = set()
            for trigger in case.triggers:
                if trigger.kind in reported:
                    continue
                found = self._check(enrolment_id, case, trigger, clock)
                if found is not None:
                    reported.add(trigger.kind)
                    yield found

    def _check(
        self, enrolment_id: str, case: _Case, trigger: _Trigger, clock: date
    ) -> Finding | None:
        deadline = add_working_days(trigger.day, self.sla_working_days)
        action = case.first_action(trigger)
        if action is not None and action[1] <= deadline:
            return None
        if action is None and clock <= deadline:
            return None  # still inside the SLA
        what = (
            f"was acted on only on {action[1]} ({action[0]})"
            if action is not None
            else f"has not been acted on by {clock}"
        )
        evidence = [trigger.event_id] + ([action[2]] if action is not None else [])
        return self.finding(
            "AF-ELIG-SHOULD-EXIT",
            [enrolment_id, trigger.kind],
            evidence,
            f"enrolment {enrolment_id}: {trigger.kind.lower().replace('_', ' ')} of "
            f"{trigger.day} {what}; the exit was due by {deadline} "
            f"({self.sla_working_days} working days)",
            rule_ref=f"domain.md §7.1 AF-ELIG-SHOULD-EXIT (SLA {self.sla_working_days} "
            "working days [I])",
            period=f"{trigger.day:%Y-%m}",
            admin_unit_id=case.admin_unit_id,
        )


class ExitWindowOverrun(Detector):
    """``AF-ELIG-GRADUAL-OVERRUN`` (see module docstring): one finding per exit decision."""

    name = "exit-window"
    version = 1
    types = frozenset({_GRADUAL, "VoluntaryExitGranted"})

    def __init__(self) -> None:
        self._found: list[Finding] = []

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        if event.event_type == _GRADUAL:
            first, last = Period.parse(p["first_period"]), Period.parse(p["last_period"])
            months = first.months_until(last) + 1
            if months > GRADUAL_EXIT_MONTHS:
                self._overrun(
                    event,
                    f"gradual exit pays {months} months ({first} to {last}); at most "
                    f"{GRADUAL_EXIT_MONTHS} are allowed",
                    "TRM-4",
                    str(first),
                )
        elif p["months"] > VOLUNTARY_EXIT_MAX_MONTHS:
            self._overrun(
                event,
                f"voluntary exit grants {p['months']} months ({p['amount_fen']} fen); at most "
                f"{VOLUNTARY_EXIT_MAX_MONTHS} are allowed",
                "TRM-5",
                f"{event.day:%Y-%m}",
            )

    def _overrun(self, event: DomainEvent, why: str, rule: str, period: str) -> None:
        self._found.append(
            self.finding(
                "AF-ELIG-GRADUAL-OVERRUN",
                [event.stream_id, event.event_type],
                [event.event_id],
                f"enrolment {event.stream_id}: {why}",
                rule_ref=rule,
                period=period,
            )
        )

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._found
