"""The payment ledger (``domain.md`` §6.5 ``PaymentLedger``, W2 §4.2), bitemporal per line.

One row per payment line (key ``line_id``): which beneficiary (enrolment, person), period,
component, programme, admin unit and fund account it pays, and where its money stands::

    PREPARED → AUTHORISED (batch approved) → SUBMITTED (batch sent to the bank)
             → SETTLED → RETURNED → REISSUED (paid again as ``reissued_as``)
             → FAILED → REISSUED
    PREPARED → CANCELLED (batch withdrawn before approval)

Amounts are integer fen: ``amount_fen`` is what the line was prepared for,
``authorised_fen`` what approval committed, ``settled_fen`` what the bank reported paid,
``returned_fen`` what came back. Bank facts are always recorded: a settlement of a line
that was never authorised (unknown, cancelled, already settled) is kept on the line (a row
with status UNKNOWN if the line was never prepared) and flagged ``unauthorised_settlement``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import orjson

from ledger.projections.base import Projection, State
from ledger.projections.events import Event, fen
from ledger.projections.inspections import json_text
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table

UNKNOWN = "UNKNOWN"
PREPARED = "PREPARED"
CANCELLED = "CANCELLED"
AUTHORISED = "AUTHORISED"
SUBMITTED = "SUBMITTED"
SETTLED = "SETTLED"
FAILED = "FAILED"
RETURNED = "RETURNED"
REISSUED = "REISSUED"
STATUSES = (
    UNKNOWN,
    PREPARED,
    CANCELLED,
    AUTHORISED,
    SUBMITTED,
    SETTLED,
    FAILED,
    RETURNED,
    REISSUED,
)
_PAYABLE = frozenset({AUTHORISED, SUBMITTED})
"""States in which the bank may settle or fail a line."""


@dataclass(slots=True)
class PaymentRow:
    """One payment line as known at some log position."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("line_id", "TEXT NOT NULL"),
        ("batch_id", "TEXT"),
        ("programme_code", "TEXT"),
        ("admin_unit_id", "TEXT"),
        ("period", "TEXT"),
        ("fund_account_id", "TEXT"),
        ("enrolment_id", "TEXT"),
        ("person_id", "TEXT"),
        ("component", "TEXT"),
        ("channel", "TEXT"),
        ("account_id", "TEXT"),
        ("amount_fen", "BIGINT NOT NULL"),
        ("status", "TEXT NOT NULL"),
        ("authorised_fen", "BIGINT NOT NULL"),
        ("authorised_on", "TEXT"),
        ("settled_fen", "BIGINT NOT NULL"),
        ("value_date", "TEXT"),
        ("bank_ref", "TEXT"),
        ("failed_reason", "TEXT"),
        ("returned_fen", "BIGINT NOT NULL"),
        ("returned_reason", "TEXT"),
        ("reissue_of", "TEXT"),
        ("reissued_as", "TEXT"),
        ("unauthorised_settlement", "BIGINT NOT NULL"),
    )

    line_id: str
    batch_id: str | None = None
    programme_code: str | None = None
    admin_unit_id: str | None = None
    period: str | None = None
    fund_account_id: str | None = None
    enrolment_id: str | None = None
    person_id: str | None = None
    component: str | None = None
    channel: str | None = None
    account_id: str | None = None
    amount_fen: int = 0
    status: str = UNKNOWN
    authorised_fen: int = 0
    authorised_on: str | None = None
    settled_fen: int = 0
    value_date: str | None = None
    bank_ref: str | None = None
    failed_reason: str | None = None
    returned_fen: int = 0
    returned_reason: str | None = None
    reissue_of: str | None = None
    reissued_as: str | None = None
    unauthorised_settlement: int = 0
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


