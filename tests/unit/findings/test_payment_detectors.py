"""AF-PAY-AFTER-EXIT, AF-FUND-OFF-EARMARK and AF-PAY-UNAUTHORISED detectors."""

from __future__ import annotations

from ledger.findings.payments import PaidAfterExit, PaymentIntegrity, UnauthorisedMoney
from tests.unit.findings.builders import Feed

SHA = "a" * 64


def _batch(
    feed: Feed, batch_id: str, period: str, enrolment: str = "enr-1", channel: str = "ONE_CARD"
) -> str:
    line_id = f"{batch_id}-l1"
    feed.event(
        "PaymentBatchPrepared",
        batch_id,
        {
            "batch_id": batch_id,
            "programme_code": "TEKUN",
            "admin_unit_id": "county-1",
            "period": period,
            "fund_account_id": "fund-1",
            "lines": [
                {
                    "line_id": line_id,
                    "enrolment_id": enrolment,
                    "person_id": "p-1",
                    "component": "BASIC_LIVING",
                    "amount_fen": 10_834,
                    "channel": channel,
                    "account_id": "acc-1",
                }
            ],
            "total_fen": 10_834,
        },
        actor="preparer-1",
        on=f"{period}-01",
    )
    feed.event(
        "PaymentBatchApproved",
        batch_id,
        {"approved_on": f"{period}-02"},
        actor="pay-approver-1",
        on=f"{period}-02",
    )
    return line_id


def _settle(feed: Feed, batch_id: str, line_id: str, day: str, amount_fen: int = 10_834) -> None:
    feed.event(
        "PaymentSettled",
        batch_id,
        {"line_id": line_id, "amount_fen": amount_fen, "value_date": day, "bank_ref": "BR1"},
        actor="bank-agent-1",
        on=day,
    )


def _death(feed: Feed, day: str, enrolment: str = "enr-1") -> None:
    feed.event(
        "CircumstanceChangeReported",
        enrolment,
        {"change_type": "DEATH", "observed_on": day, "evidence": [SHA]},
        actor="vcm-1",
        on=day,
    )


def _pay_months(feed: Feed, months: list[str]) -> None:
    for month in months:
        line = _batch(feed, f"b-{month}", month)
        _settle(feed, f"b-{month}", line, f"{month}-08")


def test_payments_after_a_reported_death_are_one_finding_citing_the_report_and_lines() -> None:
    feed = Feed([PaidAfterExit()])
    _pay_months(feed, ["2024-03", "2024-04"])
    _death(feed, "2024-04-20")
    _pay_months(feed, ["2024-05", "2024-06"])

    [found] = feed.findings()

    assert (found.code, found.subject_refs, found.period) == (
        "AF-PAY-AFTER-EXIT",
        ("enr-1",),
        "2024-05",
    )
    assert found.severity == "H"
    assert "2024-05, 2024-06" in found.summary
    assert len(found.evidence_event_ids) == 1 + 2 * 2  # the report, and each batch + settlement


def test_a_death_reported_late_still_reveals_the_payments_made_after_it() -> None:
    feed = Feed([PaidAfterExit()])
    _pay_months(feed, ["2024-03", "2024-04", "2024-05"])
    _death(feed, "2024-03-31")  # reported after the bank paid April and May

    assert feed.codes() == [("AF-PAY-AFTER-EXIT", ("enr-1",))]


def test_payments_up_to_the_month_of_death_are_clean() -> None:
    feed = Feed([PaidAfterExit()])
    _pay_months(feed, ["2024-03", "2024-04"])
    _death(feed, "2024-04-02")

    assert feed.findings() == []


def test_payment_after_the_last_period_of_a_termination_is_found() -> None:
    feed = Feed([PaidAfterExit()])
    feed.event(
        "TerminationProposed",
        "enr-1",
        {"reason_code": "NO_LONGER_ELIGIBLE", "evidence": [], "death_date": None},
        actor="approver-1",
        on="2024-04-01",
    )
    feed.event(
        "TerminationDecided",
        "enr-1",
        {"effective_period": "2024-05", "reasons": ["income"], "notice_id": "n-1"},
        actor="approver-1",
        on="2024-04-20",
    )
    _pay_months(feed, ["2024-04"])
    assert feed.findings() == []

    _pay_months(feed, ["2024-05"])

    assert feed.codes() == [("AF-PAY-AFTER-EXIT", ("enr-1",))]


def test_a_prepared_but_unsettled_line_after_death_is_not_a_payment() -> None:
    feed = Feed([PaidAfterExit()])
    _death(feed, "2024-04-02")
    _batch(feed, "b-2024-05", "2024-05")

    assert feed.findings() == []


def _account(feed: Feed) -> None:
    feed.event(
        "FundAccountOpened",
        "fund-1",
        {
            "fund_account_id": "fund-1",
            "owner_org_id": "county-1",
            "bank_account_ref_hmac": SHA,
            "ledger_id": "ledger-tekun-2024",
            "programme_codes": ["TEKUN"],
            "purposes": ["BASIC_LIVING", "CARE"],
            "fiscal_year": 2024,
        },
        actor="finance-1",
        on="2024-01-02",
    )


