"""Checks shared by decision replay and the offline bundle verifier: who signed an event and
with which registered key, and whether an event is in a signed checkpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledger.domain.catalogue import Catalogue
from ledger.domain.registry import Registry
from ledger.errors import LedgerError
from ledger.integrity.envelope import Envelope, leaf_bytes
from ledger.integrity.merkle import MerkleError, leaf_hash, verify_inclusion
from ledger.integrity.note import Checkpoint, NoteVerifier, open_note
from ledger.services.authority import KeyCache, authorize


def signer_report(
    registry: Registry, keys: KeyCache, env: Envelope, index: int, catalogue: Catalogue
) -> dict[str, Any]:
    """The signer of ``env`` (recorded at ``index``) checked against ``registry`` as it stood
    just before ``index``: key registered to the actor, not revoked, signature valid, role
    held for the organisation (ENV-1, ENV-2). Never raises: the refusal is in the report."""
    actor = env.actor
    record = registry.keys.get(env.key_id)
    report: dict[str, Any] = {
        "event_id": env.event_id,
        "index": index,
        "actor_id": actor["actor_id"],
        "role": actor["role"],
        "org_id": actor["org_id"],
        "actor_org_id": _actor_org(registry, actor["actor_id"]),
        "key_id": env.key_id,
        "key_registered_at": None if record is None else record.registered_at,
    }
    try:
        spec = catalogue.spec(env.event_type, env.schema_version)
        authorize(registry, keys, env, spec, index)
    except LedgerError as e:
        report |= {"signature": "rejected", "code": e.code, "reason": e.detail}
        return report
    report["signature"] = "verified"
    return report


def _actor_org(registry: Registry, actor_id: str) -> str | None:
    actor = registry.actors.get(actor_id)
    return None if actor is None else actor.org_id


def open_checkpoint(note: str, verifier: NoteVerifier) -> Checkpoint:
    """The checkpoint in ``note`` after its signature verified with ``verifier`` (raises
    ``NoteError`` otherwise)."""
    return Checkpoint.parse(open_note(note, [verifier]).text)


def inclusion_problem(
    stored: bytes,
    index: int,
    recorded_at: str,
    proof: Sequence[bytes],
    checkpoint: Checkpoint,
    *,
    stored_leaf_hash: bytes | None = None,
) -> str | None:
    """``None`` if the envelope ``stored`` at ``index`` is in ``checkpoint`` by ``proof``;
    otherwise why not, in words."""
    computed = leaf_hash(leaf_bytes(stored, index, recorded_at))
    if stored_leaf_hash is not None and computed != stored_leaf_hash:
        return "the stored leaf hash does not match the envelope bytes"
    try:
        verify_inclusion(computed, index, checkpoint.size, proof, checkpoint.root_hash)
    except MerkleError as e:
        return f"inclusion proof does not lead to the checkpoint root ({e})"
    return None


def describe_event(fields: Mapping[str, Any], index: int, recorded_at: str) -> dict[str, Any]:
    """The headline of an event for reports and timelines."""
    return {
        "index": index,
        "event_id": fields["event_id"],
        "event_type": fields["event_type"],
        "stream": f"{fields['stream_type']}/{fields['stream_id']}",
        "version": int(fields["expected_version"]) + 1,
        "occurred_at": fields["occurred_at"],
        "recorded_at": recorded_at,
        "actor_id": fields["actor"]["actor_id"],
        "role": fields["actor"]["role"],
        "org_id": fields["actor"]["org_id"],
        "causation_id": fields.get("causation_id"),
    }
