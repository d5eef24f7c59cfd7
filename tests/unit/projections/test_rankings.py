"""Rankings, awards and sanctions (W15.7-W15.10, W16, F-RANK): the projected ranking and award
lists equal the recomputation on the same inputs (EX-ANNUAL-1/2, EX-RANK-1, EX-RANK-2), tie
decisions, cash rewards and fines (EX-CASH-1), revoked eligibility and org-level sanctions."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.domain.scoring_rank import AwardQuotas, CashSchedule, RankInput, cash_entries, rank
from ledger.projections.errors import QueryError
from ledger.projections.rankings import (
    AwardRow,
    RankingsProjection,
    assessee_key,
    awards_and_sanctions,
    organisation_key,
    rankings,
    scheme_key,
)
from ledger.settings import Settings
from tests.unit.domain.assessment_builders import SCHEME, publish_scheme, year_stream

from .test_read_models import ReadModelLog
from .test_scores import LoggedWorld, annual_story, built, logged_world, memory_hash, recomputed


def fold(events: Any) -> dict[str, AwardRow]:
    return RankingsProjection().fold_all(events).rows.rows


@pytest.fixture(scope="module")
def annual() -> LoggedWorld:
    world = logged_world()
    annual_story(world)
    return world


# ------------------------------------------------------------------ EX-ANNUAL-1 / 2 consolidated


def test_the_consolidated_ranking_equals_the_recomputation(annual: LoggedWorld) -> None:
    scheme = fold(annual.events())[scheme_key(SCHEME)]
    result = recomputed()

    recorded = [r["assessee"] for r in orjson.loads(scheme.ranking)]

    assert recorded == list(result.ranking.order) == ["county-C", "county-A", "county-B"]
    assert orjson.loads(scheme.recomputed_order) == recorded
    assert scheme.order_matches == 1
    assert [r["S"] for r in orjson.loads(scheme.ranking)] == ["102.8", "100.4", "96.125"]
    assert scheme.year == 2024


def test_the_award_lists_equal_f_rank_and_follow_ratification(annual: LoggedWorld) -> None:
    rows = fold(annual.events())
    scheme = rows[scheme_key(SCHEME)]
    result = recomputed().ranking

    proposal = orjson.loads(scheme.proposal)

    assert proposal["comprehensive"] == list(result.comprehensive) == ["county-C", "county-A"]
    assert proposal["last_place"] == list(result.last_place) == ["county-B"]
    single = {i["category"]: i["assessee"] for i in proposal["single_item"]}
    assert single == {k: v[0] for k, v in result.single_item.items()}
    assert scheme.proposed_index is not None and scheme.approved_index is not None
    assert scheme.proposed_index < scheme.approved_index < (scheme.ratified_index or 0)


def test_each_assessee_has_its_rank_veto_awards_last_place_and_grade(annual: LoggedWorld) -> None:
    rows = fold(annual.events())
    a, b, c = (rows[assessee_key(SCHEME, f"county-{x}")] for x in "ABC")

    assert [(u.rank, u.annual_score) for u in (c, a, b)] == [
        (1, "102.8"),
        (2, "100.4"),
        (3, "96.125"),
    ]
    assert (b.vetoed, orjson.loads(b.failing_indicator_ids), b.last_place) == (1, ["MEDICAL-2"], 1)
    assert [x["award_type"] for x in orjson.loads(c.awards)] == ["COMPREHENSIVE"]
    assert [(x["award_type"], x["category"]) for x in orjson.loads(b.awards)] == [
        ("SINGLE_ITEM", "SUBSIDISED_HOUSING")
    ]
    assert (c.grade, c.vetoed, c.last_place, a.grade) == ("EXCELLENT", 0, 0, None)


# ------------------------------------------------------------------ EX-RANK-1 and EX-RANK-2


def consolidation(log: ReadModelLog, scores: dict[str, str], vetoed: set[str]) -> None:
    ranking = [
        {
            "assessee": a,
            "S": s,
            "T": "80",
            "P": "0",
            "vetoed": a in vetoed,
            "failing_indicator_ids": ["X"] if a in vetoed else [],
        }
        for a, s in scores.items()
    ]
    log.emit("AssessmentConsolidated", ("scheme", "r"), {"scheme_id": "r", "ranking": ranking})


def rank_inputs(
    scores: dict[str, str], vetoed: set[str], housing: dict[str, str]
) -> list[RankInput]:
    return [
        RankInput(
            assessee=a,
            score=Fraction(s),
            tasks=Fraction(80),
            vetoed=a in vetoed,
            category_scores={"HOUSING": Fraction(housing[a])} if housing else {},
        )
        for a, s in scores.items()
    ]


EX_RANK_1 = {"A": "100.4", "E": "99.0", "C": "98.2", "D": "97.0", "B": "96.125", "F": "95.5"}
HOUSING_1 = {"A": "12.0", "C": "11.6", "E": "11.2", "D": "10.8", "B": "10.0", "F": "10.0"}


def test_ex_rank_1_the_projected_lists_equal_f_rank() -> None:
    log = ReadModelLog()
    consolidation(log, EX_RANK_1, {"B", "E"})
    result = rank(
        rank_inputs(EX_RANK_1, {"B", "E"}, HOUSING_1),
        AwardQuotas(comprehensive=3, last_place=1, single_item={"HOUSING": 1}),
    )
    log.emit(
        "AdvancedListProposed",
        ("scheme", "r"),
        {
            "scheme_id": "r",
            "comprehensive": list(result.comprehensive),
            "single_item": [{"category": "HOUSING", "assessee": result.single_item["HOUSING"][0]}],
            "last_place": list(result.last_place),
            "individuals": [],
        },
    )

    scheme = fold(log.events())[scheme_key("r")]

    assert orjson.loads(scheme.recomputed_order) == list(result.order) == list(EX_RANK_1)
    assert scheme.order_matches == 1
    proposal = orjson.loads(scheme.proposal)
    # E is excluded by the veto despite 99.0; A and C move aside so E wins housing; F last.
    assert proposal["comprehensive"] == ["A", "C", "D"]
    assert proposal["single_item"] == [{"assessee": "E", "category": "HOUSING"}]
    assert proposal["last_place"] == ["F"]


def test_ex_rank_2_a_tie_inside_the_quota_and_no_last_place() -> None:
    scores = {"U1": "99.1", "U2": "98.7", "U3": "98.7", "U4": "97.9", "U5": "96.0", "U6": "95.2"}
    log = ReadModelLog()
    consolidation(log, scores, set())
    result = rank(rank_inputs(scores, set(), {}), AwardQuotas(comprehensive=3, last_place=1))

    scheme = fold(log.events())[scheme_key("r")]

    assert (result.comprehensive, result.last_place, result.undecided_ties) == (
        ("U1", "U2", "U3"),
        (),
        (),
    )
    assert orjson.loads(scheme.recomputed_order) == list(result.order)
    assert scheme.order_matches == 1


def test_a_recorded_order_that_is_not_f_rank_is_shown_as_a_mismatch() -> None:
    log = ReadModelLog()
    consolidation(log, {"U2": "90", "U1": "95"}, set())

    scheme = fold(log.events())[scheme_key("r")]

    assert (orjson.loads(scheme.recomputed_order), scheme.order_matches) == (["U1", "U2"], 0)


def test_a_tie_decision_orders_units_equal_on_s_t_and_p() -> None:
    log = ReadModelLog()
    consolidation(log, {"U2": "90", "U1": "90"}, set())
    before = fold(log.events())[scheme_key("r")]
    log.emit(
        "TieBrokenByDecision",
        ("scheme", "r"),
        {"scheme_id": "r", "tied": ["U1", "U2"], "order": ["U2", "U1"], "reason": "leading group"},
    )

    after = fold(log.events())[scheme_key("r")]

    # Undecided, the presentation order is by id (never a decision): U1 first, not recorded.
    assert (orjson.loads(before.recomputed_order), before.order_matches) == (["U1", "U2"], 0)
    assert (orjson.loads(after.recomputed_order), after.order_matches) == (["U2", "U1"], 1)
    assert [d["order"] for d in orjson.loads(after.tie_decisions)] == [["U2", "U1"]]


# ------------------------------------------------------------------ EX-CASH-1


PLEDGE_CASH = {"rewards_fen": [300_000, 200_000, 100_000], "fines_fen": [300_000, 200_000, 100_000]}
CASH_SCORES = ["95", "93", "90", "88", "85", "80", "78"]


def cash_world(scores: list[str]) -> LoggedWorld:
    """EX-CASH-1/2 decided through the rules: the schedule's entries for a period ranking."""
    world = logged_world()
    publish_scheme(world, reward_schedule=PLEDGE_CASH)
    order = [f"U{i + 1}" for i in range(len(scores))]
    ranking = world.emit(
        "PeriodRankingPublished",
        SCHEME,
        {
            "scheme_id": SCHEME,
            "period": "2024-05",
            "ranking": [{"assessee": a, "score": s} for a, s in zip(order, scores, strict=True)],
        },
        actor="officer-1",
    )
    schedule = CashSchedule(tuple(PLEDGE_CASH["rewards_fen"]), tuple(PLEDGE_CASH["fines_fen"]))
    for entry in cash_entries(order, schedule):
        kind = "MonetaryRewardGranted" if entry.kind == "REWARD" else "MonetaryPenaltyImposed"
        world.emit(
            kind,
            year_stream(entry.assessee),
            {
                "scheme_id": SCHEME,
                "assessee": entry.assessee,
                "amount_fen": entry.amount_fen,
                "position": entry.position,
                "ranking_event_id": ranking.event_id,
            },
            actor="gov-1",
        )
    return world


