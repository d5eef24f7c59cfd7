"""The inspection register fold (督查台帐, W12): status, team, findings, scores, report, and
the secrecy of unannounced plans (INS-3)."""

from __future__ import annotations

import orjson

from ledger.projections.inspections import InspectionRegisterProjection, InspectionRow

from .test_read_models import ReadModelLog, inspections


def register(log: ReadModelLog) -> dict[str, InspectionRow]:
    state = InspectionRegisterProjection().fold_all(log.events())
    return state.inspections.rows


def test_an_announced_inspection_through_its_report() -> None:
    log = ReadModelLog()
    inspections(log)
    row = register(log)["i-1"]
    assert row.status == "REPORTED"
    assert row.hidden == 0
    assert orjson.loads(row.target_org_ids) == ["town-1", "town-2"]
    assert orjson.loads(row.notified_org_ids) == ["town-1"]
    assert row.window_start == "2024-03-01"
    assert row.started_at == "2024-03-01T09:00:00+08:00"
    # f-1 was recorded twice: one finding, counted once as HIGH.
    assert orjson.loads(row.finding_ids) == ["f-1", "f-2"]
    assert row.high_severity_findings == 1
    assert orjson.loads(row.scores) == {
        "town-1": {"raw_score": "85", "single_score": "82.5", "deductions": 1}
    }
    assert row.report_sha256 == f"{1:064x}"
    assert orjson.loads(row.report_signers) == ["insp-a", "insp-b"]
    assert row.report_recorded_at == "2024-03-02T12:00:07.000000Z"


def test_statuses_follow_the_workflow_one_event_at_a_time() -> None:
    log = ReadModelLog()
    inspections(log)
    seen = [
        InspectionRegisterProjection().fold_all(log.events(i)).inspections.rows["i-1"].status
        for i in range(8)
    ]
    assert seen == ["PLANNED", "NOTIFIED", *["CONDUCTED"] * 5, "REPORTED"]


def test_an_unannounced_plan_is_hidden_until_the_visit() -> None:
    log = ReadModelLog()
    inspections(log)
    rows = register(log)
    assert (rows["i-2"].status, rows["i-2"].hidden) == ("PLANNED", 1)
    assert (rows["i-3"].status, rows["i-3"].hidden) == ("CONDUCTED", 0)


def test_a_fact_about_an_unplanned_inspection_is_kept() -> None:
    log = ReadModelLog()
    log.emit(
        "FindingRecorded",
        ("inspection", "i-9"),
        {"finding_id": "f-9", "target_org_id": "town-9", "severity": "LOW"},
    )
    row = register(log)["i-9"]
    assert (row.status, orjson.loads(row.finding_ids)) == ("UNPLANNED", ["f-9"])
