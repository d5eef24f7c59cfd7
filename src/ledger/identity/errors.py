"""Typed errors of the identity registry (``domain.md`` §6.7).

They subclass :class:`ledger.errors.LedgerError`, so the API and CLI map them like every other
refusal (a ``code``, one sentence, evidence). Evidence never carries personal data: only person
ids, keyed hashes, paths and reasons.
"""

from __future__ import annotations

from ledger.errors import LedgerError


class IdentityError(LedgerError):
    """Base class of the identity registry's refusals."""

    code = "ID"


class IdentityKeyError(IdentityError):
    """A registry key file is missing, unsafe (mode, symlink, not a file) or of the wrong length."""

    code = "ID-KEY"


class InvalidIdentityError(IdentityError):
    """An identity attribute (person id, ID number, bank card, name, extra) is not acceptable."""

    code = "ID-INPUT"


class IdentityDecryptionError(IdentityError):
    """A record does not decrypt: wrong key, tampered ciphertext, or a row moved to another
    person (the AES-GCM tag binds the ciphertext to its person id)."""

    code = "ID-DECRYPT"


class DuplicateIdentityError(IdentityError):
    """The ID number is already registered, live, under another person id.

    Attributes:
        existing_person_id: the person id that holds the ID number.
    """

    code = "ID-DUPLICATE"

    def __init__(self, existing_person_id: str, person_id: str) -> None:
        super().__init__(
            f"this ID number is already registered to person {existing_person_id}",
            existing_person_id=existing_person_id,
            person_id=person_id,
        )
        self.existing_person_id = existing_person_id


class PersonAlreadyRegisteredError(IdentityError):
    """The person id already holds a (different) live identity."""

    code = "ID-EXISTS"


class PersonErasedError(IdentityError):
    """The person id is a tombstone (erased, or erasure in progress); it cannot be reused."""

    code = "ID-ERASED"


class UnknownPersonError(IdentityError):
    """No identity was ever registered under this person id."""

    code = "ID-UNKNOWN"
