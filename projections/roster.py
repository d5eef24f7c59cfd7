"""The beneficiary roster (``domain.md`` §6.5 ``BeneficiaryRoster``), bitemporal.

One row per enrolment and change: each event that changes an enrolment closes the open row
(``known_to`` = its log index) and opens a new one (``known_from`` = its log index), so a
query *as known at* any position reads one indexed range, however long the history is.

Status machine (W5): ``BeneficiaryEnrolled`` → ACTIVE; ``TerminationProposed`` →
TERMINATION_PENDING; ``TerminationWithdrawn`` → ACTIVE; ``TerminationDecided`` → TERMINATED
with ``last_payable_period`` = effective period - 1 month, or the month of death when the
proposal's reason was DECEASED and the death came earlier. ``ReferralMade`` sets
``referred_to``. The township and village come from the enrolment's ``ApplicationSubmitted``;
the payment frequency from the programme's ``ProgrammeDefined`` in force at enrolment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Self

from ledger.domain import periods
from ledger.domain.periods import Period, period_amount_fen
from ledger.projections.base import Projection, State
from ledger.projections.events import Event, fen
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table

ACTIVE = "ACTIVE"
TERMINATION_PENDING = "TERMINATION_PENDING"
TERMINATED = "TERMINATED"


@dataclass(slots=True)
class RosterRow:
    """One enrolment as known at some log position (``known_*`` are not stored columns)."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("enrolment_id", "TEXT NOT NULL"),
        ("programme_code", "TEXT"),
        ("township_org_id", "TEXT"),
        ("residence_org_id", "TEXT"),
        ("person_id", "TEXT"),
        ("household_id", "TEXT"),
        ("application_id", "TEXT"),
        ("support_mode", "TEXT"),
        ("institution_id", "TEXT"),
        ("annual_amount_fen", "BIGINT"),
        ("payment_frequency", "TEXT"),
        ("status", "TEXT"),
        ("first_payable_period", "TEXT"),
        ("last_payable_period", "TEXT"),
        ("termination_reason", "TEXT"),
        ("death_date", "TEXT"),
        ("termination_effective_period", "TEXT"),
        ("referred_to", "TEXT"),
        ("payment_account_id", "TEXT"),
        ("dossier_id", "TEXT"),
    )

    enrolment_id: str
    programme_code: str | None
    township_org_id: str | None
    residence_org_id: str | None
    person_id: str | None
    household_id: str | None
    application_id: str | None
    support_mode: str | None
    institution_id: str | None
    annual_amount_fen: int
    payment_frequency: str | None
    status: str
    first_payable_period: str | None
    last_payable_period: str | None
    termination_reason: str | None
    death_date: str | None
    termination_effective_period: str | None
    referred_to: str | None
    payment_account_id: str | None
    dossier_id: str | None
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)

    def period_amount_fen(self, period: str) -> int | None:
        """The instalment due for ``period`` under the programme's frequency (§4.2), or
        ``None`` when the frequency is unknown or ``period`` is not a payment period."""
        if self.payment_frequency is None:
            return None
        p = Period.parse(period)
        step = {"MONTHLY": 1, "QUARTERLY": 3, "YEARLY": 12}[self.payment_frequency]
        if (p.month - 1) % step:
            return None
        return period_amount_fen(self.annual_amount_fen, self.payment_frequency, p)


@dataclass(slots=True)
class ApplicationRow:
    """Where an application's household lives (read when it is enrolled)."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("application_id", "TEXT NOT NULL"),
        ("township_org_id", "TEXT"),
        ("residence_org_id", "TEXT"),
        ("household_id", "TEXT"),
    )
    application_id: str
    township_org_id: str | None
    residence_org_id: str | None
    household_id: str | None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


@dataclass(slots=True)
class ProgrammeRow:
    """A programme's payment frequency as last defined."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("programme_code", "TEXT NOT NULL"),
        ("payment_frequency", "TEXT"),
    )
    programme_code: str
    payment_frequency: str | None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


_CURRENT = "WHERE known_to IS NULL"
ROSTER = Table(
    "proj_roster",
    RosterRow,
    versioned=True,
    indexes=(
        # Current-state pages, each filter keyset-ordered by enrolment_id: partial indexes
        # over open rows only, so their size is the roster's, not the history's.
        f"(programme_code, enrolment_id) {_CURRENT}",
        f"(township_org_id, enrolment_id) {_CURRENT}",
        f"(residence_org_id, enrolment_id) {_CURRENT}",
        f"(status, enrolment_id) {_CURRENT}",
        # As-known-at pages: the version test is answered from the index entries.
        "(programme_code, enrolment_id, known_from, known_to)",
        "(township_org_id, enrolment_id, known_from, known_to)",
        "(residence_org_id, enrolment_id, known_from, known_to)",
    ),
)
APPLICATIONS = Table("proj_roster_applications", ApplicationRow, versioned=False)
PROGRAMMES = Table("proj_roster_programmes", ProgrammeRow, versioned=False)


class RosterState(State):
    """Working copies of the roster and its lookup tables."""

    def __init__(
        self,
        enrolments: Rows[RosterRow],
        applications: Rows[ApplicationRow],
        programmes: Rows[ProgrammeRow],
    ) -> None:
        self.enrolments = enrolments
        self.applications = applications
        self.programmes = programmes

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.enrolments, self.applications, self.programmes)


