"""Payload schemas of medical, temporary and capped assistance and the other benefits (W6, W7).

``domain.md`` §4.6, §4.7, §6.2 (``BenefitComponentDefined``) and §6.3 (``BenefitGranted`` and
the "other workflow events" of W6 and W7).

Stream types and ids:

==============================  =========================  =================================
stream_type                     stream_id                  events
==============================  =========================  =================================
``benefit_component``           component code             ``BenefitComponentDefined``
``payment_batch``               grant id                   ``BenefitGranted`` (§6.3 lists it
                                                           under Payments ``[payment_batch]``)
``household``                   household id               ``HouseholdAssessed``,
                                                           ``HouseholdSelectedForAssistance``,
                                                           ``HouseholdPlanApproved``,
                                                           ``ExceptionApproved``
``temp_assistance_month``       ``<township>.<YYYY-MM>``   ``TempAssistanceMonthlyApproval``
``assistance_spot_check``       spot-check id              ``SpotCheckCompleted``
``reserve_subsidy``             township org id            ``ReserveSubsidyAdjusted``
==============================  =========================  =================================

Money is integer fen; a person or household is a pseudonymous id (no personal data).
"""

from __future__ import annotations

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

ASSISTANCE_PROGRAMMES = (
    "MEDICAL_AID",
    "TEMP_ASSISTANCE",
    "PRICE_SUBSIDY",
    "PREFERENTIAL_CARE",
    "HARDSHIP_ASSISTANCE",
)
PAYER_LEVELS = ("DISTRICT", "TOWNSHIP")
AMOUNT_RULES = ("FIXED", "CAP", "PER_MONTH_CAP", "ONE_OFF")
CAP_PERIODS = ("MONTH", "YEAR", "SCHOOL_YEAR", "EPISODE", "ONCE")
BENEFICIARIES = ("PERSON", "HOUSEHOLD")

_ID = IDENTIFIER
_PROGRAMME: Check = one_of(*ASSISTANCE_PROGRAMMES)
_TOWNSHIP = frozenset({"township_reviewer"})
_TOWNSHIP_OR_COUNTY = frozenset({"township_reviewer", "county_approver"})


_HOUSEHOLD_ASSESSMENT: dict[str, Check] = {
    "household_id": _ID,
    "year": integer(2000, 2100),
    "household_size": integer(1, 30),
    "per_capita_income_fen": FEN,
    "poverty_line_fen": integer(1),
    "appraisal_minutes_sha256": SHA256_HEX,
}

ASSISTANCE_EVENTS: tuple[EventSpec, ...] = (
    _spec(
        "BenefitComponentDefined",
        "benefit_component",
        Kind.CONFIG,
        frozenset({"government_approver"}),
        {
            "component_code": _ID,
            "programme_code": _PROGRAMME,
            "payer_level": one_of(*PAYER_LEVELS),
            "beneficiary": one_of(*BENEFICIARIES),
            "amount_rule": one_of(*AMOUNT_RULES),
            "cap_fen": integer(1),
            "period_cap_fen": nullable(integer(1)),
            "period": one_of(*CAP_PERIODS),
            "must_be_less_than_out_of_pocket": boolean,
            "max_per_household_per_year": nullable(integer(1, 12)),
        },
        "A capped or one-off benefit component (domain.md §4.7): who pays, the cap per period "
        "(PER_MONTH_CAP: cap_fen a month, at most period_cap_fen a period), whether all levels "
        "together must stay below the out-of-pocket cost, and, for a special preferential "
        "policy (特惠), how many such policies a household may hold a year. A later event on "
        "the same stream amends it.",
    ),
    _spec(
        "BenefitGranted",
        "payment_batch",
        Kind.DECISION,
        _TOWNSHIP_OR_COUNTY,
        {
            "grant_id": _ID,
            "component_code": _ID,
            "household_id": _ID,
            "person_id": nullable(_ID),
            "episode_id": nullable(_ID),
            "period": PERIOD,
            "amount_fen": integer(1),
            "fast_track": boolean,
            "basis": record(
                {
                    "months": nullable(integer(1, 12)),
                    "out_of_pocket_fen": nullable(FEN),
                    "prior_grants_fen": FEN,
                }
            ),
        },
        "A one-off or capped component granted to a person or household (W6, W7), checked "
        "against CAP-1..CAP-5. prior_grants_fen is the declared total already granted for the "
        "episode at all levels; the ledger uses the higher of it and its own records.",
    ),
    _spec(
        "HouseholdAssessed",
        "household",
        Kind.DECISION,
        frozenset({"township_reviewer", "township_investigator"}),
        dict(_HOUSEHOLD_ASSESSMENT),
        "A household in difficulty appraised for hardship assistance (摸底评议, domain.md §4.7).",
    ),
    _spec(
        "HouseholdSelectedForAssistance",
        "household",
        Kind.DECISION,
        _TOWNSHIP,
        dict(_HOUSEHOLD_ASSESSMENT),
        "A household selected for hardship assistance; its per-capita income must be below "
        "1.5 times the poverty line (CAP-4).",
    ),
    _spec(
        "HouseholdPlanApproved",
        "household",
        Kind.DECISION,
        frozenset({"township_reviewer", "village_committee_member"}),
        {
            "household_id": _ID,
            "year": integer(2000, 2100),
            "policies": list_of(_ID, min_len=1, max_len=20, unique=True),
            "helper_actor_id": _ID,
            "meeting_minutes_sha256": SHA256_HEX,
        },
        "One plan per household (一户一策), confirmed by the joint village committee meeting.",
    ),
    _spec(
        "ExceptionApproved",
        "household",
        Kind.DECISION,
        frozenset({"township_reviewer", "government_approver"}),
        {
            "household_id": _ID,
            "year": integer(2000, 2100),
            "extra_policy_code": _ID,
            "reason": text(500),
            "co_approver_actor_id": _ID,
            "co_approval_sha256": SHA256_HEX,
        },
        "An extra special preferential policy for a household and year (N-HA-11): signed by "
        "the township, co-approved by the district civil-affairs bureau (named co-approver).",
    ),
    _spec(
        "TempAssistanceMonthlyApproval",
        "temp_assistance_month",
        Kind.DECISION,
        _TOWNSHIP_OR_COUNTY,
        {
            "township_org_id": _ID,
            "month": PERIOD,
            "case_ids": list_of(_ID, max_len=10_000, unique=True),
            "approver": _ID,
        },
        "The monthly batch approval of a township's temporary-assistance cases (N-TA-1).",
    ),
    _spec(
        "SpotCheckCompleted",
        "assistance_spot_check",
        Kind.DECISION,
        frozenset({"county_spot_checker"}),
        {
            "spot_check_id": _ID,
            "programme": one_of("TEMP_ASSISTANCE", "MEDICAL_AID"),
            "township_org_id": _ID,
            "month": PERIOD,
            "sampled_case_ids": list_of(_ID, max_len=10_000, unique=True),
            "results": list_of(
                record({"case_id": _ID, "result": one_of("CONSISTENT", "INCONSISTENT")}),
                max_len=10_000,
            ),
        },
        "The county's monthly spot check of temporary or medical assistance cases (N-TA-1).",
    ),
    _spec(
        "ReserveSubsidyAdjusted",
        "reserve_subsidy",
        Kind.DECISION,
        frozenset({"government_approver"}),
        {
            "township_org_id": _ID,
            "amount_fen": FEN,
            "effective_from": PERIOD,
            "decided_on": DATE,
        },
        "The city sets its subsidy to a township's temporary-assistance reserve (N-TA-2).",
    ),
)
