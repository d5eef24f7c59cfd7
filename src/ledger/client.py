"""A small signing client: build and sign v1 envelopes (docs/PROTOCOL.md §2).

Other Python systems use it to produce envelopes the ledger accepts::

    signer = EnvelopeSigner(key, actor_id="clerk-7", role="township_intake_clerk", org_id="t-01")
    raw = signer.sign(event_type="...", stream_type="...", stream_id="...",
                      expected_version=0, payload={...})

``raw`` is the canonical JSON bytes to submit (``LedgerService.append`` or ``POST /v1/events``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from ledger.integrity.envelope import PROTOCOL, check_json_values
from ledger.integrity.jcs import canonicalize_checked
from ledger.integrity.signing import SigningKey, b64encode

CHINA_STANDARD_TIME = timezone(timedelta(hours=8))


def uuid7() -> str:
    """A time-ordered UUIDv7 (RFC 9562 §5.7) as a lowercase string."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(UUID(int=value))


def now_rfc3339() -> str:
    """The current time in China Standard Time with an explicit offset."""
    return datetime.now(CHINA_STANDARD_TIME).isoformat(timespec="seconds")


@dataclass(frozen=True)
class EnvelopeSigner:
    """Signs envelopes as one actor, in one role, for one organisation."""

    key: SigningKey
    actor_id: str
    role: str
    org_id: str

    def build(
        self,
        *,
        event_type: str,
        stream_type: str,
        stream_id: str,
        expected_version: int,
        payload: Mapping[str, Any],
        schema_version: int = 1,
        event_id: str | None = None,
        occurred_at: str | None = None,
        causation_id: str | None = None,
        correlation_id: str | None = None,
        attachments: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """The signed envelope as a dict."""
        envelope: dict[str, Any] = {
            "protocol": PROTOCOL,
            "event_id": event_id or uuid7(),
            "event_type": event_type,
            "schema_version": schema_version,
            "stream_type": stream_type,
            "stream_id": stream_id,
            "expected_version": expected_version,
            "occurred_at": occurred_at or now_rfc3339(),
            "actor": {"actor_id": self.actor_id, "role": self.role, "org_id": self.org_id},
            "key_id": self.key.key_id,
            "causation_id": causation_id,
            "correlation_id": correlation_id,
            "payload": dict(payload),
            "attachments": [dict(a) for a in attachments],
        }
        # Refuse floats and unsafe integers here, which is also the precondition of the fast
        # canonicaliser (orjson with sorted keys; RFC 8785-identical on such values).
        check_json_values(envelope)
        envelope["signature"] = b64encode(self.key.sign(canonicalize_checked(envelope)))
        return envelope

    def sign(self, **kwargs: Any) -> bytes:
        """The signed envelope as canonical JSON bytes, ready to submit."""
        return canonicalize_checked(self.build(**kwargs))


RegistryEvent = tuple[str, dict[str, Any]]
"""``(event_type, payload)`` of a registry event, to be signed by a registry administrator."""


def actor_onboarding(
    actor_id: str,
    org_id: str,
    key: SigningKey,
    roles: Sequence[str] = (),
    *,
    kind: str = "PERSON",
    person_ref: str | None = None,
    include_descendants: bool = False,
) -> list[RegistryEvent]:
    """The registry events that let a new official (or system) sign: the actor, its key, and
    each role at ``org_id`` — in the order the registry rules require."""
    events: list[RegistryEvent] = [
        (
            "ActorRegistered",
            {"actor_id": actor_id, "org_id": org_id, "kind": kind, "person_ref": person_ref},
        ),
        (
            "SigningKeyRegistered",
            {
                "key_id": key.key_id,
                "algorithm": "Ed25519",
                "public_key": key.public.to_b64(),
                "actor_id": actor_id,
            },
        ),
    ]
    events += [
        (
            "ActorRoleGranted",
            {
                "actor_id": actor_id,
                "role": role,
                "org_id": org_id,
                "include_descendants": include_descendants,
            },
        )
        for role in roles
    ]
    return events
