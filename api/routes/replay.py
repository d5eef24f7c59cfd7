"""Audit reads: ``GET /v1/replay/{event_id}`` (decision replay) and
``GET /v1/timeline/{subject_id}`` (every event touching a subject).

Both are answered by :class:`~ledger.services.replay.ReplayService` over the case index,
which lives in the projections database next to the roster and fund ledger; the service is
created once per API process on first use. An unknown event or subject is a 404 problem.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Request

from ledger.api.context import ApiContext, get_context
from ledger.api.render import JSONBytes
from ledger.api.schemas import READ_PROBLEMS
from ledger.errors import LedgerStateError
from ledger.services.replay import ReplayService

router = APIRouter(prefix="/v1", tags=["audit"])

_LOCK = threading.Lock()
_RESPONSES: dict[int | str, dict[str, Any]] = {**READ_PROBLEMS}


def _replay(request: Request) -> ReplayService:
    """This process's replay service (created on first use, beside the projection reader)."""
    cached: ReplayService | None = getattr(request.app.state, "replay", None)
    if cached is not None:
        return cached
    context: ApiContext = get_context(request)
    service = context.service()
    reader = context.reader()
    store = getattr(reader, "store", None)
    if store is None:
        raise LedgerStateError("replay needs the projections database", code="UNAVAILABLE")
    from ledger.projections.case_index import CaseIndex

    with _LOCK:
        cached = getattr(request.app.state, "replay", None)
        if cached is None:
            index = CaseIndex(store.db)
            index.create_schema()
            cached = ReplayService(service, index, store)
            request.app.state.replay = cached
    return cached


@router.get("/replay/{event_id}", response_class=JSONBytes, responses=_RESPONSES)
def replay_decision(event_id: str, request: Request) -> JSONBytes:
    """Replay a decision: causation chain, verified signers, rule versions in force, the
    roster and fund rows as known just before it, the rules re-run on its dependency closure
    (match or mismatch with the refusal's code), and verified inclusion proofs."""
    return JSONBytes(_replay(request).replay(event_id))


@router.get("/timeline/{subject_id}", response_class=JSONBytes, responses=_RESPONSES)
def subject_timeline(subject_id: str, request: Request) -> JSONBytes:
    """Every event touching a person, household, application, enrolment, fund account or
    assessee, in log order, with actor, role and organisation."""
    return JSONBytes(_replay(request).timeline(subject_id))