def test_ex_cash_1_rewards_and_fines_in_fen() -> None:
    rows = fold(cash_world(CASH_SCORES).events())
    units = {r.subject: r for r in rows.values() if r.kind == "ASSESSEE"}

    cash = {u: (r.rewards_fen, r.fines_fen) for u, r in sorted(units.items())}

    assert cash == {
        "U1": (300_000, 0),
        "U2": (200_000, 0),
        "U3": (100_000, 0),
        "U5": (0, 100_000),
        "U6": (0, 200_000),
        "U7": (0, 300_000),
    }
    assert sum(r for r, _ in cash.values()) == sum(f for _, f in cash.values()) == 600_000
    assert [e["position"] for e in orjson.loads(units["U7"].cash)] == [1]
    period = orjson.loads(rows[scheme_key(SCHEME)].period_rankings)["2024-05"]
    assert [r["assessee"] for r in period["ranking"]][-1] == "U7"


def test_ex_cash_2_five_units_are_never_both_rewarded_and_fined() -> None:
    rows = fold(cash_world(CASH_SCORES[:5]).events())

    cash = {r.subject: (r.rewards_fen, r.fines_fen) for r in rows.values() if r.kind == "ASSESSEE"}

    # U3 is #3 and third-last: rewarded only (Q7 default); no third fine.
    assert dict(sorted(cash.items())) == {
        "U1": (300_000, 0),
        "U2": (200_000, 0),
        "U3": (100_000, 0),
        "U4": (0, 200_000),
        "U5": (0, 300_000),
    }


