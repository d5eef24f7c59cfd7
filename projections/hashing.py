"""Projection state hashes: SHA-256 over one canonical serialisation.

The hash of a projection *as known at* log index ``p`` (the current state is ``p`` = the last
index the projection has folded) is the lowercase hex SHA-256 of these bytes::

    header  = orjson({"position": p, "projection": name, "version": version})  # sorted keys
    line(r) = orjson([c1, c2, …, cn, known_from])      # the row's columns in table order
    bytes   = header + b"\\n" + line(r1) + b"\\n" + line(r2) + …   (no trailing newline)

where ``r1, r2, …`` are every row valid at ``p`` (``known_from <= p`` and ``known_to`` null or
``> p``), in ascending key order by Unicode code point (= UTF-8 byte order). Values are JSON
strings, integers or ``null`` (money is integer fen; lists and objects inside a row are
already stored as canonical JSON text, so they appear as strings). orjson writes the
shortest form with no spaces; the ids and codes are ASCII, so the bytes are those of
RFC 8785 for these values.

``known_from`` (the index of the event that produced the row's current value) is included:
it is a function of the log alone, so a rebuild reproduces it. ``known_to`` is excluded: as
known at ``p`` it is either null or a *later* index, which ``p`` cannot know.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import orjson


def state_hash(name: str, version: int, position: int, rows: Iterable[Sequence[Any]]) -> str:
    """The hash described in the module docstring; ``rows`` end with ``known_from``."""
    digest = hashlib.sha256(
        orjson.dumps(
            {"position": position, "projection": name, "version": version},
            option=orjson.OPT_SORT_KEYS,
        )
    )
    for row in sorted(rows, key=lambda r: r[0]):
        digest.update(b"\n")
        digest.update(orjson.dumps(list(row)))
    return digest.hexdigest()
