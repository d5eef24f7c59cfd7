"""Payment and fund detectors (``domain.md`` §7.3, §7.4).

* :class:`PaidAfterExit` — ``AF-PAY-AFTER-EXIT``: a line settled for a period after the last
  payable one: the month of a reported death, the month before a termination takes effect, or
  the last month of a gradual exit (§5.13, PAY-2). The bank's settlement is a fact and the
  death report may arrive after the payments, so this is checked on the whole history.
* :class:`PaymentIntegrity` — ``AF-PAY-OVER``, ``AF-PAY-DOUBLE-MODE``, ``AF-PAY-GHOST``: settled
  lines against what was authorised and who was enrolled.
* :class:`UnauthorisedMoney` — money that left a dedicated account without an authorised
  line: ``AF-FUND-OFF-EARMARK`` when an ``ExternalDisbursementObserved`` has a purpose outside
  the account's earmark (挪用), else ``AF-PAY-UNAUTHORISED``; and ``AF-PAY-UNAUTHORISED`` for a
  ``PaymentSettled`` whose line is in no approved batch. One finding per movement: the more
  specific code wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from ledger.domain.model import DomainEvent
from ledger.domain.periods import Period, last_payable_period, parse_date
from ledger.findings.model import Detector, Finding


@dataclass
class _Line:
    """A prepared payment line and where it came from."""

    line_id: str
    batch_id: str
    enrolment_id: str
    period: Period
    admin_unit_id: str
    prepared_event_id: str
    settled_event_ids: list[str] = field(default_factory=list)


@dataclass
class _Exit:
    """What ends an enrolment's payable months (each with the event that says so)."""

    death: tuple[date, str] | None = None
    termination: tuple[Period, str, str | None] | None = None
    """(effective period, event id, proposal reason)."""
    gradual_last: tuple[Period, str] | None = None
    proposal_reason: str | None = None

    def last_payable(self) -> tuple[Period, list[str]] | None:
        """The last payable period and the events that set it, if anything ends payments."""
        limits: list[tuple[Period, str]] = []
        if self.death is not None:
            limits.append((Period.of(self.death[0]), self.death[1]))
        if self.termination is not None:
            effective, event_id, reason = self.termination
            death = self.death[0] if self.death else None
            limits.append((last_payable_period(effective, reason, death), event_id))
        if self.gradual_last is not None:
            limits.append(self.gradual_last)
        if not limits:
            return None
        last = min(p for p, _ in limits)
        return last, [e for p, e in limits if p == last]


class _Lines:
    """Payment lines by id, with reissues following their original."""

    def __init__(self) -> None:
        self.lines: dict[str, _Line] = {}
        self.approved_batches: set[str] = set()

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        if event.event_type == "PaymentBatchPrepared":
            period = Period.parse(p["period"])
            for line in p["lines"]:
                self.lines[line["line_id"]] = _Line(
                    line["line_id"],
                    event.stream_id,
                    line["enrolment_id"],
                    period,
                    p["admin_unit_id"],
                    event.event_id,
                )
        elif event.event_type == "PaymentBatchApproved":
            self.approved_batches.add(event.stream_id)
        elif event.event_type == "PaymentLineReissued":
            original = self.lines.get(p["original_line_id"])
            if original is not None:
                self.lines[p["new_line_id"]] = _Line(
                    p["new_line_id"],
                    original.batch_id,
                    original.enrolment_id,
                    original.period,
                    original.admin_unit_id,
                    event.event_id,
                )


_LINE_TYPES = frozenset({"PaymentBatchPrepared", "PaymentBatchApproved", "PaymentLineReissued"})


