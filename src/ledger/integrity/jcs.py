"""RFC 8785 JSON Canonicalization Scheme (JCS).

The canonical form of a JSON value is the byte string that every conforming
implementation produces for it, so it can be hashed and signed.  The rules
(RFC 8785, section 3.2) are:

* **Data model** (§3.1): I-JSON (RFC 7493).  Numbers are IEEE-754 doubles, so
  NaN and the infinities are errors, and so are Python ints outside the range
  that a double holds exactly, ``|n| <= 2**53 - 1``.  Strings must be valid
  Unicode: lone surrogates are errors.  Object member names must be unique
  (§3.1 / RFC 7493 §2.3) and, over Python values, must be ``str``.
* **Whitespace** (§3.2.1): none between tokens.
* **Literals** (§3.2.2.1): ``null``, ``true``, ``false``.
* **Strings** (§3.2.2.2): only ``"``, ``\\`` and U+0000..U+001F are escaped;
  U+0008, U+0009, U+000A, U+000C and U+000D use the short forms ``\\b \\t \\n
  \\f \\r``, the other controls ``\\u00xx`` with lowercase hex.  Every other
  character (including ``/``, DEL U+007F, U+2028 and non-BMP characters) is
  emitted as raw UTF-8.  No Unicode normalisation is applied (§3.1).
* **Numbers** (§3.2.2.3): the ECMAScript ``Number.prototype.toString``
  algorithm (ECMA-262 §7.1.12.1, "Number::toString"): the shortest digit
  string that round-trips, plain notation for ``1e-6 <= |x| < 1e21``, otherwise
  exponent notation ``d.ddde+NN`` / ``de-NN``; ``-0`` is written ``0``.
* **Objects** (§3.2.3): members sorted by their names compared as arrays of
  UTF-16 code units (not code points, not locale), recursively; arrays keep
  their order.
* **Encoding** (§3.2.4): the result is UTF-8.

Three entry points:

``canonicalize(value)``
    The complete, pure-Python implementation over Python values.
``canonicalize_json_text(text)``
    Parses JSON text the way RFC 8785 expects (every number becomes a double,
    duplicate member names are rejected) and canonicalizes it.  This is what
    the RFC's published test vectors exercise.
``canonicalize_checked(value)``
    A fast path through ``orjson`` for values already validated to hold only
    ``str``, ``bool``, ``None``, ints within ±(2**53 - 1), lists and dicts with
    ``str`` keys (no floats).  It falls back to ``canonicalize`` whenever the
    output of ``orjson`` could differ from RFC 8785.
"""

from __future__ import annotations

import json
import math
import re
from typing import TypeAlias

import orjson

__all__ = [
    "MAX_SAFE_INTEGER",
    "CanonicalizationError",
    "JSONValue",
    "canonicalize",
    "canonicalize_checked",
    "canonicalize_json_text",
]

JSONValue: TypeAlias = (
    bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None
)

#: Largest integer that an IEEE-754 double holds exactly and I-JSON allows
#: (RFC 7493 §2.2): 2**53 - 1.
MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalizationError(ValueError):
    """A value cannot be canonicalized; ``path`` is a JSON Pointer to it."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{message} (at {path or '/'})" if path else message)
        self.path = path
        self.message = message


class _Failure(Exception):  # noqa: N818 - internal control flow, never escapes
    """Internal error that collects the path segments while unwinding."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.segments: list[str] = []


def _pointer(segments: list[str]) -> str:
    # Segments were appended innermost first while unwinding (RFC 6901 escaping).
    return "".join(
        "/" + s.replace("~", "~0").replace("/", "~1") for s in reversed(segments)
    )


# --------------------------------------------------------------------------
# Strings (§3.2.2.2)

_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_ESCAPES = {chr(c): _SHORT_ESCAPES.get(chr(c), f"\\u{c:04x}") for c in range(0x20)}
_ESCAPES.update(_SHORT_ESCAPES)
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def _escape_match(match: re.Match[str]) -> str:
    return _ESCAPES[match.group()]


def _string(value: str) -> bytes:
    try:
        raw = value.encode("utf-8")  # strict: a lone surrogate raises here
    except UnicodeEncodeError as exc:
        raise _Failure(
            f"string contains a lone surrogate U+{ord(value[exc.start]):04X}"
        ) from None
    if _NEEDS_ESCAPE.search(value) is None:
        return b'"' + raw + b'"'
    return b'"' + _NEEDS_ESCAPE.sub(_escape_match, value).encode("utf-8") + b'"'


