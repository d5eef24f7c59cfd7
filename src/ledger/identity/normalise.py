"""Canonical forms of identity attributes, so that one person always hashes the same way.

Duplicate detection compares keyed hashes, so any spelling difference ("x" against "X", a
full-width digit typed by a Chinese input method, a 15-digit first-generation number against
its 18-digit successor) would hide a duplicate. Every value is canonicalised before hashing.
"""

from __future__ import annotations

import re
import unicodedata

from ledger.identity.errors import InvalidIdentityError

__all__ = ["canonical_card", "canonical_id_number", "clean_id_number"]

_ID18 = re.compile(r"[0-9]{17}[0-9X]")
_ID15 = re.compile(r"[0-9]{15}")
_CARD = re.compile(r"[0-9]{8,32}")
_CARD_SEPARATORS = re.compile(r"[\s\-]")
# GB 11643-1999: ISO 7064 MOD 11-2 check character of the 18-digit citizen identity number.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def clean_id_number(raw: str) -> str:
    """The ID number as it is stored: NFKC (full-width digits become ASCII), stripped, with a
    final ``x`` of an 18-character number uppercased; its shape and check digit are checked.

    Raises:
        InvalidIdentityError: not 18 characters (17 digits and a digit or X) with a correct
            check character, nor 15 digits (a first-generation number).
    """
    if not isinstance(raw, str):
        raise InvalidIdentityError("an ID number must be a string")
    text = unicodedata.normalize("NFKC", raw).strip()
    if len(text) == 18:
        text = text[:17] + text[17].upper()
    if _ID15.fullmatch(text):
        return text
    if not _ID18.fullmatch(text):
        raise InvalidIdentityError(
            "an ID number must be 18 characters (17 digits and a digit or X) or 15 digits"
        )
    if _check_char(text[:17]) != text[17]:
        # A typo would otherwise slip past duplicate detection as a "new" person.
        raise InvalidIdentityError("the ID number's check character (GB 11643) is wrong")
    return text


def canonical_id_number(raw: str) -> str:
    """The form that is hashed: :func:`clean_id_number`, with a 15-digit number converted to
    its 18-digit form (century ``19`` inserted, check character appended), so that one person
    registered under the old and the new number is still detected as a duplicate."""
    text = clean_id_number(raw)
    if len(text) == 15:
        body = text[:6] + "19" + text[6:]
        return body + _check_char(body)
    return text


def canonical_card(raw: str) -> str:
    """A bank card or 一卡通 account number: NFKC, spaces and hyphens removed, 8 to 32 digits.

    No Luhn check: 一卡通 payments often go to passbook account numbers, which are not card
    numbers and do not carry a Luhn digit.

    Raises:
        InvalidIdentityError: anything other than 8 to 32 digits remains.
    """
    if not isinstance(raw, str):
        raise InvalidIdentityError("a bank card number must be a string")
    text = _CARD_SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    if not _CARD.fullmatch(text):
        raise InvalidIdentityError("a bank card or account number must be 8 to 32 digits")
    return text


def _check_char(body17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(body17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]
