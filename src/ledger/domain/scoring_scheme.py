"""An assessment scheme as the formulas use it: parsed from ``AssessmentSchemePublished``,
validated (SCO-1), and the repaired 002 reading of ``domain.md`` §5.10 as published default.

:func:`scheme_config` turns a payload into a :class:`SchemeConfig` (exact numbers);
:func:`scheme_problems` lists every SCO-1 breach in words; :func:`repaired_002_scheme` is the
sample scheme the software ships (reading A: total 100, leadership 1, social assistance 10,
education and health 11.5, housing 10, 11 single-item awards) and :func:`literal_002_scheme`
the unrepaired literal text, which SCO-1 refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from ledger.domain.scoring import (
    FORMULA_VERSION,
    GradeThresholds,
    ScoringRules,
    rules_from_config,
)
from ledger.domain.scoring_rank import AwardQuotas, CashSchedule
from ledger.domain.supervision_points import PointsSchedule, schedule_from_config

ORGANISATION = "ORGANISATION_IMPLEMENTATION"
SURVEY = "PUBLIC_SURVEY"
TASKS = "TASK_COMPLETION"


@dataclass(frozen=True, slots=True)
class SchemeConfig:
    """Everything a recomputation needs from one published scheme."""

    scheme_id: str
    year: int
    scope: str
    rules: ScoringRules
    components: Mapping[str, Fraction]
    sub_items: Mapping[str, Fraction]
    """Organisation-and-implementation sub-items → weight."""
    categories: Mapping[str, Fraction]
    penalty_schedule: PointsSchedule
    priced_related_to: frozenset[str]
    """Criticisms and commendations about these subjects are priced (002: livelihood targets)."""
    grade_thresholds: GradeThresholds
    quotas: AwardQuotas
    individual_quotas: Mapping[str, int]
    individual_default: int | None
    cash: CashSchedule
    deadlines: Mapping[str, str | None]
    formula_version: str

    def deadline(self, name: str) -> date | None:
        """A deadline as a date: year-end ones fall in the year after the scheme year,
        the mid-year self-check in the scheme year."""
        month_day = self.deadlines.get(name)
        if month_day is None:
            return None
        year = self.year if name == "mid_year_self_check" else self.year + 1
        return date.fromisoformat(f"{year}-{month_day}")


def _weights(rows: list[Mapping[str, Any]]) -> dict[str, Fraction]:
    return {str(r["code"]): Fraction(str(r["points"])) for r in rows}


def scheme_config(payload: Mapping[str, Any]) -> SchemeConfig:
    """The exact configuration of a schema-valid ``AssessmentSchemePublished`` payload."""
    components = payload["components"]
    organisation = [c for c in components if c["code"] == ORGANISATION]
    quotas = payload["award_quotas"]
    thresholds = payload["grade_thresholds"]
    return SchemeConfig(
        scheme_id=payload["scheme_id"],
        year=payload["year"],
        scope=payload["scope"],
        rules=rules_from_config(payload["rules"]),
        components=_weights(components),
        sub_items=_weights(organisation[0]["sub_items"]) if organisation else {},
        categories=_weights(payload["categories"]),
        penalty_schedule=schedule_from_config(payload["scheme_id"], payload["penalty_schedule"]),
        priced_related_to=frozenset(payload["priced_related_to"]),
        grade_thresholds=GradeThresholds(
            excellent=Fraction(thresholds["excellent"]),
            good=Fraction(thresholds["good"]),
            passing=Fraction(thresholds["passing"]),
            excellent_max_rank=thresholds["excellent_max_rank"],
        ),
        quotas=AwardQuotas(
            comprehensive=quotas["comprehensive"],
            last_place=quotas["last_place"],
            single_item={q["code"]: q["count"] for q in quotas["single_item"]},
        ),
        individual_quotas={q["code"]: q["count"] for q in quotas["individuals"]},
        individual_default=quotas["individual_default"],
        cash=CashSchedule(
            rewards_fen=tuple(payload["reward_schedule"]["rewards_fen"]),
            fines_fen=tuple(payload["reward_schedule"]["fines_fen"]),
        ),
        deadlines=dict(payload["deadlines"]),
        formula_version=payload["formula_version"],
    )


# --- SCO-1 ---------------------------------------------------------------------------------------


def _sum(rows: list[Mapping[str, Any]]) -> Fraction:
    return sum((Fraction(str(r["points"])) for r in rows), Fraction(0))


def _duplicates(codes: list[str]) -> list[str]:
    return sorted({c for c in codes if codes.count(c) > 1})


def _component_problems(payload: Mapping[str, Any]) -> list[str]:
    problems = []
    components = payload["components"]
    total = Fraction(payload["total_points"])
    if _sum(components) != total:
        problems.append(f"components add up to {_sum(components)}, not the total {total}")
    for component in components:
        subs = component["sub_items"]
        points = Fraction(component["points"])
        if subs and _sum(subs) != points:
            problems.append(
                f"sub-items of {component['code']} add up to {_sum(subs)}, not {points}"
            )
        if dup := _duplicates([s["code"] for s in subs]):
            problems.append(f"{component['code']} repeats sub-item(s) {', '.join(dup)}")
    if dup := _duplicates([c["code"] for c in components]):
        problems.append(f"component(s) {', '.join(dup)} appear more than once")
    return problems


def _category_problems(payload: Mapping[str, Any]) -> list[str]:
    problems = []
    categories = payload["categories"]
    tasks = [c for c in payload["components"] if c["code"] == TASKS]
    if tasks and _sum(categories) != Fraction(tasks[0]["points"]):
        problems.append(
            f"categories add up to {_sum(categories)}, not the {TASKS} weight {tasks[0]['points']}"
        )
    if not tasks and categories:
        problems.append(f"categories are listed but there is no {TASKS} component")
    if dup := _duplicates([c["code"] for c in categories]):
        problems.append(f"category(ies) {', '.join(dup)} appear more than once")
    codes = {c["code"] for c in categories}
    unknown = sorted(
        q["code"] for q in payload["award_quotas"]["single_item"] if q["code"] not in codes
    )
    if unknown:
        problems.append(f"single-item quotas name unknown categories {', '.join(unknown)}")
    return problems


def _rule_problems(payload: Mapping[str, Any]) -> list[str]:
    rules = rules_from_config(payload["rules"])
    problems = []
    for name in ("bonus_top_fraction", "shortfall_step", "shortfall_deduction", "survey_scale"):
        if getattr(rules, name) <= 0:
            problems.append(f"rule {name} must be positive")
    if not 0 <= rules.deduction_cap <= 1:
        problems.append("rule deduction_cap must be between 0 and 1")
    if payload["formula_version"] != FORMULA_VERSION:
        problems.append(
            f"formula version {payload['formula_version']} is not one this ledger computes "
            f"({FORMULA_VERSION})"
        )
    survey = [c for c in payload["components"] if c["code"] == SURVEY]
    if survey and Fraction(survey[0]["points"]) != rules.survey_points:
        problems.append(
            f"rule survey_points {rules.survey_points} differs from the {SURVEY} weight "
            f"{survey[0]['points']}"
        )
    return problems


def scheme_problems(payload: Mapping[str, Any]) -> list[str]:
    """Every SCO-1 breach of a schema-valid scheme payload, in words (empty: valid)."""
    return _component_problems(payload) + _category_problems(payload) + _rule_problems(payload)


# --- the published default (reading A of §5.10) ------------------------------------------------

_CITY_CRITICS = ["CITY_PARTY_COMMITTEE", "CITY_GOVERNMENT", "PROVINCIAL_LINE_DEPARTMENT"]
_HIGH_CRITICS = ["PROVINCIAL_PARTY_COMMITTEE", "PROVINCIAL_GOVERNMENT", "NATIONAL_MINISTRY"]

CATEGORIES_002 = (
    ("EMPLOYMENT", "12"),
    ("SOCIAL_INSURANCE", "8"),
    ("SOCIAL_ASSISTANCE", "10"),
    ("MEDICAL_SECURITY", "18.5"),
    ("EDUCATION_HEALTH", "11.5"),
    ("SUBSIDISED_HOUSING", "10"),
    ("POVERTY_ALLEVIATION", "6"),
    ("LIVING_STANDARDS", "12"),
)
SINGLE_ITEM_002 = (
    ("EMPLOYMENT", 1),
    ("SOCIAL_INSURANCE", 1),
    ("SOCIAL_ASSISTANCE", 1),
    ("MEDICAL_SECURITY", 3),
    ("EDUCATION_HEALTH", 2),
    ("SUBSIDISED_HOUSING", 1),
    ("LIVING_STANDARDS", 1),
)
"""N-AW-4 (reading G4: 11). Education and health carry one award each (N-AW-4e), and the
funding-arrangement award of N-AW-4e is priced on the organisation sub-item, outside F-RANK's
categories, so it is not a category quota here."""


def repaired_002_scheme(
    scheme_id: str = "scheme-002", year: int = 2024, scope: str = "CITY_TO_COUNTY"
) -> dict[str, Any]:
    """The 002 scheme under the repaired reading (§5.10 reading A), as a publishable payload."""
    return {
        "scheme_id": scheme_id,
        "year": year,
        "scope": scope,
        "scale": 100,
        "total_points": "100",
        "components": [
            {
                "code": ORGANISATION,
                "points": "6",
                "sub_items": [
                    {"code": "LEADERSHIP", "points": "1"},
                    {"code": "MEASURES", "points": "1"},
                    {"code": "TASK_DECOMPOSITION", "points": "0.5"},
                    {"code": "FUNDING", "points": "3.5"},
                ],
            },
            {"code": SURVEY, "points": "6", "sub_items": []},
            {"code": TASKS, "points": "88", "sub_items": []},
        ],
        "categories": [
            {"code": code, "points": points, "lead_org_id": None} for code, points in CATEGORIES_002
        ],
        "rules": {
            "bonus_top_fraction": "1/5",
            "shortfall_step": "1/50",
            "shortfall_deduction": "1/20",
            "deduction_cap": "3/5",
            "shortfall_mode": "FLOOR",
            "shortfall_basis": "RATIO",
            "survey_points": "6",
            "survey_scale": "100",
        },
        "penalty_schedule": [
            {
                "event_type": "CriticismIssued",
                "issuer_levels": _HIGH_CRITICS,
                "item": None,
                "points": "-2",
            },
            {
                "event_type": "CriticismIssued",
                "issuer_levels": _CITY_CRITICS,
                "item": None,
                "points": "-1",
            },
        ],
        "priced_related_to": ["LIVELIHOOD_TARGET"],
        "grade_thresholds": {
            "excellent": "90",
            "good": "80",
            "passing": "60",
            "excellent_max_rank": 3,
        },
        "award_quotas": {
            "comprehensive": 3,
            "dept_comprehensive": 8,
            "last_place": 1,
            "single_item": [{"code": c, "count": n} for c, n in SINGLE_ITEM_002],
            "individuals": [],
            "individual_default": None,
        },
        "reward_schedule": {"rewards_fen": [], "fines_fen": []},
        "deadlines": {
            "mid_year_self_check": None,
            "self_check": "01-10",
            "responsible": "01-15",
            "lead": "01-20",
            "consolidation": "01-30",
        },
        "formula_version": FORMULA_VERSION,
        "approved_by_actor_id": "leading-group-secretary",
    }


def literal_002_scheme(scheme_id: str = "scheme-002-literal") -> dict[str, Any]:
    """The 002 figures as printed (total 200, leadership 2, 20 / M.5→13.5 / 20): refused."""
    payload = repaired_002_scheme(scheme_id)
    payload["total_points"] = "200"
    payload["components"][0]["sub_items"][0]["points"] = "2"
    literal = {"SOCIAL_ASSISTANCE": "20", "SUBSIDISED_HOUSING": "20"}
    for category in payload["categories"]:
        category["points"] = literal.get(category["code"], category["points"])
    return payload
