"""The identity registry: personal data kept out of the immutable log (``domain.md`` §6.7).

Names, ID numbers (身份证号) and bank card numbers are stored here, AES-256-GCM encrypted under
a key in ``LEDGER_HOME``. Events carry only the pseudonymous ``person_id`` and keyed hashes
(:meth:`IdentityRegistry.identity_hmac`, :meth:`IdentityRegistry.card_hmac`), so destroying a
registry record erases a person without touching a single logged byte: every signature,
Merkle proof and projection still holds.

Usage::

    keys = IdentityKeys.load(settings.home)
    with IdentityRegistry.open(settings, keys) as registry:
        ref = registry.register("p-1", "张三", "11010519491231002X", bank_card="6222000012345678")
        ...
        registry.erase("p-1", "LEGAL_REQUEST", service, admin_signer)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Any

from ledger.client import EnvelopeSigner
from ledger.domain.fields import IDENTIFIER
from ledger.errors import ConcurrencyError, LedgerError
from ledger.identity.errors import (
    DuplicateIdentityError,
    IdentityDecryptionError,
    InvalidIdentityError,
    PersonAlreadyRegisteredError,
    PersonErasedError,
    UnknownPersonError,
)
from ledger.identity.keys import IdentityKeys
from ledger.identity.normalise import canonical_card, canonical_id_number, clean_id_number
from ledger.identity.storage import IdentityStorage, StoredRecord, open_storage
from ledger.integrity.envelope import parse_envelope
from ledger.integrity.jcs import CanonicalizationError, canonicalize
from ledger.integrity.receipt import Receipt
from ledger.services.ledger import LedgerService
from ledger.settings import Settings
from ledger.store.records import LogEntry, stream_uuid

__all__ = [
    "ERASED_EVENT",
    "PERSON_STREAM",
    "ErasureReason",
    "ErasureReceipt",
    "Identity",
    "IdentityRef",
    "IdentityRegistry",
    "IdentityStatus",
    "RecordState",
]

PERSON_STREAM = "person"
ERASED_EVENT = "PersonIdentityErased"
MAX_NAME_LENGTH = 200
_ID_LABEL = b"ledger-identity/v1/id-number"
_CARD_LABEL = b"ledger-identity/v1/bank-card"
_HMAC_HEX = re.compile(r"[0-9a-f]{64}")
_INSERT_ATTEMPTS = 3


class ErasureReason(StrEnum):
    """Why an identity was erased (the ``reason`` of ``PersonIdentityErased``)."""

    RETENTION_EXPIRED = "RETENTION_EXPIRED"
    LEGAL_REQUEST = "LEGAL_REQUEST"
    ERROR = "ERROR"


class RecordState(StrEnum):
    """Where a person id is in its life cycle."""

    UNKNOWN = "UNKNOWN"
    REGISTERED = "REGISTERED"
    ERASURE_PENDING = "ERASURE_PENDING"
    ERASED = "ERASED"


@dataclass(frozen=True)
class IdentityRef:
    """What events may carry about a person: the pseudonymous id and the keyed hashes."""

    person_id: str
    identity_hmac: str
    card_hmac: str | None


@dataclass(frozen=True)
class Identity:
    """A decrypted identity record (personal data: never log it, never put it in an event)."""

    person_id: str
    name: str
    id_number: str
    bank_card: str | None
    extra: Mapping[str, Any] | None
    identity_hmac: str
    card_hmac: str | None
    created_at: str

    def __repr__(self) -> str:
        # Keep personal data out of logs and tracebacks that print the object.
        return f"Identity(person_id={self.person_id!r}, identity_hmac={self.identity_hmac!r})"

    @property
    def ref(self) -> IdentityRef:
        """The pseudonymous part."""
        return IdentityRef(self.person_id, self.identity_hmac, self.card_hmac)


@dataclass(frozen=True)
class IdentityStatus:
    """Life-cycle state of a person id, without personal data."""

    person_id: str
    state: RecordState
    created_at: str | None = None
    erasure_reason: str | None = None
    erased_at: str | None = None
    erasure_event_id: str | None = None

    @property
    def erased(self) -> bool:
        """The readable data is gone, or its erasure has started (it must not be used)."""
        return self.state in (RecordState.ERASED, RecordState.ERASURE_PENDING)


@dataclass(frozen=True)
class ErasureReceipt:
    """The outcome of :meth:`IdentityRegistry.erase`.

    ``reason`` is the one recorded in the ledger (on a resumed erasure, the first request's).
    ``resumed`` is true when the event was already in the log (a retry, or a run completing an
    interrupted erasure) and only the destruction was (re)done.
    """

    person_id: str
    reason: ErasureReason
    event_id: str
    log_index: int
    receipt: Receipt
    erased_at: str
    resumed: bool


class IdentityRegistry:
    """Encrypted identity records keyed by pseudonymous person id (see module docstring)."""

    def __init__(self, storage: IdentityStorage, keys: IdentityKeys) -> None:
        self._storage = storage
        self._keys = keys

    @classmethod
    def open(cls, settings: Settings, keys: IdentityKeys) -> IdentityRegistry:
        """The registry that goes with ``settings.database_url`` (tables created if needed)."""
        return cls(open_storage(settings), keys)

    def close(self) -> None:
        """Release the database connection."""
        self._storage.close()

    def __enter__(self) -> IdentityRegistry:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ keyed hashes

    def identity_hmac(self, id_number: str) -> str:
        """The keyed hash events carry for an ID number (``applicant_identity_hmac``).

        The number is canonicalised first (NFKC, stripped, final ``x`` uppercased, check
        character verified, a 15-digit number widened to 18 digits).
        """
        return self._keys.keyed_hash(_ID_LABEL, canonical_id_number(id_number))

    def card_hmac(self, card: str) -> str:
        """The keyed hash events carry for a bank card or account number
        (``account_ref_hmac``, ``bank_account_ref_hmac``)."""
        return self._keys.keyed_hash(_CARD_LABEL, canonical_card(card))

    # ------------------------------------------------------------------ registration

    def register(
        self,
        person_id: str,
        name: str,
        id_number: str,
        bank_card: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> IdentityRef:
        """Store a person's identity; return the hashes events should carry.

        Registering the same person with the same data again returns the same reference
        (a safe retry).

        Raises:
            InvalidIdentityError: a malformed person id, name, ID number, card or ``extra``.
            DuplicateIdentityError: the ID number is live under another person id.
            PersonAlreadyRegisteredError: the person id holds a different identity.
            PersonErasedError: the person id was erased (ids are never reused).
        """
        _check_person_id(person_id)
        document = _document(name, id_number, bank_card, extra)
        ref = IdentityRef(
            person_id,
            self.identity_hmac(id_number),
            None if bank_card is None else self.card_hmac(bank_card),
        )
        for _ in range(_INSERT_ATTEMPTS):
            nonce, ciphertext = self._keys.seal(person_id, canonicalize(document))
            record = StoredRecord(
                person_id, ref.identity_hmac, ref.card_hmac, nonce, ciphertext, _now(),
                None, None, None, None,
            )  # fmt: skip
            if self._storage.insert(record):
                return ref
            existing = self._explain_conflict(ref, document)
            if existing is not None:
                return existing
            # The conflicting row vanished in between (it was erased): try again.
        msg = "registration kept conflicting with concurrent changes; retry"
        raise PersonAlreadyRegisteredError(msg, person_id=person_id)

    def _explain_conflict(self, ref: IdentityRef, document: dict[str, Any]) -> IdentityRef | None:
        """Why an insert was refused, as a typed error; the ref itself for an identical retry;
        ``None`` when the conflicting row is gone."""
        current = self._storage.get(ref.person_id)
        if current is not None:
            if not current.live:
                raise PersonErasedError(
                    f"person {ref.person_id} was erased; a person id is never reused",
                    person_id=ref.person_id,
                )
            if (
                current.identity_hmac == ref.identity_hmac
                and self._document_of(current) == document
            ):
                return ref
            raise PersonAlreadyRegisteredError(
                f"person {ref.person_id} is already registered with a different identity",
                person_id=ref.person_id,
            )
        holder = self._storage.by_identity_hmac(ref.identity_hmac)
        if holder is not None:
            raise DuplicateIdentityError(holder.person_id, ref.person_id)
        return None

    # ------------------------------------------------------------------ reads

    def lookup(self, person_id: str) -> Identity | None:
        """The decrypted identity; ``None`` if unknown or erased (see :meth:`status`).

        Raises:
            IdentityDecryptionError: wrong key, or the stored row was altered or moved.
        """
        record = self._storage.get(person_id)
        if record is None or not record.live:
            return None
        return self._identity(record)

    def status(self, person_id: str) -> IdentityStatus:
        """The life-cycle state of ``person_id`` (no decryption, no personal data)."""
        record = self._storage.get(person_id)
        if record is None:
            return IdentityStatus(person_id, RecordState.UNKNOWN)
        if record.erased_at is not None:
            state = RecordState.ERASED
        elif record.erasure_requested_at is not None:
            state = RecordState.ERASURE_PENDING
        else:
            state = RecordState.REGISTERED
        return IdentityStatus(
            person_id,
            state,
            record.created_at,
            record.erasure_reason,
            record.erased_at,
            record.erasure_event_id,
        )

    def find_by_identity_hmac(self, identity_hmac: str) -> IdentityRef | None:
        """The live registration holding this identity hash (duplicate detection)."""
        record = self._storage.by_identity_hmac(_check_hmac(identity_hmac))
        return _ref(record) if record is not None and record.live else None

    def find_by_card_hmac(self, card_hmac: str) -> list[IdentityRef]:
        """Live registrations paid into this card or account (``AF-PAY-SHARED-ACCOUNT``)."""
        return [r for r in map(_ref, self._storage.by_card_hmac(_check_hmac(card_hmac))) if r]

    def _identity(self, record: StoredRecord) -> Identity:
        document = self._document_of(record)
        assert record.identity_hmac is not None
        return Identity(
            person_id=record.person_id,
            name=document["name"],
            id_number=document["id_number"],
            bank_card=document["bank_card"],
            extra=document["extra"],
            identity_hmac=record.identity_hmac,
            card_hmac=record.card_hmac,
            created_at=record.created_at,
        )

    def _document_of(self, record: StoredRecord) -> dict[str, Any]:
        if record.nonce is None or record.ciphertext is None:
            raise IdentityDecryptionError(
                "the record holds no ciphertext", person_id=record.person_id
            )
        plaintext = self._keys.open(record.person_id, record.nonce, record.ciphertext)
        document: dict[str, Any] = json.loads(plaintext)
        return document

    # ------------------------------------------------------------------ erasure

    def erase(
        self,
        person_id: str,
        reason: ErasureReason | str,
        service: LedgerService,
        admin_signer: EnvelopeSigner,
    ) -> ErasureReceipt:
        """Record ``PersonIdentityErased`` in the ledger, then destroy the readable data.

        Order, and why: (1) mark the row "erasure requested" (nothing destroyed; reads stop
        returning it); (2) append the event; (3) destroy ciphertext, nonce and hashes. The log
        comes first because destroying first and dying before the append would leave an
        unaccountable deletion: data gone with no signed record of who erased it and why, which
        auditors cannot tell from tampering (and which looks like a ghost beneficiary,
        ``AF-PAY-GHOST``). With the log first, a crash leaves at worst a record that the log
        says is erased but whose ciphertext still exists; the mark from step 1 lets
        :meth:`resume_erasures` (or calling :meth:`erase` again) find and finish it.

        Idempotent and resumable: the event is appended only if the person stream does not
        already hold one (a crash after the append, or a concurrent eraser, is detected there),
        and destruction is a no-op on a tombstone. A refusal by the ledger (role, rules) undoes
        the mark, so nothing is lost.

        Raises:
            UnknownPersonError: nothing was ever registered under ``person_id``.
            InvalidIdentityError: ``reason`` is not an :class:`ErasureReason`.
            LedgerError: the ledger refused the event (the record stays readable).
        """
        reason = _reason(reason)
        record = self._storage.get(person_id)
        if record is None:
            raise UnknownPersonError(
                f"no identity is registered as {person_id}", person_id=person_id
            )
        if record.erased_at is None:
            self._storage.request_erasure(person_id, reason.value, _now())
        return self._complete_erasure(person_id, reason, service, admin_signer)

    def resume_erasures(
        self, service: LedgerService, admin_signer: EnvelopeSigner
    ) -> list[ErasureReceipt]:
        """Finish every erasure that was interrupted between its request and the destruction
        (run at start-up or from a periodic job)."""
        return [
            self._complete_erasure(r.person_id, _reason(r.erasure_reason), service, admin_signer)
            for r in self._storage.pending_erasures()
        ]

    def compact(self) -> None:
        """Rewrite the storage (SQLite ``VACUUM``, PostgreSQL ``VACUUM FULL``) so that pages
        freed by erasures are released; run after erasures, off-peak."""
        self._storage.compact()

    def _complete_erasure(
        self,
        person_id: str,
        reason: ErasureReason,
        service: LedgerService,
        admin_signer: EnvelopeSigner,
    ) -> ErasureReceipt:
        entry = _erasure_entry(service, person_id)
        resumed = entry is not None
        if entry is None:
            entry = self._append_erasure(person_id, reason, service, admin_signer)
        recorded = _reason(parse_envelope(entry.state).payload["reason"])
        assert entry.event_id is not None
        erased_at = _now()
        self._storage.destroy(
            person_id, reason=recorded.value, event_id=entry.event_id, at=erased_at
        )
        tombstone = self._storage.get(person_id)
        assert tombstone is not None and tombstone.erased_at is not None
        return ErasureReceipt(
            person_id,
            recorded,
            entry.event_id,
            entry.index,
            service.receipt_for_index(entry.index),
            tombstone.erased_at,
            resumed,
        )

    def _append_erasure(
        self,
        person_id: str,
        reason: ErasureReason,
        service: LedgerService,
        admin_signer: EnvelopeSigner,
    ) -> LogEntry:
        stream = stream_uuid(PERSON_STREAM, person_id)
        raw = admin_signer.sign(
            event_type=ERASED_EVENT,
            stream_type=PERSON_STREAM,
            stream_id=person_id,
            expected_version=service.store.log.stream_version(stream),
            payload={"person_id": person_id, "reason": reason.value},
        )
        try:
            result = service.append(raw)
        except ConcurrencyError:
            # Another process appended to the stream meanwhile: if that was the erasure, use
            # it; otherwise let the caller retry.
            entry = _erasure_entry(service, person_id)
            if entry is None:
                raise
            return entry
        except LedgerError:
            self._storage.cancel_erasure(person_id)  # refused: nothing happened, stay readable
            raise
        entry = service.store.log.entry_by_event_id(result.receipt.event_id)
        assert entry is not None
        return entry


def _erasure_entry(service: LedgerService, person_id: str) -> LogEntry | None:
    """The ``PersonIdentityErased`` entry of the person stream, if one was recorded."""
    entries = service.store.log.stream_entries(stream_uuid(PERSON_STREAM, person_id))
    erased = [e for e in entries if e.event_type == ERASED_EVENT]
    return erased[0] if erased else None


def _document(
    name: str, id_number: str, bank_card: str | None, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The plaintext record (as stored after cleaning; hashed forms are computed separately)."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME_LENGTH:
        raise InvalidIdentityError(f"a name must be 1..{MAX_NAME_LENGTH} characters")
    if extra is not None and not isinstance(extra, Mapping):
        raise InvalidIdentityError("extra must be a JSON object")
    document: dict[str, Any] = {
        "name": name.strip(),
        "id_number": clean_id_number(id_number),
        "bank_card": None if bank_card is None else canonical_card(bank_card),
        "extra": None if extra is None else dict(extra),
    }
    try:
        canonicalize(document)
    except CanonicalizationError as e:
        raise InvalidIdentityError(f"extra is not canonical JSON: {e}") from e
    return document


def _check_person_id(person_id: str) -> None:
    reason = IDENTIFIER(person_id)
    if reason is not None:
        raise InvalidIdentityError(f"person_id {reason}", person_id=str(person_id)[:128])


def _check_hmac(value: str) -> str:
    if not isinstance(value, str) or not _HMAC_HEX.fullmatch(value):
        raise InvalidIdentityError("a keyed hash is 64 lowercase hexadecimal characters")
    return value


def _reason(value: ErasureReason | str | None) -> ErasureReason:
    try:
        return ErasureReason(str(value))
    except ValueError as e:
        choices = ", ".join(r.value for r in ErasureReason)
        raise InvalidIdentityError(f"erasure reason must be one of {choices}") from e


def _ref(record: StoredRecord) -> IdentityRef | None:
    if not record.live or record.identity_hmac is None:
        return None
    return IdentityRef(record.person_id, record.identity_hmac, record.card_hmac)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
