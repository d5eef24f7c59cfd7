"""Assessment read models and matching-fund compliance over HTTP.

``GET /v1/scores`` (score table), ``/v1/rankings`` (consolidated rankings and award lists),
``/v1/awards`` (awards and sanctions per assessee and organisation), ``/v1/targets`` (target
progress) and ``/v1/matching-funds`` (matching-fund compliance, 到位率) answer from the
projections (:mod:`ledger.projections.scores`, ``rankings``, ``targets``,
``matching_funds``) on the two time axes of DESIGN.md §7: ``as_known_at`` (a log position)
or ``as_known_at_time`` (an instant) choose the log prefix; ``as_of`` evaluates milestones
on a date and ``year`` picks a fiscal year. Every answer names its ``position`` and the
projection's ``state_hash``. Scores are exact decimal strings, ratios exact fractions, money
integer fen.

The pydantic models document the JSON shape (rendering is orjson); each route's example
response is restored with its nulls by :mod:`ledger.api.routes.read_models_examples`, and
each filter carries an example value that works on any ledger
(``tests/e2e/test_openapi_examples.py``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from ledger.api.routes.read_models import (
    EXAMPLE_STATE_HASH,
    After,
    KnownAt,
    KnownAtTime,
    Limit,
    Page,
    PageJSON,
    Programme,
    example,
    instant,
    read_models,
    render_page,
    responses_for,
)
from ledger.projections.errors import QueryError
from ledger.projections.matching_funds import matching_compliance
from ledger.projections.rankings import awards_and_sanctions, rankings
from ledger.projections.read_models import ReadModelPage
from ledger.projections.scores import score_table
from ledger.projections.store import ProjectionStore
from ledger.projections.targets import target_progress

router = APIRouter(prefix="/v1", tags=["assessment"])

_JSON_COLUMNS = frozenset(
    {
        "indicators",
        "category_points",
        "sub_items",
        "adjustments",
        "failing_indicator_ids",
        "ranking",
        "tie_decisions",
        "recomputed_order",
        "proposal",
        "period_rankings",
        "awards",
        "revocation_causes",
        "cash",
        "sanctions",
        "milestones",
        "decomposition",
        "reports",
        "verifications",
        "self_scores",
    }
)


# ------------------------------------------------------------------ documented shapes


class ScoreYear(BaseModel):
    """One assessee's year in one scheme (F-ANNUAL), as known at ``position``."""

    score_key: str
    scheme_id: str
    assessee: str
    agreement_id: str | None
    indicators: dict[str, dict[str, Any]] = Field(
        description="per indicator: category, base points, the recorded result (target, "
        "actual, completion_ratio, met) and score (base, bonus, deduction, final, formula_id, "
        "formula_version, inputs_sha256) with the log index of each (result_index, score_index)"
    )
    category_points: dict[str, str] = Field(description="T per category (decimal strings)")
    sub_items: dict[str, dict[str, Any]] = Field(description="O sub-items with their index")
    survey_id: str | None
    survey_composite: str | None
    adjustments: list[dict[str, Any]] = Field(
        description="PENALTY / BONUS points, each with the cause_event_id it cites (SCO-2)"
    )
    organisation_points: str = Field(description="O")
    survey_points: str = Field(description="M")
    task_points: str = Field(description="T")
    bonus_points: str = Field(description="B")
    penalty_points: str = Field(description="P")
    annual_score: str = Field(description="S = O + M + T + B - P")
    failing_indicator_ids: list[str] = Field(description="met = false: the one-vote veto")
    veto_applied: int
    consolidated_score: str | None = Field(description="S as AssessmentConsolidated recorded")
    consolidated_rank: int | None
    consolidated_index: int | None
    difference: str | None = Field(description="table S - consolidated S (SCO-6: 0)")
    known_from: int


class ScorePage(Page):
    rows: list[ScoreYear]


