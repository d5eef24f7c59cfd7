"""Payload schema of the coverage targets (see :mod:`ledger.domain.coverage_targets`)."""

from __future__ import annotations

from ledger.domain.catalogue import EventSpec, Kind
from ledger.domain.fields import DATE, IDENTIFIER, RATIO, integer, list_of, text

COVERAGE_TARGET_EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        "CoverageTargetsPublished",
        1,
        "coverage_targets",
        Kind.CONFIG,
        frozenset({"government_approver"}),
        {
            "target_set_id": IDENTIFIER,
            "year": integer(2000, 2100),
            "programme_codes": list_of(IDENTIFIER, min_len=1, max_len=10, unique=True),
            "centralised_rate_min": RATIO,
            "published_on": DATE,
            "basis": text(200),
        },
        "The year's coverage targets of the named programmes: the least share of supported "
        "people in centralised support per township by year end (N-WB-7: 40 %). The coverage "
        "read model compares every township with the target in force.",
    ),
)
