"""Worked examples of ``domain.md`` §5.1-§5.7, §5.9 and §5.11 as exact test vectors."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction as F  # noqa: N817 - short name keeps the vectors readable

import pytest

from ledger.domain.scoring import (
    SURVEY_WEIGHTS_004,
    Criticism,
    Grade,
    IndicatorInput,
    LevelEvent,
    ScoringRules,
    ShortfallBasis,
    ShortfallMode,
    TaskItem,
    annual_score,
    answers_mean,
    category_score,
    completion_score,
    inspection_annual,
    inspection_grade,
    inspection_single,
    level_score,
    milestone_met,
    penalty_points,
    rate,
    round_half_up,
    rules_from_config,
    score_indicator,
    score_peer_group,
    survey_composite,
    survey_points,
)
from ledger.domain.scoring_rank import (
    CASH_PLEDGE_UNITS,
    CASH_STREETS,
    AwardQuotas,
    CashEntry,
    RankInput,
    cash_entries,
    individual_quota_problems,
    rank,
)

DEFAULT = ScoringRules()


def indicator(
    assessee: str, target: int | F, actual: int | F, base: str, **kw: object
) -> IndicatorInput:
    return IndicatorInput(
        assessee=assessee,
        indicator_id="ind-1",
        target=F(target),
        actual=F(actual),
        base_points=F(base),
        **kw,  # type: ignore[arg-type]
    )


# --- F-BONUS -------------------------------------------------------------------------------------


def test_ex_bonus_1_highest_over_completion_gets_a_fifth_of_base() -> None:
    group = [
        indicator("A", 1000, 1150, "6"),
        indicator("B", 800, 880, "6"),
        indicator("C", 500, 500, "6"),
    ]

    scores = score_peer_group(group, DEFAULT)

    assert {a: s.final for a, s in scores.items()} == {
        "A": Decimal("7.2000"),
        "B": Decimal("6.8000"),
        "C": Decimal("6.0000"),
    }
    assert all(s.met for s in scores.values())
    assert scores["A"].formula_id == "F-BONUS"


def test_ex_bonus_2_with_one_missed_target() -> None:
    group = [
        indicator("W", 250, 260, "3.5"),
        indicator("X", 400, 500, "3.5"),
        indicator("Y", 200, 225, "3.5"),
        indicator("Z", 300, 285, "3.5"),
    ]

    scores = score_peer_group(group, DEFAULT)

    assert [scores[a].final for a in "WXYZ"] == [
        Decimal("3.6120"),
        Decimal("4.2000"),
        Decimal("3.8500"),
        Decimal("3.1500"),
    ]
    assert scores["Z"].met is False
    assert scores["Z"].deduction == F(35, 100)


def test_non_bonus_indicator_scores_base_points_when_over_completed() -> None:
    scores = score_peer_group(
        [indicator("A", 100, 150, "4", bonus_eligible=False), indicator("B", 100, 110, "4")],
        DEFAULT,
    )

    assert scores["A"].final == Decimal("4.0000")
    assert scores["B"].final == Decimal("4.8000")  # B alone over-completes: r_max is B's


def test_nobody_over_completing_means_no_bonus() -> None:
    scores = score_peer_group([indicator("A", 100, 100, "5"), indicator("B", 50, 50, "5")], DEFAULT)

    assert {s.final for s in scores.values()} == {Decimal("5.0000")}


# --- F-SHORT -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (ShortfallMode.FLOOR, Decimal("10.8000")),
        (ShortfallMode.PROPORTIONAL, Decimal("10.5000")),
        (ShortfallMode.CEIL, Decimal("10.2000")),
    ],
)
def test_ex_short_1_in_every_mode(mode: ShortfallMode, expected: Decimal) -> None:
    rules = ScoringRules(shortfall_mode=mode)

    score = score_indicator(indicator("A", 10_000, 9_500, "12"), None, rules)

    assert score.final == expected
    assert score.met is False


def test_ex_short_2_deduction_capped_at_sixty_percent() -> None:
    score = score_indicator(indicator("A", 400, 280, "10"), None, DEFAULT)

    assert score.deduction == F(6)
    assert score.final == Decimal("4.0000")


def test_ex_short_3_no_deduction_but_still_not_met() -> None:
    score = score_indicator(indicator("A", 100, 99, "8"), None, DEFAULT)

    assert score.final == Decimal("8.0000")
    assert score.met is False


@pytest.mark.parametrize(
    ("basis", "expected"),
    [
        (ShortfallBasis.RATIO, Decimal("1.5000")),
        (ShortfallBasis.PERCENTAGE_POINTS, Decimal("1.8000")),
    ],
)
def test_ex_short_4_rate_indicator_bases(basis: ShortfallBasis, expected: Decimal) -> None:
    rules = ScoringRules(shortfall_basis=basis)

    score = score_indicator(indicator("A", F("0.40"), F("0.36"), "2"), None, rules)

    assert score.final == expected


def test_non_ratio_indicator_discretionary_deduction_is_capped() -> None:
    item = indicator(
        "A", 1, 1, "5", measurable_by_ratio=False, discretionary=F(4), met_if_not_ratio=False
    )

    score = score_indicator(item, None, DEFAULT)

    assert score.deduction == F(3)
    assert score.final == Decimal("2.0000")
    assert score.met is False


def test_rules_come_from_the_scheme_config() -> None:
    rules = rules_from_config({"shortfall_step": "1/100", "shortfall_mode": "CEIL"})

    assert rules.shortfall_step == F(1, 100)
    assert rules.shortfall_mode is ShortfallMode.CEIL
    assert rules.deduction_cap == F(3, 5)


def test_stored_scores_round_half_up_to_four_decimals() -> None:
    assert round_half_up(F(1, 3)) == Decimal("0.3333")
    assert round_half_up(F(5, 100000)) == Decimal("0.0001")
    assert round_half_up(F(-5, 100000)) == Decimal("-0.0001")
    assert round_half_up(F(2, 3), 2) == Decimal("0.67")


# --- F-PEN / F-ANNUAL ----------------------------------------------------------------------------


def test_ex_pen_1_provincial_and_two_city_criticisms() -> None:
    criticisms = [
        Criticism("PROVINCIAL_GOVERNMENT"),
        Criticism("CITY_GOVERNMENT"),
        Criticism("CITY_GOVERNMENT"),
    ]

    assert penalty_points(criticisms) == 4


def test_ex_pen_2_line_department_counts_city_office_does_not() -> None:
    criticisms = [Criticism("PROVINCIAL_LINE_DEPARTMENT"), Criticism("CITY_OFFICE")]

    assert penalty_points(criticisms) == 1


def test_penalty_ignores_criticisms_unrelated_to_livelihood_targets() -> None:
    assert penalty_points([Criticism("PROVINCIAL_GOVERNMENT", related_to="SANITATION")]) == 0


def test_ex_annual_1() -> None:
    tasks = [F("12.8"), 8, 10, F("18.5"), F("11.5"), 12, 6, 12]

    result = annual_score(
        [F(1), F(1), F("0.5"), F(3)],
        survey_points(F(85), DEFAULT),
        [F(t) for t in tasks],
        penalty_points([Criticism("CITY_GOVERNMENT")]),
    )

    assert result.organisation == F("5.5")
    assert result.survey == F("5.1")
    assert result.tasks == F("90.8")
    assert result.total == F("100.4")


def test_ex_annual_2_with_the_missed_medical_sub_indicator() -> None:
    medical = score_indicator(indicator("B", 100, 93, "4.5"), None, DEFAULT)
    tasks = [Decimal("8.4"), F(14), medical.final, F(12), F(10), F("11.5"), F(10), F(6), F(12)]

    result = annual_score(
        [F(1), F(1), F("0.5"), F("3.5")],
        survey_points(F(90), DEFAULT),
        tasks,
        penalty_points(
            [Criticism("PROVINCIAL_GOVERNMENT"), Criticism("PROVINCIAL_LINE_DEPARTMENT")]
        ),
    )

    assert medical.final == Decimal("3.8250")
    assert medical.met is False
    assert result.tasks == F("87.725")
    assert result.total == F("96.125")


# --- F-COMP --------------------------------------------------------------------------------------

FIRST_PLACE, OMISSION, HQ_CRITICISM, DRY_TOILET = F(2), F(-2), F(-2), F(-2)


def street_scores() -> dict[str, F]:
    return {
        "S1": completion_score(
            [TaskItem(F(40), 18, 20), TaskItem(F(35), 7, 7), TaskItem(F(25), 30, 40)],
            [(1, FIRST_PLACE), (1, OMISSION), (1, DRY_TOILET)],
        ),
        "S2": completion_score(
            [TaskItem(F(40), 20, 20), TaskItem(F(35), 5, 7), TaskItem(F(25), 40, 40)],
            [(2, HQ_CRITICISM)],
        ),
        "S3": completion_score(
            [TaskItem(F(40), 19, 20), TaskItem(F(35), 7, 7), TaskItem(F(25), 32, 40)],
            [(1, DRY_TOILET)],
        ),
        "S4": completion_score(
            [TaskItem(F(40), 16, 20), TaskItem(F(35), 6, 7), TaskItem(F(25), 28, 40)],
            [(1, FIRST_PLACE)],
        ),
    }


def test_ex_comp_1_and_2_street_scores() -> None:
    scores = street_scores()

    assert scores["S1"] == F("87.75")
    assert scores["S2"] == F("86.00")
    assert scores["S3"] == F("91.00")
    assert scores["S4"] == F("81.50")


def test_ex_comp_cash_reward_and_fine_for_the_streets() -> None:
    scores = street_scores()
    result = rank([RankInput(a, s) for a, s in scores.items()], AwardQuotas(comprehensive=0))

    entries = cash_entries(result.order, CASH_STREETS)

    assert result.order == ("S3", "S1", "S2", "S4")
    assert entries == [CashEntry("S3", "REWARD", 1, 500_000), CashEntry("S4", "FINE", 1, 500_000)]


def test_completion_is_capped_at_the_required_units() -> None:
    assert completion_score([TaskItem(F(100), 12, 10)]) == 100


# --- F-INSP / F-LEVEL ----------------------------------------------------------------------------


def test_ex_insp_1_excellent_village() -> None:
    singles = [F(92), inspection_single(F(88), [F(2), F(1)]), F(95), F(90)]

    annual = inspection_annual(singles)

    assert annual == F("90.5")
    assert inspection_grade(annual, 2, passed_city=True, passed_provincial=True) is Grade.EXCELLENT


def test_ex_insp_2_pass_not_good() -> None:
    singles = [F(85), F(80), inspection_single(F(78), [F(1)]), F(76)]

    annual = inspection_annual(singles)

    assert annual == F("79.5")
    assert inspection_grade(annual, 10, passed_city=True, passed_provincial=True) is Grade.PASS


def test_insp_grade_edges_rank_four_and_failed_provincial_acceptance() -> None:
    assert inspection_grade(F(93), 4, passed_city=True, passed_provincial=True) is Grade.GOOD
    assert inspection_grade(F(88), 1, passed_city=True, passed_provincial=False) is Grade.FAIL
    assert inspection_grade(F(80), 5, passed_city=True, passed_provincial=True) is Grade.GOOD
    assert inspection_grade(F("59.9"), 5, passed_city=True, passed_provincial=True) is Grade.FAIL


def test_ex_level_1_week_and_month() -> None:
    events = [
        LevelEvent("CriticismIssued", "CITY_GOVERNMENT", "back lanes"),
        LevelEvent("CommendationIssued", "DISTRICT"),
    ]

    assert level_score(F(88), events) == 87
    assert level_score(F(90), events) == 89


def test_ex_level_2_national_criticism_provincial_commendation() -> None:
    events = [
        LevelEvent("CriticismIssued", "NATIONAL_MINISTRY"),
        LevelEvent("CommendationIssued", "PROVINCIAL_GOVERNMENT"),
    ]

    assert level_score(F(84), events) == 83


# --- F-SURVEY ------------------------------------------------------------------------------------


def test_ex_survey_1_composite_and_points() -> None:
    scores = {
        "SERVICE_USER": category_score([F("8.2"), F("7.6"), F("9.0")]),
        "STAFF": category_score([F("9.0"), F("9.4"), F("8.8")]),
        "DEPUTY": category_score([F("7.0"), F("7.5"), F("8.0")]),
        "INVITED_SUPERVISOR": category_score([F("6.0"), F("7.0"), F("8.0")]),
    }

    composite = survey_composite(scores, SURVEY_WEIGHTS_004)

    assert scores["SERVICE_USER"] == F(248, 3)
    assert composite == F(1204, 15)
    assert round_half_up(composite) == Decimal("80.2667")  # type: ignore[arg-type]
    assert survey_points(F(1204, 15), DEFAULT) == F("4.816")


def test_ex_survey_2_dont_know_answers_are_excluded() -> None:
    assert answers_mean([10, 8, None, 6]) == F(8)


def test_survey_without_answers_in_a_category_is_not_computable() -> None:
    scores = {"SERVICE_USER": F(80), "STAFF": F(80), "DEPUTY": None, "INVITED_SUPERVISOR": F(80)}

    assert answers_mean([None, None]) is None
    assert survey_composite(scores, SURVEY_WEIGHTS_004) is None


# --- §5.9 coverage and progress ------------------------------------------------------------------


def test_ex_rate_1_and_2_centralised_support_rate() -> None:
    assert round_half_up(rate(52, 120), 4) == Decimal("0.4333")
    assert rate(52, 120) >= F(2, 5)
    assert rate(35, 100) < F(2, 5)


def test_ex_rate_2_as_an_indicator_deducts_thirty_percent() -> None:
    score = score_indicator(indicator("T", F(2, 5), rate(35, 100), "10"), None, DEFAULT)

    assert score.deduction == F(3)  # s = 0.125, 6 steps, 30 % of B
    assert score.met is False


def test_ex_beds_1_and_2_milestones() -> None:
    assert milestone_met(F(170), F(300), F(3, 5)) is False
    assert milestone_met(F(185), F(300), F(3, 5)) is True
    assert milestone_met(F(300), F(300), F(1)) is True


# --- F-RANK --------------------------------------------------------------------------------------

HOUSING = "SUBSIDISED_HOUSING"


def ex_rank_1() -> list[RankInput]:
    def county(name: str, score: str, housing: str, *, vetoed: bool = False) -> RankInput:
        return RankInput(name, F(score), vetoed=vetoed, category_scores={HOUSING: F(housing)})

    return [
        county("A", "100.4", "12.0"),
        county("B", "96.125", "10.0", vetoed=True),
        county("C", "98.2", "11.6"),
        county("D", "97.0", "10.8"),
        county("E", "99.0", "11.2", vetoed=True),
        county("F", "95.5", "10.0"),
    ]


def test_ex_rank_1_veto_rank_shift_and_last_place() -> None:
    result = rank(ex_rank_1(), AwardQuotas(comprehensive=3, single_item={HOUSING: 1}))

    assert result.comprehensive == ("A", "C", "D")
    assert result.last_place == ("F",)
    assert result.single_item == {HOUSING: ("E",)}
    assert result.order == ("A", "E", "C", "D", "B", "F")
    assert result.undecided_ties == ()


def test_ex_rank_2_tie_inside_the_quota_and_no_last_place() -> None:
    scores = ["99.1", "98.7", "98.7", "97.9", "96.0", "95.2"]
    items = [RankInput(f"K{i}", F(s)) for i, s in enumerate(scores)]

    result = rank(items, AwardQuotas(comprehensive=3))

    assert set(result.comprehensive) == {"K0", "K1", "K2"}
    assert result.last_place == ()
    assert result.undecided_ties == ()


def test_tie_at_the_quota_boundary_goes_to_task_completion_then_decision() -> None:
    items = [
        RankInput("A", F(99)),
        RankInput("B", F(98)),
        RankInput("C", F(97), tasks=F(80)),
        RankInput("D", F(97), tasks=F(81)),
    ]
    assert rank(items, AwardQuotas()).comprehensive == ("A", "B", "D")

    level = [
        RankInput("A", F(99)),
        RankInput("B", F(98)),
        RankInput("C", F(97)),
        RankInput("D", F(97)),
    ]
    undecided = rank(level, AwardQuotas())
    decided = rank(level, AwardQuotas(), decided=["D", "C"])

    assert undecided.undecided_ties == (("C", "D"),)
    assert decided.comprehensive == ("A", "B", "D")
    assert decided.undecided_ties == ()


def test_revoked_eligibility_removes_every_award_and_shifts_rank() -> None:
    items = [
        *ex_rank_1()[:4],
        RankInput("E", F("99.0"), vetoed=True, revoked=True, category_scores={HOUSING: F("11.2")}),
        ex_rank_1()[5],
    ]

    result = rank(items, AwardQuotas(comprehensive=3, single_item={HOUSING: 1}))

    assert result.single_item == {HOUSING: ("B",)}  # A, C, D won; E revoked; B beats F on S


def test_ex_cash_1_seven_pledge_units() -> None:
    order = [f"U{i}" for i in range(1, 8)]

    entries = cash_entries(order, CASH_PLEDGE_UNITS)

    amounts = {(e.assessee, e.kind): e.amount_fen for e in entries}
    assert amounts == {
        ("U1", "REWARD"): 300_000,
        ("U2", "REWARD"): 200_000,
        ("U3", "REWARD"): 100_000,
        ("U7", "FINE"): 300_000,
        ("U6", "FINE"): 200_000,
        ("U5", "FINE"): 100_000,
    }
    assert sum(e.amount_fen for e in entries if e.kind == "REWARD") == 600_000


def test_ex_cash_2_five_units_never_both_rewarded_and_fined() -> None:
    entries = cash_entries([f"U{i}" for i in range(1, 6)], CASH_PLEDGE_UNITS)

    assert [(e.assessee, e.kind, e.amount_fen) for e in entries] == [
        ("U1", "REWARD", 300_000),
        ("U2", "REWARD", 200_000),
        ("U3", "REWARD", 100_000),
        ("U5", "FINE", 300_000),
        ("U4", "FINE", 200_000),
    ]


def test_individual_nominations_must_equal_the_quota_exactly() -> None:
    problems = individual_quota_problems({"county-1": 4, "zone-1": 3}, {"county-1": 4, "zone-1": 2})

    assert problems == ["zone-1 nominated 3, its quota is exactly 2"]
