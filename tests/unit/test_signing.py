"""Ed25519 keys and signatures, strict base64, private-key files."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pickle
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.integrity.signing import (
    Base64Error,
    KeyFileError,
    KeyFormatError,
    SigningKey,
    VerifyKey,
    b64decode_strict,
    b64encode,
    key_id_for,
    read_private_key,
    write_private_key,
)

VECTORS_FILE = Path(__file__).resolve().parents[1] / "vectors" / "rfc8032_ed25519.json"
RFC8032 = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vectors"]


def _ids(vectors: list[dict[str, str]]) -> list[str]:
    return [v["name"] for v in vectors]


# ---------------------------------------------------------------- RFC 8032 §7.1


def test_rfc8032_vector_set_is_complete() -> None:
    assert _ids(RFC8032) == ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"]
    assert len(bytes.fromhex(RFC8032[3]["message"])) == 1023
    assert bytes.fromhex(RFC8032[4]["message"]) == hashlib.sha512(b"abc").digest()


@pytest.mark.parametrize("vector", RFC8032, ids=_ids(RFC8032))
def test_rfc8032_public_key_derivation(vector: dict[str, str]) -> None:
    key = SigningKey.from_private_bytes(bytes.fromhex(vector["secret_key"]))
    assert key.public.raw.hex() == vector["public_key"]
    assert key.private_bytes().hex() == vector["secret_key"]
    assert key.key_id == hashlib.sha256(bytes.fromhex(vector["public_key"])).hexdigest()


@pytest.mark.parametrize("vector", RFC8032, ids=_ids(RFC8032))
def test_rfc8032_signature(vector: dict[str, str]) -> None:
    key = SigningKey.from_private_bytes(bytes.fromhex(vector["secret_key"]))
    message = bytes.fromhex(vector["message"])
    assert key.sign(message).hex() == vector["signature"]


@pytest.mark.parametrize("vector", RFC8032, ids=_ids(RFC8032))
def test_rfc8032_verification(vector: dict[str, str]) -> None:
    public = VerifyKey.from_bytes(bytes.fromhex(vector["public_key"]))
    message = bytes.fromhex(vector["message"])
    signature = bytes.fromhex(vector["signature"])
    assert public.verify(signature, message)


@pytest.mark.parametrize("vector", RFC8032, ids=_ids(RFC8032))
def test_rfc8032_tampering_is_detected(vector: dict[str, str]) -> None:
    public = VerifyKey.from_bytes(bytes.fromhex(vector["public_key"]))
    message = bytes.fromhex(vector["message"])
    signature = bytes.fromhex(vector["signature"])
    for bit in (0, 7, 255, 256, 511):
        flipped = bytearray(signature)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert not public.verify(bytes(flipped), message)
    if message:
        for index in (0, len(message) - 1):
            changed = bytearray(message)
            changed[index] ^= 0x01
            assert not public.verify(signature, bytes(changed))
    assert not public.verify(signature, message + b"\x00")
    assert not public.verify(signature[:-1], message)
    assert not public.verify(signature + b"\x00", message)
    assert not public.verify(b"", message)
    next_vector = RFC8032[(RFC8032.index(vector) + 1) % len(RFC8032)]
    other = VerifyKey.from_bytes(bytes.fromhex(next_vector["public_key"]))
    assert not other.verify(signature, message)


def test_verify_rejects_non_canonical_s() -> None:
    # s + L (the group order) is the same scalar but a malleated encoding: must be refused.
    vector = RFC8032[0]
    public = VerifyKey.from_bytes(bytes.fromhex(vector["public_key"]))
    signature = bytes.fromhex(vector["signature"])
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(signature[32:], "little") + order
    assert s < 2**256
    malleated = signature[:32] + s.to_bytes(32, "little")
    assert not public.verify(malleated, b"")


def test_verify_never_raises_on_garbage() -> None:
    public = SigningKey.generate().public
    assert not public.verify(b"\xff" * 64, b"m")
    assert not public.verify(b"\x00" * 64, b"m")
    assert not public.verify("not bytes", b"m")  # type: ignore[arg-type]


# ---------------------------------------------------------------- keys


def test_generate_sign_verify_round_trip() -> None:
    key = SigningKey.generate()
    message = b"ledger event"
    signature = key.sign(message)
    assert len(signature) == 64
    assert key.public.verify(signature, message)
    assert len(key.private_bytes()) == 32
    assert SigningKey.from_private_bytes(key.private_bytes()).public == key.public


def test_key_id() -> None:
    key = SigningKey.generate()
    assert key.key_id == key.public.key_id == key_id_for(key.public.raw)
    assert len(key.key_id) == 64
    assert key.key_id == key.key_id.lower()
    assert int(key.key_id, 16) >= 0
    with pytest.raises(ValueError, match="32"):
        key_id_for(b"short")


def test_pem_round_trip() -> None:
    key = SigningKey.generate()
    pem = key.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    loaded = SigningKey.from_pem(pem)
    assert loaded.private_bytes() == key.private_bytes()
    assert loaded == key
    assert loaded.public == key.public


def test_from_pem_rejects_other_keys_and_garbage() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyFormatError):
        SigningKey.from_pem(ec_pem)
    with pytest.raises(KeyFormatError):
        SigningKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KeyFormatError):
        SigningKey.from_pem(b"")


def test_private_key_never_in_repr() -> None:
    key = SigningKey.from_private_bytes(bytes.fromhex(RFC8032[0]["secret_key"]))
    secret = key.private_bytes()
    for text in (repr(key), str(key), f"{key}", repr([key]), repr({"k": key})):
        assert secret.hex() not in text.lower()
        assert base64.b64encode(secret).decode() not in text
        assert "PRIVATE" not in text
        assert key.key_id in text
    with pytest.raises(TypeError):
        pickle.dumps(key)


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_from_private_bytes_wrong_size(size: int) -> None:
    with pytest.raises(KeyFormatError):
        SigningKey.from_private_bytes(b"\x01" * size)


def test_verify_key_value_semantics() -> None:
    raw = bytes.fromhex(RFC8032[1]["public_key"])
    a, b = VerifyKey.from_bytes(raw), VerifyKey.from_bytes(bytearray(raw))
    assert a == b
    assert hash(a) == hash(b)
    assert a.raw == raw
    assert a.to_b64() == base64.b64encode(raw).decode()
    assert VerifyKey.from_b64(a.to_b64()) == a
    assert pickle.loads(pickle.dumps(a)) == a
    assert a.key_id in repr(a)
    with pytest.raises(AttributeError):
        a.raw = b"x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a._raw = b"x"  # type: ignore[misc]


# Small-order points (the 8-torsion subgroup) and encodings that are not points.
_SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2 (y = -1)
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
    "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
]
_NOT_A_POINT = [
    "0200000000000000000000000000000000000000000000000000000000000000",  # y = 2: no x
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p: non-canonical
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "0100000000000000000000000000000000000000000000000000000000000080",  # x = 0 with sign 1
]


@pytest.mark.parametrize("hex_key", _SMALL_ORDER)
def test_verify_key_rejects_small_order_points(hex_key: str) -> None:
    with pytest.raises(KeyFormatError, match="small-order"):
        VerifyKey.from_bytes(bytes.fromhex(hex_key))


@pytest.mark.parametrize("hex_key", _NOT_A_POINT)
def test_verify_key_rejects_non_points(hex_key: str) -> None:
    with pytest.raises(KeyFormatError, match="no such curve point"):
        VerifyKey.from_bytes(bytes.fromhex(hex_key))


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_verify_key_rejects_wrong_length(size: int) -> None:
    with pytest.raises(KeyFormatError):
        VerifyKey.from_bytes(bytes.fromhex(RFC8032[0]["public_key"])[:1] * size)


def test_verify_key_rejects_non_bytes() -> None:
    with pytest.raises(KeyFormatError):
        VerifyKey.from_bytes("d75a980182b10ab7d54bfed3c964073a")  # type: ignore[arg-type]


@given(st.binary(min_size=32, max_size=32))
def test_generated_public_keys_always_load(seed: bytes) -> None:
    key = SigningKey.from_private_bytes(seed)
    assert VerifyKey.from_bytes(key.public.raw) == key.public


# ---------------------------------------------------------------- base64


@given(st.binary(max_size=80))
def test_b64_round_trip(data: bytes) -> None:
    text = b64encode(data)
    assert text == base64.b64encode(data).decode()
    assert b64decode_strict(text) == data


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("", b""),
        ("Zg==", b"f"),
        ("Zm8=", b"fo"),
        ("Zm9v", b"foo"),
        ("Zm9vYmFy", b"foobar"),
        ("+/+/", b"\xfb\xff\xbf"),
    ],
)
def test_b64_rfc4648_examples(text: str, data: bytes) -> None:
    assert b64encode(data) == text
    assert b64decode_strict(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "Zg",  # padding missing
        "Zg=",  # padding short
        "Zg===",  # padding too long
        "Zm8",  # padding missing
        "Z",  # impossible length
        "Zm9vY",  # impossible length
        "Zg==Zg==",  # padding in the middle
        "=Zg=",
        "-_-_",  # URL-safe alphabet
        "Zm9v_w==",
        "Zm9v\n",  # whitespace
        " Zm9v",
        "Zm 9v",
        "Zm9v\r\n",
        "Zm9v\t",
        "QR==",  # non-zero unused bits (canonical: QQ==)
        "Zh==",  # canonical: Zg==
        "Zm9=",  # canonical: Zm8=
        "Zm9vYmF=",  # canonical: Zm9vYmE=
        "Zm9v\x00",
        "Zm9\u00e9",  # non-ASCII
        "\uff31\uff31==",  # fullwidth letters
    ],
)
def test_b64_strict_rejects(text: str) -> None:
    with pytest.raises(Base64Error):
        b64decode_strict(text)
    with pytest.raises(ValueError):
        b64decode_strict(text)


def test_b64_rejects_bytes_input() -> None:
    with pytest.raises(Base64Error):
        b64decode_strict(b"Zm9v")  # type: ignore[arg-type]


# ---------------------------------------------------------------- key files


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_and_read_private_key(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "signer.pem"
    write_private_key(path, key)
    assert _mode(path) == 0o600
    assert read_private_key(path) == key
    assert path.read_bytes() == key.to_pem()


def test_write_mode_ignores_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_private_key(tmp_path / "k.pem", SigningKey.generate())
    finally:
        os.umask(old)
    assert _mode(tmp_path / "k.pem") == 0o600


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "signer.pem"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        write_private_key(path, SigningKey.generate())
    assert path.read_bytes() == b"precious"


def test_write_refuses_symlink(tmp_path: Path) -> None:
    target = tmp_path / "target"
    link = tmp_path / "link.pem"
    link.symlink_to(target)
    with pytest.raises(FileExistsError):
        write_private_key(link, SigningKey.generate())
    assert not target.exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o610, 0o601, 0o602, 0o620, 0o777])
def test_read_refuses_group_or_other_permissions(tmp_path: Path, mode: int) -> None:
    key = SigningKey.generate()
    path = tmp_path / "signer.pem"
    write_private_key(path, key)
    path.chmod(mode)
    with pytest.raises(KeyFileError) as info:
        read_private_key(path)
    assert isinstance(info.value, PermissionError)
    assert oct(mode)[2:] in str(info.value)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_read_accepts_owner_only(tmp_path: Path, mode: int) -> None:
    key = SigningKey.generate()
    path = tmp_path / "signer.pem"
    write_private_key(path, key)
    path.chmod(mode)
    assert read_private_key(path) == key


def test_read_refuses_symlink_and_directory(tmp_path: Path) -> None:
    key = SigningKey.generate()
    real = tmp_path / "real.pem"
    write_private_key(real, key)
    link = tmp_path / "link.pem"
    link.symlink_to(real)
    with pytest.raises(KeyFileError):
        read_private_key(link)
    directory = tmp_path / "dir"
    directory.mkdir(mode=0o700)
    with pytest.raises((KeyFileError, IsADirectoryError)):
        read_private_key(directory)


def test_read_missing_and_garbage(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_private_key(tmp_path / "missing.pem")
    garbage = tmp_path / "garbage.pem"
    fd = os.open(garbage, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"not a key")
    os.close(fd)
    with pytest.raises(KeyFormatError):
        read_private_key(garbage)


def test_write_cleans_up_on_failure(tmp_path: Path, monkeypatch: Any) -> None:
    key = SigningKey.generate()

    def boom(self: SigningKey) -> bytes:
        raise RuntimeError("boom")

    monkeypatch.setattr(SigningKey, "to_pem", boom)
    path = tmp_path / "signer.pem"
    with pytest.raises(RuntimeError):
        write_private_key(path, key)
    assert not path.exists()


def test_one_key_used_from_several_threads_gives_right_answers() -> None:
    # The append path verifies in worker threads and signs receipts in the committer's
    # thread at the same time, with the same key objects.
    key = SigningKey.generate()
    verify_key = VerifyKey.from_bytes(key.public.raw)
    messages = [os.urandom(100) for _ in range(50)]
    expected = {m: key.sign(m) for m in messages}
    failures: list[bytes] = []

    def check() -> None:
        for message in messages * 4:
            signature = key.sign(message)
            if signature != expected[message] or not verify_key.verify(signature, message):
                failures.append(message)
            if verify_key.verify(signature, message + b"!"):
                failures.append(message)

    threads = [threading.Thread(target=check) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
