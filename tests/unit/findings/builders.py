"""Builders for the findings tests: schema-checked events from the case-lifecycle world,
fed straight to detectors (a detector reads what the log holds; no decision is re-taken)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from ledger.domain.model import DomainEvent
from ledger.findings.model import Detector, Finding
from ledger.findings.runner import DetectorSet
from tests.unit.domain.case_builders import ACTORS, Actor, FakeDirectory, World

AUDIT_ACTORS = {
    **ACTORS,
    "auditor-1": Actor("city-1", "auditor", "p-aud-1"),
    "discipline-1": Actor("city-1", "discipline_inspector", "p-disc-1"),
    "lead-1": Actor("city-1", "inspection_team_lead", "p-lead-1"),
    "officer-1": Actor("city-1", "assessment_office_officer", "p-officer-1"),
    "insp-1": Actor("city-1", "inspector", "p-insp-1"),
}


def audit_world() -> World:
    """The case-lifecycle world plus auditors and supervision officials."""
    return World(directory=FakeDirectory(actors=AUDIT_ACTORS))


class Feed:
    """Schema-checked events fed, in order, to a :class:`DetectorSet`."""

    def __init__(self, detectors: Sequence[Detector]) -> None:
        self.world = audit_world()
        self.detectors = DetectorSet(detectors)
        self.position = 0

    def event(
        self, event_type: str, stream_id: str, payload: dict[str, Any], *, actor: str, on: str
    ) -> DomainEvent:
        """Record one event (schema-checked) and feed it to the detectors."""
        event = self.world.event(event_type, stream_id, payload, actor=actor, on=on)
        self.world.state.position += 1
        self.detectors.observe(event)
        return event

    def findings(self, clock: str | None = None) -> list[Finding]:
        return self.detectors.findings(None if clock is None else date.fromisoformat(clock))

    def codes(self, clock: str | None = None) -> list[tuple[str, tuple[str, ...]]]:
        return [(f.code, f.subject_refs) for f in self.findings(clock)]


def programme(feed: Feed, code: str = "TEKUN") -> DomainEvent:
    from tests.unit.domain.case_builders import programme_payload

    return feed.event(
        "ProgrammeDefined", code, programme_payload(code), actor="admin-1", on="2024-01-02"
    )


def legacy(
    feed: Feed, record_id: str, record: dict[str, Any], *, on: str = "2024-12-01"
) -> DomainEvent:
    """Import one legacy record (a fact) on behalf of the registry administrator."""
    return feed.event(
        "LegacyRecordImported",
        record_id,
        {
            "record_id": record_id,
            "source_system": "county MCA 2019 system",
            "source_sha256": "e" * 64,
            "admin_unit_id": "township-1",
            "period": None,
            "record": record,
        },
        actor="admin-1",
        on=on,
    )
