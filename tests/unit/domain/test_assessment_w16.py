"""W16: periodic completion rounds (F-COMP, EX-COMP-1/2), their rankings and cash (AWD-6),
and the monthly escalation ladders (EX-ESC-1, N-SV-28)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from ledger.domain.assessment_w16 import (
    expected_escalations,
    round_of,
    round_score,
)
from ledger.domain.model import SOFT_FINDINGS, DomainEvent
from ledger.errors import SchemaError
from tests.unit.domain import assessment_builders as ab
from tests.unit.domain import supervision_builders as sb
from tests.unit.domain.case_builders import Actor, FakeDirectory, Org, World, refused

SCHEME = "scheme-streets"
STREETS = ("street-1", "street-2", "street-3", "street-4")
ORGS = {
    **ab.ORGS,
    **sb.ORGS,
    **{s: Org("GOVERNMENT", "city-1") for s in STREETS},
}
ACTORS = {
    **sb.ACTORS,
    **ab.ACTORS,
    **{f"{s}-gov": Actor(s, "government_approver", f"p-{s}") for s in STREETS},
}
TASKS_EX_COMP = [("T1", "40"), ("T2", "35"), ("T3", "25")]
ADJUSTMENTS = [
    ("FIRST_PLACE", "2", ["PeriodRankingPublished"]),
    ("OMISSION", "-2", ["FindingRecorded"]),
    ("HQ_CRITICISM", "-2", ["CriticismIssued"]),
    ("DRY_TOILET", "-2", ["FindingRecorded"]),
    ("ITEM_3", "0", ["FindingRecorded"]),
]


def streets_world(
    tasks: list[tuple[str, str]] = TASKS_EX_COMP, mode: str = "CUMULATIVE"
) -> tuple[World, DomainEvent]:
    """A scheme with the streets' cash schedule (N-SV-35) and a W16 schedule."""
    world = World(directory=FakeDirectory(ORGS, ACTORS))
    cash = {"rewards_fen": [500_000], "fines_fen": [500_000]}
    ab.publish_scheme(world, SCHEME, reward_schedule=cash)
    return world, publish_schedule(world, tasks, mode=mode)


def schedule_payload(
    tasks: list[tuple[str, str]], *, mode: str = "CUMULATIVE", scale: str = "100"
) -> dict[str, Any]:
    return {
        "scheme_id": SCHEME,
        "scale": scale,
        "tasks": [{"task_id": t, "points": p} for t, p in tasks],
        "adjustments": [
            {"code": c, "points": p, "cause_types": types} for c, p, types in ADJUSTMENTS
        ],
        "report_days": 5,
        "escalation": {
            "mode": mode,
            "bottom_count": 3,
            "top_count": 3,
            "warning_streak": 2,
            "accountability_count": 3,
            "repeat_count": 3,
        },
    }


def publish_schedule(
    world: World, tasks: list[tuple[str, str]], *, mode: str = "CUMULATIVE", scale: str = "100"
) -> DomainEvent:
    return world.emit(
        "EvaluationSchedulePublished",
        SCHEME,
        schedule_payload(tasks, mode=mode, scale=scale),
        actor="officer-1",
        on="2024-01-06",
    )


def open_round(
    world: World, schedule: DomainEvent, period: str, *, kind: str = "MONTH", round_id: str = ""
) -> DomainEvent:
    return world.emit(
        "EvaluationRoundOpened",
        SCHEME,
        {
            "scheme_id": SCHEME,
            "round_id": round_id or f"r-{period}",
            "schedule_event_id": schedule.event_id,
            "period_kind": kind,
            "period": period,
            "target_org_ids": list(STREETS),
        },
        actor="officer-1",
        on="2024-01-07",
    )