# --------------------------------------------------------------------------
# Numbers (§3.2.2.3, ECMA-262 Number::toString)


def _number(value: float) -> str:
    """Serialize a finite double exactly as ECMAScript ``String(value)``.

    ``repr`` gives the shortest digit string that round-trips and, among
    equally short candidates, the one closest to the exact value (ties to
    even), which is what ECMA-262 §7.1.12.1 and its Note 2 ask for.  Only the
    layout of those digits differs from ECMAScript, and is redone here.
    """
    if math.isnan(value) or math.isinf(value):
        raise _Failure(f"{value!r} is not a JSON number (RFC 8785 §3.2.2.3)")
    if value == 0:
        return "0"  # also -0.0
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    # value = 0.<digits> * 10**n
    n = len(int_part) + (int(exp_text) if exp_text else 0)
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exponent = n - 1
    exp_str = ("+" if exponent >= 0 else "-") + str(abs(exponent))
    if k == 1:
        return sign + digits + "e" + exp_str
    return sign + digits[0] + "." + digits[1:] + "e" + exp_str


def _integer(value: int) -> bytes:
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        # Every such int is an exact double whose ES6 form is its plain digits.
        return str(value).encode("ascii")
    raise _Failure(
        f"integer {value} is outside ±(2**53 - 1) and is not I-JSON (RFC 7493 §2.2)"
    )


# --------------------------------------------------------------------------
# Structure


