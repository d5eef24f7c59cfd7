"""The fund ledger (``domain.md`` §4.8, §5.14, §6.5 ``FundLedger``), bitemporal per account.

Every amount is integer fen. After every event the row's ``available_fen`` satisfies::

    available = received + transfers_in + returned_payments + recovered + carried_in
              - committed_unsettled - settled - unauthorised_settled
              - expenditures_committed - expenditures_settled - unauthorised_expenditures
              - transfers_out - carried_out - returned_to_treasury

Funds: ``FundRecovered`` adds to ``recovered_fen``; ``FundCarriedOver`` moves money from the
old year's account (``carried_out_fen``) to the next year's (``carried_in_fen``), like a
transfer but kept apart so the year-end reconciliation (AF-FUND-CARRYOVER-MISMATCH) can see
it.

Payments: ``PaymentBatchPrepared`` records the lines (no money moves);
``PaymentBatchApproved`` commits every prepared line of the batch; ``PaymentSettled`` moves a
committed line to settled; ``PaymentFailed`` releases a committed line (counted in
``failed_fen``); ``PaymentReturned`` adds a settled amount back (``returned_payments_fen``);
``PaymentLineReissued`` commits the original line's amount again under the new line id.

Facts are recorded even when they refer to nothing known (never a crash): a settlement of a
line that was never committed (unknown, not approved, or already settled, failed or
returned) is money that left the account, so it counts in ``unauthorised_settled_fen``; a
settlement of an unknown expenditure counts in ``unauthorised_expenditures_fen``. A fact
whose account cannot be determined at all is kept in ``proj_fund_unplaced``. An account that
a fact or transfer names before it was opened gets a row with ``opened = 0``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import orjson

from ledger.projections.base import Projection, State
from ledger.projections.events import Event, fen
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table

PREPARED, COMMITTED, SETTLED, FAILED, RETURNED, REISSUED = (
    "PREPARED",
    "COMMITTED",
    "SETTLED",
    "FAILED",
    "RETURNED",
    "REISSUED",
)


def _canonical(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(slots=True)
class FundRow:
    """One fund account's balances as known at some log position."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("fund_account_id", "TEXT NOT NULL"),
        ("opened", "BIGINT NOT NULL"),
        ("owner_org_id", "TEXT"),
        ("fiscal_year", "BIGINT"),
        ("programme_codes", "TEXT NOT NULL"),
        ("purposes", "TEXT NOT NULL"),
        ("appropriated_fen", "BIGINT NOT NULL"),
        ("appropriated_matching_fen", "BIGINT NOT NULL"),
        ("appropriated_by_source", "TEXT NOT NULL"),
        ("received_fen", "BIGINT NOT NULL"),
        ("transfers_in_fen", "BIGINT NOT NULL"),
        ("transfers_out_fen", "BIGINT NOT NULL"),
        ("committed_unsettled_fen", "BIGINT NOT NULL"),
        ("settled_fen", "BIGINT NOT NULL"),
        ("unauthorised_settled_fen", "BIGINT NOT NULL"),
        ("failed_fen", "BIGINT NOT NULL"),
        ("returned_payments_fen", "BIGINT NOT NULL"),
        ("expenditures_committed_fen", "BIGINT NOT NULL"),
        ("expenditures_settled_fen", "BIGINT NOT NULL"),
        ("unauthorised_expenditures_fen", "BIGINT NOT NULL"),
        ("returned_to_treasury_fen", "BIGINT NOT NULL"),
        ("recovered_fen", "BIGINT NOT NULL"),
        ("carried_in_fen", "BIGINT NOT NULL"),
        ("carried_out_fen", "BIGINT NOT NULL"),
        ("available_fen", "BIGINT NOT NULL"),
    )

    fund_account_id: str
    opened: int = 0
    owner_org_id: str | None = None
    fiscal_year: int | None = None
    programme_codes: str = "[]"
    purposes: str = "[]"
    appropriated_fen: int = 0
    appropriated_matching_fen: int = 0
    appropriated_by_source: str = "{}"
    received_fen: int = 0
    transfers_in_fen: int = 0
    transfers_out_fen: int = 0
    committed_unsettled_fen: int = 0
    settled_fen: int = 0
    unauthorised_settled_fen: int = 0
    failed_fen: int = 0
    returned_payments_fen: int = 0
    expenditures_committed_fen: int = 0
    expenditures_settled_fen: int = 0
    unauthorised_expenditures_fen: int = 0
    returned_to_treasury_fen: int = 0
    recovered_fen: int = 0
    carried_in_fen: int = 0
    carried_out_fen: int = 0
    available_fen: int = 0
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)

    def computed_available(self) -> int:
        """The fund identity (module docstring)."""
        return (
            self.received_fen
            + self.transfers_in_fen
            + self.returned_payments_fen
            + self.recovered_fen
            + self.carried_in_fen
            - self.committed_unsettled_fen
            - self.settled_fen
            - self.unauthorised_settled_fen
            - self.expenditures_committed_fen
            - self.expenditures_settled_fen
            - self.unauthorised_expenditures_fen
            - self.transfers_out_fen
            - self.carried_out_fen
            - self.returned_to_treasury_fen
        )