def report(
    world: World,
    street: str,
    task: str,
    done: int,
    required: int,
    *,
    round_id: str = "r-2024-03",
    on: str = "2024-04-02",
) -> DomainEvent:
    return world.emit(
        "CompletionReported",
        f"{SCHEME}:{street}",
        {
            "scheme_id": SCHEME,
            "round_id": round_id,
            "assessee": street,
            "task_id": task,
            "required_units": required,
            "completed_units": done,
            "evidence": [ab.SHA],
            "reported_at": on,
        },
        actor=f"{street}-gov",
        on=on,
    )


def adjust(
    world: World,
    street: str,
    code: str,
    points: str,
    causes: list[DomainEvent],
    *,
    round_id: str = "r-2024-03",
) -> DomainEvent:
    return world.emit(
        "CompletionAdjustmentApplied",
        f"{SCHEME}:{street}",
        {
            "scheme_id": SCHEME,
            "round_id": round_id,
            "assessee": street,
            "code": code,
            "points": points,
            "cause_event_ids": [c.event_id for c in causes],
        },
        actor="officer-1",
        on="2024-04-03",
    )


def publish_ranking(world: World, period: str, rows: list[tuple[str, str]]) -> DomainEvent:
    return world.emit(
        "PeriodRankingPublished",
        SCHEME,
        {
            "scheme_id": SCHEME,
            "period": period,
            "ranking": [{"assessee": a, "score": s} for a, s in rows],
        },
        actor="officer-1",
        on="2024-04-05",
    )


def finding(world: World, street: str, finding_id: str) -> DomainEvent:
    return sb.find(world, finding_id, "ins-streets", target=street)


# Hand-computed (domain.md §5.5) task units: (T1 done of 20, T2 of 7, T3 of 40).
UNITS = {
    "street-1": (18, 7, 30),  # 36 + 35 + 18.75 = 89.75
    "street-2": (20, 5, 40),  # 40 + 25 + 25 = 90
    "street-3": (19, 7, 32),  # 38 + 35 + 20 = 93
    "street-4": (16, 6, 28),  # 32 + 30 + 17.5 = 79.5
}
EX_COMP_RANKING = [
    ("street-3", "91"),
    ("street-1", "87.75"),
    ("street-2", "86.00"),
    ("street-4", "81.5"),
]


def ex_comp_round(world: World, schedule: DomainEvent) -> None:
    """EX-COMP-1/2 and streets 3 and 4: completions and cited adjustments of March."""
    open_round(world, schedule, "2024-03")
    for street, (t1, t2, t3) in UNITS.items():
        report(world, street, "T1", t1, 20)
        report(world, street, "T2", t2, 7)
        report(world, street, "T3", t3, 40)
    first_1 = publish_ranking(world, "CMP-0301", [("street-1", "98"), ("street-2", "90")])
    first_4 = publish_ranking(world, "CMP-0315", [("street-4", "97"), ("street-3", "95")])
    adjust(world, "street-1", "FIRST_PLACE", "2", [first_1])
    adjust(world, "street-1", "OMISSION", "-2", [finding(world, "street-1", "f-omit-1")])
    adjust(world, "street-1", "DRY_TOILET", "-2", [finding(world, "street-1", "f-toilet-1")])
    hq = [
        sb.criticise(world, "CITY_OFFICE", target="street-2", issued_at=f"2024-03-{d}")
        for d in ("10", "20")
    ]
    adjust(world, "street-2", "HQ_CRITICISM", "-4", hq)
    adjust(world, "street-3", "DRY_TOILET", "-2", [finding(world, "street-3", "f-toilet-3")])
    adjust(world, "street-4", "FIRST_PLACE", "2", [first_4])


# --- F-COMP: EX-COMP-1 / EX-COMP-2 -------------------------------------------------------------


def test_ex_comp_scores_are_recomputed_from_completions_and_cited_adjustments() -> None:
    world, schedule = streets_world()
    ex_comp_round(world, schedule)

    rnd = round_of(world.state, SCHEME, "r-2024-03")
    assert rnd is not None
    scores = {s: round_score(world.state, SCHEME, rnd, s) for s in STREETS}

    assert scores == {
        "street-1": Fraction("87.75"),
        "street-2": Fraction("86.00"),
        "street-3": Fraction("91.00"),
        "street-4": Fraction("81.50"),
    }


