"""Benefit standards and their floors (W9, F-STD; STD-2, STD-3; ``domain.md`` §4.9, §5.8).

``programmes`` stores every ``BenefitStandardPublished`` and checks STD-1 (the basic living
floor). This module adds what depends on several standards at once:

* STD-2 (hard): a 特困 care standard (one per dependency tier: CARE_FULL, CARE_PARTIAL,
  CARE_NONE) is at least 10 % of the basic living standard it accompanies, the one in force
  for the same programme, admin unit and support mode in the care standard's first month.
* STD-3 (soft, ``AF-STD-LATE``): a 特困 standard is published before 1 June and takes effect
  in July of the same year (N-WB-9).

Queries give the standards in force for an organisation and month (the revaluation inputs of
W3 step 3.6) and the standards published for a programme and year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    note_soft_finding,
    refuse,
    require,
)
from ledger.domain.periods import Period, parse_date
from ledger.domain.programmes import STANDARDS, Standard, standard_in_force

BASIC_LIVING = "BASIC_LIVING"
CARE_COMPONENTS = ("CARE_FULL", "CARE_PARTIAL", "CARE_NONE")
"""One care standard per dependency tier (fully, partially, not dependent)."""

TEKUN_PROGRAMMES = frozenset({"TEKUN", "WUBAO"})
"""The programmes whose standards follow 004 篇十五 (floors, June publication, July effect)."""

CARE_SHARE = Fraction(1, 10)
"""STD-2 (N-WB-12): care is at least 10 % of the basic living standard."""

PUBLICATION_DEADLINE_MONTH = 6
"""STD-3: published *before* June (so by 31 May) …"""
EFFECTIVE_MONTH = 7
"""… and applied from July."""


@dataclass(frozen=True, slots=True)
class StandardsInForce:
    """The revaluation inputs for one organisation, programme, support mode and month."""

    basic: Standard | None
    care: tuple[tuple[str, Standard], ...]
    """(tier component, standard) for the care tiers that have a standard in force."""

    def care_fen(self, tier: str) -> int | None:
        """The annual care amount of ``tier``, or ``None`` when none is in force."""
        for component, found in self.care:
            if component == tier:
                return found.amount_fen
        return None


# --- formulas ------------------------------------------------------------------------------


def care_floor_fen(basic_year_fen: int) -> int:
    """STD-2 floor of a care standard (§5.8): ceil(0.10 x the annual basic standard);
    a floor rounds up to the fen (§5.0).

    >>> care_floor_fen(1_080_000), care_floor_fen(936_001)
    (108000, 93601)
    """
    return math.ceil(CARE_SHARE * basic_year_fen)


def fiscal_subsidy_fen(basic_year_fen: int, counted_personal_income_fen: int) -> int:
    """What the budget pays on top of the counted personal income (§5.8, N-WB-11).

    >>> fiscal_subsidy_fen(936_000, 120_000)
    816000
    """
    return max(0, basic_year_fen - counted_personal_income_fen)


# --- queries -------------------------------------------------------------------------------


def standards_in_force(  # noqa: PLR0917 - mirrors programmes.standard_in_force
    state: DomainState,
    directory: Directory,
    programme_code: str,
    support_mode: str,
    org_id: str,
    period: Period,
) -> StandardsInForce:
    """The basic and care standards that apply to ``org_id`` in ``period``."""
    care: list[tuple[str, Standard]] = []
    for tier in CARE_COMPONENTS:
        found = standard_in_force(
            state, directory, programme_code, support_mode, org_id, period, tier
        )
        if found is not None:
            care.append((tier, found))
    basic = standard_in_force(
        state, directory, programme_code, support_mode, org_id, period, BASIC_LIVING
    )
    return StandardsInForce(basic=basic, care=tuple(care))


def standards_published(state: DomainState, programme_code: str, year: int) -> list[Standard]:
    """Every standard of ``programme_code`` that takes effect during ``year``, in log order."""
    table = state.table(STANDARDS)
    found = [
        s
        for s in table.values()
        if s.programme_code == programme_code and s.effective_from.year == year
    ]
    return sorted(found, key=lambda s: s.position)


# --- BenefitStandardPublished: STD-2 ---------------------------------------------------------


def decide_care_standard(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A care standard is at least 10 % of the basic standard it goes with (STD-2)."""
    p = event.payload
    if p["component"] not in CARE_COMPONENTS:
        return
    effective = Period.parse(p["effective_from"])
    basic = standard_in_force(
        state,
        directory,
        p["programme_code"],
        p["support_mode"],
        p["admin_unit_id"],
        effective,
        BASIC_LIVING,
    )
    if basic is None:
        raise refuse(
            "ENV-8",
            f"the care standard {p['standard_id']} ({p['component']}) needs a basic living "
            f"standard in force for {p['admin_unit_id']} from {effective}: publish it first",
            standard_id=p["standard_id"],
            admin_unit_id=p["admin_unit_id"],
            effective_from=str(effective),
        )
    floor = care_floor_fen(basic.amount_fen)
    require(
        p["amount_fen"] >= floor,
        "STD-2",
        f"the {p['component']} care standard of {p['amount_fen']} fen a year is below the "
        f"legal floor of {floor} fen (10 % of the basic living standard of "
        f"{basic.amount_fen} fen)",
        amount_fen=p["amount_fen"],
        floor_fen=floor,
        basic_standard_fen=basic.amount_fen,
        basic_standard_ref=basic.event_id,
        component=p["component"],
    )


# --- BenefitStandardPublished: STD-3 (soft) --------------------------------------------------


def late_publication_reasons(published_on: date, effective_from: Period) -> list[str]:
    """Why a 特困 standard breaks STD-3, in words (empty when on time)."""
    reasons: list[str] = []
    deadline = date(effective_from.year, PUBLICATION_DEADLINE_MONTH, 1)
    if published_on >= deadline:
        reasons.append(f"published on {published_on}, not before {deadline}")
    if effective_from.month != EFFECTIVE_MONTH:
        reasons.append(f"effective from {effective_from}, not from July")
    return reasons


def apply_standard_timing(state: DomainState, event: DomainEvent) -> None:
    """Record AF-STD-LATE when a 特困 standard is published late or applied off July."""
    p = event.payload
    if p["programme_code"] not in TEKUN_PROGRAMMES:
        return
    published_on = parse_date(p["published_on"])
    effective = Period.parse(p["effective_from"])
    reasons = late_publication_reasons(published_on, effective)
    if reasons:
        note_soft_finding(
            state,
            event,
            "STD-3",
            "AF-STD-LATE",
            f"standard {p['standard_id']}: " + "; ".join(reasons),
            published_on=str(published_on),
            effective_from=str(effective),
        )


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register(
        "BenefitStandardPublished", apply=apply_standard_timing, decide=decide_care_standard
    )
