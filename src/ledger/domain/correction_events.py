"""Payload schema of ``CorrectionRecorded`` (``domain.md`` §4.0, §6.3 "Corrections", COR-1).

No event is ever edited or deleted: a correction is a new event that names the event it
corrects (``target_event_id``) and, when the corrected content is known, carries it
(``replacement_payload``); projections treat the target as superseded.

==============  ==============  ===============================================================
stream_type     stream_id       events
==============  ==============  ===============================================================
``correction``  correction id   ``CorrectionRecorded``
==============  ==============  ===============================================================

A correction of a decision that affects money, eligibility or scores carries the
co-signature of a second actor (``cosignatures``: actor, role, key and Ed25519 signature over
the same envelope bytes, verified by the service layer like the emitter's own signature).
"""

from __future__ import annotations

import re
from typing import Any

from ledger.domain.catalogue import ROLES, EventSpec, Kind
from ledger.domain.fields import IDENTIFIER, KEY_ID, UUID_TEXT, Check, list_of, one_of, record, text

CORRECTION_TYPES = ("DATA_ENTRY_ERROR", "WRONG_PERSON", "DUPLICATE", "OTHER")
SYSTEM_ROLES = frozenset({"ledger", "scheduler", "integrity_verifier"})
CORRECTOR_ROLES: frozenset[str] = ROLES - SYSTEM_ROLES
"""Every human role of §1.3 (all but :data:`SYSTEM_ROLES`): any official may record a
correction of what their role decides; COR-1 checks which."""

_SIGNATURE_RE = re.compile(r"[A-Za-z0-9+/]{86}==")


def _signature(value: Any) -> str | None:
    """a 64-byte Ed25519 signature in standard base64 (88 characters)"""
    if not isinstance(value, str) or not _SIGNATURE_RE.fullmatch(value):
        return "must be a 64-byte signature in standard base64 (88 characters)"
    return None


def _object_or_null(value: Any) -> str | None:
    """a JSON object (the corrected payload), or null"""
    return None if value is None or isinstance(value, dict) else "must be an object or null"


COSIGNATURE: Check = record(
    {
        "actor_id": IDENTIFIER,
        "role": one_of(*sorted(CORRECTOR_ROLES)),
        "key_id": KEY_ID,
        "signature": _signature,
    }
)

CORRECTION_EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        "CorrectionRecorded",
        1,
        "correction",
        Kind.DECISION,
        CORRECTOR_ROLES,
        {
            "correction_id": IDENTIFIER,
            "target_event_id": UUID_TEXT,
            "correction_type": one_of(*CORRECTION_TYPES),
            "replacement_payload": _object_or_null,
            "reason": text(1000),
            "cosignatures": list_of(COSIGNATURE, max_len=5),
        },
        "Supersedes an earlier event without editing it. COR-1: a correction of a decision "
        "that affects money, eligibility or scores is recorded by the decision's role or a "
        "superior one and co-signed by a different person with the same or a superior role "
        "over the decision's organisation; a correction that has itself been corrected can be "
        "corrected again only with an auditor's co-signature.",
    ),
)
