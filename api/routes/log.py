"""``GET /v1/log``: the global log in pages, with hashes and signed envelopes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ledger.api.context import ServiceDep
from ledger.api.render import JSONBytes, entry_json
from ledger.api.schemas import READ_PROBLEMS, LogPage

router = APIRouter(prefix="/v1", tags=["log"])

MAX_LOG_PAGE = 1000
"""Large pages are cheap per event (one query), but bound the response size."""


@router.get("/log", response_class=JSONBytes, responses={200: {"model": LogPage}, **READ_PROBLEMS})
def read_log(
    service: ServiceDep,
    start: Annotated[int, Query(alias="from", ge=0, description="first log index")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LOG_PAGE)] = 100,
) -> JSONBytes:
    """Entries from log index `from`, in log order; `next` is the following page's `from`."""
    log = service.store.log
    entries = log.entries(start, limit)
    size = log.head().size
    end = start + len(entries)
    return JSONBytes(
        {
            "from": start,
            "size": size,
            "next": end if entries and end < size else None,
            "entries": [entry_json(e) for e in entries],
        }
    )
