"""Read models on the two time axes: ``GET /v1/roster`` and ``GET /v1/funds[/{id}]``.

``as_known_at`` (a log position) or ``as_known_at_time`` (an instant) choose the log prefix;
``as_effective_at`` (a date) the business validity within it (DESIGN.md §7). Every answer
names the ``position`` it was computed at and the projection's ``state_hash``, so an auditor
can rebuild it from the log and compare.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ledger.api.context import ReaderDep
from ledger.api.readers import ProjectionView
from ledger.api.render import JSONBytes
from ledger.api.schemas import READ_PROBLEMS, ProjectionOut
from ledger.errors import LedgerStateError

router = APIRouter(prefix="/v1", tags=["projections"])

MAX_ROSTER_PAGE = 1000

KnownAt = Annotated[int | None, Query(ge=-1, description="log position (inclusive)")]
KnownAtTime = Annotated[datetime | None, Query(description="RFC 3339 instant")]
EffectiveAt = Annotated[date | None, Query(description="business date, YYYY-MM-DD")]
_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"model": ProjectionOut}, **READ_PROBLEMS}


def _view_json(view: ProjectionView, next_after: Any = None) -> dict[str, Any]:
    return {
        "position": view.position,
        "state_hash": view.state_hash,
        "rows": list(view.rows),
        "next_after": next_after,
    }


@router.get("/roster", response_class=JSONBytes, responses=_RESPONSES)
def read_roster(
    *,
    reader: ReaderDep,
    programme: Annotated[str | None, Query(description="programme code")] = None,
    org_id: str | None = None,
    status: str | None = None,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
    as_effective_at: EffectiveAt = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROSTER_PAGE)] = 100,
    after: Annotated[str | None, Query(description="`next_after` of the previous page")] = None,
) -> JSONBytes:
    """The beneficiary roster, paged, as known at a position or time, effective at a date."""
    page = reader.roster(
        programme_code=programme,
        org_id=org_id,
        status=status,
        as_known_at_position=as_known_at,
        as_known_at_time=as_known_at_time,
        as_effective_at=as_effective_at,
        limit=limit,
        after=after,
    )
    return JSONBytes(_view_json(page, page.next_after))


@router.get("/funds", response_class=JSONBytes, responses=_RESPONSES)
def read_funds(
    *,
    reader: ReaderDep,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
    as_effective_at: EffectiveAt = None,
) -> JSONBytes:
    """Every earmarked fund account's ledger (appropriated, received, committed, available…)."""
    view = reader.fund_ledger(
        as_known_at_position=as_known_at,
        as_known_at_time=as_known_at_time,
        as_effective_at=as_effective_at,
    )
    return JSONBytes(_view_json(view))


@router.get("/funds/{fund_account_id}", response_class=JSONBytes, responses=_RESPONSES)
def read_fund(
    *,
    fund_account_id: str,
    reader: ReaderDep,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
    as_effective_at: EffectiveAt = None,
) -> JSONBytes:
    """One fund account's ledger; 404 if the account is unknown at that position."""
    view = reader.fund_ledger(
        fund_account_id=fund_account_id,
        as_known_at_position=as_known_at,
        as_known_at_time=as_known_at_time,
        as_effective_at=as_effective_at,
    )
    if not view.rows:
        raise LedgerStateError(
            f"no fund account {fund_account_id} as known at position {view.position}",
            code="NOT_FOUND",
            fund_account_id=fund_account_id,
            position=view.position,
        )
    return JSONBytes(_view_json(view))
