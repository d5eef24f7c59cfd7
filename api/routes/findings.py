"""Audit findings: ``GET /v1/findings`` (the ``AuditFindings`` register of ``domain.md`` §6.5).

Findings are raised by the detectors (``ledger findings --run``, signed by the ledger's
detector actor) and disposed of by auditors with a signed ``AuditFindingDisposed`` posted to
``POST /v1/events``; this route lists them with the same filters as ``ledger findings``, as
known now or at a log position, with the projection's state hash.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ledger.api.context import ReaderDep
from ledger.api.render import JSONBytes
from ledger.api.schemas import READ_PROBLEMS
from ledger.errors import LedgerStateError
from ledger.projections.findings import FindingFilter, select_findings

router = APIRouter(prefix="/v1", tags=["audit"])

EXAMPLE: dict[str, Any] = {
    "position": 1043,
    "state_hash": "f67845c4c26f71d3b571298007db435b330be9da84032605ee3b19829bc48fac",
    "findings": [
        {
            "finding_id": "F-3f1c0a9e52b4d8c17a6e09b2",
            "code": "AF-PAY-AFTER-EXIT",
            "severity": "H",
            "admin_unit_id": "county-hx",
            "period": "2024-07",
            "status": "CONFIRMED",
            "detector": "paid-after-exit",
            "detector_version": 1,
            "rule_ref": "PAY-2",
            "summary": "enrolment enr-0007 was paid for 2024-07, 2024-08, after its last "
            "payable period 2024-06",
            "subject_refs": ["enr-0007"],
            "evidence_event_ids": [
                "01a241d8-6337-7b2e-a0bb-74d5f8834c2f",
                "01a241d8-633b-7895-9f50-70421c38cbe7",
            ],
            "raised_at_index": 1040,
            "disposition_reason": None,
            "referred_to_org_id": None,
            "known_from": 1043,
            "known_to": None,
        }
    ],
}

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The findings matching the filters, in finding id order.",
        "content": {"application/json": {"example": EXAMPLE}},
    },
    **READ_PROBLEMS,
}


@router.get("/findings", response_class=JSONBytes, responses=_RESPONSES)
def read_findings(
    *,
    reader: ReaderDep,
    code: Annotated[
        str | None, Query(description="finding code", examples=["AF-PAY-AFTER-EXIT"])
    ] = None,
    severity: Annotated[str | None, Query(pattern="^[HML]$", description="H, M or L")] = None,
    unit: Annotated[str | None, Query(description="admin unit (organisation id)")] = None,
    period: Annotated[
        str | None,
        Query(pattern=r"^\d{4}(-(0[1-9]|1[0-2]))?$", description="YYYY-MM, or YYYY for a year"),
    ] = None,
    status: Annotated[
        str | None,
        Query(
            pattern="^(OPEN|CONFIRMED|FALSE_POSITIVE|REFERRED_TO_DISCIPLINE)$",
            description="OPEN, CONFIRMED, FALSE_POSITIVE or REFERRED_TO_DISCIPLINE",
        ),
    ] = None,
    as_known_at: Annotated[int | None, Query(ge=-1, description="log position (inclusive)")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> JSONBytes:
    """Audit findings (domain.md §7) with their status, evidence and detector version,
    filtered by code, severity, admin unit, period and status."""
    store = getattr(reader, "store", None)
    if store is None:
        raise LedgerStateError("findings need the projections database", code="UNAVAILABLE")
    page = select_findings(
        store,
        FindingFilter(code, severity, unit, period, status),
        as_known_at_position=as_known_at,
        limit=limit,
    )
    return JSONBytes(
        {
            "position": page.position,
            "state_hash": page.state_hash,
            "findings": [row.to_json() for row in page.rows],
        }
    )
