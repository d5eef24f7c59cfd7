"""Ed25519 signing keys, verify keys, strict base64 and private-key files.

* Signatures are pure Ed25519 (RFC 8032 §5.1) computed by ``cryptography``, which releases
  the GIL while it signs or verifies, so checks in several threads use several cores.
* A key is identified by ``key_id_for(public)``: the lowercase hex SHA-256 of
  the 32 raw public-key bytes.
* Public keys are checked on load (``cryptography`` does not): the encoding
  must be canonical (y < p), decode to a curve point (RFC 8032 §5.1.3), and
  the point must not have small order (such keys make forgeries trivial).
* Base64 is RFC 4648 §4 (standard alphabet, padded) and decoding is strict:
  only the one canonical spelling of each byte string is accepted.
* Private keys are stored as unencrypted PKCS#8 PEM in files that only the
  owner may read (mode 0o600); files granting group/other access are refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "PRIVATE_KEY_SIZE",
    "PUBLIC_KEY_SIZE",
    "SIGNATURE_SIZE",
    "Base64Error",
    "KeyFileError",
    "KeyFormatError",
    "SigningKey",
    "VerifyKey",
    "b64decode_strict",
    "b64encode",
    "key_id_for",
    "read_private_key",
    "write_private_key",
]

PUBLIC_KEY_SIZE = 32
PRIVATE_KEY_SIZE = 32
SIGNATURE_SIZE = 64


class Base64Error(ValueError):
    """Text is not canonical RFC 4648 §4 base64."""


class KeyFormatError(ValueError):
    """Bytes or PEM do not hold an acceptable Ed25519 key."""


class KeyFileError(PermissionError):
    """A private-key file is readable or writable by group or others."""


# ---------------------------------------------------------------- base64

_B64_SHAPE = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def b64encode(data: bytes) -> str:
    """RFC 4648 §4 base64 (standard alphabet, with padding)."""
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(text: str) -> bytes:
    """Decode canonical RFC 4648 §4 base64, or raise :class:`Base64Error`.

    Refused: any character outside ``A-Z a-z 0-9 + /`` and final padding
    (so whitespace, newlines and the URL-safe alphabet), missing or extra
    padding, and non-zero unused bits in the last character (``"QR=="``),
    i.e. anything whose re-encoding differs from the input.
    """
    if not isinstance(text, str):
        raise Base64Error(f"base64 input must be str, not {type(text).__name__}")
    if _B64_SHAPE.fullmatch(text) is None:
        raise Base64Error("not canonical base64: bad alphabet, length or padding")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error as exc:  # pragma: no cover - shape check is stricter
        raise Base64Error(f"not base64: {exc}") from None
    if b64encode(data) != text:
        raise Base64Error("not canonical base64: non-zero unused trailing bits")
    return data


# ---------------------------------------------------------------- key ids and point checks


def key_id_for(public_key: bytes) -> str:
    """Lowercase hex SHA-256 of the 32 raw public-key bytes (64 characters)."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise KeyFormatError(f"an Ed25519 public key is {PUBLIC_KEY_SIZE} bytes")
    return hashlib.sha256(bytes(public_key)).hexdigest()


_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)

_Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)


