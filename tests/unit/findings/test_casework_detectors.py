"""AF-APP-THIN-INVESTIGATION, AF-APP-DEFICIENCY-REPEAT, AF-APP-NO-RESULT-PUBLICATION and
AF-APP-REJECT-NO-REASON detectors."""

from __future__ import annotations

from ledger.domain.model import DomainEvent
from ledger.findings.casework import (
    RejectionWithoutReason,
    RepeatedDeficiency,
    ResultNotPublished,
    ThinInvestigation,
)
from tests.unit.findings.builders import Feed

SHA = "c" * 64
STANDARD = "00000000-0000-0000-0000-000000000001"


def _submit(feed: Feed, app: str = "app-1") -> None:
    feed.event(
        "ApplicationSubmitted",
        app,
        {
            "application_id": app,
            "programme_code": "TEKUN",
            "applicant_person_id": "p-1",
            "applicant_identity_hmac": SHA,
            "household_id": "hh-1",
            "members": [],
            "channel": "IN_PERSON",
            "agent_person_id": None,
            "township_org_id": "township-1",
            "residence_org_id": "village-1",
            "category": "ELDERLY",
            "health_flags": [],
            "materials": [],
            "obligor_person_ids": [],
            "referral_from_enrolment_id": None,
        },
        actor="clerk-1",
        on="2024-03-01",
    )


def _investigate(feed: Feed, methods: list[str], investigators: list[str]) -> DomainEvent:
    return feed.event(
        "HouseholdInvestigationCompleted",
        "app-1",
        {
            "investigator_actor_ids": investigators,
            "methods": methods,
            "findings": {
                "registered_in_province": True,
                "no_labour_capacity": True,
                "no_income_source": True,
                "no_capable_obligor": True,
                "per_capita_income_fen": 0,
                "dependency_level": "FULL",
            },
            "evidence": [SHA],
        },
        actor="inv-1",
        on="2024-03-05",
    )


def test_an_investigation_by_data_matching_only_is_thin() -> None:
    feed = Feed([ThinInvestigation()])
    _submit(feed)
    thin = _investigate(feed, ["DATA_MATCH", "LETTER_EVIDENCE"], ["inv-1", "inv-2"])
    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-APP-THIN-INVESTIGATION", ("app-1",))
    assert found.evidence_event_ids == (thin.event_id,)
    assert found.severity == "M"
    assert found.admin_unit_id == "township-1"
    assert "no home visit" in found.summary


def test_an_investigation_by_a_single_person_is_thin() -> None:
    feed = Feed([ThinInvestigation()])
    _submit(feed)
    _investigate(feed, ["HOME_VISIT"], ["inv-1"])
    [found] = feed.findings()
    assert "1 investigator(s)" in found.summary


def test_a_home_visit_by_two_investigators_is_not_thin() -> None:
    feed = Feed([ThinInvestigation()])
    _submit(feed)
    _investigate(feed, ["HOME_VISIT", "DATA_MATCH"], ["inv-1", "inv-2"])
    assert feed.findings() == []


def _incomplete(feed: Feed, items: list[str], on: str) -> DomainEvent:
    return feed.event(
        "ApplicationMaterialsIncompleteNotified",
        "app-1",
        {"missing_items": items, "channel": "WRITTEN"},
        actor="clerk-1",
        on=on,
    )


def test_a_later_notice_asking_for_a_new_item_is_piecemeal() -> None:
    feed = Feed([RepeatedDeficiency()])
    _submit(feed)
    first = _incomplete(feed, ["ID_PROOF"], "2024-03-02")
    second = _incomplete(feed, ["ID_PROOF", "HOUSEHOLD_REGISTER"], "2024-03-09")
    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-APP-DEFICIENCY-REPEAT", ("app-1",))
    assert found.evidence_event_ids == (first.event_id, second.event_id)
    assert found.severity == "L"
    assert "HOUSEHOLD_REGISTER" in found.summary
    assert "ID_PROOF" not in found.summary.split("; ")[1]


def test_one_complete_notice_or_a_re_listed_item_is_not_piecemeal() -> None:
    feed = Feed([RepeatedDeficiency()])
    _submit(feed)
    _incomplete(feed, ["ID_PROOF", "HOUSEHOLD_REGISTER"], "2024-03-02")
    assert feed.findings() == []
    # The supplement was not good enough: asking again for the same item is no finding.
    _incomplete(feed, ["ID_PROOF"], "2024-03-09")
    assert feed.findings() == []


