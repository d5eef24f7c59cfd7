"""Escalation ladders (``domain.md`` §5.12): which escalation is due for a subject at a date.

Pure, date-driven functions: the ledger never issues a criticism, warning or referral itself
(those are human decisions, §4.13); the escalation projection calls these functions to emit
``EscalationDue`` expectations, and the findings detector raises ``AF-ESC-NOT-APPLIED`` when an
expectation stays unmet after the grace period.

Ladders:

* ``RECTIFICATION`` (004 篇七): deadline passed and not PASSED → criticism due the day after
  the deadline; a verification that still FAILS after the deadline (or, when configured, still
  overdue ``accountability_after_days`` after the criticism became due) → accountability due.
* ``MONTHLY_BOTTOM3`` (004 篇七, N-SV-22): first placement → criticism; two consecutive
  months → warning; third placement → accountability. ``CUMULATIVE`` (default) counts every
  placement; ``CONSECUTIVE`` counts the current streak only (EX-ESC-1).
* ``STREET_REPEAT`` (004 篇五, N-SV-28): third top-three placing → commendation and year-end
  award; third last place → public self-criticism and loss of award eligibility.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ledger.domain.periods import Period


class Mode(StrEnum):
    """How repeated bottom-three placements are counted."""

    CUMULATIVE = "CUMULATIVE"
    CONSECUTIVE = "CONSECUTIVE"


class Step(StrEnum):
    """An escalation that can fall due (the ``step`` of ``EscalationDue``)."""

    CRITICISM = "CRITICISM"
    WARNING = "WARNING"
    ACCOUNTABILITY = "ACCOUNTABILITY"
    COMMENDATION_AND_AWARD = "COMMENDATION_AND_AWARD"
    PUBLIC_SELF_CRITICISM = "PUBLIC_SELF_CRITICISM"
    AWARD_ELIGIBILITY_REVOKED = "AWARD_ELIGIBILITY_REVOKED"


STEP_EVENT_TYPES: dict[Step, str] = {
    Step.CRITICISM: "CriticismIssued",
    Step.WARNING: "WarningIssued",
    Step.ACCOUNTABILITY: "AccountabilityReferred",
    Step.COMMENDATION_AND_AWARD: "CommendationIssued",
    Step.PUBLIC_SELF_CRITICISM: "PublicSelfCriticismRequired",
    Step.AWARD_ELIGIBILITY_REVOKED: "AwardEligibilityRevoked",
}
"""The decision event that satisfies each step."""


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """The configurable ladders (``EscalationPolicyPublished``); defaults are §5.12's."""

    mode: Mode = Mode.CUMULATIVE
    warning_streak: int = 2
    """Consecutive bottom-three months that make a warning due."""
    accountability_count: int = 3
    """Bottom-three placements (or streak, in CONSECUTIVE mode) that make accountability due."""
    repeat_count: int = 3
    """Top-three or last placings that trigger the STREET_REPEAT steps."""
    accountability_after_days: int | None = None
    """Calendar days after the criticism fell due after which a still-open notice makes
    accountability due without a failed verification; ``None``: only a failed one does."""
    grace_working_days: int = 10
    """How long a due escalation may stay unmet before AF-ESC-NOT-APPLIED (detector's)."""


DEFAULT_POLICY = EscalationPolicy()


@dataclass(frozen=True, slots=True)
class Due:
    """An escalation step that is due, from ``due_from`` on."""

    step: Step
    due_from: date


# --- MONTHLY_BOTTOM3 -----------------------------------------------------------------------------


def _streak_ending(months: frozenset[Period], at: Period) -> int:
    """How many consecutive months up to and including ``at`` are in ``months``."""
    streak = 0
    while at.plus(-streak) in months:
        streak += 1
    return streak


def bottom_three_step(
    placements: Iterable[Period], at: Period, policy: EscalationPolicy = DEFAULT_POLICY
) -> Step | None:
    """The step due for a unit placed in the monthly bottom three in month ``at``.

    ``placements`` are the months (of the counting year) in which the unit placed in the bottom
    three; ``None`` when ``at`` is not one of them.

    >>> months = [Period(2024, 3), Period(2024, 4), Period(2024, 6)]
    >>> str(bottom_three_step(months, Period(2024, 6)))
    'ACCOUNTABILITY'
    >>> str(bottom_three_step(months, Period(2024, 6), EscalationPolicy(Mode.CONSECUTIVE)))
    'CRITICISM'
    """
    months = frozenset(placements)
    if at not in months:
        return None
    streak = _streak_ending(months, at)
    # CONSECUTIVE: a broken streak starts the ladder again (EX-ESC-1, June).
    count = streak if policy.mode is Mode.CONSECUTIVE else sum(1 for m in months if m <= at)
    if count >= policy.accountability_count:
        return Step.ACCOUNTABILITY
    if streak >= policy.warning_streak:
        return Step.WARNING
    return Step.CRITICISM


# --- STREET_REPEAT -------------------------------------------------------------------------------


def street_repeat_steps(
    top_three: Iterable[Period],
    last_place: Iterable[Period],
    at: Period,
    policy: EscalationPolicy = DEFAULT_POLICY,
) -> tuple[Step, ...]:
    """The steps due in month ``at`` for 3x top three or 3x last (篇五, counted in the year of
    the given placings); due once, on the placing that reaches the count `[I]`."""
    steps: list[Step] = []
    if at in set(top_three) and sum(1 for m in set(top_three) if m <= at) == policy.repeat_count:
        steps.append(Step.COMMENDATION_AND_AWARD)
    if at in set(last_place) and sum(1 for m in set(last_place) if m <= at) == policy.repeat_count:
        steps += [Step.PUBLIC_SELF_CRITICISM, Step.AWARD_ELIGIBILITY_REVOKED]
    return tuple(steps)


# --- RECTIFICATION -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoticeTrack:
    """What the rectification ladder needs to know about one notice (and its reissues)."""

    deadline: date
    passed_on: date | None
    """When the notice (or its reissued successor) was verified PASSED, if ever."""
    failed_verifications: tuple[date, ...] = ()


def rectification_due(
    track: NoticeTrack, at: date, policy: EscalationPolicy = DEFAULT_POLICY
) -> Due | None:
    """The highest rectification step due on ``at`` (EX-ESC-2), or ``None``.

    >>> track = NoticeTrack(date(2024, 3, 15), None, (date(2024, 3, 29),))
    >>> rectification_due(track, date(2024, 3, 16))
    Due(step=<Step.CRITICISM: 'CRITICISM'>, due_from=datetime.date(2024, 3, 16))
    >>> rectification_due(track, date(2024, 3, 29)).step
    <Step.ACCOUNTABILITY: 'ACCOUNTABILITY'>
    """
    if track.passed_on is not None and track.passed_on <= at:
        return None
    if at <= track.deadline:
        return None
    criticism_from = track.deadline + timedelta(days=1)
    failed_late = [d for d in track.failed_verifications if track.deadline < d <= at]
    if failed_late:
        # "仍無改進者,實行責任追究": a later check still finds it not rectified.
        return Due(Step.ACCOUNTABILITY, min(failed_late))
    if policy.accountability_after_days is not None:
        still_open_from = criticism_from + timedelta(days=policy.accountability_after_days)
        if at >= still_open_from:
            return Due(Step.ACCOUNTABILITY, still_open_from)
    return Due(Step.CRITICISM, criticism_from)