@dataclass(slots=True)
class BatchRow:
    """A payment batch: which account it draws on, and whether it was approved."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("batch_id", "TEXT NOT NULL"),
        ("fund_account_id", "TEXT"),
        ("approved", "BIGINT NOT NULL"),
    )
    batch_id: str
    fund_account_id: str | None
    approved: int

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


@dataclass(slots=True)
class LineRow:
    """One payment line and where its money stands."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("line_id", "TEXT NOT NULL"),
        ("batch_id", "TEXT"),
        ("fund_account_id", "TEXT"),
        ("amount_fen", "BIGINT NOT NULL"),
        ("state", "TEXT NOT NULL"),
    )
    line_id: str
    batch_id: str | None
    fund_account_id: str | None
    amount_fen: int
    state: str

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


@dataclass(slots=True)
class ExpenditureRow:
    """An authorised non-payroll expenditure."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("expenditure_id", "TEXT NOT NULL"),
        ("fund_account_id", "TEXT"),
        ("amount_fen", "BIGINT NOT NULL"),
        ("settled", "BIGINT NOT NULL"),
    )
    expenditure_id: str
    fund_account_id: str | None
    amount_fen: int
    settled: int

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


@dataclass(slots=True)
class UnplacedRow:
    """A money fact whose fund account could not be determined (kept, never dropped)."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("log_index", "BIGINT NOT NULL"),
        ("event_type", "TEXT NOT NULL"),
        ("subject_id", "TEXT"),
        ("amount_fen", "BIGINT NOT NULL"),
    )
    log_index: int
    event_type: str
    subject_id: str | None
    amount_fen: int

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


FUNDS = Table("proj_fund_ledger", FundRow, versioned=True)
BATCHES = Table("proj_fund_batches", BatchRow, versioned=False)
LINES = Table("proj_fund_lines", LineRow, versioned=False, indexes=("(batch_id)",))
EXPENDITURES = Table("proj_fund_expenditures", ExpenditureRow, versioned=False)
UNPLACED = Table("proj_fund_unplaced", UnplacedRow, versioned=False)


class FundState(State):
    """Working copies of the fund ledger and its payment bookkeeping."""

    def __init__(
        self,
        accounts: Rows[FundRow],
        batches: Rows[BatchRow],
        lines: Rows[LineRow],
        expenditures: Rows[ExpenditureRow],
        unplaced: Rows[UnplacedRow],
    ) -> None:
        self.accounts = accounts
        self.batches = batches
        self.lines = lines
        self.expenditures = expenditures
        self.unplaced = unplaced
        self.batch_lines: dict[str, list[str]] = {}
        for line in lines.rows.values():
            if line.batch_id is not None:
                self.batch_lines.setdefault(line.batch_id, []).append(line.line_id)

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.accounts, self.batches, self.lines, self.expenditures, self.unplaced)

    def account(self, account_id: str) -> FundRow:
        """The account's row; a not-yet-opened row when a fact names an unknown account."""
        row = self.accounts.get(account_id)
        if row is None:
            row = FundRow(account_id)
            self.accounts.rows[account_id] = row
        return row

    def changed(self, row: FundRow, index: int) -> None:
        """Re-derive ``available`` and record the new version."""
        row.available_fen = row.computed_available()
        self.accounts.touch(row.fund_account_id, index)

    def unplaced_fact(self, ev: Event, subject_id: str | None, amount: int) -> None:
        row = UnplacedRow(ev.index, ev.event_type, subject_id, amount)
        # Keyed by log index (as text, like every key): one row per fact.
        self.unplaced.add(f"{ev.index:020d}", row, ev.index)


