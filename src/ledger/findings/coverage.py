"""Coverage detectors (``domain.md`` §7.1 脱保, §7.3 按时): payable periods nobody paid, and
terminations that skipped their procedure.

* :class:`PaymentGaps` — for each enrolment, every instalment period from its first payable
  period on, while it was payable (not suspended, not after its last payable period: death,
  termination or gradual exit, PAY-2), whose months ended more than ``grace_days`` (default
  30 `[I]`) before the clock, for which a payment roll of the programme was prepared (for any
  unit), with no settled line for the enrolment (a failed line not reissued is not paid).
  Why only periods with a roll: the roll shows the programme was being paid for that period,
  so one person left out of it is that person's arrears; a period no roll was run for at all
  is the end of the data (a log that stops, a demo year followed by its assessment) or a
  late roll for everyone, not a gap in one person's coverage:

  - a run of two or more consecutive unpaid periods is ``AF-ELIG-LOST-COVERAGE`` (the
    person was dropped from coverage, 脱保), one finding per run;
  - a single unpaid period between paid ones is ``AF-PAY-ARREARS``, one finding per period.

  One irregularity, one finding: a run is not also reported period by period as arrears.
* :class:`TerminationWithoutProcedure` — ``AF-ELIG-LOST-COVERAGE`` for a termination that took
  someone off the roll without its procedure (TRM-1, §7.1): decided with no TERMINATION notice
  although the proposal's reason is not one the programme waives (``notice_waived_reasons``),
  or citing a notice that was not closed before the decision, or proposed with no evidence
  at all (no evidence hash and no report, determination, review or roll flag on the
  enrolment). One finding per termination decision. Legacy ``TERMINATION`` records are judged
  on what they carry (their notice, its closing date, their evidence). A programme with no
  ``ProgrammeDefined`` in the log waives the TRM-1 default (DECEASED, VOLUNTARY).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ledger.domain.model import DomainEvent
from ledger.domain.periods import Period, is_payment_period, last_payable_period, parse_date
from ledger.findings.model import Detector, Finding
from ledger.findings.procedure import LEGACY, legacy_record

GRACE_DAYS = 30
"""Days after the end of a period before an unpaid instalment counts as missed `[I]`."""

_TRIGGERS = frozenset(
    {
        "CircumstanceChangeReported",
        "IncomeAboveStandardDetermined",
        "PeriodicReviewCompleted",
    }
)
"""Enrolment events that can support a termination's reason (with roll-review flags)."""


@dataclass
class _Enrolment:
    enrolment_id: str
    programme_code: str
    first_period: Period
    admin_unit_id: str
    event_id: str
    death: date | None = None
    proposal_reason: str | None = None
    termination: Period | None = None
    """The effective period of the termination decision."""
    gradual_last: Period | None = None
    suspensions: list[tuple[Period, Period | None]] = field(default_factory=list)
    paid: set[Period] = field(default_factory=set)

    def last_payable(self) -> Period | None:
        limits = []
        if self.death is not None:
            limits.append(Period.of(self.death))
        if self.termination is not None:
            limits.append(last_payable_period(self.termination, self.proposal_reason, self.death))
        if self.gradual_last is not None:
            limits.append(self.gradual_last)
        return min(limits) if limits else None

    def suspended(self, period: Period) -> bool:
        return any(
            start <= period and (end is None or period <= end) for start, end in self.suspensions
        )


def _period_end(period: Period, frequency: str) -> date:
    """The last day of the months an instalment labelled ``period`` pays for."""
    span = {"MONTHLY": 1, "QUARTERLY": 3, "YEARLY": 12}[frequency]
    after = period.plus(span)
    return date(after.year, after.month, 1) - timedelta(days=1)


