"""``ledger export``: the raw log and every checkpoint, in a directory an outsider can verify.

Layout (docs/PROTOCOL.md §8):

* ``log.jsonl`` — line *i* is exactly the leaf bytes of log index *i* (RFC 8785 JSON never
  contains a raw newline), so ``SHA-256(0x00 || line)`` is the leaf hash;
* ``checkpoints.jsonl`` — one ``{"size", "issued_at", "note"}`` object per kept checkpoint;
* ``manifest.json`` — format, origin, size, root hash and the ledger's C2SP verifier key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from ledger.integrity.envelope import format_recorded_at, leaf_bytes
from ledger.integrity.merkle import Frontier
from ledger.integrity.note import format_verifier_key
from ledger.integrity.signing import b64decode_strict, b64encode
from ledger.services.ledger import LedgerService

EXPORT_FORMAT = "ledger/v1/export"
PAGE = 5000


def export_ledger(service: LedgerService, directory: Path) -> dict[str, object]:
    """Write the export; returns the manifest. Refuses a non-empty directory."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        msg = f"{directory} is not empty; refusing to overwrite an export"
        raise FileExistsError(msg)
    frontier = Frontier()
    with (directory / "log.jsonl").open("wb") as out:
        start = 0
        while entries := service.store.log.entries(start, PAGE):
            for entry in entries:
                line = leaf_bytes(entry.state, entry.index, entry.recorded_at)
                out.write(line + b"\n")
                frontier.append(entry.leaf_hash)
            start = entries[-1].index + 1
    with (directory / "checkpoints.jsonl").open("wb") as out:
        for checkpoint in service.store.log.checkpoints():
            record = {
                "size": checkpoint.size,
                "issued_at": checkpoint.issued_at,
                "note": checkpoint.note,
            }
            out.write(orjson.dumps(record) + b"\n")
    registry = service.registry
    manifest: dict[str, object] = {
        "format": EXPORT_FORMAT,
        "origin": registry.origin,
        "size": frontier.size,
        "root_hash": b64encode(frontier.root()),
        "verifier_key": format_verifier_key(
            registry.origin or "", b64decode_strict(registry.ledger_public_key or "")
        )
        if registry.origin
        else None,
        "exported_at": format_recorded_at(datetime.now(UTC)),
    }
    (directory / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest
