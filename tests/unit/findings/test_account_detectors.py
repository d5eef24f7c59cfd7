"""AF-PAY-WRONG-CHANNEL, AF-PAY-SHARED-ACCOUNT and AF-FUND-HEADCOUNT-MISMATCH."""

from __future__ import annotations

from typing import Any

from ledger.findings.accounts import AccountIntegrity
from tests.unit.findings.builders import Feed, programme

SHA = "c" * 64


def _account(
    feed: Feed,
    account_id: str,
    channel: str = "ONE_CARD",
    person: str | None = "p-1",
    org: str | None = None,
) -> None:
    feed.event(
        "PaymentAccountRegistered",
        account_id,
        {
            "account_id": account_id,
            "channel": channel,
            "holder_person_id": person,
            "holder_org_id": org,
            "bank_org_id": "bank-1",
            "account_ref_hmac": SHA,
        },
        actor="finance-1",
        on="2024-01-05",
    )


def _enrol(feed: Feed, person: str, household: str) -> None:
    feed.event(
        "BeneficiaryEnrolled",
        f"enr-{person}",
        {
            "enrolment_id": f"enr-{person}",
            "application_id": f"app-{person}",
            "person_id": person,
            "household_id": household,
            "programme_code": "TEKUN",
            "support_mode": "DISPERSED",
            "institution_id": None,
            "annual_amount_fen": 130_000,
            "standard_ref": "00000000-0000-0000-0000-000000000001",
            "first_payable_period": "2024-02",
            "payment_account_id": "acc-1",
            "dossier_id": f"dos-{person}",
        },
        actor="approver-1",
        on="2024-01-15",
    )


def _line(line_id: str, person: str, account: str, channel: str = "ONE_CARD") -> dict[str, Any]:
    return {
        "line_id": line_id,
        "enrolment_id": f"enr-{person}",
        "person_id": person,
        "component": "BASIC_LIVING",
        "amount_fen": 10_834,
        "channel": channel,
        "account_id": account,
    }


def _paid(feed: Feed, batch_id: str, period: str, lines: list[dict[str, Any]]) -> None:
    feed.event(
        "PaymentBatchPrepared",
        batch_id,
        {
            "batch_id": batch_id,
            "programme_code": "TEKUN",
            "admin_unit_id": "county-1",
            "period": period,
            "fund_account_id": "fund-1",
            "lines": lines,
            "total_fen": sum(x["amount_fen"] for x in lines),
        },
        actor="preparer-1",
        on=f"{period}-01",
    )
    for line in lines:
        feed.event(
            "PaymentSettled",
            batch_id,
            {
                "line_id": line["line_id"],
                "amount_fen": line["amount_fen"],
                "value_date": f"{period}-08",
                "bank_ref": "BR",
            },
            actor="bank-agent-1",
            on=f"{period}-08",
        )


def _stay(feed: Feed, person: str, admitted: str, discharged: str | None = None) -> None:
    feed.event(
        "InstitutionResidencyRecorded",
        person,
        {
            "institution_id": "inst-1",
            "person_id": person,
            "admitted_on": admitted,
            "discharged_on": discharged,
            "bed_id": None,
        },
        actor="inst-manager-1",
        on=admitted,
    )


def test_money_to_a_one_card_account_held_by_someone_else_is_the_wrong_channel() -> None:
    feed = Feed([AccountIntegrity()])
    _account(feed, "acc-1", person="p-1")
    _account(feed, "acc-2", person="p-9")
    _paid(feed, "b-1", "2024-03", [_line("l-1", "p-1", "acc-1"), _line("l-2", "p-2", "acc-2")])

    [found] = feed.findings()

    assert (found.code, found.subject_refs, found.severity) == (
        "AF-PAY-WRONG-CHANNEL",
        ("l-2",),
        "H",
    )
    assert "held by p-9, not by p-2" in found.summary
    assert found.rule_ref == "PAY-4"
    assert len(found.evidence_event_ids) == 3  # the account, the batch, the settlement


def test_an_unregistered_account_or_one_of_another_channel_is_the_wrong_channel() -> None:
    feed = Feed([AccountIntegrity()])
    _account(feed, "inst-acc", channel="INSTITUTION_ACCOUNT", person=None, org="inst-1")
    _paid(
        feed,
        "b-1",
        "2024-03",
        [_line("l-1", "p-1", "nowhere"), _line("l-2", "p-2", "inst-acc")],  # ONE_CARD lines
    )

    found = {f.subject_refs: f.summary for f in feed.findings()}
    assert set(found) == {("l-1",), ("l-2",)}
    assert "never registered" in found["l-1",]
    assert "INSTITUTION_ACCOUNT account" in found["l-2",]


