"""Builders for the W10-W16 tests: a city with three counties, an assessment office, a leading
group, a responsible department and a survey team; payload factories for the repaired 002
scheme, agreements with one indicator per category, results, scores and components.

Scores are *recorded* with the values the pure formulas give for the ledger's current state
(:func:`score_payload`); the tests compare them against the worked examples' hand-computed
values, and tamper with them to check the refusals.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ledger.domain.assessment_state import (
    agreement_of,
    indicator_input,
    pair,
    peer_inputs,
    record_of,
)
from ledger.domain.model import DomainEvent
from ledger.domain.scoring import peer_r_max, score_indicator, stored, survey_points
from ledger.domain.scoring_scheme import (
    CATEGORIES_002,
    SINGLE_ITEM_002,
    repaired_002_scheme,
    scheme_config,
)
from tests.unit.domain.case_builders import Actor, FakeDirectory, Org, World

SCHEME = "scheme-2024"
SHA = "e" * 64
COUNTIES = ("county-A", "county-B", "county-C")

ORGS = {
    "city-1": Org("GOVERNMENT", None),
    "office-1": Org("ASSESSMENT_OFFICE", "city-1"),
    "lg-1": Org("LEADING_GROUP", "city-1"),
    "survey-1": Org("SURVEY_TEAM", "city-1"),
    "dept-1": Org("DEPARTMENT", "city-1"),
    "discipline-1": Org("DISCIPLINE_BODY", "city-1"),
    "county-A": Org("GOVERNMENT", "city-1"),
    "county-B": Org("GOVERNMENT", "city-1"),
    "county-C": Org("GOVERNMENT", "city-1"),
    "township-A1": Org("GOVERNMENT", "county-A"),
    "township-A2": Org("GOVERNMENT", "county-A"),
    "township-B1": Org("GOVERNMENT", "county-B"),
}

ACTORS = {
    "officer-1": Actor("office-1", "assessment_office_officer", "p-officer-1"),
    "wg-1": Actor("office-1", "assessment_working_group_member", "p-wg-1"),
    "sec-1": Actor("lg-1", "leading_group_secretary", "p-sec-1"),
    "gov-1": Actor("city-1", "government_approver", "p-gov-1"),
    "assessor-1": Actor("dept-1", "responsible_unit_assessor", "p-assessor-1"),
    "survey-1": Actor("survey-1", "statistics_survey_team", "p-survey-1"),
    "county-A-gov": Actor("county-A", "government_approver", "p-county-a"),
    "county-A-assessor": Actor("county-A", "responsible_unit_assessor", "p-county-a-2"),
    "county-B-gov": Actor("county-B", "government_approver", "p-county-b"),
    "lead-unit-1": Actor("dept-1", "lead_unit_coordinator", "p-lead-unit-1"),
    "ledger-1": Actor("city-1", "ledger", "ledger-assessment"),
}


def assessment_world() -> World:
    """A fresh ledger over the assessment org tree."""
    return World(directory=FakeDirectory(ORGS, ACTORS))


def year_stream(assessee: str, scheme_id: str = SCHEME) -> str:
    return f"{scheme_id}:{assessee}"


# --- scheme and agreements -----------------------------------------------------------------------


def scheme_payload(scheme_id: str = SCHEME, **overrides: Any) -> dict[str, Any]:
    payload = repaired_002_scheme(scheme_id, 2024)
    payload["approved_by_actor_id"] = "sec-1"
    payload.update(overrides)
    return payload


def publish_scheme(world: World, scheme_id: str = SCHEME, **overrides: Any) -> DomainEvent:
    return world.emit(
        "AssessmentSchemePublished",
        scheme_id,
        scheme_payload(scheme_id, **overrides),
        actor="officer-1",
        on="2024-01-05",
    )


def indicator(
    indicator_id: str,
    category: str,
    base: str,
    *,
    target: str = "100",
    bonus: bool = True,
    ratio: bool = True,
    milestones: list[dict[str, str]] | None = None,
    scopes: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "indicator_id": indicator_id,
        "category": category,
        "name": f"{category.lower()} target",
        "unit": "units",
        "target_value": target,
        "base_points": base,
        "bonus_eligible": bonus,
        "measurable_by_ratio": ratio,
        "responsible_org_id": "dept-1",
        "lead_org_id": None,
        "assisting_org_ids": [],
        "scopes": ["CITY_TO_COUNTY"] if scopes is None else scopes,
        "milestones": milestones or [],
    }


def standard_indicators(**splits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One indicator per 002 category at its full weight, ids = category codes; ``splits``
    replaces a category's indicator by several (their base points must add up)."""
    result: list[dict[str, Any]] = []
    for code, weight in CATEGORIES_002:
        result += splits.get(code, [indicator(code, code, weight)])
    return result


