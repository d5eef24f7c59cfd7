"""Payment batches and bank results (W2, ``domain.md`` §4.2): 按时足额, and only to the living.

A preparer builds the roll for one period of one programme against one earmarked fund
account (``PaymentBatchPrepared``); a different person approves it, which commits its total
on the fund account (``PaymentBatchApproved``, FUND-1); finance submits it to the bank; the
bank reports each line as settled, failed or returned (facts, never refused, §4.0); a failed
line may be reissued to a (corrected) account (``PaymentLineReissued``).

Every line must pay an enrolment that is payable in that period (PAY-1 … PAY-3), through the
right channel to the right holder (PAY-4), exactly the §4.2 instalment (PAY-5), at most once
(PAY-6), and never alongside an exclusive programme (PAY-7), from a fund whose earmark and
owner fit (FUND-2, FUND-6).

The rules need a view of the case lifecycle (programmes, applications, enrolments,
terminations, accounts, residencies). That view is folded here, into this module's own
``pay.*`` tables, from the accepted lifecycle events, so this module depends on no other
business module: those events are only applied after being accepted, so the folds record.

Enrolment status in a period (PAY-1, PAY-2), derived from the folded termination events:

* ``TERMINATED`` after the last payable period. A decided termination's last payable period
  is the month before its effective period, or the month of death when a DECEASED proposal
  carried an earlier death date (PAY-2: "death: month of death").
* ``DECEASED`` after the month of a death reported in a termination proposal that is not yet
  decided: PAY-1 lists DECEASED as not payable, and paying for months after a death on record
  is the overpayment §7.3 hunts for.
* ``SUSPENDED`` in a month a ``BeneficiarySuspended`` covers (until the reinstatement).
* ``GRADUAL_EXIT`` inside a gradual-exit window (W4); the window's ``last_period`` is a last
  payable period (PAY-2).
* otherwise ``TERMINATION_PENDING`` while a proposal is open, else ``ACTIVE``.

What is due in a period (PAY-5) is the instalment of the annual entitlement in force then:
the enrolled amount, replaced from their effective period by ``EntitlementAdjusted`` and
``EntitlementRevalued``; the support mode, institution and account in force follow
``SupportModeChanged`` (PAY-4).

Refusal codes: the invariant ID (PAY-1 … PAY-7, FUND-1/2/6, SOD-5); ``ENV-7`` for a wrong
batch or line state and for an id that is already taken; ``ENV-8`` for an unknown or
mismatched reference; ``ENV-5`` for a payload that contradicts itself (its stream, its total).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from ledger.domain import funds
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    refuse,
    require,
    require_scope,
)
from ledger.domain.periods import (
    INSTALMENTS_PER_YEAR,
    Period,
    is_payment_period,
    last_payable_period,
    parse_date,
    period_amount_fen,
)

PROGRAMMES = "pay.programme"
"""programme_code → :class:`ProgrammeTerms`."""
APPLICATIONS = "pay.application"
"""application_id → :class:`ApplicationPlace`."""
ENROLMENTS = "pay.enrolment"
"""enrolment_id → :class:`Enrolment`."""
ACCOUNTS = "pay.account"
"""account_id → :class:`PaymentAccount`."""
RESIDENCIES = "pay.residency"
"""person_id → tuple of :class:`Stay` (one per institution and admission date)."""
BATCHES = "pay.batch"
"""batch_id → :class:`PaymentBatch`."""
LINES = "pay.line"
"""line_id → :class:`PaymentLine` (line ids are unique across all batches)."""
SLOTS = "pay.slot"
"""(enrolment_id, component, period) → line_id of the latest line for it (PAY-6)."""
PERSON_MONTHS = "pay.person_month"
"""(person_id, month) → frozenset of line ids covering that month (PAY-7)."""
UNAUTHORISED_SETTLEMENTS = "pay.unauthorised_settlement"
"""event_id → :class:`UnauthorisedSettlement`: money the bank paid without a commitment."""
UNMATCHED_RESULTS = "pay.unmatched_result"
"""event_id → :class:`UnmatchedBankResult`: a failure or return that fits no line."""
SETTLEMENT_DIFFERENCES = "pay.settlement_difference"
"""line_id → :class:`SettlementDifference`: settled for another amount than the line's."""

REQUIRED_CHANNEL = {"DISPERSED": "ONE_CARD", "CENTRALISED": "INSTITUTION_ACCOUNT"}
"""The channel each support mode must be paid through (PAY-4, N-WB-3, N-WB-4)."""
PAYABLE_STATUSES = frozenset({"ACTIVE", "GRADUAL_EXIT", "TERMINATION_PENDING"})


class BatchStatus(StrEnum):
    """Where a batch is in W2: prepared (2.1), approved (2.2), submitted to the bank (2.3)."""

    PREPARED = "PREPARED"
    APPROVED = "APPROVED"
    SUBMITTED = "SUBMITTED"
    CANCELLED = "CANCELLED"
    """Withdrawn before approval: nothing was committed, its lines hold nothing."""


class LineStatus(StrEnum):
    """Where one payment line is, from preparation to the bank's result."""

    PREPARED = "PREPARED"
    """In a batch that is not approved yet: nothing is committed."""
    COMMITTED = "COMMITTED"
    """Approved (or reissued): its amount is held on the fund account."""
    SETTLED = "SETTLED"
    FAILED = "FAILED"
    RETURNED = "RETURNED"
    CANCELLED = "CANCELLED"
    """Its batch was cancelled before approval."""


# --- Lifecycle view ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgrammeTerms:
    """What the payment rules need of a programme's configuration."""

    programme_code: str
    payment_frequency: str
    exclusive_with: frozenset[str]


