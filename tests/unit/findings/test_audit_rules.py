"""AuditFindingRaised / AuditFindingDisposed rules (AUD-1..3) and the fact events' schemas."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain.audit_findings import finding
from ledger.domain.catalogue import DEFAULT_CATALOGUE, validate_payload
from ledger.errors import SchemaError
from tests.unit.domain.case_builders import World, refused
from tests.unit.findings.builders import audit_world


def _raised(finding_id: str = "F-1", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "finding_id": finding_id,
        "code": "AF-PAY-AFTER-EXIT",
        "severity": "H",
        "subject_refs": ["enr-1"],
        "evidence_event_ids": ["00000000-0000-0000-0000-000000000001"],
        "detector": "paid-after-exit",
        "detector_version": 1,
        "rule_ref": "PAY-2",
        "period": "2024-07",
        "admin_unit_id": "county-1",
        "summary": "paid after death",
    }
    payload.update(overrides)
    return payload


def _raise(world: World, finding_id: str = "F-1", **overrides: Any) -> None:
    world.emit("AuditFindingRaised", finding_id, _raised(finding_id, **overrides), actor="ledger-1")


def _dispose(
    world: World,
    disposition: str,
    reason: str | None = None,
    *,
    to: str | None = None,
    finding_id: str = "F-1",
    actor: str = "auditor-1",
) -> None:
    world.emit(
        "AuditFindingDisposed",
        finding_id,
        {
            "finding_id": finding_id,
            "disposition": disposition,
            "reason": reason,
            "referred_to_org_id": to,
        },
        actor=actor,
    )


def test_a_raised_finding_is_open_until_disposed() -> None:
    world = audit_world()
    _raise(world)
    _dispose(world, "CONFIRMED")

    found = finding(world.state, "F-1")
    assert found is not None and (found.status, found.code, found.severity) == (
        "CONFIRMED",
        "AF-PAY-AFTER-EXIT",
        "H",
    )


def test_the_same_irregularity_is_raised_once_per_detector_version() -> None:
    world = audit_world()
    _raise(world)

    with refused("AUD-1"):
        _raise(world, "F-2")
    with refused("AUD-1"):
        _raise(world, "F-1", subject_refs=["enr-2"])
    _raise(world, "F-3", detector_version=2)
    _raise(world, "F-4", subject_refs=["enr-2"])


def test_a_finding_is_raised_on_its_own_stream() -> None:
    world = audit_world()
    with refused("AUD-1"):
        world.emit("AuditFindingRaised", "F-other", _raised("F-1"), actor="ledger-1")


def test_a_disposition_names_a_raised_finding_and_changes_it() -> None:
    world = audit_world()
    with refused("AUD-2"):
        _dispose(world, "CONFIRMED", finding_id="F-404")
    _raise(world)
    _dispose(world, "CONFIRMED")
    with refused("AUD-2"):
        _dispose(world, "CONFIRMED")


def test_dismissal_needs_a_reason_and_referral_a_body() -> None:
    world = audit_world()
    _raise(world)
    with refused("AUD-3"):
        _dispose(world, "FALSE_POSITIVE")
    with refused("AUD-3"):
        _dispose(world, "REFERRED_TO_DISCIPLINE", actor="discipline-1")
    _dispose(world, "REFERRED_TO_DISCIPLINE", to="city-1", actor="discipline-1")
    _dispose(world, "FALSE_POSITIVE", "the death report named the wrong person")

    found = finding(world.state, "F-1")
    assert found is not None and found.status == "FALSE_POSITIVE"


def test_legacy_records_are_typed() -> None:
    spec = DEFAULT_CATALOGUE.spec("LegacyRecordImported", 1)
    payload = {
        "record_id": "r-1",
        "source_system": "old",
        "source_sha256": "e" * 64,
        "admin_unit_id": "township-1",
        "period": "2019-03",
        "record": {
            "type": "PUBLIC_NOTICE",
            "notice_id": "n",
            "kind": "PRELIMINARY_OPINION",
            "subject_ids": ["a"],
            "location_org_id": "v",
            "start_date": "2019-03-01",
            "end_date": "2019-03-05",
        },
    }
    validate_payload(spec, payload)

    with pytest.raises(SchemaError, match="record"):
        validate_payload(spec, {**payload, "record": {**payload["record"], "type": "GOSSIP"}})
    with pytest.raises(SchemaError, match="end_date"):
        validate_payload(spec, {**payload, "record": {**payload["record"], "end_date": "soon"}})
    score = {
        "type": "INDICATOR_SCORE",
        "scheme_id": "s",
        "indicator_id": "i",
        "assessee_org_id": "c",
        "formula_id": "F-BONUS",
        "inputs": {"base": 2.5},
        "recorded_score": "2.5",
    }
    with pytest.raises(SchemaError, match="decimal"):
        validate_payload(spec, {**payload, "record": score})
