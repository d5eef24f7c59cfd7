"""Coverage metrics (§5.9): the centralised-support rate per township (EX-RATE-1/2) on the
effective axis, and institution occupancy on a date."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from ledger.projections.coverage import (
    CoverageProjection,
    CoverageRow,
    percent_text,
    summarise,
    within,
)

from .test_read_models import ReadModelLog, coverage


def rows() -> list[CoverageRow]:
    log = ReadModelLog()
    coverage(log)
    return list(CoverageProjection().fold_all(log.events()).subjects.rows.values())


def units(period: str | None) -> dict[tuple[str, str], dict[str, object]]:
    out = summarise(rows(), period, None)["units"]
    return {(u["admin_unit_id"], u["programme_code"]): u for u in out}


def test_ex_rate_1_and_2_on_31_december() -> None:
    december = units("2024-12")
    town1, town2 = december["town-1", "TEKUN"], december["town-2", "TEKUN"]
    # EX-RATE-1: 52 centralised, 68 dispersed: 52/120 = 43.33 %, met.
    assert (town1["centralised"], town1["dispersed"], town1["active"]) == (52, 68, 120)
    assert (town1["centralised_rate"], town1["centralised_rate_percent"]) == ("13/30", "43.33")
    assert (town1["target"], town1["target_met"], town1["rule"]) == ("2/5", True, "N-WB-7")
    # EX-RATE-2: 35 of 100 = 35 %, missed.
    assert (town2["centralised"], town2["dispersed"]) == (35, 65)
    assert (town2["centralised_rate"], town2["centralised_rate_percent"]) == ("7/20", "35.00")
    assert town2["target_met"] is False


def test_mode_changes_and_terminations_count_from_their_month() -> None:
    january = units("2025-01")
    # town-1: the centralised beneficiary who died in December is not payable in January.
    assert (january["town-1", "TEKUN"]["centralised"], january["town-1", "TEKUN"]["active"]) == (
        51,
        119,
    )
    # town-2: one dispersed moved to the home from January.
    assert (january["town-2", "TEKUN"]["centralised"], january["town-2", "TEKUN"]["dispersed"]) == (
        36,
        64,
    )
    assert units("2024-06") == {}  # nobody is payable before July 2024
    now = units(None)
    assert now["town-1", "TEKUN"]["active"] == 119
    assert now["town-2", "TEKUN"]["centralised"] == 36


def test_a_year_without_a_published_target_is_not_checked() -> None:
    january = units("2025-01")["town-1", "TEKUN"]
    assert (january["target"], january["target_met"], january["rule"]) == (None, None, None)
    assert units(None)["town-1", "TEKUN"]["target"] == "2/5"  # now: the latest year's


def test_other_programmes_are_counted_without_the_target() -> None:
    dibao = units("2024-12")["town-3", "DIBAO_RURAL"]
    assert (dibao["active"], dibao["target"], dibao["target_met"]) == (1, None, None)


def test_institution_occupancy_on_a_date() -> None:
    def residents(day: date | None) -> list[dict[str, object]]:
        return summarise(rows(), None, day)["institutions"]

    assert residents(date(2024, 2, 29)) == [{"institution_id": "home-1", "residents": 0}]
    assert residents(date(2024, 6, 1)) == [{"institution_id": "home-1", "residents": 2}]
    assert residents(date(2024, 10, 1)) == [{"institution_id": "home-1", "residents": 1}]
    assert residents(None) == [{"institution_id": "home-1", "residents": 1}]


def test_percentages_round_half_up_from_the_exact_ratio() -> None:
    assert percent_text(Fraction(2, 3)) == "66.67"
    assert percent_text(Fraction(1, 8)) == "12.50"
    assert percent_text(Fraction(1, 80_000)) == "0.00"
    assert percent_text(Fraction(1)) == "100.00"


def test_within_walks_up_the_organisation_tree() -> None:
    parents: dict[str, str | None] = {
        "town": "county",
        "county": "city",
        "city": None,
        "a": "b",
        "b": "a",
    }
    assert within("town", "town", parents)
    assert within("town", "city", parents)
    assert not within("county", "town", parents)
    assert not within(None, "city", parents)
    assert not within("a", "city", parents)  # a cycle ends the walk
