"""W16: periodic evaluations by the 100-point completion scheme, their rankings and the
monthly escalation ladders (``domain.md`` §4.16, §5.5, §5.12; SCO-1, SCO-2, SCO-5, SCO-6,
SCO-7).

Flow: ``EvaluationSchedulePublished`` (tasks, prices, ladders) → ``EvaluationRoundOpened`` →
``CompletionReported`` per target and task, ``CompletionAdjustmentApplied`` citing causes →
``PeriodRankingPublished`` (existing event; here its scores must equal F-COMP recomputed from
the round) → cash (existing ``MonetaryRewardGranted`` / ``MonetaryPenaltyImposed``, AWD-6).

After a monthly round's ranking the bottom-three (N-SV-22) and top-three / last (N-SV-28)
placements are counted and the due escalation steps are kept as expectations
(:func:`expected_escalations`); an ``EscalationDue`` of those ladders that cites a round's
ranking must name a step the ladder gives (ENV-7). The human decisions that meet them
(warning, referral, self-criticism, revoked eligibility) are the existing events.

Tables: ``w16.schedules`` (scheme id → :class:`Schedule`), ``w16.rounds`` ((scheme, round) →
:class:`Round`), ``w16.round_by_period`` ((scheme, period) → round id), ``w16.completions``
((scheme, round, assessee) → task → (required, completed)), ``w16.adjusted`` ((scheme, round,
assessee) → summed points), ``w16.used_causes`` ((scheme, round, cause) → event id),
``w16.ranked`` (ranking event id → (scheme, round)), ``w16.placements`` ((scheme, assessee) →
:class:`Placements`), ``w16.expected`` ((scheme, assessee) → tuple of :class:`Expectation`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from ledger.domain.assessment_state import (
    RANKINGS,
    Pairs,
    PublishedRanking,
    Scheme,
    pair,
    require_scheme,
    require_year_stream,
    with_pair,
)
from ledger.domain.escalation import (
    EscalationPolicy,
    Mode,
    Step,
    bottom_three_step,
    street_repeat_steps,
)
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    Table,
    note_soft_finding,
    refuse,
    require,
)
from ledger.domain.periods import Period, parse_date
from ledger.domain.scoring import TaskItem, completion_score, stored

SCHEDULES = "w16.schedules"
ROUNDS = "w16.rounds"
ROUND_BY_PERIOD = "w16.round_by_period"
COMPLETIONS = "w16.completions"
ADJUSTED = "w16.adjusted"
USED_CAUSES = "w16.used_causes"
RANKED = "w16.ranked"
PLACEMENTS = "w16.placements"
EXPECTED = "w16.expected"
CITABLE = "sup.citable"
"""Events an adjustment may cite (folded by :mod:`ledger.domain.supervision_notices`)."""

_WEEK_RE = re.compile(r"(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])")
_MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A priced F-COMP adjustment: signed points per cause, and what it may cite."""

    points: Fraction
    cause_types: frozenset[str]


@dataclass(frozen=True, slots=True)
class Schedule:
    """An ``EvaluationSchedulePublished`` as the rules use it."""

    event_id: str
    scale: Fraction
    tasks: Pairs[Fraction]
    """Task id → item points (adding up to ``scale``)."""
    adjustments: Pairs[Adjustment]
    report_days: int
    bottom_count: int
    top_count: int
    policy: EscalationPolicy


