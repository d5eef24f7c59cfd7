"""The identity registry's two secret keys, and the only code that uses them.

Two independent 32-byte random keys live in ``LEDGER_HOME``, never in a database:

* ``identity-encryption.key``: AES-256-GCM key of the identity records;
* ``identity-hmac.key``: HMAC-SHA-256 key of the ``*_hmac`` values the ledger's events carry.

Why two keys: they have different lifetimes. The HMAC key must stay stable for as long as the
log holds hashes made with it (duplicate detection compares new hashes with old ones), while
the encryption key can be rotated by re-encrypting the registry. Knowing one must not help
with the other.

Files hold the 32 raw bytes, mode 0600, created exclusively (never overwritten) like the
ledger's signing keys (:mod:`ledger.integrity.signing`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.identity.errors import IdentityDecryptionError, IdentityKeyError

__all__ = [
    "ENCRYPTION_KEY_FILE",
    "HMAC_KEY_FILE",
    "KEY_SIZE",
    "NONCE_SIZE",
    "IdentityKeys",
]

ENCRYPTION_KEY_FILE = "identity-encryption.key"
HMAC_KEY_FILE = "identity-hmac.key"
KEY_SIZE = 32
NONCE_SIZE = 12  # 96 bits: the GCM nonce size with no extra hashing step (NIST SP 800-38D)

_AAD_PREFIX = b"ledger-identity/v1\x00"
"""Associated data = prefix + person id: a record decrypts only under the id it was sealed for,
and the prefix keeps these ciphertexts from being valid in any other protocol using the key."""

_GROUP_OTHER = stat.S_IRWXG | stat.S_IRWXO


@dataclass(frozen=True)
class IdentityKeys:
    """The registry's encryption and HMAC keys (``repr`` never shows them)."""

    encryption_key: bytes = field(repr=False)
    hmac_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("encryption_key", "hmac_key"):
            if len(getattr(self, name)) != KEY_SIZE:
                raise IdentityKeyError(f"the identity {name} must be {KEY_SIZE} bytes")
        if hmac.compare_digest(self.encryption_key, self.hmac_key):
            # Two files holding the same bytes means someone copied one key over the other.
            raise IdentityKeyError("the identity encryption and HMAC keys must differ")

    # ------------------------------------------------------------------ files

    @classmethod
    def create(cls, home: Path) -> IdentityKeys:
        """Generate both keys and write them to ``home`` (created 0700), mode 0600.

        Raises:
            IdentityKeyError: a key file already exists (keys are never overwritten: an
                overwritten HMAC key silently breaks duplicate detection for the whole log).
        """
        home = Path(home)
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o700)
        paths = (home / ENCRYPTION_KEY_FILE, home / HMAC_KEY_FILE)
        for path in paths:
            if path.exists() or path.is_symlink():
                raise IdentityKeyError(
                    f"{path} already exists; refusing to overwrite an identity key", path=str(path)
                )
        keys = cls(os.urandom(KEY_SIZE), os.urandom(KEY_SIZE))
        written: list[Path] = []
        try:
            for path, key in zip(paths, (keys.encryption_key, keys.hmac_key), strict=True):
                _write_key_file(path, key)
                written.append(path)
        except BaseException:
            for path in written:  # all or nothing: never leave one key without the other
                path.unlink(missing_ok=True)
            raise
        return keys

    @classmethod
    def load(cls, home: Path) -> IdentityKeys:
        """Read both keys from ``home``.

        Raises:
            IdentityKeyError: a file is missing, a symlink, not a regular file, grants any
                permission to group or others, or does not hold exactly 32 bytes.
        """
        home = Path(home)
        return cls(_read_key_file(home / ENCRYPTION_KEY_FILE), _read_key_file(home / HMAC_KEY_FILE))

    # ------------------------------------------------------------------ keyed operations

    def keyed_hash(self, label: bytes, value: str) -> str:
        """HMAC-SHA-256 of ``label || 0x00 || value`` (UTF-8), lowercase hex.

        The label separates kinds of value: an 18-digit bank card number and an 18-digit ID
        number with the same digits must not produce the same hash.
        """
        message = label + b"\x00" + value.encode("utf-8")
        return hmac.new(self.hmac_key, message, hashlib.sha256).hexdigest()

    def seal(self, person_id: str, plaintext: bytes) -> tuple[bytes, bytes]:
        """AES-256-GCM encrypt ``plaintext`` for ``person_id``: ``(nonce, ciphertext+tag)``.

        A fresh random 96-bit nonce per record; at a registry's scale (far below 2**32
        encryptions per key) random nonces keep the collision risk negligible.
        """
        nonce = os.urandom(NONCE_SIZE)
        return nonce, AESGCM(self.encryption_key).encrypt(nonce, plaintext, _aad(person_id))

    def open(self, person_id: str, nonce: bytes, ciphertext: bytes) -> bytes:
        """Decrypt a record sealed for ``person_id``.

        Raises:
            IdentityDecryptionError: wrong key, altered bytes, or a record of another person.
        """
        try:
            return AESGCM(self.encryption_key).decrypt(nonce, ciphertext, _aad(person_id))
        except (InvalidTag, ValueError) as e:
            raise IdentityDecryptionError(
                "the identity record does not decrypt: wrong key, altered data, or a record "
                "that belongs to another person",
                person_id=person_id,
            ) from e


def _aad(person_id: str) -> bytes:
    return _AAD_PREFIX + person_id.encode("utf-8")


def _write_key_file(path: Path, key: bytes) -> None:
    """Create ``path`` exclusively with mode 0600 and write ``key`` (see signing.py)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise IdentityKeyError(
            f"{path} already exists; refusing to overwrite an identity key", path=str(path)
        ) from None
    try:
        os.fchmod(fd, 0o600)  # exact mode whatever the umask
        view = memoryview(key)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)


def _read_key_file(path: Path) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise IdentityKeyError(
            f"identity key file {path} is missing (create the keys with IdentityKeys.create)",
            path=str(path),
        ) from None
    except OSError as e:
        reason = "is a symlink" if path.is_symlink() else f"cannot be opened ({e.strerror})"
        raise IdentityKeyError(f"identity key file {path} {reason}", path=str(path)) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())  # the opened file itself: no check/use race
        if not stat.S_ISREG(info.st_mode):
            raise IdentityKeyError(
                f"identity key file {path} is not a regular file", path=str(path)
            )
        if info.st_mode & _GROUP_OTHER:
            raise IdentityKeyError(
                f"identity key file {path} has mode {stat.S_IMODE(info.st_mode):#o}; it must "
                "grant nothing to group or others (chmod 600)",
                path=str(path),
            )
        data = handle.read(KEY_SIZE + 1)
    if len(data) != KEY_SIZE:
        raise IdentityKeyError(
            f"identity key file {path} must hold exactly {KEY_SIZE} bytes", path=str(path)
        )
    return data
