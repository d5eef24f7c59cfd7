"""``POST /v1/events`` (append), ``GET /v1/events/{event_id}`` and stream reads.

The append route is kept minimal on purpose (it is benchmarked against a bare FastAPI POST):
read the body within its limit, hand the exact bytes to the service and await the durable
commit, return the receipt bytes. Everything else (parsing, signatures, rules) is the
service's job.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from ledger.api.body import read_submission
from ledger.api.context import ServiceDep, get_context
from ledger.api.render import JSONBytes, dumps, entry_json
from ledger.api.schemas import (
    PROBLEM_RESPONSES,
    READ_PROBLEMS,
    BatchOut,
    EntryOut,
    ReceiptOut,
    StreamPage,
)
from ledger.errors import LedgerStateError
from ledger.services.ledger import AppendResult
from ledger.store.records import stream_uuid

router = APIRouter(prefix="/v1", tags=["events"])

MAX_STREAM_PAGE = 1000


@router.post(
    "/events",
    status_code=201,
    response_class=JSONBytes,
    responses={
        201: {"model": ReceiptOut | BatchOut, "description": "recorded; the signed receipt(s)"},
        200: {
            "model": ReceiptOut | BatchOut,
            "description": "an identical retry: the ORIGINAL receipt(s), nothing new recorded",
        },
        **PROBLEM_RESPONSES,
    },
    # The body is read as raw bytes (the signature covers them); ledger.api.openapi documents
    # its schema and a live example.
    openapi_extra={"x-raw-envelope-body": True},
)
async def append_events(request: Request) -> Response:
    """Append one signed envelope, or `{"events": [...]}`: an atomic batch for ONE stream.

    Returns **201** with the ledger's signed receipt; an identical retry (same `event_id`,
    same bytes) returns **200** with the original receipt and records nothing. Limits: one
    envelope ≤ 64 KiB; a batch ≤ 100 envelopes and ≤ 1 MiB.
    """
    submission = await read_submission(request)
    context = get_context(request)
    if submission.single is not None:
        service = context.opened()
        if service is not None and service.registry.origin is not None:
            # Checks and receipt on the event loop, the durable commit awaited from the
            # group committer's own thread: no thread hand-off per request.
            result = await service.append_async(submission.single)
        else:
            # First request: opening the service blocks (a worker thread, its own pool).
            result = await anyio.to_thread.run_sync(
                context.append, submission.single, limiter=context.append_limiter
            )
        return _receipt_response(result)
    assert submission.batch is not None
    results = await anyio.to_thread.run_sync(
        context.append_batch, submission.batch, limiter=context.append_limiter
    )
    status = 200 if all(r.duplicate for r in results) else 201
    receipts = [r.receipt.to_dict() for r in results]
    return JSONBytes(dumps({"receipts": receipts}), status)


def _receipt_response(result: AppendResult) -> Response:
    receipt = result.receipt
    return JSONBytes(
        dumps(receipt.to_dict()),
        200 if result.duplicate else 201,
        headers={"Location": f"/v1/events/{receipt.event_id}"},
    )


@router.get(
    "/events/{event_id}",
    response_class=JSONBytes,
    responses={200: {"model": EntryOut}, **READ_PROBLEMS},
)
def read_event(event_id: str, service: ServiceDep) -> JSONBytes:
    """One recorded event: its envelope as stored, log index, recorded_at and leaf hash."""
    entry = service.store.log.entry_by_event_id(event_id)
    if entry is None:
        raise LedgerStateError(f"no event {event_id}", code="NOT_FOUND", event_id=event_id)
    return JSONBytes(entry_json(entry))


@router.get(
    "/streams/{stream_type}/{stream_id}/events",
    response_class=JSONBytes,
    responses={200: {"model": StreamPage}, **READ_PROBLEMS},
)
def read_stream(
    service: ServiceDep,
    stream_type: Annotated[str, Path(max_length=32)],
    stream_id: Annotated[str, Path(max_length=128)],
    after_version: Annotated[int, Query(ge=0, description="events after this version")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_STREAM_PAGE)] = 100,
) -> JSONBytes:
    """A stream's events in version order (an unknown stream is empty: version 0)."""
    log = service.store.log
    uuid = stream_uuid(stream_type, stream_id)
    entries = log.stream_entries(uuid, after_version)
    page = entries[:limit]
    version = entries[-1].originator_version if entries else log.stream_version(uuid)
    more = len(entries) > limit
    return JSONBytes(
        {
            "stream_type": stream_type,
            "stream_id": stream_id,
            "version": version,
            "next_after_version": page[-1].originator_version if more else None,
            "events": [entry_json(e) for e in page],
        }
    )