def _observed(feed: Feed, purpose: str, observation: str = "obs-1") -> None:
    feed.event(
        "ExternalDisbursementObserved",
        observation,
        {
            "observation_id": observation,
            "fund_account_id": "fund-1",
            "payee_ref": "Hengxin Decoration Co.",
            "purpose": purpose,
            "amount_fen": 4_800_000,
            "value_date": "2024-08-16",
            "evidence": [SHA],
        },
        actor="bank-agent-1",
        on="2024-08-17",
    )


def test_money_spent_outside_the_earmark_is_off_earmark_only() -> None:
    feed = Feed([UnauthorisedMoney()])
    _account(feed)
    _observed(feed, "OFFICE_RENOVATION")

    [found] = feed.findings()

    assert (found.code, found.subject_refs) == ("AF-FUND-OFF-EARMARK", ("obs-1", "fund-1"))
    assert (found.admin_unit_id, found.period, found.rule_ref) == ("county-1", "2024-08", "FUND-2")


def test_money_moved_outside_the_ledger_within_the_earmark_is_unauthorised() -> None:
    feed = Feed([UnauthorisedMoney()])
    _account(feed)
    _observed(feed, "BASIC_LIVING")

    assert feed.codes() == [("AF-PAY-UNAUTHORISED", ("obs-1", "fund-1"))]


def test_settlement_of_an_unapproved_or_unknown_line_is_unauthorised() -> None:
    feed = Feed([UnauthorisedMoney()])
    _account(feed)
    line = _batch(feed, "b-1", "2024-03")
    _settle(feed, "b-1", line, "2024-03-08")
    assert feed.findings() == []

    _settle(feed, "b-1", "ghost-line", "2024-03-08")

    assert feed.codes() == [("AF-PAY-UNAUTHORISED", ("ghost-line",))]


def _enrol(feed: Feed, *, approved: bool = True) -> None:
    if approved:
        feed.event("ApplicationApproved", "app-1", _approval(), actor="approver-1", on="2024-02-20")
    feed.event(
        "BeneficiaryEnrolled",
        "enr-1",
        {
            "enrolment_id": "enr-1",
            "application_id": "app-1",
            "person_id": "p-1",
            "household_id": "h-1",
            "programme_code": "TEKUN",
            "support_mode": "DISPERSED",
            "institution_id": None,
            "annual_amount_fen": 130_000,
            "standard_ref": "01a241d8-6337-7b2e-a0bb-74d5f8834c2f",
            "first_payable_period": "2024-03",
            "payment_account_id": "acc-1",
            "dossier_id": "d-1",
        },
        actor="approver-1",
        on="2024-02-21",
    )


def _approval() -> dict[str, object]:
    return {
        "support_mode": "DISPERSED",
        "institution_id": None,
        "standard_ref": "01a241d8-6337-7b2e-a0bb-74d5f8834c2f",
        "annual_amount_fen": 130_000,
        "first_payable_period": "2024-03",
        "dossier_id": "d-1",
        "household_treatment": "NORMAL",
        "spot_check_batch_id": "batch-1",
    }


def test_an_enrolled_approved_beneficiary_paid_as_authorised_is_clean() -> None:
    feed = Feed([PaymentIntegrity()])
    _enrol(feed)
    _pay_months(feed, ["2024-03", "2024-04"])

    assert feed.findings() == []


def test_a_line_settled_for_more_than_authorised_is_an_overpayment() -> None:
    feed = Feed([PaymentIntegrity()])
    _enrol(feed)
    line = _batch(feed, "b-1", "2024-03")
    _settle(feed, "b-1", line, "2024-03-08", amount_fen=10_835)

    [found] = feed.findings()
    assert (found.code, found.subject_refs, found.period) == ("AF-PAY-OVER", ("b-1-l1",), "2024-03")
    assert "authorised for 10834 fen and settled for 10835 fen" in found.summary


def test_one_person_paid_both_dispersed_and_centralised_in_a_period() -> None:
    feed = Feed([PaymentIntegrity()])
    _enrol(feed)
    for batch, channel in (("b-1", "ONE_CARD"), ("b-2", "INSTITUTION_ACCOUNT")):
        _settle(feed, batch, _batch(feed, batch, "2024-03", channel=channel), "2024-03-08")

    assert feed.codes() == [("AF-PAY-DOUBLE-MODE", ("p-1", "2024-03"))]


def test_money_for_an_enrolment_without_an_approved_application_is_a_ghost() -> None:
    feed = Feed([PaymentIntegrity()])
    _enrol(feed, approved=False)
    _pay_months(feed, ["2024-03"])

    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-PAY-GHOST", ("enr-1",))
    assert "application app-1, which was never approved" in found.summary


def test_a_termination_proposed_on_death_dates_the_death_without_a_report() -> None:
    feed = Feed([PaidAfterExit()])
    feed.event(
        "TerminationProposed",
        "enr-1",
        {"reason_code": "DECEASED", "evidence": [], "death_date": "2024-03-10"},
        actor="approver-1",
        on="2024-05-02",
    )
    _pay_months(feed, ["2024-03", "2024-04"])

    [found] = feed.findings()
    assert (found.code, found.period) == ("AF-PAY-AFTER-EXIT", "2024-04")