def _utf16_key(name: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like arrays of UTF-16 code units.
    return name.encode("utf-16-be", "surrogatepass")


def _encode(value: object, out: list[bytes]) -> None:
    # Exact type checks first: bool is a subclass of int and must not become 1.
    if value is None:
        out.append(b"null")
    elif value is True:
        out.append(b"true")
    elif value is False:
        out.append(b"false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(_integer(value))
    elif isinstance(value, float):
        out.append(_number(value).encode("ascii"))
    elif isinstance(value, dict):
        _encode_object(value, out)
    elif isinstance(value, list | tuple):
        out.append(b"[")
        for index, item in enumerate(value):
            if index:
                out.append(b",")
            try:
                _encode(item, out)
            except _Failure as failure:
                failure.segments.append(str(index))
                raise
        out.append(b"]")
    else:
        raise _Failure(f"{type(value).__name__} is not a JSON value")


def _encode_object(value: dict[object, object], out: list[bytes]) -> None:
    names: list[str] = []
    for name in value:
        if not isinstance(name, str):
            failure = _Failure(
                f"object member name {name!r} is a {type(name).__name__}, not a str"
            )
            failure.segments.append(repr(name))
            raise failure
        names.append(name)
    try:
        names.sort(key=_utf16_key)
    except UnicodeEncodeError:  # pragma: no cover - surrogatepass never fails
        raise _Failure("unsortable member names") from None
    out.append(b"{")
    for index, name in enumerate(names):
        if index:
            out.append(b",")
        try:
            out.append(_string(name))
            out.append(b":")
            _encode(value[name], out)
        except _Failure as failure:
            failure.segments.append(name)
            raise
    out.append(b"}")


def canonicalize(value: JSONValue) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a Python JSON value.

    Raises :class:`CanonicalizationError` for NaN/Infinity, ints outside
    ±(2**53 - 1), lone surrogates, non-``str`` member names and non-JSON
    types.  Tuples are accepted as arrays.
    """
    out: list[bytes] = []
    try:
        _encode(value, out)
    except _Failure as failure:
        raise CanonicalizationError(failure.message, _pointer(failure.segments)) from None
    except RecursionError:
        raise CanonicalizationError("value is nested too deeply") from None
    return b"".join(out)


# --------------------------------------------------------------------------
# JSON text input


class _Members(list[tuple[str, object]]):
    """Member list of a parsed object, kept until duplicates are checked."""


def _reject_constant(name: str) -> object:
    raise _Failure(f"{name} is not valid JSON (RFC 8259 §6)")


def _build(value: object) -> JSONValue:
    if isinstance(value, _Members):
        result: dict[str, JSONValue] = {}
        for name, item in value:
            if name in result:
                failure = _Failure(
                    f"duplicate object member name {name!r} (RFC 8785 §3.1, RFC 7493 §2.3)"
                )
                failure.segments.append(name)
                raise failure
            try:
                result[name] = _build(item)
            except _Failure as failure:
                failure.segments.append(name)
                raise
        return result
    if isinstance(value, list):
        items: list[JSONValue] = []
        for index, item in enumerate(value):
            try:
                items.append(_build(item))
            except _Failure as failure:
                failure.segments.append(str(index))
                raise
        return items
    assert value is None or isinstance(value, bool | float | str)
    return value


def canonicalize_json_text(text: bytes | str) -> bytes:
    """Parse JSON text as RFC 8785 requires and return its canonical form.

    Bytes must be UTF-8 (RFC 8259 §8.1).  Every number is read as an IEEE-754
    double, integers included (so ``9007199254740993`` becomes
    ``9007199254740992``); numbers that overflow a double, ``NaN``/``Infinity``
    literals and duplicate member names raise :class:`CanonicalizationError`.
    """
    if isinstance(text, bytes | bytearray | memoryview):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CanonicalizationError(f"JSON text is not UTF-8: {exc}") from None
    try:
        parsed = json.loads(
            text,
            parse_int=float,
            parse_float=float,
            parse_constant=_reject_constant,
            object_pairs_hook=_Members,
        )
        value = _build(parsed)
    except _Failure as failure:
        raise CanonicalizationError(failure.message, _pointer(failure.segments)) from None
    except json.JSONDecodeError as exc:
        raise CanonicalizationError(f"invalid JSON text: {exc}") from None
    except RecursionError:
        raise CanonicalizationError("JSON text is nested too deeply") from None
    return canonicalize(value)


# --------------------------------------------------------------------------
# Fast path
#
# What orjson (checked against orjson 3.x; see tests/unit/test_jcs.py, which
# asserts each point and runs a property test against ``canonicalize``) does:
#
# * Control characters U+0000..U+001F: short escapes \b \t \n \f \r and
#   lowercase \u00xx for the rest -- byte-identical to §3.2.2.2.
# * '"' and '\\' are escaped as \" and \\; "/" is NOT escaped; DEL U+007F,
#   U+0080..U+009F, U+2028/U+2029 and everything else are raw UTF-8 -- as
#   §3.2.2.2 requires.
# * Lone surrogates raise orjson.JSONEncodeError; so do ints beyond 64 bits
#   and non-str dict keys (including str subclasses as keys).  Any orjson error
#   makes us fall back to ``canonicalize`` which raises the proper error.
# * Ints are plain decimal digits, like ES6 for |n| <= 2**53 - 1.  With
#   OPT_STRICT_INTEGER orjson raises for ints outside ±(2**53 - 1) (checked
#   empirically: 2**53 - 1 passes, 2**53 raises), so they fall back too and get
#   the proper error.  Floats are excluded by the precondition because
#   orjson's float format is not ECMAScript's (e.g. 1e+21 vs 1e21) and they
#   cannot be detected cheaply in the output.
# * OPT_SORT_KEYS orders names by their UTF-8 bytes, i.e. by code point.  Code
#   point order and UTF-16 code-unit order (§3.2.3) disagree only when a
#   supplementary character (U+10000.., a surrogate pair in UTF-16, 4-byte
#   UTF-8 with lead byte 0xF0..0xF4) is compared with a character in
#   U+E000..U+FFFF (3-byte UTF-8 with lead byte 0xEE or 0xEF).  Lead bytes
#   never occur as continuation bytes (0x80..0xBF), so if the output lacks
#   either kind of lead byte the orders agree everywhere and orjson's output
#   is canonical.  Otherwise we conservatively use the slow path.


_SUPPLEMENTARY_LEAD = re.compile(b"[\\xf0-\\xf4]")
_HIGH_BMP_LEAD = re.compile(b"[\\xee\\xef]")


def canonicalize_checked(value: JSONValue) -> bytes:
    """Fast canonical form of an already validated value (no floats).

    Precondition: ``value`` holds only ``str``, ``bool``, ``None``, ``int``
    within ±(2**53 - 1), lists/tuples and dicts with ``str`` keys.  This is
    NOT fully re-checked (floats, and other types orjson happens to serialize
    such as enums or dataclasses, are not rejected; too-large ints are); the
    result equals
    ``canonicalize(value)`` for every value meeting the precondition.
    """
    try:
        out = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER)
    except (orjson.JSONEncodeError, TypeError):
        return canonicalize(value)
    if (
        not out.isascii()
        and _SUPPLEMENTARY_LEAD.search(out) is not None
        and _HIGH_BMP_LEAD.search(out) is not None
    ):
        return canonicalize(value)
    return out
