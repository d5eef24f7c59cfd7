"""Protocol v1 envelopes: parsing, strict validation, signing bytes and leaf bytes.

The normative description is ``docs/PROTOCOL.md``; this module is its executable form.

An envelope is one JSON object with exactly the fields in :data:`ENVELOPE_FIELDS`. Its
*signing bytes* are the RFC 8785 canonical bytes of the object without ``signature``; its
*stored bytes* are the canonical bytes of the whole object; the *leaf bytes* bind the stored
bytes to the log position and the ledger's clock:

    leaf_bytes = JCS({"envelope": <envelope>, "index": <log index>, "recorded_at": <time>})

Because the three keys sort as written and the stored bytes are already canonical, the leaf
bytes are built by concatenation, never by re-encoding.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ledger.errors import MalformedEnvelopeError
from ledger.integrity.jcs import canonicalize_checked
from ledger.integrity.signing import Base64Error, b64decode_strict

PROTOCOL = "ledger/v1"
MAX_ENVELOPE_BYTES = 64 * 1024
MAX_DEPTH = 16
MAX_STRING = 8 * 1024
MAX_SAFE_INTEGER = 2**53 - 1

ENVELOPE_FIELDS = frozenset(
    {
        "protocol",
        "event_id",
        "event_type",
        "schema_version",
        "stream_type",
        "stream_id",
        "expected_version",
        "occurred_at",
        "actor",
        "key_id",
        "causation_id",
        "correlation_id",
        "payload",
        "attachments",
        "signature",
    }
)
ACTOR_FIELDS = frozenset({"actor_id", "role", "org_id"})
ATTACHMENT_FIELDS = frozenset({"name", "media_type", "sha256", "size"})

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EVENT_TYPE = re.compile(r"[A-Z][A-Za-z0-9]{0,63}")
_STREAM_TYPE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
_KEY_ID = re.compile(r"[0-9a-f]{64}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# RFC 3339 date-time with an explicit offset (Z or ±hh:mm); fractional seconds optional.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed, structurally valid v1 envelope (the signature is *not* yet checked)."""

    fields: Mapping[str, Any]
    signature: bytes

    @property
    def event_id(self) -> str:
        return str(self.fields["event_id"])

    @property
    def event_type(self) -> str:
        return str(self.fields["event_type"])

    @property
    def schema_version(self) -> int:
        return int(self.fields["schema_version"])

    @property
    def stream_type(self) -> str:
        return str(self.fields["stream_type"])

    @property
    def stream_id(self) -> str:
        return str(self.fields["stream_id"])

    @property
    def expected_version(self) -> int:
        return int(self.fields["expected_version"])

    @property
    def key_id(self) -> str:
        return str(self.fields["key_id"])

    @property
    def actor(self) -> Mapping[str, str]:
        actor: Mapping[str, str] = self.fields["actor"]
        return actor

    @property
    def payload(self) -> Mapping[str, Any]:
        payload: Mapping[str, Any] = self.fields["payload"]
        return payload

    def signing_bytes(self) -> bytes:
        """RFC 8785 bytes of the envelope without ``signature``: what the emitter signs."""
        unsigned = {k: v for k, v in self.fields.items() if k != "signature"}
        return canonicalize_checked(unsigned)

    def canonical_bytes(self) -> bytes:
        """RFC 8785 bytes of the whole envelope: what the ledger stores."""
        return canonicalize_checked(dict(self.fields))


def leaf_bytes(stored_envelope: bytes, index: int, recorded_at: str) -> bytes:
    """The Merkle leaf for the envelope stored at ``index`` (see module docstring)."""
    return b"".join(
        (
            b'{"envelope":',
            stored_envelope,
            b',"index":',
            str(index).encode("ascii"),
            b',"recorded_at":"',
            recorded_at.encode("ascii"),
            b'"}',
        )
    )


