"""Checkpoints, proofs and receipts: what an outsider needs to check the ledger.

Checkpoints are served as the C2SP signed note (``text/plain``, the format transparency-log
tooling expects) or, with ``Accept: application/json`` or ``?format=json``, as JSON.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, Response

from ledger.api.context import ServiceDep
from ledger.api.render import JSONBytes, checkpoint_json
from ledger.api.schemas import (
    READ_PROBLEMS,
    CheckpointOut,
    ConsistencyProofOut,
    InclusionProofOut,
    ReceiptOut,
)
from ledger.errors import LedgerStateError
from ledger.integrity.signing import b64encode
from ledger.services.ledger import LedgerService
from ledger.store.records import StoredCheckpoint

router = APIRouter(prefix="/v1", tags=["integrity"])

NOTE_MEDIA_TYPE = "text/plain; charset=utf-8"
Format = Annotated[Literal["note", "json"] | None, Query(description="default: by Accept")]

_CHECKPOINT_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "model": CheckpointOut,
        "description": "the C2SP signed note (text/plain) or its JSON form",
        "content": {
            "text/plain": {
                "example": "ledger.example.gov.cn/city\n5\nB1EVtwyrKiphYEOxEEmuU/a2VECCibGNufR"
                "3NUVymUU=\n\n— ledger.example.gov.cn/city UWBmii…\n"
            }
        },
    },
    **READ_PROBLEMS,
}


def _checkpoint_response(
    checkpoint: StoredCheckpoint, request: Request, fmt: str | None
) -> Response:
    wants_json = fmt == "json" or (
        fmt is None and "application/json" in request.headers.get("accept", "")
    )
    if wants_json:
        return JSONBytes(checkpoint_json(checkpoint))
    return PlainTextResponse(checkpoint.note, media_type=NOTE_MEDIA_TYPE)


def _not_found(what: str, **evidence: object) -> LedgerStateError:
    return LedgerStateError(f"no {what}", code="NOT_FOUND", **evidence)


@router.get("/checkpoints/latest", response_class=Response, responses=_CHECKPOINT_RESPONSES)
def latest_checkpoint(service: ServiceDep, request: Request, format: Format = None) -> Response:  # noqa: A002 - the public parameter name
    """The latest checkpoint the ledger issued."""
    checkpoint = service.store.log.latest_checkpoint()
    if checkpoint is None:
        raise _not_found("checkpoint has been issued yet")
    return _checkpoint_response(checkpoint, request, format)


@router.get("/checkpoints/{size}", response_class=Response, responses=_CHECKPOINT_RESPONSES)
def checkpoint_at(
    size: int,
    service: ServiceDep,
    request: Request,
    format: Format = None,  # noqa: A002
) -> Response:
    """The checkpoint issued at tree size `size` (every checkpoint is kept)."""
    checkpoint = service.store.log.checkpoint_at(size)
    if checkpoint is None:
        raise _not_found(f"checkpoint of size {size}", size=size)
    return _checkpoint_response(checkpoint, request, format)


def _default_size(service: LedgerService, size: int | None) -> int:
    """An omitted tree size means the latest checkpoint's: what a verifier can check."""
    if size is not None:
        return size
    latest = service.store.log.latest_checkpoint()
    if latest is None:
        raise _not_found("checkpoint has been issued yet")
    return latest.size


@router.get(
    "/proofs/inclusion",
    response_class=JSONBytes,
    responses={200: {"model": InclusionProofOut}, **READ_PROBLEMS},
)
def inclusion_proof(
    service: ServiceDep,
    index: Annotated[int | None, Query(ge=0, description="log index (or give event_id)")] = None,
    event_id: Annotated[str | None, Query(description="instead of index")] = None,
    tree_size: Annotated[int | None, Query(ge=1, description="default: latest checkpoint")] = None,
) -> JSONBytes:
    """RFC 9162 inclusion proof of one event in the tree of `tree_size`."""
    log = service.store.log
    entry = log.entry_by_event_id(event_id) if event_id is not None else None
    if event_id is not None and entry is None:
        raise _not_found(f"event {event_id}", event_id=event_id)
    if entry is None:
        if index is None:
            raise LedgerStateError("give index or event_id", code="BAD_REQUEST")
        entry = log.entry_at(index)
        if entry is None:
            raise _not_found(f"event at log index {index}", index=index)
    size = _default_size(service, tree_size)
    proof = service.inclusion_proof(entry.index, size)
    return JSONBytes(
        {
            "index": entry.index,
            "tree_size": size,
            "leaf_hash": b64encode(entry.leaf_hash),
            "proof": [b64encode(h) for h in proof],
        }
    )


@router.get(
    "/proofs/consistency",
    response_class=JSONBytes,
    responses={200: {"model": ConsistencyProofOut}, **READ_PROBLEMS},
)
def consistency_proof(
    service: ServiceDep,
    old: Annotated[int, Query(ge=0, description="old tree size")],
    new: Annotated[int | None, Query(ge=0, description="default: latest checkpoint")] = None,
) -> JSONBytes:
    """RFC 9162 consistency proof that tree `old` is a prefix of tree `new`."""
    size = _default_size(service, new)
    proof = service.consistency_proof(old, size)
    return JSONBytes({"old_size": old, "new_size": size, "proof": [b64encode(h) for h in proof]})


@router.get(
    "/receipts/{index}",
    response_class=JSONBytes,
    responses={200: {"model": ReceiptOut}, **READ_PROBLEMS},
)
def read_receipt(index: int, service: ServiceDep) -> JSONBytes:
    """The receipt of the event at log `index`, byte-identical to the one first returned."""
    return JSONBytes(service.receipt_for_index(index).to_dict())
