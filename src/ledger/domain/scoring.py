"""Scoring formulas of ``domain.md`` §5.1-§5.7 and §5.9 (pure, exact arithmetic).

Every value is an exact :class:`~fractions.Fraction` until it is *stored*: an indicator score is
stored rounded half-up to 4 decimals (§5.0) and component and annual totals are sums of stored
scores. Parameters never live here as buried constants: they come in a :class:`ScoringRules`
built from the published scheme (:func:`rules_from_config`); the defaults of the dataclass are
the sample parameterisation of §3.2 (repaired reading, §5.10) so that a scheme may omit them.

Ranking and awards (F-RANK, AWD-*) are in :mod:`ledger.domain.scoring_rank`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from ledger.domain.supervision_points import (
    CRITICISM,
    LEVEL_SCHEDULE,
    PENALTY_SCHEDULE_002,
    PointsSchedule,
    points_for,
)

FORMULA_VERSION = "1"
"""Version of the formulas in this module; recorded with every computed score (§5.0)."""

STORED_PLACES = 4
LIVELIHOOD_TARGET = "LIVELIHOOD_TARGET"


class ShortfallMode(StrEnum):
    """How a shortfall is turned into steps (§5.2, ``shortfall_mode``)."""

    FLOOR = "FLOOR"
    PROPORTIONAL = "PROPORTIONAL"
    CEIL = "CEIL"


class ShortfallBasis(StrEnum):
    """How the shortfall is measured (§5.2, ``shortfall_basis``)."""

    RATIO = "RATIO"
    PERCENTAGE_POINTS = "PERCENTAGE_POINTS"


@dataclass(frozen=True, slots=True)
class ScoringRules:
    """The ``rules`` of an ``AssessmentSchemePublished`` (§6.2) as exact numbers."""

    bonus_top_fraction: Fraction = Fraction(1, 5)
    shortfall_step: Fraction = Fraction(1, 50)
    shortfall_deduction: Fraction = Fraction(1, 20)
    deduction_cap: Fraction = Fraction(3, 5)
    shortfall_mode: ShortfallMode = ShortfallMode.FLOOR
    shortfall_basis: ShortfallBasis = ShortfallBasis.RATIO
    survey_points: Fraction = Fraction(6)
    """Points of the public-survey component M (002: 6)."""
    survey_scale: Fraction = Fraction(100)
    """Scale of the survey composite (004 篇十四: 100-point)."""


def rules_from_config(config: Mapping[str, str]) -> ScoringRules:
    """The rules from a scheme's ``rules`` object (exact ratio or decimal strings)."""
    defaults = ScoringRules()

    def ratio(name: str, default: Fraction) -> Fraction:
        raw = config.get(name)
        return default if raw is None else Fraction(raw)

    return ScoringRules(
        bonus_top_fraction=ratio("bonus_top_fraction", defaults.bonus_top_fraction),
        shortfall_step=ratio("shortfall_step", defaults.shortfall_step),
        shortfall_deduction=ratio("shortfall_deduction", defaults.shortfall_deduction),
        deduction_cap=ratio("deduction_cap", defaults.deduction_cap),
        shortfall_mode=ShortfallMode(config.get("shortfall_mode", defaults.shortfall_mode)),
        shortfall_basis=ShortfallBasis(config.get("shortfall_basis", defaults.shortfall_basis)),
        survey_points=ratio("survey_points", defaults.survey_points),
        survey_scale=ratio("survey_scale", defaults.survey_scale),
    )


# --- exact numbers ------------------------------------------------------------------------------


def exact(value: str | int | Decimal | Fraction) -> Fraction:
    """An exact rational from a decimal string, ``"p/q"``, an int or a Decimal (never a float)."""
    if isinstance(value, float):  # pragma: no cover - guarded for callers outside mypy
        raise TypeError("binary floats are not allowed in scores (domain.md §5.0)")
    return Fraction(value)


def round_half_up(value: Fraction, places: int = STORED_PLACES) -> Decimal:
    """``value`` rounded half away from zero to ``places`` decimals, computed exactly."""
    scale = 10**places
    scaled = abs(value) * scale
    whole = math.floor(scaled + Fraction(1, 2))
    signed = whole if value >= 0 else -whole
    return Decimal(signed).scaleb(-places)


