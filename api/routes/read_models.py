"""Supervision, payment, standards and coverage read models over HTTP.

``GET /v1/inspections``, ``/v1/rectifications``, ``/v1/payments``, ``/v1/standards`` and
``/v1/coverage`` answer from the projections (:mod:`ledger.projections.read_models`) on the
two time axes of DESIGN.md §7: ``as_known_at`` (a log position) or ``as_known_at_time`` (an
instant) choose the log prefix; ``as_effective_at`` / ``as_of`` / ``period`` the business
validity within it. Every answer names its ``position`` and the projection's ``state_hash``.

Each route documents its JSON shape (pydantic models below, documentation only: rendering is
orjson) with an example response, and each filter carries an example value: the OpenAPI
examples are checked against the schemas and run against a seeded ledger by
``tests/e2e/test_openapi_examples.py``.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ledger.api.context import get_context
from ledger.api.render import dumps
from ledger.api.schemas import READ_PROBLEMS
from ledger.domain.periods import Period
from ledger.errors import LedgerStateError
from ledger.projections.read_models import ReadModelPage, ReadModels

router = APIRouter(prefix="/v1", tags=["read models"])


class PageJSON(JSONResponse):
    """JSON rendered by orjson (like ``JSONBytes``). A ``JSONResponse`` subclass, so that the
    OpenAPI schema of each route is exactly its documented page model (FastAPI adds
    ``type: string`` beside the model for non-JSON response classes)."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


MAX_PAGE = 1000
_LOCK = threading.Lock()
EXAMPLE_STATE_HASH = "9f2c1e0b7a4d5c3e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566"


# ------------------------------------------------------------------ documented shapes


class Page(BaseModel):
    """What every read-model answer has besides its rows."""

    position: int = Field(description="last log index included (-1: nothing yet)")
    state_hash: str = Field(description="the projection's state hash at `position`")
    next_after: str | None = Field(None, description="`after` of the next page, or null")


class Score(BaseModel):
    raw_score: str | None
    single_score: str | None
    deductions: int


class Inspection(BaseModel):
    """One inspection in the register (督查台帐)."""

    inspection_id: str
    type: str | None
    mode: str | None
    status: str = Field(description="UNPLANNED, PLANNED, NOTIFIED, CONDUCTED or REPORTED")
    hidden: int = Field(description="1: an unannounced plan not yet conducted (never served)")
    target_org_ids: list[str]
    team_actor_ids: list[str]
    window_start: str | None
    window_end: str | None
    scheme_id: str | None
    notified_org_ids: list[str]
    started_at: str | None
    ended_at: str | None
    finding_ids: list[str]
    high_severity_findings: int
    scores: dict[str, Score] = Field(description="per target unit; decimal strings")
    report_sha256: str | None
    report_signers: list[str]
    report_recorded_at: str | None
    known_from: int


class InspectionPage(Page):
    rows: list[Inspection]


class EscalationDue(BaseModel):
    ladder: str | None
    step: str | None
    due_by: str | None


class Rectification(BaseModel):
    """One supervision or rectification notice and where it stands."""

    notice_id: str
    kind: str | None
    target_org_id: str | None
    finding_ids: list[str]
    status: str = Field(
        description="ISSUED, RESPONDED, VERIFIED_PASSED, VERIFIED_FAILED, REISSUED (UNISSUED: "
        "facts about a notice never issued)"
    )
    issued_on: str | None
    original_deadline: str | None
    deadline: str | None
    extensions: int
    reports: int
    first_reported_at: str | None
    last_reported_at: str | None
    failed_verifications: list[str]
    passed_on: str | None
    previous_notice_id: str | None
    superseded_by: str | None
    closed_on: str | None
    escalations_due: list[EscalationDue]
    known_from: int
    reported_late: bool
    as_of: str | None = None
    overdue: bool | None = Field(None, description="only with `as_of`")
    escalation_step_due: str | None = Field(None, description="§5.12 ladder, only with `as_of`")
    escalation_due_from: str | None = None


class RectificationPage(Page):
    rows: list[Rectification]


