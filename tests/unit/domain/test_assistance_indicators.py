"""Elderly-home beds and the centralised-support rate as tracked indicators (``domain.md``
§5.9: EX-BEDS-1/2, EX-RATE-1/2, exact)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from ledger.domain.assistance_indicators import (
    MilestoneCheck,
    bed_milestones,
    bed_progress,
    centralised_rate,
    centralised_rate_met,
)

# The seed's numbers (N-CI-2..4, N-WB-7), as a published target would carry them.
PLANNED_BEDS = 300
SEED_MILESTONES = ((6, 30, Fraction(3, 5)), (11, 30, Fraction(1)))
RATE_TARGET = Fraction(2, 5)


def seed_milestones(reported: dict[date, int]) -> list[MilestoneCheck]:
    return bed_milestones(2024, reported, PLANNED_BEDS, SEED_MILESTONES)


def test_ex_beds_1_170_beds_on_30_june_miss_the_60_percent_milestone() -> None:
    june, _november = seed_milestones({date(2024, 6, 30): 170})

    assert june.progress == Fraction(17, 30)
    assert round(june.progress * 100, 2) == Fraction(5667, 100)
    assert june.required_share == Fraction(3, 5)
    assert not june.met


def test_ex_beds_2_185_beds_in_june_and_300_in_november_meet_both_milestones() -> None:
    june, november = seed_milestones(
        {date(2024, 6, 30): 185, date(2024, 11, 30): 300, date(2024, 9, 1): 240}
    )

    assert (june.completed_beds, june.progress) == (185, Fraction(37, 60))
    assert round(june.progress * 100, 2) == Fraction(6167, 100)
    assert june.met
    assert (november.completed_beds, november.progress, november.met) == (300, Fraction(1), True)


def test_a_milestone_with_no_report_by_its_date_counts_nothing_done() -> None:
    june, november = seed_milestones({date(2024, 7, 1): 300})

    assert (june.completed_beds, june.met) == (0, False)
    assert november.met


def test_the_milestone_boundary_is_exactly_180_beds() -> None:
    assert bed_progress(180, PLANNED_BEDS) == Fraction(3, 5)
    [june, _] = seed_milestones({date(2024, 6, 30): 180})
    assert june.met
    [june, _] = seed_milestones({date(2024, 6, 30): 179})
    assert not june.met


def test_ex_rate_1_52_centralised_of_120_is_43_33_percent_and_met() -> None:
    assert centralised_rate(52, 68) == Fraction(13, 30)
    assert round(centralised_rate(52, 68) * 100, 2) == Fraction(4333, 100)
    assert centralised_rate_met(52, 68, RATE_TARGET)


def test_ex_rate_2_35_of_100_is_35_percent_and_missed() -> None:
    assert centralised_rate(35, 65) == Fraction(7, 20)
    assert not centralised_rate_met(35, 65, RATE_TARGET)
    assert centralised_rate_met(40, 60, RATE_TARGET)


def test_a_township_with_nobody_supported_has_a_zero_rate() -> None:
    assert centralised_rate(0, 0) == 0
