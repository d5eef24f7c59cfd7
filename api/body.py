"""Reading a ``POST /v1/events`` body within its size limit, and telling a batch from one event.

Limits (docs: the API section of the README):

* one envelope: at most :data:`MAX_ENVELOPE_BYTES` (64 KiB, docs/PROTOCOL.md §2) as submitted;
* a batch ``{"events": [envelope, ...]}``: at most :data:`MAX_BATCH_EVENTS` envelopes and
  :data:`MAX_BATCH_BYTES` in total, each envelope within the one-envelope limit.

The body is refused *before* it is read when ``Content-Length`` already exceeds the limit, and
while it streams in otherwise (chunked uploads): memory per request is bounded by the limit,
not by what the client sends. A single envelope is passed on as the exact submitted bytes;
only batch members are re-serialised (they arrive embedded in the batch object), which is
harmless because the ledger stores and signs the RFC 8785 form of the parsed envelope anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson
from starlette.requests import Request

from ledger.errors import MalformedEnvelopeError
from ledger.integrity.envelope import MAX_ENVELOPE_BYTES

MAX_BATCH_EVENTS = 100
MAX_BATCH_BYTES = 1024 * 1024

# A batch is the only body whose first member is "events" (no envelope has that member).
_BATCH_PREFIX = re.compile(rb'\A\s*\{\s*"events"\s*:')
_SNIFF_BYTES = 64
"""Enough leading bytes to recognise a batch (whitespace included)."""


@dataclass(frozen=True, slots=True)
class Submission:
    """What a client posted: one envelope's raw bytes, or a batch of them."""

    single: bytes | None = None
    batch: list[bytes] | None = None


async def read_submission(request: Request) -> Submission:
    """Read and classify the body (see module docstring).

    Raises:
        MalformedEnvelopeError: too large (``reason="oversized"``) or a malformed batch.
    """
    declared = _content_length(request)
    if declared is not None and declared <= MAX_ENVELOPE_BYTES:
        # The common case, and the fast path: the server enforces Content-Length framing, so
        # this read cannot exceed the limit.
        body = await request.body()
    else:
        body = await _read_bounded(request, declared)
    if _BATCH_PREFIX.match(body):
        return Submission(batch=_split_batch(body))
    return Submission(single=body)


def _content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None or not raw.isdigit():
        return None
    return int(raw)


async def _read_bounded(request: Request, declared: int | None) -> bytes:
    """Stream the body, stopping as soon as it is known to be over its limit."""
    if declared is not None and declared > MAX_BATCH_BYTES:
        raise _oversized(declared, MAX_BATCH_BYTES)
    buf = bytearray()
    limit: int | None = None  # unknown until the first bytes say batch or single
    async for chunk in request.stream():
        buf += chunk
        if limit is None and len(buf) >= _SNIFF_BYTES:
            limit = MAX_BATCH_BYTES if _BATCH_PREFIX.match(buf) else MAX_ENVELOPE_BYTES
            if declared is not None and declared > limit:
                raise _oversized(declared, limit)
        if len(buf) > (limit or MAX_BATCH_BYTES):
            raise _oversized(len(buf), limit or MAX_BATCH_BYTES, at_least=True)
    return bytes(buf)


def _split_batch(body: bytes) -> list[bytes]:
    """The batch members as envelope bytes; the service validates each envelope."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        msg = f"batch is not valid JSON: {e}"
        raise MalformedEnvelopeError(msg, reason="malformed_json") from e
    events = value.get("events") if isinstance(value, dict) else None
    if not isinstance(events, list) or not events or len(value) != 1:
        msg = 'a batch is {"events": [envelope, ...]} with at least one envelope and nothing else'
        raise MalformedEnvelopeError(msg, reason="bad_batch")
    if len(events) > MAX_BATCH_EVENTS:
        raise MalformedEnvelopeError(
            f"batch has {len(events)} envelopes; the limit is {MAX_BATCH_EVENTS}",
            reason="oversized",
            count=len(events),
            limit=MAX_BATCH_EVENTS,
        )
    return [orjson.dumps(e) for e in events]


def _oversized(size: int, limit: int, *, at_least: bool = False) -> MalformedEnvelopeError:
    what = "more than " if at_least else ""
    return MalformedEnvelopeError(
        f"request body is {what}{size} bytes; the limit is {limit}",
        reason="oversized",
        size=size,
        limit=limit,
    )
