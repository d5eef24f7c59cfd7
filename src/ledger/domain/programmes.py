"""Programme configuration and benefit standards (``domain.md`` §3.1.1, §4.1, §4.9, §5.8).

A ``ProgrammeDefined`` event sets a programme's procedure parameters; a later one on the same
programme stream amends it, and the latest is in force. A ``BenefitStandardPublished`` event
fixes the annual amount of a programme and support mode for an admin unit (an organisation
and everything under it) from a month on. Other modules read both through the queries below.

Tables: ``prog.programmes`` (code → :class:`Programme`), ``prog.standards`` (event id →
:class:`Standard`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    Table,
    refuse,
    require,
)
from ledger.domain.periods import Period, parse_date, parse_ratio

PROGRAMMES = "prog.programmes"
STANDARDS = "prog.standards"

# STD-1 floors (N-WB-10): 60 % of last year's consumption, 1.3 times the annual dibao standard.
CONSUMPTION_SHARE = Fraction(3, 5)
DIBAO_MULTIPLE = Fraction(13, 10)


@dataclass(frozen=True, slots=True)
class Programme:
    """The configuration in force for one programme (the latest ``ProgrammeDefined``)."""

    code: str
    lead_org_id: str
    support_modes: frozenset[str]
    payment_frequency: str
    exclusive_with: frozenset[str]
    notice_days: int
    termination_notice_days: int
    spot_check_ratio: Fraction
    confirmation_level: str
    democratic_appraisal: str
    mandatory_materials: frozenset[str]
    notice_waived_reasons: frozenset[str]
    min_investigators: int
    defined_by_event_id: str


@dataclass(frozen=True, slots=True)
class Standard:
    """One published benefit standard; ``event_id`` is what approvals cite as ``standard_ref``."""

    event_id: str
    position: int
    standard_id: str
    programme_code: str
    admin_unit_id: str
    support_mode: str
    component: str
    amount_fen: int
    effective_from: Period
    published_on: date


def _programmes(state: DomainState) -> Table[str, Programme]:
    return state.table(PROGRAMMES)


def _standards(state: DomainState) -> Table[str, Standard]:
    return state.table(STANDARDS)


# --- queries -----------------------------------------------------------------------------


def programme(state: DomainState, code: str) -> Programme | None:
    """The configuration in force for programme ``code``, or ``None`` if never defined."""
    return _programmes(state).get(code)


def require_programme(state: DomainState, code: str) -> Programme:
    """The programme ``code``; refuses with ENV-8 when it was never defined."""
    found = programme(state, code)
    if found is None:
        raise refuse("ENV-8", f"programme {code} has not been defined", programme_code=code)
    return found


def standard(state: DomainState, event_id: str) -> Standard | None:
    """The standard published by event ``event_id``, or ``None``."""
    return _standards(state).get(event_id)


def standard_in_force(  # noqa: PLR0917 - the positional signature other modules call
    state: DomainState,
    directory: Directory,
    programme_code: str,
    support_mode: str,
    org_id: str,
    period: Period,
    component: str = "BASIC_LIVING",
) -> Standard | None:
    """The standard that applies to ``org_id`` in ``period`` for a programme and support mode.

    ``component`` selects which amount (the basic living standard unless a care tier is asked
    for): care standards are published beside the basic one and must not replace it.

    Candidates are the standards published for ``org_id`` itself or for an organisation above
    it, effective from ``period`` or earlier. The latest ``effective_from`` wins; between equal
    months, the later publication (higher log position) wins.
    """
    best: Standard | None = None
    for candidate in _standards(state).values():
        if (
            candidate.programme_code != programme_code
            or candidate.support_mode != support_mode
            or candidate.component != component
            or candidate.effective_from > period
            or not directory.is_within(org_id, candidate.admin_unit_id)
        ):
            continue
        if best is None or (candidate.effective_from, candidate.position) > (
            best.effective_from,
            best.position,
        ):
            best = candidate
    return best


def basic_living_floor_fen(prior_year_consumption_fen: int, dibao_monthly_fen: int) -> int:
    """STD-1 floor of an annual basic-living standard (§5.8): the higher of
    ceil(0.6 * last year's per-capita consumption) and ceil(1.3 * 12 * monthly dibao).

    >>> basic_living_floor_fen(1_800_000, 65_000)
    1080000
    """
    by_consumption = math.ceil(CONSUMPTION_SHARE * prior_year_consumption_fen)
    by_dibao = math.ceil(DIBAO_MULTIPLE * dibao_monthly_fen * 12)
    return max(by_consumption, by_dibao)


# --- ProgrammeDefined ----------------------------------------------------------------------


def decide_programme_defined(_state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The programme stream is named by its code, and the lead organisation exists."""
    p = event.payload
    require(
        p["programme_code"] == event.stream_id,
        "ENV-8",
        "a programme is defined on the stream named by its code",
        programme_code=p["programme_code"],
        stream_id=event.stream_id,
    )
    require(
        directory.org_exists(p["lead_org_id"]),
        "ENV-8",
        f"lead organisation {p['lead_org_id']} is not registered",
        lead_org_id=p["lead_org_id"],
    )


def apply_programme_defined(state: DomainState, event: DomainEvent) -> None:
    """Store the configuration; a later definition replaces (amends) the earlier one."""
    _programmes(state).put(event.payload["programme_code"], _programme_from(event))


def _programme_from(event: DomainEvent) -> Programme:
    p: Mapping[str, Any] = event.payload
    return Programme(
        code=p["programme_code"],
        lead_org_id=p["lead_org_id"],
        support_modes=frozenset(p["support_modes"]),
        payment_frequency=p["payment_frequency"],
        exclusive_with=frozenset(p["exclusive_with"]),
        notice_days=p["notice_days"],
        termination_notice_days=p["termination_notice_days"],
        spot_check_ratio=parse_ratio(p["spot_check_ratio"]),
        confirmation_level=p["confirmation_level"],
        democratic_appraisal=p["democratic_appraisal"],
        mandatory_materials=frozenset(p["mandatory_materials"]),
        notice_waived_reasons=frozenset(p["notice_waived_reasons"]),
        min_investigators=p["min_investigators"],
        defined_by_event_id=event.event_id,
    )


# --- BenefitStandardPublished --------------------------------------------------------------


def decide_standard_published(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A new standard for a defined programme and a registered admin unit, above the STD-1
    floor when the publication states its basis."""
    p = event.payload
    require(
        p["standard_id"] == event.stream_id and event.version == 1,
        "ENV-7",
        f"standard {p['standard_id']} must be published once, on its own stream",
        standard_id=p["standard_id"],
        stream_id=event.stream_id,
        version=event.version,
    )
    require_programme(state, p["programme_code"])
    require(
        directory.org_exists(p["admin_unit_id"]),
        "ENV-8",
        f"admin unit {p['admin_unit_id']} is not a registered organisation",
        admin_unit_id=p["admin_unit_id"],
    )
    basis = p["basis"]
    if basis is not None and p["component"] == "BASIC_LIVING":
        _require_basic_living_floor(p["amount_fen"], basis)


def _require_basic_living_floor(amount_fen: int, basis: Mapping[str, Any]) -> None:
    floor = basic_living_floor_fen(
        basis["prior_year_consumption_per_capita_fen"], basis["dibao_monthly_standard_fen"]
    )
    require(
        amount_fen >= floor,
        "STD-1",
        f"the basic living standard of {amount_fen} fen a year is below the legal floor of "
        f"{floor} fen (60 % of last year's consumption, 1.3 times the dibao standard)",
        amount_fen=amount_fen,
        floor_fen=floor,
        prior_year_consumption_per_capita_fen=basis["prior_year_consumption_per_capita_fen"],
        dibao_monthly_standard_fen=basis["dibao_monthly_standard_fen"],
    )


def apply_standard_published(state: DomainState, event: DomainEvent) -> None:
    """Store the standard under its event id (the reference approvals cite)."""
    p = event.payload
    _standards(state).put(
        event.event_id,
        Standard(
            event_id=event.event_id,
            position=event.position,
            standard_id=p["standard_id"],
            programme_code=p["programme_code"],
            admin_unit_id=p["admin_unit_id"],
            support_mode=p["support_mode"],
            component=p["component"],
            amount_fen=p["amount_fen"],
            effective_from=Period.parse(p["effective_from"]),
            published_on=parse_date(p["published_on"]),
        ),
    )


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register(
        "ProgrammeDefined", apply=apply_programme_defined, decide=decide_programme_defined
    )
    rules.register(
        "BenefitStandardPublished",
        apply=apply_standard_published,
        decide=decide_standard_published,
    )