class PaidAfterExit(Detector):
    """``AF-PAY-AFTER-EXIT`` (see module docstring): one finding per enrolment."""

    name = "paid-after-exit"
    version = 1
    types = _LINE_TYPES | {
        "PaymentSettled",
        "CircumstanceChangeReported",
        "TerminationProposed",
        "TerminationWithdrawn",
        "TerminationDecided",
        "GradualExitStarted",
    }

    def __init__(self) -> None:
        self._lines = _Lines()
        self._exits: dict[str, _Exit] = {}

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind in _LINE_TYPES:
            self._lines.observe(event)
        elif kind == "PaymentSettled":
            line = self._lines.lines.get(p["line_id"])
            if line is not None:
                line.settled_event_ids.append(event.event_id)
        elif kind == "CircumstanceChangeReported" and p["change_type"] == "DEATH":
            self._exit(event).death = (parse_date(p["observed_on"]), event.event_id)
        elif kind == "TerminationProposed":
            found = self._exit(event)
            found.proposal_reason = p["reason_code"]
            if p["death_date"] is not None and found.death is None:
                # A proposal on death dates it even when no circumstance report did.
                found.death = (parse_date(p["death_date"]), event.event_id)
        elif kind == "TerminationWithdrawn":
            self._exit(event).proposal_reason = None
        elif kind == "TerminationDecided":
            found = self._exit(event)
            found.termination = (
                Period.parse(p["effective_period"]),
                event.event_id,
                found.proposal_reason,
            )
        elif kind == "GradualExitStarted":
            self._exit(event).gradual_last = (Period.parse(p["last_period"]), event.event_id)

    def _exit(self, event: DomainEvent) -> _Exit:
        return self._exits.setdefault(event.stream_id, _Exit())

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock  # paid is paid: no deadline involved
        late: dict[str, list[_Line]] = {}
        for line in self._lines.lines.values():
            if not line.settled_event_ids or line.enrolment_id not in self._exits:
                continue
            limit = self._exits[line.enrolment_id].last_payable()
            if limit is not None and line.period > limit[0]:
                late.setdefault(line.enrolment_id, []).append(line)
        for enrolment_id, lines in sorted(late.items()):
            limit = self._exits[enrolment_id].last_payable()
            assert limit is not None
            lines.sort(key=lambda x: (x.period, x.line_id))
            periods = ", ".join(str(x.period) for x in lines)
            yield self.finding(
                "AF-PAY-AFTER-EXIT",
                [enrolment_id],
                [
                    *limit[1],
                    *(e for x in lines for e in (x.prepared_event_id, *x.settled_event_ids)),
                ],
                f"enrolment {enrolment_id} was paid for {periods}, after its last payable "
                f"period {limit[0]}",
                rule_ref="PAY-2",
                period=str(lines[0].period),
                admin_unit_id=lines[0].admin_unit_id,
            )


class UnauthorisedMoney(Detector):
    """``AF-FUND-OFF-EARMARK`` and ``AF-PAY-UNAUTHORISED`` (see module docstring)."""

    name = "unauthorised-money"
    version = 1
    types = _LINE_TYPES | {"FundAccountOpened", "ExternalDisbursementObserved", "PaymentSettled"}

    def __init__(self) -> None:
        self._lines = _Lines()
        self._accounts: dict[str, tuple[frozenset[str], str, str]] = {}
        """fund account → (earmarked purposes, owner org, opening event id)."""
        self._observed: list[DomainEvent] = []
        self._unmatched: list[tuple[DomainEvent, str | None]] = []
        """Settlements of lines in no approved batch, with the batch (if any)."""

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind in _LINE_TYPES:
            self._lines.observe(event)
        elif kind == "FundAccountOpened":
            self._accounts[p["fund_account_id"]] = (
                frozenset(p["purposes"]),
                p["owner_org_id"],
                event.event_id,
            )
        elif kind == "ExternalDisbursementObserved":
            self._observed.append(event)
        elif kind == "PaymentSettled":
            line = self._lines.lines.get(p["line_id"])
            if line is None or line.batch_id not in self._lines.approved_batches:
                self._unmatched.append((event, line.batch_id if line else None))

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for event in self._observed:
            yield self._external(event)
        for event, batch_id in self._unmatched:
            line_id = event.payload["line_id"]
            where = f"batch {batch_id}, never approved" if batch_id else "no prepared batch"
            yield self.finding(
                "AF-PAY-UNAUTHORISED",
                [line_id],
                [event.event_id],
                f"the bank settled line {line_id} ({where})",
                rule_ref="PAY-1",
                period=None,
                admin_unit_id=None,
            )

    def _external(self, event: DomainEvent) -> Finding:
        p = event.payload
        account = self._accounts.get(p["fund_account_id"])
        owner = account[1] if account else None
        evidence = [event.event_id] + ([account[2]] if account else [])
        period = str(Period.of(parse_date(p["value_date"])))
        if account is not None and p["purpose"] not in account[0]:
            return self.finding(
                "AF-FUND-OFF-EARMARK",
                [p["observation_id"], p["fund_account_id"]],
                evidence,
                f"{p['amount_fen']} fen left fund account {p['fund_account_id']} for "
                f"{p['purpose']}, outside its earmark ({', '.join(sorted(account[0]))})",
                rule_ref="FUND-2",
                period=period,
                admin_unit_id=owner,
            )
        return self.finding(
            "AF-PAY-UNAUTHORISED",
            [p["observation_id"], p["fund_account_id"]],
            evidence,
            f"{p['amount_fen']} fen left fund account {p['fund_account_id']} to "
            f"{p['payee_ref']} with no authorised line or expenditure",
            rule_ref="FUND-1",
            period=period,
            admin_unit_id=owner,
        )


@dataclass
class _Paid:
    """What the bank paid on one line (and the events that say so)."""

    line: _Line
    amount_fen: int
    person_id: str
    channel: str
    settled_fen: int = 0
    settled_event_ids: list[str] = field(default_factory=list)