def stored(value: Fraction) -> Decimal:
    """The stored form of a score: 4 decimals, half-up (§5.0)."""
    return round_half_up(value, STORED_PLACES)


# --- F-BONUS / F-SHORT ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndicatorInput:
    """One assessee's result on one indicator (the inputs of F-BONUS / F-SHORT).

    ``discretionary`` is the assessor's deduction for an indicator that cannot be measured as
    a ratio (``measurable_by_ratio`` false); it is capped like any other deduction.
    """

    assessee: str
    indicator_id: str
    target: Fraction
    actual: Fraction
    base_points: Fraction
    bonus_eligible: bool = True
    measurable_by_ratio: bool = True
    met_if_not_ratio: bool = True
    discretionary: Fraction = Fraction(0)
    category: str = ""


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    """F-BONUS / F-SHORT outcome; ``final`` is the stored (4-decimal) score."""

    base: Fraction
    bonus: Fraction
    deduction: Fraction
    final: Decimal
    met: bool
    formula_id: str
    completion_ratio: Fraction | None


def completion_ratio(target: Fraction, actual: Fraction) -> Fraction:
    """``c = A / T`` (§5.1); ``T`` must be positive."""
    if target <= 0:
        raise ValueError(f"target must be positive, got {target}")
    return actual / target


def over_ratio(target: Fraction, actual: Fraction) -> Fraction:
    """``r = c - 1`` (超额完成比例); negative when the target is missed."""
    return completion_ratio(target, actual) - 1


def peer_r_max(inputs: Iterable[IndicatorInput]) -> Fraction | None:
    """The highest positive over-completion ratio among the bonus-eligible results of a peer
    group, or ``None`` when nobody over-completed (then nobody gets a bonus, §5.1)."""
    ratios = [
        over_ratio(i.target, i.actual) for i in inputs if i.measurable_by_ratio and i.bonus_eligible
    ]
    positive = [r for r in ratios if r > 0]
    return max(positive) if positive else None


def bonus(base: Fraction, r: Fraction, r_max: Fraction | None, rules: ScoringRules) -> Fraction:
    """F-BONUS: ``(1/5) * B * r / r_max`` for an over-completing unit, else 0."""
    if r <= 0 or r_max is None or r_max <= 0:
        return Fraction(0)
    return rules.bonus_top_fraction * base * r / r_max


def shortfall(target: Fraction, actual: Fraction, rules: ScoringRules) -> Fraction:
    """F-SHORT ``s``: ``1 - A/T`` (basis RATIO) or ``T - A`` (basis PERCENTAGE_POINTS)."""
    if rules.shortfall_basis is ShortfallBasis.PERCENTAGE_POINTS:
        return max(Fraction(0), target - actual)
    return max(Fraction(0), 1 - completion_ratio(target, actual))


def shortfall_deduction(base: Fraction, s: Fraction, rules: ScoringRules) -> Fraction:
    """F-SHORT deduction: 5 % of B per 2 % short (mode FLOOR/CEIL/PROPORTIONAL), ≤ 60 % of B."""
    steps_exact = s / rules.shortfall_step
    if rules.shortfall_mode is ShortfallMode.FLOOR:
        steps = Fraction(math.floor(steps_exact))
    elif rules.shortfall_mode is ShortfallMode.CEIL:
        steps = Fraction(math.ceil(steps_exact))
    else:
        steps = steps_exact
    return capped_deduction(base, steps * rules.shortfall_deduction * base, rules)


def capped_deduction(base: Fraction, deduction: Fraction, rules: ScoringRules) -> Fraction:
    """A per-indicator deduction never exceeds ``deduction_cap`` * B (N-AS-9, SCO-4)."""
    return min(rules.deduction_cap * base, max(Fraction(0), deduction))


