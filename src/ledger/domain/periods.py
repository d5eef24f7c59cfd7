"""Months, payment periods and the instalment rule (``domain.md`` §4.2, §5.13).

A benefit period is a calendar month written ``YYYY-MM``. A programme pays every month,
quarter or year; a quarterly payment is labelled with the quarter's first month
(``2024-01``, ``2024-04``, …) and a yearly one with ``YYYY-01``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from ledger.errors import SchemaError

_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

INSTALMENTS_PER_YEAR = {"MONTHLY": 12, "QUARTERLY": 4, "YEARLY": 1}


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _PERIOD.fullmatch(text)
        if m is None:
            raise SchemaError(f"{text!r} is not a period (YYYY-MM)", value=text)
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    def plus(self, months: int) -> Period:
        index = self.year * 12 + (self.month - 1) + months
        return Period(index // 12, index % 12 + 1)

    def months_until(self, other: Period) -> int:
        """Months from ``self`` to ``other`` (negative if ``other`` is earlier)."""
        return (other.year - self.year) * 12 + (other.month - self.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_after(day: date) -> Period:
    """The month after the one containing ``day`` (benefit start, termination effect)."""
    return Period.of(day).plus(1)


def last_payable_period(effective: Period, reason_code: str | None, death: date | None) -> Period:
    """The last month paid after a termination taking effect in ``effective``: the month
    before it, or the month of death when the person died earlier (``domain.md`` §5.13;
    PAY-2). The one rule shared by the business rules and the roster projection.

    >>> str(last_payable_period(Period(2024, 10), "NO_LONGER_ELIGIBLE", None))
    '2024-09'
    >>> str(last_payable_period(Period(2024, 7), "DECEASED", date(2024, 6, 3)))
    '2024-06'
    """
    last = effective.plus(-1)
    if reason_code == "DECEASED" and death is not None:
        return min(last, Period.of(death))
    return last


def parse_date(text: str) -> date:
    """A ``YYYY-MM-DD`` calendar date."""
    if not _DATE.fullmatch(text):
        raise SchemaError(f"{text!r} is not a date (YYYY-MM-DD)", value=text)
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise SchemaError(f"{text!r} is not a calendar date", value=text) from e


def is_payment_period(period: Period, frequency: str) -> bool:
    """Whether ``period`` labels an instalment under ``frequency``."""
    per_year = INSTALMENTS_PER_YEAR[frequency]
    return (period.month - 1) % (12 // per_year) == 0


def instalment_index(period: Period, frequency: str) -> int:
    """0-based instalment number of ``period`` within its year."""
    return (period.month - 1) // (12 // INSTALMENTS_PER_YEAR[frequency])


def instalment_fen(annual_fen: int, frequency: str, index: int) -> int:
    """Amount of instalment ``index`` of an annual standard (§4.2): floor(annual ÷ n) each,
    the remainder in the last, so the year adds up to the fen.

    >>> [instalment_fen(130_000, "MONTHLY", i) for i in (0, 10, 11)]
    [10833, 10833, 10837]
    """
    n = INSTALMENTS_PER_YEAR[frequency]
    if not 0 <= index < n:
        msg = f"instalment {index} out of range for {frequency}"
        raise ValueError(msg)
    base = annual_fen // n
    return base + (annual_fen - base * n if index == n - 1 else 0)


def period_amount_fen(annual_fen: int, frequency: str, period: Period) -> int:
    """The instalment due for ``period`` of an annual standard."""
    return instalment_fen(annual_fen, frequency, instalment_index(period, frequency))


def parse_ratio(text: str) -> Fraction:
    """An exact ratio written ``"p/q"`` or as a decimal string (``"0.30"``); never a float."""
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError) as e:
        raise SchemaError(f"{text!r} is not an exact ratio", value=text) from e
    return value
