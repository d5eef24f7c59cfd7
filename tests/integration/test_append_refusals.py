"""Bad input to the append path gets a typed error naming what is wrong, and changes nothing.

Runs on a real SQLite file and a real PostgreSQL schema (the ``world`` fixture).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ledger.client import EnvelopeSigner
from ledger.errors import (
    AuthorizationError,
    ClockSkewError,
    ConcurrencyError,
    DuplicateEventError,
    LedgerError,
    MalformedEnvelopeError,
    RuleViolation,
    SchemaError,
    SignatureRejectedError,
)
from ledger.integrity.envelope import format_recorded_at
from ledger.integrity.jcs import canonicalize
from ledger.integrity.signing import SigningKey, VerifyKey, b64decode_strict, b64encode
from tests.conftest import LedgerWorld


def _verification_payload(n: int = 1) -> dict[str, Any]:
    return {
        "run_id": f"run-{n}",
        "tree_size": n,
        "root_hash": b64encode(bytes(32)),
        "result": "PASS",
        "findings_count": 0,
        "first_damage_kind": None,
        "first_damage_index": None,
    }


def _verifier(world: LedgerWorld) -> EnvelopeSigner:
    return world.add_actor("verifier-1", org_id="county-a", role="integrity_verifier")


def _envelope(signer: EnvelopeSigner, n: int = 1, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "event_type": "IntegrityVerificationRun",
        "stream_type": "verification",
        "stream_id": f"run-{n}",
        "expected_version": 0,
        "payload": _verification_payload(n),
    }
    kwargs.update(overrides)
    return signer.build(**kwargs)


def _resign(signer: EnvelopeSigner, envelope: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in envelope.items() if k != "signature"}
    envelope["signature"] = b64encode(signer.key.sign(canonicalize(unsigned)))
    return canonicalize(envelope)


def _refused(world: LedgerWorld, raw: bytes, error: type[LedgerError]) -> LedgerError:
    size_before = world.service.store.log.head().size
    with pytest.raises(error) as caught:
        world.service.append(raw)
    assert world.service.store.log.head().size == size_before, "a refused append changed the log"
    return caught.value


def test_accepts_a_signed_event_and_returns_a_verifiable_receipt(world: LedgerWorld) -> None:
    signer = _verifier(world)

    result = world.service.append(signer.sign(**_strip(_envelope(signer))))

    ledger_key = VerifyKey.from_b64(world.service.registry.ledger_public_key or "")
    result.receipt.verify(ledger_key)
    assert result.receipt.tree_size == result.receipt.index + 1
    assert world.service.store.log.head().size == result.receipt.tree_size


def _strip(envelope: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_type": envelope["event_type"],
        "stream_type": envelope["stream_type"],
        "stream_id": envelope["stream_id"],
        "expected_version": envelope["expected_version"],
        "payload": envelope["payload"],
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "malformed_json"),
        (b"[]", "wrong_type"),
        (b"\xff\xfe", "malformed_json"),
        (b'{"a": 1}', "missing_field"),
    ],
)
def test_refuses_malformed_json(world: LedgerWorld, raw: bytes, reason: str) -> None:
    error = _refused(world, raw, MalformedEnvelopeError)

    assert error.evidence["reason"] == reason


def test_refuses_oversized_envelope(world: LedgerWorld) -> None:
    signer = _verifier(world)
    envelope = _envelope(signer)
    envelope["payload"]["run_id"] = "x" * 70_000

    error = _refused(world, canonicalize(envelope), MalformedEnvelopeError)

    assert error.evidence["reason"] == "oversized"


def test_refuses_missing_and_extra_fields(world: LedgerWorld) -> None:
    signer = _verifier(world)
    missing = _envelope(signer)
    del missing["occurred_at"]
    extra = _envelope(signer)
    extra["note"] = "hello"

    assert _refused(world, canonicalize(missing), MalformedEnvelopeError).evidence["fields"] == [
        "occurred_at"
    ]
    assert _refused(world, canonicalize(extra), MalformedEnvelopeError).evidence["fields"] == [
        "note"
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expected_version", "0"),
        ("expected_version", -1),
        ("schema_version", True),
        ("event_id", "not-a-uuid"),
        ("event_id", "0190F5B4-7A3C-7C3E-8F00-000000000001"),
        ("occurred_at", "2026-01-01 10:00:00"),
        ("occurred_at", "2026-02-30T10:00:00+08:00"),
        ("key_id", "abc"),
        ("actor", "clerk"),
        ("attachments", {}),
        ("protocol", "ledger/v2"),
    ],
)
def test_refuses_wrong_types(world: LedgerWorld, field: str, value: Any) -> None:
    signer = _verifier(world)
    envelope = _envelope(signer)
    envelope[field] = value

    error = _refused(world, canonicalize(envelope), MalformedEnvelopeError)

    assert field in error.evidence["path"]


def test_refuses_floats_anywhere(world: LedgerWorld) -> None:
    signer = _verifier(world)
    envelope = _envelope(signer)
    envelope["payload"]["tree_size"] = 1.5
    raw = orjson.dumps(envelope)

    error = _refused(world, raw, MalformedEnvelopeError)

    assert error.evidence["reason"] == "float_not_allowed"
    assert error.evidence["path"] == "/payload/tree_size"


def test_refuses_integers_outside_the_safe_range(world: LedgerWorld) -> None:
    signer = _verifier(world)
    envelope = _envelope(signer)
    raw = orjson.dumps(envelope).replace(b'"tree_size":1', b'"tree_size":9007199254740993')

    error = _refused(world, raw, MalformedEnvelopeError)

    assert error.evidence["reason"] == "unsafe_integer"


def test_refuses_unknown_event_type(world: LedgerWorld) -> None:
    signer = _verifier(world)
    raw = signer.sign(**(_strip(_envelope(signer)) | {"event_type": "MoneyPrinted"}))

    error = _refused(world, raw, SchemaError)

    assert error.evidence["event_type"] == "MoneyPrinted"


def test_refuses_payload_that_breaks_its_schema(world: LedgerWorld) -> None:
    signer = _verifier(world)
    envelope = _strip(_envelope(signer))
    envelope["payload"]["result"] = "MAYBE"

    error = _refused(world, signer.sign(**envelope), SchemaError)

    assert error.evidence["field"] == "result"


def test_refuses_an_event_dated_in_the_future_beyond_the_clock_skew(world: LedgerWorld) -> None:
    signer = _verifier(world)
    ahead = datetime.now(UTC) + timedelta(minutes=10)
    envelope = _strip(_envelope(signer)) | {"occurred_at": format_recorded_at(ahead)}

    error = _refused(world, signer.sign(**envelope), ClockSkewError)

    assert error.code == "ENV-6"
    assert error.evidence["max_skew_seconds"] == 300
    # Within the skew (a submitter's clock a little fast) it is recorded.
    near = datetime.now(UTC) + timedelta(minutes=2)
    envelope = _strip(_envelope(signer, 2)) | {"occurred_at": format_recorded_at(near)}
    assert world.service.append(signer.sign(**envelope)).receipt.index > 0


@pytest.mark.parametrize("bad", ["not base64!", "AAAA", "QR==" + "A" * 84, ""])
def test_refuses_bad_base64_signature(world: LedgerWorld, bad: str) -> None:
    signer = _verifier(world)
    envelope = _envelope(signer)
    envelope["signature"] = bad

    error = _refused(world, canonicalize(envelope), MalformedEnvelopeError)

    assert error.evidence["path"] == "/signature"


def test_refuses_signature_over_different_bytes(world: LedgerWorld) -> None:
    signer = _verifier(world)
    envelope = _envelope(signer)
    envelope["payload"]["findings_count"] = 7  # changed after signing

    error = _refused(world, canonicalize(envelope), SignatureRejectedError)

    assert error.evidence["reason"] == "bad_signature"


def test_refuses_unknown_key(world: LedgerWorld) -> None:
    _verifier(world)
    stranger = EnvelopeSigner(SigningKey.generate(), "verifier-1", "integrity_verifier", "county-a")

    error = _refused(world, stranger.sign(**_strip(_envelope(stranger))), SignatureRejectedError)

    assert error.evidence["reason"] == "unknown_key"


def test_refuses_revoked_key(world: LedgerWorld) -> None:
    signer = _verifier(world)
    world.service.append(signer.sign(**_strip(_envelope(signer, 1))))
    world.registry_event("SigningKeyRevoked", {"key_id": signer.key.key_id, "reason": "COMPROMISE"})

    error = _refused(world, signer.sign(**_strip(_envelope(signer, 2))), SignatureRejectedError)

    assert error.evidence["reason"] == "revoked_key"
    assert error.evidence["revocation_reason"] == "COMPROMISE"


def test_refuses_key_bound_to_another_actor(world: LedgerWorld) -> None:
    signer = _verifier(world)
    world.add_actor("verifier-2", org_id="county-a", role="integrity_verifier")
    impostor = EnvelopeSigner(signer.key, "verifier-2", "integrity_verifier", "county-a")

    error = _refused(world, impostor.sign(**_strip(_envelope(impostor))), SignatureRejectedError)

    assert error.evidence["reason"] == "key_bound_to_other_actor"
    assert error.evidence["bound_actor_id"] == "verifier-1"


def test_refuses_role_not_granted_for_the_organisation(world: LedgerWorld) -> None:
    signer = _verifier(world)
    elsewhere = EnvelopeSigner(signer.key, "verifier-1", "integrity_verifier", "county-b")
    world.registry_event(
        "OrganisationRegistered",
        {"org_id": "county-b", "kind": "GOVERNMENT", "parent_org_id": "city", "name": "B"},
    )

    error = _refused(world, elsewhere.sign(**_strip(_envelope(elsewhere))), AuthorizationError)

    assert error.evidence["reason"] == "role_not_granted"
    assert error.evidence["org_id"] == "county-b"


def test_refuses_role_that_may_not_emit_the_event_type(world: LedgerWorld) -> None:
    signer = _verifier(world)
    as_admin = EnvelopeSigner(signer.key, "verifier-1", "integrity_verifier", "county-a")
    raw = as_admin.sign(
        event_type="OrganisationRegistered",
        stream_type="registry",
        stream_id="registry",
        expected_version=world.service.registry.version,
        payload={"org_id": "x", "kind": "BANK", "parent_org_id": None, "name": "X"},
    )

    error = _refused(world, raw, AuthorizationError)

    assert error.evidence["reason"] == "role_not_allowed_for_event_type"


def test_refuses_wrong_expected_version(world: LedgerWorld) -> None:
    signer = _verifier(world)
    world.service.append(signer.sign(**_strip(_envelope(signer, 1))))
    again = _strip(_envelope(signer, 1))  # stream run-1 now has 1 event, the envelope says 0
    ahead = _strip(_envelope(signer, 2)) | {"expected_version": 5}

    stale = _refused(world, signer.sign(**again), ConcurrencyError)
    gap = _refused(world, signer.sign(**ahead), ConcurrencyError)

    assert (stale.evidence["expected_version"], stale.evidence["current_version"]) == (0, 1)
    assert (gap.evidence["expected_version"], gap.evidence["current_version"]) == (5, 0)


def test_reused_event_id_with_identical_content_returns_the_original_receipt(
    world: LedgerWorld,
) -> None:
    signer = _verifier(world)
    raw = signer.sign(**_strip(_envelope(signer)))
    first = world.service.append(raw)
    size = world.service.store.log.head().size

    retry = world.service.append(raw)

    assert retry.duplicate
    assert retry.receipt == first.receipt
    assert world.service.store.log.head().size == size


def test_reused_event_id_with_different_content_is_refused(world: LedgerWorld) -> None:
    signer = _verifier(world)
    first = signer.build(**_strip(_envelope(signer, 1)))
    world.service.append(canonicalize(first))
    other = signer.build(**(_strip(_envelope(signer, 2)) | {"event_id": first["event_id"]}))

    error = _refused(world, canonicalize(other), DuplicateEventError)

    assert error.evidence["event_id"] == first["event_id"]


def test_registry_rules_refuse_with_their_codes(world: LedgerWorld) -> None:
    key = SigningKey.generate()

    with pytest.raises(RuleViolation) as unknown_actor:
        world.registry_event(
            "SigningKeyRegistered",
            {
                "key_id": key.key_id,
                "algorithm": "Ed25519",
                "public_key": key.public.to_b64(),
                "actor_id": "nobody",
            },
        )
    with pytest.raises(SchemaError) as wrong_key_id:
        world.registry_event(
            "SigningKeyRegistered",
            {
                "key_id": "0" * 64,
                "algorithm": "Ed25519",
                "public_key": key.public.to_b64(),
                "actor_id": "admin-1",
            },
        )

    assert unknown_actor.value.code == "REG-3"
    assert wrong_key_id.value.evidence["field"] == "key_id"


def test_a_key_is_never_registered_twice(world: LedgerWorld) -> None:
    signer = _verifier(world)
    world.add_actor("verifier-2", org_id="county-a")

    with pytest.raises(RuleViolation) as caught:
        world.registry_event(
            "SigningKeyRegistered",
            {
                "key_id": signer.key.key_id,
                "algorithm": "Ed25519",
                "public_key": signer.key.public.to_b64(),
                "actor_id": "verifier-2",
            },
        )

    assert caught.value.code == "REG-4"


def test_the_genesis_event_cannot_be_replayed(world: LedgerWorld) -> None:
    genesis = world.service.store.log.entry_at(0)
    assert genesis is not None
    envelope = orjson.loads(genesis.state)
    envelope["event_id"] = "0190f5b4-7a3c-7c3e-8f00-000000000001"

    with pytest.raises(LedgerError):
        world.service.append(canonicalize(envelope))


def test_signature_must_be_64_bytes(world: LedgerWorld) -> None:
    signer = _verifier(world)
    envelope = _envelope(signer)
    envelope["signature"] = base64.b64encode(b_decode(envelope["signature"])[:63]).decode()

    error = _refused(world, canonicalize(envelope), MalformedEnvelopeError)

    assert error.evidence["reason"] == "bad_signature_length"


def b_decode(text: str) -> bytes:
    return b64decode_strict(text)


def test_a_retry_after_revocation_still_gets_the_original_receipt(world: LedgerWorld) -> None:
    signer = _verifier(world)
    raw = signer.sign(**_strip(_envelope(signer)))
    first = world.service.append(raw)
    world.registry_event("SigningKeyRevoked", {"key_id": signer.key.key_id, "reason": "ROTATION"})

    retry = world.service.append(raw)

    assert retry.duplicate
    assert retry.receipt == first.receipt
