"""Payload schemas of inspections, supervision notices, criticisms and media exposure (W12-W14).

``domain.md`` §4.12-§4.14, §4.16 and §6.3. Stream types and ids (stream id = the subject's id):

==========================  =====================  ================================================
stream_type                 stream_id              events
==========================  =====================  ================================================
``inspection``              inspection id          ``InspectionPlanned`` … ``InspectionReport…``
``supervision_notice``      notice id              ``SupervisionNoticeIssued``, ``Rectification*``,
                                                   ``SupervisionNoticeReissued`` (on the *new*
                                                   notice's stream; it names the previous one)
``assessment``              target org id          criticisms, commendations, media exposure,
                                                   ``EscalationDue`` and the sanctions
                                                   (warning, accountability, admonition,
                                                   public self-criticism)
==========================  =====================  ================================================

The org-level events go on the target organisation's ``assessment`` stream because their
subject is the assessed unit and they feed its scores (§4.14, §5.3, §5.6).

Points and scores are decimal strings (§5.0), never binary floats. Dates are ``YYYY-MM-DD``;
``started_at`` / ``ended_at`` / ``notified_at`` are RFC 3339 timestamps with an offset,
because the 1-day report deadline (INS-5) counts from the end of the visit.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ledger.domain.catalogue import EventSpec, Kind
from ledger.domain.catalogue import event_spec_v1 as _spec
from ledger.domain.fields import (
    DATE,
    IDENTIFIER,
    SHA256_HEX,
    Check,
    boolean,
    list_of,
    nullable,
    one_of,
    record,
    text,
)

INSPECTION_TYPES = ("ROUTINE", "SPECIAL", "FOLLOW_UP", "JOINT", "KEY_POINT")
INSPECTION_MODES = ("ANNOUNCED", "UNANNOUNCED")
INSPECTION_METHODS = ("LISTEN", "CHECK_RECORDS", "SITE_VIEW", "VISIT_RESIDENTS", "REPORT")
SEVERITIES = ("LOW", "MEDIUM", "HIGH")
EVIDENCE_KINDS = ("PHOTO", "VIDEO", "DOCUMENT")
NOTICE_KINDS = ("SUPERVISION", "RECTIFICATION")
VERIFICATION_RESULTS = ("PASSED", "FAILED")
ISSUER_LEVELS = (
    "NATIONAL_MINISTRY",
    "PROVINCIAL_PARTY_COMMITTEE",
    "PROVINCIAL_GOVERNMENT",
    "PROVINCIAL_LINE_DEPARTMENT",
    "CITY_PARTY_COMMITTEE",
    "CITY_GOVERNMENT",
    "CITY_OFFICE",
    "DISTRICT",
    "STREET_OFFICE",
)
RELATED_TO = ("LIVELIHOOD_TARGET", "SANITATION", "SUPERVISION", "OTHER")
LADDERS = ("RECTIFICATION", "MONTHLY_BOTTOM3", "STREET_REPEAT")
STEPS = (
    "CRITICISM",
    "WARNING",
    "ACCOUNTABILITY",
    "COMMENDATION_AND_AWARD",
    "PUBLIC_SELF_CRITICISM",
    "AWARD_ELIGIBILITY_REVOKED",
)

_POINTS_RE = re.compile(r"(0|[1-9]\d{0,5})(\.\d{1,4})?")
_SIGNATURE_RE = re.compile(r"[A-Za-z0-9+/]{86}==")


def _points(value: Any) -> str | None:
    """a non-negative decimal string with ≤ 4 decimals, e.g. "85" or "2.5" """
    if not isinstance(value, str) or not _POINTS_RE.fullmatch(value):
        return "must be a non-negative decimal string with at most 4 decimals"
    return None


def _timestamp(value: Any) -> str | None:
    """an RFC 3339 timestamp with an offset, e.g. 2024-03-05T16:00:00+08:00"""
    if not isinstance(value, str) or "T" not in value:
        return "must be an RFC 3339 timestamp with an offset"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return "must be an RFC 3339 timestamp with an offset"
    return None if parsed.tzinfo is not None else "must carry a UTC offset"


def _signature(value: Any) -> str | None:
    """a 64-byte Ed25519 signature in standard base64 (88 characters)"""
    if not isinstance(value, str) or not _SIGNATURE_RE.fullmatch(value):
        return "must be a 64-byte signature in standard base64 (88 characters)"
    return None


POINTS: Check = _points
TIMESTAMP: Check = _timestamp

_ID = IDENTIFIER
_IDS = list_of(IDENTIFIER, min_len=1, max_len=1_000, unique=True)
_CAUSES = list_of(IDENTIFIER, min_len=1, max_len=1_000, unique=True)
_PERSONS = list_of(IDENTIFIER, min_len=1, max_len=100, unique=True)
_EVIDENCE = list_of(record({"kind": one_of(*EVIDENCE_KINDS), "sha256": SHA256_HEX}), max_len=200)
_HASHES = list_of(SHA256_HEX, max_len=200)

_LEAD = frozenset({"inspection_team_lead"})
_INSPECTORS = frozenset({"inspector", "inspection_team_lead"})
_ISSUERS = frozenset(
    {"inspection_team_lead", "assessment_office_officer", "leading_group_secretary"}
)
_OFFICE = frozenset({"assessment_office_officer", "leading_group_secretary"})
_LEADING_GROUP = frozenset({"leading_group_secretary", "government_approver"})
_REGISTRARS = frozenset(
    {"assessment_office_officer", "leading_group_secretary", "government_approver"}
)
# The rectifying unit reports through whoever acts for it: a village committee, a township,
# a department or an institution (§4.13 step 13.2 names the unit, not a role).
_TARGET_UNIT = frozenset(
    {
        "village_committee_member",
        "township_reviewer",
        "township_intake_clerk",
        "county_approver",
        "responsible_unit_assessor",
        "lead_unit_coordinator",
        "finance_officer",
        "care_institution_manager",
        "government_approver",
    }
)


INSPECTION_EVENTS = (
    _spec(
        "InspectionPlanned",
        "inspection",
        Kind.DECISION,
        _LEAD,
        {
            "inspection_id": _ID,
            "type": one_of(*INSPECTION_TYPES),
            "mode": one_of(*INSPECTION_MODES),
            "target_org_ids": _IDS,
            "team_actor_ids": list_of(IDENTIFIER, min_len=1, max_len=50, unique=True),
            "methods": list_of(one_of(*INSPECTION_METHODS), min_len=1, unique=True),
            "window": record({"start": DATE, "end": DATE}),
            "scheme_id": nullable(_ID),
        },
        "W12.1: an inspection plan: team of ≥ 2 (INS-1), SPECIAL ⇒ ANNOUNCED (INS-2), no "
        "member from a target unit (SOD-6). An UNANNOUNCED plan stays hidden from the "
        "targets until it is conducted (INS-3).",
    ),
    _spec(
        "InspectionNotified",
        "inspection",
        Kind.DECISION,
        _LEAD,
        {"target_org_id": _ID, "notified_at": TIMESTAMP},
        "W12.2: an announced inspection's target is told in advance; refused for an "
        "UNANNOUNCED inspection (INS-3).",
    ),
    _spec(
        "InspectionConducted",
        "inspection",
        Kind.FACT,
        _INSPECTORS,
        {
            "started_at": TIMESTAMP,
            "ended_at": TIMESTAMP,
            "locations": list_of(text(200), min_len=1, max_len=500),
        },
        "W12.3: the visit took place (ends the secrecy of an unannounced plan).",
    ),
    _spec(
        "FindingRecorded",
        "inspection",
        Kind.FACT,
        _INSPECTORS,
        {
            "finding_id": _ID,
            "target_org_id": _ID,
            "category": text(100),
            "location": nullable(text(200)),
            "description": text(2000),
            "severity": one_of(*SEVERITIES),
            "first_occurrence": boolean,
            "related_refs": record(
                {
                    "indicator_id": nullable(_ID),
                    "enrolment_id": nullable(_ID),
                    "fund_account_id": nullable(_ID),
                }
            ),
            "evidence": _EVIDENCE,
        },
        "W12.4: a problem found on the visit, with photo, video or document hashes "
        "(none: AF-INS-NO-EVIDENCE, INS-6).",
    ),
    _spec(
        "InspectionScoreRecorded",
        "inspection",
        Kind.DECISION,
        _LEAD,
        {
            "target_org_id": _ID,
            "raw_score": POINTS,
            "item_deductions": list_of(
                record({"cause_event_id": _ID, "points": POINTS}), max_len=200
            ),
            "single_score": POINTS,
        },
        "W12.5: a scored inspection (F-INSP): single = raw - item deductions, each deduction "
        "citing its criticism, exposure or finding at the scheduled points (SCO-2).",
    ),
    _spec(
        "InspectionReportSubmitted",
        "inspection",
        Kind.DECISION,
        _LEAD,
        {
            "report_sha256": SHA256_HEX,
            "evaluation": text(2000),
            "achievements": text(4000),
            "problems": text(4000),
            "recommendations": text(4000),
            "conclusion": text(2000),
            "signer_actor_ids": list_of(IDENTIFIER, min_len=1, max_len=50, unique=True),
            "cosignatures": list_of(
                record({"actor_id": _ID, "key_id": _ID, "signature": _signature}),
                min_len=1,
                max_len=50,
            ),
        },
        "W12.6: the report, co-signed by every team member (INS-4), due ≤ 1 day after the "
        "visit ended (INS-5, soft: AF-INS-LATE-REPORT).",
    ),
)

NOTICE_EVENTS = (
    _spec(
        "SupervisionNoticeIssued",
        "supervision_notice",
        Kind.DECISION,
        _ISSUERS,
        {
            "notice_id": _ID,
            "kind": one_of(*NOTICE_KINDS),
            "target_org_id": _ID,
            "finding_ids": list_of(IDENTIFIER, min_len=1, max_len=500, unique=True),
            "deadline": DATE,
        },
        "W13.1: a supervision (督办) or rectification (限期整改) notice with a deadline after "
        "the issue date, citing ≥ 1 recorded finding of the target (RECT-1).",
    ),
    _spec(
        "RectificationReported",
        "supervision_notice",
        Kind.FACT,
        _TARGET_UNIT,
        {"actions": text(4000), "evidence": _EVIDENCE, "reported_at": DATE},
        "W13.2: the target unit reports what it rectified (after the deadline = overdue).",
    ),
    _spec(
        "RectificationVerified",
        "supervision_notice",
        Kind.DECISION,
        _INSPECTORS,
        {
            "result": one_of(*VERIFICATION_RESULTS),
            "verified_at": DATE,
            "evidence": _EVIDENCE,
        },
        "W13.3: an independent inspector (SOD-7) checks a reported rectification (RECT-2); "
        "PASSED closes the notice.",
    ),
    _spec(
        "RectificationDeadlineExtended",
        "supervision_notice",
        Kind.DECISION,
        _ISSUERS,
        {"new_deadline": DATE, "reason": text(1000)},
        "W13.4: the issuer (only, RECT-2) moves an open notice's deadline later.",
    ),
    _spec(
        "SupervisionNoticeReissued",
        "supervision_notice",
        Kind.DECISION,
        _ISSUERS,
        {"notice_id": _ID, "previous_notice_id": _ID, "new_deadline": DATE},
        "W13.5: repeated supervision (反复督办): the issuer (only, RECT-2) replaces a FAILED "
        "or overdue notice by a new one on the new notice's stream.",
    ),
)

_ISSUED_DOC = {
    "issuer_org": _ID,
    "issuer_level": one_of(*ISSUER_LEVELS),
    "target_org": _ID,
    "related_to": one_of(*RELATED_TO),
    "document_ref": text(200),
    "issued_at": DATE,
    "item": nullable(text(100)),
    "cause_event_ids": list_of(IDENTIFIER, max_len=1_000, unique=True),
}

SANCTION_EVENTS = (
    _spec(
        "CriticismIssued",
        "assessment",
        Kind.FACT,
        _REGISTRARS,
        dict(_ISSUED_DOC),
        "W14: a circulated criticism (通报批评) received or issued; converted to points by the "
        "issuer's level (§5.3, §5.6). An escalation cites its cause (e.g. the overdue notice).",
    ),
    _spec(
        "CommendationIssued",
        "assessment",
        Kind.FACT,
        _REGISTRARS,
        dict(_ISSUED_DOC),
        "W14: a circulated commendation (通报表扬); converted to bonus points by the issuer's "
        "level (F-LEVEL).",
    ),
    _spec(
        "MediaExposureRecorded",
        "assessment",
        Kind.FACT,
        frozenset({"assessment_office_officer"}),
        {
            "outlet": text(200),
            "published_at": DATE,
            "target_org": _ID,
            "item": nullable(text(100)),
            "link_sha256": SHA256_HEX,
        },
        "W14: a news-media exposure (新闻媒体曝光) of the target unit (-1 point, F-INSP).",
    ),
    _spec(
        "EscalationDue",
        "assessment",
        Kind.SYSTEM,
        frozenset({"ledger"}),
        {
            "ladder": one_of(*LADDERS),
            "step": one_of(*STEPS),
            "subject": _ID,
            "target_org_id": _ID,
            "due_by": DATE,
            "cause_event_ids": _CAUSES,
        },
        "§5.12: the escalation projection's expectation that a human escalation is due "
        "(unsatisfied after the grace period: AF-ESC-NOT-APPLIED).",
    ),
    _spec(
        "WarningIssued",
        "assessment",
        Kind.DECISION,
        _OFFICE,
        {"target_org_id": _ID, "cause_event_ids": _CAUSES},
        "W16: a warning (警告), e.g. for two consecutive bottom-three months; cites its causes.",
    ),
    _spec(
        "AccountabilityReferred",
        "assessment",
        Kind.DECISION,
        _LEADING_GROUP,
        {
            "target_org_id": _ID,
            "persons": _PERSONS,
            "referred_to_org_id": _ID,
            "cause_event_ids": _CAUSES,
        },
        "W13.7 / W16: responsible persons referred for accountability (问责) to the discipline "
        "body; cites its causes.",
    ),
    _spec(
        "AdmonitionHeld",
        "assessment",
        Kind.DECISION,
        _OFFICE,
        {"target_org_id": _ID, "persons": _PERSONS, "cause_event_ids": _CAUSES},
        "An admonitory talk (约谈) with the unit's responsible persons; cites its causes.",
    ),
    _spec(
        "PublicSelfCriticismRequired",
        "assessment",
        Kind.DECISION,
        _OFFICE,
        {"target_org_id": _ID, "persons": _PERSONS, "cause_event_ids": _CAUSES},
        "W16 (篇五): public self-criticism (公开检讨) after three last places; cites its causes.",
    ),
)

SUPERVISION_EVENTS: tuple[EventSpec, ...] = INSPECTION_EVENTS + NOTICE_EVENTS + SANCTION_EVENTS
