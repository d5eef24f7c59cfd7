"""Typed errors shared by every layer.

Every refusal the ledger gives carries a machine-readable ``code`` (the invariant ID from
``domain.md`` §6.4 where one exists), a sentence an operator understands, and the evidence
that led to it. The API layer maps the *class* of an error to an HTTP status once; nothing
below it knows about HTTP.

This module imports nothing outside the standard library so that the pure domain can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class LedgerError(Exception):
    """Base class: something the ledger refused or could not do.

    Attributes:
        code: stable machine-readable identifier (e.g. ``ENV-1``, ``ENV-3``, ``REG-2``).
        detail: one sentence for a person.
        evidence: the values that decided it (JSON-serialisable).
    """

    code = "LEDGER"

    def __init__(self, detail: str, *, code: str | None = None, **evidence: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.evidence: Mapping[str, Any] = evidence

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        """The error as a plain dict (used for problem+json and CLI ``--json`` output)."""
        return {"code": self.code, "detail": self.detail, "evidence": dict(self.evidence)}


class MalformedEnvelopeError(LedgerError):
    """The submitted bytes are not a well-formed v1 envelope (JSON, size, fields, types)."""

    code = "ENV-0"


class SchemaError(LedgerError):
    """The envelope is well-formed but its type or payload breaks the registered schema (ENV-5)."""

    code = "ENV-5"


class ClockSkewError(SchemaError):
    """The event says it happened in the future, beyond the allowed clock skew (ENV-6)."""

    code = "ENV-6"


class SignatureRejectedError(LedgerError):
    """The signature or the signing key is not acceptable at this log position (ENV-1)."""

    code = "ENV-1"


class AuthorizationError(LedgerError):
    """The actor does not hold the role for the organisation, or the role may not emit this type
    (ENV-2)."""

    code = "ENV-2"


class ConcurrencyError(LedgerError):
    """``expected_version`` does not equal the stream's current length (ENV-3)."""

    code = "ENV-3"


class DuplicateEventError(LedgerError):
    """An ``event_id`` was reused with different content (ENV-4)."""

    code = "ENV-4"


class RuleViolation(LedgerError):  # noqa: N818 - the domain term: an invariant was violated
    """A hard business invariant refused a decision; ``code`` is the invariant ID."""

    code = "RULE"


class LedgerStateError(LedgerError):
    """The ledger is not in a state that allows the operation (e.g. not initialised)."""

    code = "STATE"