def test_ex_comp_ranking_is_published_and_cash_follows_the_street_schedule() -> None:
    world, schedule = streets_world()
    ex_comp_round(world, schedule)

    ranking = publish_ranking(world, "2024-03", EX_COMP_RANKING)
    reward = world.emit(
        "MonetaryRewardGranted",
        f"{SCHEME}:street-3",
        {
            "scheme_id": SCHEME,
            "assessee": "street-3",
            "amount_fen": 500_000,
            "position": 1,
            "ranking_event_id": ranking.event_id,
        },
        actor="gov-1",
    )
    fine_payload = {
        "scheme_id": SCHEME,
        "assessee": "street-4",
        "amount_fen": 500_000,
        "position": 1,
        "ranking_event_id": ranking.event_id,
    }
    fine = world.emit("MonetaryPenaltyImposed", f"{SCHEME}:street-4", fine_payload, actor="gov-1")

    rnd = round_of(world.state, SCHEME, "r-2024-03")
    assert rnd is not None and rnd.order == ("street-3", "street-1", "street-2", "street-4")
    assert reward.payload["amount_fen"] == 500_000 and fine.payload["amount_fen"] == 500_000


def test_a_ranking_score_that_differs_from_f_comp_is_refused() -> None:
    world, schedule = streets_world()
    ex_comp_round(world, schedule)
    tampered = [("street-3", "91"), ("street-1", "89.75"), ("street-2", "86"), ("street-4", "81.5")]

    with refused("SCO-6"):
        publish_ranking(world, "2024-03", tampered)


def test_a_ranking_that_leaves_out_a_target_is_refused() -> None:
    world, schedule = streets_world()
    ex_comp_round(world, schedule)

    with refused("SCO-6"):
        publish_ranking(world, "2024-03", EX_COMP_RANKING[:3])


def test_a_round_cannot_be_ranked_before_every_task_is_reported() -> None:
    world, schedule = streets_world()
    open_round(world, schedule, "2024-03")
    for street in STREETS[:3]:
        for task, _ in TASKS_EX_COMP:
            report(world, street, task, 10, 10)
    report(world, "street-4", "T1", 10, 10)

    with refused("SCO-5"):
        publish_ranking(world, "2024-03", [(s, "100") for s in STREETS])


def test_a_round_is_ranked_once() -> None:
    world, schedule = streets_world()
    ex_comp_round(world, schedule)
    publish_ranking(world, "2024-03", EX_COMP_RANKING)

    with refused("ENV-7"):
        publish_ranking(world, "2024-03", EX_COMP_RANKING)


# --- configuration and rounds ----------------------------------------------------------------


def test_a_schedule_whose_tasks_do_not_add_up_to_the_scale_is_refused() -> None:
    world = World(directory=FakeDirectory(ORGS, ACTORS))
    ab.publish_scheme(world, SCHEME)

    with refused("SCO-1"):
        publish_schedule(world, [("T1", "40"), ("T2", "35"), ("T3", "20")])


def test_a_round_must_cite_the_schedule_in_force() -> None:
    world, old = streets_world()
    publish_schedule(world, [("T1", "100")])

    with refused("ENV-8"):
        open_round(world, old, "2024-03")


def test_a_round_period_must_fit_its_kind_and_the_scheme_year() -> None:
    world, schedule = streets_world()

    with refused("ENV-5"):
        open_round(world, schedule, "2024-03", kind="WEEK")
    with refused("ENV-5"):
        open_round(world, schedule, "2023-12")
    open_round(world, schedule, "2024-W12", kind="WEEK")


def test_one_round_per_period() -> None:
    world, schedule = streets_world()
    open_round(world, schedule, "2024-03")

    with refused("ENV-7"):
        open_round(world, schedule, "2024-03", round_id="r-again")


