"""RFC 8785 (JCS) canonicalization: published vectors, ES6 numbers, properties, errors."""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.integrity.jcs import (
    MAX_SAFE_INTEGER,
    CanonicalizationError,
    canonicalize,
    canonicalize_checked,
    canonicalize_json_text,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "jcs"
VECTOR_NAMES = sorted(p.stem for p in (VECTORS / "input").glob("*.json"))


def _double(bits_hex: str) -> float:
    return float(struct.unpack(">d", bytes.fromhex(bits_hex.rjust(16, "0")))[0])


def _csv_rows(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (VECTORS / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            bits, expected = line.split(",")
            rows.append((bits, expected))
    return rows


# ---------------------------------------------------------------- published vectors


def test_all_vector_files_present() -> None:
    assert {
        "arrays",
        "french",
        "simpleString",
        "structures",
        "unicode",
        "values",
        "weird",
        "rfc8785-3.2.2-sample",
        "rfc8785-3.2.3-sorting",
    } <= set(VECTOR_NAMES)
    for name in VECTOR_NAMES:
        assert (VECTORS / "output" / f"{name}.json").is_file()


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_published_vector(name: str) -> None:
    source = (VECTORS / "input" / f"{name}.json").read_bytes()
    expected = (VECTORS / "output" / f"{name}.json").read_bytes()
    assert canonicalize_json_text(source) == expected
    assert canonicalize_json_text(source.decode("utf-8")) == expected
    # The canonical form is a fixed point.
    assert canonicalize_json_text(expected) == expected


def test_simple_string_outhex() -> None:
    # cyberphone/json-canonicalization testdata/outhex/simpleString.txt
    outhex = "22 74 68 69 73 20 69 73 20 61 20 74 65 73 74 20 73 74 72 69 6E 67 20 31 32 33 35 22"
    source = (VECTORS / "input" / "simpleString.json").read_bytes()
    assert canonicalize_json_text(source) == bytes.fromhex(outhex)


def test_rfc_3_2_4_utf8_bytes() -> None:
    # RFC 8785 §3.2.4: UTF-8 bytes of the §3.2.2 sample.
    expected = bytes.fromhex(
        "7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72"
        "75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a"
        "5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31"
        "65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37"
        "5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30"
        "30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d"
    )
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    assert canonicalize(value) == expected
    assert (VECTORS / "output" / "rfc8785-3.2.2-sample.json").read_bytes() == expected


def test_rfc_3_2_3_sorting_order() -> None:
    # RFC 8785 §3.2.3: the order of the values the RFC requires.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",  # written "\ud83d\ude00" in the RFC
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    result = orjson.loads(canonicalize(value))
    assert list(result.values()) == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]
    assert canonicalize_checked(value) == canonicalize(value)


@pytest.mark.parametrize(("bits", "expected"), _csv_rows("rfc8785_appendix_b.csv"))
def test_rfc_appendix_b_numbers(bits: str, expected: str) -> None:
    value = _double(bits)
    if expected == "error":
        with pytest.raises(CanonicalizationError):
            canonicalize(value)
        return
    assert canonicalize(value) == expected.encode()
    assert canonicalize([value]) == f"[{expected}]".encode()
    # The expected text parses back to the same double and is its own canonical form.
    assert canonicalize_json_text(expected) == expected.encode()
    assert float(expected) == value or (value == 0 and float(expected) == 0)


@pytest.mark.parametrize(("bits", "expected"), _csv_rows("es6testfile_sample.csv"))
def test_es6_testfile_sample(bits: str, expected: str) -> None:
    assert canonicalize(_double(bits)) == expected.encode()


# ---------------------------------------------------------------- ES6 number formatting

ES6_TABLE = [
    (5e-324, "5e-324"),
    (-5e-324, "-5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (2.2250738585072014e-308, "2.2250738585072014e-308"),
    (1e21, "1e+21"),
    (1e20, "100000000000000000000"),
    (123456789012345680000.0, "123456789012345680000"),
    (1.5e21, "1.5e+21"),
    (1e-7, "1e-7"),
    (1.5e-7, "1.5e-7"),
    (1e-6, "0.000001"),
    (1.5e-6, "0.0000015"),
    (9007199254740992.0, "9007199254740992"),
    (9007199254740993.0, "9007199254740992"),
    (333333333.33333329, "333333333.3333333"),
    (1e23, "1e+23"),
    (-0.0, "0"),
    (0.0, "0"),
    (4.35, "4.35"),
    (4.5, "4.5"),
    (0.002, "0.002"),
    (1e30, "1e+30"),
    (1e-27, "1e-27"),
    (0.1, "0.1"),
    (0.1 + 0.2, "0.30000000000000004"),
    (100.0, "100"),
    (56.0, "56"),
    (-1.0, "-1"),
    (123.456, "123.456"),
    (1e16, "10000000000000000"),
    (12345678901234567890.0, "12345678901234567000"),
    (1.25e-5, "0.0000125"),
    (-3.3333333333333333e-6, "-0.0000033333333333333333"),
    (2.0**-1074 * 3, "1.5e-323"),
    (float(2**63), "9223372036854776000"),
]


@pytest.mark.parametrize(("value", "expected"), ES6_TABLE)
def test_es6_number_table(value: float, expected: str) -> None:
    assert canonicalize(value) == expected.encode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (-1, "-1"),
        (MAX_SAFE_INTEGER, "9007199254740991"),
        (-MAX_SAFE_INTEGER, "-9007199254740991"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
    ],
)
def test_ints_and_literals(value: Any, expected: str) -> None:
    assert canonicalize(value) == expected.encode()
    assert canonicalize_checked(value) == expected.encode()


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_round_trips_and_has_es6_shape(value: float) -> None:
    text = canonicalize(value).decode()
    assert float(text) == value
    if value == 0:
        assert text == "0"
    elif 1e-6 <= abs(value) < 1e21:
        assert "e" not in text
    else:
        mantissa, _, exponent = text.partition("e")
        assert exponent[0] in "+-"
        assert not mantissa.endswith(".")
        assert 1 <= abs(float(mantissa)) < 10
    assert not text.endswith(".0")
    # Shortest digits: Python's repr is shortest-round-trip, so digit counts agree.
    digits = repr(abs(value)).split("e")[0].replace(".", "").strip("0")
    ours = text.lstrip("-").split("e")[0].replace(".", "").strip("0")
    assert ours == digits


# ---------------------------------------------------------------- strings and sorting


def test_string_escaping_rules() -> None:
    for code in range(0x20):
        short = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}
        expected = short.get(code, f"\\u{code:04x}")
        assert canonicalize(chr(code)) == f'"{expected}"'.encode()
    assert canonicalize('"') == b'"\\""'
    assert canonicalize("\\") == b'"\\\\"'
    for raw in ["/", "\x7f", "\x80", "\x9f", "\u2028", "\u2029", "\ufeff", "\uffff", "\U0010ffff"]:
        assert canonicalize(raw) == b'"' + raw.encode() + b'"'
    assert canonicalize("\u1e0d\u0307") == '"\u1e0d\u0307"'.encode()  # no normalisation


def test_utf16_order_differs_from_code_point_order() -> None:
    value = {"\ue000": 1, "\U00010000": 2, "\uffff": 3, "\ud7ff": 4}
    expected = '{"\ud7ff":4,"\U00010000":2,"\ue000":1,"\uffff":3}'.encode()
    assert canonicalize(value) == expected
    assert canonicalize_checked(value) == expected


def test_nested_structures_and_tuples() -> None:
    value = {"b": [1, {"z": None, "a": (True, "x")}], "a": {}}
    assert canonicalize(value) == b'{"a":{},"b":[1,{"a":[true,"x"],"z":null}]}'  # type: ignore[arg-type]
    assert canonicalize_checked(value) == canonicalize(value)  # type: ignore[arg-type]


# ---------------------------------------------------------------- orjson assumptions


def test_orjson_behaviour_assumed_by_fast_path() -> None:
    """Pin the orjson behaviour documented in jcs.py; a change must fail loudly."""
    for code in range(0x20):
        assert orjson.dumps(chr(code)) == canonicalize(chr(code))
    for raw in ['"', "\\", "/", "\x7f", "\x80", "\u2028", "\u2029", "\U0001f600"]:
        assert orjson.dumps(raw) == canonicalize(raw)
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps("\ud800")
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps(2**53, option=orjson.OPT_STRICT_INTEGER)
    assert orjson.dumps(MAX_SAFE_INTEGER, option=orjson.OPT_STRICT_INTEGER) == b"9007199254740991"
    # Code point order, not UTF-16 order: why the fast path needs its fallback.
    assert orjson.dumps({"\U00010000": 1, "\ue000": 2}, option=orjson.OPT_SORT_KEYS) == (
        '{"\ue000":2,"\U00010000":1}'.encode()
    )


# ---------------------------------------------------------------- properties

_text = st.text(st.characters(exclude_categories=("Cs",)))
_checked_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | _text
)
checked_values = st.recursive(
    _checked_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_text, children, max_size=5),
    max_leaves=25,
)
_bmp_edge_text = st.text(
    st.sampled_from(
        ["a", "\x00", "\x1f", "\x7f", "\ud7ff", "\ue000", "\uffff", "\U00010000", "\U0010ffff"]
    ),
    max_size=4,
)
edge_values = st.recursive(
    _checked_scalars | _bmp_edge_text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_bmp_edge_text | _text, children, max_size=6)
    ),
    max_leaves=20,
)
any_values = st.recursive(
    _checked_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_text, children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300)