def test_an_unsettled_line_is_not_money_paid() -> None:
    feed = Feed([AccountIntegrity()])
    feed.event(
        "PaymentBatchPrepared",
        "b-1",
        {
            "batch_id": "b-1",
            "programme_code": "TEKUN",
            "admin_unit_id": "county-1",
            "period": "2024-03",
            "fund_account_id": "fund-1",
            "lines": [_line("l-1", "p-1", "nowhere")],
            "total_fen": 10_834,
        },
        actor="preparer-1",
        on="2024-03-01",
    )

    assert feed.findings() == []


def test_three_households_paid_into_one_card_is_a_shared_account() -> None:
    feed = Feed([AccountIntegrity()])
    _account(feed, "acc-1", person="p-1")
    for person, household in (("p-1", "hh-1"), ("p-2", "hh-1"), ("p-3", "hh-2")):
        _enrol(feed, person, household)
    lines = [_line(f"l-{p}", p, "acc-1") for p in ("p-1", "p-2", "p-3")]
    _paid(feed, "b-1", "2024-03", lines)
    shared = [f for f in feed.findings() if f.code == "AF-PAY-SHARED-ACCOUNT"]
    assert shared == []  # two households only: a family may share one card

    _enrol(feed, "p-4", "hh-3")
    _paid(feed, "b-2", "2024-04", [_line("l-p-4", "p-4", "acc-1")])

    [found] = [f for f in feed.findings() if f.code == "AF-PAY-SHARED-ACCOUNT"]
    assert found.subject_refs == ("acc-1",)
    assert "4 persons of 3 households" in found.summary


def test_the_shared_account_threshold_is_a_parameter() -> None:
    feed = Feed([AccountIntegrity(shared_account_persons=2)])
    _account(feed, "acc-1", person="p-1")
    _paid(feed, "b-1", "2024-03", [_line("l-1", "p-1", "acc-1"), _line("l-2", "p-2", "acc-1")])

    assert ("AF-PAY-SHARED-ACCOUNT", ("acc-1",)) in feed.codes()


def test_an_institution_paid_for_more_residents_than_it_houses() -> None:
    feed = Feed([AccountIntegrity()])
    programme(feed)  # TEKUN, paid monthly
    _account(feed, "inst-acc", channel="INSTITUTION_ACCOUNT", person=None, org="inst-1")
    _stay(feed, "p-1", "2023-05-01")
    _stay(feed, "p-2", "2024-01-10", discharged="2024-02-20")
    lines = [_line(f"l-{p}", p, "inst-acc", channel="INSTITUTION_ACCOUNT") for p in ("p-1", "p-2")]
    _paid(feed, "b-feb", "2024-02", lines)
    assert feed.findings() == []  # p-2 lived there part of February

    _paid(feed, "b-mar", "2024-03", [{**x, "line_id": x["line_id"] + "-3"} for x in lines])

    found = {f.code: f for f in feed.findings()}
    assert set(found) == {"AF-FUND-HEADCOUNT-MISMATCH", "AF-PAY-WRONG-CHANNEL"}
    headcount = found["AF-FUND-HEADCOUNT-MISMATCH"]
    assert headcount.subject_refs == ("inst-1", "2024-03")
    assert "paid for 2 residents for 2024-03 but its records show 1" in headcount.summary
    assert found["AF-PAY-WRONG-CHANNEL"].subject_refs == ("l-p-2-3",)