class PaymentIntegrity(Detector):
    """Settled lines against what was authorised and who was enrolled (§7.3):

    * ``AF-PAY-OVER`` — a line settled for more than its authorised amount (PAY-5);
    * ``AF-PAY-DOUBLE-MODE`` — one person paid in the same period both to a one-card account and
      to an institution account;
    * ``AF-PAY-GHOST`` — money settled for an enrolment with no ``BeneficiaryEnrolled``, or
      whose application was never approved.
    """

    name = "payment-integrity"
    version = 1
    types = _LINE_TYPES | {"PaymentSettled", "BeneficiaryEnrolled", "ApplicationApproved"}

    def __init__(self) -> None:
        self._lines = _Lines()
        self._paid: dict[str, _Paid] = {}
        self._details: dict[str, tuple[int, str, str]] = {}
        """line id → (amount, person, channel) as prepared."""
        self._enrolled: dict[str, tuple[str, str]] = {}
        """enrolment → (application id, enrolling event id)."""
        self._approved: set[str] = set()

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind in _LINE_TYPES:
            self._lines.observe(event)
            self._remember_lines(event)
        elif kind == "BeneficiaryEnrolled":
            self._enrolled[p["enrolment_id"]] = (p["application_id"], event.event_id)
        elif kind == "ApplicationApproved":
            self._approved.add(event.stream_id)
        elif kind == "PaymentSettled":
            self._settled(event)

    def _remember_lines(self, event: DomainEvent) -> None:
        p = event.payload
        if event.event_type == "PaymentBatchPrepared":
            for line in p["lines"]:
                self._details[line["line_id"]] = (
                    line["amount_fen"],
                    line["person_id"],
                    line["channel"],
                )
        elif event.event_type == "PaymentLineReissued":
            original = self._details.get(p["original_line_id"])
            if original is not None:
                self._details[p["new_line_id"]] = original

    def _settled(self, event: DomainEvent) -> None:
        line_id = event.payload["line_id"]
        line = self._lines.lines.get(line_id)
        details = self._details.get(line_id)
        if line is None or details is None:
            return  # an unknown line is UnauthorisedMoney's
        paid = self._paid.setdefault(line_id, _Paid(line, *details))
        paid.settled_fen += event.payload["amount_fen"]
        paid.settled_event_ids.append(event.event_id)

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._over()
        yield from self._double_mode()
        yield from self._ghosts()

    def _over(self) -> Iterator[Finding]:
        for line_id, paid in sorted(self._paid.items()):
            if paid.settled_fen > paid.amount_fen:
                yield self.finding(
                    "AF-PAY-OVER",
                    [line_id],
                    [paid.line.prepared_event_id, *paid.settled_event_ids],
                    f"line {line_id} was authorised for {paid.amount_fen} fen and settled for "
                    f"{paid.settled_fen} fen",
                    rule_ref="PAY-5",
                    period=str(paid.line.period),
                    admin_unit_id=paid.line.admin_unit_id,
                )

    def _double_mode(self) -> Iterator[Finding]:
        by_person: dict[tuple[str, Period], list[_Paid]] = {}
        for paid in self._paid.values():
            by_person.setdefault((paid.person_id, paid.line.period), []).append(paid)
        for (person, period), paids in sorted(by_person.items()):
            if len({p.channel for p in paids}) < 2:
                continue
            paids.sort(key=lambda p: p.line.line_id)
            yield self.finding(
                "AF-PAY-DOUBLE-MODE",
                [person, str(period)],
                [e for p in paids for e in (p.line.prepared_event_id, *p.settled_event_ids)],
                f"{person} was paid for {period} both dispersed and centralised (lines "
                f"{', '.join(p.line.line_id for p in paids)})",
                rule_ref="PAY-4",
                period=str(period),
                admin_unit_id=paids[0].line.admin_unit_id,
            )

    def _ghosts(self) -> Iterator[Finding]:
        ghosts: dict[str, list[_Paid]] = {}
        for paid in self._paid.values():
            enrolled = self._enrolled.get(paid.line.enrolment_id)
            if enrolled is None or enrolled[0] not in self._approved:
                ghosts.setdefault(paid.line.enrolment_id, []).append(paid)
        for enrolment_id, paids in sorted(ghosts.items()):
            enrolled = self._enrolled.get(enrolment_id)
            why = (
                "was never enrolled"
                if enrolled is None
                else f"comes from application {enrolled[0]}, which was never approved"
            )
            paids.sort(key=lambda p: (p.line.period, p.line.line_id))
            evidence = [enrolled[1]] if enrolled else []
            evidence += [e for p in paids for e in (p.line.prepared_event_id, *p.settled_event_ids)]
            yield self.finding(
                "AF-PAY-GHOST",
                [enrolment_id],
                evidence,
                f"money was settled for enrolment {enrolment_id}, which {why}",
                rule_ref="ENV-8",
                period=str(paids[0].line.period),
                admin_unit_id=paids[0].line.admin_unit_id,
            )
