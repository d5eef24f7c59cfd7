"""JSON rendering for the API: orjson, with the stored envelope bytes embedded verbatim.

Why not FastAPI's response models on the hot paths: the receipt and log entries are already
plain data, and orjson renders them several times faster than validating through pydantic.
The pydantic models in :mod:`ledger.api.schemas` document the same shapes in OpenAPI.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import orjson
from starlette.responses import Response

from ledger.integrity.signing import b64encode
from ledger.store.records import LogEntry, StoredCheckpoint


def _default(value: Any) -> Any:
    """What orjson does not know: exact numbers as strings, bytes as base64."""
    if isinstance(value, Decimal | Fraction):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return b64encode(bytes(value))
    if isinstance(value, set | frozenset):
        return sorted(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def dumps(value: Any) -> bytes:
    """Render ``value`` as JSON bytes (see :func:`_default` for non-JSON types)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


class JSONBytes(Response):
    """``application/json`` rendered by orjson (FastAPI's ``ORJSONResponse`` is deprecated)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return dumps(content)


def entry_json(entry: LogEntry) -> dict[str, Any]:
    """A log entry as JSON: the envelope exactly as stored (RFC 8785 bytes), not re-encoded."""
    return {
        "index": entry.index,
        "event_id": entry.event_id,
        "event_type": entry.event_type,
        "stream_version": entry.originator_version,
        "recorded_at": entry.recorded_at,
        "leaf_hash": b64encode(entry.leaf_hash),
        "root_hash": b64encode(entry.root),
        "envelope": orjson.Fragment(entry.state),
    }


def checkpoint_json(checkpoint: StoredCheckpoint) -> dict[str, Any]:
    """A kept checkpoint as JSON; ``note`` is the C2SP signed note text."""
    return {
        "size": checkpoint.size,
        "root_hash": b64encode(checkpoint.root),
        "issued_at": checkpoint.issued_at,
        "note": checkpoint.note,
    }