def sign_agreement(
    world: World,
    agent: str,
    indicators: list[dict[str, Any]] | None = None,
    *,
    scheme_id: str = SCHEME,
    agreement_id: str | None = None,
) -> DomainEvent:
    agreement_id = agreement_id or f"agr-{agent}"
    return world.emit(
        "TargetResponsibilityAgreementSigned",
        agreement_id,
        {
            "agreement_id": agreement_id,
            "scheme_id": scheme_id,
            "principal_org_id": "city-1",
            "agent_org_id": agent,
            "indicators": indicators if indicators is not None else standard_indicators(),
            "document_sha256": SHA,
        },
        actor="gov-1",
        on="2024-01-10",
    )


# --- results and scores --------------------------------------------------------------------------


def record_result(
    world: World,
    assessee: str,
    indicator_id: str,
    actual: str,
    *,
    actor: str = "assessor-1",
    scheme_id: str = SCHEME,
    **overrides: Any,
) -> DomainEvent:
    """A result with the agreed target, c = A / T and met = c ≥ 1 (unless overridden)."""
    agreement = agreement_of(world.state, scheme_id, assessee)
    assert agreement is not None
    spec = pair(agreement.indicators, indicator_id)
    assert spec is not None
    c = Fraction(actual) / spec.target
    payload: dict[str, Any] = {
        "scheme_id": scheme_id,
        "assessee": assessee,
        "indicator_id": indicator_id,
        "target": str(spec.target),
        "actual": actual,
        "completion_ratio": str(c) if spec.measurable_by_ratio else None,
        "met": c >= 1,
    }
    payload.update(overrides)
    return world.emit(
        "IndicatorResultRecorded",
        year_stream(assessee, scheme_id),
        payload,
        actor=actor,
        on="2025-01-12",
    )


def score_payload(
    world: World, assessee: str, indicator_id: str, *, scheme_id: str = SCHEME, deduction: str = "0"
) -> dict[str, Any]:
    """The score the formulas give for the current results (to be recorded or tampered with)."""
    state = world.state
    agreement = agreement_of(state, scheme_id, assessee)
    assert agreement is not None
    spec = pair(agreement.indicators, indicator_id)
    result = pair(record_of(state, scheme_id, assessee).results, indicator_id)
    assert spec is not None and result is not None
    rules = state.table("asm.schemes")[scheme_id].config.rules
    peers = peer_inputs(state, scheme_id, indicator_id)
    r_max = peer_r_max(peers) if spec.measurable_by_ratio else None
    cut = Fraction(0) if spec.measurable_by_ratio else Fraction(deduction)
    score = score_indicator(indicator_input(assessee, spec, result, cut), r_max, rules)
    return {
        "scheme_id": scheme_id,
        "assessee": assessee,
        "indicator_id": indicator_id,
        "base": str(stored(score.base)),
        "bonus": str(stored(score.bonus)),
        "deduction": str(stored(score.deduction)),
        "final": str(score.final),
        "formula_id": score.formula_id,
        "formula_version": "1",
        "inputs_sha256": SHA,
        "peer_r_max": None if r_max is None else str(r_max),
        "discretionary_reason": None if spec.measurable_by_ratio else "site check",
    }


