"""The payment ledger fold (W2): per line, beneficiary and period, what was authorised,
settled, failed, returned and reissued; bank facts on unauthorised lines are kept."""

from __future__ import annotations

from ledger.projections.payments import PaymentLedgerProjection, PaymentRow

from .test_read_models import ReadModelLog, payments


def ledger(upto: int | None = None) -> dict[str, PaymentRow]:
    log = ReadModelLog()
    payments(log)
    return PaymentLedgerProjection().fold_all(log.events(upto)).lines.rows


def summary(rows: dict[str, PaymentRow]) -> dict[str, tuple[str, int, int, int]]:
    return {k: (r.status, r.authorised_fen, r.settled_fen, r.returned_fen) for k, r in rows.items()}


def test_prepared_lines_carry_the_batch_and_the_beneficiary() -> None:
    l1 = ledger(0)["l-1"]
    assert (l1.status, l1.amount_fen, l1.authorised_fen) == ("PREPARED", 10_834, 0)
    assert (l1.programme_code, l1.admin_unit_id, l1.period, l1.fund_account_id) == (
        "TEKUN",
        "town-1",
        "2024-07",
        "fa-1",
    )
    assert (l1.enrolment_id, l1.person_id, l1.component, l1.account_id) == (
        "e-1",
        "p-e-1",
        "BASIC_LIVING",
        "acct-e-1",
    )


def test_approval_authorises_and_submission_submits_every_line() -> None:
    after_approval = ledger(1)
    assert {r.status for r in after_approval.values()} == {"AUTHORISED"}
    assert after_approval["l-2"].authorised_fen == 22_000
    assert after_approval["l-2"].authorised_on == "2024-07-01"
    assert {r.status for r in ledger(2).values()} == {"SUBMITTED"}


def test_the_year_of_bank_facts() -> None:
    rows = ledger()
    assert summary(rows) == {
        "l-1": ("SETTLED", 10_834, 10_834, 0),
        "l-2": ("REISSUED", 22_000, 0, 0),
        "l-2r": ("AUTHORISED", 22_000, 0, 0),
        "l-3": ("RETURNED", 10_833, 10_833, 10_833),
        "l-x": ("UNKNOWN", 0, 500, 0),
        "l-4": ("CANCELLED", 0, 30_000, 0),
    }
    assert (rows["l-1"].value_date, rows["l-1"].bank_ref) == ("2024-07-05", "r1")
    assert (rows["l-2"].failed_reason, rows["l-2"].reissued_as) == ("closed account", "l-2r")
    assert (rows["l-2r"].reissue_of, rows["l-2r"].account_id) == ("l-2", "acct-new")
    assert (rows["l-2r"].enrolment_id, rows["l-2r"].period) == ("e-2", "2024-07")
    assert rows["l-3"].returned_reason == "dead"
    # Money paid on a line nobody authorised is recorded and flagged, never dropped.
    assert {k for k, r in rows.items() if r.unauthorised_settlement} == {"l-x", "l-4"}
    assert (rows["l-x"].batch_id, rows["l-x"].period) == ("b-1", "2024-07")


def test_a_line_is_reissued_once_and_only_after_failure_or_return() -> None:
    log = ReadModelLog()
    payments(log)
    b1 = ("payment_batch", "b-1")
    for original, new in (("l-2", "l-2s"), ("l-1", "l-1r"), ("l-2r", "l-2t")):
        log.emit(
            "PaymentLineReissued",
            b1,
            {"original_line_id": original, "new_line_id": new, "account_id": "a"},
        )
    rows = PaymentLedgerProjection().fold_all(log.events()).lines.rows
    assert not {"l-2s", "l-1r", "l-2t"} & set(rows)
