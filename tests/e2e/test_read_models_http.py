"""The supervision, payment, standards and coverage read models over HTTP, against a real
uvicorn: the demo year of 特困 support plus an inspection that finds a problem, a notice whose
rectification fails re-verification (EX-ESC-2's dates) and a secret unannounced plan. Every
answer is checked against the log it claims to reflect: its state hash equals the in-memory
fold of the log prefix up to its position, read back over ``GET /v1/log``."""

from __future__ import annotations

import hashlib
import time
from datetime import date
from fractions import Fraction
from typing import Any

import httpx
import orjson
import pytest

from ledger.projections.events import Event
from ledger.projections.read_models import read_model_projections
from ledger.tools.demo_data import DemoSummary, write_demo
from ledger.tools.scenario import Desk, build_county, define_programmes
from tests.e2e.conftest import E2E

TOWN = "county-hx-town-1"
TEAM_ORG = "city-inspection-team"


def _identity(_person: str, _name: str, id_number: str) -> str:
    return hashlib.sha256(id_number.encode()).hexdigest()


def seed_supervision(desk: Desk) -> None:
    """An announced inspection of town 1 with a finding, a rectification notice (deadline
    2024-03-15) reported late and failed on re-verification, and an unannounced plan."""
    root = desk.admin.org_id
    desk.organisation(TEAM_ORG, "INSPECTION_TEAM", root, "市民生工程督查组")
    lead = desk.official("e2e-lead", TEAM_ORG, ["inspection_team_lead"])
    insp1 = desk.official("e2e-insp-1", TEAM_ORG, ["inspector"])
    insp2 = desk.official("e2e-insp-2", TEAM_ORG, ["inspector"])
    town = desk.official("e2e-town-reviewer", TOWN, ["township_reviewer"])
    plan = {
        "type": "ROUTINE",
        "team_actor_ids": ["e2e-insp-1", "e2e-insp-2"],
        "methods": ["CHECK_RECORDS", "VISIT_RESIDENTS"],
        "window": {"start": "2024-03-01", "end": "2024-03-05"},
        "scheme_id": None,
    }
    stream = ("inspection", "insp-e2e-1")
    desk.emit(
        lead,
        stream,
        "InspectionPlanned",
        {"inspection_id": "insp-e2e-1", "mode": "ANNOUNCED", "target_org_ids": [TOWN]} | plan,
        date(2024, 2, 26),
    )
    desk.emit(
        lead,
        stream,
        "InspectionNotified",
        {"target_org_id": TOWN, "notified_at": "2024-02-27T09:00:00+08:00"},
        date(2024, 2, 27),
    )
    desk.emit(
        insp1,
        stream,
        "InspectionConducted",
        {
            "started_at": "2024-03-01T09:00:00+08:00",
            "ended_at": "2024-03-01T16:00:00+08:00",
            "locations": ["town hall records room"],
        },
        date(2024, 3, 1),
    )
    desk.emit(
        insp1,
        stream,
        "FindingRecorded",
        {
            "finding_id": "find-e2e-1",
            "target_org_id": TOWN,
            "category": "RECORDS",
            "location": None,
            "description": "dossiers without the truthfulness pledge",
            "severity": "HIGH",
            "first_occurrence": True,
            "related_refs": {"indicator_id": None, "enrolment_id": None, "fund_account_id": None},
            "evidence": [{"kind": "PHOTO", "sha256": "c" * 64}],
        },
        date(2024, 3, 1),
    )
    notice = ("supervision_notice", "notice-e2e-1")
    desk.emit(
        lead,
        notice,
        "SupervisionNoticeIssued",
        {
            "notice_id": "notice-e2e-1",
            "kind": "RECTIFICATION",
            "target_org_id": TOWN,
            "finding_ids": ["find-e2e-1"],
            "deadline": "2024-03-15",
        },
        date(2024, 3, 1),
        remember_as="notice",
    )
    desk.emit(
        town,
        notice,
        "RectificationReported",
        {"actions": "pledges collected", "evidence": [], "reported_at": "2024-03-20"},
        date(2024, 3, 20),
    )
    desk.emit(
        insp2,
        notice,
        "RectificationVerified",
        {"result": "FAILED", "verified_at": "2024-03-29", "evidence": []},
        date(2024, 3, 29),
    )
    desk.emit(
        lead,
        ("inspection", "insp-e2e-2"),
        "InspectionPlanned",
        {"inspection_id": "insp-e2e-2", "mode": "UNANNOUNCED", "target_org_ids": [TOWN]} | plan,
        date(2024, 4, 1),
    )


