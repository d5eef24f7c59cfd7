"""AF-ELIG-SHOULD-EXIT and AF-ELIG-GRADUAL-OVERRUN detectors."""

from __future__ import annotations

from ledger.findings.exits import ExitWindowOverrun, ShouldExit
from tests.unit.findings.builders import Feed

SHA = "b" * 64


def _enrol(feed: Feed, enrolment: str = "enr-1") -> None:
    feed.event(
        "BeneficiaryEnrolled",
        enrolment,
        {
            "enrolment_id": enrolment,
            "application_id": "app-1",
            "person_id": "p-1",
            "household_id": "hh-1",
            "programme_code": "DIBAO_RURAL",
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


def _death(feed: Feed, on: str) -> None:
    feed.event(
        "CircumstanceChangeReported",
        "enr-1",
        {"change_type": "DEATH", "observed_on": on, "evidence": [SHA]},
        actor="vcm-1",
        on=on,
    )


def _propose(feed: Feed, on: str, reason: str = "DECEASED") -> None:
    feed.event(
        "TerminationProposed",
        "enr-1",
        {"reason_code": reason, "evidence": [SHA], "death_date": None},
        actor="approver-1",
        on=on,
    )


def _decide(feed: Feed, on: str, effective: str) -> None:
    feed.event(
        "TerminationDecided",
        "enr-1",
        {"effective_period": effective, "reasons": ["no longer eligible"], "notice_id": "n-9"},
        actor="approver-1",
        on=on,
    )


def _tick(feed: Feed, on: str) -> None:
    """Any later event moves the detectors' clock (here: a report on another enrolment)."""
    feed.event(
        "CircumstanceChangeReported",
        "enr-other",
        {"change_type": "OTHER", "observed_on": on, "evidence": []},
        actor="vcm-1",
        on=on,
    )


def test_a_reported_death_left_open_past_20_working_days_is_found() -> None:
    feed = Feed([ShouldExit()])
    _enrol(feed)
    _death(feed, "2024-03-01")  # a Friday; + 20 working days = 2024-03-29
    _tick(feed, "2024-03-29")
    assert feed.findings() == []  # the last day of the SLA

    _tick(feed, "2024-04-01")

    [found] = feed.findings()
    assert (found.code, found.subject_refs, found.severity) == (
        "AF-ELIG-SHOULD-EXIT",
        ("enr-1", "DEATH"),
        "H",
    )
    assert found.admin_unit_id == "county-1"
    assert "due by 2024-03-29" in found.summary


def test_a_death_acted_on_within_the_sla_is_clean() -> None:
    feed = Feed([ShouldExit()])
    _enrol(feed)
    _death(feed, "2024-03-01")
    _propose(feed, "2024-03-29")
    _tick(feed, "2024-06-01")

    assert feed.findings() == []


def test_an_exit_proposed_too_late_is_still_a_finding_citing_the_action() -> None:
    feed = Feed([ShouldExit()])
    _enrol(feed)
    _death(feed, "2024-03-01")
    _propose(feed, "2024-04-02")

    [found] = feed.findings()
    assert "acted on only on 2024-04-02" in found.summary
    assert len(found.evidence_event_ids) == 2


def test_income_above_standard_is_acted_on_by_a_gradual_exit() -> None:
    def income(feed: Feed) -> None:
        feed.event(
            "IncomeAboveStandardDetermined",
            "enr-1",
            {
                "determined_at": "2024-05-06",
                "per_capita_income_fen": 80_000,
                "standard_fen": 65_000,
            },
            actor="inv-1",
            on="2024-05-06",
        )

    ignored = Feed([ShouldExit()])
    income(ignored)
    _tick(ignored, "2024-07-01")
    assert ignored.codes() == [("AF-ELIG-SHOULD-EXIT", ("enr-1", "INCOME_ABOVE_STANDARD"))]

    handled = Feed([ShouldExit()])
    income(handled)
    handled.event(
        "GradualExitStarted",
        "enr-1",
        {"first_period": "2024-06", "last_period": "2025-05"},
        actor="approver-1",
        on="2024-05-20",
    )
    _tick(handled, "2024-07-01")
    assert handled.findings() == []


def test_a_review_proposing_termination_needs_a_decision_not_just_a_proposal() -> None:
    feed = Feed([ShouldExit()])
    feed.event(
        "PeriodicReviewCompleted",
        "enr-1",
        {"review_type": "ANNUAL_SPOT_CHECK", "outcome": "PROPOSE_TERMINATION"},
        actor="inv-1",
        on="2024-03-01",
    )
    _propose(feed, "2024-03-04", reason="NO_LONGER_ELIGIBLE")
    _tick(feed, "2024-04-15")
    assert feed.codes() == [("AF-ELIG-SHOULD-EXIT", ("enr-1", "REVIEW_PROPOSED_TERMINATION"))]

    decided = Feed([ShouldExit()])
    decided.event(
        "PeriodicReviewCompleted",
        "enr-1",
        {"review_type": "ANNUAL_SPOT_CHECK", "outcome": "PROPOSE_TERMINATION"},
        actor="inv-1",
        on="2024-03-01",
    )
    _decide(decided, "2024-03-20", "2024-04")
    _tick(decided, "2024-06-15")
    assert decided.findings() == []


def test_each_flag_of_a_village_roll_review_is_a_trigger() -> None:
    feed = Feed([ShouldExit()])
    feed.event(
        "RollReviewedByVillageAssembly",
        "review-1",
        {
            "review_id": "review-1",
            "village_org_id": "village-1",
            "programme": "DIBAO_RURAL",
            "meeting_date": "2024-03-01",
            "flagged_enrolment_ids": ["enr-1", "enr-2"],
            "minutes_sha256": SHA,
        },
        actor="vcm-1",
        on="2024-03-01",
    )
    _decide(feed, "2024-03-15", "2024-04")  # enr-1 terminated in time; enr-2 never
    _tick(feed, "2024-05-01")

    assert feed.codes() == [("AF-ELIG-SHOULD-EXIT", ("enr-2", "ROLL_REVIEW_FLAG"))]


def test_an_enrolment_terminated_before_the_report_is_clean_and_the_sla_is_configurable() -> None:
    feed = Feed([ShouldExit(sla_working_days=5)])
    _decide(feed, "2024-02-20", "2024-03")
    _death(feed, "2024-03-01")
    _tick(feed, "2024-06-01")
    assert feed.findings() == []

    strict = Feed([ShouldExit(sla_working_days=5)])
    _death(strict, "2024-03-01")
    _tick(strict, "2024-03-11")  # 5 working days after 2024-03-01 is 2024-03-08
    [found] = strict.findings()
    assert "(5 working days)" in found.summary


def test_a_gradual_exit_longer_than_12_months_and_a_voluntary_exit_over_3_are_found() -> None:
    feed = Feed([ExitWindowOverrun()])
    feed.event(
        "GradualExitStarted",
        "enr-1",
        {"first_period": "2024-06", "last_period": "2025-05"},  # 12 months: fine
        actor="approver-1",
        on="2024-05-20",
    )
    feed.event(
        "VoluntaryExitGranted",
        "enr-2",
        {"months": 3, "amount_fen": 195_000},
        actor="approver-1",
        on="2024-05-20",
    )
    assert feed.findings() == []

    feed.event(
        "GradualExitStarted",
        "enr-3",
        {"first_period": "2024-06", "last_period": "2025-06"},
        actor="approver-1",
        on="2024-05-20",
    )
    feed.event(
        "VoluntaryExitGranted",
        "enr-4",
        {"months": 6, "amount_fen": 390_000},
        actor="approver-1",
        on="2024-05-21",
    )

    found = {f.subject_refs: f for f in feed.findings()}
    assert set(found) == {
        ("enr-3", "GradualExitStarted"),
        ("enr-4", "VoluntaryExitGranted"),
    }
    assert found["enr-3", "GradualExitStarted"].rule_ref == "TRM-4"
    assert "13 months" in found["enr-3", "GradualExitStarted"].summary
    assert found["enr-4", "VoluntaryExitGranted"].rule_ref == "TRM-5"
    assert all(f.code == "AF-ELIG-GRADUAL-OVERRUN" for f in found.values())
