"""Identity registry keys: files, modes, lengths, and the keyed operations (§6.7)."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from ledger.identity import (
    ENCRYPTION_KEY_FILE,
    HMAC_KEY_FILE,
    IdentityDecryptionError,
    IdentityKeyError,
    IdentityKeys,
)


def test_create_writes_two_distinct_32_byte_keys_with_mode_0600(tmp_path: Path) -> None:
    home = tmp_path / "home"
    keys = IdentityKeys.create(home)
    enc, mac = home / ENCRYPTION_KEY_FILE, home / HMAC_KEY_FILE
    for path in (enc, mac):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.stat().st_size == 32
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert enc.read_bytes() == keys.encryption_key
    assert mac.read_bytes() == keys.hmac_key
    assert keys.encryption_key != keys.hmac_key
    assert IdentityKeys.load(home) == keys


def test_create_never_overwrites(tmp_path: Path) -> None:
    keys = IdentityKeys.create(tmp_path)
    with pytest.raises(IdentityKeyError, match="already exists"):
        IdentityKeys.create(tmp_path)
    assert IdentityKeys.load(tmp_path) == keys


def test_create_refuses_when_only_one_key_exists(tmp_path: Path) -> None:
    (tmp_path / HMAC_KEY_FILE).write_bytes(b"k" * 32)
    with pytest.raises(IdentityKeyError):
        IdentityKeys.create(tmp_path)
    assert not (tmp_path / ENCRYPTION_KEY_FILE).exists()


def test_missing_key_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IdentityKeyError, match="missing") as info:
        IdentityKeys.load(tmp_path)
    assert info.value.code == "ID-KEY"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    IdentityKeys.create(tmp_path)
    (tmp_path / HMAC_KEY_FILE).chmod(mode)
    with pytest.raises(IdentityKeyError, match="chmod 600"):
        IdentityKeys.load(tmp_path)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_key_of_wrong_length_is_refused(tmp_path: Path, size: int) -> None:
    IdentityKeys.create(tmp_path)
    path = tmp_path / ENCRYPTION_KEY_FILE
    path.write_bytes(b"\x01" * size)
    with pytest.raises(IdentityKeyError, match="exactly 32 bytes"):
        IdentityKeys.load(tmp_path)


def test_symlinked_key_is_refused(tmp_path: Path) -> None:
    IdentityKeys.create(tmp_path / "real")
    home = tmp_path / "home"
    home.mkdir()
    for name in (ENCRYPTION_KEY_FILE, HMAC_KEY_FILE):
        (home / name).symlink_to(tmp_path / "real" / name)
    with pytest.raises(IdentityKeyError, match="symlink"):
        IdentityKeys.load(home)


def test_identical_keys_are_refused() -> None:
    with pytest.raises(IdentityKeyError, match="differ"):
        IdentityKeys(b"a" * 32, b"a" * 32)


def test_repr_hides_key_material() -> None:
    keys = IdentityKeys(b"\xaa" * 32, b"\xbb" * 32)
    assert "aa" not in repr(keys).lower()
    assert "bb" not in repr(keys).lower()


def test_keyed_hash_is_hmac_sha256_lowercase_hex_with_a_label() -> None:
    keys = IdentityKeys(b"e" * 32, b"h" * 32)
    expected = hmac.new(b"h" * 32, b"label\x00value", hashlib.sha256).hexdigest()
    assert keys.keyed_hash(b"label", "value") == expected
    assert keys.keyed_hash(b"other", "value") != expected


def test_seal_binds_ciphertext_to_the_person_and_the_key() -> None:
    keys = IdentityKeys(b"e" * 32, b"h" * 32)
    nonce, ciphertext = keys.seal("p-1", b"secret")
    assert len(nonce) == 12
    assert keys.open("p-1", nonce, ciphertext) == b"secret"
    with pytest.raises(IdentityDecryptionError):
        keys.open("p-2", nonce, ciphertext)
    with pytest.raises(IdentityDecryptionError):
        IdentityKeys(b"E" * 32, b"h" * 32).open("p-1", nonce, ciphertext)
    tampered = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    with pytest.raises(IdentityDecryptionError):
        keys.open("p-1", nonce, tampered)


def test_nonces_are_fresh_per_record() -> None:
    keys = IdentityKeys(b"e" * 32, b"h" * 32)
    sealed = {keys.seal("p-1", b"same")[0] for _ in range(50)}
    assert len(sealed) == 50