# --------------------------------------------------------------------------- pure folds


def _programme_defined(state: RosterState, ev: Event) -> None:
    code = str(ev.payload.get("programme_code") or ev.stream_id)
    state.programmes.add(code, ProgrammeRow(code, ev.payload.get("payment_frequency")), ev.index)


def _application_submitted(state: RosterState, ev: Event) -> None:
    p = ev.payload
    app_id = str(p.get("application_id") or ev.stream_id)
    row = ApplicationRow(
        app_id, p.get("township_org_id"), p.get("residence_org_id"), p.get("household_id")
    )
    state.applications.add(app_id, row, ev.index)


def _enrolled(state: RosterState, ev: Event) -> None:
    p = ev.payload
    app = state.applications.get(str(p.get("application_id")))
    code = p.get("programme_code")
    programme = state.programmes.get(str(code))
    row = RosterRow(
        enrolment_id=ev.stream_id,
        programme_code=code,
        township_org_id=app.township_org_id if app else None,
        residence_org_id=app.residence_org_id if app else None,
        person_id=p.get("person_id"),
        household_id=p.get("household_id"),
        application_id=p.get("application_id"),
        support_mode=p.get("support_mode"),
        institution_id=p.get("institution_id"),
        annual_amount_fen=fen(p, "annual_amount_fen"),
        payment_frequency=programme.payment_frequency if programme else None,
        status=ACTIVE,
        first_payable_period=p.get("first_payable_period"),
        last_payable_period=None,
        termination_reason=None,
        death_date=None,
        termination_effective_period=None,
        referred_to=None,
        payment_account_id=p.get("payment_account_id"),
        dossier_id=p.get("dossier_id"),
    )
    state.enrolments.add(ev.stream_id, row, ev.index)


def _change(
    apply: Callable[[RosterRow, dict[str, Any]], None],
) -> Callable[[RosterState, Event], None]:
    """A fold for an event on an existing enrolment; an unknown enrolment is left alone
    (decisions on it were refused upstream; nothing here can be recorded against it)."""

    def fold(state: RosterState, ev: Event) -> None:
        row = state.enrolments.get(ev.stream_id)
        if row is not None:
            apply(row, ev.payload)
            state.enrolments.touch(ev.stream_id, ev.index)

    return fold


def _proposed(row: RosterRow, p: dict[str, Any]) -> None:
    row.status = TERMINATION_PENDING
    row.termination_reason = p.get("reason_code")
    row.death_date = p.get("death_date")


def _withdrawn(row: RosterRow, _p: dict[str, Any]) -> None:
    row.status = ACTIVE
    row.termination_reason = None
    row.death_date = None


def _decided(row: RosterRow, p: dict[str, Any]) -> None:
    effective = str(p.get("effective_period"))
    row.status = TERMINATED
    row.termination_effective_period = effective
    row.last_payable_period = last_payable_period(effective, row.termination_reason, row.death_date)


def _referred(row: RosterRow, p: dict[str, Any]) -> None:
    row.referred_to = p.get("to_programme_code")


def last_payable_period(effective: str, reason: str | None, death_date: str | None) -> str:
    """The domain's rule (:func:`ledger.domain.periods.last_payable_period`) on the
    projection's text columns."""
    death = date.fromisoformat(death_date) if death_date else None
    return str(periods.last_payable_period(Period.parse(effective), reason, death))


ROSTER_FOLDS: dict[str, Callable[[RosterState, Event], None]] = {
    "ProgrammeDefined": _programme_defined,
    "ApplicationSubmitted": _application_submitted,
    "BeneficiaryEnrolled": _enrolled,
    "TerminationProposed": _change(_proposed),
    "TerminationWithdrawn": _change(_withdrawn),
    "TerminationDecided": _change(_decided),
    "ReferralMade": _change(_referred),
}


def fold_roster(state: RosterState, ev: Event) -> None:
    """Apply one event to the roster state (other event types are ignored)."""
    handler = ROSTER_FOLDS.get(ev.event_type)
    if handler is not None:
        handler(state, ev)


class RosterProjection(Projection[RosterState]):
    """The ``BeneficiaryRoster`` projection."""

    name = "roster"
    version = 1
    types = frozenset(ROSTER_FOLDS)
    tables = (ROSTER, APPLICATIONS, PROGRAMMES)

    def empty(self) -> RosterState:
        return RosterState(Rows(ROSTER), Rows(APPLICATIONS), Rows(PROGRAMMES))

    def load(self, tx: Tx, events: Sequence[Event]) -> RosterState:
        enrolments, applications, programmes = set(), set(), set()
        for ev in events:
            if ev.stream_type == "enrolment":
                enrolments.add(ev.stream_id)
            if ev.event_type == "BeneficiaryEnrolled":
                applications.add(str(ev.payload.get("application_id")))
                programmes.add(str(ev.payload.get("programme_code")))
        return RosterState(
            Rows(ROSTER, ROSTER.load(tx, enrolments)),
            Rows(APPLICATIONS, APPLICATIONS.load(tx, applications)),
            Rows(PROGRAMMES, PROGRAMMES.load(tx, programmes)),
        )

    def fold(self, state: RosterState, event: Event) -> None:
        fold_roster(state, event)