@dataclass(slots=True)
class BatchRow:
    """A payment batch: what it pays for, and its lines (internal bookkeeping)."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("batch_id", "TEXT NOT NULL"),
        ("programme_code", "TEXT"),
        ("admin_unit_id", "TEXT"),
        ("period", "TEXT"),
        ("fund_account_id", "TEXT"),
        ("line_ids", "TEXT NOT NULL"),
    )
    batch_id: str
    programme_code: str | None = None
    admin_unit_id: str | None = None
    period: str | None = None
    fund_account_id: str | None = None
    line_ids: str = "[]"

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


_CURRENT = "WHERE known_to IS NULL"
PAYMENTS = Table(
    "proj_payments",
    PaymentRow,
    versioned=True,
    indexes=(
        f"(period, line_id) {_CURRENT}",
        f"(enrolment_id, line_id) {_CURRENT}",
        f"(admin_unit_id, line_id) {_CURRENT}",
    ),
)
PAYMENT_BATCHES = Table("proj_payment_batches", BatchRow, versioned=False)


class PaymentState(State):
    """Working copies of the payment lines and batches."""

    def __init__(self, lines: Rows[PaymentRow], batches: Rows[BatchRow]) -> None:
        self.lines = lines
        self.batches = batches

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.lines, self.batches)

    def line(self, line_id: str, batch_id: str) -> PaymentRow:
        """The line's row; an UNKNOWN one (placed in ``batch_id``) when a bank fact names a
        line that was never prepared."""
        row = self.lines.get(line_id)
        if row is None:
            row = PaymentRow(line_id, batch_id)
            batch = self.batches.get(batch_id)
            if batch is not None:
                _describe(row, batch)
            self.lines.rows[line_id] = row
        return row

    def lines_of(self, batch_id: str) -> list[PaymentRow]:
        batch = self.batches.get(batch_id)
        if batch is None:
            return []
        return [self.lines.rows[i] for i in orjson.loads(batch.line_ids) if i in self.lines.rows]


def _describe(row: PaymentRow, batch: BatchRow) -> None:
    row.programme_code = batch.programme_code
    row.admin_unit_id = batch.admin_unit_id
    row.period = batch.period
    row.fund_account_id = batch.fund_account_id


# --------------------------------------------------------------------------- pure folds


def _prepared(state: PaymentState, ev: Event) -> None:
    p = ev.payload
    batch = BatchRow(
        ev.stream_id,
        p.get("programme_code"),
        p.get("admin_unit_id"),
        p.get("period"),
        p.get("fund_account_id"),
    )
    ids: list[str] = []
    for line in p.get("lines") or []:
        line_id = str(line.get("line_id"))
        if state.lines.get(line_id) is not None:
            continue  # a line id is used once; never re-point an existing line
        row = PaymentRow(
            line_id,
            ev.stream_id,
            enrolment_id=line.get("enrolment_id"),
            person_id=line.get("person_id"),
            component=line.get("component"),
            channel=line.get("channel"),
            account_id=line.get("account_id"),
            amount_fen=fen(line),
            status=PREPARED,
        )
        _describe(row, batch)
        state.lines.add(line_id, row, ev.index)
        ids.append(line_id)
    batch.line_ids = json_text(ids)
    state.batches.add(ev.stream_id, batch, ev.index)


def _batch_moves(
    from_states: frozenset[str], to_state: str, *, authorise: bool = False
) -> Callable[[PaymentState, Event], None]:
    """A fold moving every line of the event's batch in ``from_states`` to ``to_state``."""

    def fold(state: PaymentState, ev: Event) -> None:
        for row in state.lines_of(ev.stream_id):
            if row.status not in from_states:
                continue
            row.status = to_state
            if authorise:
                row.authorised_fen = row.amount_fen
                row.authorised_on = ev.payload.get("approved_on")
            state.lines.touch(row.line_id, ev.index)

    return fold


def _settled(state: PaymentState, ev: Event) -> None:
    p = ev.payload
    row = state.line(str(p.get("line_id")), ev.stream_id)
    if row.status in _PAYABLE:
        row.status = SETTLED
    else:
        row.unauthorised_settlement = 1  # money left the account for a line not authorised
    row.settled_fen += fen(p)
    row.value_date = p.get("value_date")
    row.bank_ref = p.get("bank_ref")
    state.lines.touch(row.line_id, ev.index)


