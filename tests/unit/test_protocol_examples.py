"""The worked examples in docs/ are reproduced exactly, and re-checked with independent code.

The independent checks use only hashlib, base64 and ``cryptography``, the way an outside
verifier written from docs/PROTOCOL.md would, not our own integrity modules.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.tools.protocol_examples import render

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples" / "protocol-v1.json"


def _examples() -> dict:
    return json.loads(EXAMPLES.read_text("utf-8"))


def _mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH over leaf hashes, straight from the definition."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(hashes[:k]) + _mth(hashes[k:])).digest()


def test_examples_file_is_exactly_what_the_generator_produces() -> None:
    assert EXAMPLES.read_bytes() == render()


def test_genesis_signature_verifies_over_the_documented_bytes() -> None:
    ex = _examples()
    genesis = ex["genesis"]
    unsigned = {k: v for k, v in genesis["envelope"].items() if k != "signature"}
    # JCS of this envelope: ASCII keys, no floats -> sorted keys, no whitespace, raw UTF-8.
    expected = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    public = base64.b64decode(ex["keys"]["admin"]["public_key_b64"])

    assert genesis["signing_bytes_utf8"] == expected
    assert bytes.fromhex(genesis["signing_bytes_hex"]) == expected.encode()
    Ed25519PublicKey.from_public_bytes(public).verify(
        base64.b64decode(genesis["signature_b64"]), expected.encode()
    )
    assert hashlib.sha256(public).hexdigest() == ex["keys"]["admin"]["key_id"]


def test_leaf_hashes_and_roots_recompute_independently() -> None:
    ex = _examples()
    leaf0 = ex["genesis_leaf_bytes_utf8"].encode()
    hashes = [bytes.fromhex(e["leaf_hash_hex"]) for e in ex["log"]]

    assert hashlib.sha256(b"\x00" + leaf0).digest() == hashes[0]
    assert leaf0.startswith(b'{"envelope":{"actor":')
    assert leaf0.endswith(b',"index":0,"recorded_at":"2026-07-01T02:00:00.000000Z"}')
    for i, entry in enumerate(ex["log"]):
        assert bytes.fromhex(entry["root_after_hex"]) == _mth(hashes[: i + 1])


def test_proofs_verify_with_an_independent_rfc9162_verifier() -> None:
    ex = _examples()
    hashes = [bytes.fromhex(e["leaf_hash_hex"]) for e in ex["log"]]
    root = bytes.fromhex(ex["log"][-1]["root_after_hex"])
    inclusion = [bytes.fromhex(h) for h in ex["inclusion_proof"]["proof_hex"]]

    assert _root_from_inclusion(2, 5, hashes[2], inclusion) == root
    consistency = [bytes.fromhex(h) for h in ex["consistency_proof"]["proof_hex"]]
    old_root = bytes.fromhex(ex["log"][2]["root_after_hex"])
    assert _verify_consistency(3, 5, old_root, root, consistency)


def test_checkpoint_is_a_c2sp_signed_note_with_the_documented_key_id() -> None:
    ex = _examples()["checkpoint"]
    name, key_id_hex, key_b64 = ex["verifier_key"].split("+", 2)
    key = base64.b64decode(key_b64)
    text, _, signature_line = ex["signed_note"].rpartition("\n\n")
    raw = base64.b64decode(signature_line.removeprefix(f"— {name} ").strip())

    assert key[0] == 0x01
    assert hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex() == key_id_hex
    assert raw[:4].hex() == key_id_hex
    Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[4:], (text + "\n").encode())
    assert text + "\n" == ex["text"]


def test_receipt_signature_verifies_with_the_ledger_key() -> None:
    ex = _examples()
    receipt = dict(ex["receipt"])
    signature = base64.b64decode(receipt.pop("signature"))
    message = json.dumps(receipt, sort_keys=True, separators=(",", ":")).encode()
    public = base64.b64decode(ex["keys"]["ledger"]["public_key_b64"])

    Ed25519PublicKey.from_public_bytes(public).verify(signature, message)


def _root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2, transcribed."""
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise AssertionError("proof too long")
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    assert sn == 0
    return r


def _verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, transcribed."""
    if first & (first - 1) == 0:  # exact power of two
        proof = [first_root, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hashlib.sha256(b"\x01" + c + fr).digest()
            sr = hashlib.sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hashlib.sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def test_verifier_cuts_signing_bytes_exactly_like_re_encoding() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ledger.client import EnvelopeSigner
    from ledger.integrity.envelope import parse_envelope
    from ledger.integrity.signing import SigningKey
    from ledger.verification.records import signing_bytes_of

    signer = EnvelopeSigner(SigningKey.generate(), "a-1", "registry_admin", "org")
    keys = st.text(min_size=1, max_size=12)
    leaves = st.one_of(st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=30), st.booleans())
    payloads = st.dictionaries(
        st.one_of(keys, st.just("signature")),
        st.one_of(leaves, st.dictionaries(st.just("signature"), st.text(max_size=20))),
        max_size=5,
    )

    @settings(max_examples=150, deadline=None)
    @given(payloads)
    def check(payload: dict) -> None:
        raw = signer.sign(event_type="X", stream_type="s", stream_id="i", expected_version=0,
                          payload=payload)
        env = parse_envelope(raw)
        assert signing_bytes_of(raw, env) == env.signing_bytes()

    check()
