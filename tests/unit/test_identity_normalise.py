"""Canonical ID and card numbers: one person must always hash the same way (§6.7)."""

from __future__ import annotations

import pytest

from ledger.identity import InvalidIdentityError
from ledger.identity.normalise import canonical_card, canonical_id_number, clean_id_number

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def full_width(text: str) -> str:
    """What a Chinese input method in full-width mode types (U+FF10.. for digits)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def with_check(body17: str) -> str:
    """GB 11643 check character, computed independently of the code under test."""
    total = sum(int(d) * w for d, w in zip(body17, WEIGHTS, strict=True))
    return body17 + "10X98765432"[total % 11]


def test_the_standard_example_is_valid() -> None:
    assert with_check("11010519491231002") == "11010519491231002X"
    assert clean_id_number("11010519491231002X") == "11010519491231002X"


@pytest.mark.parametrize(
    "raw",
    [
        " 11010519491231002x ",
        "11010519491231002x",
        "\t11010519491231002X\n",
        full_width("11010519491231002X"),
    ],
)
def test_spellings_of_one_number_are_cleaned_alike(raw: str) -> None:
    assert clean_id_number(raw) == "11010519491231002X"


def test_a_15_digit_number_hashes_as_its_18_digit_successor() -> None:
    old = "110105491231002"
    assert clean_id_number(old) == old
    assert canonical_id_number(old) == with_check("11010519491231002")


@pytest.mark.parametrize(
    "raw",
    [
        "110105194912310021",  # wrong check character
        "11010519491231002",  # 17 characters
        "1101051949123100X2",  # X not last
        "11010519491231002Y",
        "",
        "   ",
        "1101 0519 4912 3100 2X",  # internal spaces are not silently dropped from ID numbers
    ],
)
def test_malformed_id_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentityError) as info:
        clean_id_number(raw)
    assert info.value.code == "ID-INPUT"


def test_card_separators_and_full_width_digits_are_removed() -> None:
    assert canonical_card("6222 0200-1234 5678") == "6222020012345678"
    assert canonical_card(full_width("6222020012345678")) == "6222020012345678"


@pytest.mark.parametrize("raw", ["", "1234567", "6222x0200", "1" * 33])
def test_malformed_cards_are_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentityError):
        canonical_card(raw)
