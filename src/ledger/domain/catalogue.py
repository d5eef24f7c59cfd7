"""The event catalogue: which event types exist, their payload schemas and who may emit them.

Each ``(event_type, schema_version)`` is registered once and never changes in place
(``domain.md`` §6.1); a new shape is a new ``schema_version``. The catalogue is data, checked
by :func:`validate_payload` before any decision is taken.

Payload values are JSON: strings, integers, booleans, null, lists and objects. Binary floats
never appear (money is integer ``amount_fen``; points are decimal strings, ``domain.md`` §5.0).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ledger.domain.fields import (
    IDENTIFIER,
    KEY_ID,
    Check,
    _base64_key,
    _boolean,
    _integer,
    _nullable,
    _one_of,
    _text,
)
from ledger.errors import SchemaError

MAX_SAFE_INTEGER = 2**53 - 1


class Kind(Enum):
    """How the ledger treats an event type (``domain.md`` §6.1)."""

    CONFIG = "CONFIG"
    DECISION = "DECISION"
    FACT = "FACT"
    SYSTEM = "SYSTEM"


@dataclass(frozen=True)
class EventSpec:
    """The registered shape of one event type at one schema version."""

    event_type: str
    schema_version: int
    stream_type: str
    kind: Kind
    roles: frozenset[str]
    fields: Mapping[str, Check] = field(default_factory=dict)
    summary: str = ""


def event_spec_v1(  # noqa: PLR0917 - one positional per EventSpec column keeps the tables readable
    event_type: str,
    stream_type: str,
    kind: Kind,
    roles: frozenset[str],
    fields: dict[str, Check],
    summary: str,
) -> EventSpec:
    """A schema-version-1 :class:`EventSpec` (the spec tables of the ``*_events`` modules)."""
    return EventSpec(event_type, 1, stream_type, kind, roles, fields, summary)


def validate_payload(spec: EventSpec, payload: Mapping[str, Any]) -> None:
    """Check ``payload`` against ``spec``: exactly the declared fields, each passing its check.

    Raises:
        SchemaError: naming the first missing, unexpected or invalid field.
    """
    missing = sorted(set(spec.fields) - set(payload))
    if missing:
        raise SchemaError(
            f"{spec.event_type} payload is missing field(s): {', '.join(missing)}",
            event_type=spec.event_type,
            missing=missing,
        )
    extra = sorted(set(payload) - set(spec.fields))
    if extra:
        raise SchemaError(
            f"{spec.event_type} payload has unexpected field(s): {', '.join(extra)}",
            event_type=spec.event_type,
            unexpected=extra,
        )
    for name, check in spec.fields.items():
        reason = check(payload[name])
        if reason is not None:
            raise SchemaError(
                f"{spec.event_type}.payload.{name} {reason}",
                event_type=spec.event_type,
                field=name,
            )


REGISTRY_ADMIN = "registry_admin"
REGISTRY_STREAM = ("registry", "registry")

ORG_KINDS = (
    "GOVERNMENT",
    "DEPARTMENT",
    "LEADING_GROUP",
    "ASSESSMENT_OFFICE",
    "INSPECTION_TEAM",
    "VILLAGE_COMMITTEE",
    "CARE_INSTITUTION",
    "BANK",
    "SURVEY_TEAM",
    "DISCIPLINE_BODY",
    "AUDIT_BODY",
    "SYSTEM",
)

ROLES: frozenset[str] = frozenset(
    {
        "township_intake_clerk",
        "township_investigator",
        "village_committee_member",
        "township_reviewer",
        "county_approver",
        "county_spot_checker",
        "finance_officer",
        "payment_preparer",
        "payment_approver",
        "disbursement_agent",
        "care_institution_manager",
        "responsible_unit_assessor",
        "lead_unit_coordinator",
        "assessment_office_officer",
        "assessment_working_group_member",
        "leading_group_secretary",
        "government_approver",
        "inspector",
        "inspection_team_lead",
        "statistics_survey_team",
        "auditor",
        "discipline_inspector",
        "registry_admin",
        "integrity_verifier",
        "ledger",
        "scheduler",
    }
)


def _role(value: Any) -> str | None:
    """a role from domain.md §1.3"""
    return None if value in ROLES else "must be a role from domain.md §1.3"


_ADMIN = frozenset({REGISTRY_ADMIN})

REGISTRY_EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        "LedgerInitialised",
        1,
        "registry",
        Kind.CONFIG,
        _ADMIN,
        {
            "origin": _text(200),
            "ledger_public_key": _base64_key,
            "root_org_id": IDENTIFIER,
            "root_org_name": _text(),
            "admin_actor_id": IDENTIFIER,
            "admin_public_key": _base64_key,
        },
        "Genesis: the ledger's own key, the root organisation and the first administrator.",
    ),
    EventSpec(
        "OrganisationRegistered",
        1,
        "registry",
        Kind.CONFIG,
        _ADMIN,
        {
            "org_id": IDENTIFIER,
            "kind": _one_of(*ORG_KINDS),
            "parent_org_id": _nullable(IDENTIFIER),
            "name": _text(),
        },
        "An organisation that actors act for; roles are scoped to organisations.",
    ),
    EventSpec(
        "ActorRegistered",
        1,
        "registry",
        Kind.CONFIG,
        _ADMIN,
        {
            "actor_id": IDENTIFIER,
            "org_id": IDENTIFIER,
            "kind": _one_of("PERSON", "SYSTEM"),
            "person_ref": _nullable(IDENTIFIER),
        },
        "A person or system component that signs events (personal data stays out: a ref only).",
    ),
    EventSpec(
        "SigningKeyRegistered",
        1,
        "registry",
        Kind.CONFIG,
        _ADMIN,
        {
            "key_id": KEY_ID,
            "algorithm": _one_of("Ed25519"),
            "public_key": _base64_key,
            "actor_id": IDENTIFIER,
        },
        "Binds an Ed25519 public key to exactly one actor from this log position on.",
    ),
    EventSpec(
        "SigningKeyRevoked",
        1,
        "registry",
        Kind.CONFIG,
        _ADMIN,
        {"key_id": KEY_ID, "reason": _one_of("ROTATION", "COMPROMISE")},
        "Ends a key's validity from this log position on (rotation or compromise).",
    ),
    EventSpec(
        "ActorRoleGranted",
        1,
        "registry",
        Kind.CONFIG,
        _ADMIN,
        {
            "actor_id": IDENTIFIER,
            "role": _role,
            "org_id": IDENTIFIER,
            "include_descendants": _boolean,
        },
        "Lets an actor act in a role for an organisation (and optionally its sub-organisations).",
    ),
    EventSpec(
        "ActorRoleRevoked",
        1,
        "registry",
        Kind.CONFIG,
        _ADMIN,
        {"actor_id": IDENTIFIER, "role": _role, "org_id": IDENTIFIER},
        "Withdraws a role grant from this log position on.",
    ),
)


def _base64_hash(value: Any) -> str | None:
    """a 32-byte hash in standard base64 (44 characters)"""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9+/]{43}=", value):
        return "must be a 32-byte hash in standard base64 (44 characters)"
    return None


SYSTEM_EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        "IntegrityVerificationRun",
        1,
        "verification",
        Kind.SYSTEM,
        frozenset({"integrity_verifier"}),
        {
            "run_id": IDENTIFIER,
            "tree_size": _integer(),
            "root_hash": _base64_hash,
            "result": _one_of("PASS", "FAIL"),
            "findings_count": _integer(),
            "first_damage_kind": _nullable(_text(64)),
            "first_damage_index": _nullable(_integer()),
        },
        "A periodic verification script's result, so that skipped or failed runs are visible "
        "(domain.md §8).",
    ),
)


class Catalogue:
    """Lookup of event specs by ``(event_type, schema_version)``."""

    def __init__(self, specs: tuple[EventSpec, ...]) -> None:
        self._specs: dict[tuple[str, int], EventSpec] = {}
        for spec in specs:
            key = (spec.event_type, spec.schema_version)
            if key in self._specs:
                msg = f"event type {key} registered twice"
                raise ValueError(msg)
            self._specs[key] = spec

    def spec(self, event_type: str, schema_version: int) -> EventSpec:
        """The spec for a type and version.

        Raises:
            SchemaError: the type or version is not registered.
        """
        found = self._specs.get((event_type, schema_version))
        if found is None:
            known = sorted({t for t, _ in self._specs})
            raise SchemaError(
                f"unknown event type {event_type!r} (schema_version {schema_version})",
                event_type=event_type,
                schema_version=schema_version,
                known_event_types=known,
            )
        return found

    def specs(self) -> list[EventSpec]:
        """Every registered spec, in registration order."""
        return list(self._specs.values())


# The business event specs need EventSpec and Kind, defined above.
from ledger.domain.assessment_events import ASSESSMENT_EVENTS  # noqa: E402
from ledger.domain.assessment_w11_events import W11_EVENTS  # noqa: E402
from ledger.domain.assessment_w16_events import W16_EVENTS  # noqa: E402
from ledger.domain.assistance_events import ASSISTANCE_EVENTS  # noqa: E402
from ledger.domain.audit_events import AUDIT_EVENTS  # noqa: E402
from ledger.domain.correction_events import CORRECTION_EVENTS  # noqa: E402
from ledger.domain.coverage_target_events import COVERAGE_TARGET_EVENTS  # noqa: E402
from ledger.domain.fund_events import FUND_EXTRA_EVENTS  # noqa: E402
from ledger.domain.payment_schedule_events import PAYMENT_SCHEDULE_EVENTS  # noqa: E402
from ledger.domain.programme_events import PROGRAMME_EVENTS  # noqa: E402
from ledger.domain.sla_events import SLA_EVENTS  # noqa: E402
from ledger.domain.supervision_events import SUPERVISION_EVENTS  # noqa: E402
from ledger.domain.survey_events import SURVEY_EVENTS  # noqa: E402

DEFAULT_CATALOGUE = Catalogue(
    REGISTRY_EVENTS
    + SYSTEM_EVENTS
    + PROGRAMME_EVENTS
    + FUND_EXTRA_EVENTS
    + ASSISTANCE_EVENTS
    + ASSESSMENT_EVENTS
    + W11_EVENTS
    + W16_EVENTS
    + SUPERVISION_EVENTS
    + AUDIT_EVENTS
    + SURVEY_EVENTS
    + SLA_EVENTS
    + CORRECTION_EVENTS
    + COVERAGE_TARGET_EVENTS
    + PAYMENT_SCHEDULE_EVENTS
)