def small_ledger(desk: Desk) -> None:
    """A county, its programmes and standards, and the supervision story (no payments)."""
    county = build_county(desk)
    define_programmes(desk, county, date(2023, 5, 25))
    seed_supervision(desk)


def caught_up(base_url: str, path: str = "/v1/payments") -> int:
    """Wait until the read models include the last log entry; that entry's index."""
    last = httpx.get(f"{base_url}/v1/log", params={"from": 0, "limit": 1}).json()["size"] - 1
    deadline = time.monotonic() + 60
    while True:
        position = httpx.get(f"{base_url}{path}", params={"limit": 1}).json()["position"]
        if position >= last or time.monotonic() > deadline:
            assert position >= last, "the read models did not catch up in 60 s"
            return last
        time.sleep(0.2)


@pytest.fixture(scope="module")
def year(e2e: E2E) -> tuple[E2E, DemoSummary]:
    version = e2e.api.events("registry", "registry", limit=1)["version"]
    desk = Desk(submit=e2e.api.post_event, admin=e2e.admin, registry_version=int(version))
    summary = write_demo(desk, _identity)
    seed_supervision(desk)
    caught_up(e2e.server.base_url)
    return e2e, summary


def get(e2e: E2E, path: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{e2e.server.base_url}{path}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def all_rows(e2e: E2E, path: str, **params: Any) -> list[dict[str, Any]]:
    rows, after = [], None
    while True:
        page = get(e2e, path, limit=1000, **params, **({"after": after} if after else {}))
        rows += page["rows"]
        after = page["next_after"]
        if after is None:
            return rows


def log_events(e2e: E2E, upto: int) -> list[Event]:
    """The log up to ``upto`` as the projections decode it, read over HTTP."""
    events: list[Event] = []
    start = 0
    while start <= upto:
        page = e2e.api.log(start, 1000)
        for entry in page["entries"]:
            if entry["index"] > upto:
                break
            env = entry["envelope"]
            events.append(
                Event(
                    entry["index"],
                    entry["recorded_at"],
                    entry["event_type"],
                    env.get("stream_type", ""),
                    env.get("stream_id", ""),
                    env.get("payload") or {},
                )
            )
        start += len(page["entries"])
        if not page["entries"]:
            break
    return events


def test_every_answer_is_the_fold_of_the_log_up_to_its_position(
    year: tuple[E2E, DemoSummary],
) -> None:
    e2e, _ = year
    pages = {
        "inspections": get(e2e, "/v1/inspections"),
        "rectifications": get(e2e, "/v1/rectifications"),
        "payments": get(e2e, "/v1/payments", limit=1),
        "standards": get(e2e, "/v1/standards"),
        "coverage": get(e2e, "/v1/coverage"),
    }
    position = pages["payments"]["position"]
    events = log_events(e2e, position)
    for projection in read_model_projections():
        page = pages[projection.name]
        assert page["position"] == position
        state = projection.fold_all(events)
        assert page["state_hash"] == projection.memory_hash(state, position), projection.name
    # As known at an earlier position: the hash of that prefix.
    early = position // 3
    page = get(e2e, "/v1/payments", as_known_at=early, limit=1)
    payments = next(p for p in read_model_projections() if p.name == "payments")
    assert page["position"] == early
    expected = payments.memory_hash(payments.fold_all(events[: early + 1]), early)
    assert page["state_hash"] == expected


def test_the_inspection_register_hides_the_unannounced_plan(
    year: tuple[E2E, DemoSummary],
) -> None:
    e2e, _ = year
    rows = get(e2e, "/v1/inspections", org_id=TOWN)["rows"]
    assert [r["inspection_id"] for r in rows] == ["insp-e2e-1"]
    row = rows[0]
    assert (row["status"], row["mode"], row["finding_ids"]) == (
        "CONDUCTED",
        "ANNOUNCED",
        ["find-e2e-1"],
    )
    assert row["notified_org_ids"] == [TOWN]
    assert row["high_severity_findings"] == 1


def test_the_rectification_tracker_on_the_ex_esc_2_dates(
    year: tuple[E2E, DemoSummary],
) -> None:
    e2e, _ = year

    def notice(**params: Any) -> dict[str, Any]:
        rows = get(e2e, "/v1/rectifications", org_id=TOWN, **params)["rows"]
        return next(r for r in rows if r["notice_id"] == "notice-e2e-1")

    assert notice(as_of="2024-03-15")["overdue"] is False
    on_16 = notice(as_of="2024-03-16")
    assert (on_16["overdue"], on_16["escalation_step_due"], on_16["escalation_due_from"]) == (
        True,
        "CRITICISM",
        "2024-03-16",
    )
    on_29 = notice(as_of="2024-03-29")
    assert (on_29["status"], on_29["escalation_step_due"]) == ("VERIFIED_FAILED", "ACCOUNTABILITY")
    assert on_29["reported_late"] is True
    overdue = get(e2e, "/v1/rectifications", as_of="2024-03-14", overdue=True)["rows"]
    assert overdue == []
    bad = httpx.get(f"{e2e.server.base_url}/v1/rectifications", params={"overdue": True})
    assert bad.status_code == 400


def test_the_payment_ledger_adds_up_to_the_fund_ledger(year: tuple[E2E, DemoSummary]) -> None:
    e2e, summary = year
    lines = all_rows(e2e, "/v1/payments")
    assert len(lines) >= summary.payment_lines
    settled = sum(r["settled_fen"] for r in lines) - sum(r["returned_fen"] for r in lines)
    fund = e2e.api.fund_ledger(fund_account_id=summary.fund_account_id)["rows"][0]
    assert settled == fund["settled_fen"] - fund["returned_payments_fen"]
    assert {r["status"] for r in lines} >= {"SETTLED"}
    july = all_rows(e2e, "/v1/payments", period="2024-07", status="SETTLED")
    assert july
    assert {(r["period"], r["status"]) for r in july} == {("2024-07", "SETTLED")}
    assert all(r["settled_fen"] == r["authorised_fen"] == r["amount_fen"] for r in july)


def test_standards_and_coverage_as_effective_at_a_date(year: tuple[E2E, DemoSummary]) -> None:
    e2e, _ = year
    standards = get(e2e, "/v1/standards", programme="TEKUN", as_effective_at="2024-12-31")
    amounts = {(r["support_mode"], r["amount_fen"]) for r in standards["rows"]}
    assert amounts == {("DISPERSED", 130_000), ("CENTRALISED", 264_000)}
    assert get(e2e, "/v1/standards", as_effective_at="2023-05-01")["rows"] == []
    coverage = get(e2e, "/v1/coverage", programme="TEKUN", as_effective_at="2024-12-31")["rows"]
    units = [r for r in coverage if r["kind"] == "TOWNSHIP_PROGRAMME"]
    roster = e2e.api.roster(programme="TEKUN", as_effective_at="2024-12-31", limit=1000)["rows"]
    assert sum(u["active"] for u in units) == len(roster)
    county = get(
        e2e, "/v1/coverage", programme="TEKUN", admin_unit="county-hx", as_effective_at="2024-12-31"
    )["rows"]
    assert [r for r in county if r["kind"] == "TOWNSHIP_PROGRAMME"] == units
    for unit in units:
        c, d = unit["centralised"], unit["dispersed"]
        rate = Fraction(c, c + d)
        assert unit["centralised_rate"] == f"{rate.numerator}/{rate.denominator}"
        assert unit["target_met"] == (5 * c >= 2 * (c + d))


def test_the_answers_as_known_before_the_notice(year: tuple[E2E, DemoSummary]) -> None:
    e2e, _ = year
    rows = get(e2e, "/v1/rectifications")["rows"]
    known_from = next(r for r in rows if r["notice_id"] == "notice-e2e-1")["known_from"]
    first = min(
        e["index"] for e in e2e.api.events("supervision_notice", "notice-e2e-1", limit=10)["events"]
    )
    assert known_from > first  # changed since it was issued
    before = get(e2e, "/v1/rectifications", as_known_at=first - 1)["rows"]
    assert "notice-e2e-1" not in {r["notice_id"] for r in before}
    at_issue = get(e2e, "/v1/rectifications", as_known_at=first)["rows"]
    issued = next(r for r in at_issue if r["notice_id"] == "notice-e2e-1")
    assert (issued["status"], issued["known_from"]) == ("ISSUED", first)
    assert orjson.dumps(issued["finding_ids"]) == b'["find-e2e-1"]'
