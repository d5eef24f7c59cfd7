"""Raw rows as the verifier reads them, and the per-row checks that run in worker processes.

:func:`check_page` does everything about a row that needs no other row: parse, canonical
form, envelope structure, the signature (given the public key), the leaf hash, and the
stored tree root (given the frontier at the page start). It runs in worker processes so both
cores share the Ed25519 work; the main process keeps only the sequential checks.

Rows travel as plain tuples (cheap to pickle):

    RawRow  = (index, notification_id, recorded_at, stored_leaf_hash, stored_root,
               originator_id, originator_version, topic, state)

``None`` marks a value missing from storage (an export has no stored hashes or stream keys).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from hashlib import sha1
from typing import Any, Final, NamedTuple
from uuid import UUID

import orjson

from ledger.errors import LedgerError
from ledger.integrity.envelope import Envelope, envelope_from_object, leaf_bytes
from ledger.integrity.jcs import canonicalize_checked
from ledger.integrity.merkle import Frontier, leaf_hash
from ledger.integrity.signing import VerifyKey
from ledger.store.records import STREAM_NAMESPACE, TOPIC_PREFIX

RawRow = tuple[
    int, int | None, str, bytes | None, bytes | None, Any, int | None, str | None, bytes | None
]

INDEX: Final = 0
NOTIFICATION_ID: Final = 1
RECORDED_AT: Final = 2
STORED_LEAF: Final = 3
STORED_ROOT: Final = 4
ORIGINATOR_ID: Final = 5
ORIGINATOR_VERSION: Final = 6
TOPIC: Final = 7
STATE: Final = 8


class Checked(NamedTuple):
    """Result of checking one row (see module docstring); a tuple, so it pickles cheaply."""

    log_index: int
    leaf_hash: bytes | None
    problem: str | None
    """Why the row is not an intact envelope in its place (None if it is)."""
    problem_kind: str | None
    """``deleted``, ``edited``, or ``reordered`` (a candidate: an authentic envelope out of
    place; the engine confirms it against the log)."""
    signature_ok: bool | None
    """None when the key was unknown to the worker."""
    root_ok: bool = True
    event_type: str = ""
    schema_version: int = 0
    key_id: str = ""
    actor: tuple[str, str, str] = ("", "", "")
    stream: tuple[str, str, int] = ("", "", 0)
    event_id: str = ""
    payload: Mapping[str, Any] | None = None
    """Only for registry events (the main process folds them into the registry)."""


_KEY_EVENT = b'"event_type":"SigningKeyRegistered"'
_GENESIS_EVENT = b'"event_type":"LedgerInitialised"'


def harvest_keys(rows: Sequence[RawRow], keys: dict[str, VerifyKey]) -> None:
    """Add every public key registered in ``rows`` to ``keys``.

    Found by a substring search of the canonical bytes, not by the (editable) topic column.
    Workers only check signatures; *when* a key was valid is decided by the main process.
    """
    for row in rows:
        state = row[STATE]
        if state is None or (_KEY_EVENT not in state and _GENESIS_EVENT not in state):
            continue
        try:
            payload = orjson.loads(state)["payload"]
        except (ValueError, KeyError, TypeError):
            continue
        if not isinstance(payload, dict):
            continue
        for name in ("public_key", "admin_public_key", "ledger_public_key"):
            value = payload.get(name)
            if isinstance(value, str):
                try:
                    key = VerifyKey.from_b64(value)
                except ValueError:
                    continue
                keys.setdefault(key.key_id, key)


_WORKER_SOURCES: dict[Any, Any] = {}


def check_range(
    spec: Any, start: int, end: int, keys: dict[str, VerifyKey], frontier_at_start: bytes
) -> PageResult:
    """Worker entry point for database sources: read rows ``[start, end)`` through this
    process's own read-only connection, then :func:`check_page` them."""
    source = _WORKER_SOURCES.get(spec)
    if source is None:
        source = _WORKER_SOURCES[spec] = spec.open()
    rows = source.rows_between(start, end)
    harvest_keys(rows, keys)
    return check_page(rows, keys, frontier_at_start)


Signer = tuple[str, tuple[str, str, str], str, int]
"""(key_id, actor, event_type, schema_version): what the main process authorises."""

Intact = tuple[int, bytes, int, str]
"""(log_index, leaf hash, index into the page's signer table, event_id): a row that passed
every per-row check, sent in this compact form to keep the main process's share small."""


class PageResult(NamedTuple):
    """A worker's answer for one page: intact rows compactly, anything else in full."""

    signers: list[Signer]
    items: list[Intact | Checked]


def check_page(
    rows: Sequence[RawRow], keys: Mapping[str, VerifyKey], frontier_at_start: bytes | None
) -> PageResult:
    """Check a page of consecutive rows.

    ``frontier_at_start`` is the tree before the page built from the *stored* leaf hashes;
    with it each stored root is compared with the root after the stored leaf (a tampered
    leaf is caught separately, by recomputing it).
    """
    frontier = Frontier.from_bytes(frontier_at_start) if frontier_at_start is not None else None
    signers: dict[Signer, int] = {}
    items: list[Intact | Checked] = []
    for row in rows:
        root_ok = True
        stored_leaf, stored_root = row[STORED_LEAF], row[STORED_ROOT]
        if frontier is not None and stored_leaf is not None and stored_root is not None:
            frontier.append(stored_leaf)
            root_ok = frontier.root() == stored_root
        items.append(check_row(row, keys, signers, root_ok=root_ok))
    return PageResult(list(signers), items)