def score_indicator(
    item: IndicatorInput, r_max: Fraction | None, rules: ScoringRules
) -> IndicatorScore:
    """F-BONUS when the target is met, F-SHORT when it is missed (one indicator, one unit).

    ``r_max`` is the peer group's :func:`peer_r_max`. A non-ratio indicator scores
    ``B - min(0.6 B, discretionary)``; its ``met`` flag is the assessor's
    ``met_if_not_ratio``.
    """
    base = item.base_points
    if not item.measurable_by_ratio:
        cut = capped_deduction(base, item.discretionary, rules)
        return IndicatorScore(
            base, Fraction(0), cut, stored(base - cut), item.met_if_not_ratio, "F-SHORT", None
        )
    c = completion_ratio(item.target, item.actual)
    if c >= 1:
        extra = bonus(base, c - 1, r_max, rules) if item.bonus_eligible else Fraction(0)
        return IndicatorScore(base, extra, Fraction(0), stored(base + extra), True, "F-BONUS", c)
    cut = shortfall_deduction(base, shortfall(item.target, item.actual, rules), rules)
    return IndicatorScore(base, Fraction(0), cut, stored(base - cut), False, "F-SHORT", c)


def score_peer_group(
    inputs: Sequence[IndicatorInput], rules: ScoringRules
) -> dict[str, IndicatorScore]:
    """Score every assessee of one indicator's peer group (assessee → score)."""
    r_max = peer_r_max(inputs)
    return {i.assessee: score_indicator(i, r_max, rules) for i in inputs}


# --- F-PEN / F-ANNUAL ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Criticism:
    """What F-PEN needs of one ``CriticismIssued``."""

    issuer_level: str
    related_to: str = LIVELIHOOD_TARGET


def penalty_points(
    criticisms: Iterable[Criticism], schedule: PointsSchedule = PENALTY_SCHEDULE_002
) -> Fraction:
    """F-PEN: P = Σ points of the livelihood-target criticisms (2 provincial/national, 1 city or
    provincial line department, 0 otherwise by default); a positive magnitude."""
    total = Fraction(0)
    for criticism in criticisms:
        if criticism.related_to == LIVELIHOOD_TARGET:
            total -= exact(points_for(CRITICISM, criticism.issuer_level, schedule=schedule))
    return total


@dataclass(frozen=True, slots=True)
class AnnualScore:
    """F-ANNUAL: ``S = O + M + T - P`` with its parts (all exact)."""

    organisation: Fraction
    survey: Fraction
    tasks: Fraction
    penalty: Fraction

    @property
    def total(self) -> Fraction:
        return self.organisation + self.survey + self.tasks - self.penalty


def annual_score(
    sub_item_points: Iterable[Fraction],
    survey_points: Fraction,
    indicator_scores: Iterable[Decimal | Fraction],
    penalty: Fraction,
) -> AnnualScore:
    """F-ANNUAL from the sub-item points (O), the survey points (M), the *stored* indicator
    scores (T) and the penalty (P)."""
    return AnnualScore(
        organisation=sum(sub_item_points, Fraction(0)),
        survey=survey_points,
        tasks=sum((exact(s) for s in indicator_scores), Fraction(0)),
        penalty=penalty,
    )


# --- F-SURVEY -----------------------------------------------------------------------------------


def answers_mean(answers: Iterable[int | None]) -> Fraction | None:
    """Mean of 0-10 answers excluding "don't know" (``None``); ``None`` if no valid answer."""
    valid = [Fraction(a) for a in answers if a is not None]
    if any(not 0 <= a <= 10 for a in valid):
        raise ValueError("survey answers are on the 0-10 scale")
    return sum(valid, Fraction(0)) / len(valid) if valid else None


def category_score(indicator_means: Sequence[Fraction]) -> Fraction:
    """``S_g = 10 * average of the indicator means`` (换算为百分制)."""
    if not indicator_means:
        raise ValueError("a survey category needs at least one indicator mean")
    return 10 * sum(indicator_means, Fraction(0)) / len(indicator_means)


def survey_composite(
    scores: Mapping[str, Fraction | None], weights: Mapping[str, Fraction]
) -> Fraction | None:
    """Weighted composite of the category scores; ``None`` (not computable, AF-SUR-QUOTA) when
    a weighted category has no score. Weights are never renormalised."""
    if sum(weights.values(), Fraction(0)) != 1:
        raise ValueError("survey weights must add up to 1")
    total = Fraction(0)
    for category, weight in weights.items():
        score = scores.get(category)
        if score is None:
            return None
        total += weight * score
    return total


def survey_points(composite: Fraction, rules: ScoringRules) -> Fraction:
    """The public-survey component M = 6 * composite / 100 (Q3 default mapping)."""
    return rules.survey_points * composite / rules.survey_scale