@given(checked_values)
def test_checked_equals_full(value: Any) -> None:
    assert canonicalize_checked(value) == canonicalize(value)


@settings(max_examples=300)
@given(edge_values)
def test_checked_equals_full_on_sorting_edge_cases(value: Any) -> None:
    assert canonicalize_checked(value) == canonicalize(value)


@given(checked_values)
def test_idempotent_through_orjson(value: Any) -> None:
    once = canonicalize(value)
    assert canonicalize(orjson.loads(once)) == once
    assert canonicalize_json_text(once) == once


@given(any_values)
def test_idempotent_through_json_text(value: Any) -> None:
    once = canonicalize(value)
    assert canonicalize_json_text(once) == once
    assert canonicalize_json_text(orjson.dumps(value)) == once


@given(st.dictionaries(_text, st.integers(-10, 10), max_size=8))
def test_member_order_does_not_matter(value: dict[str, int]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert canonicalize(reordered) == canonicalize(value)  # type: ignore[arg-type]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (math.nan, ""),
        (math.inf, ""),
        (-math.inf, ""),
        ({"a": [1, math.nan]}, "/a/1"),
        ("\ud800", ""),
        ({"k": "ok\udfff"}, "/k"),
        ({"a\ud800": 1}, "/a\ud800"),
        (2**53, ""),
        (-(2**53), ""),
        ([0, 10**30], "/1"),
        ({1: "x"}, "/1"),
        ({"x": {None: 1}}, "/x/None"),
        ({"a/b~c": {"d": b"bytes"}}, "/a~1b~0c/d"),
        (object(), ""),
        ({"s": {1, 2}}, "/s"),
    ],
)
def test_canonicalize_errors(value: Any, path: str) -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize(value)
    assert info.value.path == path
    assert isinstance(info.value, ValueError)
    # The fast path reports the same errors (it falls back), except for floats, which its
    # precondition excludes (orjson would write NaN as null).
    if "nan" not in repr(value) and "inf" not in repr(value):
        with pytest.raises(CanonicalizationError) as fast:
            canonicalize_checked(value)
        assert fast.value.path == path


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"a":1,"a":2}', "/a"),
        ('{"x":[{"b":1,"c":2,"b":3}]}', "/x/0/b"),
        ('{"\\u0061":1,"a":2}', "/a"),  # duplicates after escape decoding
        ("NaN", ""),
        ("[Infinity]", ""),
        ("[-Infinity]", ""),
        ("1e400", ""),
        ("[1" + "0" * 400 + "]", "/0"),
        ('"\\ud800"', ""),
        ('{"a":"\\udc00x"}', "/a"),
        ("{", ""),
        ("[1,]", ""),
        ("", ""),
        ("\ufeff{}", ""),
    ],
)
def test_canonicalize_json_text_errors(text: str, path: str) -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize_json_text(text)
    assert info.value.path == path


def test_json_text_rejects_invalid_utf8() -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize_json_text(b'"\xff"')


def test_json_text_numbers_are_doubles() -> None:
    assert canonicalize_json_text("9007199254740993") == b"9007199254740992"
    assert canonicalize_json_text("[1E2, 1.0, -0, 0.000001, 1e-7]") == b"[100,1,0,0.000001,1e-7]"
    assert canonicalize_json_text("100000000000000000000000") == b"1e+23"


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(CanonicalizationError):
        canonicalize(deep)
    with pytest.raises(CanonicalizationError):
        canonicalize_json_text("[" * 100_000 + "]" * 100_000)


def test_error_message_and_path_attribute() -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize({"a": {"b": math.inf}})
    assert info.value.path == "/a/b"
    assert "/a/b" in str(info.value)
    assert "inf" in info.value.message