class Payment(BaseModel):
    """One payment line: beneficiary, period, and its money (integer fen)."""

    line_id: str
    batch_id: str | None
    programme_code: str | None
    admin_unit_id: str | None
    period: str | None
    fund_account_id: str | None
    enrolment_id: str | None
    person_id: str | None
    component: str | None
    channel: str | None
    account_id: str | None
    amount_fen: int
    status: str = Field(
        description="PREPARED, CANCELLED, AUTHORISED, SUBMITTED, SETTLED, FAILED, RETURNED, "
        "REISSUED (UNKNOWN: a bank fact about a line never prepared)"
    )
    authorised_fen: int
    authorised_on: str | None
    settled_fen: int
    value_date: str | None
    bank_ref: str | None
    failed_reason: str | None
    returned_fen: int
    returned_reason: str | None
    reissue_of: str | None
    reissued_as: str | None
    unauthorised_settlement: int
    known_from: int


class PaymentPage(Page):
    rows: list[Payment]


class Standard(BaseModel):
    """One published benefit standard and the months it is in force."""

    standard_id: str
    programme_code: str | None
    admin_unit_id: str | None
    support_mode: str | None
    component: str | None
    amount_fen: int = Field(description="annual amount")
    basis_period: str | None
    effective_from: str | None
    effective_to: str | None = Field(description="last month in force; null: open-ended")
    superseded_by: str | None
    published_on: str | None
    basis: dict[str, int] | None
    floor_fen: int | None = Field(description="STD-1 floor from the basis (§5.8)")
    published_at_index: int
    known_from: int


class StandardPage(Page):
    rows: list[Standard]


class Coverage(BaseModel):
    """A township's beneficiaries of one programme, or an institution's residents."""

    kind: str = Field(description="TOWNSHIP_PROGRAMME or INSTITUTION")
    period: str | None = None
    on: str | None = None
    admin_unit_id: str | None = None
    programme_code: str | None = None
    active: int | None = None
    centralised: int | None = None
    dispersed: int | None = None
    centralised_rate: str | None = Field(None, description="exact fraction, e.g. 13/30")
    centralised_rate_percent: str | None = Field(None, description="two decimals, half up")
    target: str | None = None
    target_met: bool | None = None
    rule: str | None = None
    institution_id: str | None = None
    residents: int | None = None


class CoveragePage(Page):
    rows: list[Coverage]


# ------------------------------------------------------------------ examples

