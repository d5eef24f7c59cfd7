"""特困 standards (W9, F-STD): STD-1 and STD-2 floors, STD-3 timing, standards in force.

EX-STD-1 and EX-STD-2 of ``domain.md`` §5.8, with their exact numbers, through the events.
"""

from __future__ import annotations

from typing import Any

from ledger.domain import standards
from ledger.domain.model import SOFT_FINDINGS, DomainEvent, SoftFinding
from ledger.domain.periods import Period
from ledger.domain.programmes import basic_living_floor_fen
from tests.unit.domain.case_builders import (
    World,
    define_programme,
    publish_standard,
    refused,
    standard_payload,
)

EX_STD_1 = {
    "prior_year_consumption_per_capita_fen": 1_800_000,
    "dibao_monthly_standard_fen": 65_000,
}
EX_STD_2 = {
    "prior_year_consumption_per_capita_fen": 1_200_000,
    "dibao_monthly_standard_fen": 60_000,
}


def tekun_world() -> World:
    world = World()
    define_programme(world, "TEKUN")
    define_programme(world, "DIBAO_RURAL", exclusive_with=["TEKUN"])
    return world


def publish_care(
    world: World, standard_id: str, tier: str, amount_fen: int, **overrides: Any
) -> DomainEvent:
    """Publish a care-tier standard of the 特困 care standard (§5.8)."""
    payload = {**standard_payload(standard_id, amount_fen=amount_fen), "component": tier}
    payload.update(overrides)
    return world.emit(
        "BenefitStandardPublished", standard_id, payload, actor="gov-1", on="2023-05-20"
    )


def late_findings(world: World) -> list[SoftFinding]:
    table = world.state.table(SOFT_FINDINGS)
    return [f for f in table.values() if f.finding_code == "AF-STD-LATE"]


# --- EX-STD-1 ---------------------------------------------------------------------------------


def test_ex_std_1_basic_floor_is_10800_yuan_and_10500_is_refused() -> None:
    world = tekun_world()
    assert basic_living_floor_fen(1_800_000, 65_000) == 1_080_000

    with refused("STD-1"):
        publish_standard(world, "std-low", amount_fen=1_050_000, basis=EX_STD_1)

    publish_standard(world, "std-ok", amount_fen=1_080_000, basis=EX_STD_1)


def test_ex_std_1_care_floor_is_1080_yuan_for_every_dependency_tier() -> None:
    world = tekun_world()
    publish_standard(world, "std-basic", amount_fen=1_080_000, basis=EX_STD_1)
    assert standards.care_floor_fen(1_080_000) == 108_000

    for tier in standards.CARE_COMPONENTS:
        with refused("STD-2"):
            publish_care(world, f"std-{tier}-low", tier, 107_999)
        publish_care(world, f"std-{tier}", tier, 108_000)

    found = standards.standards_in_force(
        world.state, world.directory, "TEKUN", "DISPERSED", "township-1", Period(2023, 7)
    )
    assert found.basic is not None
    assert found.basic.amount_fen == 1_080_000
    assert [found.care_fen(t) for t in standards.CARE_COMPONENTS] == [108_000] * 3


# --- EX-STD-2 ---------------------------------------------------------------------------------


def test_ex_std_2_basic_floor_is_9360_yuan_from_the_dibao_standard() -> None:
    world = tekun_world()
    assert basic_living_floor_fen(1_200_000, 60_000) == 936_000

    with refused("STD-1"):
        publish_standard(world, "std-low", amount_fen=935_999, basis=EX_STD_2)

    publish_standard(world, "std-ok", amount_fen=936_000, basis=EX_STD_2)


def test_ex_std_2_care_floor_is_936_yuan_and_the_fiscal_subsidy_8160() -> None:
    world = tekun_world()
    publish_standard(world, "std-basic", amount_fen=936_000, basis=EX_STD_2)

    with refused("STD-2"):
        publish_care(world, "std-care-low", "CARE_PARTIAL", 93_599)
    publish_care(world, "std-care", "CARE_PARTIAL", 93_600)

    assert standards.care_floor_fen(936_000) == 93_600
    assert standards.fiscal_subsidy_fen(936_000, 120_000) == 816_000
    assert standards.fiscal_subsidy_fen(936_000, 1_000_000) == 0


def test_the_care_floor_rounds_up_to_the_fen() -> None:
    assert standards.care_floor_fen(936_001) == 93_601


def test_a_care_standard_without_a_basic_standard_is_refused() -> None:
    world = tekun_world()

    with refused("ENV-8"):
        publish_care(world, "std-care", "CARE_FULL", 200_000)


def test_a_care_standard_does_not_replace_the_basic_standard_in_force() -> None:
    world = tekun_world()
    basic = publish_standard(world, "std-basic", amount_fen=1_080_000, basis=EX_STD_1)
    publish_care(world, "std-care", "CARE_FULL", 108_000)

    found = standards.standards_in_force(
        world.state, world.directory, "TEKUN", "DISPERSED", "village-1", Period(2024, 1)
    )
    assert found.basic is not None
    assert found.basic.event_id == basic.event_id
    assert [s.standard_id for s in standards.standards_published(world.state, "TEKUN", 2023)] == [
        "std-basic",
        "std-care",
    ]


# --- STD-3 (soft) -------------------------------------------------------------------------------


def test_a_standard_published_by_31_may_for_july_raises_no_finding() -> None:
    world = tekun_world()
    payload = standard_payload("std-1", amount_fen=1_080_000)
    payload["published_on"] = "2023-05-31"

    world.emit("BenefitStandardPublished", "std-1", payload, actor="gov-1", on="2023-05-31")

    assert late_findings(world) == []


def test_a_standard_published_in_june_is_accepted_with_af_std_late() -> None:
    world = tekun_world()
    payload = standard_payload("std-1", amount_fen=1_080_000)
    payload["published_on"] = "2023-06-01"

    event = world.emit("BenefitStandardPublished", "std-1", payload, actor="gov-1", on="2023-06-01")

    [finding] = late_findings(world)
    assert (finding.rule, finding.event_id) == ("STD-3", event.event_id)
    assert dict(finding.evidence) == {"published_on": "2023-06-01", "effective_from": "2023-07"}


def test_a_standard_effective_from_another_month_than_july_raises_af_std_late() -> None:
    world = tekun_world()

    publish_standard(world, "std-1", amount_fen=1_080_000, effective_from="2023-08")

    [finding] = late_findings(world)
    assert "not from July" in finding.detail


def test_dibao_standards_are_not_held_to_the_tekun_calendar() -> None:
    world = tekun_world()

    publish_standard(
        world,
        "std-dibao",
        programme_code="DIBAO_RURAL",
        amount_fen=780_000,
        effective_from="2024-01",
    )

    assert late_findings(world) == []
