"""Payload schemas of the service-level configuration (``domain.md`` §0.2, §5.13, §6.2).

The deadlines of W1 and W5 count *working days* on a published calendar, and the minimum
number of scored inspections is a scheme parameter; all three are configuration events so
that a replay uses the numbers that were in force (never constants in code).

Stream types and ids:

=========================  ====================  ==============================================
stream_type                stream_id             events
=========================  ====================  ==============================================
``calendar``               the year, ``"2024"``  ``WorkingDayCalendarPublished`` (a later one
                                                 for the same year replaces it)
``service_levels``         programme code        ``ServiceLevelsPublished``
``inspection_cadence``     scheme id             ``InspectionCadencePublished``
=========================  ====================  ==============================================

The investigation and county deadlines are already parameters of ``ProgrammeDefined``
(``investigation_working_days``, ``county_working_days``); ``ServiceLevelsPublished`` adds the
two §4.1 / §4.5 deadlines that ``ProgrammeDefined`` does not carry.
"""

from __future__ import annotations

from ledger.domain.catalogue import EventSpec, Kind
from ledger.domain.catalogue import event_spec_v1 as _spec
from ledger.domain.fields import DATE, IDENTIFIER, integer, list_of, text

_CONFIGURERS = frozenset({"registry_admin", "government_approver"})
_OFFICE = frozenset({"assessment_office_officer"})
_DATES = list_of(DATE, max_len=366, unique=True)


SLA_EVENTS: tuple[EventSpec, ...] = (
    _spec(
        "WorkingDayCalendarPublished",
        "calendar",
        Kind.CONFIG,
        frozenset({"registry_admin"}),
        {
            "year": integer(2000, 2100),
            "region": text(100),
            "holidays": _DATES,
            "extra_working_days": _DATES,
        },
        "The working-day calendar of a year: Monday to Friday, minus the public holidays, plus "
        "the weekend days worked in exchange (调休). Every working-day deadline counts on it "
        "(domain.md §5.13); a year without a calendar counts Monday to Friday.",
    ),
    _spec(
        "ServiceLevelsPublished",
        "service_levels",
        Kind.CONFIG,
        _CONFIGURERS,
        {
            "programme_code": IDENTIFIER,
            "rejection_notice_working_days": integer(1, 60),
            "termination_decision_working_days": integer(1, 60),
        },
        "A programme's deadlines not carried by ProgrammeDefined: written notice of a rejection "
        "(default 3 working days) and the termination decision after an objection (default 15); "
        "late events raise AF-APP-SLA (APP-9, TRM-3).",
    ),
    _spec(
        "InspectionCadencePublished",
        "inspection_cadence",
        Kind.CONFIG,
        _OFFICE,
        {"scheme_id": IDENTIFIER, "min_inspections": integer(1, 366)},
        "How many scored inspections an inspection-based annual score needs (004 篇三: at "
        "least 4 a year; fewer raise AF-INS-TOO-FEW, SCO-8).",
    ),
)
