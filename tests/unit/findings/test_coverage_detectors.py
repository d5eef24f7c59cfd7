"""AF-PAY-ARREARS and AF-ELIG-LOST-COVERAGE (unpaid runs; terminations without procedure)."""

from __future__ import annotations

from ledger.findings.coverage import PaymentGaps, TerminationWithoutProcedure
from tests.unit.domain.case_builders import programme_payload
from tests.unit.findings.builders import Feed, legacy, programme

SHA = "9" * 64


def _enrol(feed: Feed, enrolment: str, first: str = "2024-02") -> None:
    feed.event(
        "BeneficiaryEnrolled",
        enrolment,
        {
            "enrolment_id": enrolment,
            "application_id": f"app-{enrolment}",
            "person_id": f"p-{enrolment}",
            "household_id": f"hh-{enrolment}",
            "programme_code": "TEKUN",
            "support_mode": "DISPERSED",
            "institution_id": None,
            "annual_amount_fen": 130_000,
            "standard_ref": "00000000-0000-0000-0000-000000000001",
            "first_payable_period": first,
            "payment_account_id": "acc-1",
            "dossier_id": f"dos-{enrolment}",
        },
        actor="approver-1",
        on="2024-01-15",
    )


def _roll(feed: Feed, period: str, paid: list[str], unpaid: tuple[str, ...] = ()) -> None:
    """A roll for ``period`` with a line for every enrolment in ``paid`` and ``unpaid``; the
    bank settles the ``paid`` ones."""
    lines = [
        {
            "line_id": f"{period}-{e}",
            "enrolment_id": e,
            "person_id": f"p-{e}",
            "component": "BASIC_LIVING",
            "amount_fen": 10_834,
            "channel": "ONE_CARD",
            "account_id": "acc-1",
        }
        for e in [*paid, *unpaid]
    ]
    batch = f"b-{period}"
    feed.event(
        "PaymentBatchPrepared",
        batch,
        {
            "batch_id": batch,
            "programme_code": "TEKUN",
            "admin_unit_id": "county-1",
            "period": period,
            "fund_account_id": "fund-1",
            "lines": lines,
            "total_fen": 10_834 * len(lines),
        },
        actor="preparer-1",
        on=f"{period}-01",
    )
    for enrolment in paid:
        feed.event(
            "PaymentSettled",
            batch,
            {
                "line_id": f"{period}-{enrolment}",
                "amount_fen": 10_834,
                "value_date": f"{period}-08",
                "bank_ref": "BR",
            },
            actor="bank-agent-1",
            on=f"{period}-08",
        )


def _tick(feed: Feed, on: str) -> None:
    feed.event(
        "CircumstanceChangeReported",
        "enr-other",
        {"change_type": "OTHER", "observed_on": on, "evidence": []},
        actor="vcm-1",
        on=on,
    )


def _year(feed: Feed, skip: dict[str, set[str]]) -> None:
    """Rolls for February to June 2024 for enr-1 and enr-2, leaving out ``skip[period]``."""
    for month in ("02", "03", "04", "05", "06"):
        period = f"2024-{month}"
        left_out = skip.get(period, set())
        # enr-0 (enrolled elsewhere) is always paid: the roll for the period was run.
        _roll(feed, period, [e for e in ("enr-0", "enr-1", "enr-2") if e not in left_out])


def test_everyone_paid_every_rolled_month_is_clean() -> None:
    feed = Feed([PaymentGaps()])
    programme(feed)
    _enrol(feed, "enr-1")
    _enrol(feed, "enr-2")
    _year(feed, {})
    _tick(feed, "2024-12-31")  # no roll after June: the data ends, nobody is in arrears

    assert feed.findings() == []


def test_one_month_left_out_of_the_roll_is_arrears_once_the_grace_is_over() -> None:
    feed = Feed([PaymentGaps()])
    programme(feed)
    _enrol(feed, "enr-1")
    _enrol(feed, "enr-2")
    _roll(feed, "2024-02", ["enr-1", "enr-2"])
    _roll(feed, "2024-03", ["enr-1"])  # enr-2 left out
    _tick(feed, "2024-04-30")  # March ended 31 March; 30 days' grace end on 30 April
    assert feed.findings() == []

    _tick(feed, "2024-05-01")

    [found] = feed.findings()
    assert (found.code, found.subject_refs, found.severity) == (
        "AF-PAY-ARREARS",
        ("enr-2", "2024-03"),
        "H",
    )
    assert found.admin_unit_id == "county-1"