class Ranking(BaseModel):
    """One scheme's consolidated ranking and award lists."""

    award_key: str
    kind: str = Field(description="SCHEME")
    scheme_id: str | None
    year: int | None
    ranking: list[dict[str, Any]] = Field(description="as recorded: S, O, M, T, B, P, veto")
    consolidated_index: int | None
    tie_decisions: list[dict[str, Any]]
    recomputed_order: list[str] = Field(description="F-RANK on the recorded S, T, P, ties")
    order_matches: int | None = Field(description="1: the recorded order is F-RANK's")
    proposal: dict[str, Any] | None
    proposed_index: int | None
    approved_index: int | None
    ratified_index: int | None
    period_rankings: dict[str, Any]
    known_from: int


class RankingPage(Page):
    rows: list[Ranking]


class Award(BaseModel):
    """An assessee's awards and sanctions in a scheme, or an organisation's sanctions."""

    award_key: str
    kind: str = Field(description="ASSESSEE or ORGANISATION")
    scheme_id: str | None
    subject: str | None = Field(description="the assessee or organisation id")
    rank: int | None
    annual_score: str | None
    vetoed: int
    failing_indicator_ids: list[str]
    awards: list[dict[str, Any]]
    last_place: int
    grade: str | None
    revoked: int = Field(description="1: award eligibility revoked (AWD-7)")
    revocation_causes: list[str]
    cash: list[dict[str, Any]] = Field(description="rewards and fines with their positions")
    rewards_fen: int
    fines_fen: int
    sanctions: list[dict[str, Any]] = Field(
        description="warnings, accountability referrals, admonitions, public self-criticism"
    )
    known_from: int


class AwardPage(Page):
    rows: list[Award]


class Target(BaseModel):
    """An agreed indicator's progress, or a self-assessment round."""

    target_key: str
    kind: str = Field(description="INDICATOR or SELF_ASSESSMENT")
    scheme_id: str | None
    assessee: str | None
    agreement_id: str | None
    principal_org_id: str | None
    indicator_id: str | None
    category: str | None
    name: str | None
    unit: str | None
    target_value: str | None
    base_points: str | None
    responsible_org_id: str | None
    milestones: list[dict[str, Any]]
    decomposition: list[dict[str, Any]]
    decomposed_total: str | None
    decomposition_short: int = Field(description="1: children add up to less (AF-TGT-…)")
    reports: list[dict[str, Any]]
    verifications: dict[str, Any]
    latest_period: str | None
    latest_reported: str | None
    latest_verified: str | None
    completion_ratio: str | None = Field(description="exact fraction value / target")
    completion_basis: str | None = Field(description="VERIFIED or REPORTED")
    round: str | None
    submitted_at: str | None
    deadline: str | None
    late: int = Field(description="1: submitted after the scheme's deadline (SCO-7)")
    submissions: int
    self_scores: list[dict[str, Any]]
    report_sha256: str | None
    known_from: int
    as_of: str | None = Field(None, description="only with `as_of`")
    milestone_status: list[dict[str, Any]] | None = Field(
        None, description="MET, MISSED or PENDING on `as_of`, with expected and reported values"
    )
    milestones_missed: int | None = None


class TargetPage(Page):
    rows: list[Target]


class MatchingFund(BaseModel):
    """Matching money of one admin unit, programme and year (integer fen)."""

    compliance_key: str
    admin_unit_id: str
    programme_code: str
    year: int
    commitments: int
    committed_fen: int
    appropriated_fen: int
    received_fen: int
    shortfall_fen: int
    compliance: str | None = Field(description="received / committed, exact fraction (到位率)")
    last_value_date: str | None
    formula: str
    known_from: int


class MatchingFundPage(Page):
    rows: list[MatchingFund]


# ------------------------------------------------------------------ examples


def _page(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"position": 812, "state_hash": EXAMPLE_STATE_HASH, "next_after": None, "rows": rows}


