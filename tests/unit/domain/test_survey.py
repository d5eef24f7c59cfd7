"""W17 satisfaction survey: design, responses, the F-SURVEY result recomputed on append,
SUR-1 (hard), SUR-2 (soft → AF-SUR-QUOTA), and the survey score citing the computed result
(domain.md §3.5, §4.17, §5.7; EX-SURVEY-1 and EX-SURVEY-2)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from ledger.domain import survey
from ledger.domain.model import SOFT_FINDINGS, DomainEvent, SoftFinding
from tests.unit.domain.assessment_builders import (
    SCHEME,
    assessment_world,
    publish_scheme,
    year_stream,
)
from tests.unit.domain.case_builders import World, refused

SURVEY = "sv-2024"
INDICATORS = ["I1", "I2", "I3"]
# EX-SURVEY-1: indicator means per category, as (valid answers, sum) per indicator.
EX_1 = {
    "SERVICE_USER": (5, [41, 38, 45]),  # 8.2, 7.6, 9.0 → S = 248/3 = 82.6667
    "STAFF": (5, [45, 47, 44]),  # 9.0, 9.4, 8.8 → S = 272/3 = 90.6667
    "DEPUTY": (2, [14, 15, 16]),  # 7.0, 7.5, 8.0 → S = 75
    "INVITED_SUPERVISOR": (1, [6, 7, 8]),  # 6, 7, 8 → S = 70
}
WEIGHTS = {"SERVICE_USER": "0.65", "STAFF": "0.05", "DEPUTY": "0.20", "INVITED_SUPERVISOR": "0.10"}
EX_1_SCORES = {
    "SERVICE_USER": "82.6667",
    "STAFF": "90.6667",
    "DEPUTY": "75.0000",
    "INVITED_SUPERVISOR": "70.0000",
}


def soft(world: World, rule: str) -> list[SoftFinding]:
    return [f for f in world.state.table(SOFT_FINDINGS).values() if f.rule == rule]


def design(
    world: World,
    *,
    quotas: dict[str, int] | None = None,
    weights: dict[str, str] | None = None,
    indicators: list[str] | None = None,
) -> DomainEvent:
    weights = weights or WEIGHTS
    quotas = quotas or {code: EX_1[code][0] if code in EX_1 else 1 for code in weights}
    return world.emit(
        "SurveyDesigned",
        SURVEY,
        {
            "survey_id": SURVEY,
            "year": 2024,
            "subject_org_ids": ["county-A", "county-B", "county-C"],
            "indicators": indicators or INDICATORS,
            "categories": [
                {"code": code, "quota": quotas[code], "weight": w} for code, w in weights.items()
            ],
        },
        actor="survey-1",
        on="2024-07-15",
    )


def aggregate(
    world: World, category: str, respondents: int, sums: list[int], subject: str = "county-A"
) -> DomainEvent:
    blocks = [
        {"indicator_id": i, "n_valid": respondents, "n_dont_know": 0, "sum": s}
        for i, s in zip(INDICATORS, sums, strict=True)
    ]
    return world.emit(
        "SurveyResponsesRecorded",
        SURVEY,
        {
            "subject_org_id": subject,
            "category": category,
            "respondents": respondents,
            "respondent_token": None,
            "answers": None,
            "aggregate": blocks,
        },
        actor="survey-1",
        on="2024-09-20",
    )


def respond(world: World, token: str, answers: dict[str, Any], category: str = "ALL") -> None:
    world.emit(
        "SurveyResponsesRecorded",
        SURVEY,
        {
            "subject_org_id": "county-A",
            "category": category,
            "respondents": 1,
            "respondent_token": token,
            "answers": [{"indicator_id": i, "answer": a} for i, a in answers.items()],
            "aggregate": None,
        },
        actor="survey-1",
        on="2024-09-20",
    )


def compute(
    world: World,
    scores: Mapping[str, str | None],
    composite: str | None,
    responses: int,
    subject: str = "county-A",
) -> DomainEvent:
    return world.emit(
        "SurveyResultComputed",
        SURVEY,
        {
            "subject_org_id": subject,
            "category_scores": [{"category": c, "score": s} for c, s in scores.items()],
            "composite": composite,
            "responses_recorded": responses,
            "formula_id": "F-SURVEY",
            "formula_version": "1",
        },
        actor="ledger-1",
        on="2024-10-08",
    )


def ex_survey_1_world() -> World:
    world = assessment_world()
    design(world)
    for category, (n, sums) in EX_1.items():
        aggregate(world, category, n, sums)
    return world


def record_score(world: World, composite: str, points: str) -> DomainEvent:
    return world.emit(
        "SurveyScoreRecorded",
        year_stream("county-A"),
        {
            "scheme_id": SCHEME,
            "assessee": "county-A",
            "survey_id": SURVEY,
            "composite": composite,
            "points": points,
        },
        actor="survey-1",
        on="2024-10-20",
    )


# --- EX-SURVEY-1 ----------------------------------------------------------------------------------


def test_ex_survey_1_composite_is_80_2667_and_m_is_4_8160() -> None:
    world = ex_survey_1_world()
    publish_scheme(world)

    result = compute(world, EX_1_SCORES, "80.2667", responses=4)
    score = record_score(world, "80.2667", "4.8160")

    stored = survey.result(world.state, SURVEY, "county-A")
    assert stored is not None
    assert stored.composite == Decimal("80.2667")
    assert stored.event_id == result.event_id
    assert score.payload["points"] == "4.8160"
    assert soft(world, "SUR-2") == []


def test_ex_survey_1_exact_composite_is_1204_15() -> None:
    world = ex_survey_1_world()
    found = survey.design(world.state, SURVEY)
    assert found is not None

    computed = survey.computation_for(world.state, found, "county-A")

    assert computed.composite == Fraction(1204, 15)
    assert computed.category_scores["SERVICE_USER"] == Fraction(248, 3)


@pytest.mark.parametrize(
    ("scores", "composite", "responses"),
    [
        (EX_1_SCORES, "80.2666", 4),  # composite off by one in the last place
        ({**EX_1_SCORES, "STAFF": "90.6666"}, "80.2667", 4),  # a category score off
        ({k: v for k, v in EX_1_SCORES.items() if k != "DEPUTY"}, "80.2667", 4),  # missing
        ({**EX_1_SCORES, "OTHER": "50"}, "80.2667", 4),  # an undesigned category
        (EX_1_SCORES, "80.2667", 3),  # computed from an older prefix of the responses
        (EX_1_SCORES, None, 4),  # claims not computable
    ],
)
def test_a_result_that_differs_from_the_recomputation_is_refused(
    scores: dict[str, str | None], composite: str | None, responses: int
) -> None:
    world = ex_survey_1_world()

    with refused("SCO-3"):
        compute(world, dict(scores), composite, responses)


def test_a_survey_score_must_carry_the_computed_composite() -> None:
    world = ex_survey_1_world()
    publish_scheme(world)

    with refused("ENV-8"):  # no result computed yet
        record_score(world, "80.2667", "4.8160")
    compute(world, EX_1_SCORES, "80.2667", responses=4)
    with refused("SCO-3"):
        record_score(world, "82", "4.9200")


# --- EX-SURVEY-2 ----------------------------------------------------------------------------------


def test_ex_survey_2_dont_know_answers_are_excluded_from_the_mean() -> None:
    world = assessment_world()
    design(world, weights={"ALL": "1"}, quotas={"ALL": 3}, indicators=["I1"])
    for token, answer in (("r1", 10), ("r2", 8), ("r3", "DONT_KNOW"), ("r4", 6)):
        respond(world, token, {"I1": answer})

    tally = world.state.table(survey.TALLIES)[(SURVEY, "county-A", "ALL", "I1")]
    assert survey.indicator_mean(tally) == Fraction(8)  # 24 / 3, not 24 / 4 = 6.0
    with refused("SCO-3"):
        compute(world, {"ALL": "60"}, "60", responses=4)
    compute(world, {"ALL": "80"}, "80", responses=4)


# --- SUR-1 ----------------------------------------------------------------------------------------


def test_sur_1_weights_must_add_up_to_one() -> None:
    world = assessment_world()

    with refused("SUR-1"):
        design(world, weights={**WEIGHTS, "STAFF": "0.06"})
    with refused("SUR-1"):
        design(world, weights={"A": "1.1", "B": "-0.1"})


def test_sur_1_categories_are_distinct() -> None:
    world = assessment_world()
    payload = {
        "survey_id": SURVEY,
        "year": 2024,
        "subject_org_ids": ["county-A"],
        "indicators": INDICATORS,
        "categories": [
            {"code": "X", "quota": 1, "weight": "1/2"},
            {"code": "X", "quota": 1, "weight": "1/2"},
        ],
    }

    with refused("SUR-1"):
        world.emit("SurveyDesigned", SURVEY, payload, actor="survey-1")


def test_sur_1_weights_may_be_exact_ratios() -> None:
    world = assessment_world()

    design(world, weights={"A": "13/20", "B": "1/20", "C": "1/5", "D": "1/10"})

    found = survey.design(world.state, SURVEY)
    assert found is not None
    assert sum((c.weight for c in found.categories), Fraction(0)) == 1


def test_sur_1_answers_are_0_to_10_or_dont_know() -> None:
    world = assessment_world()
    design(world, weights={"ALL": "1"}, quotas={"ALL": 1}, indicators=["I1"])

    with refused("SUR-1"):
        respond(world, "r1", {"I1": 11})
    with refused("SUR-1"):
        respond(world, "r1", {"I1": -1})
    respond(world, "r1", {"I1": 0})
    respond(world, "r2", {"I1": 10})


def test_sur_1_the_category_and_indicators_are_the_designs() -> None:
    world = assessment_world()
    design(world, weights={"ALL": "1"}, quotas={"ALL": 1}, indicators=["I1"])

    with refused("SUR-1"):
        respond(world, "r1", {"I1": 5}, category="STAFF")
    with refused("SUR-1"):
        respond(world, "r1", {"I9": 5})


def test_sur_1_an_aggregate_block_cannot_hide_answers_above_10() -> None:
    world = assessment_world()
    design(world)

    with refused("SUR-1"):
        aggregate(world, "STAFF", 5, [51, 40, 40])  # 51 > 10 x 5 valid answers


def test_responses_need_a_designed_survey_and_subject() -> None:
    world = assessment_world()

    with refused("ENV-8"):
        aggregate(world, "STAFF", 5, [40, 40, 40])
    design(world)
    with refused("ENV-8"):
        aggregate(world, "STAFF", 5, [40, 40, 40], subject="township-A1")


def test_a_survey_is_designed_once() -> None:
    world = assessment_world()
    design(world)

    with refused("ENV-7"):
        design(world)


# --- SUR-2 ----------------------------------------------------------------------------------------


def test_sur_2_a_result_below_the_004_quotas_raises_af_sur_quota() -> None:
    world = assessment_world()
    design(
        world,
        quotas={"SERVICE_USER": 1400, "STAFF": 20, "DEPUTY": 580, "INVITED_SUPERVISOR": 15},
    )
    for category, (n, sums) in EX_1.items():
        aggregate(world, category, n, sums)

    compute(world, EX_1_SCORES, "80.2667", responses=4)

    [finding] = soft(world, "SUR-2")
    assert finding.finding_code == "AF-SUR-QUOTA"
    assert dict(dict(finding.evidence)["samples"]) == {
        "SERVICE_USER": 5,
        "STAFF": 5,
        "DEPUTY": 2,
        "INVITED_SUPERVISOR": 1,
    }


def test_sur_2_a_category_without_valid_answers_makes_the_composite_not_computable() -> None:
    world = assessment_world()
    design(world)
    for category in ("SERVICE_USER", "STAFF", "DEPUTY"):
        n, sums = EX_1[category]
        aggregate(world, category, n, sums)
    scores: dict[str, str | None] = {**EX_1_SCORES, "INVITED_SUPERVISOR": None}

    with refused("SCO-3"):  # weights are never renormalised over the other categories
        compute(world, scores, "81.3", responses=3)
    compute(world, scores, None, responses=3)

    [finding] = soft(world, "SUR-2")
    evidence = dict(finding.evidence)
    assert evidence["categories_without_answers"] == ("INVITED_SUPERVISOR",)
    assert evidence["samples"] == (("INVITED_SUPERVISOR", 0),)


def test_sur_2_fieldwork_below_quota_raises_af_sur_quota() -> None:
    world = assessment_world()
    design(
        world, quotas={"SERVICE_USER": 1400, "STAFF": 20, "DEPUTY": 580, "INVITED_SUPERVISOR": 15}
    )

    world.emit(
        "SurveyFieldworkCompleted",
        SURVEY,
        {
            "period": "2024-09",
            "samples_per_category": [
                {"category": "SERVICE_USER", "samples": 1400},
                {"category": "STAFF", "samples": 20},
                {"category": "DEPUTY", "samples": 579},
                {"category": "INVITED_SUPERVISOR", "samples": 15},
            ],
            "note": None,
        },
        actor="survey-1",
        on="2024-09-30",
    )

    [finding] = soft(world, "SUR-2")
    assert dict(finding.evidence)["samples"] == (("DEPUTY", 579),)
    assert dict(finding.evidence)["quotas"] == (("DEPUTY", 580),)


def test_fieldwork_reports_designed_categories_once() -> None:
    world = assessment_world()
    design(world)

    def report(rows: list[dict[str, Any]]) -> None:
        world.emit(
            "SurveyFieldworkCompleted",
            SURVEY,
            {"period": "2024-09", "samples_per_category": rows, "note": None},
            actor="survey-1",
        )

    with refused("SUR-1"):
        report([{"category": "PASSERS_BY", "samples": 3}])
    with refused("SUR-1"):
        report([{"category": "STAFF", "samples": 3}, {"category": "STAFF", "samples": 3}])