def test_a_completion_for_a_task_outside_the_schedule_is_refused() -> None:
    world, schedule = streets_world()
    open_round(world, schedule, "2024-03")

    with refused("ENV-8"):
        report(world, "street-1", "T9", 1, 2)


def test_a_completion_report_needs_required_units() -> None:
    world, schedule = streets_world()
    open_round(world, schedule, "2024-03")

    with pytest.raises(SchemaError):
        report(world, "street-1", "T1", 0, 0)


def test_a_late_completion_report_is_kept_and_raises_af_sco_late() -> None:
    world, schedule = streets_world()
    open_round(world, schedule, "2024-03")

    on_time = report(world, "street-1", "T1", 5, 20, on="2024-04-05")
    late = report(world, "street-1", "T2", 5, 7, on="2024-04-06")

    codes = {(f.event_id, f.finding_code) for f in world.state.table(SOFT_FINDINGS).values()}
    assert (late.event_id, "AF-SCO-LATE") in codes
    assert not any(e == on_time.event_id for e, _ in codes)


def test_a_completion_reported_after_the_ranking_is_kept_and_raises_af_sco_mismatch() -> None:
    world, schedule = streets_world()
    ex_comp_round(world, schedule)
    publish_ranking(world, "2024-03", EX_COMP_RANKING)

    after = report(world, "street-4", "T1", 20, 20, on="2024-04-05")

    codes = [f.finding_code for f in world.state.table(SOFT_FINDINGS).values()]
    assert codes == ["AF-SCO-MISMATCH"]
    assert [f.event_id for f in world.state.table(SOFT_FINDINGS).values()] == [after.event_id]


# --- SCO-2 cited adjustments -----------------------------------------------------------------


def test_an_adjustment_at_a_price_other_than_the_schedule_is_refused() -> None:
    world, schedule = streets_world()
    open_round(world, schedule, "2024-03")
    cause = finding(world, "street-1", "f-1")

    with refused("SCO-2"):
        adjust(world, "street-1", "DRY_TOILET", "-3", [cause])


def test_a_cause_counts_once_per_round() -> None:
    world, schedule = streets_world()
    open_round(world, schedule, "2024-03")
    cause = finding(world, "street-1", "f-1")
    adjust(world, "street-1", "DRY_TOILET", "-2", [cause])

    with refused("SCO-2"):
        adjust(world, "street-1", "OMISSION", "-2", [cause])


def test_a_cause_about_another_unit_or_of_the_wrong_type_is_refused() -> None:
    world, schedule = streets_world()
    open_round(world, schedule, "2024-03")
    other = finding(world, "street-2", "f-2")
    criticism = sb.criticise(world, "CITY_OFFICE", target="street-1")

    with refused("SCO-2"):
        adjust(world, "street-1", "DRY_TOILET", "-2", [other])
    with refused("SCO-2"):
        adjust(world, "street-1", "DRY_TOILET", "-2", [criticism])


def test_a_first_place_bonus_needs_a_ranking_the_unit_leads() -> None:
    world, schedule = streets_world()
    open_round(world, schedule, "2024-03")
    ranking = publish_ranking(world, "CMP-1", [("street-2", "99"), ("street-1", "90")])

    with refused("SCO-2"):
        adjust(world, "street-1", "FIRST_PLACE", "2", [ranking])
    adjust(world, "street-2", "FIRST_PLACE", "2", [ranking])


# --- escalation ladders (EX-ESC-1, N-SV-28) ---------------------------------------------------

# street-4 is last in March, April and June and first in May (out of the bottom three).
MONTHS = {
    "2024-03": ("street-1", "street-2", "street-3", "street-4"),
    "2024-04": ("street-2", "street-1", "street-3", "street-4"),
    "2024-05": ("street-4", "street-1", "street-2", "street-3"),
    "2024-06": ("street-3", "street-2", "street-1", "street-4"),
}