def _decode_point(raw: bytes) -> _Point | None:
    """RFC 8032 §5.1.3 point decoding; ``None`` if not a canonical point."""
    y = int.from_bytes(raw, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        if sign:
            return None
        return (0, y, 1, 0)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def _double(point: _Point) -> _Point:
    # RFC 8032 §5.1.4 addition formula applied to (P, P).
    x1, y1, z1, t1 = point
    a = (y1 - x1) * (y1 - x1) % _P
    b = (y1 + x1) * (y1 + x1) % _P
    c = 2 * t1 * t1 * _D % _P
    d = 2 * z1 * z1 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _has_small_order(point: _Point) -> bool:
    for _ in range(3):  # multiply by the cofactor 8
        point = _double(point)
    x, y, z, _t = point
    return x % _P == 0 and (y - z) % _P == 0


def _check_public_bytes(raw: bytes) -> None:
    if len(raw) != PUBLIC_KEY_SIZE:
        raise KeyFormatError(f"an Ed25519 public key is {PUBLIC_KEY_SIZE} bytes, got {len(raw)}")
    point = _decode_point(raw)
    if point is None:
        raise KeyFormatError("not a valid Ed25519 public key (no such curve point)")
    if _has_small_order(point):
        raise KeyFormatError("Ed25519 public key is a small-order point")


# ---------------------------------------------------------------- keys


class VerifyKey:
    """An Ed25519 public key (immutable)."""

    __slots__ = ("_key", "_key_id", "_raw")

    _raw: bytes
    _key_id: str
    _key: Ed25519PublicKey

    def __init__(self, raw: bytes) -> None:
        raw = bytes(raw)
        _check_public_bytes(raw)
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_key_id", key_id_for(raw))
        object.__setattr__(self, "_key", Ed25519PublicKey.from_public_bytes(raw))

    @classmethod
    def from_bytes(cls, raw: bytes) -> VerifyKey:
        """Load 32 raw bytes; :class:`KeyFormatError` unless a valid point."""
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise KeyFormatError(f"public key must be bytes, not {type(raw).__name__}")
        return cls(bytes(raw))

    @classmethod
    def from_b64(cls, text: str) -> VerifyKey:
        """Load from strict base64 (see :func:`b64decode_strict`)."""
        try:
            raw = b64decode_strict(text)
        except Base64Error as exc:
            raise KeyFormatError(f"public key: {exc}") from None
        return cls.from_bytes(raw)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @property
    def raw(self) -> bytes:
        """The 32 raw public-key bytes."""
        return self._raw

    @property
    def key_id(self) -> str:
        """Lowercase hex SHA-256 of :attr:`raw`."""
        return self._key_id

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True iff ``signature`` is a valid Ed25519 signature of ``message``.

        Never raises for a bad or malformed signature; returns False.
        """
        if not isinstance(signature, bytes | bytearray | memoryview):
            return False
        if len(signature) != SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(bytes(signature), bytes(message))
        except InvalidSignature:
            return False
        return True

    def to_b64(self) -> str:
        """Standard padded base64 of :attr:`raw` (44 characters)."""
        return b64encode(self._raw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifyKey):
            return NotImplemented
        return self._raw == other._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"VerifyKey(key_id={self._key_id!r})"

    def __reduce__(self) -> tuple[type[VerifyKey], tuple[bytes]]:
        return (VerifyKey, (self._raw,))


class SigningKey:
    """An Ed25519 private key.  Its ``repr`` never shows secret material."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFormatError("not an Ed25519 private key")
        self._key = key
        raw_public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._public = VerifyKey(raw_public)

    @classmethod
    def generate(cls) -> SigningKey:
        """A new random key (from the OS CSPRNG via ``cryptography``)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw32: bytes) -> SigningKey:
        """Load the 32-byte RFC 8032 private key (seed)."""
        if not isinstance(raw32, bytes | bytearray | memoryview) or len(raw32) != PRIVATE_KEY_SIZE:
            raise KeyFormatError(f"an Ed25519 private key is {PRIVATE_KEY_SIZE} raw bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(raw32)))

    @classmethod
    def from_pem(cls, data: bytes) -> SigningKey:
        """Load an unencrypted PKCS#8 PEM Ed25519 private key."""
        try:
            key = serialization.load_pem_private_key(bytes(data), password=None)
        except (ValueError, TypeError) as exc:
            raise KeyFormatError(f"not an unencrypted PEM private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFormatError(f"PEM holds a {type(key).__name__}, not an Ed25519 key")
        return cls(key)

    def private_bytes(self) -> bytes:
        """The raw 32-byte private key (seed).  Handle with care."""
        return self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def to_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM.  Handle with care."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public(self) -> VerifyKey:
        """The matching public key."""
        return self._public

    @property
    def key_id(self) -> str:
        """The key id of :attr:`public`."""
        return self._public.key_id

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (deterministic)."""
        return self._key.sign(bytes(message))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SigningKey):
            return NotImplemented
        return hmac.compare_digest(self.private_bytes(), other.private_bytes())

    def __hash__(self) -> int:
        return hash(self._public)

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.key_id!r})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("SigningKey cannot be pickled; use to_pem() deliberately")


# ---------------------------------------------------------------- key files

_GROUP_OTHER = stat.S_IRWXG | stat.S_IRWXO


def write_private_key(path: Path, key: SigningKey) -> None:
    """Create ``path`` holding ``key`` as PKCS#8 PEM with mode 0o600.

    The file is created exclusively (``O_CREAT | O_EXCL``), so an existing
    file (or symlink) is never overwritten: :class:`FileExistsError`.  If
    writing fails the partly written file is removed.
    """
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise FileExistsError(
            f"refusing to overwrite existing private-key file {str(path)!r}"
        ) from None
    try:
        os.fchmod(fd, 0o600)  # exact mode regardless of the umask
        data = key.to_pem()
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)


def read_private_key(path: Path) -> SigningKey:
    """Load a key written by :func:`write_private_key`.

    Raises :class:`KeyFileError` if the file is not a regular file or its mode
    grants any permission to group or others; :class:`KeyFormatError` if it
    does not hold an Ed25519 PKCS#8 PEM key.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if path.is_symlink():  # O_NOFOLLOW refused a symlink
            raise KeyFileError(f"private-key file {str(path)!r} is a symlink") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())  # the opened file itself: no check/use race
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"private-key file {str(path)!r} is not a regular file")
        if info.st_mode & _GROUP_OTHER:
            raise KeyFileError(
                f"private-key file {str(path)!r} has mode "
                f"{stat.S_IMODE(info.st_mode):#o}; it must grant nothing to group or "
                "others (chmod 600)"
            )
        data = handle.read()
    return SigningKey.from_pem(data)
