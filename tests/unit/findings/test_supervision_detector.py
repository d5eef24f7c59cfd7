"""AF-ESC-NOT-APPLIED on the rectification ladder (§5.12, EX-ESC-2 dates)."""

from __future__ import annotations

from datetime import date

from ledger.domain.model import DomainEvent
from ledger.findings.model import add_working_days
from ledger.findings.supervision import EscalationNotApplied
from tests.unit.findings.builders import Feed


def _notice(feed: Feed, notice_id: str = "n-1", deadline: str = "2024-03-15") -> DomainEvent:
    return feed.event(
        "SupervisionNoticeIssued",
        notice_id,
        {
            "notice_id": notice_id,
            "kind": "RECTIFICATION",
            "target_org_id": "village-1",
            "finding_ids": ["f-1"],
            "deadline": deadline,
        },
        actor="lead-1",
        on="2024-03-01",
    )


def _criticise(feed: Feed, causes: list[str], on: str = "2024-03-20") -> None:
    feed.event(
        "CriticismIssued",
        "village-1",
        {
            "issuer_org": "city-1",
            "issuer_level": "CITY_GOVERNMENT",
            "target_org": "village-1",
            "related_to": "SANITATION",
            "document_ref": "city-gov-2024-17",
            "issued_at": on,
            "item": None,
            "cause_event_ids": causes,
        },
        actor="officer-1",
        on=on,
    )


def test_working_days_skip_the_weekend() -> None:
    assert add_working_days(date(2024, 3, 15), 1) == date(2024, 3, 18)  # Friday → Monday
    assert add_working_days(date(2024, 3, 16), 10) == date(2024, 3, 29)


def test_an_overdue_notice_with_no_criticism_after_the_grace_period_is_found() -> None:
    feed = Feed([EscalationNotApplied()])
    issued = _notice(feed)

    # Criticism due from 16 March; 10 working days of grace end on 29 March.
    assert feed.findings("2024-03-29") == []
    [found] = feed.findings("2024-04-01")

    assert (found.code, found.subject_refs) == ("AF-ESC-NOT-APPLIED", ("n-1", "CRITICISM"))
    assert (found.admin_unit_id, found.period, found.severity) == ("village-1", "2024-03", "H")
    assert found.evidence_event_ids == (issued.event_id,)


def test_a_criticism_citing_the_notice_applies_the_step() -> None:
    feed = Feed([EscalationNotApplied()])
    issued = _notice(feed)
    _criticise(feed, [issued.event_id])

    assert feed.findings("2024-06-01") == []


def test_a_criticism_citing_something_else_does_not() -> None:
    feed = Feed([EscalationNotApplied()])
    _notice(feed)
    other = _notice(feed, "n-2", deadline="2024-12-31")
    _criticise(feed, [other.event_id])

    assert feed.codes("2024-06-01") == [("AF-ESC-NOT-APPLIED", ("n-1", "CRITICISM"))]


def test_a_notice_verified_passed_in_time_or_reissued_needs_no_escalation() -> None:
    feed = Feed([EscalationNotApplied()])
    _notice(feed)
    feed.event(
        "RectificationVerified",
        "n-1",
        {"result": "PASSED", "verified_at": "2024-03-14", "evidence": []},
        actor="insp-1",
        on="2024-03-14",
    )
    _notice(feed, "n-2")
    feed.event(
        "SupervisionNoticeReissued",
        "n-3",
        {"notice_id": "n-3", "previous_notice_id": "n-2", "new_deadline": "2024-12-31"},
        actor="lead-1",
        on="2024-03-20",
    )

    assert feed.findings("2024-06-01") == []


def test_an_extended_deadline_moves_the_ladder() -> None:
    feed = Feed([EscalationNotApplied()])
    _notice(feed)
    feed.event(
        "RectificationDeadlineExtended",
        "n-1",
        {"new_deadline": "2024-05-31", "reason": "rain"},
        actor="lead-1",
        on="2024-03-10",
    )

    assert feed.findings("2024-06-01") == []
    assert feed.codes("2024-07-01") == [("AF-ESC-NOT-APPLIED", ("n-1", "CRITICISM"))]
