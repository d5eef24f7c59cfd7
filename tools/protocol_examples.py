"""Generate the worked examples of docs/PROTOCOL.md (``docs/examples/protocol-v1.json``).

Everything is deterministic (fixed key seeds, ids and times; Ed25519 signatures are
deterministic), so ``tests/unit/test_protocol_examples.py`` regenerates the file and demands
byte equality. Run ``python -m ledger.tools.protocol_examples`` after a deliberate protocol
change, and review the diff.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from ledger.client import EnvelopeSigner
from ledger.integrity.envelope import leaf_bytes, parse_envelope
from ledger.integrity.merkle import (
    Frontier,
    ListNodeSource,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
)
from ledger.integrity.note import Checkpoint, format_verifier_key, note_key_id, sign_note
from ledger.integrity.receipt import sign_receipt
from ledger.integrity.signing import SigningKey, b64encode
from ledger.store.records import STREAM_NAMESPACE, stream_uuid

LEDGER_SEED = bytes.fromhex("4c" * 32)  # 'L' x 32
ADMIN_SEED = bytes.fromhex("41" * 32)  # 'A' x 32
CLERK_SEED = bytes.fromhex("43" * 32)  # 'C' x 32
ORIGIN = "ledger.example.gov.cn/demo-city"
OUTPUT = Path("docs/examples/protocol-v1.json")


def _event_id(n: int) -> str:
    return f"0190f5b4-7a3c-7c3e-8f00-{n:012d}"


def _recorded_at(n: int) -> str:
    return f"2026-07-01T02:00:0{n}.000000Z"


def build_examples() -> dict[str, Any]:
    """The worked examples as one JSON-ready dict."""
    ledger, admin, clerk = (
        SigningKey.from_private_bytes(s) for s in (LEDGER_SEED, ADMIN_SEED, CLERK_SEED)
    )
    signer = EnvelopeSigner(admin, "admin-1", "registry_admin", "city-gov")
    payloads: list[tuple[str, dict[str, Any]]] = [
        (
            "LedgerInitialised",
            {
                "origin": ORIGIN,
                "ledger_public_key": ledger.public.to_b64(),
                "root_org_id": "city-gov",
                "root_org_name": "示范市人民政府",
                "admin_actor_id": "admin-1",
                "admin_public_key": admin.public.to_b64(),
            },
        ),
        (
            "OrganisationRegistered",
            {
                "org_id": "county-ca",
                "kind": "DEPARTMENT",
                "parent_org_id": "city-gov",
                "name": "示范县民政局",
            },
        ),
        (
            "ActorRegistered",
            {
                "actor_id": "clerk-1",
                "org_id": "county-ca",
                "kind": "PERSON",
                "person_ref": "staff-0001",
            },
        ),
        (
            "SigningKeyRegistered",
            {
                "key_id": clerk.key_id,
                "algorithm": "Ed25519",
                "public_key": clerk.public.to_b64(),
                "actor_id": "clerk-1",
            },
        ),
        (
            "ActorRoleGranted",
            {
                "actor_id": "clerk-1",
                "role": "township_intake_clerk",
                "org_id": "county-ca",
                "include_descendants": True,
            },
        ),
    ]
    envelopes = [
        signer.sign(
            event_type=t,
            stream_type="registry",
            stream_id="registry",
            expected_version=i,
            payload=p,
            event_id=_event_id(i),
            occurred_at=f"2026-07-01T10:00:0{i}+08:00",
        )
        for i, (t, p) in enumerate(payloads)
    ]
    leaves = [leaf_bytes(raw, i, _recorded_at(i)) for i, raw in enumerate(envelopes)]
    hashes = [leaf_hash(leaf) for leaf in leaves]
    source = ListNodeSource(hashes)
    roots = []
    frontier = Frontier()
    for h in hashes:
        frontier.append(h)
        roots.append(frontier.root())
    size = len(hashes)
    checkpoint_text = Checkpoint(ORIGIN, size, roots[-1]).to_text()
    genesis = parse_envelope(envelopes[0])
    receipt = sign_receipt(
        ledger,
        origin=ORIGIN,
        event_id=_event_id(size - 1),
        index=size - 1,
        recorded_at=_recorded_at(size - 1),
        leaf_hash=hashes[-1],
        tree_size=size,
        root_hash=roots[-1],
    )
    return {
        "keys": {
            name: {
                "seed_hex": key.private_bytes().hex(),
                "public_key_b64": key.public.to_b64(),
                "key_id": key.key_id,
            }
            for name, key in (("ledger", ledger), ("admin", admin), ("clerk", clerk))
        },
        "genesis": {
            "envelope": orjson.loads(envelopes[0]),
            "signing_bytes_utf8": genesis.signing_bytes().decode("utf-8"),
            "signing_bytes_hex": genesis.signing_bytes().hex(),
            "signature_b64": b64encode(genesis.signature),
            "stored_bytes_sha256_hex": __import__("hashlib").sha256(envelopes[0]).hexdigest(),
            "stream_namespace": str(STREAM_NAMESPACE),
            "stream_uuid": str(stream_uuid("registry", "registry")),
        },
        "log": [
            {
                "index": i,
                "event_type": payloads[i][0],
                "recorded_at": _recorded_at(i),
                "leaf_bytes_sha256_hex": __import__("hashlib").sha256(leaves[i]).hexdigest(),
                "leaf_hash_hex": hashes[i].hex(),
                "root_after_hex": roots[i].hex(),
            }
            for i in range(size)
        ],
        "genesis_leaf_bytes_utf8": leaves[0].decode("utf-8"),
        "inclusion_proof": {
            "index": 2,
            "tree_size": size,
            "proof_hex": [h.hex() for h in inclusion_proof(2, size, source)],
        },
        "consistency_proof": {
            "old_size": 3,
            "new_size": size,
            "proof_hex": [h.hex() for h in consistency_proof(3, size, source)],
        },
        "checkpoint": {
            "verifier_key": format_verifier_key(ORIGIN, ledger.public.raw),
            "note_key_id_hex": note_key_id(ORIGIN, ledger.public.raw).hex(),
            "text": checkpoint_text,
            "signed_note": sign_note(checkpoint_text, ORIGIN, ledger.sign, ledger.public.raw),
        },
        "receipt": receipt.to_dict(),
    }


def render() -> bytes:
    """The examples file's exact bytes."""
    return orjson.dumps(build_examples(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main() -> int:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(render())
    sys.stdout.write(f"wrote {OUTPUT}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