@dataclass(frozen=True, slots=True)
class ApplicationPlace:
    """Where an application belongs (the enrolment's admin unit is its township)."""

    township_org_id: str
    residence_org_id: str


@dataclass(frozen=True, slots=True)
class PendingTermination:
    """An open termination proposal; ``death`` only for a reported death."""

    reason_code: str
    death: date | None

    @property
    def death_month(self) -> Period | None:
        return None if self.death is None else Period.of(self.death)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """An enrolled beneficiary as the payment rules see it."""

    enrolment_id: str
    application_id: str
    person_id: str
    programme_code: str
    support_mode: str
    institution_id: str | None
    annual_amount_fen: int
    first_payable_period: Period
    payment_account_id: str
    pending_termination: PendingTermination | None = None
    last_payable_period: Period | None = None
    """Set by a decided termination; ``None`` while payable without end."""
    amount_changes: tuple[tuple[Period, int], ...] = ()
    """(effective period, annual fen) from adjustments and revaluations, in order."""
    mode_changes: tuple[tuple[Period, str, str | None, str], ...] = ()
    """(effective period, support mode, institution id, account id)."""
    suspensions: tuple[tuple[Period, Period | None], ...] = ()
    """(first, last or ``None`` while open) suspended months."""
    gradual_exit: tuple[Period, Period] | None = None

    def as_of(self, period: Period) -> Enrolment:
        """The enrolment with the amount, support mode, institution and account in force in
        ``period`` (later decisions for the same month win)."""
        annual, best = self.annual_amount_fen, self.first_payable_period
        for effective, amount in self.amount_changes:
            if best <= effective <= period:
                annual, best = amount, effective
        terms = (self.support_mode, self.institution_id, self.payment_account_id)
        for effective, mode, institution, account in self.mode_changes:
            if effective <= period:
                terms = (mode, institution, account)
        return replace(
            self,
            annual_amount_fen=annual,
            support_mode=terms[0],
            institution_id=terms[1],
            payment_account_id=terms[2],
        )

    def suspended_in(self, period: Period) -> bool:
        return any(
            first <= period and (last is None or period <= last) for first, last in self.suspensions
        )

    def payable_until(self) -> Period | None:
        """The last payable period: the termination's, else the gradual exit's end."""
        ends = [p for p in (self.last_payable_period, self.gradual_exit_last) if p is not None]
        return min(ends, default=None)

    @property
    def gradual_exit_last(self) -> Period | None:
        return None if self.gradual_exit is None else self.gradual_exit[1]


@dataclass(frozen=True, slots=True)
class PaymentAccount:
    """A registered 一卡通 (person) or institution account."""

    account_id: str
    channel: str
    holder_person_id: str | None
    holder_org_id: str | None


@dataclass(frozen=True, slots=True)
class Stay:
    """A person's residence in a care institution (``discharged_on`` ``None``: still there)."""

    institution_id: str
    admitted_on: date
    discharged_on: date | None

    def overlaps(self, first_day: date, last_day: date) -> bool:
        """Whether the person lived there on some day from ``first_day`` to ``last_day``."""
        still_there = self.discharged_on is None or self.discharged_on >= first_day
        return self.admitted_on <= last_day and still_there


# --- Payment records -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentBatch:
    """One period's payment roll for one programme."""

    batch_id: str
    programme_code: str
    admin_unit_id: str
    period: Period
    fund_account_id: str
    total_fen: int
    line_ids: tuple[str, ...]
    preparer_actor_id: str
    """Resolved to a person at approval (SOD-5 compares persons, not accounts)."""
    status: BatchStatus = BatchStatus.PREPARED


@dataclass(frozen=True, slots=True)
class PaymentLine:
    """One payment to one person for one period and component."""

    line_id: str
    batch_id: str
    programme_code: str
    period: Period
    enrolment_id: str
    person_id: str
    component: str
    amount_fen: int
    channel: str
    account_id: str
    status: LineStatus = LineStatus.PREPARED
    settled_fen: int | None = None
    reissue_of: str | None = None
    reissued_as: str | None = None


@dataclass(frozen=True, slots=True)
class UnauthorisedSettlement:
    """The bank paid a line the ledger never committed (AF-PAY-UNAUTHORISED)."""

    event_id: str
    batch_id: str
    line_id: str
    amount_fen: int
    reason: str
    """``UNKNOWN_LINE``, ``NOT_APPROVED``, ``ALREADY_SETTLED``, ``FAILED`` or ``RETURNED``."""
    fund_account_id: str | None


@dataclass(frozen=True, slots=True)
class UnmatchedBankResult:
    """A failure or return report that fits no line in the right state."""

    event_id: str
    event_type: str
    batch_id: str
    line_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class SettlementDifference:
    """A committed line the bank settled for another amount (AF-PAY-NOT-IN-FULL or over)."""

    line_id: str
    line_amount_fen: int
    settled_fen: int


# --- Queries -------------------------------------------------------------------------------


def programme(state: DomainState, programme_code: str) -> ProgrammeTerms | None:
    found: ProgrammeTerms | None = state.table(PROGRAMMES).get(programme_code)
    return found


def enrolment(state: DomainState, enrolment_id: str) -> Enrolment | None:
    found: Enrolment | None = state.table(ENROLMENTS).get(enrolment_id)
    return found


def payment_account(state: DomainState, account_id: str) -> PaymentAccount | None:
    found: PaymentAccount | None = state.table(ACCOUNTS).get(account_id)
    return found


def batch(state: DomainState, batch_id: str) -> PaymentBatch | None:
    found: PaymentBatch | None = state.table(BATCHES).get(batch_id)
    return found


def line(state: DomainState, line_id: str) -> PaymentLine | None:
    found: PaymentLine | None = state.table(LINES).get(line_id)
    return found


def batch_lines(state: DomainState, batch_id: str) -> list[PaymentLine]:
    """The batch's lines in order, reissued lines last."""
    found = batch(state, batch_id)
    if found is None:
        return []
    lines = state.table(LINES)
    return [lines[line_id] for line_id in found.line_ids]


def unauthorised_settlements(state: DomainState) -> list[UnauthorisedSettlement]:
    return list(state.table(UNAUTHORISED_SETTLEMENTS).values())


def unmatched_bank_results(state: DomainState) -> list[UnmatchedBankResult]:
    return list(state.table(UNMATCHED_RESULTS).values())


def settlement_differences(state: DomainState) -> list[SettlementDifference]:
    return list(state.table(SETTLEMENT_DIFFERENCES).values())


def enrolment_status(found: Enrolment, period: Period) -> str:
    """The enrolment's status in ``period`` (see the module docstring)."""
    last = found.payable_until()
    if last is not None and period > last:
        return "TERMINATED"
    pending = found.pending_termination
    if pending is not None and pending.death_month is not None and period > pending.death_month:
        return "DECEASED"
    if found.suspended_in(period):
        return "SUSPENDED"
    if pending is not None:
        return "TERMINATION_PENDING"
    exit_window = found.gradual_exit
    if exit_window is not None and exit_window[0] <= period <= exit_window[1]:
        return "GRADUAL_EXIT"
    return "ACTIVE"


def months_covered(period: Period, frequency: str) -> list[Period]:
    """The months one instalment labelled ``period`` pays for (3 for a quarter, 12 a year)."""
    span = 12 // INSTALMENTS_PER_YEAR[frequency]
    return [period.plus(i) for i in range(span)]


# --- Lifecycle folds -----------------------------------------------------------------------


def apply_programme_defined(state: DomainState, event: DomainEvent) -> None:
    """A later definition on the same stream amends the programme: the newest one wins."""
    p = event.payload
    terms = ProgrammeTerms(
        p["programme_code"], p["payment_frequency"], frozenset(p["exclusive_with"])
    )
    state.table(PROGRAMMES).put(terms.programme_code, terms)


