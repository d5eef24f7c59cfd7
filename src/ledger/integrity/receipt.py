"""Receipts: the ledger's signed acknowledgement of one append (docs/PROTOCOL.md §6).

A receipt is a JSON object; its signature is Ed25519 by the ledger key over the RFC 8785
bytes of the receipt without ``signature``. It commits to the event's log index, leaf hash,
and the tree (size and root) right after the append, so the holder can later demand an
inclusion proof and a consistency proof to any checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.integrity.jcs import canonicalize_checked
from ledger.integrity.signing import Base64Error, SigningKey, VerifyKey, b64decode_strict, b64encode

RECEIPT_TYPE = "ledger/v1/receipt"
RECEIPT_FIELDS = frozenset(
    {
        "type",
        "origin",
        "event_id",
        "index",
        "recorded_at",
        "leaf_hash",
        "tree_size",
        "root_hash",
        "key_id",
        "signature",
    }
)


class ReceiptError(ValueError):
    """A receipt is malformed or its signature does not verify."""


@dataclass(frozen=True)
class Receipt:
    """A signed receipt (see module docstring)."""

    origin: str
    event_id: str
    index: int
    recorded_at: str
    leaf_hash: bytes
    tree_size: int
    root_hash: bytes
    key_id: str
    signature: bytes

    def unsigned(self) -> dict[str, Any]:
        """The receipt fields without ``signature`` (what is signed)."""
        return {
            "type": RECEIPT_TYPE,
            "origin": self.origin,
            "event_id": self.event_id,
            "index": self.index,
            "recorded_at": self.recorded_at,
            "leaf_hash": b64encode(self.leaf_hash),
            "tree_size": self.tree_size,
            "root_hash": b64encode(self.root_hash),
            "key_id": self.key_id,
        }

    def to_dict(self) -> dict[str, Any]:
        """The receipt as JSON-ready dict."""
        return self.unsigned() | {"signature": b64encode(self.signature)}

    def verify(self, ledger_key: VerifyKey) -> None:
        """Raise :class:`ReceiptError` unless signed by ``ledger_key``."""
        if self.key_id != ledger_key.key_id:
            msg = f"receipt names key {self.key_id}, expected {ledger_key.key_id}"
            raise ReceiptError(msg)
        if not ledger_key.verify(self.signature, canonicalize_checked(self.unsigned())):
            msg = f"receipt signature for event {self.event_id} does not verify"
            raise ReceiptError(msg)


def sign_receipt(
    key: SigningKey,
    *,
    origin: str,
    event_id: str,
    index: int,
    recorded_at: str,
    leaf_hash: bytes,
    tree_size: int,
    root_hash: bytes,
) -> Receipt:
    """Build and sign a receipt. Ed25519 is deterministic: the same inputs give the same bytes,
    so a retried append gets back exactly its original receipt."""
    draft = Receipt(
        origin, event_id, index, recorded_at, leaf_hash, tree_size, root_hash, key.key_id, b""
    )
    signature = key.sign(canonicalize_checked(draft.unsigned()))
    return Receipt(
        origin, event_id, index, recorded_at, leaf_hash, tree_size, root_hash, key.key_id, signature
    )


def receipt_from_dict(data: Mapping[str, Any]) -> Receipt:
    """Parse a receipt produced by :meth:`Receipt.to_dict`; raises :class:`ReceiptError`."""
    if set(data) != RECEIPT_FIELDS or data.get("type") != RECEIPT_TYPE:
        msg = f"not a {RECEIPT_TYPE} object"
        raise ReceiptError(msg)
    try:
        return Receipt(
            origin=str(data["origin"]),
            event_id=str(data["event_id"]),
            index=int(data["index"]),
            recorded_at=str(data["recorded_at"]),
            leaf_hash=b64decode_strict(data["leaf_hash"]),
            tree_size=int(data["tree_size"]),
            root_hash=b64decode_strict(data["root_hash"]),
            key_id=str(data["key_id"]),
            signature=b64decode_strict(data["signature"]),
        )
    except (Base64Error, TypeError, ValueError) as e:
        msg = f"malformed receipt: {e}"
        raise ReceiptError(msg) from e
