"""Who may append what: the checks shared by the append path and the verifier.

One function decides whether an envelope is acceptable at a log position, so the append
path's refusals and the verifier's findings can never disagree (ENV-1, ENV-2, ENV-5 and the
registry rules REG-*).
"""

from __future__ import annotations

from ledger.domain.catalogue import (
    REGISTRY_ADMIN,
    REGISTRY_STREAM,
    Catalogue,
    EventSpec,
    validate_payload,
)
from ledger.domain.registry import Registry
from ledger.errors import SchemaError, SignatureRejectedError
from ledger.integrity.envelope import Envelope
from ledger.integrity.signing import KeyFormatError, VerifyKey, b64decode_strict, key_id_for


class KeyCache:
    """Parsed public keys by key id (parsing validates the curve point, so cache it)."""

    def __init__(self) -> None:
        self._keys: dict[str, VerifyKey] = {}

    def get(self, key_id: str, public_key_b64: str) -> VerifyKey:
        key = self._keys.get(key_id)
        if key is None:
            key = VerifyKey.from_b64(public_key_b64)
            self._keys[key_id] = key
        return key


def check_schema(catalogue: Catalogue, env: Envelope) -> EventSpec:
    """The event's spec, after checking its stream type and payload (ENV-5)."""
    spec = catalogue.spec(env.event_type, env.schema_version)
    if env.stream_type != spec.stream_type:
        raise SchemaError(
            f"{env.event_type} belongs to stream type {spec.stream_type!r}, not "
            f"{env.stream_type!r}",
            event_type=env.event_type,
            stream_type=env.stream_type,
        )
    if spec.stream_type == REGISTRY_STREAM[0] and env.stream_id != REGISTRY_STREAM[1]:
        raise SchemaError(
            f"registry events go to the stream registry/{REGISTRY_STREAM[1]}",
            stream_id=env.stream_id,
        )
    validate_payload(spec, env.payload)
    return spec


def authorize(
    registry: Registry, keys: KeyCache, env: Envelope, spec: EventSpec, position: int
) -> VerifyKey:
    """Check key, signature, role and registry rules for ``env`` recorded at ``position``.

    Returns the key that verified the signature.

    Raises:
        SignatureRejectedError: unknown/revoked/foreign key or a bad signature (ENV-1).
        AuthorizationError: the role is not held or may not emit this type (ENV-2).
        RuleViolation / LedgerStateError: a registry rule (REG-*).
    """
    if env.event_type == "LedgerInitialised":
        return _authorize_genesis(registry, env, position)
    key = signer_key(registry, keys, env, position)
    verify_signature(key, env)
    check_permissions(registry, env, spec, position)
    return key


def signer_key(registry: Registry, keys: KeyCache, env: Envelope, position: int) -> VerifyKey:
    """The registered, unrevoked key of the envelope's actor (ENV-1, without the signature)."""
    record = registry.check_key(env.key_id, env.actor["actor_id"], position)
    return keys.get(record.key_id, record.public_key)


def check_permissions(registry: Registry, env: Envelope, spec: EventSpec, position: int) -> None:
    """The actor's role covers the organisation and event type (ENV-2), and a registry event
    keeps the registry's rules (REG-*)."""
    registry.check_role(env.actor["actor_id"], env.actor["role"], env.actor["org_id"], spec)
    if spec.stream_type == REGISTRY_STREAM[0]:
        _check_key_registration(env)
        registry.decide(env.event_type, env.payload, position)


def verify_signature(key: VerifyKey, env: Envelope) -> None:
    """ENV-1: the signature verifies over the envelope's signing bytes."""
    if not key.verify(env.signature, env.signing_bytes()):
        raise SignatureRejectedError(
            f"signature of event {env.event_id} does not verify with key {key.key_id}",
            reason="bad_signature",
            event_id=env.event_id,
            key_id=key.key_id,
        )


def apply_registry_event(registry: Registry, env: Envelope, position: int) -> None:
    """Fold an accepted registry event into ``registry``."""
    derived = {}
    if env.event_type == "LedgerInitialised":
        for name in ("ledger_public_key", "admin_public_key"):
            b64 = env.payload[name]
            derived[b64] = key_id_for(b64decode_strict(b64))
    registry.apply(env.event_type, env.payload, position, derived_key_ids=derived)


def _authorize_genesis(registry: Registry, env: Envelope, position: int) -> VerifyKey:
    registry.decide(env.event_type, env.payload, position)
    p = env.payload
    try:
        admin_key = VerifyKey.from_b64(p["admin_public_key"])
        VerifyKey.from_b64(p["ledger_public_key"])
    except KeyFormatError as e:
        raise SchemaError(f"LedgerInitialised carries an invalid public key: {e}") from e
    expected = {
        "key_id": admin_key.key_id,
        "actor_id": p["admin_actor_id"],
        "role": REGISTRY_ADMIN,
        "org_id": p["root_org_id"],
    }
    actual = {
        "key_id": env.key_id,
        "actor_id": env.actor["actor_id"],
        "role": env.actor["role"],
        "org_id": env.actor["org_id"],
    }
    if actual != expected:
        raise SignatureRejectedError(
            "LedgerInitialised must be signed by the administrator key it introduces, acting as "
            "registry_admin of the root organisation",
            reason="genesis_not_self_signed",
            expected=expected,
            actual=actual,
        )
    if p["ledger_public_key"] == p["admin_public_key"]:
        raise SchemaError("the ledger key and the first administrator key must differ")
    verify_signature(admin_key, env)
    return admin_key


def _check_key_registration(env: Envelope) -> None:
    if env.event_type != "SigningKeyRegistered":
        return
    try:
        key = VerifyKey.from_b64(env.payload["public_key"])
    except KeyFormatError as e:
        raise SchemaError(
            f"SigningKeyRegistered.public_key is not a usable Ed25519 key: {e}", field="public_key"
        ) from e
    if key.key_id != env.payload["key_id"]:
        raise SchemaError(
            "SigningKeyRegistered.key_id must be the SHA-256 hex of the public key",
            field="key_id",
            expected=key.key_id,
            actual=env.payload["key_id"],
        )
