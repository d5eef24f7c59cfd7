"""AF-PAY-NOT-IN-FULL, AF-SUR-DONTKNOW and AF-COR-NEAR-DECISION detectors."""

from __future__ import annotations

from typing import Any

from ledger.domain.model import DomainEvent
from ledger.findings.corrections import CorrectionNearDecision
from ledger.findings.shortfalls import PaymentNotInFull
from ledger.findings.survey import SurveyDontKnow
from tests.unit.findings.builders import Feed
from tests.unit.findings.test_payment_detectors import _batch, _settle

SHA = "d" * 64
AUTHORISED = 10_834
"""What ``_batch`` authorises per line."""


def _returned(feed: Feed, line_id: str, amount_fen: int) -> DomainEvent:
    return feed.event(
        "PaymentReturned",
        "b-1",
        {"line_id": line_id, "amount_fen": amount_fen, "reason": "account closed"},
        actor="bank-agent-1",
        on="2024-03-12",
    )


def _reissue(feed: Feed, original: str, new: str) -> DomainEvent:
    return feed.event(
        "PaymentLineReissued",
        "b-1",
        {"original_line_id": original, "new_line_id": new, "account_id": "acc-2"},
        actor="preparer-1",
        on="2024-03-15",
    )


def test_a_line_settled_short_is_not_paid_in_full() -> None:
    feed = Feed([PaymentNotInFull()])
    line = _batch(feed, "b-1", "2024-03")
    _settle(feed, "b-1", line, "2024-03-08", amount_fen=AUTHORISED - 834)
    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-PAY-NOT-IN-FULL", (line,))
    assert found.severity == "M"
    assert (found.period, found.admin_unit_id) == ("2024-03", "county-1")
    assert "10834 fen authorised, 10000 fen paid" in found.summary
    assert "834 fen short" in found.summary


def test_a_payment_partly_returned_is_not_paid_in_full() -> None:
    feed = Feed([PaymentNotInFull()])
    line = _batch(feed, "b-1", "2024-03")
    _settle(feed, "b-1", line, "2024-03-08")
    _returned(feed, line, 4_000)
    [found] = feed.findings()
    assert "6834 fen paid" in found.summary


def test_a_returned_line_reissued_and_paid_in_full_is_no_finding() -> None:
    feed = Feed([PaymentNotInFull()])
    line = _batch(feed, "b-1", "2024-03")
    _settle(feed, "b-1", line, "2024-03-08")
    _returned(feed, line, AUTHORISED)
    assert feed.findings() == []  # not paid at all (yet) is arrears, not this finding
    _reissue(feed, line, "b-1-l1-r")
    _settle(feed, "b-1", "b-1-l1-r", "2024-03-18")
    assert feed.findings() == []


def test_a_reissue_settled_short_is_found_citing_the_whole_chain() -> None:
    feed = Feed([PaymentNotInFull()])
    line = _batch(feed, "b-1", "2024-03")
    _settle(feed, "b-1", line, "2024-03-08")
    returned = _returned(feed, line, AUTHORISED)
    reissued = _reissue(feed, line, "b-1-l1-r")
    _settle(feed, "b-1", "b-1-l1-r", "2024-03-18", amount_fen=5_000)
    [found] = feed.findings()
    assert found.subject_refs == (line,)
    assert returned.event_id in found.evidence_event_ids
    assert reissued.event_id in found.evidence_event_ids
    assert len(found.evidence_event_ids) == 5  # prepared, settled, returned, reissued, settled


def test_a_line_paid_in_full_is_no_finding() -> None:
    feed = Feed([PaymentNotInFull()])
    line = _batch(feed, "b-1", "2024-03")
    _settle(feed, "b-1", line, "2024-03-08")
    assert feed.findings() == []


def _answers(feed: Feed, token: str, answers: list[Any]) -> DomainEvent:
    return feed.event(
        "SurveyResponsesRecorded",
        "sur-1",
        {
            "subject_org_id": "county-1",
            "category": "RESIDENTS",
            "respondents": 1,
            "respondent_token": token,
            "answers": [{"indicator_id": f"q{i}", "answer": a} for i, a in enumerate(answers)],
            "aggregate": None,
        },
        actor="admin-1",  # detectors read the log; the role is not re-checked
        on="2024-11-05",
    )


def _aggregate(feed: Feed, valid: int, dont_know: int) -> DomainEvent:
    return feed.event(
        "SurveyResponsesRecorded",
        "sur-1",
        {
            "subject_org_id": "county-1",
            "category": "RESIDENTS",
            "respondents": valid + dont_know,
            "respondent_token": None,
            "answers": None,
            "aggregate": [
                {"indicator_id": "q0", "n_valid": valid, "n_dont_know": dont_know, "sum": valid}
            ],
        },
        actor="admin-1",  # detectors read the log; the role is not re-checked
        on="2024-11-05",
    )


