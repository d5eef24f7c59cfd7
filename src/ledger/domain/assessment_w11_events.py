"""Payload schemas of W10.5, W11 and W15.11: implementation plans, scheduling meetings,
bulletins, the mid-year assessment and the feedback of the year-end result (``domain.md``
§4.10-§4.11, §4.15, §6.3).

Streams: an implementation plan goes on the ``agreement`` stream it implements; meetings and
bulletins on the ``assessment`` stream of the organising unit (stream id = its org id); the
mid-year assessment and the result notification on the assessee's ``assessment_year`` stream
``{scheme_id}:{assessee}``. Values are exact decimal strings or ratios ``p/q``, never floats.
"""

from __future__ import annotations

from ledger.domain.assessment_events import NUMBER, SIGNED_POINTS
from ledger.domain.catalogue import EventSpec, Kind
from ledger.domain.catalogue import event_spec_v1 as _spec
from ledger.domain.fields import (
    DATE,
    IDENTIFIER,
    SHA256_HEX,
    integer,
    list_of,
    nullable,
    one_of,
    record,
    text,
)

MEETING_LEVELS = ("CITY", "COUNTY", "TOWNSHIP", "STREET", "DEPARTMENT")
CADENCES = ("WEEKLY", "MONTHLY", "QUARTERLY")

_ID = IDENTIFIER
_OFFICE = frozenset({"assessment_office_officer"})
# The unit that files, meets or publishes acts through whoever speaks for it (§4.11 names
# the unit, not a role): a government, a department's assessor or coordinator, the office.
_UNIT = frozenset(
    {
        "government_approver",
        "county_approver",
        "township_reviewer",
        "responsible_unit_assessor",
        "lead_unit_coordinator",
        "village_committee_member",
        "assessment_office_officer",
        "leading_group_secretary",
    }
)


_RANK_ROW = record({"assessee": _ID, "score": SIGNED_POINTS})
_PROGRESS = record({"indicator_id": _ID, "value": NUMBER})

W11_EVENTS: tuple[EventSpec, ...] = (
    _spec(
        "ImplementationPlanFiled",
        "agreement",
        Kind.FACT,
        _UNIT,
        {
            "org_id": _ID,
            "document_sha256": SHA256_HEX,
            "filed_at": DATE,
        },
        "W10.5: a unit files its implementation plan and measures (逐项逐条制定具体实施方案) "
        "under an agreement; the unit is the agent or one of its decomposition units (ENV-8).",
    ),
    _spec(
        "SchedulingMeetingHeld",
        "assessment",
        Kind.FACT,
        _UNIT,
        {
            "organiser_org_id": _ID,
            "level": one_of(*MEETING_LEVELS),
            "cadence": one_of(*CADENCES),
            "held_on": DATE,
            "attendee_org_ids": list_of(IDENTIFIER, max_len=1_000, unique=True),
            "content_sha256": SHA256_HEX,
        },
        "W11: a work scheduling meeting (工作调度会): quarterly (000), monthly (001), weekly "
        "(004 篇七); on the organiser's stream.",
    ),
    _spec(
        "BulletinPublished",
        "assessment",
        Kind.FACT,
        _UNIT,
        {
            "publisher_org_id": _ID,
            "scheme_id": nullable(_ID),
            "period": text(20),
            "scope_org_id": _ID,
            "content_sha256": SHA256_HEX,
            "ranking": nullable(list_of(_RANK_ROW, min_len=1, max_len=1_000)),
            "ranking_event_id": nullable(_ID),
        },
        "W11: a progress bulletin (通报) on the units under scope_org_id, quarterly (001) or "
        "monthly (004); a ranking it prints "
        "that is not the order of its scores or differs from the cited published ranking is "
        "kept and raises AF-SCO-MISMATCH (SCO-6).",
    ),
    _spec(
        "MidYearAssessmentRecorded",
        "assessment_year",
        Kind.DECISION,
        _OFFICE,
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "as_of": DATE,
            "progress_summary": list_of(_PROGRESS, min_len=1, max_len=500),
            "survey_ref": nullable(_ID),
            "survey_composite": nullable(NUMBER),
        },
        "W11: the mid-year check (000, 001) of the assessee's indicators in the scheme year, "
        "not by the assessee (SOD-3); a value below a milestone due by as_of is kept and "
        "raises AF-TGT-MILESTONE (e.g. beds below 60 % on 30 June, N-CI-3).",
    ),
    _spec(
        "AssessmentResultNotified",
        "assessment_year",
        Kind.DECISION,
        _OFFICE,
        {
            "scheme_id": _ID,
            "assessee": _ID,
            "consolidation_event_id": _ID,
            "S": SIGNED_POINTS,
            "rank": integer(1),
            "result_sha256": SHA256_HEX,
        },
        "W15.11: the office feeds the year-end result back to the assessee (及时反馈): its S "
        "and rank in the cited, current consolidation (ENV-7, ENV-8, SCO-6).",
    ),
)
