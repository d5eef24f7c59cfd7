"""The county spot check: the reproducible sample (APP-10) and who checks (SOD-2, SOD-4)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ledger.domain import spot_checks
from ledger.domain.spot_checks import draw_sample, minimum_sample_size, splitmix64
from tests.unit.domain.case_builders import Case, World, draw_batch, refused, seeded_world

# --- the algorithm -------------------------------------------------------------------------------


def test_splitmix64_matches_the_reference_outputs() -> None:
    # Reference values of Vigna's splitmix64.c (seed 0) and of rand_xoshiro's SplitMix64
    # test (seed 1234567).
    zero = splitmix64(0)
    assert [next(zero) for _ in range(3)] == [
        0xE220A8397B1DCDAF,
        0x6E789E6AA1B965F4,
        0x06C45D188009454F,
    ]
    other = splitmix64(1234567)
    assert [next(other) for _ in range(3)] == [
        0x599ED017FB08FC85,
        0x2C73F08458540FA5,
        0x883EBCE5A3F27C77,
    ]


def test_fisher_yates_by_hand() -> None:
    # Sorted [a, b, c]. i=2: j = 0xE220A8397B1DCDAF mod 3 = 1, giving [a, c, b];
    # i=1: j = 0x6E789E6AA1B965F4 mod 2 = 0, giving [c, a, b].
    assert draw_sample(["b", "c", "a"], 0, 3) == ["c", "a", "b"]


def test_pinned_sample_vector() -> None:
    population = [f"app-{i:02d}" for i in range(10, 0, -1)]

    assert draw_sample(population, 20240327, 3) == ["app-09", "app-07", "app-01"]
    assert draw_sample(population, 20240327, 10) == [
        "app-09",
        "app-07",
        "app-01",
        "app-03",
        "app-06",
        "app-08",
        "app-05",
        "app-02",
        "app-04",
        "app-10",
    ]


def test_the_sample_does_not_depend_on_the_input_order() -> None:
    ids = ["x-3", "x-1", "x-2", "x-10"]

    assert draw_sample(ids, 99, 2) == draw_sample(sorted(ids, reverse=True), 99, 2)


def test_a_sample_larger_than_the_population_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot sample"):
        draw_sample(["a"], 1, 2)


def test_the_minimum_sample_rounds_up() -> None:
    assert minimum_sample_size(Fraction(3, 10), 1) == 1
    assert minimum_sample_size(Fraction(3, 10), 10) == 3
    assert minimum_sample_size(Fraction(3, 10), 11) == 4


# --- drawing a batch -----------------------------------------------------------------------------


def forwarded_cases(count: int) -> tuple[World, list[Case]]:
    world, seeded = seeded_world()
    cases = [Case(world, seeded, f"app-{i:02d}").to_forwarded() for i in range(1, count + 1)]
    return world, cases


def test_a_batch_is_drawn_from_forwarded_cases() -> None:
    world, cases = forwarded_cases(4)
    ids = [c.id for c in cases]

    draw_batch(world, "batch-1", ids, seed=11, k=2)

    found = spot_checks.batch(world.state, "batch-1")
    assert found is not None
    assert list(found.sampled_ids) == draw_sample(ids, 11, 2)


def test_app_10_refuses_a_sample_other_than_the_algorithms() -> None:
    world, cases = forwarded_cases(4)
    ids = [c.id for c in cases]
    honest = draw_sample(ids, 11, 2)
    cherry_picked = [i for i in ids if i not in honest]

    with refused("APP-10"):
        draw_batch(world, "batch-1", ids, seed=11, k=2, sampled=cherry_picked)


def test_app_10_refuses_a_sample_below_the_ratio() -> None:
    world, cases = forwarded_cases(4)

    with refused("APP-10"):
        draw_batch(world, "batch-1", [c.id for c in cases], seed=11, k=1)


def test_app_10_refuses_a_ratio_below_the_programmes() -> None:
    world, cases = forwarded_cases(4)

    with refused("APP-10"):
        draw_batch(world, "batch-1", [c.id for c in cases], seed=11, k=4, ratio="1/5")


def test_app_10_refuses_a_case_that_is_not_forwarded() -> None:
    world, seeded = seeded_world()
    Case(world, seeded, "app-01").submit()

    with refused("APP-10"):
        draw_batch(world, "batch-1", ["app-01"], seed=1, k=1)


def test_app_10_refuses_an_unknown_case() -> None:
    world, _ = forwarded_cases(1)

    with refused("ENV-8"):
        draw_batch(world, "batch-1", ["app-01", "app-99"], seed=1, k=1)


def test_app_10_a_case_is_drawn_in_one_batch_only() -> None:
    world, cases = forwarded_cases(2)
    draw_batch(world, "batch-1", [c.id for c in cases], seed=1, k=1)

    with refused("APP-10"):
        draw_batch(world, "batch-2", [cases[0].id], seed=1, k=1)


def test_sod_2_a_township_actor_does_not_draw_the_sample() -> None:
    world, cases = forwarded_cases(1)

    with refused("SOD-2"):
        draw_batch(world, "batch-1", [cases[0].id], seed=1, k=1, actor="checker-township")


# --- completing checks and the approval ----------------------------------------------------------


@pytest.fixture
def sampled_case() -> Case:
    world, seeded = seeded_world()
    return Case(world, seeded).to_forwarded().sample()


def test_sod_2_the_checker_acts_for_the_county(sampled_case: Case) -> None:
    with refused("SOD-2"):
        sampled_case.spot_check(actor="checker-township")


def test_sod_2_the_checker_did_not_investigate_the_case(sampled_case: Case) -> None:
    with refused("SOD-2"):
        sampled_case.spot_check(actor="checker-inv")


def test_sod_4_a_related_official_does_not_spot_check() -> None:
    world, seeded = seeded_world()
    case = Case(world, seeded).submit()
    case.emit(
        "RelativeOfOfficialFiled",
        {
            "person_id": case.person,
            "official_actor_id": "checker-1",
            "official_role": "VILLAGE_COMMITTEE_MEMBER",
            "relationship": "cousin",
        },
        actor="clerk-1",
        on="2024-03-02",
    )
    case.accept().authorise().investigate().opinion().post_notice().close_notice().forward()
    case.sample()

    with refused("SOD-4"):
        case.spot_check()


def test_a_case_is_checked_once(sampled_case: Case) -> None:
    sampled_case.spot_check()

    with refused("ENV-7"):
        sampled_case.spot_check()


def test_app_10_only_a_sampled_case_is_checked() -> None:
    world, cases = forwarded_cases(4)
    ids = [c.id for c in cases]
    draw_batch(world, "batch-1", ids, seed=11, k=2)
    unsampled = next(c for c in cases if c.id not in draw_sample(ids, 11, 2))
    unsampled.batch_id = "batch-1"

    with refused("APP-10"):
        unsampled.spot_check()


def test_app_10_a_sampled_case_is_approved_only_after_its_check(sampled_case: Case) -> None:
    with refused("APP-10"):
        sampled_case.approve()

    sampled_case.spot_check().approve()


def test_app_10_an_inconsistent_check_blocks_approval_but_not_rejection(
    sampled_case: Case,
) -> None:
    sampled_case.spot_check("INCONSISTENT")

    with refused("APP-10"):
        sampled_case.approve()

    sampled_case.reject()


def test_app_10_an_unsampled_case_of_the_batch_is_approved_without_a_check() -> None:
    world, cases = forwarded_cases(4)
    ids = [c.id for c in cases]
    draw_batch(world, "batch-1", ids, seed=11, k=2)
    unsampled = next(c for c in cases if c.id not in draw_sample(ids, 11, 2))
    unsampled.batch_id = "batch-1"

    unsampled.approve()


def test_app_10_the_approval_cites_the_cases_batch() -> None:
    world, cases = forwarded_cases(2)
    draw_batch(world, "batch-1", [cases[0].id], seed=1, k=1)
    draw_batch(world, "batch-2", [cases[1].id], seed=1, k=1)
    cases[1].batch_id = "batch-2"
    cases[1].spot_check()
    cases[0].batch_id = "batch-2"

    with refused("APP-10"):
        cases[0].approve()


def test_app_10_an_approval_needs_a_drawn_batch() -> None:
    _, cases = forwarded_cases(1)

    with refused("ENV-8"):
        cases[0].approve()
