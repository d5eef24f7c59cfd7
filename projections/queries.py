"""Read queries over the versioned tables: current, as known at a position, effective at a
period. Every query is a keyset range on an index whose size does not grow with history for
current reads (partial indexes over open rows) and grows only by versions per key for
as-known-at reads."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain.periods import Period
from ledger.errors import SchemaError
from ledger.projections.errors import QueryError
from ledger.projections.funds import FUNDS, FundRow
from ledger.projections.roster import ROSTER, RosterRow
from ledger.projections.sql import Tx

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class RosterPage:
    """One page of the roster.

    ``position`` is the last log index the answer includes (-1: nothing yet);
    ``state_hash`` is the hash of the *whole* roster as known at that position (not just
    this page); ``next_after`` is the ``after`` argument of the next page, or ``None``.
    """

    rows: list[RosterRow]
    position: int
    state_hash: str | None
    next_after: str | None


def version_clause(at: int | None) -> tuple[str, list[int]]:
    """SQL selecting the version valid at log index ``at`` (``None``: the open version)."""
    if at is None:
        return "known_to IS NULL", []
    return "known_from <= ? AND (known_to IS NULL OR known_to > ?)", [at, at]


def check_period(period: str) -> str:
    """``period`` if it is ``YYYY-MM``."""
    try:
        return str(Period.parse(period))
    except SchemaError as e:
        raise QueryError(f"{period!r} is not a period (YYYY-MM)", period=period) from e


def select_roster(
    tx: Tx,
    *,
    at: int | None,
    programme_code: str | None = None,
    org_id: str | None = None,
    status: str | None = None,
    effective: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> list[RosterRow]:
    """Up to ``limit`` roster rows in ``enrolment_id`` order after ``after``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be 1..{MAX_LIMIT}", limit=limit)
    clause, params = version_clause(at)
    conds: list[str] = [clause]
    values: list[object] = [*params]
    for column, value in (("programme_code", programme_code), ("status", status)):
        if value is not None:
            conds.append(f"{column} = ?")
            values.append(value)
    if effective is not None:
        period = check_period(effective)
        # Payable in P: started by P, and not ended before P (TERMINATED sets the last period).
        conds.append(
            "first_payable_period <= ? AND (last_payable_period IS NULL "
            "OR last_payable_period >= ?)"
        )
        values += [period, period]
    if after is not None:
        conds.append("enrolment_id > ?")
        values.append(after)
    if org_id is None:
        rows = _roster_rows(tx, conds, values, limit)
    else:
        # Township OR village: two index ranges merged here, because an OR across two
        # columns would make both engines scan instead of seek.
        merged = {
            r.enrolment_id: r
            for column in ("township_org_id", "residence_org_id")
            for r in _roster_rows(tx, [*conds, f"{column} = ?"], [*values, org_id], limit)
        }
        rows = [merged[k] for k in sorted(merged)][:limit]
    if at is not None:
        for row in rows:
            row.known_to = None  # a later change is not known at ``at``
    return rows


def _roster_rows(tx: Tx, conds: list[str], values: list[object], limit: int) -> list[RosterRow]:
    sql = (
        f"SELECT {ROSTER.select_sql()}, known_from, known_to FROM {ROSTER.name} "
        f"WHERE {' AND '.join(conds)} ORDER BY enrolment_id LIMIT ?"
    )
    return [RosterRow.from_values(r) for r in tx.fetchall(sql, [*values, limit])]


def select_funds(tx: Tx, *, at: int | None, fund_account_id: str | None = None) -> list[FundRow]:
    """Fund rows in account order, current or as known at ``at``.

    As known at a position, each account is one seek on ``(fund_account_id, known_from)``:
    the latest version not after ``at`` (versions are contiguous, so it is the valid one).
    """
    cols = f"{FUNDS.select_sql()}, known_from, known_to"
    key_filter, key_values = "", []
    if fund_account_id is not None:
        key_filter, key_values = "AND fund_account_id = ? ", [fund_account_id]
    open_rows = f"FROM {FUNDS.name} WHERE known_to IS NULL {key_filter}ORDER BY fund_account_id"
    if at is None:
        return [
            FundRow.from_values(r) for r in tx.fetchall(f"SELECT {cols} {open_rows}", key_values)
        ]
    ids = [r[0] for r in tx.fetchall(f"SELECT fund_account_id {open_rows}", key_values)]
    seek = (
        f"SELECT {cols} FROM {FUNDS.name} WHERE fund_account_id = ? AND known_from <= ? "
        "ORDER BY known_from DESC LIMIT 1"
    )
    rows = []
    for account_id in ids:
        found = tx.fetchall(seek, [account_id, at])
        if found:
            row = FundRow.from_values(found[0])
            row.known_to = None
            rows.append(row)
    return rows
