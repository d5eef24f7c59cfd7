"""AF-RECT-EXTENSION-ABUSE, AF-SCO-DOUBLE-PENALTY and AF-INS-MOSTLY-ANNOUNCED detectors."""

from __future__ import annotations

from ledger.domain.model import DomainEvent
from ledger.findings.oversight import (
    DoublePenalty,
    ExtensionAbuse,
    MostlyAnnounced,
    RectificationOverdue,
    RecurringProblem,
)
from tests.unit.findings.builders import Feed


def _notice(feed: Feed) -> DomainEvent:
    return feed.event(
        "SupervisionNoticeIssued",
        "n-1",
        {
            "notice_id": "n-1",
            "kind": "RECTIFICATION",
            "target_org_id": "village-1",
            "finding_ids": ["f-1"],
            "deadline": "2024-03-15",
        },
        actor="lead-1",
        on="2024-03-01",
    )


def _extend(feed: Feed, new_deadline: str) -> DomainEvent:
    return feed.event(
        "RectificationDeadlineExtended",
        "n-1",
        {"new_deadline": new_deadline, "reason": "rain delayed the works"},
        actor="lead-1",
        on="2024-03-10",
    )


def test_two_extensions_on_one_notice_are_found() -> None:
    feed = Feed([ExtensionAbuse()])
    issued = _notice(feed)
    first = _extend(feed, "2024-03-29")
    assert feed.findings() == []  # one extension is allowed
    second = _extend(feed, "2024-04-12")
    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-RECT-EXTENSION-ABUSE", ("n-1",))
    assert found.evidence_event_ids == (issued.event_id, first.event_id, second.event_id)
    assert found.severity == "L"
    assert found.admin_unit_id == "village-1"
    assert "extended 2 times" in found.summary


def _criticise(feed: Feed, document: str, on: str, target: str = "village-1") -> DomainEvent:
    return feed.event(
        "CriticismIssued",
        target,
        {
            "issuer_org": "city-1",
            "issuer_level": "CITY_GOVERNMENT",
            "target_org": target,
            "related_to": "LIVELIHOOD_TARGET",
            "document_ref": document,
            "issued_at": on,
            "item": None,
            "cause_event_ids": [],
        },
        actor="officer-1",
        on=on,
    )


def test_two_criticisms_of_one_unit_under_one_document_are_a_double_penalty() -> None:
    feed = Feed([DoublePenalty()])
    first = _criticise(feed, "city-gov-2024-17", "2024-03-20")
    second = _criticise(feed, "city-gov-2024-17", "2024-04-02")
    [found] = feed.findings()
    assert found.code == "AF-SCO-DOUBLE-PENALTY"
    assert found.subject_refs == ("village-1", "city-gov-2024-17")
    assert found.evidence_event_ids == (first.event_id, second.event_id)
    assert found.severity == "L"
    assert found.period == "2024"


def test_other_documents_or_other_units_are_no_double_penalty() -> None:
    feed = Feed([DoublePenalty()])
    _criticise(feed, "city-gov-2024-17", "2024-03-20")
    _criticise(feed, "city-gov-2024-18", "2024-03-21")
    _criticise(feed, "city-gov-2024-17", "2024-03-20", target="village-1b")
    assert feed.findings() == []


def _plan(feed: Feed, n: int, mode: str, kind: str = "ROUTINE", year: int = 2024) -> DomainEvent:
    return feed.event(
        "InspectionPlanned",
        f"insp-{n}",
        {
            "inspection_id": f"insp-{n}",
            "type": kind,
            "mode": mode,
            "target_org_ids": ["village-1"],
            "team_actor_ids": ["lead-1", "insp-1"],
            "methods": ["SITE_VIEW"],
            "window": {"start": f"{year}-0{n % 9 + 1}-01", "end": f"{year}-0{n % 9 + 1}-02"},
            "scheme_id": None,
        },
        actor="lead-1",
        on=f"{year}-01-0{n % 9 + 1}",
    )


