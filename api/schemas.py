"""Pydantic models that document the API's JSON shapes in OpenAPI.

The routes render with orjson (:mod:`ledger.api.render`) for speed; these models are the
published contract of the same shapes and are used for documentation only. The envelope
itself is specified normatively in docs/PROTOCOL.md §2; :class:`EnvelopeIn` mirrors it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Actor(BaseModel):
    """Who signed: the actor, the role they act in, and for which organisation."""

    actor_id: str
    role: str
    org_id: str


class EnvelopeIn(BaseModel):
    """A signed v1 envelope (docs/PROTOCOL.md §2). Submit the exact bytes you signed."""

    protocol: str = Field(examples=["ledger/v1"])
    event_id: str = Field(description="UUID (v7 recommended); the idempotency key")
    event_type: str
    schema_version: int
    stream_type: str
    stream_id: str
    expected_version: int = Field(description="events already in the stream")
    occurred_at: str = Field(description="RFC 3339 with offset")
    actor: Actor
    key_id: str = Field(description="hex SHA-256 of the signer's Ed25519 public key")
    causation_id: str | None
    correlation_id: str | None
    payload: dict[str, Any]
    attachments: list[dict[str, Any]]
    signature: str = Field(description="base64 Ed25519 over the RFC 8785 bytes without it")


class BatchIn(BaseModel):
    """Envelopes for ONE stream, appended atomically (all or none), in order."""

    events: list[EnvelopeIn] = Field(min_length=1, max_length=100)


class ReceiptOut(BaseModel):
    """The ledger's signed receipt (docs/PROTOCOL.md §6)."""

    type: str = Field(examples=["ledger/v1/receipt"])
    origin: str
    event_id: str
    index: int = Field(description="log index of the event")
    recorded_at: str
    leaf_hash: str = Field(description="base64 SHA-256(0x00 || leaf bytes)")
    tree_size: int = Field(description="index + 1")
    root_hash: str = Field(description="base64 Merkle root of the tree of tree_size")
    key_id: str
    signature: str = Field(description="base64 Ed25519 by the ledger key")


class BatchOut(BaseModel):
    """Receipts of a batch, in submission order."""

    receipts: list[ReceiptOut]


class Problem(BaseModel):
    """RFC 9457 problem details, with the ledger's code and evidence."""

    type: str = Field(examples=["urn:ledger:v1:problem:ENV-3"])
    title: str
    status: int
    detail: str
    code: str = Field(description="invariant or protocol code, e.g. ENV-1, APP-8, FUND-1")
    evidence: dict[str, Any]


class EntryOut(BaseModel):
    """A recorded event: the envelope as stored and its place in the log."""

    index: int
    event_id: str | None
    event_type: str
    stream_version: int
    recorded_at: str
    leaf_hash: str
    root_hash: str = Field(description="root of the tree right after this event")
    envelope: dict[str, Any] = Field(description="the stored RFC 8785 envelope")


class LogPage(BaseModel):
    """A page of the global log."""

    start: int = Field(alias="from")
    size: int = Field(description="events in the log now")
    next: int | None = Field(description="`from` of the next page, or null at the end")
    entries: list[EntryOut]


class StreamPage(BaseModel):
    """A stream's events in version order."""

    stream_type: str
    stream_id: str
    version: int = Field(description="the stream's current length")
    next_after_version: int | None
    events: list[EntryOut]


class CheckpointOut(BaseModel):
    """A kept checkpoint; ``note`` is the C2SP signed note text."""

    size: int
    root_hash: str
    issued_at: str
    note: str


class InclusionProofOut(BaseModel):
    """RFC 9162 inclusion proof, hashes in base64."""

    index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyProofOut(BaseModel):
    """RFC 9162 consistency proof, hashes in base64."""

    old_size: int
    new_size: int
    proof: list[str]


class ProjectionOut(BaseModel):
    """Projection rows at a log position, with the projection's state hash."""

    position: int
    state_hash: Any
    rows: list[Any]
    next_after: Any = None


class HealthOut(BaseModel):
    """Liveness and the log size."""

    status: str
    origin: str | None
    size: int


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": why}
    for status, why in (
        (400, "malformed or oversized body, schema violation (ENV-0, ENV-5), bad parameters"),
        (401, "signature or signing key not accepted (ENV-1)"),
        (403, "the actor's role does not cover this event (ENV-2)"),
        (409, "stale expected_version (ENV-3) or event id reused with other content (ENV-4)"),
        (422, "a business invariant refused the decision (code = invariant id)"),
        (503, "the ledger is not initialised or not reachable"),
    )
}
READ_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: PROBLEM_RESPONSES[400],
    404: {"model": Problem, "description": "not found"},
    503: PROBLEM_RESPONSES[503],
}
