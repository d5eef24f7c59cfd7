"""Which subjects and which other events an envelope touches (pure functions over its JSON).

The case index, the decision replay and the evidence bundles all need the same answer to
"does event E concern subject S?", so it is computed in exactly one place:

* the event's own stream id (relation ``stream``);
* every string under a payload key named ``*_id`` or ``*_ids`` (at any depth: batch lines
  cite ``enrolment_id`` and ``person_id``), relation = the key (``person_id``,
  ``subject_ids`` …);
* the ``correlation_id`` (the workflow case, relation ``correlation``).

Values that are event ids (UUIDs, e.g. ``standard_ref``, ``decision_event_id``) and the
``causation_id`` are *event references*, not subjects: replay follows them to the cited event.

Why a naming convention rather than a list per event type: other engineers add event types
all the time (domain.md §6.3 names every reference ``…_id``); a convention keeps the index
correct for types that do not exist yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

HUB_KEYS = frozenset({"org_id", "admin_unit_id", "parent_id", "parent_org_id"})
"""Keys naming organisations and administrative units: indexed (an assessee's timeline), but
never followed when gathering a decision's dependencies (a county touches everything)."""

STREAM = "stream"
CORRELATION = "correlation"


@dataclass(frozen=True, slots=True)
class Ref:
    """One subject an event touches, and how (``stream``, a payload key, ``correlation``)."""

    subject_id: str
    relation: str

    @property
    def is_hub(self) -> bool:
        """An organisation or admin unit: too broad to follow as a dependency."""
        return self.relation in HUB_KEYS or self.relation.endswith(("_org_id", "_org_ids"))


def is_event_id(value: object) -> bool:
    """Whether ``value`` has the shape of an event id (a lower-case UUID)."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def subject_refs(fields: Mapping[str, Any]) -> list[Ref]:
    """Every subject ``fields`` (an envelope's JSON object) touches, without duplicates,
    in a stable order."""
    found: dict[tuple[str, str], None] = {(str(fields["stream_id"]), STREAM): None}
    correlation = fields.get("correlation_id")
    if isinstance(correlation, str):
        found[(correlation, CORRELATION)] = None
    for key, value in _payload_ids(fields.get("payload") or {}):
        if not is_event_id(value):
            found[(value, key)] = None
    return [Ref(subject, relation) for subject, relation in found]


def event_refs(fields: Mapping[str, Any]) -> list[str]:
    """Ids of other events ``fields`` cites: ``causation_id`` first, then every UUID value
    in the payload, without duplicates."""
    found: dict[str, None] = {}
    causation = fields.get("causation_id")
    if is_event_id(causation):
        found[str(causation)] = None
    for value in _strings(fields.get("payload") or {}):
        if is_event_id(value) and value != fields.get("event_id"):
            found[value] = None
    return list(found)


def _payload_ids(value: Any, key: str | None = None) -> Iterator[tuple[str, str]]:
    """(key, id) for strings under ``*_id`` / ``*_ids`` keys, recursively."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _payload_ids(v, str(k))
    elif isinstance(value, list):
        for item in value:
            yield from _payload_ids(item, key)
    elif isinstance(value, str) and key is not None and key.endswith(("_id", "_ids")):
        yield key, value


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value
