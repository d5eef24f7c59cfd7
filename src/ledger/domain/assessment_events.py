"""Payload schemas of target management and assessment (``domain.md`` §6.2-§6.3, W10-W16).

Stream types and ids:

===================  ==============================  ============================================
stream_type          stream_id                       events
===================  ==============================  ============================================
``scheme``           scheme id                       the scheme, responsibilities, consolidation,
                                                     award lists, approval, ratification, ties,
                                                     period rankings
``agreement``        agreement id                    the agreement, its decomposition, progress
``assessment_year``  ``{scheme_id}:{assessee}``      self-assessment, component and indicator
                                                     scores, point adjustments, awards, grades,
                                                     cash, revoked eligibility
===================  ==============================  ============================================

Criticisms, commendations and media exposure stay on the ``assessment`` stream of the target
organisation (:mod:`ledger.domain.supervision_events`); the adjustments here cite them.

Points are decimal strings with at most 4 decimals (the stored precision, §5.0); targets,
actuals and ratios that need not be decimal (``A / T``, ``r_max``) are exact ratio strings
``"p/q"`` or decimals. Never binary floats.
"""

from __future__ import annotations

import re
from typing import Any

from ledger.domain.catalogue import EventSpec, Kind
from ledger.domain.catalogue import event_spec_v1 as _spec
from ledger.domain.fields import (
    DATE,
    FEN,
    IDENTIFIER,
    PERIOD,
    SHA256_HEX,
    Check,
    boolean,
    integer,
    list_of,
    nullable,
    one_of,
    record,
    text,
)
from ledger.domain.supervision_events import ISSUER_LEVELS, POINTS, RELATED_TO

SCOPES = (
    "CITY_TO_COUNTY",
    "CITY_TO_DEPT",
    "COUNTY_TO_TOWNSHIP",
    "TOWNSHIP_TO_VILLAGE",
    "STREET_TO_COMMUNITY",
)
COMPONENTS = ("ORGANISATION_IMPLEMENTATION", "PUBLIC_SURVEY", "TASK_COMPLETION")
SHORTFALL_MODES = ("FLOOR", "PROPORTIONAL", "CEIL")
SHORTFALL_BASES = ("RATIO", "PERCENTAGE_POINTS")
ROUNDS = ("MID_YEAR", "YEAR_END")
GRADES = ("EXCELLENT", "GOOD", "PASS", "FAIL")
AWARD_TYPES = ("COMPREHENSIVE", "SINGLE_ITEM", "INDIVIDUAL")
PRICED_EVENTS = ("CriticismIssued", "CommendationIssued", "MediaExposureRecorded")

