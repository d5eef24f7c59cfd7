"""Property: random valid score inputs, driven through the rules as events, never produce a
consolidated ranking that differs from an independent recomputation (SCO-3, SCO-6, F-RANK).

The reference below is written separately from :mod:`ledger.domain.scoring` (Decimal with
ROUND_HALF_UP instead of exact integer rounding, no shared helpers), so the two implementations
check each other.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import RuleViolation
from tests.unit.domain.assessment_builders import (
    SCHEME,
    apply_penalty,
    assessment_world,
    consolidate,
    criticise,
    indicator,
    propose,
    publish_scheme,
    record_result,
    record_score,
    record_survey,
    scheme_payload,
    score_organisation,
    sign_agreement,
)
from tests.unit.domain.case_builders import World

CATEGORIES = [
    {"code": "K1", "points": "44", "lead_org_id": None},
    {"code": "K2", "points": "44", "lead_org_id": None},
]
INDICATORS = [("I1", "K1", "20"), ("I2", "K1", "24"), ("I3", "K2", "44")]
SUB_ITEMS = {"LEADERSHIP": 2, "MEASURES": 2, "TASK_DECOMPOSITION": 1, "FUNDING": 7}
"""Weights in half points (1, 1, 0.5, 3.5)."""
LEVELS = {"PROVINCIAL_GOVERNMENT": 2, "CITY_GOVERNMENT": 1}
COUNTY_IDS = ["county-A", "county-B", "county-C"]

county_inputs = st.fixed_dictionaries(
    {
        "actuals": st.lists(st.integers(60, 140), min_size=3, max_size=3),
        "halves": st.fixed_dictionaries({k: st.integers(0, w) for k, w in SUB_ITEMS.items()}),
        "composite": st.integers(40, 100),
        "criticisms": st.lists(st.sampled_from(sorted(LEVELS)), max_size=3),
    }
)


def small_scheme(world: World) -> None:
    quotas = scheme_payload()["award_quotas"]
    quotas.update(comprehensive=2, single_item=[{"code": "K1", "count": 1}])
    publish_scheme(world, categories=CATEGORIES, award_quotas=quotas)


# --- the independent reference -------------------------------------------------------------------


def half_up(value: Fraction) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def reference_scores(data: dict[str, Any]) -> dict[tuple[str, str], tuple[Decimal, bool]]:
    scores = {}
    for i, (indicator_id, _, base_text) in enumerate(INDICATORS):
        base = Fraction(base_text)
        overs = [Fraction(d["actuals"][i], 100) - 1 for d in data.values()]
        r_max = max((r for r in overs if r > 0), default=None)
        for county, d in data.items():
            r = Fraction(d["actuals"][i], 100) - 1
            if r >= 0:
                extra = base / 5 * r / r_max if r > 0 and r_max else Fraction(0)
                scores[(county, indicator_id)] = (half_up(base + extra), True)
            else:
                steps = math.floor(-r * 50)
                cut = min(base * 3 / 5, steps * base / 20)
                scores[(county, indicator_id)] = (half_up(base - cut), False)
    return scores


def reference_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    scores = reference_scores(data)
    rows = []
    for county, d in data.items():
        o = Decimal(sum(d["halves"].values())) / 2
        m = half_up(Fraction(6 * d["composite"], 100))
        t = sum((scores[(county, i)][0] for i, _, _ in INDICATORS), Decimal(0))
        p = Decimal(sum(LEVELS[c] for c in d["criticisms"]))
        failing = [i for i, _, _ in INDICATORS if not scores[(county, i)][1]]
        rows.append(
            {
                "assessee": county,
                "S": str(o + m + t - p),
                "O": str(o),
                "M": str(m),
                "T": str(t),
                "B": "0",
                "P": str(p),
                "vetoed": bool(failing),
                "failing_indicator_ids": failing,
            }
        )
    # Best first: S, then T, then lower P; fully tied units by id (presentation only).
    rows.sort(key=lambda r: (-Decimal(r["S"]), -Decimal(r["T"]), Decimal(r["P"]), r["assessee"]))
    return rows


# --- driving the rules ---------------------------------------------------------------------------


def drive(data: dict[str, Any]) -> World:
    world = assessment_world()
    small_scheme(world)
    for county in data:
        sign_agreement(world, county, [indicator(i, k, b) for i, k, b in INDICATORS])
    for county, d in data.items():
        for (indicator_id, _, _), actual in zip(INDICATORS, d["actuals"], strict=True):
            record_result(world, county, indicator_id, str(actual))
    for county, d in data.items():
        for indicator_id, _, _ in INDICATORS:
            record_score(world, county, indicator_id)
        points = {k: str(Decimal(v) / 2) for k, v in d["halves"].items()}
        score_organisation(world, county, points)
        record_survey(world, county, str(d["composite"]))
        for level in d["criticisms"]:
            apply_penalty(world, county, criticise(world, county, level), str(LEVELS[level]))
    return world


@settings(max_examples=40, deadline=None)
@given(st.lists(county_inputs, min_size=2, max_size=3))
def test_random_years_consolidate_to_the_independent_ranking(inputs: list[dict[str, Any]]) -> None:
    data = dict(zip(COUNTY_IDS, inputs, strict=False))
    world = drive(data)
    expected = reference_rows(data)

    consolidate(world, expected)

    ranking = world.state.table("asm.rankings")
    assert [r.order for r in ranking.values()] == [tuple(r["assessee"] for r in expected)]


@settings(max_examples=25, deadline=None)
@given(st.lists(county_inputs, min_size=2, max_size=3), st.data())
def test_a_tampered_ranking_is_always_refused(
    inputs: list[dict[str, Any]], draw: st.DataObject
) -> None:
    data = dict(zip(COUNTY_IDS, inputs, strict=False))
    world = drive(data)
    rows = reference_rows(data)
    victim = draw.draw(st.integers(0, len(rows) - 1))
    rows[victim]["S"] = str(Decimal(rows[victim]["S"]) + Decimal("0.0001"))

    try:
        consolidate(world, rows)
    except RuleViolation as refused:
        assert refused.code == "SCO-6"
    else:
        raise AssertionError("a ranking with a tampered total was accepted")


@settings(max_examples=25, deadline=None)
@given(st.lists(county_inputs, min_size=3, max_size=3))
def test_comprehensive_awards_never_go_to_a_vetoed_unit(inputs: list[dict[str, Any]]) -> None:
    data = dict(zip(COUNTY_IDS, inputs, strict=False))
    world = drive(data)
    rows = reference_rows(data)
    consolidate(world, rows)
    vetoed = [r["assessee"] for r in rows if r["vetoed"]]
    if not vetoed:
        return

    try:
        propose(world, comprehensive=[vetoed[0]], single_item=[], last_place=[])
    except RuleViolation as refused:
        assert refused.code == "AWD-1"
    else:
        raise AssertionError(f"vetoed {vetoed[0]} was accepted as a comprehensive winner")


# --- ties at an award boundary (§5.11, Q14) -----------------------------------------------

SAME = {
    "actuals": [100, 110, 100],
    "halves": dict(SUB_ITEMS),
    "composite": 80,
    "criticisms": [],
}


def test_a_tie_straddling_the_comprehensive_quota_needs_a_decision() -> None:
    data = dict.fromkeys(COUNTY_IDS, SAME)
    world = drive(data)
    consolidate(world, reference_rows(data))

    try:
        propose(world, comprehensive=["county-A", "county-B"], single_item=[], last_place=[])
    except RuleViolation as refused:
        assert refused.code == "AWD-3"
        assert "county-A, county-B, county-C" in str(refused)
    else:
        raise AssertionError("a tied award boundary was accepted without a decision")

    world.emit(
        "TieBrokenByDecision",
        SCHEME,
        {
            "scheme_id": SCHEME,
            "tied": COUNTY_IDS,
            "order": ["county-C", "county-A", "county-B"],
            "reason": "leading group vote",
        },
        actor="sec-1",
    )
    decided = sorted(
        reference_rows(data),
        key=lambda r: ["county-C", "county-A", "county-B"].index(r["assessee"]),
    )
    consolidate(world, decided)
    propose(
        world,
        comprehensive=["county-C", "county-A"],
        single_item=[{"category": "K1", "assessee": "county-B"}],
        last_place=[],
    )


def test_only_equal_units_can_be_ordered_by_decision() -> None:
    data = {"county-A": SAME, "county-B": {**SAME, "composite": 90}}
    world = drive(data)

    try:
        world.emit(
            "TieBrokenByDecision",
            SCHEME,
            {
                "scheme_id": SCHEME,
                "tied": ["county-A", "county-B"],
                "order": ["county-A", "county-B"],
                "reason": "preference",
            },
            actor="sec-1",
        )
    except RuleViolation as refused:
        assert refused.code == "ENV-8"
        assert "S=" in str(refused)
    else:
        raise AssertionError("units with different scores were ordered by decision")
