"""Recompute a scheme's annual scores and ranking from plain inputs (F-ANNUAL + F-RANK).

:func:`recompute_assessment` is the one function the consolidation rule, the score-table
projection and decision replay share: give it the scheme configuration and, per assessee, the
organisation sub-item points (O), the stored survey points (M), the indicator results (the
inputs of F-BONUS / F-SHORT), the applied penalty and bonus points, and whether its award
eligibility was revoked; it returns every indicator score, every annual breakdown and the
ranking with awards. Pure and exact: the same inputs always give the same output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from ledger.domain.scoring import (
    IndicatorInput,
    IndicatorScore,
    ScoringRules,
    score_peer_group,
)
from ledger.domain.scoring_rank import AwardQuotas, RankingResult, RankInput, rank


@dataclass(frozen=True, slots=True)
class AssesseeYear:
    """One assessee's inputs in one scheme (plain values, no events)."""

    assessee: str
    sub_item_points: Mapping[str, Fraction]
    survey_points: Fraction
    indicators: Sequence[IndicatorInput]
    penalty: Fraction = Fraction(0)
    bonus_points: Fraction = Fraction(0)
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class AnnualBreakdown:
    """``S = O + M + T + B - P`` (B: bonus points of 004-style schemes, 0 under 002)."""

    assessee: str
    organisation: Fraction
    survey: Fraction
    tasks: Fraction
    bonus_points: Fraction
    penalty: Fraction
    failing_indicator_ids: tuple[str, ...]
    category_scores: Mapping[str, Fraction] = field(default_factory=dict)

    @property
    def total(self) -> Fraction:
        return self.organisation + self.survey + self.tasks + self.bonus_points - self.penalty

    @property
    def vetoed(self) -> bool:
        """一票否决: at least one indicator was not met."""
        return bool(self.failing_indicator_ids)


@dataclass(frozen=True, slots=True)
class Recomputation:
    """Everything :func:`recompute_assessment` derives."""

    scores: Mapping[tuple[str, str], IndicatorScore]
    """(assessee, indicator id) → score."""
    annual: Mapping[str, AnnualBreakdown]
    ranking: RankingResult


def indicator_scores(
    years: Sequence[AssesseeYear], rules: ScoringRules
) -> dict[tuple[str, str], IndicatorScore]:
    """Score every indicator; the peer group of an indicator is every assessee with it."""
    groups: dict[str, list[IndicatorInput]] = {}
    for year in years:
        for item in year.indicators:
            groups.setdefault(item.indicator_id, []).append(item)
    scores: dict[tuple[str, str], IndicatorScore] = {}
    for indicator_id, group in sorted(groups.items()):
        for assessee, score in score_peer_group(group, rules).items():
            scores[(assessee, indicator_id)] = score
    return scores


def annual_breakdown(
    year: AssesseeYear, scores: Mapping[tuple[str, str], IndicatorScore]
) -> AnnualBreakdown:
    """F-ANNUAL for one assessee from its stored indicator scores."""
    categories: dict[str, Fraction] = {}
    failing = []
    for item in year.indicators:
        score = scores[(year.assessee, item.indicator_id)]
        categories[item.category] = categories.get(item.category, Fraction(0)) + Fraction(
            score.final
        )
        if not score.met:
            failing.append(item.indicator_id)
    return AnnualBreakdown(
        assessee=year.assessee,
        organisation=sum(year.sub_item_points.values(), Fraction(0)),
        survey=year.survey_points,
        tasks=sum(categories.values(), Fraction(0)),
        bonus_points=year.bonus_points,
        penalty=year.penalty,
        failing_indicator_ids=tuple(sorted(failing)),
        category_scores=categories,
    )


def recompute_assessment(
    rules: ScoringRules,
    quotas: AwardQuotas,
    years: Sequence[AssesseeYear],
    decided: Sequence[str] = (),
) -> Recomputation:
    """Indicator scores, annual scores S = O + M + T + B - P and the F-RANK ranking with the
    veto, awards and last place, for every assessee of one scheme.

    ``decided`` is the order recorded by ``TieBrokenByDecision`` events (best first).
    """
    scores = indicator_scores(years, rules)
    annual = {y.assessee: annual_breakdown(y, scores) for y in years}
    revoked = {y.assessee for y in years if y.revoked}
    items = [
        RankInput(
            assessee=a.assessee,
            score=a.total,
            tasks=a.tasks,
            penalty=a.penalty,
            vetoed=a.vetoed,
            revoked=a.assessee in revoked,
            category_scores=a.category_scores,
        )
        for a in annual.values()
    ]
    return Recomputation(scores, annual, rank(items, quotas, decided))


def ranking_rows(result: Recomputation) -> list[dict[str, object]]:
    """The ranking as ``AssessmentConsolidated.ranking`` rows (decimal strings, best first)."""
    rows: list[dict[str, object]] = []
    for assessee in result.ranking.order:
        a = result.annual[assessee]
        rows.append(
            {
                "assessee": assessee,
                "S": points_text(a.total),
                "O": points_text(a.organisation),
                "M": points_text(a.survey),
                "T": points_text(a.tasks),
                "B": points_text(a.bonus_points),
                "P": points_text(a.penalty),
                "vetoed": a.vetoed,
                "failing_indicator_ids": list(a.failing_indicator_ids),
            }
        )
    return rows


def points_text(value: Fraction) -> str:
    """An exact sum of stored scores as a canonical decimal string (≤ 4 decimals, no trailing
    zeros): ``Fraction(1004, 10)`` → ``"100.4"``."""
    text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    if Fraction(Decimal(text)) != value:
        raise ValueError(f"{value} is not a sum of 4-decimal stored scores")
    return text.rstrip("0").rstrip(".") if "." in text else text