_DECIMAL_RE = re.compile(r"-?(0|[1-9]\d{0,14})(\.\d{1,12})?")
_RATIO_RE = re.compile(r"-?(0|[1-9]\d{0,17})/[1-9]\d{0,17}")
_MONTH_DAY_RE = re.compile(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")


def _number(value: Any) -> str | None:
    """an exact number: a decimal string ("0.36", "-2") or a ratio "p/q" """
    if isinstance(value, str) and (_DECIMAL_RE.fullmatch(value) or _RATIO_RE.fullmatch(value)):
        return None
    return "must be an exact decimal string or a ratio p/q"


def _signed_points(value: Any) -> str | None:
    """a signed decimal string with ≤ 4 decimals, e.g. "-2" or "1.5" """
    if isinstance(value, str) and re.fullmatch(r"-?(0|[1-9]\d{0,5})(\.\d{1,4})?", value):
        return None
    return "must be a signed decimal string with at most 4 decimals"


def _month_day(value: Any) -> str | None:
    """a month and day MM-DD (of the year after the scheme year for year-end deadlines)"""
    if isinstance(value, str) and _MONTH_DAY_RE.fullmatch(value):
        return None
    return "must be a month and day MM-DD"


NUMBER: Check = _number
SIGNED_POINTS: Check = _signed_points
MONTH_DAY: Check = _month_day

_ID = IDENTIFIER
_IDS = list_of(IDENTIFIER, max_len=1_000, unique=True)
_CAUSES = list_of(IDENTIFIER, min_len=1, max_len=1_000, unique=True)
_HASHES = list_of(SHA256_HEX, max_len=200)

_OFFICE = frozenset({"assessment_office_officer"})
_ASSESSORS = frozenset({"responsible_unit_assessor", "assessment_office_officer"})
_GOVERNMENT = frozenset({"government_approver"})
_LEADING_GROUP = frozenset({"leading_group_secretary"})
# Assessees report through whoever acts for the unit: a county or township government, a
# department's assessor or coordinator (§4.15 step 15.1 names the unit, not a role).
_ASSESSEE_UNIT = frozenset(
    {
        "government_approver",
        "county_approver",
        "township_reviewer",
        "responsible_unit_assessor",
        "lead_unit_coordinator",
        "village_committee_member",
    }
)


_WEIGHTED = record({"code": _ID, "points": POINTS})
_COMPONENT = record(
    {
        "code": one_of(*COMPONENTS),
        "points": POINTS,
        "sub_items": list_of(_WEIGHTED, max_len=50),
    }
)
_CATEGORY = record({"code": _ID, "points": POINTS, "lead_org_id": nullable(_ID)})
_RULES = record(
    {
        "bonus_top_fraction": NUMBER,
        "shortfall_step": NUMBER,
        "shortfall_deduction": NUMBER,
        "deduction_cap": NUMBER,
        "shortfall_mode": one_of(*SHORTFALL_MODES),
        "shortfall_basis": one_of(*SHORTFALL_BASES),
        "survey_points": NUMBER,
        "survey_scale": NUMBER,
    }
)
_PRICE = record(
    {
        "event_type": one_of(*PRICED_EVENTS),
        "issuer_levels": list_of(one_of(*ISSUER_LEVELS), max_len=20, unique=True),
        "item": nullable(text(100)),
        "points": SIGNED_POINTS,
    }
)
_QUOTA = record({"code": _ID, "count": integer(0, 10_000)})
_QUOTAS = record(
    {
        "comprehensive": integer(0, 10_000),
        "dept_comprehensive": integer(0, 10_000),
        "last_place": integer(0, 10_000),
        "single_item": list_of(_QUOTA, max_len=200),
        "individuals": list_of(_QUOTA, max_len=1_000),
        "individual_default": nullable(integer(0, 10_000)),
    }
)
_GRADE_THRESHOLDS = record(
    {"excellent": POINTS, "good": POINTS, "passing": POINTS, "excellent_max_rank": integer(1)}
)
_CASH = record(
    {
        "rewards_fen": list_of(FEN, max_len=100),
        "fines_fen": list_of(FEN, max_len=100),
    }
)
_DEADLINES = record(
    {
        "mid_year_self_check": nullable(MONTH_DAY),
        "self_check": MONTH_DAY,
        "responsible": MONTH_DAY,
        "lead": MONTH_DAY,
        "consolidation": MONTH_DAY,
    }
)

SCHEME_EVENTS = (
    _spec(
        "AssessmentSchemePublished",
        "scheme",
        Kind.CONFIG,
        _OFFICE,
        {
            "scheme_id": _ID,
            "year": integer(2000, 2100),
            "scope": one_of(*SCOPES),
            "scale": integer(1, 100_000),
            "total_points": POINTS,
            "components": list_of(_COMPONENT, min_len=1, max_len=10),
            "categories": list_of(_CATEGORY, max_len=100),
            "rules": _RULES,
            "penalty_schedule": list_of(_PRICE, max_len=200),
            "priced_related_to": list_of(one_of(*RELATED_TO), min_len=1, unique=True),
            "grade_thresholds": _GRADE_THRESHOLDS,
            "award_quotas": _QUOTAS,
            "reward_schedule": _CASH,
            "deadlines": _DEADLINES,
            "formula_version": text(20),
            "approved_by_actor_id": _ID,
        },
        "W10.1: an assessment scheme (weights, rules, penalty schedule, quotas, deadlines). "
        "SCO-1: sub-items add up to their component, categories to TASK_COMPLETION, "
        "components to the total; the literal 002 figures are refused (§5.10).",
    ),
    _spec(
        "ResponsibilityAssigned",
        "scheme",
        Kind.CONFIG,
        _OFFICE,
        {
            "scheme_id": _ID,
            "work_area": _ID,
            "lead_org_ids": list_of(IDENTIFIER, min_len=1, max_len=20, unique=True),
            "responsible_org_ids": list_of(IDENTIFIER, min_len=1, max_len=100, unique=True),
            "assisting_org_ids": _IDS,
        },
        "W10.2: lead, responsible and assisting units of one work area (a scheme category).",
    ),
)

AGREEMENT_EVENTS = (
    _spec(
        "TargetResponsibilityAgreementSigned",
        "agreement",
        Kind.DECISION,
        _GOVERNMENT,
        {
            "agreement_id": _ID,
            "scheme_id": _ID,
            "principal_org_id": _ID,
            "agent_org_id": _ID,
            "indicators": list_of(
                record(
                    {
                        "indicator_id": _ID,
                        "category": _ID,
                        "name": text(200),
                        "unit": text(40),
                        "target_value": NUMBER,
                        "base_points": POINTS,
                        "bonus_eligible": boolean,
                        "measurable_by_ratio": boolean,
                        "responsible_org_id": _ID,
                        "lead_org_id": nullable(_ID),
                        "assisting_org_ids": _IDS,
                        "scopes": list_of(one_of(*SCOPES), max_len=10, unique=True),
                        "milestones": list_of(
                            record({"date": DATE, "fraction": NUMBER}), max_len=24
                        ),
                    }
                ),
                min_len=1,
                max_len=500,
            ),
            "document_sha256": SHA256_HEX,
        },
        "W10.3: a target-responsibility agreement (目标责任书) between two levels; the agent is "
        "the assessee. SCO-1: every indicator's category is in the scheme and the base points "
        "of each category add up to its weight.",
    ),
    _spec(
        "TargetDecomposed",
        "agreement",
        Kind.DECISION,
        _ASSESSEE_UNIT,
        {
            "parent_indicator_id": _ID,
            "assignments": list_of(
                record({"org_id": _ID, "target_value": NUMBER}), min_len=1, max_len=500
            ),
        },
        "W10.4: the agent decomposes an indicator over its sub-units (层层分解); children that "
        "add up to less than the parent are kept and raise AF-TGT-DECOMPOSITION.",
    ),
    _spec(
        "ProgressReported",
        "agreement",
        Kind.FACT,
        _ASSESSEE_UNIT,
        {
            "indicator_id": _ID,
            "period": PERIOD,
            "value": NUMBER,
            "as_of": DATE,
            "evidence": _HASHES,
        },
        "W11: progress on an indicator; below a milestone on its date raises AF-TGT-MILESTONE.",
    ),
    _spec(
        "ProgressVerified",
        "agreement",
        Kind.DECISION,
        frozenset({"responsible_unit_assessor", "inspector", "inspection_team_lead"}),
        {"indicator_id": _ID, "period": PERIOD, "verified_value": NUMBER},
        "W11: the responsible unit or an inspector verifies reported progress (SOD-3).",
    ),
)

ASSESSEE_EVENTS = (
    _spec(
        "SelfAssessmentSubmitted",
        "assessment_year",
        Kind.FACT,
        _ASSESSEE_UNIT,
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "round": one_of(*ROUNDS),
            "self_scores": list_of(
                record({"indicator_id": _ID, "points": POINTS, "met": boolean}), max_len=500
            ),
            "report_sha256": SHA256_HEX,
            "submitted_at": DATE,
        },
        "W15.1: half-yearly or year-end self-check (自查自评); after the scheme's deadline "
        "(year end: 10 January) it is kept and raises AF-SCO-LATE (SCO-7).",
    ),
    _spec(
        "OrganisationImplementationScored",
        "assessment_year",
        Kind.DECISION,
        frozenset({"assessment_working_group_member", "assessment_office_officer"}),
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "sub_item": _ID,
            "points": POINTS,
            "inspection_id": nullable(_ID),
        },
        "W15.2: points of one organisation-and-implementation sub-item, at most its weight.",
    ),
    _spec(
        "SurveyScoreRecorded",
        "assessment_year",
        Kind.DECISION,
        frozenset({"statistics_survey_team", "assessment_office_officer"}),
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "survey_id": _ID,
            "composite": NUMBER,
            "points": POINTS,
        },
        "W15.3: the public-survey component: points = survey_points * composite / scale, "
        "stored to 4 decimals (F-SURVEY; SCO-3).",
    ),
    _spec(
        "IndicatorResultRecorded",
        "assessment_year",
        Kind.DECISION,
        _ASSESSORS,
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "indicator_id": _ID,
            "target": NUMBER,
            "actual": NUMBER,
            "completion_ratio": nullable(NUMBER),
            "met": boolean,
        },
        "W15.4: the verified result of one indicator: target as agreed, c = A / T, met = "
        "c ≥ 1 (SCO-3); not by the assessee (SOD-3). A missed target vetoes the comprehensive "
        "award.",
    ),
    _spec(
        "IndicatorScoreRecorded",
        "assessment_year",
        Kind.DECISION,
        _ASSESSORS,
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "indicator_id": _ID,
            "base": POINTS,
            "bonus": POINTS,
            "deduction": POINTS,
            "final": POINTS,
            "formula_id": one_of("F-BONUS", "F-SHORT"),
            "formula_version": text(20),
            "inputs_sha256": SHA256_HEX,
            "peer_r_max": nullable(NUMBER),
            "discretionary_reason": nullable(text(2000)),
        },
        "W15.4: an indicator score equal to the F-BONUS / F-SHORT recomputation from the "
        "recorded results of the peer group (SCO-3); a discretionary deduction on a non-ratio "
        "indicator needs a reason and is ≤ 0.6 * B (SCO-4).",
    ),
    _spec(
        "PenaltyPointsApplied",
        "assessment_year",
        Kind.DECISION,
        _OFFICE,
        {"scheme_id": _ID, "assessee": _ID, "points": POINTS, "cause_event_id": _ID},
        "W15.6: a disciplinary deduction (F-PEN) citing the criticism that causes it, at the "
        "scheme's price; one cause counts once per scheme (SCO-2).",
    ),
    _spec(
        "BonusPointsApplied",
        "assessment_year",
        Kind.DECISION,
        _OFFICE,
        {"scheme_id": _ID, "assessee": _ID, "points": POINTS, "cause_event_id": _ID},
        "W14: bonus points citing the commendation that causes them, at the scheme's price; "
        "one cause counts once per scheme (SCO-2).",
    ),
)

