"""Soft invariants are recorded with the accepted event and roll back with it."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.domain.model import SOFT_FINDINGS, DomainEvent, DomainState, note_soft_finding


def _event() -> DomainEvent:
    return DomainEvent(
        event_id="e-1",
        event_type="InspectionReportSubmitted",
        stream_type="inspection",
        stream_id="ins-1",
        version=3,
        position=41,
        occurred_at=datetime(2024, 5, 3, tzinfo=UTC),
        actor_id="lead-1",
        role="inspection_team_lead",
        org_id="county-1",
        payload={},
    )


def test_a_soft_finding_is_recorded_with_sorted_evidence() -> None:
    state = DomainState()
    note_soft_finding(
        state, _event(), "INS-5", "AF-INS-LATE-REPORT", "report 2 days late", late_days=2, a=1
    )
    found = state.table(SOFT_FINDINGS)[("e-1", "INS-5")]
    assert (found.rule, found.finding_code, found.position) == ("INS-5", "AF-INS-LATE-REPORT", 41)
    assert found.evidence == (("a", 1), ("late_days", 2))


def test_a_soft_finding_rolls_back_with_its_event() -> None:
    state = DomainState()
    state.begin()
    note_soft_finding(state, _event(), "INS-5", "AF-INS-LATE-REPORT", "late")
    state.rollback()
    assert len(state.table(SOFT_FINDINGS)) == 0