# ------------------------------------------------------------------ revocation and sanctions


def test_revoked_eligibility_and_org_sanctions_with_their_causes() -> None:
    log = ReadModelLog()
    log.emit(
        "AwardEligibilityRevoked",
        ("assessment_year", "r:U1"),
        {"scheme_id": "r", "assessee": "U1", "year": 2024, "cause_event_ids": ["c-2", "c-1"]},
    )
    log.emit(
        "WarningIssued", ("assessment", "U1"), {"target_org_id": "U1", "cause_event_ids": ["m"]}
    )
    log.emit(
        "AccountabilityReferred",
        ("assessment", "U1"),
        {
            "target_org_id": "U1",
            "persons": [{"person_ref": "p-1", "position": "head"}],
            "referred_to_org_id": "discipline-1",
            "cause_event_ids": ["w"],
        },
    )

    rows = fold(log.events())

    unit = rows[assessee_key("r", "U1")]
    assert (unit.revoked, orjson.loads(unit.revocation_causes)) == (1, ["c-1", "c-2"])
    sanctions = orjson.loads(rows[organisation_key("U1")].sanctions)
    assert [(s["type"], s["cause_event_ids"]) for s in sanctions] == [
        ("WarningIssued", ["m"]),
        ("AccountabilityReferred", ["w"]),
    ]
    assert sanctions[1]["referred_to_org_id"] == "discipline-1"


def test_the_queries_split_rankings_from_awards_and_sanctions(
    tmp_path: Path, annual: LoggedWorld
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'l.db'}", home=tmp_path)
    store = built(settings, annual.entries(), page_size=9)

    schemes = rankings(store)
    units = awards_and_sanctions(store, scheme_id=SCHEME, kind="ASSESSEE")
    early = awards_and_sanctions(store, subject="county-B", as_known_at_position=3)

    assert [r["scheme_id"] for r in schemes.rows] == [SCHEME]
    assert schemes.state_hash == memory_hash(annual, "rankings", schemes.position)
    assert [r["subject"] for r in units.rows] == ["county-A", "county-B", "county-C"]
    assert (early.rows, early.position) == ([], 3)
    with pytest.raises(QueryError):
        awards_and_sanctions(store, kind="SCHEME")
    store.close()