# --------------------------------------------------------------------------- pure folds


def _opened(state: FundState, ev: Event) -> None:
    p = ev.payload
    row = state.account(ev.stream_id)
    row.opened = 1
    row.owner_org_id = p.get("owner_org_id")
    row.fiscal_year = p.get("fiscal_year")
    row.programme_codes = _canonical(sorted(p.get("programme_codes") or []))
    row.purposes = _canonical(sorted(p.get("purposes") or []))
    state.changed(row, ev.index)


def _appropriated(state: FundState, ev: Event) -> None:
    p, amount = ev.payload, fen(ev.payload)
    row = state.account(ev.stream_id)
    row.appropriated_fen += amount
    if p.get("is_matching_fund") is True:
        row.appropriated_matching_fen += amount
    by_source: dict[str, int] = orjson.loads(row.appropriated_by_source)
    source = str(p.get("source"))
    by_source[source] = by_source.get(source, 0) + amount
    row.appropriated_by_source = _canonical(by_source)
    state.changed(row, ev.index)


def _add(column: str) -> Callable[[FundState, Event], None]:
    """A fold that adds the event's ``amount_fen`` to one column of its stream's account."""

    def fold(state: FundState, ev: Event) -> None:
        row = state.account(ev.stream_id)
        setattr(row, column, getattr(row, column) + fen(ev.payload))
        state.changed(row, ev.index)

    return fold


def _move(out_column: str, in_column: str) -> Callable[[FundState, Event], None]:
    """A fold that moves ``amount_fen`` from the stream's account to ``to_fund_account_id``."""

    def fold(state: FundState, ev: Event) -> None:
        amount = fen(ev.payload)
        source = state.account(ev.stream_id)
        setattr(source, out_column, getattr(source, out_column) + amount)
        state.changed(source, ev.index)
        target = state.account(str(ev.payload.get("to_fund_account_id")))
        setattr(target, in_column, getattr(target, in_column) + amount)
        state.changed(target, ev.index)

    return fold


def _expenditure_authorised(state: FundState, ev: Event) -> None:
    exp_id, amount = str(ev.payload.get("expenditure_id")), fen(ev.payload)
    if state.expenditures.get(exp_id) is not None:
        return  # one authorisation per id; a repeat id commits nothing twice
    state.expenditures.add(exp_id, ExpenditureRow(exp_id, ev.stream_id, amount, 0), ev.index)
    row = state.account(ev.stream_id)
    row.expenditures_committed_fen += amount
    state.changed(row, ev.index)


def _expenditure_settled(state: FundState, ev: Event) -> None:
    exp_id, amount = str(ev.payload.get("expenditure_id")), fen(ev.payload)
    exp = state.expenditures.get(exp_id)
    account_id = exp.fund_account_id if exp is not None else None
    row = state.account(account_id or ev.stream_id)
    if exp is None or exp.settled:
        row.unauthorised_expenditures_fen += amount
    else:
        exp.settled = 1
        state.expenditures.touch(exp_id, ev.index)
        row.expenditures_committed_fen -= exp.amount_fen
        row.expenditures_settled_fen += amount
    state.changed(row, ev.index)