def monthly_rounds(world: World, schedule: DomainEvent) -> dict[str, DomainEvent]:
    """One single-task round a month, each street's score = its completed units."""
    rankings = {}
    for period, order in MONTHS.items():
        open_round(world, schedule, period)
        rows = []
        for i, street in enumerate(order):
            done = 90 - 10 * i
            report(world, street, "T1", done, 100, round_id=f"r-{period}", on=f"{period}-28")
            rows.append((street, str(done)))
        rankings[period] = publish_ranking(world, period, rows)
    return rankings


def steps(world: World, street: str) -> list[tuple[str, str, str]]:
    return [(e.period, e.ladder, e.step) for e in expected_escalations(world.state, SCHEME, street)]


def test_ex_esc_1_cumulative_bottom_three_makes_accountability_due_in_june() -> None:
    world, schedule = streets_world([("T1", "100")])
    monthly_rounds(world, schedule)

    assert steps(world, "street-4") == [
        ("2024-03", "MONTHLY_BOTTOM3", "CRITICISM"),
        ("2024-04", "MONTHLY_BOTTOM3", "WARNING"),
        ("2024-06", "MONTHLY_BOTTOM3", "ACCOUNTABILITY"),
        ("2024-06", "STREET_REPEAT", "PUBLIC_SELF_CRITICISM"),
        ("2024-06", "STREET_REPEAT", "AWARD_ELIGIBILITY_REVOKED"),
    ]


def test_ex_esc_1_consecutive_mode_restarts_the_ladder_after_may() -> None:
    world, schedule = streets_world([("T1", "100")], mode="CONSECUTIVE")
    monthly_rounds(world, schedule)

    june = [s for p, ladder, s in steps(world, "street-4") if p == "2024-06" and "BOTTOM" in ladder]
    assert june == ["CRITICISM"]


def test_three_top_three_placings_make_commendation_and_award_due() -> None:
    world, schedule = streets_world([("T1", "100")])
    monthly_rounds(world, schedule)

    repeat = [(p, s) for p, ladder, s in steps(world, "street-2") if ladder == "STREET_REPEAT"]
    assert repeat == [("2024-05", "COMMENDATION_AND_AWARD")]


def escalation_due(world: World, step: str, ranking: DomainEvent) -> DomainEvent:
    return world.emit(
        "EscalationDue",
        "street-4",
        {
            "ladder": "MONTHLY_BOTTOM3",
            "step": step,
            "subject": ranking.event_id,
            "target_org_id": "street-4",
            "due_by": "2024-07-15",
            "cause_event_ids": [ranking.event_id],
        },
        actor="ledger-1",
        on="2024-07-05",
    )


def test_an_escalation_due_must_name_the_step_the_ranking_made_due() -> None:
    world, schedule = streets_world([("T1", "100")])
    rankings = monthly_rounds(world, schedule)

    with refused("ENV-7"):
        escalation_due(world, "WARNING", rankings["2024-06"])
    with refused("ENV-7"):
        escalation_due(world, "CRITICISM", rankings["2024-05"])
    escalation_due(world, "ACCOUNTABILITY", rankings["2024-06"])


def test_three_last_places_lead_to_revoked_eligibility_and_no_reward() -> None:
    world, schedule = streets_world([("T1", "100")])
    rankings = monthly_rounds(world, schedule)
    world.emit(
        "AwardEligibilityRevoked",
        f"{SCHEME}:street-4",
        {
            "scheme_id": SCHEME,
            "assessee": "street-4",
            "year": 2024,
            "cause_event_ids": [rankings[m].event_id for m in ("2024-03", "2024-04", "2024-06")],
        },
        actor="officer-1",
        on="2024-07-06",
    )

    with refused("AWD-7"):
        world.emit(
            "MonetaryRewardGranted",
            f"{SCHEME}:street-4",
            {
                "scheme_id": SCHEME,
                "assessee": "street-4",
                "amount_fen": 500_000,
                "position": 1,
                "ranking_event_id": rankings["2024-05"].event_id,
            },
            actor="gov-1",
        )
