"""The identity registry: personal data kept out of the immutable log (``domain.md`` §6.7).

See :mod:`ledger.identity.registry` for the API and the erasure protocol,
:mod:`ledger.identity.keys` for the keys and the cryptography, and
:mod:`ledger.identity.storage` for where records are kept.
"""

from ledger.identity.errors import (
    DuplicateIdentityError,
    IdentityDecryptionError,
    IdentityError,
    IdentityKeyError,
    InvalidIdentityError,
    PersonAlreadyRegisteredError,
    PersonErasedError,
    UnknownPersonError,
)
from ledger.identity.keys import ENCRYPTION_KEY_FILE, HMAC_KEY_FILE, IdentityKeys
from ledger.identity.registry import (
    ErasureReason,
    ErasureReceipt,
    Identity,
    IdentityRef,
    IdentityRegistry,
    IdentityStatus,
    RecordState,
)
from ledger.identity.storage import identity_db_path

__all__ = [
    "ENCRYPTION_KEY_FILE",
    "HMAC_KEY_FILE",
    "DuplicateIdentityError",
    "ErasureReason",
    "ErasureReceipt",
    "Identity",
    "IdentityDecryptionError",
    "IdentityError",
    "IdentityKeyError",
    "IdentityKeys",
    "IdentityRef",
    "IdentityRegistry",
    "IdentityStatus",
    "InvalidIdentityError",
    "PersonAlreadyRegisteredError",
    "PersonErasedError",
    "RecordState",
    "UnknownPersonError",
    "identity_db_path",
]
