"""Payload schemas of audit findings, their disposition, and the facts that reveal them
(``domain.md`` §4.19, §6.3 "Audit and integrity", §7).

Stream types and ids:

==========================  =====================  ===========================================
stream_type                 stream_id              events
==========================  =====================  ===========================================
``audit_finding``           finding id             ``AuditFindingRaised`` (version 1), then
                                                   ``AuditFindingDisposed`` (any number)
``legacy_import``           legacy record id       ``LegacyRecordImported``
``external_disbursement``   observation id         ``ExternalDisbursementObserved``
==========================  =====================  ===========================================

Irregularities that the hard invariants block on the append path can still enter the ledger
as *facts* (§7 intro): data imported from a legacy system, and money movements a bank or an
auditor found outside the ledger. Both are always accepted (§4.0); the findings detectors
(:mod:`ledger.findings`) raise what they reveal.

A legacy record is typed: ``record.type`` names its shape, and the shape is checked like any
payload (a ``PUBLIC_NOTICE`` with its dates, an ``APPROVAL`` with the officials related to the
applicant, a ``SPOT_CHECK_SAMPLE`` with its seed, an ``INDICATOR_SCORE`` with its inputs, a
``BENEFIT_STANDARD`` with its floor basis, a ``TERMINATION`` with its notice and evidence, an
``INSPECTION`` with its team's units).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ledger.domain.catalogue import EventSpec, Kind
from ledger.domain.catalogue import event_spec_v1 as _spec
from ledger.domain.fields import (
    DATE,
    FEN,
    IDENTIFIER,
    PERIOD,
    RATIO,
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
from ledger.domain.fields import _described as described
from ledger.domain.programme_events import (
    COMPONENTS,
    FUND_PURPOSES,
    NOTICE_KINDS,
    PROGRAMME_CODES,
    SUPPORT_MODES,
    TERMINATION_REASONS,
)
from ledger.domain.supervision_events import INSPECTION_MODES

SEVERITIES = ("H", "M", "L")
DISPOSITIONS = ("CONFIRMED", "FALSE_POSITIVE", "REFERRED_TO_DISCIPLINE")
LEGACY_RECORD_TYPES = (
    "PUBLIC_NOTICE",
    "APPROVAL",
    "SPOT_CHECK_SAMPLE",
    "INDICATOR_SCORE",
    "BENEFIT_STANDARD",
    "TERMINATION",
    "INSPECTION",
)

_ID = IDENTIFIER
_IDS = list_of(IDENTIFIER, min_len=1, max_len=1_000, unique=True)
_FINDING_CODE_RE = re.compile(r"AF-[A-Z]+(-[A-Z]+)*")
_DECIMAL_RE = re.compile(r"-?(0|[1-9]\d{0,11})(\.\d{1,12})?")


def _finding_code(value: Any) -> str | None:
    """a finding code of domain.md §7, e.g. AF-PAY-AFTER-EXIT"""
    if not isinstance(value, str) or not _FINDING_CODE_RE.fullmatch(value) or len(value) > 64:
        return "must be a finding code AF-… of domain.md §7"
    return None


def _decimal(value: Any) -> str | None:
    """an exact decimal string, e.g. "2.5" or "-0.25" (never a binary float)"""
    if not isinstance(value, str) or not _DECIMAL_RE.fullmatch(value):
        return "must be an exact decimal string (never a binary float)"
    return None


def _decimal_inputs(value: Any) -> str | None:
    """an object of 1..32 named exact decimal strings"""
    if not isinstance(value, dict) or not 1 <= len(value) <= 32:
        return "must be an object of 1..32 named decimal strings"
    for name, item in value.items():
        if IDENTIFIER(name) is not None:
            return f"has an invalid input name {name!r}"
        reason = _decimal(item)
        if reason is not None:
            return f".{name} {reason}"
    return None


_RELATED_OFFICIAL = record(
    {
        "official_actor_id": _ID,
        "official_role": one_of("CASEWORKER", "VILLAGE_COMMITTEE_MEMBER"),
        "relationship": text(50),
    }
)

LEGACY_RECORDS: Mapping[str, Check] = {
    "PUBLIC_NOTICE": record(
        {
            "type": one_of("PUBLIC_NOTICE"),
            "notice_id": _ID,
            "kind": one_of(*NOTICE_KINDS),
            "subject_ids": _IDS,
            "location_org_id": _ID,
            "start_date": DATE,
            "end_date": DATE,
        }
    ),
    "APPROVAL": record(
        {
            "type": one_of("APPROVAL"),
            "application_id": _ID,
            "person_id": _ID,
            "programme_code": one_of(*PROGRAMME_CODES),
            "approved_on": DATE,
            "approver_actor_id": _ID,
            "related_officials": list_of(_RELATED_OFFICIAL, max_len=50),
            "relative_filed": boolean,
        }
    ),
    "SPOT_CHECK_SAMPLE": record(
        {
            "type": one_of("SPOT_CHECK_SAMPLE"),
            "batch_id": _ID,
            "township_org_id": _ID,
            "population_ids": list_of(_ID, min_len=1, max_len=10_000, unique=True),
            "sampled_ids": list_of(_ID, max_len=10_000, unique=True),
            "rng_algorithm": one_of("SPLITMIX64-FISHER-YATES-v1"),
            "rng_seed": integer(0),
            "ratio": RATIO,
        }
    ),
    "INDICATOR_SCORE": record(
        {
            "type": one_of("INDICATOR_SCORE"),
            "scheme_id": _ID,
            "indicator_id": _ID,
            "assessee_org_id": _ID,
            "formula_id": one_of("F-BONUS", "F-SHORT"),
            "inputs": _decimal_inputs,
            "recorded_score": _decimal,
        }
    ),
    # An annual standard as the old system published it; a care standard carries the basic
    # standard it went with (STD-2), a basic one its floor basis (STD-1) when known.
    "BENEFIT_STANDARD": record(
        {
            "type": one_of("BENEFIT_STANDARD"),
            "standard_id": _ID,
            "programme_code": one_of(*PROGRAMME_CODES),
            "admin_unit_id": _ID,
            "support_mode": one_of(*SUPPORT_MODES),
            "component": one_of(*COMPONENTS),
            "amount_fen": FEN,
            "effective_from": PERIOD,
            "basis": nullable(
                record(
                    {
                        "prior_year_consumption_per_capita_fen": FEN,
                        "dibao_monthly_standard_fen": FEN,
                    }
                )
            ),
            "basic_standard_fen": nullable(FEN),
        }
    ),
    # A termination as decided in the old system, with its notice (if any) and evidence.
    "TERMINATION": record(
        {
            "type": one_of("TERMINATION"),
            "enrolment_id": _ID,
            "person_id": _ID,
            "programme_code": one_of(*PROGRAMME_CODES),
            "reason_code": one_of(*TERMINATION_REASONS),
            "decided_on": DATE,
            "notice_id": nullable(_ID),
            "notice_closed_on": nullable(DATE),
            "evidence": list_of(SHA256_HEX, max_len=200),
        }
    ),
    # An inspection and its team as recorded in the old system (each member's unit).
    "INSPECTION": record(
        {
            "type": one_of("INSPECTION"),
            "inspection_id": _ID,
            "mode": one_of(*INSPECTION_MODES),
            "target_org_ids": _IDS,
            "team": list_of(record({"actor_id": _ID, "org_id": _ID}), min_len=1, max_len=50),
            "conducted_on": DATE,
        }
    ),
}


def _legacy_record(value: Any) -> str | None:
    if not isinstance(value, dict) or value.get("type") not in LEGACY_RECORDS:
        return "must be an object whose type is one of " + ", ".join(LEGACY_RECORD_TYPES)
    return LEGACY_RECORDS[value["type"]](value)


LEGACY_RECORD: Check = described(
    _legacy_record,
    "a typed legacy record: `type` one of " + ", ".join(f"`{t}`" for t in LEGACY_RECORD_TYPES),
)

_AUDITORS = frozenset({"auditor", "discipline_inspector"})


AUDIT_EVENTS: tuple[EventSpec, ...] = (
    _spec(
        "AuditFindingRaised",
        "audit_finding",
        Kind.SYSTEM,
        frozenset({"ledger"}),
        {
            "finding_id": _ID,
            "code": _finding_code,
            "severity": one_of(*SEVERITIES),
            "subject_refs": _IDS,
            "evidence_event_ids": _IDS,
            "detector": _ID,
            "detector_version": integer(1, 10_000),
            "rule_ref": nullable(text(200)),
            "period": nullable(text(10)),
            "admin_unit_id": nullable(_ID),
            "summary": text(1000),
        },
        "W19.2: a findings detector (§7) raises an irregularity, citing its evidence events "
        "and its own version; signed by the ledger's detector key. Raised once per (code, "
        "subjects, detector, version) (AUD-1).",
    ),
    _spec(
        "AuditFindingDisposed",
        "audit_finding",
        Kind.DECISION,
        _AUDITORS,
        {
            "finding_id": _ID,
            "disposition": one_of(*DISPOSITIONS),
            "reason": nullable(text(2000)),
            "referred_to_org_id": nullable(_ID),
        },
        "W19.3: an auditor or discipline inspector confirms a finding, dismisses it as a false "
        "positive (reason required) or refers it for accountability (to a body) (AUD-2, AUD-3).",
    ),
    _spec(
        "LegacyRecordImported",
        "legacy_import",
        Kind.FACT,
        frozenset({"registry_admin", "auditor", "county_approver"}),
        {
            "record_id": _ID,
            "source_system": text(200),
            "source_sha256": SHA256_HEX,
            "admin_unit_id": _ID,
            "period": nullable(PERIOD),
            "record": LEGACY_RECORD,
        },
        "§7: one record of a legacy system, imported as it was (a fact: never refused); the "
        "detectors check it like a live decision.",
    ),
    _spec(
        "ExternalDisbursementObserved",
        "external_disbursement",
        Kind.FACT,
        frozenset({"auditor", "disbursement_agent"}),
        {
            "observation_id": _ID,
            "fund_account_id": _ID,
            "payee_ref": text(200),
            "purpose": one_of(*FUND_PURPOSES),
            "amount_fen": FEN,
            "value_date": DATE,
            "evidence": list_of(SHA256_HEX, min_len=1, max_len=200),
        },
        "§6.3, §7.3-7.4: money left a dedicated account outside the ledger (reported by the "
        "bank or found by an auditor); always recorded (AF-PAY-UNAUTHORISED, "
        "AF-FUND-OFF-EARMARK).",
    ),
)
