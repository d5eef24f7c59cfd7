"""Raw records as the verifier reads them, and the per-record checks that run in workers.

:func:`check_record` is everything about one record that needs no other record: parse,
canonical form, envelope structure, the signature (given the public key), the leaf hash.
It runs in worker processes so both cores share the Ed25519 work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson

from ledger.errors import LedgerError
from ledger.integrity.envelope import Envelope, envelope_from_object, leaf_bytes
from ledger.integrity.jcs import canonicalize_checked
from ledger.integrity.merkle import leaf_hash
from ledger.integrity.signing import VerifyKey
from ledger.store.records import TOPIC_PREFIX, stream_uuid


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One log position as stored. ``None`` fields are missing in storage."""

    index: int
    notification_id: int | None
    recorded_at: str
    stored_leaf_hash: bytes | None
    stored_root: bytes | None
    originator_id: UUID | None
    originator_version: int | None
    topic: str | None
    state: bytes | None


@dataclass(frozen=True, slots=True)
class Checked:
    """Result of :func:`check_record` (small, to keep inter-process traffic low)."""

    index: int
    leaf_hash: bytes | None
    problem: str | None
    """Why the record is not an intact envelope in its place (None if it is)."""
    problem_kind: str | None
    signature_ok: bool | None
    """None when the key was unknown to the worker."""
    event_type: str = ""
    schema_version: int = 0
    key_id: str = ""
    actor: tuple[str, str, str] = ("", "", "")
    stream: tuple[str, str, int] = ("", "", 0)
    event_id: str = ""
    payload: Mapping[str, Any] | None = None
    """Only for registry events (the main process folds them into the registry)."""


def check_record(record: RawRecord, keys: Mapping[str, VerifyKey]) -> Checked:
    """Per-record checks (see module docstring); never raises for bad data."""
    if record.state is None:
        return Checked(record.index, None, "the event row is missing", "deleted", None)
    computed_leaf = leaf_hash(leaf_bytes(record.state, record.index, record.recorded_at))
    env, problem = _decode(record.state)
    if env is None:
        return Checked(record.index, computed_leaf, problem, "edited", None)
    key = keys.get(env.key_id)
    signature_ok = key.verify(env.signature, env.signing_bytes()) if key else None
    misplaced = _placement_problem(record, env)
    if record.stored_leaf_hash is not None and record.stored_leaf_hash != computed_leaf:
        misplaced = misplaced or "the stored leaf hash does not match the recomputed leaf"
    kind = None
    if misplaced:
        # An authentic envelope in the wrong place may have been moved (the engine confirms it
        # from the log's event ids); anything else was altered.
        kind = "reordered" if signature_ok else "edited"
    return Checked(
        index=record.index,
        leaf_hash=computed_leaf,
        problem=misplaced,
        problem_kind=kind,
        signature_ok=signature_ok,
        event_type=env.event_type,
        schema_version=env.schema_version,
        key_id=env.key_id,
        actor=(env.actor["actor_id"], env.actor["role"], env.actor["org_id"]),
        stream=(env.stream_type, env.stream_id, env.expected_version),
        event_id=env.event_id,
        payload=dict(env.payload) if env.stream_type == "registry" else None,
    )


def check_page(records: Sequence[RawRecord], keys: Mapping[str, VerifyKey]) -> list[Checked]:
    """:func:`check_record` over a page (the unit of work sent to a worker)."""
    return [check_record(r, keys) for r in records]


def _decode(state: bytes) -> tuple[Envelope | None, str | None]:
    try:
        value = orjson.loads(state)
    except orjson.JSONDecodeError as e:
        return None, f"the stored envelope is not JSON ({e})"
    try:
        env = envelope_from_object(value)
    except LedgerError as e:
        return None, f"the stored envelope is not a valid v1 envelope: {e.detail}"
    if canonicalize_checked(value) != state:
        return None, "the stored envelope is not in RFC 8785 canonical form"
    return env, None


def _placement_problem(record: RawRecord, env: Envelope) -> str | None:
    if record.topic is not None and record.topic != TOPIC_PREFIX + env.event_type:
        return f"stored topic {record.topic!r} does not match event type {env.event_type!r}"
    if record.originator_id is not None and record.originator_id != stream_uuid(
        env.stream_type, env.stream_id
    ):
        return "stored stream id does not match the envelope's stream"
    if (
        record.originator_version is not None
        and record.originator_version != env.expected_version + 1
    ):
        return (
            f"stored stream version {record.originator_version} does not match the envelope's "
            f"expected_version {env.expected_version} + 1"
        )
    return None
