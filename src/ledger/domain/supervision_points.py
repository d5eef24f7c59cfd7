"""Criticisms, commendations and media exposure converted into points (W14, §3.4, §5.3, §5.6).

A scheme prices a criticism or commendation by the **issuer's level**; which price list applies
depends on the scheme, so each list is configuration (a :class:`PointsSchedule`), not a
constant buried in a rule. Three lists come from the seeds:

* :data:`LEVEL_SCHEDULE` (F-LEVEL, 004 篇五, N-SV-26/27): ±1 district, ±2 city, ±3 province,
  ±4 national, per instance and item.
* :data:`INSPECTION_SCHEDULE` (F-INSP item deductions, 004 篇三, N-SV-9..11): -2 for a
  criticism by the city party committee or government, -1 for a city (sanitation) office
  bulletin, -1 for a media exposure.
* :data:`PENALTY_SCHEDULE_002` (F-PEN, 002): -2 provincial or national, -1 city or provincial
  line department, 0 otherwise.

:func:`points_for` returns a **signed** adjustment (negative = deduction, positive = bonus),
as F-LEVEL writes ``adj(e)``; a ``PenaltyPointsApplied.points`` magnitude is its negation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

CRITICISM = "CriticismIssued"
COMMENDATION = "CommendationIssued"
MEDIA_EXPOSURE = "MediaExposureRecorded"

_NATIONAL = ("NATIONAL_MINISTRY",)
_PROVINCE = ("PROVINCIAL_PARTY_COMMITTEE", "PROVINCIAL_GOVERNMENT", "PROVINCIAL_LINE_DEPARTMENT")
_CITY = ("CITY_PARTY_COMMITTEE", "CITY_GOVERNMENT", "CITY_OFFICE")
_DISTRICT = ("DISTRICT",)


@dataclass(frozen=True, slots=True)
class PointsSchedule:
    """One published price list: ``(event_type, issuer_level or None)`` → signed points.

    ``None`` as the level prices an event whatever its issuer (a media exposure has none).
    ``by_item`` overrides a price for a named item: ``(event_type, issuer_level, item)``.
    Anything not listed is worth 0 (the scheme does not price it, §5.3 "0 otherwise").
    """

    name: str
    by_level: Mapping[tuple[str, str | None], Decimal]
    by_item: Mapping[tuple[str, str | None, str], Decimal] = field(default_factory=dict)


def _levels(
    event_type: str, levels: tuple[str, ...], points: int
) -> dict[tuple[str, str | None], Decimal]:
    return {(event_type, level): Decimal(points) for level in levels}


def _level_schedule() -> PointsSchedule:
    prices: dict[tuple[str, str | None], Decimal] = {}
    for levels, points in ((_DISTRICT, 1), (_CITY, 2), (_PROVINCE, 3), (_NATIONAL, 4)):
        prices |= _levels(COMMENDATION, levels, points)
        prices |= _levels(CRITICISM, levels, -points)
    return PointsSchedule("F-LEVEL", prices)


LEVEL_SCHEDULE = _level_schedule()
"""004 篇五 (N-SV-26/27). A street office's own criticism is not priced `[I]`."""

INSPECTION_SCHEDULE = PointsSchedule(
    "F-INSP",
    _levels(CRITICISM, ("CITY_PARTY_COMMITTEE", "CITY_GOVERNMENT"), -2)
    | _levels(CRITICISM, ("CITY_OFFICE",), -1)
    | {(MEDIA_EXPOSURE, None): Decimal(-1)},
)
"""004 篇三 (N-SV-9..11). "Other" deductions are discretionary: they cite a finding."""

PENALTY_SCHEDULE_002 = PointsSchedule(
    "F-PEN",
    _levels(CRITICISM, ("PROVINCIAL_PARTY_COMMITTEE", "PROVINCIAL_GOVERNMENT", *_NATIONAL), -2)
    | _levels(CRITICISM, ("CITY_PARTY_COMMITTEE", "CITY_GOVERNMENT"), -1)
    | _levels(CRITICISM, ("PROVINCIAL_LINE_DEPARTMENT",), -1),
)
"""002 處分扣分 (§5.3). Applies only to criticisms related to livelihood targets (the caller
filters on ``related_to``)."""


def points_for(
    event_type: str,
    issuer_level: str | None,
    item: str | None = None,
    *,
    schedule: PointsSchedule = LEVEL_SCHEDULE,
) -> Decimal:
    """The signed points ``schedule`` gives one criticism, commendation or media exposure.

    >>> points_for("CriticismIssued", "CITY_GOVERNMENT")
    Decimal('-2')
    >>> points_for("CommendationIssued", "NATIONAL_MINISTRY")
    Decimal('4')
    >>> points_for("MediaExposureRecorded", None, schedule=INSPECTION_SCHEDULE)
    Decimal('-1')
    """
    if item is not None:
        # An item-specific price wins over the level's general price.
        for level in (issuer_level, None):
            priced = schedule.by_item.get((event_type, level, item))
            if priced is not None:
                return priced
    for level in (issuer_level, None):
        priced = schedule.by_level.get((event_type, level))
        if priced is not None:
            return priced
    return Decimal(0)


def schedule_from_config(name: str, entries: list[Mapping[str, object]]) -> PointsSchedule:
    """A schedule from published configuration rows
    ``{"event_type", "issuer_levels": [...] or [], "item": str | None, "points": "-2"}``.

    An empty ``issuer_levels`` prices the event type whatever its issuer.
    """
    by_level: dict[tuple[str, str | None], Decimal] = {}
    by_item: dict[tuple[str, str | None, str], Decimal] = {}
    for entry in entries:
        event_type = str(entry["event_type"])
        points = Decimal(str(entry["points"]))
        raw_levels = entry.get("issuer_levels") or []
        levels: list[str | None] = (
            [str(x) for x in raw_levels] if isinstance(raw_levels, list) else []
        )
        item = entry.get("item")
        for level in levels or [None]:
            if item is None:
                by_level[(event_type, level)] = points
            else:
                by_item[(event_type, level, str(item))] = points
    return PointsSchedule(name, by_level, by_item)