def test_a_failed_line_never_reissued_is_arrears() -> None:
    feed = Feed([PaymentGaps()])
    programme(feed)
    _enrol(feed, "enr-1")
    _roll(feed, "2024-02", ["enr-1"])
    _roll(feed, "2024-03", [], unpaid=("enr-1",))
    feed.event(
        "PaymentFailed",
        "b-2024-03",
        {"line_id": "2024-03-enr-1", "reason": "account closed"},
        actor="bank-agent-1",
        on="2024-03-09",
    )
    _roll(feed, "2024-04", ["enr-1"])
    _tick(feed, "2024-06-30")

    assert feed.codes() == [("AF-PAY-ARREARS", ("enr-1", "2024-03"))]


def test_payments_stopping_for_two_months_is_lost_coverage_not_two_arrears() -> None:
    feed = Feed([PaymentGaps()])
    programme(feed)
    _enrol(feed, "enr-1")
    _enrol(feed, "enr-2")
    _year(feed, {"2024-04": {"enr-2"}, "2024-05": {"enr-2"}, "2024-06": {"enr-2"}})
    _tick(feed, "2024-09-01")

    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-ELIG-LOST-COVERAGE", ("enr-2", "2024-04"))
    assert "stopped for 3 periods (2024-04 to 2024-06)" in found.summary


def test_months_after_the_end_or_in_a_suspension_are_not_owed() -> None:
    feed = Feed([PaymentGaps()])
    programme(feed)
    _enrol(feed, "enr-1")
    _enrol(feed, "enr-2")
    feed.event(
        "TerminationDecided",
        "enr-1",
        {"effective_period": "2024-04", "reasons": ["income"], "notice_id": "n-1"},
        actor="approver-1",
        on="2024-03-20",
    )
    feed.event(
        "BeneficiarySuspended",
        "enr-2",
        {"reason": "whereabouts unknown", "from_period": "2024-04", "to_period": None},
        actor="approver-1",
        on="2024-03-25",
    )
    feed.event(
        "BeneficiaryReinstated",
        "enr-2",
        {"reason": "found", "from_period": "2024-06", "to_period": None},
        actor="approver-1",
        on="2024-05-25",
    )
    _year(
        feed,
        {
            "2024-04": {"enr-1", "enr-2"},
            "2024-05": {"enr-1", "enr-2"},
            "2024-06": {"enr-1"},
        },
    )
    _tick(feed, "2024-12-31")

    assert feed.findings() == []


def test_a_quarterly_programme_owes_only_its_quarter_months() -> None:
    feed = Feed([PaymentGaps()])
    feed.event(
        "ProgrammeDefined",
        "TEKUN",
        programme_payload("TEKUN", payment_frequency="QUARTERLY"),
        actor="admin-1",
        on="2024-01-02",
    )
    _enrol(feed, "enr-1", first="2024-01")
    _roll(feed, "2024-01", ["enr-1"])
    _roll(feed, "2024-04", [], unpaid=("enr-1",))
    _tick(feed, "2024-07-30")  # Q2 ended 30 June; grace ends 30 July
    assert feed.findings() == []

    _tick(feed, "2024-07-31")
    assert feed.codes() == [("AF-PAY-ARREARS", ("enr-1", "2024-04"))]


# --- terminations without their procedure --------------------------------------------------------


def _propose(feed: Feed, reason: str, evidence: list[str]) -> None:
    feed.event(
        "TerminationProposed",
        "enr-1",
        {"reason_code": reason, "evidence": evidence, "death_date": None},
        actor="approver-1",
        on="2024-04-01",
    )


def _terminate(feed: Feed, notice_id: str | None, on: str = "2024-04-20") -> None:
    feed.event(
        "TerminationDecided",
        "enr-1",
        {"effective_period": "2024-05", "reasons": ["no longer eligible"], "notice_id": notice_id},
        actor="approver-1",
        on=on,
    )


def _termination_notice(feed: Feed, closed_on: str | None) -> None:
    feed.event(
        "PublicNoticePosted",
        "tn-1",
        {
            "notice_id": "tn-1",
            "kind": "TERMINATION",
            "subject_ids": ["enr-1"],
            "location_org_id": "village-1",
            "start_date": "2024-04-02",
            "end_date": "2024-04-08",
            "content_sha256": SHA,
        },
        actor="reviewer-1",
        on="2024-04-02",
    )
    if closed_on is not None:
        feed.event(
            "PublicNoticeClosed", "tn-1", {"closed_on": closed_on}, actor="reviewer-1", on=closed_on
        )