def _batch_prepared(state: FundState, ev: Event) -> None:
    p = ev.payload
    account = p.get("fund_account_id")
    state.batches.add(ev.stream_id, BatchRow(ev.stream_id, account, 0), ev.index)
    ids = state.batch_lines.setdefault(ev.stream_id, [])
    for line in p.get("lines") or []:
        line_id = str(line.get("line_id"))
        if state.lines.get(line_id) is not None:
            continue  # a line id is used once; never re-point an existing line
        row = LineRow(line_id, ev.stream_id, account, fen(line), PREPARED)
        state.lines.add(line_id, row, ev.index)
        ids.append(line_id)


def _batch_approved(state: FundState, ev: Event) -> None:
    batch = state.batches.get(ev.stream_id)
    if batch is None or batch.approved:
        return
    batch.approved = 1
    state.batches.touch(ev.stream_id, ev.index)
    rows: dict[str, FundRow] = {}
    for line_id in state.batch_lines.get(ev.stream_id, []):
        line = state.lines.rows[line_id]
        if line.state != PREPARED or line.fund_account_id is None:
            continue
        line.state = COMMITTED
        state.lines.touch(line_id, ev.index)
        row = rows.setdefault(line.fund_account_id, state.account(line.fund_account_id))
        row.committed_unsettled_fen += line.amount_fen
    for row in rows.values():
        state.changed(row, ev.index)


def _line_account(state: FundState, ev: Event, line: LineRow | None) -> str | None:
    """The account a payment fact belongs to: the line's, else its batch's."""
    if line is not None and line.fund_account_id is not None:
        return line.fund_account_id
    batch = state.batches.get(ev.stream_id)
    return batch.fund_account_id if batch is not None else None


def _payment_settled(state: FundState, ev: Event) -> None:
    line_id, amount = str(ev.payload.get("line_id")), fen(ev.payload)
    line = state.lines.get(line_id)
    account_id = _line_account(state, ev, line)
    if account_id is None:
        state.unplaced_fact(ev, line_id, amount)
        return
    row = state.account(account_id)
    if line is not None and line.state == COMMITTED:
        line.state = SETTLED
        state.lines.touch(line_id, ev.index)
        row.committed_unsettled_fen -= line.amount_fen
        row.settled_fen += amount
    else:
        row.unauthorised_settled_fen += amount
    state.changed(row, ev.index)


def _payment_failed(state: FundState, ev: Event) -> None:
    line_id = str(ev.payload.get("line_id"))
    line = state.lines.get(line_id)
    if line is None or line.state != COMMITTED or line.fund_account_id is None:
        return  # nothing was committed, so nothing is released
    line.state = FAILED
    state.lines.touch(line_id, ev.index)
    row = state.account(line.fund_account_id)
    row.committed_unsettled_fen -= line.amount_fen
    row.failed_fen += line.amount_fen
    state.changed(row, ev.index)


def _payment_returned(state: FundState, ev: Event) -> None:
    line_id, amount = str(ev.payload.get("line_id")), fen(ev.payload)
    line = state.lines.get(line_id)
    account_id = _line_account(state, ev, line)
    if account_id is None:
        state.unplaced_fact(ev, line_id, amount)
        return
    if line is not None and line.state == SETTLED:
        line.state = RETURNED
        state.lines.touch(line_id, ev.index)
    row = state.account(account_id)
    row.returned_payments_fen += amount  # the money is back whatever the line's state
    state.changed(row, ev.index)


def _line_reissued(state: FundState, ev: Event) -> None:
    p = ev.payload
    original = state.lines.get(str(p.get("original_line_id")))
    new_id = str(p.get("new_line_id"))
    if (
        original is None
        or original.state not in (FAILED, RETURNED)
        or original.fund_account_id is None
        or state.lines.get(new_id) is not None
    ):
        return  # only a failed or returned line is paid again, and only once
    original.state = REISSUED
    state.lines.touch(original.line_id, ev.index)
    line = LineRow(new_id, ev.stream_id, original.fund_account_id, original.amount_fen, COMMITTED)
    state.lines.add(new_id, line, ev.index)
    state.batch_lines.setdefault(ev.stream_id, []).append(new_id)
    row = state.account(original.fund_account_id)
    row.committed_unsettled_fen += original.amount_fen
    state.changed(row, ev.index)


