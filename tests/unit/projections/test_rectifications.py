"""The rectification tracker fold (W13) and the escalation ladder as of a date (EX-ESC-2)."""

from __future__ import annotations

from datetime import date

import orjson

from ledger.projections.rectifications import (
    NoticeRow,
    RectificationTrackerProjection,
    escalation_step_on,
    overdue_on,
)

from .test_read_models import ReadModelLog, rectifications


def tracker(log: ReadModelLog, upto: int | None = None) -> dict[str, NoticeRow]:
    return RectificationTrackerProjection().fold_all(log.events(upto)).notices.rows


def story() -> ReadModelLog:
    log = ReadModelLog()
    rectifications(log)
    return log


def test_ex_esc_2_criticism_due_the_day_after_the_deadline() -> None:
    log = story()
    # As known before anything was reported: issued 2024-03-01, deadline 2024-03-15.
    n1 = tracker(log, 3)["n-1"]
    assert (n1.status, n1.issued_on, n1.deadline) == ("ISSUED", "2024-03-01", "2024-03-15")
    assert not overdue_on(n1, date(2024, 3, 15))
    assert overdue_on(n1, date(2024, 3, 16))
    assert escalation_step_on(n1, date(2024, 3, 15)) is None
    assert escalation_step_on(n1, date(2024, 3, 16)) == ("CRITICISM", "2024-03-16")
    assert orjson.loads(n1.escalations_due) == [
        {"ladder": "RECTIFICATION", "step": "CRITICISM", "due_by": "2024-03-16"}
    ]


def test_ex_esc_2_a_failed_re_verification_makes_accountability_due() -> None:
    log = story()
    n1 = tracker(log, 5)["n-1"]
    assert (n1.status, n1.reports, n1.first_reported_at) == ("VERIFIED_FAILED", 1, "2024-03-20")
    assert n1.reported_late()
    assert escalation_step_on(n1, date(2024, 3, 28)) == ("CRITICISM", "2024-03-16")
    assert escalation_step_on(n1, date(2024, 3, 29)) == ("ACCOUNTABILITY", "2024-03-29")


def test_a_reissue_closes_the_old_notice_and_the_new_one_passes() -> None:
    rows = tracker(story())
    n1, n2 = rows["n-1"], rows["n-2"]
    assert (n1.status, n1.superseded_by, n1.closed_on) == ("REISSUED", "n-2", "2024-04-01")
    assert overdue_on(n1, date(2024, 3, 31))
    assert not overdue_on(n1, date(2024, 4, 1))
    assert escalation_step_on(n1, date(2024, 4, 2)) is None
    assert (n2.status, n2.previous_notice_id, n2.target_org_id) == (
        "VERIFIED_PASSED",
        "n-1",
        "town-1",
    )
    assert orjson.loads(n2.finding_ids) == ["f-1", "f-2"]
    assert (n2.deadline, n2.passed_on, n2.closed_on) == ("2024-04-15", "2024-04-12", "2024-04-12")
    assert not n2.reported_late()
    assert not overdue_on(n2, date(2024, 5, 1))


def test_an_extended_deadline_moves_overdue_later() -> None:
    n3 = tracker(story())["n-3"]
    assert (n3.original_deadline, n3.deadline, n3.extensions) == ("2024-03-10", "2024-03-20", 1)
    assert not overdue_on(n3, date(2024, 3, 15))
    assert overdue_on(n3, date(2024, 3, 21))
    assert escalation_step_on(n3, date(2024, 3, 21)) == ("CRITICISM", "2024-03-21")


def test_a_report_on_an_unknown_notice_is_kept() -> None:
    log = ReadModelLog()
    log.emit(
        "RectificationReported",
        ("supervision_notice", "n-x"),
        {"actions": "x", "reported_at": "2024-01-02"},
    )
    row = tracker(log)["n-x"]
    assert (row.status, row.reports) == ("RESPONDED", 1)
    assert not overdue_on(row, date(2030, 1, 1))