@dataclass(frozen=True, slots=True)
class Round:
    """An evaluation round and, once published, its ranking (best first)."""

    round_id: str
    schedule: Schedule
    period_kind: str
    period: str
    ends_on: date
    targets: tuple[str, ...]
    ranking_event_id: str | None = None
    order: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Placements:
    """A unit's monthly placings, with the ranking that placed it."""

    bottom: tuple[tuple[Period, str], ...] = ()
    top: tuple[tuple[Period, str], ...] = ()
    last: tuple[tuple[Period, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Expectation:
    """An escalation step that a monthly ranking made due for a unit."""

    ladder: str
    step: str
    period: str
    ranking_event_id: str


# --- accessors -----------------------------------------------------------------------------------


def schedule_of(state: DomainState, scheme_id: str) -> Schedule | None:
    """The evaluation schedule in force for the scheme, if one was published."""
    found: Schedule | None = state.table(SCHEDULES).get(scheme_id)
    return found


def round_of(state: DomainState, scheme_id: str, round_id: str) -> Round | None:
    """An opened evaluation round."""
    found: Round | None = state.table(ROUNDS).get((scheme_id, round_id))
    return found


def completions(
    state: DomainState, scheme_id: str, round_id: str, assessee: str
) -> Pairs[tuple[int, int]]:
    """Task id → (required, completed) units, the latest report of each task."""
    found: Pairs[tuple[int, int]] | None = state.table(COMPLETIONS).get(
        (scheme_id, round_id, assessee)
    )
    return found or ()


def adjusted_points(state: DomainState, scheme_id: str, round_id: str, assessee: str) -> Fraction:
    """The sum of the cited adjustments of a unit in a round."""
    found: Fraction | None = state.table(ADJUSTED).get((scheme_id, round_id, assessee))
    return found or Fraction(0)


def expected_escalations(
    state: DomainState, scheme_id: str, assessee: str
) -> tuple[Expectation, ...]:
    """Every escalation step the scheme's monthly rankings made due for ``assessee``."""
    found: tuple[Expectation, ...] | None = state.table(EXPECTED).get((scheme_id, assessee))
    return found or ()


def placements_of(state: DomainState, scheme_id: str, assessee: str) -> Placements:
    found: Placements | None = state.table(PLACEMENTS).get((scheme_id, assessee))
    return found or Placements()


# --- F-COMP of a round ---------------------------------------------------------------------------


def missing_tasks(state: DomainState, scheme_id: str, rnd: Round) -> list[str]:
    """``target: task`` for every task of the schedule a target has not reported."""
    missing = []
    for target in rnd.targets:
        reported = completions(state, scheme_id, rnd.round_id, target)
        missing += [f"{target}: {t}" for t, _ in rnd.schedule.tasks if pair(reported, t) is None]
    return missing


def round_score(state: DomainState, scheme_id: str, rnd: Round, assessee: str) -> Fraction:
    """F-COMP (§5.5): Σ w * min(done, required) / required + cited adjustments, stored to 4
    decimals (§5.0). Every task must have been reported (see :func:`missing_tasks`)."""
    reported = completions(state, scheme_id, rnd.round_id, assessee)
    items = []
    for task_id, points in rnd.schedule.tasks:
        units = pair(reported, task_id)
        required, done = units if units is not None else (1, 0)
        items.append(TaskItem(points, done, required))
    adjustment = adjusted_points(state, scheme_id, rnd.round_id, assessee)
    return Fraction(stored(completion_score(items, [(1, adjustment)])))


# --- EvaluationSchedulePublished -----------------------------------------------------------------


def _scheme_stream(state: DomainState, event: DomainEvent) -> Scheme:
    scheme = require_scheme(state, event)
    require(
        event.stream_id == scheme.config.scheme_id,
        "ENV-8",
        f"{event.event_type} belongs on the stream of scheme {scheme.config.scheme_id}",
        stream_id=event.stream_id,
    )
    return scheme


def schedule_problems(payload: Mapping[str, Any]) -> list[str]:
    """SCO-1 for a schedule: unique task and adjustment codes, task points adding up to the
    scale."""
    tasks = payload["tasks"]
    codes = [t["task_id"] for t in tasks]
    problems = [f"task {c} listed twice" for c in sorted(set(codes)) if codes.count(c) > 1]
    adjustments = [a["code"] for a in payload["adjustments"]]
    problems += [
        f"adjustment {c} listed twice" for c in sorted(set(adjustments)) if adjustments.count(c) > 1
    ]
    total = sum((Fraction(t["points"]) for t in tasks), Fraction(0))
    if total != Fraction(payload["scale"]):
        problems.append(f"task points add up to {total}, not the scale {payload['scale']}")
    return problems


def decide_schedule(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """ENV-8: on the scheme's stream; SCO-1: the tasks add up to the scale."""
    del directory
    _scheme_stream(state, event)
    problems = schedule_problems(event.payload)
    require(
        not problems,
        "SCO-1",
        "evaluation schedule does not add up: " + "; ".join(problems),
        problems=problems,
    )


def schedule_from_payload(event: DomainEvent) -> Schedule:
    """The exact schedule of a valid ``EvaluationSchedulePublished``."""
    p = event.payload
    esc = p["escalation"]
    return Schedule(
        event_id=event.event_id,
        scale=Fraction(p["scale"]),
        tasks=tuple((t["task_id"], Fraction(t["points"])) for t in p["tasks"]),
        adjustments=tuple(
            (a["code"], Adjustment(Fraction(a["points"]), frozenset(a["cause_types"])))
            for a in p["adjustments"]
        ),
        report_days=p["report_days"],
        bottom_count=esc["bottom_count"],
        top_count=esc["top_count"],
        policy=EscalationPolicy(
            mode=Mode(esc["mode"]),
            warning_streak=esc["warning_streak"],
            accountability_count=esc["accountability_count"],
            repeat_count=esc["repeat_count"],
        ),
    )


def apply_schedule(state: DomainState, event: DomainEvent) -> None:
    state.table(SCHEDULES).put(event.payload["scheme_id"], schedule_from_payload(event))


# --- EvaluationRoundOpened -----------------------------------------------------------------------


def period_end(kind: str, period: str) -> tuple[int, date] | None:
    """(year, last day) of a ``YYYY-MM`` month or ``YYYY-Www`` ISO week; ``None`` when the
    label does not fit the kind."""
    if kind == "MONTH" and _MONTH_RE.fullmatch(period):
        month = Period.parse(period)
        following = month.plus(1)
        return month.year, date(following.year, following.month, 1) - timedelta(days=1)
    found = _WEEK_RE.fullmatch(period) if kind == "WEEK" else None
    if found is None:
        return None
    try:
        return int(found.group(1)), date.fromisocalendar(
            int(found.group(1)), int(found.group(2)), 7
        )
    except ValueError:
        return None


def decide_round(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """ENV-8: the schedule in force and registered targets; ENV-5: the period label fits its
    kind and year; ENV-7: one round per id and per period."""
    scheme = _scheme_stream(state, event)
    p = event.payload
    schedule = schedule_of(state, p["scheme_id"])
    require(
        schedule is not None and schedule.event_id == p["schedule_event_id"],
        "ENV-8",
        f"round {p['round_id']} cites schedule {p['schedule_event_id']}; the schedule in force "
        f"is {schedule.event_id if schedule else 'none'}",
        in_force=schedule.event_id if schedule else None,
    )
    end = period_end(p["period_kind"], p["period"])
    require(
        end is not None and end[0] == scheme.config.year,
        "ENV-5",
        f"{p['period']} is not a {p['period_kind']} of the scheme year {scheme.config.year} "
        "(YYYY-MM for a month, YYYY-Www for a week)",
        period=p["period"],
    )
    require(
        round_of(state, p["scheme_id"], p["round_id"]) is None
        and (p["scheme_id"], p["period"]) not in state.table(ROUND_BY_PERIOD),
        "ENV-7",
        f"scheme {p['scheme_id']} already has round {p['round_id']} or a round for {p['period']}",
    )
    unknown = [o for o in p["target_org_ids"] if not directory.org_exists(o)]
    require(not unknown, "ENV-8", f"unregistered target units: {unknown}", unknown=unknown)


def apply_round(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    schedule = schedule_of(state, p["scheme_id"])
    end = period_end(p["period_kind"], p["period"])
    if schedule is None or end is None:
        return
    rnd = Round(
        p["round_id"], schedule, p["period_kind"], p["period"], end[1], tuple(p["target_org_ids"])
    )
    state.table(ROUNDS).put((p["scheme_id"], p["round_id"]), rnd)
    state.table(ROUND_BY_PERIOD).put((p["scheme_id"], p["period"]), p["round_id"])


# --- CompletionReported ---------------------------------------------------------------------------


def _require_round_target(state: DomainState, event: DomainEvent) -> Round:
    require_scheme(state, event)
    require_year_stream(event)
    p = event.payload
    rnd = round_of(state, p["scheme_id"], p["round_id"])
    if rnd is None:
        raise refuse(
            "ENV-8",
            f"scheme {p['scheme_id']} has no evaluation round {p['round_id']}",
            round_id=p["round_id"],
        )
    require(
        p["assessee"] in rnd.targets,
        "ENV-8",
        f"{p['assessee']} is not a target of round {p['round_id']}",
        assessee=p["assessee"],
    )
    return rnd


def decide_completion(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A fact: only its structure is checked (ENV-8: round, target and task exist)."""
    del directory
    rnd = _require_round_target(state, event)
    task_id = event.payload["task_id"]
    require(
        pair(rnd.schedule.tasks, task_id) is not None,
        "ENV-8",
        f"task {task_id} is not in the schedule of round {rnd.round_id}",
        task_id=task_id,
    )


def apply_completion(state: DomainState, event: DomainEvent) -> None:
    """Keep the latest report of the task; a late report (SCO-7) or one after the round's
    ranking (its scores no longer recompute) is kept and raises a finding."""
    p = event.payload
    rnd = round_of(state, p["scheme_id"], p["round_id"])
    if rnd is None:
        return
    key = (p["scheme_id"], p["round_id"], p["assessee"])
    units = (p["required_units"], p["completed_units"])
    state.table(COMPLETIONS).put(key, with_pair(completions(state, *key), p["task_id"], units))
    due = rnd.ends_on + timedelta(days=rnd.schedule.report_days)
    if parse_date(p["reported_at"]) > due:
        note_soft_finding(
            state,
            event,
            "SCO-7",
            "AF-SCO-LATE",
            f"completion of {p['task_id']} for {rnd.period} reported {p['reported_at']}, "
            f"after {due}",
            deadline=due.isoformat(),
        )
    if rnd.ranking_event_id is not None:
        note_soft_finding(
            state,
            event,
            "SCO-6",
            "AF-SCO-MISMATCH",
            f"completion of {p['task_id']} reported after ranking {rnd.ranking_event_id} of "
            f"{rnd.period}; the published scores no longer recompute",
            ranking_event_id=rnd.ranking_event_id,
        )


# --- CompletionAdjustmentApplied -----------------------------------------------------------------


def _cause_problem(state: DomainState, assessee: str, cause: str, allowed: frozenset[str]) -> str:
    """Why ``cause`` cannot support an adjustment of ``assessee`` ("" when it can)."""
    citable = state.table(CITABLE).get(cause)
    event_type = getattr(citable, "event_type", None)
    if event_type not in allowed:
        return f"{cause} is not a recorded {' or '.join(sorted(allowed))}"
    if event_type == "PeriodRankingPublished":
        ranking = state.table(RANKINGS).get(cause)
        first = ranking.order[0] if isinstance(ranking, PublishedRanking) else None
        return "" if first == assessee else f"{assessee} is not first in ranking {cause}"
    target = getattr(citable, "target_org_id", None)
    return "" if target == assessee else f"{cause} concerns {target}, not {assessee}"


def decide_adjustment(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """SCO-2: every cause is an allowed, recorded event about the unit, counted once per
    round, and the points are the schedule's price per cause; ENV-7: the round is not ranked."""
    del directory
    rnd = _require_round_target(state, event)
    p = event.payload
    require(
        rnd.ranking_event_id is None,
        "ENV-7",
        f"round {rnd.round_id} was ranked by {rnd.ranking_event_id}; adjust before ranking",
    )
    adjustment = pair(rnd.schedule.adjustments, p["code"])
    if adjustment is None:
        raise refuse(
            "ENV-8", f"the schedule of round {rnd.round_id} prices no adjustment {p['code']}"
        )
    problems = [
        _cause_problem(state, p["assessee"], c, adjustment.cause_types)
        for c in p["cause_event_ids"]
    ]
    used = state.table(USED_CAUSES)
    problems += [
        f"{c} already counted by {used.get((p['scheme_id'], rnd.round_id, c))}"
        for c in p["cause_event_ids"]
        if (p["scheme_id"], rnd.round_id, c) in used
    ]
    problems = [x for x in problems if x]
    require(not problems, "SCO-2", "; ".join(problems), problems=problems)
    expected = adjustment.points * len(p["cause_event_ids"])
    require(
        Fraction(p["points"]) == expected,
        "SCO-2",
        f"{p['code']} x {len(p['cause_event_ids'])} is {expected} points at the schedule's "
        f"price, not {p['points']}",
        expected=str(expected),
    )


def apply_adjustment(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    key = (p["scheme_id"], p["round_id"], p["assessee"])
    total = adjusted_points(state, *key) + Fraction(p["points"])
    state.table(ADJUSTED).put(key, total)
    for cause in p["cause_event_ids"]:
        state.table(USED_CAUSES).put((p["scheme_id"], p["round_id"], cause), event.event_id)


# --- PeriodRankingPublished of a round -----------------------------------------------------------


def _round_of_ranking(state: DomainState, event: DomainEvent) -> Round | None:
    round_id = state.table(ROUND_BY_PERIOD).get(
        (event.payload["scheme_id"], event.payload["period"])
    )
    return None if round_id is None else round_of(state, event.payload["scheme_id"], round_id)


def decide_round_ranking(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """For the period of a round: ENV-7 once; SCO-5 every task of every target reported;
    SCO-6 exactly the round's targets, each with its F-COMP score. (The order itself is
    checked by :mod:`ledger.domain.assessment_results`.)"""
    del directory
    rnd = _round_of_ranking(state, event)
    if rnd is None:
        return
    scheme_id = event.payload["scheme_id"]
    require(
        rnd.ranking_event_id is None,
        "ENV-7",
        f"round {rnd.round_id} ({rnd.period}) was already ranked by {rnd.ranking_event_id}",
    )
    missing = missing_tasks(state, scheme_id, rnd)
    require(
        not missing, "SCO-5", "no completion reported for " + "; ".join(missing), missing=missing
    )
    rows = event.payload["ranking"]
    listed = sorted(r["assessee"] for r in rows)
    require(
        listed == sorted(rnd.targets),
        "SCO-6",
        f"round {rnd.round_id} ranks {sorted(rnd.targets)}; the ranking lists {listed}",
    )
    wrong = [
        f"{r['assessee']}: expected {round_score(state, scheme_id, rnd, r['assessee'])}, "
        f"recorded {r['score']}"
        for r in rows
        if Fraction(r["score"]) != round_score(state, scheme_id, rnd, r["assessee"])
    ]
    require(not wrong, "SCO-6", "F-COMP scores differ: " + "; ".join(wrong), differences=wrong)


def _placed(placements: Placements, assessee: str, ranked: Round) -> Placements:
    """``placements`` plus the unit's placing in the ranked monthly round."""
    entry = ((Period.parse(ranked.period), ranked.ranking_event_id or ""),)
    order, schedule = ranked.order, ranked.schedule
    bottom = assessee in order[-schedule.bottom_count :]
    return replace(
        placements,
        bottom=placements.bottom + entry if bottom else placements.bottom,
        top=placements.top + entry if assessee in order[: schedule.top_count] else placements.top,
        last=placements.last + entry if assessee == order[-1] else placements.last,
    )


def due_steps(
    placements: Placements, period: Period, policy: EscalationPolicy
) -> list[tuple[str, Step]]:
    """(ladder, step) due in ``period`` from a unit's placings (§5.12)."""
    steps: list[tuple[str, Step]] = []
    bottom = bottom_three_step([m for m, _ in placements.bottom], period, policy)
    if bottom is not None:
        steps.append(("MONTHLY_BOTTOM3", bottom))
    repeat = street_repeat_steps(
        [m for m, _ in placements.top], [m for m, _ in placements.last], period, policy
    )
    steps += [("STREET_REPEAT", step) for step in repeat]
    return steps


def apply_round_ranking(state: DomainState, event: DomainEvent) -> None:
    """Mark the round ranked; for a monthly round count placings and keep the due steps."""
    rnd = _round_of_ranking(state, event)
    if rnd is None:
        return
    scheme_id = event.payload["scheme_id"]
    order = tuple(r["assessee"] for r in event.payload["ranking"])
    ranked = replace(rnd, ranking_event_id=event.event_id, order=order)
    state.table(ROUNDS).put((scheme_id, rnd.round_id), ranked)
    state.table(RANKED).put(event.event_id, (scheme_id, rnd.round_id))
    if rnd.period_kind != "MONTH":
        return
    period = Period.parse(rnd.period)
    for assessee in order:
        placements = _placed(placements_of(state, scheme_id, assessee), assessee, ranked)
        state.table(PLACEMENTS).put((scheme_id, assessee), placements)
        new = tuple(
            Expectation(ladder, str(step), rnd.period, event.event_id)
            for ladder, step in due_steps(placements, period, rnd.schedule.policy)
        )
        if new:
            known = expected_escalations(state, scheme_id, assessee)
            state.table(EXPECTED).put((scheme_id, assessee), known + new)


# --- EscalationDue of the monthly ladders --------------------------------------------------------


def decide_escalation_due(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """ENV-7: an expectation of the MONTHLY_BOTTOM3 or STREET_REPEAT ladder that cites a
    round's ranking names a step that ranking made due for the unit."""
    del directory
    p = event.payload
    if p["ladder"] not in {"MONTHLY_BOTTOM3", "STREET_REPEAT"}:
        return
    ranked: Table[str, tuple[str, str]] = state.table(RANKED)
    for cause in p["cause_event_ids"]:
        found = ranked.get(cause)
        if found is None:
            continue
        due = [
            e.step
            for e in expected_escalations(state, found[0], p["target_org_id"])
            if e.ranking_event_id == cause and e.ladder == p["ladder"]
        ]
        require(
            p["step"] in due,
            "ENV-7",
            f"ranking {cause} makes {due or 'no step'} due for {p['target_org_id']} on the "
            f"{p['ladder']} ladder, not {p['step']}",
            expected_steps=due,
        )


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register("EvaluationSchedulePublished", apply=apply_schedule, decide=decide_schedule)
    rules.register("EvaluationRoundOpened", apply=apply_round, decide=decide_round)
    rules.register("CompletionReported", apply=apply_completion, decide=decide_completion)
    rules.register("CompletionAdjustmentApplied", apply=apply_adjustment, decide=decide_adjustment)
    rules.register("PeriodRankingPublished", apply=apply_round_ranking, decide=decide_round_ranking)
    rules.register("EscalationDue", decide=decide_escalation_due)