INSPECTION_EXAMPLE: dict[str, Any] = {
    "position": 812,
    "state_hash": EXAMPLE_STATE_HASH,
    "next_after": None,
    "rows": [
        {
            "inspection_id": "insp-2024-03",
            "type": "ROUTINE",
            "mode": "ANNOUNCED",
            "status": "REPORTED",
            "hidden": 0,
            "target_org_ids": ["county-hx-town-1"],
            "team_actor_ids": ["insp-a", "insp-b"],
            "window_start": "2024-03-01",
            "window_end": "2024-03-05",
            "scheme_id": None,
            "notified_org_ids": ["county-hx-town-1"],
            "started_at": "2024-03-04T09:00:00+08:00",
            "ended_at": "2024-03-04T17:00:00+08:00",
            "finding_ids": ["find-1"],
            "high_severity_findings": 1,
            "scores": {
                "county-hx-town-1": {"raw_score": "85", "single_score": "82.5", "deductions": 1}
            },
            "report_sha256": "5" * 64,
            "report_signers": ["insp-a", "insp-b"],
            "report_recorded_at": "2024-03-05T02:00:00.000000Z",
            "known_from": 790,
        }
    ],
}
RECTIFICATION_EXAMPLE: dict[str, Any] = {
    "position": 812,
    "state_hash": EXAMPLE_STATE_HASH,
    "next_after": None,
    "rows": [
        {
            "notice_id": "notice-1",
            "kind": "RECTIFICATION",
            "target_org_id": "county-hx-town-1",
            "finding_ids": ["find-1"],
            "status": "VERIFIED_FAILED",
            "issued_on": "2024-03-01",
            "original_deadline": "2024-03-15",
            "deadline": "2024-03-15",
            "extensions": 0,
            "reports": 1,
            "first_reported_at": "2024-03-20",
            "last_reported_at": "2024-03-20",
            "failed_verifications": ["2024-03-29"],
            "passed_on": None,
            "previous_notice_id": None,
            "superseded_by": None,
            "closed_on": None,
            "escalations_due": [
                {"ladder": "RECTIFICATION", "step": "CRITICISM", "due_by": "2024-03-16"}
            ],
            "known_from": 801,
            "reported_late": True,
            "as_of": "2024-03-29",
            "overdue": True,
            "escalation_step_due": "ACCOUNTABILITY",
            "escalation_due_from": "2024-03-29",
        }
    ],
}
PAYMENT_EXAMPLE: dict[str, Any] = {
    "position": 812,
    "state_hash": EXAMPLE_STATE_HASH,
    "next_after": "county-hx-2024-07-line-0002",
    "rows": [
        {
            "line_id": "county-hx-2024-07-line-0002",
            "batch_id": "county-hx-2024-07",
            "programme_code": "TEKUN",
            "admin_unit_id": "county-hx",
            "period": "2024-07",
            "fund_account_id": "county-hx-fund-2024",
            "enrolment_id": "enr-17",
            "person_id": "person-17",
            "component": "BASIC_LIVING",
            "channel": "ONE_CARD",
            "account_id": "acct-17",
            "amount_fen": 10_834,
            "status": "SETTLED",
            "authorised_fen": 10_834,
            "authorised_on": "2024-07-01",
            "settled_fen": 10_834,
            "value_date": "2024-07-05",
            "bank_ref": "BK-2024-07-0002",
            "failed_reason": None,
            "returned_fen": 0,
            "returned_reason": None,
            "reissue_of": None,
            "reissued_as": None,
            "unauthorised_settlement": 0,
            "known_from": 655,
        }
    ],
}
STANDARD_EXAMPLE: dict[str, Any] = {
    "position": 812,
    "state_hash": EXAMPLE_STATE_HASH,
    "next_after": None,
    "rows": [
        {
            "standard_id": "TEKUN-DISPERSED-2024",
            "programme_code": "TEKUN",
            "admin_unit_id": "city",
            "support_mode": "DISPERSED",
            "component": "BASIC_LIVING",
            "amount_fen": 130_000,
            "basis_period": "YEAR",
            "effective_from": "2024-02",
            "effective_to": None,
            "superseded_by": None,
            "published_on": "2024-01-10",
            "basis": None,
            "floor_fen": None,
            "published_at_index": 57,
            "known_from": 57,
        }
    ],
}
COVERAGE_EXAMPLE: dict[str, Any] = {
    "position": 812,
    "state_hash": EXAMPLE_STATE_HASH,
    "next_after": None,
    "rows": [
        {
            "kind": "TOWNSHIP_PROGRAMME",
            "period": "2024-12",
            "admin_unit_id": "county-hx-town-1",
            "programme_code": "TEKUN",
            "active": 120,
            "centralised": 52,
            "dispersed": 68,
            "centralised_rate": "13/30",
            "centralised_rate_percent": "43.33",
            "target": "2/5",
            "target_met": True,
            "rule": "N-WB-7",
        },
        {"kind": "INSTITUTION", "on": "2024-12-31", "institution_id": "home-1", "residents": 52},
    ],
}


READ_MODEL_EXAMPLES: dict[str, dict[str, Any]] = {
    "/v1/inspections": INSPECTION_EXAMPLE,
    "/v1/rectifications": RECTIFICATION_EXAMPLE,
    "/v1/payments": PAYMENT_EXAMPLE,
    "/v1/standards": STANDARD_EXAMPLE,
    "/v1/coverage": COVERAGE_EXAMPLE,
}
"""Each route's response example (re-inserted with its nulls by ``read_models_examples``)."""


def responses_for(model: type[BaseModel], example: dict[str, Any]) -> dict[int | str, Any]:
    """The 200 answer (its model and example) and the read problems, for a route."""
    return {
        200: {"model": model, "content": {"application/json": {"example": example}}},
        **READ_PROBLEMS,
    }


def example(value: Any, summary: str) -> dict[str, dict[str, Any]]:
    """One named OpenAPI example of a parameter."""
    return {"example": {"summary": summary, "value": value}}


