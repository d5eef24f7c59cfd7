"""Field checks for event payloads: each returns ``None`` when a value is acceptable, else
the reason in words (used by :func:`ledger.domain.catalogue.validate_payload`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1

Check = Callable[[Any], str | None]
"""A field check: returns ``None`` when the value is acceptable, otherwise the reason."""


_DESCRIPTIONS: dict[Check, str] = {}


def _described(check: Check, description: str) -> Check:
    _DESCRIPTIONS[check] = description
    return check


def describe(check: Check) -> str:
    """The rule a check enforces, in words (for the generated event catalogue document)."""
    found = _DESCRIPTIONS.get(check)
    if found is not None:
        return found
    doc = (check.__doc__ or "").strip().splitlines()
    return doc[0] if doc else getattr(check, "__name__", "custom check")


def _identifier(max_len: int = 128) -> Check:
    pattern = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:\-]{{0,{max_len - 1}}}")

    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "must be a string"
        if not pattern.fullmatch(value):
            return f"must match {pattern.pattern}"
        return None

    return _described(check, f"id `[A-Za-z0-9][A-Za-z0-9._:-]*`, ≤ {max_len} chars")


def _text(max_len: int = 512) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "must be a string"
        if not value or len(value) > max_len:
            return f"must be 1..{max_len} characters"
        return None

    return _described(check, f"string of 1..{max_len} characters")


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        if value not in choices:
            return f"must be one of {', '.join(choices)}"
        return None

    return _described(check, "one of " + ", ".join(f"`{c}`" for c in choices))


def _integer(minimum: int = 0, maximum: int = MAX_SAFE_INTEGER) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be an integer"
        if not minimum <= value <= maximum:
            return f"must be between {minimum} and {maximum}"
        return None

    upper = "" if maximum == MAX_SAFE_INTEGER else f"..{maximum}"
    return _described(check, f"integer {minimum}{upper}" if upper else f"integer ≥ {minimum}")


def _boolean(value: Any) -> str | None:
    """true or false"""
    return None if isinstance(value, bool) else "must be true or false"


def _base64_key(value: Any) -> str | None:
    """a 32-byte key in standard base64 (44 characters)"""
    # 32 raw bytes in standard base64 with padding are exactly 44 characters ending in '='.
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9+/]{43}=", value):
        return "must be a 32-byte key in standard base64 (44 characters)"
    return None


def _nullable(inner: Check) -> Check:
    def check(value: Any) -> str | None:
        return None if value is None else inner(value)

    return _described(check, f"{describe(inner)}, or null")


IDENTIFIER = _identifier()
KEY_ID: Check = _identifier(64)

# Public names for the field checks, used by the business catalogue.
identifier = _identifier
text = _text
one_of = _one_of
integer = _integer
boolean = _boolean
nullable = _nullable


def list_of(item: Check, *, min_len: int = 0, max_len: int = 10_000, unique: bool = False) -> Check:
    """A JSON array of ``min_len``..``max_len`` items, each passing ``item``."""

    def check(value: Any) -> str | None:
        if not isinstance(value, list):
            return "must be a list"
        if not min_len <= len(value) <= max_len:
            return f"must have {min_len}..{max_len} items"
        for i, x in enumerate(value):
            reason = item(x)
            if reason is not None:
                return f"[{i}] {reason}"
        if unique and len({repr(x) for x in value}) != len(value):
            return "must not repeat an item"
        return None

    count = f"{min_len}..{max_len}" if max_len != 10_000 else f"at least {min_len}"
    distinct = ", no repeats" if unique else ""
    return _described(check, f"list ({count} items{distinct}) of: {describe(item)}")


def record(fields: Mapping[str, Check]) -> Check:
    """A JSON object with exactly ``fields``, each passing its check."""

    def check(value: Any) -> str | None:
        if not isinstance(value, dict):
            return "must be an object"
        if set(value) != set(fields):
            missing = sorted(set(fields) - set(value))
            extra = sorted(set(value) - set(fields))
            return (
                f"must have exactly the fields {sorted(fields)} (missing {missing}, extra {extra})"
            )
        for name, field_check in fields.items():
            reason = field_check(value[name])
            if reason is not None:
                return f".{name} {reason}"
        return None

    inner = "; ".join(f"`{name}`: {describe(c)}" for name, c in fields.items())
    return _described(check, f"object {{{inner}}}")


def _pattern(regex: str, what: str) -> Check:
    compiled = re.compile(regex)

    def check(value: Any) -> str | None:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            return f"must be {what}"
        return None

    return _described(check, what)


SHA256_HEX = _pattern(r"[0-9a-f]{64}", "a SHA-256 digest in lowercase hex (64 characters)")
PERIOD = _pattern(r"\d{4}-(0[1-9]|1[0-2])", "a period YYYY-MM")
DATE = _pattern(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", "a date YYYY-MM-DD")
RATIO = _pattern(
    r"(0|[1-9]\d{0,8})/[1-9]\d{0,8}|0|1|0\.\d{1,9}|1\.0{1,9}", "an exact ratio p/q or 0.xx"
)
UUID_TEXT = _pattern(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "a lowercase UUID"
)
FEN = _integer()
