"""Matching-fund compliance (``domain.md`` §6.5 ``MatchingFundCompliance``), bitemporal.

One versioned row per (admin unit, programme, year): matching money committed
(``MatchingFundCommitted``), appropriated (``FundAppropriated`` with ``is_matching_fund``)
and received (``FundReceived`` against such an appropriation), the shortfall and the exact
compliance ratio received ÷ committed (到位率) that feeds the 资金安排 score and
AF-FUND-MATCHING. The ratio is stored as the text of a :class:`~fractions.Fraction`
(``"3/4"``, ``"1"``): exact, never a binary float, and ``NULL`` while nothing is committed.

Attribution is the domain's (:mod:`ledger.domain.funds_matching`): matching money on an
account counts toward its owner, each programme of its earmark, and its fiscal year.

Bookkeeping tables (current only): the accounts' earmarks, and which appropriations are
matching money, so that a receipt in a later page can be attributed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

import orjson

from ledger.domain.funds_matching import FORMULA_ID, FORMULA_VERSION, compliance_ratio
from ledger.projections.base import Projection, State
from ledger.projections.errors import ProjectionBehindError, QueryError
from ledger.projections.events import Event, fen
from ledger.projections.queries import version_clause
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table

if TYPE_CHECKING:  # only for annotations: store.py may import this module to register it
    from ledger.projections.store import ProjectionStore

NAME = "matching_fund_compliance"


def compliance_key(admin_unit_id: str, programme_code: str, year: int) -> str:
    """The row key; ``|`` cannot occur in an id, so the key is unambiguous."""
    return f"{admin_unit_id}|{programme_code}|{year}"


@dataclass(slots=True)
class ComplianceRow:
    """Matching money of one admin unit, programme and year as known at some position."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("compliance_key", "TEXT NOT NULL"),
        ("admin_unit_id", "TEXT NOT NULL"),
        ("programme_code", "TEXT NOT NULL"),
        ("year", "BIGINT NOT NULL"),
        ("commitments", "BIGINT NOT NULL"),
        ("committed_fen", "BIGINT NOT NULL"),
        ("appropriated_fen", "BIGINT NOT NULL"),
        ("received_fen", "BIGINT NOT NULL"),
        ("shortfall_fen", "BIGINT NOT NULL"),
        ("compliance", "TEXT"),
        ("last_value_date", "TEXT"),
        ("formula", "TEXT NOT NULL"),
    )

    compliance_key: str
    admin_unit_id: str
    programme_code: str
    year: int
    commitments: int = 0
    committed_fen: int = 0
    appropriated_fen: int = 0
    received_fen: int = 0
    shortfall_fen: int = 0
    compliance: str | None = None
    last_value_date: str | None = None
    formula: str = f"{FORMULA_ID}@{FORMULA_VERSION}"
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)

    def recompute(self) -> None:
        """Derive the shortfall and the exact ratio from the three amounts."""
        self.shortfall_fen = max(self.committed_fen - self.received_fen, 0)
        ratio = compliance_ratio(self.committed_fen, self.received_fen)
        self.compliance = None if ratio is None else str(ratio)


@dataclass(slots=True)
class AccountRow:
    """A fund account's owner, year and programmes (what its matching money counts toward)."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("fund_account_id", "TEXT NOT NULL"),
        ("owner_org_id", "TEXT NOT NULL"),
        ("fiscal_year", "BIGINT NOT NULL"),
        ("programme_codes", "TEXT NOT NULL"),
    )
    fund_account_id: str
    owner_org_id: str
    fiscal_year: int
    programme_codes: str

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)

    def keys(self) -> list[str]:
        """The compliance keys this account's matching money counts toward."""
        programmes: list[str] = orjson.loads(self.programme_codes)
        return [compliance_key(self.owner_org_id, p, self.fiscal_year) for p in programmes]


