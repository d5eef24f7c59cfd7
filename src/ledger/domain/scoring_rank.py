"""F-RANK (``domain.md`` §5.11): one-vote veto, ranking with ties, awards with rank shift, last
place, cash rewards and fines, advanced-individual quotas (AWD-1..AWD-7). Pure and exact.

Ordering: by annual score S (desc), then task completion T (desc), then penalty P (asc), then
the order a ``TieBrokenByDecision`` recorded (Q14). Units still equal after all of that are
*undecided*; when such a group straddles an award boundary the result names it in
:attr:`RankingResult.undecided_ties` and the award cannot be decided until the leading group
records a tie-break. Inside the published order an undecided group is listed by assessee id,
which is only a stable presentation, never a decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

Key = tuple[Fraction | int, ...]
"""An ordering key; units with equal keys are tied."""


@dataclass(frozen=True, slots=True)
class RankInput:
    """One assessee's consolidated figures."""

    assessee: str
    score: Fraction
    tasks: Fraction = Fraction(0)
    penalty: Fraction = Fraction(0)
    vetoed: bool = False
    """Has an indicator with ``met = false`` (一票否决: no comprehensive award, AWD-1)."""
    revoked: bool = False
    """Award eligibility revoked for the year (AWD-7: no award at all)."""
    category_scores: Mapping[str, Fraction] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AwardQuotas:
    """``award_quotas`` of a scheme: comprehensive winners, last places, single items."""

    comprehensive: int = 3
    last_place: int = 1
    single_item: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RankingResult:
    """The recomputed ranking and awards of one peer group."""

    order: tuple[str, ...]
    comprehensive: tuple[str, ...]
    single_item: Mapping[str, tuple[str, ...]]
    last_place: tuple[str, ...]
    vetoed: frozenset[str]
    revoked: frozenset[str] = frozenset()
    undecided_ties: tuple[tuple[str, ...], ...] = ()


def _key(item: RankInput, decided: Mapping[str, int]) -> tuple[Fraction, Fraction, Fraction, int]:
    """Sort key without the presentation fallback: equal keys are an undecided tie."""
    # Units no decision names come after the decided ones (and stay tied among themselves).
    return (-item.score, -item.tasks, item.penalty, decided.get(item.assessee, len(decided)))


def rank_order(items: Sequence[RankInput], decided: Sequence[str] = ()) -> list[RankInput]:
    """``items`` best first (S, then T, then lower P, then the decided order, then id)."""
    position = {a: i for i, a in enumerate(decided)}
    return sorted(items, key=lambda x: (*_key(x, position), x.assessee))


def _top(
    ranked: Sequence[RankInput],
    quota: int,
    key: dict[str, Key],
    ties: list[tuple[str, ...]],
) -> tuple[str, ...]:
    """The first ``quota`` of ``ranked``; note a tie group cut by the boundary."""
    chosen = tuple(x.assessee for x in ranked[:quota])
    if 0 < quota < len(ranked):
        last_in, first_out = ranked[quota - 1], ranked[quota]
        if key[last_in.assessee] == key[first_out.assessee]:
            group = tuple(x.assessee for x in ranked if key[x.assessee] == key[last_in.assessee])
            ties.append(group)
    return chosen


def single_item_winners(
    items: Sequence[RankInput],
    category: str,
    quota: int,
    excluded: frozenset[str],
    ties: list[tuple[str, ...]],
) -> tuple[str, ...]:
    """名次顺移: the best ``quota`` units by category score T_k, skipping ``excluded``
    (comprehensive winners, revoked units) so that the next unit moves up (AWD-2)."""
    candidates = [x for x in items if x.assessee not in excluded and category in x.category_scores]
    ranked = sorted(candidates, key=lambda x: (-x.category_scores[category], -x.score, x.assessee))
    key: dict[str, Key] = {x.assessee: (x.category_scores[category], x.score) for x in ranked}
    return _top(ranked, quota, key, ties)


