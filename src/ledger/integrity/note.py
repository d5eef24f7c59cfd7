"""C2SP signed notes (Ed25519) and tlog checkpoints.

Signed note (c2sp.org/signed-note)::

    <text, ending in "\\n"; may contain empty lines>
    "\\n"                                          (blank separator line)
    "— " <key name> " " base64(key ID (4) || signature (64)) "\\n"   (one or more)

* "—" is U+2014 EM DASH; base64 is RFC 4648 section 4 with padding.
* The whole note is valid UTF-8 with no ASCII control character except "\\n".
* The signature covers the text bytes (UTF-8), final newline included, separator
  excluded.  The text ends at the *last* empty line of the note.
* Key ID (Ed25519, type byte 0x01)::

      key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]

* Verifier key text: ``<name>+<8 lowercase hex key ID>+base64(0x01 || public key)``.

Checkpoint body (c2sp.org/tlog-checkpoint)::

    <origin>\\n
    <tree size, ASCII decimal, no leading zeros>\\n
    <base64 of the 32-byte RFC 6962 root hash>\\n
    [<extension line>\\n ...]        (optional, each non-empty)

Everything here is pure computation; Ed25519 verification uses ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "ED25519_KEY_SIZE",
    "ED25519_SIGNATURE_SIZE",
    "ED25519_SIGNATURE_TYPE",
    "EM_DASH",
    "KEY_ID_SIZE",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "Checkpoint",
    "CheckpointFormatError",
    "NoteError",
    "NoteFormatError",
    "NoteSignature",
    "NoteSignatureError",
    "NoteUnverifiedError",
    "NoteVerifier",
    "OpenedNote",
    "ParsedNote",
    "add_signature",
    "format_verifier_key",
    "note_key_id",
    "open_note",
    "parse_note",
    "parse_verifier_key",
    "sign_note",
]

EM_DASH = "\u2014"
ED25519_SIGNATURE_TYPE = 0x01
ED25519_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64
KEY_ID_SIZE = 4
#: Upper bound on an encoded note (UTF-8 bytes); checkpoints are far smaller.
MAX_NOTE_BYTES = 64 * 1024
#: Upper bound on signature lines (the spec requires accepting at least 16).
MAX_SIGNATURES = 100

_SIG_PREFIX = EM_DASH + " "
_ROOT_HASH_SIZE = 32
_MAX_TREE_SIZE = (1 << 64) - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_HEX8 = re.compile(r"[0-9a-f]{8}", re.ASCII)


# --------------------------------------------------------------------------- errors


class NoteError(ValueError):
    """Base class of every error raised by this module."""


class NoteFormatError(NoteError):
    """Malformed note, signature line, key name or verifier key."""

    def __init__(self, reason: str, *, line: str | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(reason if line is None else f"{reason}: {line!r}")


class NoteSignatureError(NoteError):
    """A signature by a known key (name and key ID match) does not verify."""

    def __init__(self, name: str, key_id: bytes, signature: bytes) -> None:
        self.name = name
        self.key_id = key_id
        self.signature = signature
        super().__init__(f"invalid signature for key {name}+{key_id.hex()}")


class NoteUnverifiedError(NoteError):
    """The note is well formed but no known key signed it (the spec says reject)."""

    def __init__(self, note: ParsedNote) -> None:
        self.note = note
        super().__init__(
            f"note has no verifiable signatures ({len(note.signatures)} from unknown keys)"
        )


class CheckpointFormatError(NoteError):
    """Checkpoint text does not follow c2sp.org/tlog-checkpoint strictly."""

    def __init__(self, reason: str, *, line: str | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(reason if line is None else f"{reason}: {line!r}")


# --------------------------------------------------------------------------- helpers


def _is_valid_name(name: str) -> bool:
    """Non-empty, no Unicode space, no '+', no control character (spec + Go rules)."""
    if not name or "+" in name:
        return False
    for ch in name:
        if ch.isspace() or ord(ch) < 0x20 or unicodedata.category(ch) in ("Zs", "Zl", "Zp"):
            return False
    return _is_utf8(name)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def _check_name(name: str) -> None:
    if not _is_valid_name(name):
        raise NoteFormatError("invalid key name", line=name)


def _check_note_chars(text: str, what: str) -> None:
    if not _is_utf8(text):
        raise NoteFormatError(f"{what} is not valid UTF-8")
    for ch in text:
        if ord(ch) < 0x20 and ch != "\n":
            raise NoteFormatError(f"{what} contains control character U+{ord(ch):04X}")


def _b64decode_strict(text: str) -> bytes | None:
    """Canonical RFC 4648 base64 (padding required, no stray bits) or ``None``."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# --------------------------------------------------------------------------- keys