def _approve(feed: Feed, on: str = "2024-04-01") -> DomainEvent:
    return feed.event(
        "ApplicationApproved",
        "app-1",
        {
            "support_mode": "DISPERSED",
            "institution_id": None,
            "standard_ref": STANDARD,
            "annual_amount_fen": 600_000,
            "first_payable_period": "2024-05",
            "dossier_id": "dos-1",
            "household_treatment": "NORMAL",
            "spot_check_batch_id": "batch-1",
        },
        actor="approver-1",
        on=on,
    )


def _publish(feed: Feed, on: str, app: str = "app-1") -> DomainEvent:
    return feed.event(
        "PublicNoticePosted",
        "notice-2",
        {
            "notice_id": "notice-2",
            "kind": "RESULT_PUBLICATION",
            "subject_ids": [app],
            "location_org_id": "village-1",
            "start_date": on,
            "end_date": on,
            "content_sha256": SHA,
        },
        actor="reviewer-1",
        on=on,
    )


def _tick(feed: Feed, on: str) -> None:
    """Move the detectors' clock (a posted notice about another application)."""
    feed.event(
        "PublicNoticePosted",
        "notice-x",
        {
            "notice_id": "notice-x",
            "kind": "PRELIMINARY_OPINION",
            "subject_ids": ["app-other"],
            "location_org_id": "village-1",
            "start_date": on,
            "end_date": on,
            "content_sha256": SHA,
        },
        actor="reviewer-1",
        on=on,
    )


def test_an_approval_never_published_is_found_after_10_working_days() -> None:
    feed = Feed([ResultNotPublished()])
    _submit(feed)
    approved = _approve(feed)  # Monday 1 April; + 10 working days = Monday 15 April
    _tick(feed, "2024-04-15")
    assert feed.findings() == []
    _tick(feed, "2024-04-16")
    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-APP-NO-RESULT-PUBLICATION", ("app-1",))
    assert found.evidence_event_ids == (approved.event_id,)
    assert found.severity == "M"
    assert "due by 2024-04-15" in found.summary


def test_a_late_result_publication_is_found_and_a_timely_one_is_not() -> None:
    late = Feed([ResultNotPublished()])
    _submit(late)
    approved = _approve(late)
    posted = _publish(late, "2024-04-16")
    [found] = late.findings()
    assert found.evidence_event_ids == (approved.event_id, posted.event_id)

    timely = Feed([ResultNotPublished()])
    _submit(timely)
    _approve(timely)
    _publish(timely, "2024-04-15")
    _tick(timely, "2024-06-01")
    assert timely.findings() == []


def _reject(feed: Feed, on: str = "2024-04-01") -> DomainEvent:
    return feed.event(
        "ApplicationRejected",
        "app-1",
        {"reasons": ["has a regular income"], "spot_check_batch_id": None},
        actor="approver-1",
        on=on,
    )


def _notify(feed: Feed, decision: DomainEvent, reasons: list[str], on: str) -> DomainEvent:
    return feed.event(
        "DecisionNotified",
        "app-1",
        {
            "decision_event_id": decision.event_id,
            "recipients": ["p-1"],
            "channel": "WRITTEN",
            "document_sha256": SHA,
            "reasons": reasons,
        },
        actor="reviewer-1",
        on=on,
    )


def test_a_rejection_notified_without_its_reasons_is_found() -> None:
    feed = Feed([RejectionWithoutReason()])
    _submit(feed)
    rejected = _reject(feed)
    notified = _notify(feed, rejected, [], "2024-04-02")
    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-APP-REJECT-NO-REASON", ("app-1",))
    assert found.evidence_event_ids == (rejected.event_id, notified.event_id)
    assert found.severity == "M"
    assert "without its reasons" in found.summary


def test_a_rejection_never_notified_is_found_after_3_working_days() -> None:
    feed = Feed([RejectionWithoutReason()])
    _submit(feed)
    _reject(feed)  # Monday 1 April; + 3 working days = Thursday 4 April
    _tick(feed, "2024-04-04")
    assert feed.findings() == []
    _tick(feed, "2024-04-05")
    [found] = feed.findings()
    assert "has not been notified in writing by 2024-04-05" in found.summary


def test_a_rejection_notified_with_reasons_even_late_is_not_this_finding() -> None:
    feed = Feed([RejectionWithoutReason()])
    _submit(feed)
    rejected = _reject(feed)
    _notify(feed, rejected, ["has a regular income"], "2024-04-10")  # late: AF-APP-SLA's job
    _tick(feed, "2024-06-01")
    assert feed.findings() == []