def check_row(
    row: RawRow,
    keys: Mapping[str, VerifyKey],
    signers: dict[Signer, int] | None = None,
    *,
    root_ok: bool = True,
) -> Checked | Intact:
    """Per-row checks (see module docstring); never raises for bad data.

    With a ``signers`` table an intact, non-registry row comes back in the compact
    :data:`Intact` form; anything else as a full :class:`Checked`.
    """
    index, state = row[INDEX], row[STATE]
    if state is None:
        return Checked(index, None, "the event row is missing", "deleted", None, root_ok)
    computed_leaf = leaf_hash(leaf_bytes(state, index, row[RECORDED_AT]))
    env, problem = _decode(state)
    if env is None:
        return Checked(index, computed_leaf, problem, "edited", None, root_ok)
    key = keys.get(env.key_id)
    signature_ok = key.verify(env.signature, signing_bytes_of(state, env)) if key else None
    misplaced = _placement_problem(row, env)
    stored_leaf = row[STORED_LEAF]
    if stored_leaf is not None and stored_leaf != computed_leaf:
        misplaced = misplaced or "the stored leaf hash does not match the recomputed leaf"
    actor = env.actor
    signer = (
        env.key_id,
        (actor["actor_id"], actor["role"], actor["org_id"]),
        env.event_type,
        env.schema_version,
    )
    registry_event = env.stream_type == "registry"
    if signers is not None and not misplaced and signature_ok and root_ok and not registry_event:
        return (index, computed_leaf, signers.setdefault(signer, len(signers)), env.event_id)
    kind = None
    if misplaced:
        # An authentic envelope in the wrong place may have been moved (the engine checks
        # whether the log records it elsewhere); anything else was altered.
        kind = "reordered" if signature_ok else "edited"
    return Checked(
        log_index=index,
        leaf_hash=computed_leaf,
        problem=misplaced,
        problem_kind=kind,
        signature_ok=signature_ok,
        root_ok=root_ok,
        event_type=env.event_type,
        schema_version=env.schema_version,
        key_id=env.key_id,
        actor=signer[1],
        stream=(env.stream_type, env.stream_id, env.expected_version),
        event_id=env.event_id,
        payload=dict(env.payload) if registry_event else None,
    )


_SIGNATURE_MEMBER = b',"signature":"'
_SIGNATURE_B64_LENGTH = 88  # base64 of 64 bytes, with padding


def signing_bytes_of(state: bytes, env: Envelope) -> bytes:
    """The signing bytes of a *canonical* stored envelope, by cutting out its signature member.

    Why it is exact: in JCS the top-level ``signature`` member sorts after ``payload``,
    ``protocol`` and ``schema_version`` and before ``stream_id``/``stream_type`` (plain
    identifiers), and an unescaped ``"`` cannot occur inside a string, so its last
    occurrence is the top-level member. Falls back to re-encoding if the shape differs.
    Saves re-serialising every envelope in the verifier.
    """
    start = state.rfind(_SIGNATURE_MEMBER)
    end = start + len(_SIGNATURE_MEMBER) + _SIGNATURE_B64_LENGTH + 1
    if start < 0 or state[end - 1 : end] != b'"':
        return env.signing_bytes()
    return state[:start] + state[end:]


def _decode(state: bytes) -> tuple[Envelope | None, str | None]:
    try:
        value = orjson.loads(state)
    except orjson.JSONDecodeError as e:
        return None, f"the stored envelope is not JSON ({e})"
    try:
        env = envelope_from_object(value)
    except LedgerError as e:
        return None, f"the stored envelope is not a valid v1 envelope: {e.detail}"
    if canonicalize_checked(value) != state:
        return None, "the stored envelope is not in RFC 8785 canonical form"
    return env, None


def _placement_problem(row: RawRow, env: Envelope) -> str | None:
    topic, originator_id, version = row[TOPIC], row[ORIGINATOR_ID], row[ORIGINATOR_VERSION]
    if topic is not None and topic != TOPIC_PREFIX + env.event_type:
        return f"stored topic {topic!r} does not match event type {env.event_type!r}"
    if originator_id is not None and _stream_key(originator_id) != _stream_uuid_bytes(
        env.stream_type, env.stream_id
    ):
        return "stored stream id does not match the envelope's stream"
    if version is not None and version != env.expected_version + 1:
        return (
            f"stored stream version {version} does not match the envelope's "
            f"expected_version {env.expected_version} + 1"
        )
    return None


def _stream_key(value: Any) -> bytes | None:
    """The stored originator id as 16 bytes (SQLite stores 32 hex chars, PostgreSQL a UUID)."""
    if isinstance(value, UUID):
        return value.bytes
    try:
        return bytes.fromhex(str(value))
    except ValueError:
        return None


_NAMESPACE = STREAM_NAMESPACE.bytes


def _stream_uuid_bytes(stream_type: str, stream_id: str) -> bytes:
    """``stream_uuid(...).bytes`` without building UUID objects (this runs for every row).

    RFC 9562 §5.5: SHA-1 of namespace || name, first 16 bytes, version 5, variant 10.
    """
    digest = bytearray(sha1(_NAMESPACE + f"{stream_type}/{stream_id}".encode()).digest()[:16])  # noqa: S324 - UUIDv5 is defined with SHA-1
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return bytes(digest)
