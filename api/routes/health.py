"""``GET /healthz``: 200 when the ledger is open and initialised, 503 otherwise."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from ledger.api.context import ServiceDep
from ledger.api.problems import UNAVAILABLE
from ledger.api.render import JSONBytes
from ledger.api.schemas import READ_PROBLEMS, HealthOut
from ledger.errors import LedgerStateError

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get(
    "/healthz", response_class=JSONBytes, responses={200: {"model": HealthOut}, **READ_PROBLEMS}
)
def health(service: ServiceDep) -> JSONBytes:
    """Liveness and readiness: reads the tree head, so a lost database shows as 503."""
    try:
        size = service.store.log.head().size
    except Exception as e:  # any storage failure means "not ready", not a server bug
        log.exception("health check could not read the tree head")
        raise LedgerStateError("the ledger store is not reachable", code=UNAVAILABLE) from e
    return JSONBytes({"status": "ok", "origin": service.registry.origin, "size": size})