class PaymentGaps(Detector):
    """``AF-PAY-ARREARS`` and ``AF-ELIG-LOST-COVERAGE`` from unpaid periods (see module
    docstring)."""

    name = "payment-gaps"
    version = 1
    types = frozenset(
        {
            "ProgrammeDefined",
            "BeneficiaryEnrolled",
            "CircumstanceChangeReported",
            "TerminationProposed",
            "TerminationWithdrawn",
            "TerminationDecided",
            "GradualExitStarted",
            "BeneficiarySuspended",
            "BeneficiaryReinstated",
            "PaymentBatchPrepared",
            "PaymentLineReissued",
            "PaymentSettled",
        }
    )

    def __init__(self, grace_days: int = GRACE_DAYS) -> None:
        self.grace_days = grace_days
        self._frequency: dict[str, str] = {}
        self._enrolments: dict[str, _Enrolment] = {}
        self._lines: dict[str, tuple[str, Period]] = {}
        """line id → (enrolment, period)."""
        self._rolls: set[tuple[str, Period]] = set()
        """(programme, period) of every prepared payment roll."""

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind == "ProgrammeDefined":
            self._frequency[p["programme_code"]] = p["payment_frequency"]
        elif kind == "BeneficiaryEnrolled":
            self._enrolments[p["enrolment_id"]] = _Enrolment(
                p["enrolment_id"],
                p["programme_code"],
                Period.parse(p["first_payable_period"]),
                event.org_id,
                event.event_id,
            )
        elif kind == "PaymentBatchPrepared":
            self._rolls.add((p["programme_code"], Period.parse(p["period"])))
            for line in p["lines"]:
                self._lines[line["line_id"]] = (line["enrolment_id"], Period.parse(p["period"]))
        elif kind == "PaymentLineReissued":
            if p["original_line_id"] in self._lines:
                self._lines[p["new_line_id"]] = self._lines[p["original_line_id"]]
        elif kind == "PaymentSettled":
            found = self._lines.get(p["line_id"])
            if found is not None and found[0] in self._enrolments:
                self._enrolments[found[0]].paid.add(found[1])
        elif (enrolment := self._enrolments.get(event.stream_id)) is not None:
            self._lifecycle(enrolment, event)

    @staticmethod
    def _lifecycle(enrolment: _Enrolment, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind == "CircumstanceChangeReported" and p["change_type"] == "DEATH":
            enrolment.death = parse_date(p["observed_on"])
        elif kind == "TerminationProposed":
            enrolment.proposal_reason = p["reason_code"]
            if p["death_date"] is not None and enrolment.death is None:
                enrolment.death = parse_date(p["death_date"])
        elif kind == "TerminationWithdrawn":
            enrolment.proposal_reason = None
        elif kind == "TerminationDecided":
            enrolment.termination = Period.parse(p["effective_period"])
        elif kind == "GradualExitStarted":
            enrolment.gradual_last = Period.parse(p["last_period"])
        elif kind == "BeneficiarySuspended":
            to = None if p["to_period"] is None else Period.parse(p["to_period"])
            enrolment.suspensions.append((Period.parse(p["from_period"]), to))
        elif kind == "BeneficiaryReinstated":
            back = Period.parse(p["from_period"])
            enrolment.suspensions = [
                (start, end if end is not None and end < back else back.plus(-1))
                for start, end in enrolment.suspensions
            ]

    def _unpaid(self, enrolment: _Enrolment, clock: date) -> list[Period]:
        """Every payable period of the enrolment past its grace with no settled line."""
        frequency = self._frequency.get(enrolment.programme_code, "MONTHLY")
        last = enrolment.last_payable()
        unpaid, period = [], enrolment.first_period
        while _period_end(period, frequency) + timedelta(days=self.grace_days) < clock:
            if last is not None and period > last:
                break
            due = (
                is_payment_period(period, frequency)
                and not enrolment.suspended(period)
                and (enrolment.programme_code, period) in self._rolls
            )
            if due and period not in enrolment.paid:
                unpaid.append(period)
            period = period.plus(1)
        return unpaid

    def findings(self, clock: date) -> Iterator[Finding]:
        for _, enrolment in sorted(self._enrolments.items()):
            frequency = self._frequency.get(enrolment.programme_code, "MONTHLY")
            step = {"MONTHLY": 1, "QUARTERLY": 3, "YEARLY": 12}[frequency]
            runs: list[list[Period]] = []
            for period in self._unpaid(enrolment, clock):
                if runs and runs[-1][-1].plus(step) == period:
                    runs[-1].append(period)
                else:
                    runs.append([period])
            for run in runs:
                yield self._gap(enrolment, run)

    def _gap(self, enrolment: _Enrolment, run: list[Period]) -> Finding:
        first = run[0]
        if len(run) == 1:
            return self.finding(
                "AF-PAY-ARREARS",
                [enrolment.enrolment_id, str(first)],
                [enrolment.event_id],
                f"enrolment {enrolment.enrolment_id} was never paid for {first} "
                f"({self.grace_days} days' grace after the period are over)",
                rule_ref=f"domain.md §7.3 AF-PAY-ARREARS (grace {self.grace_days} days [I])",
                period=str(first),
                admin_unit_id=enrolment.admin_unit_id,
            )
        return self.finding(
            "AF-ELIG-LOST-COVERAGE",
            [enrolment.enrolment_id, str(first)],
            [enrolment.event_id],
            f"payments to enrolment {enrolment.enrolment_id} stopped for {len(run)} periods "
            f"({first} to {run[-1]}) while it was still in force",
            rule_ref=f"domain.md §7.1 AF-ELIG-LOST-COVERAGE (≥2 periods, grace "
            f"{self.grace_days} days [I])",
            period=str(first),
            admin_unit_id=enrolment.admin_unit_id,
        )


@dataclass
class _Case:
    programme_code: str | None = None
    admin_unit_id: str | None = None
    proposal: tuple[str, bool, str] | None = None
    """(reason, has evidence hashes, event id) of the latest proposal."""
    supported: bool = False
    """Whether a report, determination, review or roll flag names the enrolment."""


@dataclass
class _TerminationNotice:
    event_id: str
    closed_on: date | None = None


DEFAULT_WAIVED = frozenset({"DECEASED", "VOLUNTARY"})
"""TRM-1's default ``notice_waived_reasons`` `[I]`, for a programme defined nowhere in the log."""


class TerminationWithoutProcedure(Detector):
    """``AF-ELIG-LOST-COVERAGE`` for terminations (see module docstring)."""

    name = "termination-procedure"
    version = 1
    types = _TRIGGERS | {
        LEGACY,
        "ProgrammeDefined",
        "BeneficiaryEnrolled",
        "RollReviewedByVillageAssembly",
        "PublicNoticePosted",
        "PublicNoticeClosed",
        "TerminationProposed",
        "TerminationDecided",
    }

    def __init__(self) -> None:
        self._waived: dict[str, frozenset[str]] = {}
        self._cases: dict[str, _Case] = {}
        self._notices: dict[str, _TerminationNotice] = {}
        self._found: list[Finding] = []

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind == "ProgrammeDefined":
            self._waived[p["programme_code"]] = frozenset(p["notice_waived_reasons"])
        elif kind == "BeneficiaryEnrolled":
            case = self._case(p["enrolment_id"])
            case.programme_code, case.admin_unit_id = p["programme_code"], event.org_id
        elif kind == "RollReviewedByVillageAssembly":
            for enrolment_id in p["flagged_enrolment_ids"]:
                self._case(enrolment_id).supported = True
        elif kind in _TRIGGERS:
            self._case(event.stream_id).supported = True
        elif kind in {"PublicNoticePosted", "PublicNoticeClosed"}:
            self._notice(event)
        elif kind == LEGACY:
            record = legacy_record(event, "TERMINATION")
            if record is not None:
                self._legacy(event, record)
        elif kind == "TerminationProposed":
            self._case(event.stream_id).proposal = (
                p["reason_code"],
                bool(p["evidence"]),
                event.event_id,
            )
        else:
            self._decided(event)

    def _case(self, enrolment_id: str) -> _Case:
        return self._cases.setdefault(enrolment_id, _Case())

    def _notice(self, event: DomainEvent) -> None:
        p = event.payload
        if event.event_type == "PublicNoticePosted":
            if p["kind"] == "TERMINATION":
                self._notices[p["notice_id"]] = _TerminationNotice(event.event_id)
        elif event.stream_id in self._notices:
            self._notices[event.stream_id].closed_on = parse_date(p["closed_on"])

    def _decided(self, event: DomainEvent) -> None:
        case = self._case(event.stream_id)
        problem = self._problem(case, event)
        if problem is None:
            return
        why, cited = problem
        self._found.append(
            self.finding(
                "AF-ELIG-LOST-COVERAGE",
                [event.stream_id, event.event_id],
                [*cited, event.event_id],
                f"enrolment {event.stream_id} was terminated on {event.day} {why}",
                rule_ref="TRM-1",
                period=event.payload["effective_period"],
                admin_unit_id=case.admin_unit_id,
            )
        )

    def _problem(self, case: _Case, event: DomainEvent) -> tuple[str, list[str]] | None:
        """Why the termination skipped its procedure, and the events that show it."""
        reason, has_evidence, proposal_id = case.proposal or (None, False, None)
        cited = [] if proposal_id is None else [proposal_id]
        if not has_evidence and not case.supported:
            return "with no evidence for its reason (no hash, report or review)", cited
        notice_id = event.payload["notice_id"]
        if notice_id is None:
            if reason in self._waived.get(case.programme_code or "", DEFAULT_WAIVED):
                return None
            return f"without a termination notice (reason {reason} is not waived)", cited
        notice = self._notices.get(notice_id)
        if notice is None:
            return f"citing notice {notice_id}, which is no termination notice", cited
        if notice.closed_on is None or notice.closed_on > event.day:
            return f"before its notice {notice_id} was closed", [*cited, notice.event_id]
        return None

    def _legacy(self, event: DomainEvent, record: Mapping[str, Any]) -> None:
        """A legacy termination, judged on what its record says (no other events link to it)."""
        decided = parse_date(record["decided_on"])
        closed = record["notice_closed_on"]
        if not record["evidence"]:
            why = "with no evidence for its reason"
        elif record["notice_id"] is None:
            waived = self._waived.get(record["programme_code"], DEFAULT_WAIVED)
            if record["reason_code"] in waived:
                return
            why = f"without a termination notice (reason {record['reason_code']} is not waived)"
        elif closed is None or parse_date(closed) > decided:
            why = f"before its notice {record['notice_id']} was closed"
        else:
            return
        self._found.append(
            self.finding(
                "AF-ELIG-LOST-COVERAGE",
                [record["enrolment_id"], event.event_id],
                [event.event_id],
                f"legacy enrolment {record['enrolment_id']} was terminated on {decided} {why}",
                rule_ref="TRM-1",
                period=f"{decided:%Y-%m}",
                admin_unit_id=event.payload["admin_unit_id"],
            )
        )

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._found
