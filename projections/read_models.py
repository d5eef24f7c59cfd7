"""Queries over the supervision, payment, standards and coverage read models, on both axes.

Every answer comes from ONE read snapshot of the projections database and names the
``position`` it is computed at (the last log index included; -1: nothing yet) and the
projection's ``state_hash`` there, so an auditor can rebuild it from the log and compare
(DESIGN.md §7). *As known at* a position or time picks the row versions valid then;
*as effective at* a month or date is a business filter on those rows (standards in force,
payments of a period, beneficiaries payable in a month, a notice overdue on a date).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.projections.base import Projection
from ledger.projections.coverage import (
    COVERAGE,
    COVERAGE_ORGS,
    TARGET,
    CoverageProjection,
    CoverageRow,
    summarise,
    within,
)
from ledger.projections.errors import QueryError
from ledger.projections.inspections import INSPECTIONS, InspectionRegisterProjection
from ledger.projections.payments import PAYMENTS, PaymentLedgerProjection
from ledger.projections.queries import MAX_LIMIT, check_period, version_clause
from ledger.projections.rectifications import (
    NOTICES,
    NoticeRow,
    RectificationTrackerProjection,
    escalation_step_on,
    overdue_on,
)
from ledger.projections.sql import Tx
from ledger.projections.standards import STANDARDS, StandardsTableProjection
from ledger.projections.tables import Table

if TYPE_CHECKING:
    from ledger.projections.store import ProjectionStore


def read_model_projections() -> tuple[Projection[Any], ...]:
    """The projections of this module (registered in the store's default list)."""
    return (
        InspectionRegisterProjection(),
        RectificationTrackerProjection(),
        PaymentLedgerProjection(),
        StandardsTableProjection(),
        CoverageProjection(),
    )


@dataclass(frozen=True)
class ReadModelPage:
    """Rows of one read model at ``position``, with its state hash there.

    ``rows`` are dicts (stored columns, ``known_from``, and any computed fields);
    ``next_after`` is the ``after`` of the next page, or ``None``.
    """

    rows: list[dict[str, Any]]
    position: int
    state_hash: str
    next_after: str | None = None


@dataclass(frozen=True)
class Filter:
    """``column <op> value`` on the stored rows (``None`` values are not filtered)."""

    column: str
    value: Any
    op: str = "="


def _where(at: int | None, filters: Sequence[Filter]) -> tuple[list[str], list[Any]]:
    clause, params = version_clause(at)
    conds, values = [clause], list[Any](params)
    for f in filters:
        if f.value is None:
            continue
        if f.op == "contains":  # a JSON list column holding the id (ids contain no quotes)
            conds.append(f"{f.column} LIKE ?")
            values.append(f'%"{f.value}"%')
        else:
            conds.append(f"{f.column} {f.op} ?")
            values.append(f.value)
    return conds, values


def select_rows(
    tx: Tx,
    table: Table[Any],
    *,
    at: int | None,
    filters: Sequence[Filter] = (),
    limit: int | None = None,
    after: str | None = None,
) -> list[Any]:
    """Rows of ``table`` valid at ``at`` (current when ``None``) in key order."""
    conds, values = _where(at, filters)
    if after is not None:
        conds.append(f"{table.key} > ?")
        values.append(after)
    sql = (
        f"SELECT {table.select_sql()}, known_from, known_to FROM {table.name} "
        f"WHERE {' AND '.join(conds)} ORDER BY {table.key}"
    )
    if limit is not None:
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit must be 1..{MAX_LIMIT}", limit=limit)
        sql += " LIMIT ?"
        values.append(limit)
    rows = [table.row_type.from_values(r) for r in tx.fetchall(sql, values)]
    for row in rows:
        row.known_to = None  # a later change is not known at ``at``
    return rows


def _parents(tx: Tx) -> dict[str, str | None]:
    """The organisation tree (org id → parent id), as the coverage projection keeps it."""
    sql = f"SELECT org_id, parent_org_id FROM {COVERAGE_ORGS.name}"
    return {str(r[0]): r[1] for r in tx.fetchall(sql)}


def row_dict(row: Any, table: Table[Any]) -> dict[str, Any]:
    """A stored row as a dict of its columns and ``known_from``."""
    out = {name: getattr(row, name) for name in table.columns}
    out["known_from"] = row.known_from
    return out


def read_page(
    store: ProjectionStore,
    name: str,
    table: Table[Any],
    *,
    position: int | None,
    time: str | None,
    filters: Sequence[Filter],
    limit: int | None = None,
    after: str | None = None,
    keep: Callable[[Any], bool] = lambda _: True,
    extra: Callable[[Any], dict[str, Any]] = lambda _: {},
) -> ReadModelPage:
    """Rows of projection ``name`` as known at a position or time (current by default), in
    key order, from one read snapshot, with the position and the projection's state hash;
    ``keep`` drops rows after paging, ``extra`` adds computed fields."""
    with store.db.read() as tx:
        pos, at = store._known_at(tx, name, position, time)
        rows = select_rows(tx, table, at=at, filters=filters, limit=limit, after=after)
        digest = store._state_hash(tx, name, pos, at)
    next_after = str(getattr(rows[-1], table.key)) if limit and len(rows) == limit else None
    out = [row_dict(r, table) | extra(r) for r in rows if keep(r)]
    return ReadModelPage(out, pos, digest, next_after)


class ReadModels:
    """The read-model queries over one projection store (see module docstring)."""

    def __init__(self, store: ProjectionStore) -> None:
        self.store = store

    def _page(
        self,
        name: str,
        table: Table[Any],
        *,
        position: int | None,
        time: str | None,
        filters: Sequence[Filter],
        limit: int | None,
        after: str | None,
        keep: Callable[[Any], bool] = lambda _: True,
        extra: Callable[[Any], dict[str, Any]] = lambda _: {},
    ) -> ReadModelPage:
        return read_page(
            self.store,
            name,
            table,
            position=position,
            time=time,
            filters=filters,
            limit=limit,
            after=after,
            keep=keep,
            extra=extra,
        )

    def inspections(
        self,
        *,
        org_id: str | None = None,
        status: str | None = None,
        type: str | None = None,  # noqa: A002 - the register's column name
        include_hidden: bool = False,
        as_known_at_position: int | None = None,
        as_known_at_time: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> ReadModelPage:
        """The inspection register; unannounced plans not yet conducted are left out unless
        ``include_hidden`` (INS-3: the inspected units must not learn of them)."""
        filters = [
            Filter("target_org_ids", org_id, "contains"),
            Filter("status", status),
            Filter("type", type),
            Filter("hidden", None if include_hidden else 0),
        ]
        return self._page(
            "inspections",
            INSPECTIONS,
            position=as_known_at_position,
            time=as_known_at_time,
            filters=filters,
            limit=limit,
            after=after,
        )

    def rectifications(
        self,
        *,
        org_id: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        as_of: date | None = None,
        overdue_only: bool = False,
        as_known_at_position: int | None = None,
        as_known_at_time: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> ReadModelPage:
        """The rectification tracker; with ``as_of`` each row says whether it is overdue on
        that date and which escalation step is due (EX-ESC-2); ``overdue_only`` keeps the
        overdue ones."""
        if overdue_only and as_of is None:
            raise QueryError("overdue_only needs as_of (overdue on which date?)")

        def extra(row: NoticeRow) -> dict[str, Any]:
            if as_of is None:
                return {"reported_late": row.reported_late()}
            step = escalation_step_on(row, as_of)
            return {
                "reported_late": row.reported_late(),
                "as_of": as_of.isoformat(),
                "overdue": overdue_on(row, as_of),
                "escalation_step_due": None if step is None else step[0],
                "escalation_due_from": None if step is None else step[1],
            }

        def keep(row: NoticeRow) -> bool:
            return not overdue_only or (as_of is not None and overdue_on(row, as_of))

        filters = [
            Filter("target_org_id", org_id),
            Filter("status", status),
            Filter("kind", kind),
        ]
        return self._page(
            "rectifications",
            NOTICES,
            position=as_known_at_position,
            time=as_known_at_time,
            filters=filters,
            limit=limit,
            after=after,
            keep=keep,
            extra=extra,
        )

    def payments(
        self,
        *,
        programme_code: str | None = None,
        admin_unit_id: str | None = None,
        period: str | None = None,
        status: str | None = None,
        enrolment_id: str | None = None,
        person_id: str | None = None,
        as_known_at_position: int | None = None,
        as_known_at_time: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> ReadModelPage:
        """Payment lines; ``period`` (``YYYY-MM``) is the benefit month they pay."""
        filters = [
            Filter("programme_code", programme_code),
            Filter("admin_unit_id", admin_unit_id),
            Filter("period", None if period is None else check_period(period)),
            Filter("status", status),
            Filter("enrolment_id", enrolment_id),
            Filter("person_id", person_id),
        ]
        return self._page(
            "payments",
            PAYMENTS,
            position=as_known_at_position,
            time=as_known_at_time,
            filters=filters,
            limit=limit,
            after=after,
        )

    def standards(
        self,
        *,
        programme_code: str | None = None,
        admin_unit_id: str | None = None,
        component: str | None = None,
        support_mode: str | None = None,
        in_force_in: str | None = None,
        as_known_at_position: int | None = None,
        as_known_at_time: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> ReadModelPage:
        """Standards; ``in_force_in`` (``YYYY-MM``) keeps those in force in that month."""
        filters = [
            Filter("programme_code", programme_code),
            Filter("admin_unit_id", admin_unit_id),
            Filter("component", component),
            Filter("support_mode", support_mode),
        ]
        if in_force_in is not None:
            month = check_period(in_force_in)
            filters.append(Filter("effective_from", month, "<="))

        def keep(row: Any) -> bool:
            return in_force_in is None or row.effective_to is None or row.effective_to >= month

        return self._page(
            "standards",
            STANDARDS,
            position=as_known_at_position,
            time=as_known_at_time,
            filters=filters,
            limit=limit,
            after=after,
            keep=keep,
        )

    def coverage(
        self,
        *,
        programme_code: str | None = None,
        admin_unit_id: str | None = None,
        period: str | None = None,
        on: date | None = None,
        as_known_at_position: int | None = None,
        as_known_at_time: str | None = None,
    ) -> ReadModelPage:
        """Coverage metrics: per township and programme (active in ``period``, or now) and
        per institution (residents on ``on``, or now). One row per township/programme and
        per institution, each with a ``kind``; ``admin_unit_id`` keeps the townships,
        villages and institutions at or below that unit."""
        month = None if period is None else check_period(period)
        with self.store.db.read() as tx:
            pos, at = self.store._known_at(tx, "coverage", as_known_at_position, as_known_at_time)
            rows: list[CoverageRow] = select_rows(
                tx,
                COVERAGE,
                at=at,
                filters=[Filter("programme_code", programme_code)],
            )
            digest = self.store._state_hash(tx, "coverage", pos, at)
            parents = _parents(tx) if admin_unit_id is not None else {}
        if admin_unit_id is not None:
            # Targets are the city's, for every unit: they stay whatever the filter.
            rows = [
                r
                for r in rows
                if r.kind == TARGET
                or any(
                    within(org, admin_unit_id, parents)
                    for org in (r.township_org_id, r.residence_org_id, r.institution_id)
                )
            ]
        summary = summarise(rows, month, on)
        out = [{"kind": "TOWNSHIP_PROGRAMME", "period": month, **u} for u in summary["units"]]
        out += [
            {"kind": "INSTITUTION", "on": None if on is None else on.isoformat(), **i}
            for i in summary["institutions"]
        ]
        return ReadModelPage(out, pos, digest)