def test_a_reissued_line_is_judged_on_its_new_account() -> None:
    feed = Feed([AccountIntegrity()])
    _account(feed, "acc-1", person="p-1")
    _account(feed, "acc-x", person="p-7")
    feed.event(
        "PaymentBatchPrepared",
        "b-1",
        {
            "batch_id": "b-1",
            "programme_code": "TEKUN",
            "admin_unit_id": "county-1",
            "period": "2024-03",
            "fund_account_id": "fund-1",
            "lines": [_line("l-1", "p-1", "acc-1")],
            "total_fen": 10_834,
        },
        actor="preparer-1",
        on="2024-03-01",
    )
    feed.event(
        "PaymentLineReissued",
        "b-1",
        {"original_line_id": "l-1", "new_line_id": "l-1r", "account_id": "acc-x"},
        actor="preparer-1",
        on="2024-03-10",
    )
    feed.event(
        "PaymentSettled",
        "b-1",
        {"line_id": "l-1r", "amount_fen": 10_834, "value_date": "2024-03-12", "bank_ref": "B"},
        actor="bank-agent-1",
        on="2024-03-12",
    )

    assert feed.codes() == [("AF-PAY-WRONG-CHANNEL", ("l-1r",))]


def _enrol_mode(feed: Feed, person: str, mode: str, institution: str | None) -> None:
    feed.event(
        "BeneficiaryEnrolled",
        f"enr-{person}",
        {
            "enrolment_id": f"enr-{person}",
            "application_id": f"app-{person}",
            "person_id": person,
            "household_id": f"hh-{person}",
            "programme_code": "TEKUN",
            "support_mode": mode,
            "institution_id": institution,
            "annual_amount_fen": 264_000,
            "standard_ref": "00000000-0000-0000-0000-000000000001",
            "first_payable_period": "2024-02",
            "payment_account_id": "acc-1",
            "dossier_id": f"dos-{person}",
        },
        actor="approver-1",
        on="2024-01-15",
    )


def test_a_line_in_the_channel_of_another_support_mode_is_the_wrong_channel() -> None:
    feed = Feed([AccountIntegrity()])
    _account(feed, "acc-1", person="p-1")
    _account(feed, "inst-acc", channel="INSTITUTION_ACCOUNT", person=None, org="inst-1")
    _stay(feed, "p-1", "2024-03-20")
    _enrol_mode(feed, "p-1", "DISPERSED", None)
    feed.event(
        "SupportModeChanged",
        "enr-p-1",
        {
            "from": "DISPERSED",
            "to": "CENTRALISED",
            "institution_id": "inst-1",
            "effective_period": "2024-04",
            "payment_account_id": "inst-acc",
        },
        actor="approver-1",
        on="2024-03-25",
    )
    _paid(feed, "b-3", "2024-03", [_line("l-3", "p-1", "acc-1")])
    _paid(feed, "b-4", "2024-04", [_line("l-4", "p-1", "inst-acc", "INSTITUTION_ACCOUNT")])
    assert feed.findings() == []  # one card in March, the institution from April

    _paid(feed, "b-5", "2024-05", [_line("l-5", "p-1", "acc-1")])

    [found] = feed.findings()
    assert found.subject_refs == ("l-5",)
    assert "CENTRALISED support must be paid through INSTITUTION_ACCOUNT" in found.summary


def test_an_institution_account_of_another_institution_is_the_wrong_channel() -> None:
    feed = Feed([AccountIntegrity()])
    _account(feed, "inst-acc-2", channel="INSTITUTION_ACCOUNT", person=None, org="inst-2")
    _enrol_mode(feed, "p-1", "CENTRALISED", "inst-1")
    _paid(feed, "b-3", "2024-03", [_line("l-3", "p-1", "inst-acc-2", "INSTITUTION_ACCOUNT")])

    # inst-2 was also paid for a resident it does not house: its headcount is the second.
    assert [f.code for f in feed.findings()] == [
        "AF-FUND-HEADCOUNT-MISMATCH",
        "AF-PAY-WRONG-CHANNEL",
    ]
    [found] = [f for f in feed.findings() if f.code == "AF-PAY-WRONG-CHANNEL"]
    assert found.subject_refs == ("l-3",)
    assert "held by inst-2, not by the enrolment's institution inst-1" in found.summary


def test_a_one_card_held_by_a_registered_official_is_a_shared_account() -> None:
    feed = Feed([AccountIntegrity()])
    feed.event(
        "ActorRegistered",
        "registry",
        {"actor_id": "vcm-9", "org_id": "village-1", "kind": "PERSON", "person_ref": "p-9"},
        actor="admin-1",
        on="2024-01-02",
    )
    _account(feed, "acc-9", person="p-9")
    _paid(feed, "b-1", "2024-03", [_line("l-1", "p-9", "acc-9")])

    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-PAY-SHARED-ACCOUNT", ("acc-9",))
    assert "held by p-9, a registered official" in found.summary
