"""Errors as RFC 9457 ``application/problem+json``, mapped once for the whole API.

Every refusal below the API is a :class:`ledger.errors.LedgerError` that already carries a
stable ``code``, a sentence (``detail``) and its ``evidence``; this module only chooses the
HTTP status from the error's *class* (and, for :class:`LedgerStateError`, its code) and
renders the problem document::

    {"type": "urn:ledger:v1:problem:ENV-1", "title": "Signature rejected", "status": 401,
     "detail": "...", "code": "ENV-1", "evidence": {...}}

Unexpected exceptions become a bare 500 problem: the stack trace goes to the log, never to
the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ledger.errors import (
    AuthorizationError,
    ConcurrencyError,
    DuplicateEventError,
    LedgerError,
    LedgerStateError,
    MalformedEnvelopeError,
    RuleViolation,
    SchemaError,
    SignatureRejectedError,
)
from ledger.integrity.merkle import ProofRequestError

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:ledger:v1:problem:"

UNINITIALISED = "UNINITIALISED"
"""Code of the 503 problem: the ledger has not been initialised (or its key is missing)."""
UNAVAILABLE = "UNAVAILABLE"
"""Code of the 503 problem: a component (e.g. the projection reader) is not configured."""

# Order matters only in that subclasses come before their bases (none overlap today).
_STATUS_BY_CLASS: tuple[tuple[type[LedgerError], int, str], ...] = (
    (MalformedEnvelopeError, 400, "Malformed envelope"),
    (SchemaError, 400, "Schema violation"),
    (SignatureRejectedError, 401, "Signature rejected"),
    (AuthorizationError, 403, "Not authorised"),
    (ConcurrencyError, 409, "Stream version conflict"),
    (DuplicateEventError, 409, "Event id reused with different content"),
    (RuleViolation, 422, "Business rule violated"),
)

# LedgerStateError is a catch-all "cannot do that now"; its code says which kind.
_STATE_STATUS = {
    "NOT_FOUND": (404, "Not found"),
    "STATE": (503, "Ledger not ready"),
    UNINITIALISED: (503, "Ledger not initialised"),
    UNAVAILABLE: (503, "Service unavailable"),
    "BAD_REQUEST": (400, "Bad request"),
}
_STATE_DEFAULT = (409, "Ledger state conflict")  # e.g. REG-1 (already initialised), ENV-3


def status_for(error: LedgerError) -> tuple[int, str]:
    """The HTTP status and problem title for a ledger error."""
    if isinstance(error, LedgerStateError):
        return _STATE_STATUS.get(error.code, _STATE_DEFAULT)
    for cls, status, title in _STATUS_BY_CLASS:
        if isinstance(error, cls):
            return status, title
    return 400, "Refused"


def problem_response(
    status: int,
    title: str,
    code: str,
    detail: str,
    *,
    evidence: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An RFC 9457 problem document (``type`` is a URN naming the code)."""
    body = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "evidence": evidence or {},
    }
    # Evidence is meant to be JSON-ready, but a stray bytes/Decimal must not turn a clean
    # refusal into a 500: render anything unknown as text.
    content = orjson.dumps(body, default=str)
    return Response(content, status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def ledger_error_response(error: LedgerError) -> Response:
    """The problem response for a :class:`LedgerError`."""
    status, title = status_for(error)
    headers = {"Retry-After": "5"} if status == 503 else None
    return problem_response(
        status, title, error.code, error.detail, evidence=dict(error.evidence), headers=headers
    )


async def _on_ledger_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, LedgerError)
    return ledger_error_response(exc)


async def _on_proof_request(_: Request, exc: Exception) -> Response:
    # The Merkle module refuses impossible (index, size) pairs; for a client that is a bad
    # query, not a server fault.
    assert isinstance(exc, ProofRequestError)
    evidence = {"reason": exc.reason, "first": exc.first, "second": exc.second}
    return problem_response(400, "Impossible proof request", "PROOF", str(exc), evidence=evidence)


async def _on_validation(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return problem_response(
        400, "Bad request", "BAD_REQUEST", "invalid request parameters", evidence={"errors": errors}
    )


async def _on_http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = "NOT_FOUND" if exc.status_code == 404 else f"HTTP_{exc.status_code}"
    return problem_response(
        exc.status_code, str(exc.detail), code, str(exc.detail), headers=exc.headers
    )


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        500, "Internal error", "INTERNAL", "the server failed; the error has been logged"
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""
    app.add_exception_handler(LedgerError, _on_ledger_error)
    app.add_exception_handler(ProofRequestError, _on_proof_request)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
