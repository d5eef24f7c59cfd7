"""§5.12 escalation ladders (EX-ESC-1, EX-ESC-2) and W14 points by issuer level (EX-LEVEL,
EX-PEN, EX-INSP item deductions)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledger.domain.escalation import (
    Due,
    EscalationPolicy,
    Mode,
    NoticeTrack,
    Step,
    bottom_three_step,
    rectification_due,
    street_repeat_steps,
)
from ledger.domain.periods import Period
from ledger.domain.supervision_points import (
    INSPECTION_SCHEDULE,
    LEVEL_SCHEDULE,
    PENALTY_SCHEDULE_002,
    points_for,
    schedule_from_config,
)

MARCH, APRIL, MAY, JUNE = (Period(2024, m) for m in (3, 4, 5, 6))
EX_ESC_1 = [MARCH, APRIL, JUNE]


# --- EX-ESC-1 ------------------------------------------------------------------------------------


def test_ex_esc_1_cumulative() -> None:
    steps = [bottom_three_step(EX_ESC_1, m) for m in (MARCH, APRIL, MAY, JUNE)]

    assert steps == [Step.CRITICISM, Step.WARNING, None, Step.ACCOUNTABILITY]


def test_ex_esc_1_consecutive_restarts_after_may() -> None:
    policy = EscalationPolicy(mode=Mode.CONSECUTIVE)

    steps = [bottom_three_step(EX_ESC_1, m, policy) for m in (MARCH, APRIL, MAY, JUNE)]

    assert steps == [Step.CRITICISM, Step.WARNING, None, Step.CRITICISM]


def test_three_consecutive_months_make_accountability_due_in_either_mode() -> None:
    months = [MARCH, APRIL, MAY]

    assert bottom_three_step(months, MAY) is Step.ACCOUNTABILITY
    assert bottom_three_step(months, MAY, EscalationPolicy(Mode.CONSECUTIVE)) is Step.ACCOUNTABILITY


def test_a_second_placement_that_is_not_consecutive_is_a_criticism() -> None:
    assert bottom_three_step([MARCH, MAY], MAY) is Step.CRITICISM


def test_street_repeat_third_last_place_revokes_award_eligibility() -> None:
    lasts = [MARCH, APRIL, JUNE]

    assert street_repeat_steps([], lasts, APRIL) == ()
    assert street_repeat_steps([], lasts, JUNE) == (
        Step.PUBLIC_SELF_CRITICISM,
        Step.AWARD_ELIGIBILITY_REVOKED,
    )
    assert street_repeat_steps(lasts, [], JUNE) == (Step.COMMENDATION_AND_AWARD,)


# --- EX-ESC-2 ------------------------------------------------------------------------------------

DEADLINE = date(2024, 3, 15)


def test_ex_esc_2_nothing_due_up_to_the_deadline() -> None:
    track = NoticeTrack(DEADLINE, None)

    assert rectification_due(track, date(2024, 3, 1)) is None
    assert rectification_due(track, DEADLINE) is None


def test_ex_esc_2_criticism_due_on_16_march() -> None:
    track = NoticeTrack(DEADLINE, None)

    assert rectification_due(track, date(2024, 3, 16)) == Due(Step.CRITICISM, date(2024, 3, 16))
    assert rectification_due(track, date(2024, 3, 28)) == Due(Step.CRITICISM, date(2024, 3, 16))


def test_ex_esc_2_failed_reverification_makes_accountability_due() -> None:
    track = NoticeTrack(DEADLINE, None, (date(2024, 3, 29),))

    assert rectification_due(track, date(2024, 3, 28)) == Due(Step.CRITICISM, date(2024, 3, 16))
    assert rectification_due(track, date(2024, 3, 29)) == Due(
        Step.ACCOUNTABILITY, date(2024, 3, 29)
    )


def test_a_failure_before_the_deadline_does_not_escalate() -> None:
    track = NoticeTrack(DEADLINE, None, (date(2024, 3, 10),))

    assert rectification_due(track, date(2024, 3, 16)) == Due(Step.CRITICISM, date(2024, 3, 16))


def test_passed_before_the_date_means_nothing_is_due() -> None:
    track = NoticeTrack(DEADLINE, date(2024, 3, 20))

    assert rectification_due(track, date(2024, 3, 19)) == Due(Step.CRITICISM, date(2024, 3, 16))
    assert rectification_due(track, date(2024, 3, 20)) is None


def test_still_overdue_after_the_configured_days_makes_accountability_due() -> None:
    policy = EscalationPolicy(accountability_after_days=14)
    track = NoticeTrack(DEADLINE, None)

    assert rectification_due(track, date(2024, 3, 29), policy) == Due(
        Step.CRITICISM, date(2024, 3, 16)
    )
    assert rectification_due(track, date(2024, 3, 30), policy) == Due(
        Step.ACCOUNTABILITY, date(2024, 3, 30)
    )


# --- points by issuer level ----------------------------------------------------------------------


def test_f_level_prices_by_issuer_level() -> None:
    levels = ["DISTRICT", "CITY_GOVERNMENT", "PROVINCIAL_GOVERNMENT", "NATIONAL_MINISTRY"]

    bonuses = [points_for("CommendationIssued", lv) for lv in levels]
    penalties = [points_for("CriticismIssued", lv) for lv in levels]

    assert bonuses == [Decimal(1), Decimal(2), Decimal(3), Decimal(4)]
    assert penalties == [Decimal(-1), Decimal(-2), Decimal(-3), Decimal(-4)]
    assert points_for("CriticismIssued", "STREET_OFFICE") == 0


def test_ex_level_1_week_87_month_89() -> None:
    adjustments = points_for("CriticismIssued", "CITY_GOVERNMENT", "back-lanes") + points_for(
        "CommendationIssued", "DISTRICT"
    )

    assert Decimal(88) + adjustments == Decimal(87)
    assert Decimal(90) + adjustments == Decimal(89)


def test_ex_level_2_month_83() -> None:
    adjustments = points_for("CriticismIssued", "NATIONAL_MINISTRY") + points_for(
        "CommendationIssued", "PROVINCIAL_GOVERNMENT"
    )

    assert Decimal(84) + adjustments == Decimal(83)


def test_ex_pen_1_and_2() -> None:
    def pen(*levels: str) -> Decimal:
        return -sum(
            (points_for("CriticismIssued", lv, schedule=PENALTY_SCHEDULE_002) for lv in levels),
            Decimal(0),
        )

    assert pen("PROVINCIAL_GOVERNMENT", "CITY_GOVERNMENT", "CITY_GOVERNMENT") == 4
    assert pen("PROVINCIAL_LINE_DEPARTMENT", "CITY_OFFICE") == 1


def test_f_insp_item_deductions() -> None:
    def insp(event_type: str, level: str | None) -> Decimal:
        return points_for(event_type, level, schedule=INSPECTION_SCHEDULE)

    assert insp("CriticismIssued", "CITY_GOVERNMENT") == -2
    assert insp("CriticismIssued", "CITY_PARTY_COMMITTEE") == -2
    assert insp("CriticismIssued", "CITY_OFFICE") == -1
    assert insp("MediaExposureRecorded", None) == -1
    # EX-INSP-1 inspection 2: 88 - 2 - 1 = 85.
    assert (
        88 + insp("CriticismIssued", "CITY_GOVERNMENT") + insp("MediaExposureRecorded", None) == 85
    )


def test_a_published_schedule_with_an_item_override() -> None:
    schedule = schedule_from_config(
        "street-2024",
        [
            {"event_type": "CriticismIssued", "issuer_levels": ["DISTRICT"], "points": "-1"},
            {
                "event_type": "CriticismIssued",
                "issuer_levels": ["DISTRICT"],
                "item": "dry-toilet",
                "points": "-2",
            },
            {"event_type": "MediaExposureRecorded", "issuer_levels": [], "points": "-1.5"},
        ],
    )

    assert points_for("CriticismIssued", "DISTRICT", schedule=schedule) == -1
    assert points_for("CriticismIssued", "DISTRICT", "dry-toilet", schedule=schedule) == -2
    assert points_for("MediaExposureRecorded", None, schedule=schedule) == Decimal("-1.5")
    assert points_for("CommendationIssued", "DISTRICT", schedule=schedule) == 0
    assert LEVEL_SCHEDULE.name == "F-LEVEL"
