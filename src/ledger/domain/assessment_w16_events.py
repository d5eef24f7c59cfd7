"""Payload schemas of W16: periodic (weekly or monthly) evaluations by the 100-point
completion scheme (F-COMP, 004 篇九) and the schedule that prices them and drives the
monthly escalation ladders (004 篇三/五/七; ``domain.md`` §4.16, §5.5, §5.12, §6.3).

Streams: the schedule and the rounds go on the ``scheme`` stream; completion reports and the
cited adjustments on the assessee's ``assessment_year`` stream ``{scheme_id}:{assessee}``.
The ranking itself is the existing ``PeriodRankingPublished``; cash is
``MonetaryRewardGranted`` / ``MonetaryPenaltyImposed`` (:mod:`ledger.domain.assessment_events`).
"""

from __future__ import annotations

from ledger.domain.assessment_events import SIGNED_POINTS
from ledger.domain.catalogue import EventSpec, Kind
from ledger.domain.catalogue import event_spec_v1 as _spec
from ledger.domain.fields import (
    DATE,
    IDENTIFIER,
    SHA256_HEX,
    integer,
    list_of,
    one_of,
    record,
    text,
)
from ledger.domain.supervision_events import POINTS

PERIOD_KINDS = ("WEEK", "MONTH")
ESCALATION_MODES = ("CUMULATIVE", "CONSECUTIVE")
CITABLE_CAUSES = (
    "PeriodRankingPublished",
    "CriticismIssued",
    "CommendationIssued",
    "MediaExposureRecorded",
    "FindingRecorded",
    "InspectionScoreRecorded",
)

_ID = IDENTIFIER
_OFFICE = frozenset({"assessment_office_officer"})
# The assessee reports its own completion through whoever acts for the unit (§4.16 step 2).
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


_TASK = record({"task_id": _ID, "points": POINTS})
_ADJUSTMENT = record(
    {
        "code": _ID,
        "points": SIGNED_POINTS,
        "cause_types": list_of(one_of(*CITABLE_CAUSES), min_len=1, max_len=10, unique=True),
    }
)
_ESCALATION = record(
    {
        "mode": one_of(*ESCALATION_MODES),
        "bottom_count": integer(1, 100),
        "top_count": integer(1, 100),
        "warning_streak": integer(1, 12),
        "accountability_count": integer(1, 12),
        "repeat_count": integer(1, 12),
    }
)

W16_EVENTS: tuple[EventSpec, ...] = (
    _spec(
        "EvaluationSchedulePublished",
        "scheme",
        Kind.CONFIG,
        _OFFICE,
        {
            "scheme_id": _ID,
            "scale": POINTS,
            "tasks": list_of(_TASK, min_len=1, max_len=100),
            "adjustments": list_of(_ADJUSTMENT, max_len=50),
            "report_days": integer(0, 366),
            "escalation": _ESCALATION,
        },
        "W16 configuration: the completion tasks and their points (adding up to the scale, "
        "SCO-1), the priced adjustments (004 篇九: first place +2; omission, headquarters "
        "criticism, dry toilet -2) with the cause types each may cite, the days after a "
        "period within which completion is reported, and the escalation ladders (N-SV-22, "
        "N-SV-28). A republished schedule applies to rounds opened after it.",
    ),
    _spec(
        "EvaluationRoundOpened",
        "scheme",
        Kind.DECISION,
        _OFFICE,
        {
            "scheme_id": _ID,
            "round_id": _ID,
            "schedule_event_id": _ID,
            "period_kind": one_of(*PERIOD_KINDS),
            "period": text(20),
            "target_org_ids": list_of(IDENTIFIER, min_len=2, max_len=1_000, unique=True),
        },
        "W16.1: a weekly (YYYY-Www) or monthly (YYYY-MM) evaluation round of the scheme year "
        "under the schedule in force (ENV-8); one round per period (ENV-7).",
    ),
    _spec(
        "CompletionReported",
        "assessment_year",
        Kind.FACT,
        _ASSESSEE_UNIT,
        {
            "scheme_id": _ID,
            "round_id": _ID,
            "assessee": _ID,
            "task_id": _ID,
            "required_units": integer(1),
            "completed_units": integer(0),
            "evidence": list_of(SHA256_HEX, max_len=200),
            "reported_at": DATE,
        },
        "W16.2: task units completed of those required (完成任务单元数/应完成任务单元数) "
        "for one task of a round; the latest report counts. After the schedule's report_days "
        "it raises AF-SCO-LATE (SCO-7); after the round's ranking, AF-SCO-MISMATCH.",
    ),
    _spec(
        "CompletionAdjustmentApplied",
        "assessment_year",
        Kind.DECISION,
        _OFFICE,
        {
            "scheme_id": _ID,
            "round_id": _ID,
            "assessee": _ID,
            "code": _ID,
            "points": SIGNED_POINTS,
            "cause_event_ids": list_of(IDENTIFIER, min_len=1, max_len=100, unique=True),
        },
        "W16.3: a priced F-COMP bonus or deduction: points = schedule price x number of "
        "causes, each a recorded event of an allowed type about the assessee (a ranking: it "
        "placed first), counted once per round (SCO-2).",
    ),
)
