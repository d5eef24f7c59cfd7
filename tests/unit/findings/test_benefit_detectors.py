"""AF-STD-BELOW-FLOOR (EX-STD-1, EX-STD-2), AF-CAP-EXCEEDED and AF-CAP-OOP (EX-CAP-1, EX-CAP-2,
the 900-a-month welfare job of §5.9)."""

from __future__ import annotations

from typing import Any

from ledger.findings.benefits import CapBreached, StandardBelowFloor
from tests.unit.domain.test_assistance import COMPONENTS, component_payload
from tests.unit.findings.builders import Feed, legacy


def _standard(
    feed: Feed,
    standard_id: str,
    component: str,
    amount_fen: int,
    basis: dict[str, int] | None = None,
    effective_from: str = "2024-07",
) -> None:
    feed.event(
        "BenefitStandardPublished",
        standard_id,
        {
            "standard_id": standard_id,
            "programme_code": "TEKUN",
            "admin_unit_id": "county-1",
            "support_mode": "DISPERSED",
            "component": component,
            "amount_fen": amount_fen,
            "period": "YEAR",
            "effective_from": effective_from,
            "published_on": "2024-05-20",
            "basis": basis,
        },
        actor="gov-1",
        on="2024-05-20",
    )


EX_STD_1 = {
    "prior_year_consumption_per_capita_fen": 1_800_000,
    "dibao_monthly_standard_fen": 65_000,
}
EX_STD_2 = {
    "prior_year_consumption_per_capita_fen": 1_200_000,
    "dibao_monthly_standard_fen": 60_000,
}


def test_ex_std_1_publishing_10500_yuan_is_below_the_10800_floor() -> None:
    feed = Feed([StandardBelowFloor()])
    _standard(feed, "std-ok", "BASIC_LIVING", 1_080_000, EX_STD_1)  # exactly the floor
    assert feed.findings() == []

    _standard(feed, "std-low", "BASIC_LIVING", 1_050_000, EX_STD_1)

    [found] = feed.findings()
    assert (found.code, found.subject_refs, found.rule_ref, found.severity) == (
        "AF-STD-BELOW-FLOOR",
        ("std-low",),
        "STD-1",
        "H",
    )
    assert "below the legal floor of 1080000 fen" in found.summary


def test_ex_std_2_the_dibao_side_sets_the_9360_floor_and_936_for_care() -> None:
    feed = Feed([StandardBelowFloor()])
    _standard(feed, "basic", "BASIC_LIVING", 936_000, EX_STD_2)
    _standard(feed, "care-ok", "CARE_FULL", 93_600)
    assert feed.findings() == []

    _standard(feed, "basic-low", "BASIC_LIVING", 935_999, EX_STD_2, effective_from="2024-08")
    _standard(feed, "care-low", "CARE_PARTIAL", 93_599)  # against "basic" (from 2024-07)

    found = {f.subject_refs: f for f in feed.findings()}
    assert set(found) == {("basic-low",), ("care-low",)}
    assert "936000 fen" in found["basic-low",].summary
    assert found["care-low",].rule_ref == "STD-2"
    assert "floor of 93600 fen" in found["care-low",].summary


def test_a_care_standard_is_held_to_the_basic_standard_in_force_from_its_month() -> None:
    feed = Feed([StandardBelowFloor()])
    _standard(feed, "basic-2023", "BASIC_LIVING", 900_000, effective_from="2023-07")
    _standard(feed, "basic-2024", "BASIC_LIVING", 1_080_000, effective_from="2024-07")
    _standard(feed, "care-2023", "CARE_NONE", 90_000, effective_from="2023-07")  # 10 % of 2023
    _standard(feed, "care-2024", "CARE_NONE", 100_000, effective_from="2024-07")  # < 108,000

    assert feed.codes() == [("AF-STD-BELOW-FLOOR", ("care-2024",))]


def test_a_care_standard_with_no_basic_standard_for_its_unit_is_not_judged() -> None:
    feed = Feed([StandardBelowFloor()])
    _standard(feed, "care", "CARE_FULL", 1)

    assert feed.findings() == []


def _define(feed: Feed, code: str) -> None:
    feed.event(
        "BenefitComponentDefined",
        code,
        component_payload(code, **COMPONENTS[code]),
        actor="gov-1",
        on="2024-01-02",
    )


def _grant(
    feed: Feed,
    grant_id: str,
    code: str,
    amount_fen: int,
    *,
    episode: str | None = None,
    months: int | None = None,
    out_of_pocket_fen: int | None = None,
    period: str = "2024-03",
) -> None:
    payload: dict[str, Any] = {
        "grant_id": grant_id,
        "component_code": code,
        "household_id": "h-1",
        "person_id": "p-1",
        "episode_id": episode,
        "period": period,
        "amount_fen": amount_fen,
        "fast_track": False,
        "basis": {"months": months, "out_of_pocket_fen": out_of_pocket_fen, "prior_grants_fen": 0},
    }
    feed.event("BenefitGranted", grant_id, payload, actor="reviewer-1", on=f"{period}-15")