def _close(feed: Feed) -> DomainEvent:
    return feed.event(
        "SurveyFieldworkCompleted",
        "sur-1",
        {
            "period": "2024-11",
            "samples_per_category": [{"category": "RESIDENTS", "samples": 10}],
            "note": None,
        },
        actor="admin-1",  # detectors read the log; the role is not re-checked
        on="2024-11-20",
    )


def test_more_than_30_percent_dont_know_is_found_once_fieldwork_is_closed() -> None:
    feed = Feed([SurveyDontKnow()])
    steered = _answers(feed, "t-1", ["DONT_KNOW", "DONT_KNOW", 9])
    _answers(feed, "t-2", [8, 9, 10])
    _aggregate(feed, valid=3, dont_know=1)  # 3 don't-know of 10 answers so far: 30 %
    assert feed.findings() == []  # fieldwork still open
    closed = _close(feed)
    assert feed.findings() == []  # exactly 30 % is not above it
    extra = _answers(feed, "t-3", ["DONT_KNOW"])  # 4 of 11
    [found] = feed.findings()
    assert found.code == "AF-SUR-DONTKNOW"
    assert found.subject_refs == ("sur-1", "county-1")
    assert found.severity == "L"
    assert "4 of 11 answers" in found.summary
    assert steered.event_id in found.evidence_event_ids
    assert extra.event_id in found.evidence_event_ids
    assert closed.event_id in found.evidence_event_ids


def _investigation(feed: Feed) -> DomainEvent:
    return feed.event(
        "HouseholdInvestigationCompleted",
        "app-1",
        {
            "investigator_actor_ids": ["inv-1", "inv-2"],
            "methods": ["HOME_VISIT"],
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


def _approve(feed: Feed, on: str, app: str = "app-1") -> DomainEvent:
    return feed.event(
        "ApplicationApproved",
        app,
        {
            "support_mode": "DISPERSED",
            "institution_id": None,
            "standard_ref": "00000000-0000-0000-0000-000000000001",
            "annual_amount_fen": 600_000,
            "first_payable_period": "2024-05",
            "dossier_id": "dos-1",
            "household_treatment": "NORMAL",
            "spot_check_batch_id": "batch-1",
        },
        actor="approver-1",
        on=on,
    )


def _correct(feed: Feed, target: DomainEvent, on: str) -> DomainEvent:
    return feed.event(
        "CorrectionRecorded",
        "cal",
        {
            "correction_id": f"cor-{on}",
            "target_event_id": target.event_id,
            "correction_type": "DATA_ENTRY_ERROR",
            "replacement_payload": None,
            "reason": "typo in the income figure",
            "cosignatures": [],
        },
        actor="inv-1",
        on=on,
    )


def test_a_correction_of_the_investigation_days_before_the_approval_is_found() -> None:
    feed = Feed([CorrectionNearDecision()])
    investigated = _investigation(feed)
    corrected = _correct(feed, investigated, "2024-03-25")
    approved = _approve(feed, "2024-04-04")  # 10 days later: still near
    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-COR-NEAR-DECISION", (corrected.event_id,))
    assert found.evidence_event_ids == (
        corrected.event_id,
        investigated.event_id,
        approved.event_id,
    )
    assert found.severity == "M"


def test_a_correction_of_a_notice_after_the_approval_of_its_subject_is_found() -> None:
    feed = Feed([CorrectionNearDecision()])
    posted = feed.event(
        "PublicNoticePosted",
        "notice-1",
        {
            "notice_id": "notice-1",
            "kind": "PRELIMINARY_OPINION",
            "subject_ids": ["app-1"],
            "location_org_id": "village-1",
            "start_date": "2024-03-10",
            "end_date": "2024-03-16",
            "content_sha256": SHA,
        },
        actor="reviewer-1",
        on="2024-03-10",
    )
    _approve(feed, "2024-03-20")
    _correct(feed, posted, "2024-03-22")
    [found] = feed.findings()
    assert "PublicNoticePosted" in found.summary


def test_corrections_far_from_decisions_or_of_other_cases_are_no_finding() -> None:
    feed = Feed([CorrectionNearDecision()])
    investigated = _investigation(feed)
    _correct(feed, investigated, "2024-03-24")
    _approve(feed, "2024-04-04")  # 11 days after the correction
    _approve(feed, "2024-03-24", app="app-2")  # another case, same day
    assert feed.findings() == []
