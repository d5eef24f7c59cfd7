"""AF-ELIG-PERIODIC-REVIEW-MISSING: an active 特困 enrolment re-verified every 12 months."""

from __future__ import annotations

from datetime import date

from ledger.domain.model import DomainEvent
from ledger.findings.reviews import PeriodicReviewMissing, months_later
from tests.unit.findings.builders import Feed


def _enrol(feed: Feed, programme: str = "TEKUN", enrolment: str = "enr-1") -> DomainEvent:
    return feed.event(
        "BeneficiaryEnrolled",
        enrolment,
        {
            "enrolment_id": enrolment,
            "application_id": "app-1",
            "person_id": "p-1",
            "household_id": "hh-1",
            "programme_code": programme,
            "support_mode": "DISPERSED",
            "institution_id": None,
            "annual_amount_fen": 600_000,
            "standard_ref": "00000000-0000-0000-0000-000000000001",
            "first_payable_period": "2024-02",
            "payment_account_id": "acc-1",
            "dossier_id": "dos-1",
        },
        actor="approver-1",
        on="2024-01-15",
    )


def _review(feed: Feed, on: str, review_type: str = "ANNUAL_SPOT_CHECK") -> DomainEvent:
    return feed.event(
        "PeriodicReviewCompleted",
        "enr-1",
        {"review_type": review_type, "outcome": "CONTINUE"},
        actor="checker-1",
        on=on,
    )


def test_months_later_keeps_the_day_or_takes_the_last_of_a_shorter_month() -> None:
    assert months_later(date(2024, 1, 15), 12) == date(2025, 1, 15)
    assert months_later(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert months_later(date(2023, 12, 31), 2) == date(2024, 2, 29)


def test_no_annual_check_within_12_months_of_enrolment_is_found() -> None:
    feed = Feed([PeriodicReviewMissing()])
    enrolled = _enrol(feed)
    _review(feed, "2024-06-01", review_type="INCOME_RECHECK")  # not the annual check
    assert feed.findings("2025-01-15") == []
    [found] = feed.findings("2025-01-16")
    assert (found.code, found.subject_refs) == ("AF-ELIG-PERIODIC-REVIEW-MISSING", ("enr-1",))
    assert found.evidence_event_ids == (enrolled.event_id,)
    assert found.severity == "M"
    assert "due by 2025-01-15" in found.summary


def test_the_12_months_run_from_the_last_annual_check() -> None:
    feed = Feed([PeriodicReviewMissing()])
    enrolled = _enrol(feed)
    checked = _review(feed, "2024-11-20")
    assert feed.findings("2025-11-20") == []
    [found] = feed.findings("2025-11-21")
    assert found.evidence_event_ids == (enrolled.event_id, checked.event_id)


def test_terminated_or_non_tekun_enrolments_are_not_due() -> None:
    feed = Feed([PeriodicReviewMissing()])
    _enrol(feed)
    feed.event(
        "TerminationDecided",
        "enr-1",
        {"effective_period": "2024-09", "reasons": ["moved away"], "notice_id": "n-9"},
        actor="approver-1",
        on="2024-08-20",
    )
    _enrol(feed, programme="DIBAO_RURAL", enrolment="enr-2")
    assert feed.findings("2026-01-01") == []