def record_score(
    world: World, assessee: str, indicator_id: str, *, scheme_id: str = SCHEME, **overrides: Any
) -> DomainEvent:
    payload = score_payload(world, assessee, indicator_id, scheme_id=scheme_id)
    payload.update(overrides)
    return world.emit(
        "IndicatorScoreRecorded",
        year_stream(assessee, scheme_id),
        payload,
        actor="assessor-1",
        on="2025-01-13",
    )


def score_organisation(world: World, assessee: str, points: dict[str, str]) -> None:
    for sub_item, value in points.items():
        world.emit(
            "OrganisationImplementationScored",
            year_stream(assessee),
            {
                "scheme_id": SCHEME,
                "assessee": assessee,
                "sub_item": sub_item,
                "points": value,
                "inspection_id": None,
            },
            actor="wg-1",
            on="2025-01-14",
        )


FULL_ORGANISATION = {
    "LEADERSHIP": "1",
    "MEASURES": "1",
    "TASK_DECOMPOSITION": "0.5",
    "FUNDING": "3.5",
}


def record_survey(
    world: World, assessee: str, composite: str, points: str | None = None
) -> DomainEvent:
    config = scheme_config(scheme_payload())
    expected = stored(survey_points(Fraction(composite), config.rules))
    return world.emit(
        "SurveyScoreRecorded",
        year_stream(assessee),
        {
            "scheme_id": SCHEME,
            "assessee": assessee,
            "survey_id": "survey-2024",
            "composite": composite,
            "points": points if points is not None else str(expected),
        },
        actor="survey-1",
        on="2024-10-20",
    )


def criticise(
    world: World,
    target: str,
    level: str,
    *,
    related_to: str = "LIVELIHOOD_TARGET",
    day: str = "2024-05-10",
) -> DomainEvent:
    return world.emit(
        "CriticismIssued",
        target,
        {
            "issuer_org": "province-1",
            "issuer_level": level,
            "target_org": target,
            "related_to": related_to,
            "document_ref": f"doc-{level}-{world.counter}",
            "issued_at": day,
            "item": None,
            "cause_event_ids": [],
        },
        actor="officer-1",
        on=day,
    )


def apply_penalty(world: World, assessee: str, cause: DomainEvent, points: str) -> DomainEvent:
    return world.emit(
        "PenaltyPointsApplied",
        year_stream(assessee),
        {
            "scheme_id": SCHEME,
            "assessee": assessee,
            "points": points,
            "cause_event_id": cause.event_id,
        },
        actor="officer-1",
        on="2025-01-20",
    )


# --- the EX-ANNUAL-1 / EX-ANNUAL-2 year ---------------------------------------------------------

ACTUALS = {
    # County A (EX-ANNUAL-1): employment r = 0.05 of r_max 0.15 (+0.8); housing r_max (+2.0).
    "county-A": {"EMPLOYMENT": "105", "SUBSIDISED_HOUSING": "110"},
    # County B (EX-ANNUAL-2): social insurance r = 0.05 of r_max 0.20 (+0.4); the 4.5-point
    # medical sub-indicator at 93 % (3 steps, -0.675): vetoed.
    "county-B": {"SOCIAL_INSURANCE": "105", "MEDICAL-2": "93"},
    # County C sets the peers' highest over-completion: employment 0.15, social insurance 0.20.
    "county-C": {"EMPLOYMENT": "115", "SOCIAL_INSURANCE": "120"},
}
ORGANISATION = {
    "county-A": {**FULL_ORGANISATION, "FUNDING": "3"},
    "county-B": FULL_ORGANISATION,
    "county-C": FULL_ORGANISATION,
}
SURVEY = {"county-A": "85", "county-B": "90", "county-C": "80"}
CRITICISMS = {
    "county-A": [("CITY_GOVERNMENT", "1")],
    "county-B": [("PROVINCIAL_GOVERNMENT", "2"), ("PROVINCIAL_LINE_DEPARTMENT", "1")],
    "county-C": [],
}
B_MEDICAL = [
    indicator("MEDICAL_SECURITY", "MEDICAL_SECURITY", "14"),
    indicator("MEDICAL-2", "MEDICAL_SECURITY", "4.5"),
]