@dataclass(slots=True)
class AppropriationRow:
    """A matching-fund appropriation (only those are kept): which account it is on."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("appropriation_key", "TEXT NOT NULL"),
        ("fund_account_id", "TEXT NOT NULL"),
    )
    appropriation_key: str
    fund_account_id: str

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


COMPLIANCE = Table("proj_matching_fund_compliance", ComplianceRow, versioned=True)
ACCOUNTS = Table("proj_matching_accounts", AccountRow, versioned=False)
APPROPRIATIONS = Table("proj_matching_appropriations", AppropriationRow, versioned=False)


def _appropriation_key(ev: Event) -> str:
    return f"{ev.stream_id}|{ev.payload.get('appropriation_id')}"


class MatchingState(State):
    """Working copies of the compliance rows and their bookkeeping."""

    def __init__(
        self,
        rows: Rows[ComplianceRow],
        accounts: Rows[AccountRow],
        appropriations: Rows[AppropriationRow],
    ) -> None:
        self.rows = rows
        self.accounts = accounts
        self.appropriations = appropriations

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.rows, self.accounts, self.appropriations)

    def row(self, key: str) -> ComplianceRow:
        """The row of ``key`` (created empty on first use)."""
        found = self.rows.get(key)
        if found is None:
            unit, programme, year = key.split("|")
            found = ComplianceRow(key, unit, programme, int(year))
            self.rows.rows[key] = found
        return found

    def changed(self, row: ComplianceRow, index: int) -> None:
        row.recompute()
        self.rows.touch(row.compliance_key, index)

    def account_keys(self, account_id: str) -> list[str]:
        account = self.accounts.get(account_id)
        return account.keys() if account is not None else []


# --------------------------------------------------------------------------- pure folds


def _committed(state: MatchingState, ev: Event) -> None:
    p = ev.payload
    year = p.get("year")
    if not isinstance(year, int):
        return  # a schema-valid commitment always has a year; never crash on a bad one
    row = state.row(compliance_key(str(p.get("admin_unit_id")), str(p.get("programme_code")), year))
    row.commitments += 1
    row.committed_fen += fen(p)
    state.changed(row, ev.index)


def _opened(state: MatchingState, ev: Event) -> None:
    p = ev.payload
    if state.accounts.get(ev.stream_id) is not None or not isinstance(p.get("fiscal_year"), int):
        return  # an account id is opened once; the first opening is the earmark
    programmes = orjson.dumps(sorted(p.get("programme_codes") or [])).decode()
    row = AccountRow(ev.stream_id, str(p.get("owner_org_id")), p["fiscal_year"], programmes)
    state.accounts.add(ev.stream_id, row, ev.index)


def _appropriated(state: MatchingState, ev: Event) -> None:
    key = _appropriation_key(ev)
    if ev.payload.get("is_matching_fund") is not True or key in state.appropriations.rows:
        return  # only matching money counts, and an appropriation id counts once
    state.appropriations.add(key, AppropriationRow(key, ev.stream_id), ev.index)
    for compliance in state.account_keys(ev.stream_id):
        row = state.row(compliance)
        row.appropriated_fen += fen(ev.payload)
        state.changed(row, ev.index)


def _received(state: MatchingState, ev: Event) -> None:
    if state.appropriations.get(_appropriation_key(ev)) is None:
        return  # not matching money (or an unknown appropriation: not attributable)
    value_date = ev.payload.get("value_date")
    for compliance in state.account_keys(ev.stream_id):
        row = state.row(compliance)
        row.received_fen += fen(ev.payload)
        if isinstance(value_date, str) and (row.last_value_date or "") < value_date:
            row.last_value_date = value_date
        state.changed(row, ev.index)


MATCHING_FOLDS = {
    "MatchingFundCommitted": _committed,
    "FundAccountOpened": _opened,
    "FundAppropriated": _appropriated,
    "FundReceived": _received,
}


class MatchingFundComplianceProjection(Projection[MatchingState]):
    """The ``MatchingFundCompliance`` projection."""

    name = NAME
    version = 1
    types = frozenset(MATCHING_FOLDS)
    tables = (COMPLIANCE, ACCOUNTS, APPROPRIATIONS)

    def empty(self) -> MatchingState:
        return MatchingState(Rows(COMPLIANCE), Rows(ACCOUNTS), Rows(APPROPRIATIONS))

    def load(self, tx: Tx, events: Sequence[Event]) -> MatchingState:
        """Bookkeeping first (it names the keys a receipt counts toward), then the rows."""
        fund_events = [ev for ev in events if ev.stream_type == "fund_account"]
        accounts = ACCOUNTS.load(tx, {ev.stream_id for ev in fund_events})
        appropriations = APPROPRIATIONS.load(
            tx, {_appropriation_key(ev) for ev in fund_events if "appropriation_id" in ev.payload}
        )
        keys = set(_commitment_keys(events))
        page_opened = _page_accounts(fund_events)
        for account_id in {ev.stream_id for ev in fund_events}:
            account = accounts.get(account_id) or page_opened.get(account_id)
            if account is not None:
                keys.update(account.keys())
        return MatchingState(
            Rows(COMPLIANCE, COMPLIANCE.load(tx, keys)),
            Rows(ACCOUNTS, accounts),
            Rows(APPROPRIATIONS, appropriations),
        )

    def fold(self, state: MatchingState, event: Event) -> None:
        MATCHING_FOLDS[event.event_type](state, event)


def _commitment_keys(events: Iterable[Event]) -> Iterable[str]:
    for ev in events:
        year = ev.payload.get("year")
        if ev.event_type == "MatchingFundCommitted" and isinstance(year, int):
            p = ev.payload
            yield compliance_key(str(p.get("admin_unit_id")), str(p.get("programme_code")), year)


def _page_accounts(events: Iterable[Event]) -> dict[str, AccountRow]:
    """Accounts opened in this page, read with the fold itself (so the two cannot differ)."""
    state = MatchingState(Rows(COMPLIANCE), Rows(ACCOUNTS), Rows(APPROPRIATIONS))
    for ev in events:
        if ev.event_type == "FundAccountOpened":
            _opened(state, ev)
    return state.accounts.rows


# --------------------------------------------------------------------------- queries


def select_compliance(
    tx: Tx,
    *,
    at: int | None,
    admin_unit_id: str | None = None,
    programme_code: str | None = None,
    year: int | None = None,
) -> list[ComplianceRow]:
    """Compliance rows in key order, current (``at=None``) or as known at log index ``at``."""
    clause, params = version_clause(at)
    conds: list[str] = [clause]
    values: list[object] = [*params]
    for column, value in (
        ("admin_unit_id", admin_unit_id),
        ("programme_code", programme_code),
        ("year", year),
    ):
        if value is not None:
            conds.append(f"{column} = ?")
            values.append(value)
    sql = (
        f"SELECT {COMPLIANCE.select_sql()}, known_from, known_to FROM {COMPLIANCE.name} "
        f"WHERE {' AND '.join(conds)} ORDER BY compliance_key"
    )
    rows = [ComplianceRow.from_values(r) for r in tx.fetchall(sql, values)]
    if at is not None:
        for row in rows:
            row.known_to = None  # a later change is not known at ``at``
    return rows


def known_position(folded: int, position: int | None) -> tuple[int, int | None]:
    """(the last index the answer includes, the version clause's ``at``) for a query as known
    at ``position`` when the projection has folded up to index ``folded``."""
    if position is None:
        return folded, None
    if position < -1:
        raise QueryError("a log position is -1 or more", position=position)
    if position > folded:
        raise ProjectionBehindError(
            f"projection {NAME} has folded up to log index {folded}, not {position}",
            projection=NAME,
            folded=folded,
            asked=position,
        )
    return position, position


@dataclass(frozen=True)
class CompliancePage:
    """Compliance rows as known at ``position`` (-1: nothing yet), with the projection's
    state hash there."""

    rows: list[ComplianceRow]
    position: int
    state_hash: str


def matching_compliance(
    store: ProjectionStore,
    *,
    admin_unit_id: str | None = None,
    programme_code: str | None = None,
    year: int | None = None,
    as_known_at_position: int | None = None,
) -> CompliancePage:
    """Compliance rows of ``store`` (which must maintain this projection), current or as
    known at a log position, with the position answered at and the state hash there."""
    with store.db.read() as tx:
        folded = store.read_positions(tx)[NAME] - 1
        position, at = known_position(folded, as_known_at_position)
        rows = select_compliance(
            tx, at=at, admin_unit_id=admin_unit_id, programme_code=programme_code, year=year
        )
    # The rows valid at a position never change, so a second snapshot hashes the same rows.
    return CompliancePage(rows, position, store.state_hash(NAME, position))