SURVEY_WEIGHTS_004 = {
    "SERVICE_USER": Fraction(65, 100),
    "STAFF": Fraction(5, 100),
    "DEPUTY": Fraction(20, 100),
    "INVITED_SUPERVISOR": Fraction(10, 100),
}
"""004 篇十四 weights (N-SU-2..5); a survey design publishes its own."""


# --- F-COMP -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskItem:
    """One task of the 100-point completion scheme: item points and task units."""

    points: Fraction
    done: int
    required: int


def completion_item_score(item: TaskItem) -> Fraction:
    """``w * min(done, required) / required`` (單項分值*完成比率; capping ``done`` is [I])."""
    if item.required <= 0:
        raise ValueError("a task needs a positive number of required units")
    return item.points * min(item.done, item.required) / item.required


def completion_score(
    items: Sequence[TaskItem],
    adjustments: Iterable[tuple[int, Fraction]] = (),
) -> Fraction:
    """F-COMP: Σ item scores + Σ count * signed points (e.g. ``(1, 2)`` for one first place,
    ``(2, -2)`` for two omissions), the points coming from the scheme's schedule."""
    base = sum((completion_item_score(i) for i in items), Fraction(0))
    return base + sum((count * points for count, points in adjustments), Fraction(0))


# --- F-INSP / F-LEVEL ---------------------------------------------------------------------------


class Grade(StrEnum):
    """Year-end grades of 004 篇三 (优秀/良好/合格/不合格)."""

    EXCELLENT = "EXCELLENT"
    GOOD = "GOOD"
    PASS = "PASS"  # noqa: S105 - a grade, not a password
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class GradeThresholds:
    """``grade_thresholds`` of a scheme: inclusive lower bounds ("以上") and the rank limit."""

    excellent: Fraction = Fraction(90)
    good: Fraction = Fraction(80)
    passing: Fraction = Fraction(60)
    excellent_max_rank: int = 3


def inspection_single(raw: Fraction, item_deductions: Iterable[Fraction]) -> Fraction:
    """F-INSP single score: raw minus the item deductions (magnitudes)."""
    return raw - sum(item_deductions, Fraction(0))


def inspection_annual(singles: Sequence[Fraction]) -> Fraction:
    """F-INSP annual score: the mean of the single-inspection scores."""
    if not singles:
        raise ValueError("an annual inspection score needs at least one scored inspection")
    return sum(singles, Fraction(0)) / len(singles)


def inspection_grade(
    annual: Fraction,
    rank: int,
    *,
    passed_city: bool,
    passed_provincial: bool,
    thresholds: GradeThresholds | None = None,
) -> Grade:
    """F-INSP grade: FAIL without provincial acceptance; EXCELLENT needs both acceptances, a
    rank within the top 3 and ≥ 90; then ≥ 80 GOOD, ≥ 60 PASS, else FAIL."""
    t = thresholds or GradeThresholds()
    if not passed_provincial:
        return Grade.FAIL
    if passed_city and rank <= t.excellent_max_rank and annual >= t.excellent:
        return Grade.EXCELLENT
    if annual >= t.good:
        return Grade.GOOD
    if annual >= t.passing:
        return Grade.PASS
    return Grade.FAIL


@dataclass(frozen=True, slots=True)
class LevelEvent:
    """A criticism or commendation as F-LEVEL prices it."""

    event_type: str
    issuer_level: str
    item: str | None = None


def level_score(
    raw: Fraction, events: Iterable[LevelEvent], schedule: PointsSchedule = LEVEL_SCHEDULE
) -> Fraction:
    """F-LEVEL: the week's or month's raw score plus the signed adjustments of its events."""
    adjustments = (
        exact(points_for(e.event_type, e.issuer_level, e.item, schedule=schedule)) for e in events
    )
    return raw + sum(adjustments, Fraction(0))


# --- §5.9 coverage and progress -----------------------------------------------------------------


def rate(part: int, whole: int) -> Fraction:
    """A coverage rate ``part / whole`` (e.g. the centralised-support rate)."""
    if whole <= 0:
        raise ValueError("a rate needs a positive denominator")
    return Fraction(part, whole)


def milestone_met(done: Fraction, total: Fraction, fraction: Fraction) -> bool:
    """Whether progress ``done / total`` reaches the milestone ``fraction`` (≥, inclusive)."""
    return done >= fraction * total