FUND_FOLDS: dict[str, Callable[[FundState, Event], None]] = {
    "FundAccountOpened": _opened,
    "FundAppropriated": _appropriated,
    "FundReceived": _add("received_fen"),
    "FundTransferred": _move("transfers_out_fen", "transfers_in_fen"),
    "FundCarriedOver": _move("carried_out_fen", "carried_in_fen"),
    "FundRecovered": _add("recovered_fen"),
    "FundExpenditureAuthorised": _expenditure_authorised,
    "FundExpenditureSettled": _expenditure_settled,
    "FundReturnedToTreasury": _add("returned_to_treasury_fen"),
    "PaymentBatchPrepared": _batch_prepared,
    "PaymentBatchApproved": _batch_approved,
    "PaymentSettled": _payment_settled,
    "PaymentFailed": _payment_failed,
    "PaymentReturned": _payment_returned,
    "PaymentLineReissued": _line_reissued,
}


def fold_funds(state: FundState, ev: Event) -> None:
    """Apply one event to the fund state (other event types are ignored)."""
    handler = FUND_FOLDS.get(ev.event_type)
    if handler is not None:
        handler(state, ev)


class FundLedgerProjection(Projection[FundState]):
    """The ``FundLedger`` projection."""

    name = "fund_ledger"
    version = 2
    types = frozenset(FUND_FOLDS)
    tables = (FUNDS, BATCHES, LINES, EXPENDITURES, UNPLACED)

    def empty(self) -> FundState:
        return FundState(
            Rows(FUNDS), Rows(BATCHES), Rows(LINES), Rows(EXPENDITURES), Rows(UNPLACED)
        )

    def load(self, tx: Tx, events: Sequence[Event]) -> FundState:
        """Two rounds: payment bookkeeping first (it names the accounts), then accounts."""
        batch_ids, line_ids, exp_ids, approved = set(), set(), set(), set()
        for ev in events:
            if ev.stream_type == "payment_batch":
                batch_ids.add(ev.stream_id)
                if ev.event_type == "PaymentBatchApproved":
                    approved.add(ev.stream_id)
                for name in ("line_id", "original_line_id"):
                    if name in ev.payload:
                        line_ids.add(str(ev.payload[name]))
            if "expenditure_id" in ev.payload:
                exp_ids.add(str(ev.payload["expenditure_id"]))
        batches = BATCHES.load(tx, batch_ids)
        lines = LINES.load(tx, line_ids)
        lines |= _lines_of_batches(tx, sorted(approved))
        expenditures = EXPENDITURES.load(tx, exp_ids)
        accounts = _account_ids(events, batches, lines, expenditures)
        return FundState(
            Rows(FUNDS, FUNDS.load(tx, accounts)),
            Rows(BATCHES, batches),
            Rows(LINES, lines),
            Rows(EXPENDITURES, expenditures),
            Rows(UNPLACED),
        )

    def fold(self, state: FundState, event: Event) -> None:
        fold_funds(state, event)


def _lines_of_batches(tx: Tx, batch_ids: Sequence[str]) -> dict[str, LineRow]:
    sql = f"SELECT {LINES.select_sql()} FROM {LINES.name} WHERE batch_id IN ({{keys}})"
    return {r[0]: LineRow.from_values(r) for r in tx.fetch_in(sql, batch_ids)}


def _account_ids(
    events: Sequence[Event],
    batches: dict[str, BatchRow],
    lines: dict[str, LineRow],
    expenditures: dict[str, ExpenditureRow],
) -> set[str]:
    ids: set[str] = set()
    for ev in events:
        if ev.stream_type == "fund_account":
            ids.add(ev.stream_id)
        for name in ("to_fund_account_id", "fund_account_id"):
            if name in ev.payload:
                ids.add(str(ev.payload[name]))
    for rows in (batches.values(), lines.values(), expenditures.values()):
        ids.update(r.fund_account_id for r in rows if r.fund_account_id is not None)
    return ids