KnownAt = Annotated[
    int | None,
    Query(
        ge=-1,
        description="log position (inclusive): the answer as known then",
        openapi_examples=example(0, "as known right after the genesis event"),
    ),
]
KnownAtTime = Annotated[
    datetime | None,
    Query(
        description="RFC 3339 instant: the answer as known then",
        openapi_examples=example("2030-01-01T00:00:00+08:00", "as known on a given instant"),
    ),
]
Limit = Annotated[
    int, Query(ge=1, le=MAX_PAGE, openapi_examples=example(50, "fifty rows per page"))
]
After = Annotated[
    str | None,
    Query(
        description="`next_after` of the previous page",
        openapi_examples=example("0", "rows with keys after '0'"),
    ),
]
Programme = Annotated[
    str | None, Query(description="programme code", openapi_examples=example("TEKUN", "特困"))
]
AdminUnit = Annotated[
    str | None,
    Query(description="admin unit (organisation) id", openapi_examples=example("city", "the city")),
]


# ------------------------------------------------------------------ plumbing


def read_models(request: Request) -> ReadModels:
    """This process's read-model queries, over the projection reader's store."""
    cached: ReadModels | None = getattr(request.app.state, "read_models", None)
    if cached is not None:
        return cached
    store = getattr(get_context(request).reader(), "store", None)
    if store is None:
        raise LedgerStateError("the read models need the projections database", code="UNAVAILABLE")
    with _LOCK:
        cached = getattr(request.app.state, "read_models", None)
        if cached is None:
            cached = ReadModels(store)
            request.app.state.read_models = cached
    return cached


_JSON_COLUMNS = frozenset(
    {
        "target_org_ids",
        "team_actor_ids",
        "notified_org_ids",
        "finding_ids",
        "scores",
        "report_signers",
        "failed_verifications",
        "escalations_due",
        "basis",
    }
)


def render_page(page: ReadModelPage, json_columns: frozenset[str]) -> PageJSON:
    """The page as JSON, with the list and object columns named decoded from their text."""
    rows = [
        {
            k: orjson.loads(v) if k in json_columns and isinstance(v, str) else v
            for k, v in row.items()
        }
        for row in page.rows
    ]
    return PageJSON(
        {
            "position": page.position,
            "state_hash": page.state_hash,
            "next_after": page.next_after,
            "rows": rows,
        }
    )


def _render(page: ReadModelPage) -> PageJSON:
    return render_page(page, _JSON_COLUMNS)