def _termination_feed() -> Feed:
    feed = Feed([TerminationWithoutProcedure()])
    programme(feed)  # TEKUN waives the notice for DECEASED and VOLUNTARY
    _enrol(feed, "enr-1")
    return feed


def test_a_termination_after_a_closed_notice_or_with_a_waived_reason_is_clean() -> None:
    feed = _termination_feed()
    _propose(feed, "NO_LONGER_ELIGIBLE", [SHA])
    _termination_notice(feed, closed_on="2024-04-09")
    _terminate(feed, "tn-1")
    assert feed.findings() == []

    waived = _termination_feed()
    _propose(waived, "DECEASED", [SHA])
    _terminate(waived, None)
    assert waived.findings() == []


def test_a_termination_with_no_notice_for_a_reason_that_needs_one_is_lost_coverage() -> None:
    feed = _termination_feed()
    _propose(feed, "NO_LONGER_ELIGIBLE", [SHA])
    _terminate(feed, None)

    [found] = feed.findings()
    assert (found.code, found.rule_ref, found.severity) == ("AF-ELIG-LOST-COVERAGE", "TRM-1", "H")
    assert "without a termination notice (reason NO_LONGER_ELIGIBLE is not waived)" in (
        found.summary
    )


def test_a_termination_before_its_notice_closed_is_lost_coverage() -> None:
    feed = _termination_feed()
    _propose(feed, "NO_LONGER_ELIGIBLE", [SHA])
    _termination_notice(feed, closed_on=None)
    _terminate(feed, "tn-1")

    [found] = feed.findings()
    assert "before its notice tn-1 was closed" in found.summary


def test_a_termination_with_no_evidence_at_all_is_lost_coverage_and_a_report_supports_it() -> None:
    feed = _termination_feed()
    _propose(feed, "DECEASED", [])
    _terminate(feed, None)
    [found] = feed.findings()
    assert "with no evidence for its reason" in found.summary

    reported = _termination_feed()
    reported.event(
        "CircumstanceChangeReported",
        "enr-1",
        {"change_type": "DEATH", "observed_on": "2024-03-30", "evidence": []},
        actor="vcm-1",
        on="2024-03-30",
    )
    _propose(reported, "DECEASED", [])
    _terminate(reported, None)
    assert reported.findings() == []


def _legacy_termination(feed: Feed, record_id: str, **fields: object) -> None:
    record: dict[str, object] = {
        "type": "TERMINATION",
        "enrolment_id": f"old-enr-{record_id}",
        "person_id": "p-old",
        "programme_code": "WUBAO",
        "reason_code": "NO_LONGER_ELIGIBLE",
        "decided_on": "2019-06-20",
        "notice_id": "old-tn",
        "notice_closed_on": "2019-06-15",
        "evidence": [SHA],
    }
    record.update(fields)
    legacy(feed, record_id, record)


def test_legacy_terminations_are_judged_on_their_notice_and_evidence() -> None:
    feed = Feed([TerminationWithoutProcedure()])  # WUBAO is defined nowhere: TRM-1 defaults
    _legacy_termination(feed, "t-ok")
    _legacy_termination(feed, "t-dead", reason_code="DECEASED", notice_id=None)
    assert feed.findings() == []

    _legacy_termination(feed, "t-no-notice", notice_id=None, notice_closed_on=None)
    _legacy_termination(feed, "t-open", notice_closed_on=None)
    _legacy_termination(feed, "t-late", notice_closed_on="2019-06-21")
    _legacy_termination(feed, "t-bare", evidence=[])

    found = {f.subject_refs[0]: f.summary for f in feed.findings()}
    assert set(found) == {
        "old-enr-t-no-notice",
        "old-enr-t-open",
        "old-enr-t-late",
        "old-enr-t-bare",
    }
    assert "without a termination notice" in found["old-enr-t-no-notice"]
    assert "before its notice old-tn was closed" in found["old-enr-t-late"]
    assert "with no evidence" in found["old-enr-t-bare"]
    assert all(s.startswith("legacy enrolment") for s in found.values())