SCORE_EXAMPLE = _page(
    [
        {
            "score_key": "scheme-2024|county-A",
            "scheme_id": "scheme-2024",
            "assessee": "county-A",
            "agreement_id": "agr-county-A",
            "indicators": {
                "EMPLOYMENT": {
                    "category": "EMPLOYMENT",
                    "base_points": "12",
                    "target": "100",
                    "actual": "105",
                    "completion_ratio": "21/20",
                    "met": True,
                    "base": "12.0000",
                    "bonus": "0.8000",
                    "deduction": "0.0000",
                    "final": "12.8000",
                    "formula_id": "F-BONUS",
                    "formula_version": "1",
                    "result_index": 640,
                    "score_index": 655,
                }
            },
            "category_points": {"EMPLOYMENT": "12.8"},
            "sub_items": {"FUNDING": {"points": "3", "inspection_id": None, "index": 700}},
            "survey_id": "survey-2024",
            "survey_composite": "85",
            "adjustments": [
                {"kind": "PENALTY", "points": "1", "cause_event_id": "crit-1", "index": 720}
            ],
            "organisation_points": "5.5",
            "survey_points": "5.1",
            "task_points": "90.8",
            "bonus_points": "0",
            "penalty_points": "1",
            "annual_score": "100.4",
            "failing_indicator_ids": [],
            "veto_applied": 0,
            "consolidated_score": "100.4",
            "consolidated_rank": 2,
            "consolidated_index": 790,
            "difference": "0",
            "known_from": 790,
        }
    ]
)
RANKING_EXAMPLE = _page(
    [
        {
            "award_key": "S|scheme-2024",
            "kind": "SCHEME",
            "scheme_id": "scheme-2024",
            "year": 2024,
            "ranking": [
                {"assessee": "county-A", "S": "100.4", "T": "90.8", "P": "1", "vetoed": False},
                {"assessee": "county-B", "S": "96.125", "T": "87.725", "P": "3", "vetoed": True},
            ],
            "consolidated_index": 790,
            "tie_decisions": [],
            "recomputed_order": ["county-A", "county-B"],
            "order_matches": 1,
            "proposal": {
                "comprehensive": ["county-A"],
                "single_item": [{"category": "SUBSIDISED_HOUSING", "assessee": "county-B"}],
                "last_place": ["county-B"],
                "individuals": [],
            },
            "proposed_index": 795,
            "approved_index": 798,
            "ratified_index": 801,
            "period_rankings": {},
            "known_from": 801,
        }
    ]
)
AWARD_EXAMPLE = _page(
    [
        {
            "award_key": "A|scheme-2024|county-B",
            "kind": "ASSESSEE",
            "scheme_id": "scheme-2024",
            "subject": "county-B",
            "rank": 2,
            "annual_score": "96.125",
            "vetoed": 1,
            "failing_indicator_ids": ["MEDICAL-2"],
            "awards": [
                {
                    "award_type": "SINGLE_ITEM",
                    "category": "SUBSIDISED_HOUSING",
                    "person_ref": None,
                    "basis_event_ids": ["ratified-1"],
                    "index": 805,
                }
            ],
            "last_place": 1,
            "grade": "PASS",
            "revoked": 0,
            "revocation_causes": [],
            "cash": [
                {
                    "kind": "FINE",
                    "amount_fen": 300_000,
                    "position": 1,
                    "ranking_event_id": "rank-1",
                    "index": 810,
                }
            ],
            "rewards_fen": 0,
            "fines_fen": 300_000,
            "sanctions": [],
            "known_from": 810,
        }
    ]
)
TARGET_EXAMPLE = _page(
    [
        {
            "target_key": "I|agr-county-A|HOUSING-BEDS",
            "kind": "INDICATOR",
            "scheme_id": "scheme-2024",
            "assessee": "county-A",
            "agreement_id": "agr-county-A",
            "principal_org_id": "city",
            "indicator_id": "HOUSING-BEDS",
            "category": "SUBSIDISED_HOUSING",
            "name": "elderly-home beds",
            "unit": "beds",
            "target_value": "300",
            "base_points": "10",
            "responsible_org_id": "civil-affairs",
            "milestones": [{"date": "2024-06-30", "fraction": "0.6"}],
            "decomposition": [{"org_id": "township-A1", "target_value": "150"}],
            "decomposed_total": "150",
            "decomposition_short": 1,
            "reports": [{"period": "2024-06", "value": "150", "as_of": "2024-06-30", "index": 500}],
            "verifications": {"2024-06": {"verified_value": "140", "index": 510}},
            "latest_period": "2024-06",
            "latest_reported": "150",
            "latest_verified": "140",
            "completion_ratio": "7/15",
            "completion_basis": "VERIFIED",
            "round": None,
            "submitted_at": None,
            "deadline": None,
            "late": 0,
            "submissions": 0,
            "self_scores": [],
            "report_sha256": None,
            "known_from": 510,
            "as_of": "2024-12-31",
            "milestone_status": [
                {
                    "date": "2024-06-30",
                    "fraction": "0.6",
                    "expected": "180",
                    "reported": "150",
                    "verified": "140",
                    "status": "MISSED",
                }
            ],
            "milestones_missed": 1,
        }
    ]
)
MATCHING_EXAMPLE = _page(
    [
        {
            "compliance_key": "county-hx|TEKUN|2024",
            "admin_unit_id": "county-hx",
            "programme_code": "TEKUN",
            "year": 2024,
            "commitments": 1,
            "committed_fen": 1_000_000,
            "appropriated_fen": 1_000_000,
            "received_fen": 750_000,
            "shortfall_fen": 250_000,
            "compliance": "3/4",
            "last_value_date": "2024-03-01",
            "formula": "F-MATCH@1",
            "known_from": 120,
        }
    ]
)

ASSESSMENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "/v1/scores": SCORE_EXAMPLE,
    "/v1/rankings": RANKING_EXAMPLE,
    "/v1/awards": AWARD_EXAMPLE,
    "/v1/targets": TARGET_EXAMPLE,
    "/v1/matching-funds": MATCHING_EXAMPLE,
}
"""Each route's response example (re-inserted with its nulls by ``read_models_examples``)."""


SchemeId = Annotated[
    str | None,
    Query(description="assessment scheme", openapi_examples=example("scheme-2024", "2024")),
]
Assessee = Annotated[
    str | None,
    Query(description="the assessed unit", openapi_examples=example("county-A", "one county")),
]


# ------------------------------------------------------------------ plumbing


def _store(request: Request) -> ProjectionStore:
    return read_models(request).store


def _render(page: ReadModelPage) -> PageJSON:
    return render_page(page, _JSON_COLUMNS)


# ------------------------------------------------------------------ routes


@router.get("/scores", response_class=PageJSON, responses=responses_for(ScorePage, SCORE_EXAMPLE))
def read_scores(
    *,
    request: Request,
    scheme_id: SchemeId = None,
    assessee: Assessee = None,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
    limit: Limit = 100,
    after: After = None,
) -> PageJSON:
    """The score table: per scheme and assessee each indicator's recorded result and score
    (formula id and version, the events that recorded them), O, M, T per category, B, P with
    the cause of every adjustment, S, the veto, and the difference from the consolidated S."""
    page = score_table(
        _store(request),
        scheme_id=scheme_id,
        assessee=assessee,
        as_known_at_position=as_known_at,
        as_known_at_time=instant(as_known_at_time),
        limit=limit,
        after=after,
    )
    return _render(page)


@router.get(
    "/rankings", response_class=PageJSON, responses=responses_for(RankingPage, RANKING_EXAMPLE)
)
def read_rankings(
    *,
    request: Request,
    scheme_id: SchemeId = None,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
    limit: Limit = 100,
    after: After = None,
) -> PageJSON:
    """Per scheme the consolidated ranking as recorded, F-RANK's order of the recorded
    figures and whether they agree (SCO-6), tie-break decisions, the proposed award lists and
    the log positions of their approval and ratification (AWD-5), period rankings."""
    page = rankings(
        _store(request),
        scheme_id=scheme_id,
        as_known_at_position=as_known_at,
        as_known_at_time=instant(as_known_at_time),
        limit=limit,
        after=after,
    )
    return _render(page)