def _failed(state: PaymentState, ev: Event) -> None:
    p = ev.payload
    row = state.line(str(p.get("line_id")), ev.stream_id)
    if row.status in _PAYABLE or row.status == UNKNOWN:
        row.status = FAILED
    row.failed_reason = p.get("reason")
    state.lines.touch(row.line_id, ev.index)


def _returned(state: PaymentState, ev: Event) -> None:
    p = ev.payload
    row = state.line(str(p.get("line_id")), ev.stream_id)
    if row.status in (SETTLED, UNKNOWN):
        row.status = RETURNED
    row.returned_fen += fen(p)
    row.returned_reason = p.get("reason")
    state.lines.touch(row.line_id, ev.index)


def _reissued(state: PaymentState, ev: Event) -> None:
    p = ev.payload
    original = state.lines.get(str(p.get("original_line_id")))
    new_id = str(p.get("new_line_id"))
    if original is None or original.status not in (FAILED, RETURNED) or new_id in state.lines.rows:
        return  # only a failed or returned line is paid again, and only once
    original.status = REISSUED
    original.reissued_as = new_id
    state.lines.touch(original.line_id, ev.index)
    row = PaymentRow(
        new_id,
        ev.stream_id,
        original.programme_code,
        original.admin_unit_id,
        original.period,
        original.fund_account_id,
        original.enrolment_id,
        original.person_id,
        original.component,
        original.channel,
        p.get("account_id") or original.account_id,
        original.amount_fen,
        AUTHORISED,
        authorised_fen=original.amount_fen,
        reissue_of=original.line_id,
    )
    state.lines.add(new_id, row, ev.index)
    batch = state.batches.get(ev.stream_id)
    if batch is not None:
        batch.line_ids = json_text([*orjson.loads(batch.line_ids), new_id])
        state.batches.touch(ev.stream_id, ev.index)


PAYMENT_FOLDS: dict[str, Callable[[PaymentState, Event], None]] = {
    "PaymentBatchPrepared": _prepared,
    "PaymentBatchApproved": _batch_moves(frozenset({PREPARED}), AUTHORISED, authorise=True),
    "PaymentBatchCancelled": _batch_moves(frozenset({PREPARED}), CANCELLED),
    "PaymentBatchSubmitted": _batch_moves(frozenset({AUTHORISED}), SUBMITTED),
    "PaymentSettled": _settled,
    "PaymentFailed": _failed,
    "PaymentReturned": _returned,
    "PaymentLineReissued": _reissued,
}


_BATCH_MOVES = frozenset({"PaymentBatchApproved", "PaymentBatchCancelled", "PaymentBatchSubmitted"})
"""Events that change every line of their batch (so all its lines are loaded)."""


class PaymentLedgerProjection(Projection[PaymentState]):
    """The ``PaymentLedger`` projection."""

    name = "payments"
    version = 1
    types = frozenset(PAYMENT_FOLDS)
    tables = (PAYMENTS, PAYMENT_BATCHES)

    def empty(self) -> PaymentState:
        return PaymentState(Rows(PAYMENTS), Rows(PAYMENT_BATCHES))

    def load(self, tx: Tx, events: Sequence[Event]) -> PaymentState:
        """Batches first (they list their lines), then the lines the page names."""
        batches = PAYMENT_BATCHES.load(tx, {ev.stream_id for ev in events})
        moved = {ev.stream_id for ev in events if ev.event_type in _BATCH_MOVES}
        line_ids: set[str] = set()
        for batch in batches.values():
            if batch.batch_id in moved:
                line_ids.update(orjson.loads(batch.line_ids))
        for ev in events:
            for name in ("line_id", "original_line_id", "new_line_id"):
                if name in ev.payload:
                    line_ids.add(str(ev.payload[name]))
            for line in ev.payload.get("lines") or []:
                line_ids.add(str(line.get("line_id")))
        return PaymentState(
            Rows(PAYMENTS, PAYMENTS.load(tx, line_ids)), Rows(PAYMENT_BATCHES, batches)
        )

    def fold(self, state: PaymentState, event: Event) -> None:
        handler = PAYMENT_FOLDS.get(event.event_type)
        if handler is not None:
            handler(state, event)