def rank(
    items: Sequence[RankInput],
    quotas: AwardQuotas,
    decided: Sequence[str] = (),
) -> RankingResult:
    """F-RANK for one peer group: order, comprehensive winners among the non-vetoed and
    non-revoked, single-item winners with rank shift, and the last place(s) — none when every
    unit met every target (reading G7)."""
    position = {a: i for i, a in enumerate(decided)}
    ordered = rank_order(items, decided)
    key: dict[str, Key] = {x.assessee: _key(x, position) for x in ordered}
    ties: list[tuple[str, ...]] = []
    eligible = [x for x in ordered if not x.vetoed and not x.revoked]
    comprehensive = _top(eligible, quotas.comprehensive, key, ties)
    revoked = frozenset(x.assessee for x in items if x.revoked)
    excluded = frozenset(comprehensive) | revoked
    single = {
        category: single_item_winners(ordered, category, quota, excluded, ties)
        for category, quota in sorted(quotas.single_item.items())
    }
    vetoed = frozenset(x.assessee for x in items if x.vetoed)
    last: tuple[str, ...] = ()
    if vetoed and quotas.last_place > 0:
        reverse = list(reversed(ordered))
        last = _top(reverse, quotas.last_place, key, ties)
    return RankingResult(
        order=tuple(x.assessee for x in ordered),
        comprehensive=comprehensive,
        single_item=single,
        last_place=last,
        vetoed=vetoed,
        revoked=revoked,
        undecided_ties=tuple(ties),
    )


# --- cash rewards and fines (004 篇九, AWD-6) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class CashSchedule:
    """A ``RewardSchedulePublished``: rewards by position from the top (index 0 = #1) and fines
    by position from the bottom (index 0 = last), in fen."""

    rewards_fen: tuple[int, ...]
    fines_fen: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CashEntry:
    """One reward or fine the schedule gives a unit in a ranking."""

    assessee: str
    kind: str
    """``REWARD`` or ``FINE``."""
    position: int
    """1-based: from the top for rewards, from the bottom for fines."""
    amount_fen: int


def cash_entries(order: Sequence[str], schedule: CashSchedule) -> list[CashEntry]:
    """Rewards for the top positions first, then fines from the bottom among the units not
    rewarded (a unit is never both, Q7 default); the last rank gets the largest fine (G11)."""
    entries = [
        CashEntry(assessee, "REWARD", i + 1, amount)
        for i, (assessee, amount) in enumerate(zip(order, schedule.rewards_fen, strict=False))
    ]
    rewarded = {e.assessee for e in entries}
    remaining = [a for a in reversed(order) if a not in rewarded]
    entries += [
        CashEntry(assessee, "FINE", i + 1, amount)
        for i, (assessee, amount) in enumerate(zip(remaining, schedule.fines_fen, strict=False))
    ]
    return entries


CASH_STREETS = CashSchedule(rewards_fen=(500_000,), fines_fen=(500_000,))
CASH_KEY_DEPARTMENTS = CashSchedule(rewards_fen=(500_000, 300_000), fines_fen=(500_000, 300_000))
CASH_PLEDGE_UNITS = CashSchedule(
    rewards_fen=(300_000, 200_000, 100_000), fines_fen=(300_000, 200_000, 100_000)
)
"""The three cash classes of 004 篇九 (N-SV-35..37, #2 reward 2,000 元 by reading G9)."""


# --- advanced individuals (AWD-3 等额推荐) ------------------------------------------------


def individual_quota_problems(
    nominees: Mapping[str, int], quotas: Mapping[str, int], default_quota: int | None = None
) -> list[str]:
    """Orgs whose nominee count differs from their quota (等额: exactly the quota)."""
    problems = []
    for org, count in sorted(nominees.items()):
        quota = quotas.get(org, default_quota)
        if quota is None:
            problems.append(f"{org} has no individual quota but nominated {count}")
        elif count != quota:
            problems.append(f"{org} nominated {count}, its quota is exactly {quota}")
    return problems