def indicator_ids(world: World, assessee: str) -> list[str]:
    agreement = agreement_of(world.state, SCHEME, assessee)
    assert agreement is not None
    return [i for i, _ in agreement.indicators]


def annual_year(world: World, *, survey: bool = True) -> None:
    """Scheme, agreements, results, scores, components and penalties of the three counties."""
    publish_scheme(world)
    sign_agreement(world, "county-A")
    sign_agreement(world, "county-B", standard_indicators(MEDICAL_SECURITY=B_MEDICAL))
    sign_agreement(world, "county-C")
    for county in COUNTIES:
        for indicator_id in indicator_ids(world, county):
            record_result(world, county, indicator_id, ACTUALS[county].get(indicator_id, "100"))
    for county in COUNTIES:
        for indicator_id in indicator_ids(world, county):
            record_score(world, county, indicator_id)
        score_organisation(world, county, ORGANISATION[county])
        if survey:
            record_survey(world, county, SURVEY[county])
        for level, points in CRITICISMS[county]:
            apply_penalty(world, county, criticise(world, county, level), points)


def row(
    assessee: str, s: str, o: str, m: str, t: str, p: str, failing: list[str]
) -> dict[str, Any]:
    return {
        "assessee": assessee,
        "S": s,
        "O": o,
        "M": m,
        "T": t,
        "B": "0",
        "P": p,
        "vetoed": bool(failing),
        "failing_indicator_ids": failing,
    }


# Hand-computed (domain.md §5.4): A = EX-ANNUAL-1, B = EX-ANNUAL-2, C: T = 14.4 + 9.6 + 68 = 92,
# S = 6 + 4.8 + 92 = 102.8.
EXPECTED_RANKING = [
    row("county-C", "102.8", "6", "4.8", "92", "0", []),
    row("county-A", "100.4", "5.5", "5.1", "90.8", "1", []),
    row("county-B", "96.125", "6", "5.4", "87.725", "3", ["MEDICAL-2"]),
]


def consolidate(
    world: World, ranking: list[dict[str, Any]] | None = None, on: str = "2025-01-28"
) -> DomainEvent:
    return world.emit(
        "AssessmentConsolidated",
        SCHEME,
        {"scheme_id": SCHEME, "ranking": ranking if ranking is not None else EXPECTED_RANKING},
        actor="officer-1",
        on=on,
    )


def single_items(winner: str) -> list[dict[str, str]]:
    return [{"category": code, "assessee": winner} for code, _ in SINGLE_ITEM_002]


def propose(world: World, **overrides: Any) -> DomainEvent:
    payload: dict[str, Any] = {
        "scheme_id": SCHEME,
        "comprehensive": ["county-C", "county-A"],
        "single_item": single_items("county-B"),
        "last_place": ["county-B"],
        "individuals": [],
    }
    payload.update(overrides)
    return world.emit("AdvancedListProposed", SCHEME, payload, actor="officer-1", on="2025-01-29")


def approve_and_ratify(world: World, proposal: DomainEvent) -> DomainEvent:
    approval = world.emit(
        "AssessmentResultsApproved",
        SCHEME,
        {"scheme_id": SCHEME, "proposal_event_id": proposal.event_id},
        actor="sec-1",
        on="2025-02-02",
    )
    return world.emit(
        "AwardsRatified",
        SCHEME,
        {"scheme_id": SCHEME, "approval_event_id": approval.event_id},
        actor="gov-1",
        on="2025-02-05",
    )
