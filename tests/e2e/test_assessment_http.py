"""The assessment read models and matching-fund compliance over HTTP, against a real uvicorn.

A year of target management for two counties goes through ``POST /v1/events`` and the real
rules: the repaired 002 scheme, agreements, a bed-building milestone missed (progress
reported and verified), results and scores computed with the published formulas
(:func:`~ledger.domain.scoring_replay.recompute_assessment`, which the rules recompute
with), organisation and survey points, a provincial criticism priced as a penalty, the
veto, the consolidation and a warning; and a county's matching funds, committed and partly
received. Every answer is checked against the recomputation and against the log it claims
to reflect: its state hash equals the in-memory fold of the log prefix up to its position.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

import httpx
import pytest

from ledger.client import EnvelopeSigner
from ledger.domain.scoring import IndicatorInput, stored, survey_points
from ledger.domain.scoring_replay import (
    AssesseeYear,
    Recomputation,
    points_text,
    ranking_rows,
    recompute_assessment,
)
from ledger.domain.scoring_scheme import CATEGORIES_002, repaired_002_scheme, scheme_config
from ledger.projections.rankings import assessment_projections
from ledger.tools.scenario import Desk, Treasurer, build_county
from tests.e2e.conftest import E2E
from tests.e2e.test_openapi_examples import schema_errors
from tests.e2e.test_read_models_http import caught_up, log_events

SCHEME = "e2e-scheme-2024"
COUNTIES = ("e2e-county-a", "e2e-county-b")
ACTUALS = {
    "e2e-county-a": {"EMPLOYMENT": "105"},
    "e2e-county-b": {"EMPLOYMENT": "115", "MEDICAL_SECURITY": "93"},
}
ORGANISATION = {"LEADERSHIP": "1", "MEASURES": "1", "TASK_DECOMPOSITION": "0.5", "FUNDING": "3"}
SURVEY = {"e2e-county-a": "85", "e2e-county-b": "90"}
MILESTONE = {"date": "2024-06-30", "fraction": "0.6"}
HOUSING = "SUBSIDISED_HOUSING"


def year_stream(assessee: str) -> tuple[str, str]:
    return ("assessment_year", f"{SCHEME}:{assessee}")


def scheme_payload(secretary: str) -> dict[str, Any]:
    payload = repaired_002_scheme(SCHEME, 2024)
    payload["approved_by_actor_id"] = secretary
    return payload


def indicators(assessee: str) -> list[dict[str, Any]]:
    return [
        {
            "indicator_id": code,
            "category": code,
            "name": code.lower(),
            "unit": "units",
            "target_value": "100",
            "base_points": weight,
            "bonus_eligible": True,
            "measurable_by_ratio": True,
            "responsible_org_id": "e2e-dept",
            "lead_org_id": None,
            "assisting_org_ids": [],
            "scopes": ["CITY_TO_COUNTY"],
            "milestones": [MILESTONE] if code == HOUSING and assessee == COUNTIES[0] else [],
        }
        for code, weight in CATEGORIES_002
    ]


def recomputation() -> Recomputation:
    """What the office computes from its plain inputs (and the rules recompute)."""
    config = scheme_config(scheme_payload("x"))
    years = []
    for county in COUNTIES:
        items = [
            IndicatorInput(
                assessee=county,
                indicator_id=code,
                target=Fraction(100),
                actual=Fraction(ACTUALS[county].get(code, "100")),
                base_points=Fraction(weight),
                category=code,
            )
            for code, weight in CATEGORIES_002
        ]
        years.append(
            AssesseeYear(
                assessee=county,
                sub_item_points={k: Fraction(v) for k, v in ORGANISATION.items()},
                survey_points=Fraction(
                    stored(survey_points(Fraction(SURVEY[county]), config.rules))
                ),
                indicators=items,
                penalty=Fraction(2) if county == COUNTIES[1] else Fraction(0),
            )
        )
    return recompute_assessment(config.rules, config.quotas, years)


class Office:
    """The officials of the e2e assessment and the steps they sign."""

    def __init__(self, desk: Desk) -> None:
        root = desk.admin.org_id
        self.desk = desk
        for org, kind in (
            ("e2e-office", "ASSESSMENT_OFFICE"),
            ("e2e-lg", "LEADING_GROUP"),
            ("e2e-dept", "DEPARTMENT"),
            ("e2e-survey", "SURVEY_TEAM"),
            *((county, "GOVERNMENT") for county in COUNTIES),
        ):
            desk.organisation(org, kind, root, org)
        self.officer = desk.official("e2e-officer", "e2e-office", ["assessment_office_officer"])
        self.wg = desk.official("e2e-wg", "e2e-office", ["assessment_working_group_member"])
        self.secretary = desk.official("e2e-sec", "e2e-lg", ["leading_group_secretary"])
        self.government = desk.official("e2e-gov", root, ["government_approver"])
        self.assessor = desk.official("e2e-assessor", "e2e-dept", ["responsible_unit_assessor"])
        self.survey = desk.official("e2e-surveyor", "e2e-survey", ["statistics_survey_team"])
        self.county_a = desk.official("e2e-county-a-gov", COUNTIES[0], ["government_approver"])

    def emit(
        self, signer: EnvelopeSigner, stream: tuple[str, str], kind: str, payload: Any, day: str
    ) -> None:
        self.desk.emit(signer, stream, kind, payload, date.fromisoformat(day), remember_as=kind)

    def year(self, county: str, kind: str, signer: EnvelopeSigner, day: str, **fields: Any) -> None:
        payload = {"scheme_id": SCHEME, "assessee": county, **fields}
        self.emit(signer, year_stream(county), kind, payload, day)


def seed_assessment(desk: Desk) -> Recomputation:
    """The year of W10-W15 for the two counties (see module docstring)."""
    office = Office(desk)
    result = recomputation()
    office.emit(
        office.officer, ("scheme", SCHEME), "AssessmentSchemePublished",
        scheme_payload("e2e-sec"), "2024-01-05",
    )  # fmt: skip
    for county in COUNTIES:
        agreement = f"e2e-agr-{county}"
        payload = {
            "agreement_id": agreement,
            "scheme_id": SCHEME,
            "principal_org_id": desk.admin.org_id,
            "agent_org_id": county,
            "indicators": indicators(county),
            "document_sha256": "e" * 64,
        }
        office.emit(
            office.government, ("agreement", agreement), "TargetResponsibilityAgreementSigned",
            payload, "2024-01-10",
        )  # fmt: skip
    housing = ("agreement", f"e2e-agr-{COUNTIES[0]}")
    progress = {"indicator_id": HOUSING, "period": "2024-06", "value": "50", "as_of": "2024-06-30"}
    office.emit(
        office.county_a, housing, "ProgressReported", progress | {"evidence": []}, "2024-06-30"
    )
    verified = {"indicator_id": HOUSING, "period": "2024-06", "verified_value": "45"}
    office.emit(office.assessor, housing, "ProgressVerified", verified, "2024-07-03")
    for county in COUNTIES:
        for code, _ in CATEGORIES_002:
            actual = ACTUALS[county].get(code, "100")
            c = Fraction(actual) / 100
            office.year(
                county, "IndicatorResultRecorded", office.assessor, "2025-01-12",
                indicator_id=code, target="100", actual=actual, completion_ratio=str(c),
                met=c >= 1,
            )  # fmt: skip
    for county in COUNTIES:
        record_components(office, county, result)
    criticise_and_veto(office)
    office.emit(
        office.officer, ("scheme", SCHEME), "AssessmentConsolidated",
        {"scheme_id": SCHEME, "ranking": ranking_rows(result)}, "2025-01-28",
    )  # fmt: skip
    return result


def record_components(office: Office, county: str, result: Recomputation) -> None:
    """Scores as the formulas give them, organisation sub-items and the survey."""
    rules = scheme_config(scheme_payload("x")).rules
    for code, _ in CATEGORIES_002:
        score = result.scores[(county, code)]
        office.year(
            county, "IndicatorScoreRecorded", office.assessor, "2025-01-13",
            indicator_id=code, base=str(stored(score.base)), bonus=str(stored(score.bonus)),
            deduction=str(stored(score.deduction)), final=str(score.final),
            formula_id=score.formula_id, formula_version="1", inputs_sha256="e" * 64,
            peer_r_max=None if score.bonus == 0 else "3/20", discretionary_reason=None,
        )  # fmt: skip
    for sub_item, points in ORGANISATION.items():
        office.year(
            county, "OrganisationImplementationScored", office.wg, "2025-01-14",
            sub_item=sub_item, points=points, inspection_id=None,
        )  # fmt: skip
    composite = SURVEY[county]
    office.year(
        county, "SurveyScoreRecorded", office.survey, "2024-10-20", survey_id="e2e-survey",
        composite=composite, points=str(stored(survey_points(Fraction(composite), rules))),
    )  # fmt: skip


def criticise_and_veto(office: Office) -> None:
    county = COUNTIES[1]
    criticism = {
        "issuer_org": "province-1",
        "issuer_level": "PROVINCIAL_GOVERNMENT",
        "target_org": county,
        "related_to": "LIVELIHOOD_TARGET",
        "document_ref": "doc-e2e-1",
        "issued_at": "2024-05-10",
        "item": None,
        "cause_event_ids": [],
    }
    office.emit(office.officer, ("assessment", county), "CriticismIssued", criticism, "2024-05-10")
    cause = office.desk.event_ids["CriticismIssued"]
    office.year(
        county, "PenaltyPointsApplied", office.officer, "2025-01-20", points="2",
        cause_event_id=cause,
    )  # fmt: skip
    office.year(
        county, "VetoApplied", office.officer, "2025-01-21",
        failing_indicator_ids=["MEDICAL_SECURITY"],
    )  # fmt: skip
    warning = {"target_org_id": county, "cause_event_ids": [cause]}
    office.emit(office.officer, ("assessment", county), "WarningIssued", warning, "2025-01-22")


def seed_matching(desk: Desk) -> None:
    """County hx commits 1,000,000 fen of matching money for 特困 2024; 750,000 arrive."""
    county = build_county(desk, "county-hx", townships=1)
    Treasurer(desk, county).open_fund(2024, date(2024, 1, 2), (("COUNTY_BUDGET", 750_000, True),))
    gov = desk.official("county-hx-gov", "county-hx", ["government_approver"])
    commitment = {
        "commitment_id": "hx-match-2024",
        "admin_unit_id": "county-hx",
        "programme_code": "TEKUN",
        "year": 2024,
        "amount_fen": 1_000_000,
        "agreement_id": "hx-agreement",
    }
    desk.emit(
        gov, ("matching_fund", "county-hx"), "MatchingFundCommitted", commitment, date(2024, 1, 3)
    )


@pytest.fixture(scope="module")
def year(e2e: E2E) -> tuple[E2E, Recomputation]:
    version = e2e.api.events("registry", "registry", limit=1)["version"]
    desk = Desk(submit=e2e.api.post_event, admin=e2e.admin, registry_version=int(version))
    result = seed_assessment(desk)
    seed_matching(desk)
    caught_up(e2e.server.base_url, "/v1/scores")
    caught_up(e2e.server.base_url, "/v1/matching-funds")
    return e2e, result


def get(e2e: E2E, path: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{e2e.server.base_url}{path}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_answers_are_the_folds_of_the_log_up_to_their_position(
    year: tuple[E2E, Recomputation],
) -> None:
    e2e, _ = year
    pages = {
        "scores": get(e2e, "/v1/scores"),
        "rankings": get(e2e, "/v1/rankings"),
        "targets": get(e2e, "/v1/targets"),
    }
    position = pages["scores"]["position"]
    events = log_events(e2e, position)
    for projection in assessment_projections():
        page = pages[projection.name]
        assert page["position"] == position
        state = projection.fold_all(events)
        assert page["state_hash"] == projection.memory_hash(state, position), projection.name
    early = get(e2e, "/v1/awards", as_known_at=position // 2)
    rankings = next(p for p in assessment_projections() if p.name == "rankings")
    prefix = events[: position // 2 + 1]
    assert early["state_hash"] == rankings.memory_hash(rankings.fold_all(prefix), position // 2)


def test_the_score_table_equals_the_recomputation(year: tuple[E2E, Recomputation]) -> None:
    e2e, result = year

    rows = {r["assessee"]: r for r in get(e2e, "/v1/scores", scheme_id=SCHEME)["rows"]}

    for county in COUNTIES:
        row, expected = rows[county], result.annual[county]
        assert row["annual_score"] == points_text(expected.total), county
        assert row["task_points"] == points_text(expected.tasks)
        assert (row["consolidated_score"], row["difference"]) == (row["annual_score"], "0")
    b = rows[COUNTIES[1]]
    assert (b["penalty_points"], b["failing_indicator_ids"], b["veto_applied"]) == (
        "2",
        ["MEDICAL_SECURITY"],
        1,
    )
    assert b["adjustments"][0]["cause_event_id"]
    assert rows[COUNTIES[0]]["indicators"]["EMPLOYMENT"]["formula_id"] == "F-BONUS"


def test_the_ranking_and_the_sanctions(year: tuple[E2E, Recomputation]) -> None:
    e2e, result = year

    scheme = get(e2e, "/v1/rankings", scheme_id=SCHEME)["rows"][0]
    units = get(e2e, "/v1/awards", scheme_id=SCHEME, kind="ASSESSEE")["rows"]
    org = get(e2e, "/v1/awards", kind="ORGANISATION", subject=COUNTIES[1])["rows"]

    assert [r["assessee"] for r in scheme["ranking"]] == list(result.ranking.order)
    assert (scheme["recomputed_order"], scheme["order_matches"]) == (
        list(result.ranking.order),
        1,
    )
    assert {u["subject"]: (u["rank"], u["vetoed"]) for u in units} == {
        county: (result.ranking.order.index(county) + 1, int(county in result.ranking.vetoed))
        for county in COUNTIES
    }
    assert [s["type"] for s in org[0]["sanctions"]] == ["WarningIssued"]


def test_target_progress_and_the_missed_milestone(year: tuple[E2E, Recomputation]) -> None:
    e2e, _ = year

    rows = get(
        e2e,
        "/v1/targets",
        agreement_id=f"e2e-agr-{COUNTIES[0]}",
        kind="INDICATOR",
        as_of="2024-12-31",
    )["rows"]
    housing = next(r for r in rows if r["indicator_id"] == HOUSING)

    assert (housing["latest_reported"], housing["latest_verified"]) == ("50", "45")
    assert (housing["completion_ratio"], housing["completion_basis"]) == ("9/20", "VERIFIED")
    assert [m["status"] for m in housing["milestone_status"]] == ["MISSED"]
    assert housing["milestones_missed"] == 1
    june = get(e2e, "/v1/targets", agreement_id=f"e2e-agr-{COUNTIES[0]}", as_of="2024-06-29")
    beds = next(r for r in june["rows"] if r["indicator_id"] == HOUSING)
    assert beds["milestone_status"][0]["status"] == "PENDING"


def test_matching_fund_compliance(year: tuple[E2E, Recomputation]) -> None:
    e2e, _ = year

    page = get(e2e, "/v1/matching-funds", admin_unit="county-hx", year=2024)
    bad = httpx.get(
        f"{e2e.server.base_url}/v1/matching-funds",
        params={"as_known_at": 0, "as_known_at_time": "2030-01-01T00:00:00Z"},
    )

    row = next(r for r in page["rows"] if r["programme_code"] == "TEKUN")
    assert (row["committed_fen"], row["received_fen"], row["shortfall_fen"]) == (
        1_000_000,
        750_000,
        250_000,
    )
    assert row["compliance"] == "3/4"
    before = get(e2e, "/v1/matching-funds", as_known_at=0)
    assert (before["rows"], before["position"]) == ([], 0)
    assert bad.status_code == 400


def test_the_live_answers_fit_their_documented_shapes(year: tuple[E2E, Recomputation]) -> None:
    e2e, _ = year
    doc = httpx.get(f"{e2e.server.base_url}/openapi.json", timeout=30).json()
    queries: dict[str, dict[str, Any]] = {
        "/v1/scores": {},
        "/v1/rankings": {},
        "/v1/awards": {"kind": "ASSESSEE"},
        "/v1/targets": {"kind": "INDICATOR", "as_of": "2024-12-31"},
        "/v1/matching-funds": {},
    }
    for path, params in queries.items():
        body = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        live = get(e2e, path, **params)
        assert live["rows"], path
        assert schema_errors(live, body["schema"], doc) == [], path
        # The documented example shows every field a live row has, and no other.
        assert set(body["example"]["rows"][0]) == set(live["rows"][0]), path
