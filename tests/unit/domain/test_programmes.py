"""Programme configuration, benefit standards (STD-1) and the undoable domain state."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ledger.domain import programmes
from ledger.domain.model import DomainState
from ledger.domain.periods import Period
from tests.unit.domain.case_builders import (
    World,
    define_programme,
    only_case_rules,
    programme_payload,
    publish_standard,
    refused,
    seeded_world,
)


def in_force(world: World, org: str, period: str, mode: str = "DISPERSED") -> str | None:
    found = programmes.standard_in_force(
        world.state, world.directory, "TEKUN", mode, org, Period.parse(period)
    )
    return None if found is None else found.standard_id


def test_a_programme_definition_is_stored_with_an_exact_ratio() -> None:
    world = World()

    define_programme(world)

    tekun = programmes.programme(world.state, "TEKUN")
    assert tekun is not None
    assert tekun.spot_check_ratio == Fraction(3, 10)
    assert tekun.notice_days == 7
    assert tekun.mandatory_materials >= {"WRITTEN_APPLICATION", "TRUTHFULNESS_PLEDGE"}


def test_a_later_definition_amends_the_programme() -> None:
    world = World()
    define_programme(world)

    amended = define_programme(world, notice_days=10)

    tekun = programmes.programme(world.state, "TEKUN")
    assert tekun is not None
    assert tekun.notice_days == 10
    assert tekun.defined_by_event_id == amended.event_id


def test_a_programme_is_defined_on_its_own_stream() -> None:
    world = World()
    payload = {**programme_payload(), "programme_code": "WUBAO"}

    with refused("ENV-8"):
        world.emit("ProgrammeDefined", "TEKUN", payload, actor="admin-1")


def test_a_programme_needs_a_registered_lead_organisation() -> None:
    with refused("ENV-8"):
        define_programme(World(), lead_org_id="nowhere")


def test_seed_standards_are_1300_and_2640_yuan_a_year() -> None:
    world, seeded = seeded_world()

    dispersed = programmes.standard(world.state, seeded.dispersed)
    centralised = programmes.standard(world.state, seeded.centralised)

    assert dispersed is not None and dispersed.amount_fen == 130_000
    assert centralised is not None and centralised.amount_fen == 264_000


def test_a_standard_needs_a_defined_programme() -> None:
    with refused("ENV-8"):
        publish_standard(World(), "std-1")


def test_a_standard_needs_a_registered_admin_unit() -> None:
    world = World()
    define_programme(world)

    with refused("ENV-8"):
        publish_standard(world, "std-1", admin_unit_id="atlantis")


def test_a_standard_is_published_once_per_stream() -> None:
    world = World()
    define_programme(world)
    publish_standard(world, "std-1")

    with refused("ENV-7"):
        publish_standard(world, "std-1")


# EX-STD-1 (§5.8): C_prev 18,000 元, dibao 650 元 a month: floor 10,800 元 a year.
EX_STD_1 = {
    "prior_year_consumption_per_capita_fen": 1_800_000,
    "dibao_monthly_standard_fen": 65_000,
}
# EX-STD-2: C_prev 12,000 元, dibao 600 元 a month: floor 9,360 元 a year (the dibao side).
EX_STD_2 = {
    "prior_year_consumption_per_capita_fen": 1_200_000,
    "dibao_monthly_standard_fen": 60_000,
}


@pytest.mark.parametrize(("basis", "floor_fen"), [(EX_STD_1, 1_080_000), (EX_STD_2, 936_000)])
def test_basic_living_floor_takes_the_higher_of_both_rules(
    basis: dict[str, int], floor_fen: int
) -> None:
    assert (
        programmes.basic_living_floor_fen(
            basis["prior_year_consumption_per_capita_fen"], basis["dibao_monthly_standard_fen"]
        )
        == floor_fen
    )


def test_the_floor_rounds_up_to_the_fen() -> None:
    # 0.6 x 1 fen = 0.6 fen and 1.3 x 12 x 1 fen = 15.6 fen: both round up.
    assert programmes.basic_living_floor_fen(1, 1) == 16


def test_std_1_refuses_a_standard_below_the_floor() -> None:
    world = World()
    define_programme(world)

    with refused("STD-1"):
        publish_standard(world, "std-1", amount_fen=1_050_000, basis=EX_STD_1)


def test_std_1_accepts_a_standard_at_the_floor() -> None:
    world = World()
    define_programme(world)

    publish_standard(world, "std-1", amount_fen=1_080_000, basis=EX_STD_1)


def test_a_standard_without_a_basis_is_not_floor_checked() -> None:
    world = World()
    define_programme(world)

    publish_standard(world, "std-1", amount_fen=1)


def test_the_standard_in_force_comes_from_the_unit_or_an_ancestor() -> None:
    world, _ = seeded_world()

    assert in_force(world, "village-1", "2024-04") == "std-tekun-dispersed"
    assert in_force(world, "county-1", "2024-04") == "std-tekun-dispersed"
    assert in_force(world, "city-1", "2024-04") is None


def test_a_standard_is_not_in_force_before_its_first_month() -> None:
    world, _ = seeded_world()

    assert in_force(world, "township-1", "2023-06") is None


def test_the_latest_effective_month_wins_and_ties_go_to_the_later_publication() -> None:
    world, _ = seeded_world()
    publish_standard(world, "std-2024", effective_from="2024-07", amount_fen=140_000)
    publish_standard(world, "std-township", effective_from="2024-07", admin_unit_id="township-1")

    assert in_force(world, "village-1", "2024-06") == "std-tekun-dispersed"
    assert in_force(world, "village-1", "2024-07") == "std-township"
    assert in_force(world, "village-2", "2024-07") == "std-2024"


def test_the_standard_in_force_is_per_support_mode() -> None:
    world, _ = seeded_world()

    assert in_force(world, "village-1", "2024-04", "CENTRALISED") == "std-tekun-centralised"


def test_rollback_restores_the_state_exactly() -> None:
    state = DomainState()
    table = state.table("prog.test")
    table.put("kept", 1)
    table.put("changed", 2)
    state.commit(2)

    state.begin()
    table.put("changed", 20)
    table.put("added", 3)
    table.delete("kept")
    table.put("added", 4)
    state.rollback()

    assert dict(table.items()) == {"kept": 1, "changed": 2}
    assert state.position == 2


def test_a_refused_event_leaves_no_trace() -> None:
    world = World(rules=only_case_rules())
    define_programme(world)
    before = programmes.programme(world.state, "TEKUN")

    with refused("ENV-8"):
        define_programme(world, notice_days=9, lead_org_id="nowhere")

    assert programmes.programme(world.state, "TEKUN") == before