_RANK_ROW = record(
    {
        "assessee": _ID,
        "S": SIGNED_POINTS,
        "O": POINTS,
        "M": POINTS,
        "T": POINTS,
        "B": POINTS,
        "P": POINTS,
        "vetoed": boolean,
        "failing_indicator_ids": _IDS,
    }
)

RESULT_EVENTS = (
    _spec(
        "LeadUnitAggregateSubmitted",
        "scheme",
        Kind.DECISION,
        frozenset({"lead_unit_coordinator"}),
        {"scheme_id": _ID, "category": _ID, "scores_sha256": SHA256_HEX},
        "W15.5: a lead unit forwards its category's scores to the office (due 20 January; "
        "later: AF-SCO-LATE, SCO-7).",
    ),
    _spec(
        "VetoApplied",
        "assessment_year",
        Kind.SYSTEM,
        frozenset({"ledger", "assessment_office_officer"}),
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "failing_indicator_ids": list_of(IDENTIFIER, min_len=1, max_len=500, unique=True),
        },
        "W15.7: the one-vote veto (一票否决) of an assessee: exactly its recorded results with "
        "met = false (SCO-6); no comprehensive award follows (AWD-1).",
    ),
    _spec(
        "AssessmentConsolidated",
        "scheme",
        Kind.DECISION,
        _OFFICE,
        {"scheme_id": _ID, "ranking": list_of(_RANK_ROW, min_len=1, max_len=1_000)},
        "W15.7: every assessee's S = O + M + T + B - P (B: cited bonus points), best first, "
        "with the one-vote veto; requires every component (SCO-5) and equals the "
        "recomputation (SCO-6).",
    ),
    _spec(
        "TieBrokenByDecision",
        "scheme",
        Kind.DECISION,
        _LEADING_GROUP,
        {
            "scheme_id": _ID,
            "tied": list_of(IDENTIFIER, min_len=2, max_len=100, unique=True),
            "order": list_of(IDENTIFIER, min_len=2, max_len=100, unique=True),
            "reason": text(2000),
        },
        "§5.11: the leading group orders units still tied after S, T and P (Q14).",
    ),
    _spec(
        "AdvancedListProposed",
        "scheme",
        Kind.DECISION,
        _OFFICE,
        {
            "scheme_id": _ID,
            "comprehensive": _IDS,
            "single_item": list_of(record({"category": _ID, "assessee": _ID}), max_len=500),
            "last_place": _IDS,
            "individuals": list_of(record({"org_id": _ID, "person_ref": _ID}), max_len=5_000),
        },
        "W15.8: the award lists, equal to F-RANK on the consolidated ranking: veto (AWD-1), "
        "rank shift (AWD-2), quotas and 等额 individuals (AWD-3), last place (AWD-4).",
    ),
    _spec(
        "AssessmentResultsApproved",
        "scheme",
        Kind.DECISION,
        _LEADING_GROUP,
        {"scheme_id": _ID, "proposal_event_id": _ID},
        "W15.9: the leading group approves the proposed lists.",
    ),
    _spec(
        "AwardsRatified",
        "scheme",
        Kind.DECISION,
        _GOVERNMENT,
        {"scheme_id": _ID, "approval_event_id": _ID},
        "W15.10: the city government ratifies the approved lists (AWD-5).",
    ),
    _spec(
        "PeriodRankingPublished",
        "scheme",
        Kind.DECISION,
        _OFFICE,
        {
            "scheme_id": _ID,
            "period": text(20),
            "ranking": list_of(
                record({"assessee": _ID, "score": SIGNED_POINTS}), min_len=1, max_len=1_000
            ),
        },
        "W16.4: a weekly or monthly ranking, best first; its order equals the order of its "
        "scores (ties by a recorded decision) (SCO-6).",
    ),
)