def instant(moment: datetime | None) -> str | None:
    """An RFC 3339 text; a time without offset is taken as UTC (like ``GET /v1/roster``)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


# ------------------------------------------------------------------ routes


@router.get(
    "/inspections",
    response_class=PageJSON,
    responses=responses_for(InspectionPage, INSPECTION_EXAMPLE),
)
def read_inspections(
    *,
    request: Request,
    org_id: Annotated[
        str | None,
        Query(
            description="a target unit", openapi_examples=example("city", "inspections of the city")
        ),
    ] = None,
    status: Annotated[
        str | None, Query(openapi_examples=example("REPORTED", "inspections with a report"))
    ] = None,
    type: Annotated[  # noqa: A002 - the register's column name
        str | None, Query(openapi_examples=example("ROUTINE", "routine inspections"))
    ] = None,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
    limit: Limit = 100,
    after: After = None,
) -> PageJSON:
    """The inspection register (督查台帐). Unannounced plans not yet conducted are never
    served here (INS-3: the inspected units must not learn of them)."""
    page = read_models(request).inspections(
        org_id=org_id,
        status=status,
        type=type,
        as_known_at_position=as_known_at,
        as_known_at_time=instant(as_known_at_time),
        limit=limit,
        after=after,
    )
    return _render(page)


@router.get(
    "/rectifications",
    response_class=PageJSON,
    responses=responses_for(RectificationPage, RECTIFICATION_EXAMPLE),
)
def read_rectifications(
    *,
    request: Request,
    org_id: Annotated[
        str | None,
        Query(
            description="the target unit", openapi_examples=example("city", "notices to the city")
        ),
    ] = None,
    status: Annotated[
        str | None, Query(openapi_examples=example("VERIFIED_FAILED", "failed re-verifications"))
    ] = None,
    kind: Annotated[
        str | None, Query(openapi_examples=example("RECTIFICATION", "限期整改 notices"))
    ] = None,
    as_of: Annotated[
        date | None,
        Query(
            description="evaluate overdue and the escalation step due on this date",
            openapi_examples=example("2024-03-16", "the day after an EX-ESC-2 deadline"),
        ),
    ] = None,
    overdue: Annotated[
        bool,
        Query(
            description="only notices overdue on `as_of`",
            openapi_examples=example(True, "overdue only"),
        ),
    ] = False,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
    limit: Limit = 100,
    after: After = None,
) -> PageJSON:
    """The rectification tracker: deadlines, reports, verifications, reissues, escalation
    expectations; with `as_of`, whether each notice is overdue and which step is due."""
    page = read_models(request).rectifications(
        org_id=org_id,
        status=status,
        kind=kind,
        as_of=as_of,
        overdue_only=overdue,
        as_known_at_position=as_known_at,
        as_known_at_time=instant(as_known_at_time),
        limit=limit,
        after=after,
    )
    return _render(page)


@router.get(
    "/payments", response_class=PageJSON, responses=responses_for(PaymentPage, PAYMENT_EXAMPLE)
)
def read_payments(
    *,
    request: Request,
    programme: Programme = None,
    admin_unit: AdminUnit = None,
    period: Annotated[
        str | None,
        Query(
            description="benefit month paid, YYYY-MM",
            openapi_examples=example("2024-07", "July 2024"),
        ),
    ] = None,
    status: Annotated[
        str | None, Query(openapi_examples=example("SETTLED", "lines the bank paid"))
    ] = None,
    enrolment_id: Annotated[
        str | None, Query(openapi_examples=example("enr-17", "one beneficiary's enrolment"))
    ] = None,
    person_id: Annotated[
        str | None, Query(openapi_examples=example("person-17", "one person"))
    ] = None,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
    limit: Limit = 100,
    after: After = None,
) -> PageJSON:
    """The payment ledger: each line's beneficiary, period and component, and the amounts
    authorised, settled, failed and returned (integer fen)."""
    page = read_models(request).payments(
        programme_code=programme,
        admin_unit_id=admin_unit,
        period=period,
        status=status,
        enrolment_id=enrolment_id,
        person_id=person_id,
        as_known_at_position=as_known_at,
        as_known_at_time=instant(as_known_at_time),
        limit=limit,
        after=after,
    )
    return _render(page)


EffectiveAt = Annotated[
    date | None,
    Query(
        description="business date: its month is the one asked about",
        openapi_examples=example("2024-12-31", "31 December 2024"),
    ),
]


@router.get(
    "/standards", response_class=PageJSON, responses=responses_for(StandardPage, STANDARD_EXAMPLE)
)
def read_standards(
    *,
    request: Request,
    programme: Programme = None,
    admin_unit: AdminUnit = None,
    component: Annotated[
        str | None, Query(openapi_examples=example("BASIC_LIVING", "basic living standards"))
    ] = None,
    support_mode: Annotated[
        str | None, Query(openapi_examples=example("DISPERSED", "home support"))
    ] = None,
    as_effective_at: EffectiveAt = None,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
    limit: Limit = 100,
    after: After = None,
) -> PageJSON:
    """The standards table: every standard with its amount and the months it is in force;
    `as_effective_at` keeps those in force in that date's month."""
    page = read_models(request).standards(
        programme_code=programme,
        admin_unit_id=admin_unit,
        component=component,
        support_mode=support_mode,
        in_force_in=None if as_effective_at is None else str(Period.of(as_effective_at)),
        as_known_at_position=as_known_at,
        as_known_at_time=instant(as_known_at_time),
        limit=limit,
        after=after,
    )
    return _render(page)


@router.get(
    "/coverage", response_class=PageJSON, responses=responses_for(CoveragePage, COVERAGE_EXAMPLE)
)
def read_coverage(
    *,
    request: Request,
    programme: Programme = None,
    admin_unit: AdminUnit = None,
    as_effective_at: EffectiveAt = None,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
) -> PageJSON:
    """Coverage metrics (§5.9): per township and programme the beneficiaries payable in the
    month of `as_effective_at` (now if absent) by support mode and the centralised-support
    rate against N-WB-7 (≥ 2/5 for 特困); per institution the residents on that date."""
    page = read_models(request).coverage(
        programme_code=programme,
        admin_unit_id=admin_unit,
        period=None if as_effective_at is None else str(Period.of(as_effective_at)),
        on=as_effective_at,
        as_known_at_position=as_known_at,
        as_known_at_time=instant(as_known_at_time),
    )
    return _render(page)