@router.get("/awards", response_class=PageJSON, responses=responses_for(AwardPage, AWARD_EXAMPLE))
def read_awards(
    *,
    request: Request,
    scheme_id: SchemeId = None,
    subject: Annotated[
        str | None,
        Query(
            description="assessee or organisation", openapi_examples=example("county-B", "one unit")
        ),
    ] = None,
    kind: Annotated[
        str | None,
        Query(
            description="ASSESSEE (a unit in a scheme) or ORGANISATION (scheme-less sanctions)",
            openapi_examples=example("ASSESSEE", "units of schemes"),
        ),
    ] = None,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
    limit: Limit = 100,
    after: After = None,
) -> PageJSON:
    """Awards and sanctions: per assessee its rank, veto, awards, last place, grade, revoked
    eligibility and cash rewards and fines (integer fen); per organisation its warnings,
    accountability referrals, admonitions and public self-criticism, with their causes."""
    page = awards_and_sanctions(
        _store(request),
        scheme_id=scheme_id,
        subject=subject,
        kind=kind,
        as_known_at_position=as_known_at,
        as_known_at_time=instant(as_known_at_time),
        limit=limit,
        after=after,
    )
    return _render(page)


@router.get(
    "/targets", response_class=PageJSON, responses=responses_for(TargetPage, TARGET_EXAMPLE)
)
def read_targets(
    *,
    request: Request,
    scheme_id: SchemeId = None,
    assessee: Assessee = None,
    agreement_id: Annotated[
        str | None, Query(openapi_examples=example("agr-county-A", "one agreement"))
    ] = None,
    kind: Annotated[
        str | None,
        Query(
            description="INDICATOR or SELF_ASSESSMENT",
            openapi_examples=example("INDICATOR", "agreed indicators"),
        ),
    ] = None,
    as_of: Annotated[
        date | None,
        Query(
            description="evaluate every milestone (met, missed, pending) on this date",
            openapi_examples=example("2024-12-31", "the end of the year"),
        ),
    ] = None,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
    limit: Limit = 100,
    after: After = None,
) -> PageJSON:
    """Target progress: agreed indicators with their decomposition, progress reported and
    verified, the exact completion ratio and, with `as_of`, milestones met or missed on that
    date; self-assessments with the scheme's deadline and whether they were late."""
    page = target_progress(
        _store(request),
        scheme_id=scheme_id,
        assessee=assessee,
        agreement_id=agreement_id,
        kind=kind,
        as_of=as_of,
        as_known_at_position=as_known_at,
        as_known_at_time=instant(as_known_at_time),
        limit=limit,
        after=after,
    )
    return _render(page)


@router.get(
    "/matching-funds",
    response_class=PageJSON,
    responses=responses_for(MatchingFundPage, MATCHING_EXAMPLE),
)
def read_matching_funds(
    *,
    request: Request,
    admin_unit: Annotated[
        str | None,
        Query(description="admin unit (organisation) id", openapi_examples=example("city", "city")),
    ] = None,
    programme: Programme = None,
    year: Annotated[
        int | None, Query(ge=2000, le=2100, openapi_examples=example(2024, "fiscal year 2024"))
    ] = None,
    as_known_at: KnownAt = None,
    as_known_at_time: KnownAtTime = None,
) -> PageJSON:
    """Matching-fund compliance (配套资金到位率): per admin unit, programme and year the
    matching money committed, appropriated and received (integer fen), the shortfall and
    the exact ratio received / committed that feeds the 资金安排 score."""
    store = _store(request)
    if as_known_at is not None and as_known_at_time is not None:
        raise QueryError("give as_known_at or as_known_at_time, not both")
    position = as_known_at
    if as_known_at_time is not None:
        position = store.index_at_time(instant(as_known_at_time) or "")
    page = matching_compliance(
        store,
        admin_unit_id=admin_unit,
        programme_code=programme,
        year=year,
        as_known_at_position=position,
    )
    rows = [asdict(r) | {"known_from": r.known_from} for r in page.rows]
    for row in rows:
        row.pop("known_to", None)
    return PageJSON(
        {
            "position": page.position,
            "state_hash": page.state_hash,
            "next_after": None,
            "rows": rows,
        }
    )