def test_a_year_of_mostly_announced_routine_inspections_is_found_once_it_is_over() -> None:
    feed = Feed([MostlyAnnounced()])
    plans = [
        _plan(feed, 1, "UNANNOUNCED"),
        _plan(feed, 2, "ANNOUNCED"),
        _plan(feed, 3, "ANNOUNCED"),
    ]
    _plan(feed, 4, "ANNOUNCED", kind="SPECIAL")  # special inspections are announced anyway
    assert feed.findings("2024-12-31") == []  # the year is not over yet
    [found] = feed.findings("2025-01-02")
    assert found.code == "AF-INS-MOSTLY-ANNOUNCED"
    assert found.subject_refs == ("city-1", "2024")
    assert found.evidence_event_ids == tuple(p.event_id for p in plans)
    assert found.severity == "L"
    assert "1 of 3 routine inspections in 2024" in found.summary


def test_half_unannounced_is_mainly_unannounced_enough() -> None:
    feed = Feed([MostlyAnnounced()])
    _plan(feed, 1, "UNANNOUNCED")
    _plan(feed, 2, "ANNOUNCED")
    assert feed.findings("2025-01-02") == []


def _verify(feed: Feed, result: str, on: str, notice: str = "n-1") -> DomainEvent:
    return feed.event(
        "RectificationVerified",
        notice,
        {"result": result, "verified_at": on, "evidence": []},
        actor="insp-1",
        on=on,
    )


def test_a_notice_not_passed_by_its_deadline_is_overdue() -> None:
    feed = Feed([RectificationOverdue()])
    issued = _notice(feed)  # deadline 15 March
    assert feed.findings("2024-03-15") == []
    [found] = feed.findings("2024-03-16")
    assert (found.code, found.subject_refs) == ("AF-RECT-OVERDUE", ("n-1",))
    assert found.evidence_event_ids == (issued.event_id,)
    assert found.severity == "M"
    assert "still not rectified on 2024-03-16" in found.summary


def test_a_notice_passed_late_is_overdue_and_one_passed_in_time_is_not() -> None:
    late = Feed([RectificationOverdue()])
    _notice(late)
    _verify(late, "FAILED", "2024-03-14")
    _verify(late, "PASSED", "2024-03-20")
    [found] = late.findings()
    assert "verified PASSED only on 2024-03-20" in found.summary

    timely = Feed([RectificationOverdue()])
    _notice(timely)
    _verify(timely, "PASSED", "2024-03-15")
    assert timely.findings("2024-06-01") == []


def test_an_extended_deadline_counts() -> None:
    feed = Feed([RectificationOverdue()])
    _notice(feed)
    _extend(feed, "2024-03-29")
    assert feed.findings("2024-03-29") == []
    assert [f.code for f in feed.findings("2024-04-01")] == ["AF-RECT-OVERDUE"]


def _problem(feed: Feed, finding_id: str, on: str, location: str = "village clinic") -> DomainEvent:
    return feed.event(
        "FindingRecorded",
        "insp-1",
        {
            "finding_id": finding_id,
            "target_org_id": "village-1",
            "category": "SANITATION",
            "location": location,
            "description": "rubbish piled at the entrance",
            "severity": "MEDIUM",
            "first_occurrence": finding_id == "f-1",
            "related_refs": {"indicator_id": None, "enrolment_id": None, "fund_account_id": None},
            "evidence": [{"kind": "PHOTO", "sha256": "f" * 64}],
        },
        actor="insp-1",
        on=on,
    )


def test_a_problem_found_again_within_90_days_of_passing_recurs() -> None:
    feed = Feed([RecurringProblem()])
    old = _problem(feed, "f-1", "2024-02-20")
    _notice(feed)
    passed = _verify(feed, "PASSED", "2024-03-14")
    _problem(feed, "f-2", "2024-03-20", location="school")  # elsewhere: not a recurrence
    again = _problem(feed, "f-3", "2024-06-12")  # 90 days after 14 March
    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-RECT-RECURRING", ("f-3",))
    assert found.evidence_event_ids == (old.event_id, passed.event_id, again.event_id)
    assert found.severity == "M"
    assert "90 days after" in found.summary


def test_a_problem_found_again_after_90_days_or_never_rectified_does_not_recur() -> None:
    feed = Feed([RecurringProblem()])
    _problem(feed, "f-1", "2024-02-20")
    _notice(feed)
    _problem(feed, "f-2", "2024-03-01")  # not rectified yet: still the same problem
    _verify(feed, "PASSED", "2024-03-14")
    _problem(feed, "f-3", "2024-06-13")  # 91 days later
    assert feed.findings() == []
