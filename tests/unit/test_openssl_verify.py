"""The GIL-free libcrypto verifier gives exactly the answers of ``cryptography``'s verifier.

``VerifyKey.verify`` uses libcrypto through ctypes when it can (``ledger.integrity.openssl``);
these tests compare the two paths on the RFC 8032 vectors, on random keys and messages, and
on forged, truncated, bit-flipped and non-canonical signatures.
"""

from __future__ import annotations

import json
import os
import random
import threading
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.integrity import openssl
from ledger.integrity.signing import SigningKey, VerifyKey

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "rfc8032_ed25519.json").read_text()
)["vectors"]
L = 2**252 + 27742317777372353535851937790883648493


def reference(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def fast(public: bytes, signature: bytes, message: bytes) -> bool:
    verifier = openssl.verifier(public)
    assert verifier is not None
    return verifier.verify(signature, message)


def test_libcrypto_is_available_here() -> None:
    # The fast path must really be exercised on the machines we test on.
    assert openssl.verifier(SigningKey.generate().public.raw) is not None
    assert VerifyKey.from_bytes(SigningKey.generate().public.raw)._fast is not None


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_rfc8032_vectors_agree(vector: dict[str, str]) -> None:
    public = bytes.fromhex(vector["public_key"])
    signature = bytes.fromhex(vector["signature"])
    message = bytes.fromhex(vector["message"])
    assert fast(public, signature, message) is True
    assert reference(public, signature, message) is True
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert fast(public, flipped, message) is reference(public, flipped, message) is False


def test_random_keys_messages_and_forgeries_agree() -> None:
    rng = random.Random(8032)
    for _ in range(300):
        key = SigningKey.generate()
        message = os.urandom(rng.randrange(0, 400))
        signature = key.sign(message)
        public = key.public.raw
        candidates = [
            signature,
            signature[:63] + bytes([signature[63] ^ 0x80]),
            bytes([signature[rng.randrange(64)] ^ (1 << rng.randrange(8))]) + signature[1:],
            signature[:32] + os.urandom(32),
            os.urandom(64),
        ]
        for candidate in candidates:
            for text in (message, message + b"x"):
                assert fast(public, candidate, text) == reference(public, candidate, text)


def test_non_canonical_s_is_refused_by_both() -> None:
    key = SigningKey.generate()
    signature = key.sign(b"m")
    s = int.from_bytes(signature[32:], "little") + L
    if s >= 2**256:
        pytest.skip("S + L does not fit in 32 bytes for this signature")
    forged = signature[:32] + s.to_bytes(32, "little")
    assert fast(key.public.raw, forged, b"m") is False
    assert reference(key.public.raw, forged, b"m") is False


def test_concurrent_use_of_one_key_is_safe() -> None:
    key = SigningKey.generate()
    verify_key = VerifyKey.from_bytes(key.public.raw)
    good = [(m, key.sign(m)) for m in (os.urandom(100) for _ in range(50))]
    failures: list[bytes] = []

    def check() -> None:
        for message, signature in good * 4:
            if not verify_key.verify(signature, message):
                failures.append(message)
            if verify_key.verify(signature, message + b"!"):
                failures.append(message)

    threads = [threading.Thread(target=check) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_disabled_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    openssl._libcrypto.cache_clear()
    monkeypatch.setenv("LEDGER_OPENSSL_VERIFY", "0")
    try:
        assert openssl.verifier(SigningKey.generate().public.raw) is None
        key = SigningKey.generate()
        assert VerifyKey.from_bytes(key.public.raw).verify(key.sign(b"x"), b"x")
    finally:
        monkeypatch.delenv("LEDGER_OPENSSL_VERIFY")
        openssl._libcrypto.cache_clear()


def test_libcrypto_signatures_equal_cryptography_signatures() -> None:
    """Ed25519 is deterministic: the GIL-free signer must give the very same bytes."""
    for vector in VECTORS:
        key = SigningKey.from_private_bytes(bytes.fromhex(vector["secret_key"]))
        assert key._fast is not None
        message = bytes.fromhex(vector["message"])
        assert key.sign(message) == bytes.fromhex(vector["signature"])
    for _ in range(100):
        key = SigningKey.generate()
        message = os.urandom(300)
        assert key.sign(message) == key._key.sign(message)