def apply_application_submitted(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    place = ApplicationPlace(p["township_org_id"], p["residence_org_id"])
    state.table(APPLICATIONS).put(p["application_id"], place)


def apply_beneficiary_enrolled(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    enrolled = Enrolment(
        enrolment_id=p["enrolment_id"],
        application_id=p["application_id"],
        person_id=p["person_id"],
        programme_code=p["programme_code"],
        support_mode=p["support_mode"],
        institution_id=p["institution_id"],
        annual_amount_fen=p["annual_amount_fen"],
        first_payable_period=Period.parse(p["first_payable_period"]),
        payment_account_id=p["payment_account_id"],
    )
    state.table(ENROLMENTS).put(enrolled.enrolment_id, enrolled)


def _replace_enrolment(state: DomainState, enrolment_id: str, **changes: Any) -> None:
    # The lifecycle module refuses events on unknown enrolments; if one still arrives here
    # (its module is not registered, as in unit tests), there is nothing to update.
    found = enrolment(state, enrolment_id)
    if found is not None:
        state.table(ENROLMENTS).put(enrolment_id, replace(found, **changes))


def apply_termination_proposed(state: DomainState, event: DomainEvent) -> None:
    death_date = event.payload["death_date"]
    death = parse_date(death_date) if death_date is not None else None
    pending = PendingTermination(event.payload["reason_code"], death)
    _replace_enrolment(state, event.stream_id, pending_termination=pending)


def apply_termination_decided(state: DomainState, event: DomainEvent) -> None:
    """The last payable period is the month before the effective period, or the month of
    death when the proposal reported an earlier death (PAY-2)."""
    found = enrolment(state, event.stream_id)
    if found is None:
        return
    pending = found.pending_termination
    last_payable = last_payable_period(
        Period.parse(event.payload["effective_period"]),
        pending.reason_code if pending else None,
        pending.death if pending else None,
    )
    _replace_enrolment(
        state, event.stream_id, pending_termination=None, last_payable_period=last_payable
    )


def apply_termination_withdrawn(state: DomainState, event: DomainEvent) -> None:
    _replace_enrolment(state, event.stream_id, pending_termination=None)


def apply_entitlement_changed(state: DomainState, event: DomainEvent) -> None:
    """An adjustment (``amount_fen``) or a revaluation (``to_fen``) from a month on."""
    found = enrolment(state, event.stream_id)
    if found is None:
        return
    p = event.payload
    amount = p["amount_fen"] if event.event_type == "EntitlementAdjusted" else p["to_fen"]
    change = (Period.parse(p["effective_period"]), amount)
    _replace_enrolment(state, event.stream_id, amount_changes=(*found.amount_changes, change))


def apply_support_mode_changed(state: DomainState, event: DomainEvent) -> None:
    found = enrolment(state, event.stream_id)
    if found is None:
        return
    p = event.payload
    change = (
        Period.parse(p["effective_period"]),
        p["to"],
        p["institution_id"],
        p["payment_account_id"],
    )
    _replace_enrolment(state, event.stream_id, mode_changes=(*found.mode_changes, change))


def apply_suspended(state: DomainState, event: DomainEvent) -> None:
    found = enrolment(state, event.stream_id)
    if found is None:
        return
    p = event.payload
    last = None if p["to_period"] is None else Period.parse(p["to_period"])
    spell = (Period.parse(p["from_period"]), last)
    _replace_enrolment(state, event.stream_id, suspensions=(*found.suspensions, spell))


def apply_reinstated(state: DomainState, event: DomainEvent) -> None:
    """The latest suspension ends the month before payments resume."""
    found = enrolment(state, event.stream_id)
    if found is None or not found.suspensions:
        return
    resumes = Period.parse(event.payload["from_period"]).plus(-1)
    first, last = found.suspensions[-1]
    ended = (first, resumes if last is None else min(last, resumes))
    _replace_enrolment(state, event.stream_id, suspensions=(*found.suspensions[:-1], ended))


def apply_gradual_exit(state: DomainState, event: DomainEvent) -> None:
    window = (
        Period.parse(event.payload["first_period"]),
        Period.parse(event.payload["last_period"]),
    )
    _replace_enrolment(state, event.stream_id, gradual_exit=window)


def apply_payment_account_registered(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    registered = PaymentAccount(
        p["account_id"], p["channel"], p["holder_person_id"], p["holder_org_id"]
    )
    state.table(ACCOUNTS).put(registered.account_id, registered)


def apply_residency_recorded(state: DomainState, event: DomainEvent) -> None:
    """An admission, or the discharge of that admission (same institution and admission
    date): the newer record replaces the older one."""
    p = event.payload
    discharged = p["discharged_on"]
    stay = Stay(
        p["institution_id"],
        parse_date(p["admitted_on"]),
        parse_date(discharged) if discharged is not None else None,
    )
    table = state.table(RESIDENCIES)
    others = tuple(
        s
        for s in table.get(p["person_id"]) or ()
        if (s.institution_id, s.admitted_on) != (stay.institution_id, stay.admitted_on)
    )
    table.put(p["person_id"], (*others, stay))


# --- Line checks (shared by preparation, approval and reissue) -----------------------------


@dataclass(frozen=True, slots=True)
class _Roll:
    """What every line of one batch is checked against."""

    batch_id: str
    programme: ProgrammeTerms
    admin_unit_id: str
    period: Period
    fund: funds.FundAccount


def _require_enrolment(
    state: DomainState, enrolment_id: str, programme_code: str, person_id: str
) -> Enrolment:
    """The enrolment exists, is in the batch's programme and is the line's person (ENV-8)."""
    found = enrolment(state, enrolment_id)
    if found is None:
        raise refuse("ENV-8", "No enrolment has this id.", enrolment_id=enrolment_id)
    require(
        found.programme_code == programme_code,
        "ENV-8",
        "The enrolment belongs to another programme than the batch.",
        enrolment_id=enrolment_id,
        enrolment_programme=found.programme_code,
        batch_programme=programme_code,
    )
    require(
        found.person_id == person_id,
        "ENV-8",
        "The line's person is not the enrolled person.",
        enrolment_id=enrolment_id,
        line_person_id=person_id,
        enrolled_person_id=found.person_id,
    )
    return found


def _require_place(
    state: DomainState, directory: Directory, roll: _Roll, enrolled: Enrolment
) -> None:
    """The enrolment is in the batch's admin unit (ENV-8), and the fund belongs to the
    enrolment's township or a level above it (FUND-6: no paying from another area's fund)."""
    place: ApplicationPlace | None = state.table(APPLICATIONS).get(enrolled.application_id)
    if place is None:
        raise refuse(
            "ENV-8",
            "The enrolment's application is not known, so its township cannot be checked.",
            enrolment_id=enrolled.enrolment_id,
            application_id=enrolled.application_id,
        )
    require(
        directory.is_within(place.township_org_id, roll.admin_unit_id),
        "ENV-8",
        "The enrolment's township is outside the batch's admin unit.",
        enrolment_id=enrolled.enrolment_id,
        township_org_id=place.township_org_id,
        admin_unit_id=roll.admin_unit_id,
    )
    require(
        directory.is_within(place.township_org_id, roll.fund.owner_org_id),
        "FUND-6",
        "The fund account is not owned by the enrolment's township or an organisation above it.",
        enrolment_id=enrolled.enrolment_id,
        township_org_id=place.township_org_id,
        fund_account_id=roll.fund.fund_account_id,
        fund_owner_org_id=roll.fund.owner_org_id,
    )


def _require_payable_in(enrolled: Enrolment, period: Period) -> None:
    """PAY-2 (not after the last payable period: termination, gradual exit or death), PAY-1
    (payable status in the period: not suspended) and PAY-3 (not before the first payable
    period)."""
    last = enrolled.payable_until()
    require(
        last is None or period <= last,
        "PAY-2",
        "The period is after the enrolment's last payable period.",
        enrolment_id=enrolled.enrolment_id,
        period=str(period),
        last_payable_period=str(last),
    )
    status = enrolment_status(enrolled, period)
    require(
        status in PAYABLE_STATUSES,
        "PAY-1",
        "The enrolment is not payable in this period.",
        enrolment_id=enrolled.enrolment_id,
        period=str(period),
        status=status,
    )
    require(
        period >= enrolled.first_payable_period,
        "PAY-3",
        "The period is before the enrolment's first payable period.",
        enrolment_id=enrolled.enrolment_id,
        period=str(period),
        first_payable_period=str(enrolled.first_payable_period),
    )


def _require_channel(
    state: DomainState, enrolled: Enrolment, roll: _Roll, channel: str, account_id: str
) -> None:
    """PAY-4: dispersed support goes to the person's own 一卡通 account; centralised support
    to the account of the institution the person lived in during the period."""
    evidence = {"enrolment_id": enrolled.enrolment_id, "account_id": account_id}
    required_channel = REQUIRED_CHANNEL[enrolled.support_mode]
    require(
        channel == required_channel,
        "PAY-4",
        f"{enrolled.support_mode} support must be paid through {required_channel}.",
        channel=channel,
        **evidence,
    )
    registered = payment_account(state, account_id)
    if registered is None:
        raise refuse("ENV-8", "No payment account has this id.", **evidence)
    require(
        registered.channel == channel,
        "PAY-4",
        "The account is not registered for the line's channel.",
        channel=channel,
        account_channel=registered.channel,
        **evidence,
    )
    if enrolled.support_mode == "DISPERSED":
        require(
            registered.holder_person_id == enrolled.person_id,
            "PAY-4",
            "The 一卡通 account is not held by the beneficiary.",
            holder_person_id=registered.holder_person_id,
            person_id=enrolled.person_id,
            **evidence,
        )
        return
    _require_institution_account(state, enrolled, roll, registered)


def _require_institution_account(
    state: DomainState, enrolled: Enrolment, roll: _Roll, registered: PaymentAccount
) -> None:
    """The centralised half of PAY-4: the enrolment's institution holds the account, and a
    residency record shows the person living there during the period."""
    require(
        registered.holder_org_id is not None
        and registered.holder_org_id == enrolled.institution_id,
        "PAY-4",
        "The institution account is not held by the enrolment's institution.",
        enrolment_id=enrolled.enrolment_id,
        account_id=registered.account_id,
        holder_org_id=registered.holder_org_id,
        institution_id=enrolled.institution_id,
    )
    months = months_covered(roll.period, roll.programme.payment_frequency)
    first_day = date(months[0].year, months[0].month, 1)
    after = months[-1].plus(1)
    last_day = date(after.year, after.month, 1) - timedelta(days=1)
    stays: tuple[Stay, ...] = state.table(RESIDENCIES).get(enrolled.person_id) or ()
    require(
        any(
            s.institution_id == enrolled.institution_id and s.overlaps(first_day, last_day)
            for s in stays
        ),
        "PAY-4",
        "No residency record shows the person living in the institution during the period.",
        enrolment_id=enrolled.enrolment_id,
        person_id=enrolled.person_id,
        institution_id=enrolled.institution_id,
        period=str(roll.period),
    )


def _require_full_amount(enrolled: Enrolment, roll: _Roll, amount_fen: int) -> None:
    """PAY-5: exactly the §4.2 instalment of the annual standard. Over-payment is refused;
    so is under-payment, because the schema has no ``partial_reason`` to justify it."""
    due = period_amount_fen(
        enrolled.annual_amount_fen, roll.programme.payment_frequency, roll.period
    )
    require(
        amount_fen == due,
        "PAY-5",
        "The line amount is not the instalment due for the period.",
        enrolment_id=enrolled.enrolment_id,
        period=str(roll.period),
        amount_fen=amount_fen,
        due_fen=due,
    )


def _live_line(state: DomainState, line_id: str | None) -> PaymentLine | None:
    """The line, unless it failed or was cancelled (it no longer pays its period)."""
    found = line(state, line_id) if line_id is not None else None
    dead = (LineStatus.FAILED, LineStatus.CANCELLED)
    return None if found is None or found.status in dead else found


def _require_not_paid_twice(
    state: DomainState, enrolment_id: str, component: str, period: Period
) -> None:
    """PAY-6: no other non-failed line, in any batch, for the same enrolment, component and
    period."""
    earlier = _live_line(state, state.table(SLOTS).get((enrolment_id, component, period)))
    require(
        earlier is None,
        "PAY-6",
        "The enrolment already has a payment line for this component and period.",
        enrolment_id=enrolment_id,
        component=component,
        period=str(period),
        existing_line_id=earlier.line_id if earlier else None,
    )


def _require_not_exclusive(state: DomainState, person_id: str, roll: _Roll) -> None:
    """PAY-7: the person has no live line covering the same months in a programme that this
    programme excludes, or that excludes this programme."""
    own = roll.programme
    for month in months_covered(roll.period, own.payment_frequency):
        for other_id in state.table(PERSON_MONTHS).get((person_id, month)) or ():
            other = _live_line(state, other_id)
            if other is None:
                continue
            other_terms = programme(state, other.programme_code)
            excluded = other_terms.exclusive_with if other_terms else frozenset[str]()
            require(
                other.programme_code not in own.exclusive_with
                and own.programme_code not in excluded,
                "PAY-7",
                "The person is already paid for this period by an exclusive programme.",
                person_id=person_id,
                month=str(month),
                programme_code=own.programme_code,
                other_programme_code=other.programme_code,
                other_line_id=other.line_id,
            )


def _require_new_line_id(state: DomainState, line_id: str) -> None:
    require(
        line_id not in state.table(LINES),
        "ENV-7",
        "This payment line id is already used.",
        line_id=line_id,
    )


# --- PaymentBatchPrepared ------------------------------------------------------------------


def _require_roll(state: DomainState, directory: Directory, event: DomainEvent) -> _Roll:
    """The batch-level checks of a preparation; returns what the lines are checked against."""
    p = event.payload
    require(
        event.stream_id == p["batch_id"],
        "ENV-5",
        "The event's stream must be the batch it prepares.",
        stream_id=event.stream_id,
        batch_id=p["batch_id"],
    )
    require(
        p["batch_id"] not in state.table(BATCHES),
        "ENV-7",
        "A payment batch with this id already exists.",
        batch_id=p["batch_id"],
    )
    require(
        directory.org_exists(p["admin_unit_id"]),
        "ENV-8",
        "The batch's admin unit is not registered.",
        admin_unit_id=p["admin_unit_id"],
    )
    require_scope(directory, event, p["admin_unit_id"])
    terms = programme(state, p["programme_code"])
    if terms is None:
        raise refuse("ENV-8", "The programme is not defined.", programme_code=p["programme_code"])
    roll = _Roll(
        p["batch_id"],
        terms,
        p["admin_unit_id"],
        Period.parse(p["period"]),
        funds.require_account(state, p["fund_account_id"]),
    )
    _require_roll_fits(roll)
    return roll


def _require_roll_fits(roll: _Roll) -> None:
    """FUND-2 for the whole roll, and the period must be an instalment of the programme."""
    funds.require_earmark(
        roll.fund,
        programme_code=roll.programme.programme_code,
        purpose=funds.BASIC_LIVING,
        year=roll.period.year,
    )
    frequency = roll.programme.payment_frequency
    require(
        is_payment_period(roll.period, frequency),
        "PAY-5",
        "The period is not an instalment period of the programme's payment frequency.",
        period=str(roll.period),
        payment_frequency=frequency,
    )


def _require_lines_consistent(event: DomainEvent) -> None:
    """The total is the sum of the lines (what approval commits is what the lines pay), and
    no line id appears twice."""
    lines = event.payload["lines"]
    total = sum(item["amount_fen"] for item in lines)
    require(
        total == event.payload["total_fen"],
        "ENV-5",
        "The batch total is not the sum of its lines.",
        total_fen=event.payload["total_fen"],
        sum_of_lines_fen=total,
    )
    seen: set[str] = set()
    for item in lines:
        require(
            item["line_id"] not in seen,
            "ENV-7",
            "A line id appears twice in the batch.",
            line_id=item["line_id"],
        )
        seen.add(item["line_id"])


def _check_line(
    state: DomainState, directory: Directory, roll: _Roll, item: Mapping[str, Any]
) -> None:
    """Every per-line invariant of a new line (PAY-1 … PAY-7, FUND-6), except PAY-6 against
    the other lines of the same batch, which the caller checks."""
    _require_new_line_id(state, item["line_id"])
    enrolled = _require_enrolment(
        state, item["enrolment_id"], roll.programme.programme_code, item["person_id"]
    )
    _require_place(state, directory, roll, enrolled)
    _require_payable_in(enrolled, roll.period)
    in_force = enrolled.as_of(roll.period)
    _require_channel(state, in_force, roll, item["channel"], item["account_id"])
    _require_full_amount(in_force, roll, item["amount_fen"])
    _require_not_paid_twice(state, enrolled.enrolment_id, item["component"], roll.period)
    _require_not_exclusive(state, enrolled.person_id, roll)


def decide_batch_prepared(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A new batch whose every line may be paid (see :func:`_check_line`)."""
    roll = _require_roll(state, directory, event)
    _require_lines_consistent(event)
    claimed: set[tuple[str, str]] = set()
    for item in event.payload["lines"]:
        _check_line(state, directory, roll, item)
        slot = (item["enrolment_id"], item["component"])
        require(
            slot not in claimed,
            "PAY-6",
            "The batch pays the same enrolment and component twice.",
            enrolment_id=item["enrolment_id"],
            component=item["component"],
            line_id=item["line_id"],
        )
        claimed.add(slot)


def _put_line(state: DomainState, new: PaymentLine, frequency: str) -> None:
    """Store a line and index it for PAY-6 and PAY-7."""
    state.table(LINES).put(new.line_id, new)
    state.table(SLOTS).put((new.enrolment_id, new.component, new.period), new.line_id)
    person_months = state.table(PERSON_MONTHS)
    for month in months_covered(new.period, frequency):
        key = (new.person_id, month)
        person_months.put(key, (person_months.get(key) or frozenset()) | {new.line_id})


def apply_batch_prepared(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    period = Period.parse(p["period"])
    terms = state.table(PROGRAMMES)[p["programme_code"]]
    for item in p["lines"]:
        new = PaymentLine(
            line_id=item["line_id"],
            batch_id=p["batch_id"],
            programme_code=p["programme_code"],
            period=period,
            enrolment_id=item["enrolment_id"],
            person_id=item["person_id"],
            component=item["component"],
            amount_fen=item["amount_fen"],
            channel=item["channel"],
            account_id=item["account_id"],
        )
        _put_line(state, new, terms.payment_frequency)
    prepared = PaymentBatch(
        batch_id=p["batch_id"],
        programme_code=p["programme_code"],
        admin_unit_id=p["admin_unit_id"],
        period=period,
        fund_account_id=p["fund_account_id"],
        total_fen=p["total_fen"],
        line_ids=tuple(item["line_id"] for item in p["lines"]),
        preparer_actor_id=event.actor_id,
    )
    state.table(BATCHES).put(prepared.batch_id, prepared)


# --- PaymentBatchApproved ------------------------------------------------------------------


def _require_batch(state: DomainState, event: DomainEvent) -> PaymentBatch:
    """The batch this event's stream names (ENV-8 if it was never prepared)."""
    found = batch(state, event.stream_id)
    if found is None:
        raise refuse("ENV-8", "No payment batch has this id.", batch_id=event.stream_id)
    return found


def _require_batch_status(found: PaymentBatch, expected: BatchStatus, action: str) -> None:
    require(
        found.status is expected,
        "ENV-7",
        f"Only a {expected.value.lower()} batch can be {action}.",
        batch_id=found.batch_id,
        status=found.status.value,
    )


def _roll_of(state: DomainState, found: PaymentBatch) -> _Roll:
    return _Roll(
        found.batch_id,
        state.table(PROGRAMMES)[found.programme_code],
        found.admin_unit_id,
        found.period,
        funds.require_account(state, found.fund_account_id),
    )


def decide_batch_approved(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A prepared batch, approved by another person (SOD-5), still fitting its fund (FUND-2),
    whose lines are all still payable (a termination may have been decided since, PAY-1/2),
    and whose total the fund can hold (FUND-1)."""
    found = _require_batch(state, event)
    require_scope(directory, event, found.admin_unit_id)
    _require_batch_status(found, BatchStatus.PREPARED, "approved")
    preparer = directory.actor_person(found.preparer_actor_id)
    approver = directory.actor_person(event.actor_id)
    require(
        approver != preparer,
        "SOD-5",
        "The person who prepared a payment batch cannot approve it.",
        batch_id=found.batch_id,
        preparer_person=preparer,
        approver_person=approver,
    )
    roll = _roll_of(state, found)
    _require_roll_fits(roll)
    for listed in batch_lines(state, found.batch_id):
        _require_payable_in(state.table(ENROLMENTS)[listed.enrolment_id], found.period)
    funds.require_available(state, found.fund_account_id, found.total_fen)


def apply_batch_approved(state: DomainState, event: DomainEvent) -> None:
    found = state.table(BATCHES)[event.stream_id]
    lines = state.table(LINES)
    for listed in batch_lines(state, found.batch_id):
        lines.put(listed.line_id, replace(listed, status=LineStatus.COMMITTED))
    state.table(BATCHES).put(found.batch_id, replace(found, status=BatchStatus.APPROVED))
    funds.commit_payment(state, found.fund_account_id, found.total_fen)


# --- PaymentBatchCancelled -----------------------------------------------------------------


def decide_batch_cancelled(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """Only a batch that is not approved yet can be withdrawn: once approved, money is
    committed and only the bank's results (or a reissue) move it."""
    found = _require_batch(state, event)
    require_scope(directory, event, found.admin_unit_id)
    _require_batch_status(found, BatchStatus.PREPARED, "cancelled")


def apply_batch_cancelled(state: DomainState, event: DomainEvent) -> None:
    found = state.table(BATCHES)[event.stream_id]
    lines = state.table(LINES)
    for listed in batch_lines(state, found.batch_id):
        lines.put(listed.line_id, replace(listed, status=LineStatus.CANCELLED))
    state.table(BATCHES).put(found.batch_id, replace(found, status=BatchStatus.CANCELLED))


# --- PaymentBatchSubmitted -----------------------------------------------------------------


def decide_batch_submitted(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """Only an approved batch goes to the bank (once)."""
    found = _require_batch(state, event)
    require_scope(directory, event, found.admin_unit_id)
    _require_batch_status(found, BatchStatus.APPROVED, "submitted")


def apply_batch_submitted(state: DomainState, event: DomainEvent) -> None:
    found = state.table(BATCHES)[event.stream_id]
    state.table(BATCHES).put(found.batch_id, replace(found, status=BatchStatus.SUBMITTED))


# --- Bank results (facts: never refused, §4.0) ---------------------------------------------


def _line_of_batch(state: DomainState, event: DomainEvent) -> PaymentLine | None:
    """The reported line, if it is a line of the batch whose stream the report is on."""
    found = line(state, event.payload["line_id"])
    return found if found is not None and found.batch_id == event.stream_id else None


def apply_payment_settled(state: DomainState, event: DomainEvent) -> None:
    """A committed line is paid: its commitment becomes a settled payment. Any other
    settlement is money that left without a commitment: recorded for AF-PAY-UNAUTHORISED,
    and kept out of the balance identity, which counts only what the ledger authorised."""
    reported = _line_of_batch(state, event)
    amount = event.payload["amount_fen"]
    if reported is None or reported.status is not LineStatus.COMMITTED:
        _record_unauthorised_settlement(state, event, reported)
        return
    state.table(LINES).put(
        reported.line_id, replace(reported, status=LineStatus.SETTLED, settled_fen=amount)
    )
    fund_id = state.table(BATCHES)[reported.batch_id].fund_account_id
    funds.settle_payment(state, fund_id, committed_fen=reported.amount_fen, settled_fen=amount)
    if amount != reported.amount_fen:
        difference = SettlementDifference(reported.line_id, reported.amount_fen, amount)
        state.table(SETTLEMENT_DIFFERENCES).put(reported.line_id, difference)


_UNAUTHORISED_REASONS = {
    LineStatus.PREPARED: "NOT_APPROVED",
    LineStatus.SETTLED: "ALREADY_SETTLED",
    LineStatus.FAILED: "FAILED",
    LineStatus.RETURNED: "RETURNED",
}
"""Why a settlement of a known line was not expected, by the line's status."""


def _record_unauthorised_settlement(
    state: DomainState, event: DomainEvent, reported: PaymentLine | None
) -> None:
    reason = _UNAUTHORISED_REASONS[reported.status] if reported else "UNKNOWN_LINE"
    known_batch = batch(state, event.stream_id)
    record = UnauthorisedSettlement(
        event_id=event.event_id,
        batch_id=event.stream_id,
        line_id=event.payload["line_id"],
        amount_fen=event.payload["amount_fen"],
        reason=reason,
        fund_account_id=known_batch.fund_account_id if known_batch else None,
    )
    state.table(UNAUTHORISED_SETTLEMENTS).put(event.event_id, record)


def _record_unmatched(state: DomainState, event: DomainEvent, reported: PaymentLine | None) -> None:
    reason = "UNKNOWN_LINE" if reported is None else f"LINE_{reported.status.value}"
    record = UnmatchedBankResult(
        event.event_id, event.event_type, event.stream_id, event.payload["line_id"], reason
    )
    state.table(UNMATCHED_RESULTS).put(event.event_id, record)


def apply_payment_failed(state: DomainState, event: DomainEvent) -> None:
    """A committed line could not be paid: its commitment is released (the money is
    available again) and the period may be paid by a reissue or a later batch."""
    reported = _line_of_batch(state, event)
    if reported is None or reported.status is not LineStatus.COMMITTED:
        _record_unmatched(state, event, reported)
        return
    state.table(LINES).put(reported.line_id, replace(reported, status=LineStatus.FAILED))
    fund_id = state.table(BATCHES)[reported.batch_id].fund_account_id
    funds.release_commitment(state, fund_id, reported.amount_fen)


def apply_payment_returned(state: DomainState, event: DomainEvent) -> None:
    """A settled payment came back: the returned amount is available again."""
    reported = _line_of_batch(state, event)
    if reported is None or reported.status is not LineStatus.SETTLED:
        _record_unmatched(state, event, reported)
        return
    state.table(LINES).put(reported.line_id, replace(reported, status=LineStatus.RETURNED))
    fund_id = state.table(BATCHES)[reported.batch_id].fund_account_id
    funds.return_payment(state, fund_id, event.payload["amount_fen"])


# --- PaymentLineReissued -------------------------------------------------------------------


def _require_reissuable(state: DomainState, event: DomainEvent) -> PaymentLine:
    """The original is a failed line of this batch that has not been reissued yet."""
    original = line(state, event.payload["original_line_id"])
    if original is None or original.batch_id != event.stream_id:
        raise refuse(
            "ENV-8",
            "The original line is not a line of this batch.",
            batch_id=event.stream_id,
            original_line_id=event.payload["original_line_id"],
        )
    require(
        original.status is LineStatus.FAILED and original.reissued_as is None,
        "ENV-7",
        "Only a failed line that has not been reissued can be reissued.",
        original_line_id=original.line_id,
        status=original.status.value,
        reissued_as=original.reissued_as,
    )
    return original


def decide_line_reissued(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The same invariants as a prepared line (the enrolment may have ended since, the new
    account must fit PAY-4, nobody else may have paid the period meanwhile), and the fund
    must hold the amount again (FUND-1)."""
    found = _require_batch(state, event)
    require_scope(directory, event, found.admin_unit_id)
    original = _require_reissuable(state, event)
    _require_new_line_id(state, event.payload["new_line_id"])
    roll = _roll_of(state, found)
    enrolled = state.table(ENROLMENTS)[original.enrolment_id]
    _require_payable_in(enrolled, roll.period)
    in_force = enrolled.as_of(roll.period)
    _require_channel(state, in_force, roll, original.channel, event.payload["account_id"])
    _require_not_paid_twice(state, original.enrolment_id, original.component, roll.period)
    _require_not_exclusive(state, original.person_id, roll)
    funds.require_available(state, found.fund_account_id, original.amount_fen)


def apply_line_reissued(state: DomainState, event: DomainEvent) -> None:
    """The new line joins the same batch, committed; the original points to it."""
    found = state.table(BATCHES)[event.stream_id]
    original = state.table(LINES)[event.payload["original_line_id"]]
    new = replace(
        original,
        line_id=event.payload["new_line_id"],
        account_id=event.payload["account_id"],
        status=LineStatus.COMMITTED,
        settled_fen=None,
        reissue_of=original.line_id,
        reissued_as=None,
    )
    state.table(LINES).put(original.line_id, replace(original, reissued_as=new.line_id))
    frequency = state.table(PROGRAMMES)[found.programme_code].payment_frequency
    _put_line(state, new, frequency)
    state.table(BATCHES).put(
        found.batch_id, replace(found, line_ids=(*found.line_ids, new.line_id))
    )
    funds.commit_payment(state, found.fund_account_id, new.amount_fen)


# --- Registration --------------------------------------------------------------------------

_LIFECYCLE_FOLDS = {
    "ProgrammeDefined": apply_programme_defined,
    "ApplicationSubmitted": apply_application_submitted,
    "BeneficiaryEnrolled": apply_beneficiary_enrolled,
    "TerminationProposed": apply_termination_proposed,
    "TerminationDecided": apply_termination_decided,
    "TerminationWithdrawn": apply_termination_withdrawn,
    "PaymentAccountRegistered": apply_payment_account_registered,
    "InstitutionResidencyRecorded": apply_residency_recorded,
    "EntitlementAdjusted": apply_entitlement_changed,
    "EntitlementRevalued": apply_entitlement_changed,
    "SupportModeChanged": apply_support_mode_changed,
    "BeneficiarySuspended": apply_suspended,
    "BeneficiaryReinstated": apply_reinstated,
    "GradualExitStarted": apply_gradual_exit,
}


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    # The lifecycle events are decided by their own modules; here they are only folded.
    for event_type, fold in _LIFECYCLE_FOLDS.items():
        rules.register(event_type, apply=fold)
    rules.register("PaymentBatchPrepared", apply_batch_prepared, decide_batch_prepared)
    rules.register("PaymentBatchApproved", apply_batch_approved, decide_batch_approved)
    rules.register("PaymentBatchCancelled", apply_batch_cancelled, decide_batch_cancelled)
    rules.register("PaymentBatchSubmitted", apply_batch_submitted, decide_batch_submitted)
    rules.register("PaymentSettled", apply_payment_settled)  # facts: never refused (§4.0)
    rules.register("PaymentFailed", apply_payment_failed)
    rules.register("PaymentReturned", apply_payment_returned)
    rules.register("PaymentLineReissued", apply_line_reissued, decide_line_reissued)