def format_recorded_at(moment: datetime) -> str:
    """The ledger's clock: UTC, microseconds, ``Z`` (``2026-01-02T03:04:05.000006Z``)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_envelope(raw: bytes) -> Envelope:
    """Parse and structurally validate submitted bytes.

    Raises:
        MalformedEnvelopeError: the first problem found, with the JSON path in ``evidence``.
    """
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise MalformedEnvelopeError(
            f"envelope is {len(raw)} bytes; the limit is {MAX_ENVELOPE_BYTES}",
            reason="oversized",
            size=len(raw),
            limit=MAX_ENVELOPE_BYTES,
        )
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise MalformedEnvelopeError(f"not valid JSON: {e}", reason="malformed_json") from e
    return envelope_from_object(value)


def envelope_from_object(value: Any) -> Envelope:
    """Validate an already-decoded JSON value as an envelope (see :func:`parse_envelope`)."""
    if not isinstance(value, dict):
        _fail("", "the envelope must be a JSON object", "wrong_type")
    _check_keys(value, ENVELOPE_FIELDS, "")
    _check_top_level(value)
    # Every other member was checked for type and length above; only the free-form payload
    # needs the walk for floats, unsafe integers, long strings and depth.
    check_json_values(value["payload"], "/payload", 1)
    try:
        signature = b64decode_strict(value["signature"])
    except Base64Error as e:
        _fail("/signature", f"signature is not canonical standard base64: {e}", "bad_base64")
    if len(signature) != 64:
        _fail(
            "/signature",
            f"an Ed25519 signature is 64 bytes, got {len(signature)}",
            "bad_signature_length",
        )
    return Envelope(fields=value, signature=signature)


def _is_int(x: Any) -> bool:
    return type(x) is int  # bool is a subclass of int; JSON true is not a number


def _matches(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda x: type(x) is str and pattern.fullmatch(x) is not None


def _is_uuid(x: Any) -> bool:
    # The regex admits only lowercase hyphenated hex; every such string is a canonical UUID.
    return type(x) is str and _UUID.fullmatch(x) is not None


def _is_rfc3339(x: Any) -> bool:
    if type(x) is not str or not _RFC3339.fullmatch(x):
        return False
    try:
        # Python >= 3.11 parses every RFC 3339 form the regex admits; this catches 02-30 etc.
        datetime.fromisoformat(x)
    except ValueError:
        return False
    return True


# (field, check, why) for the top level; built once: this runs for every append and every
# verified event.
_TOP_LEVEL: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("protocol", lambda x: x == PROTOCOL, f'must be "{PROTOCOL}"'),
    ("event_id", _is_uuid, "must be a lowercase hyphenated UUID"),
    ("event_type", _matches(_EVENT_TYPE), "must be a PascalCase type name"),
    ("schema_version", lambda x: _is_int(x) and 1 <= x <= 1000, "must be an integer 1..1000"),
    ("stream_type", _matches(_STREAM_TYPE), "must match [a-z][a-z0-9_]{0,31}"),
    ("stream_id", _matches(_ID), "must match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}"),
    ("expected_version", lambda x: _is_int(x) and x >= 0, "must be an integer >= 0"),
    ("occurred_at", _is_rfc3339, "must be an RFC 3339 date-time with an offset"),
    ("key_id", _matches(_KEY_ID), "must be 64 lowercase hex characters"),
    ("causation_id", lambda x: x is None or _is_uuid(x), "must be a UUID or null"),
    ("correlation_id", lambda x: x is None or _is_uuid(x), "must be a UUID or null"),
    ("payload", lambda x: type(x) is dict, "must be a JSON object"),
    ("signature", lambda x: type(x) is str, "must be a base64 string"),
)
_IS_ID = _matches(_ID)
_ATTACHMENT: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("name", lambda x: type(x) is str and 0 < len(x) <= 255, "must be 1..255 chars"),
    ("media_type", lambda x: type(x) is str and "/" in x and len(x) <= 255, "must be a media type"),
    ("sha256", _matches(_SHA256_HEX), "must be 64 lowercase hex characters"),
    ("size", lambda x: _is_int(x) and x >= 0, "must be an integer >= 0"),
)


_WHY = {name: why for name, _, why in _TOP_LEVEL}
_UUID_MATCH = _UUID.fullmatch
_EVENT_TYPE_MATCH = _EVENT_TYPE.fullmatch
_STREAM_TYPE_MATCH = _STREAM_TYPE.fullmatch
_ID_MATCH = _ID.fullmatch
_KEY_ID_MATCH = _KEY_ID.fullmatch


def _top_level_ok(v: Mapping[str, Any]) -> bool:  # noqa: PLR0911 - early exits, hot path
    """Straight-line form of the :data:`_TOP_LEVEL` table (it runs for every append and every
    verified event); on ``False`` the table finds and names the field."""
    x = v["event_id"]
    if type(x) is not str or _UUID_MATCH(x) is None:
        return False
    x = v["event_type"]
    if type(x) is not str or _EVENT_TYPE_MATCH(x) is None:
        return False
    x = v["stream_type"]
    if type(x) is not str or _STREAM_TYPE_MATCH(x) is None:
        return False
    x = v["stream_id"]
    if type(x) is not str or _ID_MATCH(x) is None:
        return False
    x = v["key_id"]
    if type(x) is not str or _KEY_ID_MATCH(x) is None:
        return False
    x, y = v["schema_version"], v["expected_version"]
    if type(x) is not int or not 1 <= x <= 1000 or type(y) is not int or y < 0:
        return False
    x, y = v["causation_id"], v["correlation_id"]
    if (x is not None and not _is_uuid(x)) or (y is not None and not _is_uuid(y)):
        return False
    return (
        v["protocol"] == PROTOCOL
        and type(v["payload"]) is dict
        and type(v["signature"]) is str
        and _is_rfc3339(v["occurred_at"])
    )


def _check_top_level(v: Mapping[str, Any]) -> None:
    if not _top_level_ok(v):
        for name, ok, why in _TOP_LEVEL:
            if not ok(v[name]):
                _fail(f"/{name}", f"/{name} {why}", "invalid_field")
    actor = v["actor"]
    if type(actor) is not dict:
        _fail("/actor", "actor must be an object", "wrong_type")
    _check_keys(actor, ACTOR_FIELDS, "/actor")
    for name in ("actor_id", "role", "org_id"):
        if not _IS_ID(actor[name]):
            _fail(f"/actor/{name}", f"/actor/{name} must be an identifier", "invalid_field")
    attachments = v["attachments"]
    if type(attachments) is not list:
        _fail("/attachments", "attachments must be an array", "wrong_type")
    for i, attachment in enumerate(attachments):
        _check_attachment(attachment, f"/attachments/{i}")


def _check_attachment(a: Any, path: str) -> None:
    if type(a) is not dict:
        _fail(path, "an attachment must be an object", "wrong_type")
    _check_keys(a, ATTACHMENT_FIELDS, path)
    for name, ok, why in _ATTACHMENT:
        if not ok(a[name]):
            _fail(f"{path}/{name}", f"{path}/{name} {why}", "invalid_field")


def _check_keys(obj: Mapping[str, Any], required: frozenset[str], path: str) -> None:
    if obj.keys() == required:  # the common case, without building sorted lists
        return
    missing = sorted(required - obj.keys())
    if missing:
        _fail(path, f"missing field(s): {', '.join(missing)}", "missing_field", fields=missing)
    extra = sorted(obj.keys() - required)
    if extra:
        _fail(path, f"unexpected field(s): {', '.join(extra)}", "unexpected_field", fields=extra)


def check_json_values(value: Any, path: str = "", depth: int = 0) -> None:
    """Refuse floats, unsafe integers, over-long strings and over-deep nesting anywhere.

    A fast iterative pass finds whether anything is wrong; only then does the slow pass
    build the JSON path for the error (paths for every node would cost more than the check).
    """
    if _all_values_ok(value, depth):
        return
    _explain_bad_value(value, path, depth)


def _all_values_ok(value: Any, depth: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, depth)]
    pop, push = stack.pop, stack.append
    while stack:
        item, d = pop()
        kind = type(item)
        if d > MAX_DEPTH or kind is float:
            return False
        if kind is str:
            if len(item) > MAX_STRING:
                return False
        elif kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False
        elif kind is dict:
            for child in item.values():
                push((child, d + 1))
        elif kind is list or kind is tuple:
            for child in item:
                push((child, d + 1))
    return True


def _explain_bad_value(value: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        _fail(path, f"nesting deeper than {MAX_DEPTH}", "too_deep")
    if isinstance(value, float):
        _fail(
            path,
            "binary floating-point numbers are not allowed (use integer fen or a decimal string)",
            "float_not_allowed",
        )
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        _fail(path, "integer outside ±(2^53-1) (RFC 7493 I-JSON)", "unsafe_integer")
    if isinstance(value, str) and len(value) > MAX_STRING:
        _fail(path, f"string longer than {MAX_STRING} characters", "string_too_long")
    if isinstance(value, dict):
        for key, item in value.items():
            _explain_bad_value(item, f"{path}/{key}", depth + 1)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _explain_bad_value(item, f"{path}/{i}", depth + 1)


def _fail(path: str, detail: str, reason: str, **evidence: Any) -> Any:
    raise MalformedEnvelopeError(detail, reason=reason, path=path or "/", **evidence)