AWARD_EVENTS = (
    _spec(
        "AwardGranted",
        "assessment_year",
        Kind.DECISION,
        _OFFICE,
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "award_type": one_of(*AWARD_TYPES),
            "category": nullable(_ID),
            "person_ref": nullable(_ID),
            "basis_event_ids": _CAUSES,
        },
        "W15.10: an award on the ratified list (AWD-5), never to a vetoed (AWD-1) or revoked "
        "(AWD-7) unit.",
    ),
    _spec(
        "LastPlaceDesignated",
        "assessment_year",
        Kind.DECISION,
        _OFFICE,
        {"scheme_id": _ID, "assessee": _ID, "basis_event_ids": _CAUSES},
        "W15.10: the last place of the ratified list: the lowest S, none when every unit met "
        "every target (AWD-4).",
    ),
    _spec(
        "GradeAssigned",
        "assessment_year",
        Kind.DECISION,
        _OFFICE,
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "grade": one_of(*GRADES),
            "passed_city_acceptance": boolean,
            "passed_provincial_acceptance": boolean,
            "basis_event_ids": _CAUSES,
        },
        "W15.10: the grade from the consolidated score and rank by the scheme's thresholds "
        "(F-INSP grade rule).",
    ),
    _spec(
        "AwardEligibilityRevoked",
        "assessment_year",
        Kind.DECISION,
        frozenset({"assessment_office_officer", "leading_group_secretary"}),
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "year": integer(2000, 2100),
            "cause_event_ids": _CAUSES,
        },
        "W16.6: a unit loses every award of the year (e.g. three last places, 004 篇五); "
        "no award follows (AWD-7).",
    ),
    _spec(
        "MonetaryRewardGranted",
        "assessment_year",
        Kind.DECISION,
        _GOVERNMENT,
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "amount_fen": FEN,
            "position": integer(1),
            "ranking_event_id": _ID,
        },
        "W16.5: a cash reward equal to the schedule entry for the position in the cited "
        "ranking (AWD-6).",
    ),
    _spec(
        "MonetaryPenaltyImposed",
        "assessment_year",
        Kind.DECISION,
        _GOVERNMENT,
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "amount_fen": FEN,
            "position": integer(1),
            "ranking_event_id": _ID,
        },
        "W16.5: a cash fine equal to the schedule entry for the position from the bottom of the "
        "cited ranking; never to a rewarded unit (AWD-6).",
    ),
)

ASSESSMENT_EVENTS: tuple[EventSpec, ...] = (
    SCHEME_EVENTS + AGREEMENT_EVENTS + ASSESSEE_EVENTS + RESULT_EVENTS + AWARD_EVENTS
)