def note_key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || 0x01 || public_key)[:4]`` for an Ed25519 key."""
    _check_name(name)
    if len(public_key) != ED25519_KEY_SIZE:
        raise NoteFormatError(f"Ed25519 public key must be 32 bytes, got {len(public_key)}")
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ED25519_SIGNATURE_TYPE]) + public_key
    ).digest()
    return digest[:KEY_ID_SIZE]


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 note key: name, 4-byte key ID and raw 32-byte public key."""

    name: str
    key_id: bytes
    public_key: bytes

    def __post_init__(self) -> None:
        expected = note_key_id(self.name, self.public_key)
        if self.key_id != expected:
            raise NoteFormatError(
                f"key ID {self.key_id.hex()} does not match key (expected {expected.hex()})",
                line=self.name,
            )

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> NoteVerifier:
        """Build a verifier, computing the key ID."""
        return cls(name, note_key_id(name, public_key), public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is a valid Ed25519 signature of ``message``."""
        if len(signature) != ED25519_SIGNATURE_SIZE:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def to_text(self) -> str:
        """The verifier key text (``format_verifier_key``)."""
        return format_verifier_key(self.name, self.public_key)


def format_verifier_key(name: str, public_key: bytes) -> str:
    """``<name>+<8 hex key ID>+base64(0x01 || public_key)``."""
    key_id = note_key_id(name, public_key)
    return f"{name}+{key_id.hex()}+{_b64(bytes([ED25519_SIGNATURE_TYPE]) + public_key)}"


def parse_verifier_key(text: str) -> NoteVerifier:
    """Parse a verifier key; ``NoteFormatError`` unless name, ID, type and key all check."""
    name, sep1, rest = text.partition("+")
    key_id_hex, sep2, key_b64 = rest.partition("+")
    if not (sep1 and sep2):
        raise NoteFormatError("verifier key must be <name>+<keyid>+<key>", line=text)
    _check_name(name)
    if not _HEX8.fullmatch(key_id_hex):
        raise NoteFormatError("key ID must be 8 lowercase hex digits", line=text)
    raw = _b64decode_strict(key_b64)
    if raw is None or not raw:
        raise NoteFormatError("key is not canonical base64", line=text)
    if raw[0] != ED25519_SIGNATURE_TYPE:
        raise NoteFormatError(f"unsupported signature type 0x{raw[0]:02x}", line=text)
    if len(raw) != 1 + ED25519_KEY_SIZE:
        raise NoteFormatError(f"Ed25519 key must be 32 bytes, got {len(raw) - 1}", line=text)
    public_key = raw[1:]
    if note_key_id(name, public_key) != bytes.fromhex(key_id_hex):
        raise NoteFormatError("key ID does not match name and key", line=text)
    return NoteVerifier(name, bytes.fromhex(key_id_hex), public_key)


# --------------------------------------------------------------------------- notes


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def to_line(self) -> str:
        """``— <name> base64(key_id || signature)\\n``."""
        return f"{_SIG_PREFIX}{self.name} {_b64(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class ParsedNote:
    """A syntactically valid note whose signatures have not been checked."""

    text: str
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class OpenedNote:
    """A note with at least one signature verified by a trusted key.

    ``verified`` are signatures by known keys (all of which verified);
    ``unverified`` are signatures by keys not in the verifier list.
    """

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteFormatError("note text must be non-empty and end with a newline")
    _check_note_chars(text, "note text")


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIG_PREFIX):
        raise NoteFormatError("signature line must start with an em dash and a space", line=line)
    name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
    if not sep or not _is_valid_name(name):
        raise NoteFormatError("signature line has no valid key name", line=line)
    raw = _b64decode_strict(b64)
    if raw is None or len(raw) <= KEY_ID_SIZE:
        raise NoteFormatError("signature is not canonical base64 of key ID || signature", line=line)
    return NoteSignature(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


def parse_note(note: str) -> ParsedNote:
    """Split a note into text and signature lines, checking syntax only."""
    if len(note.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise NoteFormatError(f"note longer than {MAX_NOTE_BYTES} bytes")
    _check_note_chars(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteFormatError("no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteFormatError("signature block must be non-empty and end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteFormatError(f"more than {MAX_SIGNATURES} signatures")
    return ParsedNote(text, tuple(_parse_signature_line(line) for line in lines))


def open_note(note: str, verifiers: Sequence[NoteVerifier]) -> OpenedNote:
    """Parse ``note`` and verify every signature made by a key in ``verifiers``.

    * A signature whose (name, key ID) matches a verifier must verify, else
      ``NoteSignatureError``.  Identical repeated lines are reported once.
    * Signatures by other keys are returned as ``unverified``.
    * ``NoteUnverifiedError`` (carrying the parsed note) if no known key signed.
    * Two verifiers with the same (name, key ID) but different keys make such a
      signature ambiguous: ``NoteFormatError``.
    """
    parsed = parse_note(note)
    known: dict[tuple[str, bytes], NoteVerifier | None] = {}
    for v in verifiers:
        key = (v.name, v.key_id)
        if key in known and known[key] != v:
            known[key] = None  # ambiguous
        else:
            known.setdefault(key, v)
    message = parsed.text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for sig in parsed.signatures:
        key = (sig.name, sig.key_id)
        if key not in known:
            if sig not in unverified:
                unverified.append(sig)
            continue
        verifier = known[key]
        if verifier is None:
            raise NoteFormatError(f"ambiguous verifier key {sig.name}+{sig.key_id.hex()}")
        if not verifier.verify(message, sig.signature):
            raise NoteSignatureError(sig.name, sig.key_id, sig.signature)
        if sig not in verified:
            verified.append(sig)
    if not verified:
        raise NoteUnverifiedError(parsed)
    return OpenedNote(parsed.text, tuple(verified), tuple(unverified))


def _make_signature(
    text: str, name: str, sign: Callable[[bytes], bytes], public_key: bytes
) -> NoteSignature:
    _check_text(text)
    verifier = NoteVerifier.from_public_key(name, public_key)
    message = text.encode("utf-8")
    signature = sign(message)
    if not verifier.verify(message, signature):
        # Catches a signer that does not hold the private key for ``public_key``.
        raise NoteSignatureError(name, verifier.key_id, signature)
    return NoteSignature(name, verifier.key_id, signature)


def sign_note(text: str, name: str, sign: Callable[[bytes], bytes], public_key: bytes) -> str:
    """Sign ``text`` with an Ed25519 ``sign`` callable and return the signed note.

    ``text`` must be non-empty, end with "\\n" and contain no control character
    other than "\\n" (empty lines are allowed, per the spec).  The produced
    signature is checked against ``public_key`` before it is emitted.
    """
    sig = _make_signature(text, name, sign, public_key)
    return text + "\n" + sig.to_line()


def add_signature(note: str, name: str, sign: Callable[[bytes], bytes], public_key: bytes) -> str:
    """Add (cosign) one more signature to an already signed note.

    Existing signatures are kept in order, unverified, except one by the same
    (name, key ID), which is replaced; the new signature goes last.
    """
    parsed = parse_note(note)
    sig = _make_signature(parsed.text, name, sign, public_key)
    kept = [s for s in parsed.signatures if (s.name, s.key_id) != (sig.name, sig.key_id)]
    if len(kept) + 1 > MAX_SIGNATURES:
        raise NoteFormatError(f"more than {MAX_SIGNATURES} signatures")
    return parsed.text + "\n" + "".join(s.to_line() for s in (*kept, sig))


# --------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint body: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_checkpoint_line(self.origin, "origin")
        if isinstance(self.size, bool) or not 0 <= self.size <= _MAX_TREE_SIZE:
            raise CheckpointFormatError(f"tree size {self.size!r} out of range")
        if len(self.root_hash) != _ROOT_HASH_SIZE:
            raise CheckpointFormatError(f"root hash must be 32 bytes, got {len(self.root_hash)}")
        for ext in self.extensions:
            _check_checkpoint_line(ext, "extension line")

    def to_text(self) -> str:
        """The note text: origin, size, base64 root and extensions, each + "\\n"."""
        lines = [self.origin, str(self.size), _b64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Strictly parse checkpoint note text (see module docstring)."""
        if not text.endswith("\n"):
            raise CheckpointFormatError("checkpoint must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointFormatError(f"checkpoint needs 3 lines, got {len(lines)}")
        origin, size_text, root_text, *extensions = lines
        for line in lines:
            _check_checkpoint_line(line, "line")
        if not _DECIMAL.fullmatch(size_text):
            raise CheckpointFormatError("tree size is not canonical decimal", line=size_text)
        size = int(size_text)
        if size > _MAX_TREE_SIZE:
            raise CheckpointFormatError("tree size exceeds 2**64 - 1", line=size_text)
        root = _b64decode_strict(root_text)
        if root is None or len(root) != _ROOT_HASH_SIZE:
            raise CheckpointFormatError(
                "root hash is not canonical base64 of 32 bytes", line=root_text
            )
        return cls(origin, size, root, tuple(extensions))


def _check_checkpoint_line(line: str, what: str) -> None:
    if not line:
        raise CheckpointFormatError(f"{what} is empty")
    if not _is_utf8(line) or any(ord(ch) < 0x20 for ch in line):
        raise CheckpointFormatError(f"{what} has a newline or control character", line=line)