def _hospital_feed() -> Feed:
    feed = Feed([CapBreached()])
    _define(feed, "HOSP_DISTRICT")
    _define(feed, "HOSP_TOWNSHIP")
    return feed


def test_ex_cap_1_and_ex_cap_2_accepted_grants_are_clean() -> None:
    feed = _hospital_feed()
    # EX-CAP-1: 3 months, out-of-pocket 9,000: 6,000 + 2,000 = 8,000 < 9,000.
    _grant(
        feed, "e1-d", "HOSP_DISTRICT", 600_000, episode="e1", months=3, out_of_pocket_fen=900_000
    )
    _grant(feed, "e1-t", "HOSP_TOWNSHIP", 200_000, episode="e1", out_of_pocket_fen=900_000)
    # EX-CAP-2: 11 months capped at 20,000; + 2,000 = 22,000 < 30,000 (next year's cap period).
    for suffix, amount in (("d", 2_000_000), ("t", 200_000)):
        _grant(
            feed,
            f"e2-{suffix}",
            f"HOSP_{'DISTRICT' if suffix == 'd' else 'TOWNSHIP'}",
            amount,
            episode="e2",
            months=11 if suffix == "d" else None,
            out_of_pocket_fen=3_000_000,
            period="2025-03",
        )

    assert feed.findings() == []


def test_ex_cap_2_a_township_grant_reaching_the_out_of_pocket_cost_is_cap_oop() -> None:
    feed = _hospital_feed()
    _grant(
        feed, "d", "HOSP_DISTRICT", 2_000_000, episode="e2", months=11, out_of_pocket_fen=2_150_000
    )
    _grant(feed, "t", "HOSP_TOWNSHIP", 200_000, episode="e2", out_of_pocket_fen=2_150_000)

    [found] = feed.findings()
    assert (found.code, found.subject_refs, found.rule_ref, found.severity) == (
        "AF-CAP-OOP",
        ("t",),
        "CAP-2",
        "H",
    )
    assert "at most 149999 fen is allowed" in found.summary


def test_22000_for_11_months_is_above_the_20000_year_cap() -> None:
    feed = _hospital_feed()
    _grant(
        feed, "d", "HOSP_DISTRICT", 2_200_000, episode="e", months=11, out_of_pocket_fen=9_000_000
    )

    [found] = feed.findings()
    assert (found.code, found.rule_ref) == ("AF-CAP-EXCEEDED", "CAP-1")
    assert "cap of 2000000 fen" in found.summary


def test_a_welfare_job_of_950_a_month_exceeds_the_900_cap_and_earlier_grants_count() -> None:
    feed = Feed([CapBreached()])
    _define(feed, "WELFARE_JOB")
    _grant(feed, "ok", "WELFARE_JOB", 90_000)
    _grant(feed, "over", "WELFARE_JOB", 95_000, period="2024-04")
    _grant(feed, "second", "WELFARE_JOB", 1, period="2024-03")  # on top of 900 in March

    assert feed.codes() == [
        ("AF-CAP-EXCEEDED", ("over",)),
        ("AF-CAP-EXCEEDED", ("second",)),
    ]


def test_a_grant_of_an_undefined_component_is_not_judged_here() -> None:
    feed = Feed([CapBreached()])
    _grant(feed, "g", "NOT_DEFINED", 10_000_000)

    assert feed.findings() == []


def _legacy_standard(
    feed: Feed, record_id: str, component: str, amount_fen: int, **more: Any
) -> None:
    legacy(
        feed,
        record_id,
        {
            "type": "BENEFIT_STANDARD",
            "standard_id": f"old-{record_id}",
            "programme_code": "WUBAO",
            "admin_unit_id": "county-1",
            "support_mode": "DISPERSED",
            "component": component,
            "amount_fen": amount_fen,
            "effective_from": "2019-07",
            "basis": more.get("basis"),
            "basic_standard_fen": more.get("basic_standard_fen"),
        },
    )


def test_legacy_standards_are_held_to_their_own_basis_ex_std_1() -> None:
    feed = Feed([StandardBelowFloor()])
    _legacy_standard(feed, "s1", "BASIC_LIVING", 1_080_000, basis=EX_STD_1)
    _legacy_standard(feed, "s2", "CARE_FULL", 108_000, basic_standard_fen=1_080_000)
    _legacy_standard(feed, "s3", "BASIC_LIVING", 1)  # no basis: nothing to judge it by
    assert feed.findings() == []

    _legacy_standard(feed, "s4", "BASIC_LIVING", 1_050_000, basis=EX_STD_1)
    _legacy_standard(feed, "s5", "CARE_FULL", 107_999, basic_standard_fen=1_080_000)

    found = {f.subject_refs: f for f in feed.findings()}
    assert set(found) == {("old-s4",), ("old-s5",)}
    assert found["old-s4",].rule_ref == "STD-1"
    assert found["old-s5",].summary.startswith("legacy standard old-s5")
    assert found["old-s5",].rule_ref == "STD-2"
